#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Charts as standalone SVG: no script, no fonts to fetch, no external style, so a report opens offline and the same
/// file embeds in HTML and links from Markdown. Output is deterministic (fixed decimals), so charts can be committed
/// and compared byte for byte.
public struct Series: Hashable, Sendable {
    public struct Point: Hashable, Sendable {
        public var x: Double
        public var y: Double
        public init(_ x: Double, _ y: Double) {
            self.x = x
            self.y = y
        }
    }

    public var name: String
    public var points: [Point]
    public var dashed: Bool

    public init(name: String, points: [Point], dashed: Bool = false) {
        self.name = name
        self.points = points
        self.dashed = dashed
    }
}

/// A chart: lines over a numeric x axis, or horizontal grouped bars over categories.
public enum Chart: Hashable, Sendable {
    case line(LineChart)
    case bars(BarChart)

    public var name: String {
        switch self {
        case .line(let c): c.name
        case .bars(let c): c.name
        }
    }

    public var title: String {
        switch self {
        case .line(let c): c.title
        case .bars(let c): c.title
        }
    }

    public var svg: String {
        switch self {
        case .line(let c): c.svg
        case .bars(let c): c.svg
        }
    }

    /// A colour-blind-safe palette (Okabe and Ito, 2008), extended with darker tones for more series.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#8C6D1F",
                          "#6A3D9A", "#B15928", "#1B9E77", "#7F7F7F"]

    static func color(_ i: Int) -> String { palette[i % palette.count] }

    static func number(_ v: Double) -> String { FixedPoint.format(v, places: 1) }

    /// Axis ticks at 1, 2 or 5 × 10^k, about `count` of them, covering `low...high`.
    static func ticks(_ low: Double, _ high: Double, count: Int = 6) -> [Double] {
        guard high > low else { return [low] }
        let raw = (high - low) / Double(count)
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? magnitude * 10
        var t = (low / step).rounded(.down) * step
        var out: [Double] = []
        while t <= high + step * 1e-9 {
            if t >= low - step * 1e-9 { out.append(t) }
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : FixedPoint.format(v, places: v * 10 == (v * 10).rounded() ? 1 : 2)
    }

    static func text(_ s: String) -> String { HTML.escape(s) }

    static let style = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:12px"

    /// An SVG element; attribute values that are numbers print with one decimal, text is escaped.
    static func element(_ name: String, _ attributes: KeyValuePairs<String, Any>, _ content: String? = nil) -> String {
        var out = "<" + name
        for (key, value) in attributes {
            let text: String = switch value {
            case let d as Double: number(d)
            case let i as Int: String(i)
            default: HTML.escape("\(value)")
            }
            out += " \(key)=\"\(text)\""
        }
        guard let content else { return out + "/>" }
        return out + ">" + content + "</" + name + ">"
    }

    /// The opening of a chart: the root element with its size and accessible name, a white background, the title.
    static func open(width: Double, height: Double, title: String, titleX: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(number(width)) \(number(height))\" width=\""
            + number(width) + "\" height=\"" + number(height) + "\" role=\"img\" aria-label=\"" + text(title)
            + "\" style=\"" + style + "\">\n" + element("title", [:], text(title)) + "\n"
            + element("rect", ["x": 0, "y": 0, "width": width, "height": height, "fill": "#ffffff"]) + "\n"
            + element("text", ["x": titleX, "y": 22, "font-size": 15, "font-weight": 600], text(title)) + "\n"
    }
}

/// Lines over a numeric x axis; y linear from zero, or logarithmic.
public struct LineChart: Hashable, Sendable {
    public var name: String
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logarithmicY: Bool
    /// Draw each series as a step function (for values defined only at whole x, like bytes per packet size): the
    /// value holds until the next point.
    public var stepped: Bool

    public init(name: String, title: String, xLabel: String, yLabel: String, series: [Series],
                logarithmicY: Bool = false, stepped: Bool = false) {
        self.name = name
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logarithmicY = logarithmicY
        self.stepped = stepped
    }

    public var svg: String {
        let legendWidth = 60 + Double(series.map(\.name.count).max() ?? 10) * 6.7
        let width = 620 + legendWidth
        let left = 58.0, right = width - legendWidth, top = 40.0
        let height = max(400.0, top + 30 + Double(series.count) * 18 + 60)
        let bottom = height - 50
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, (xs.min() ?? 0) + 1)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (right - left) }
        let yTicks: [Double]
        let py: (Double) -> Double
        if logarithmicY {
            // Decades that cover the data, ticks at 1, 2 and 5 of each.
            let positive = ys.filter { $0 > 0 }
            var lo = 1.0, hi = 1.0
            while lo > (positive.min() ?? 1) { lo /= 10 }
            while hi < (positive.max() ?? 1) { hi *= 10 }
            var t: [Double] = []
            var d = lo
            while d <= hi * 1.0001 {
                for m in [1.0, 2, 5] where d * m <= hi * 1.0001 { t.append(d * m) }
                d *= 10
            }
            yTicks = t
            let l0 = log10(lo), l1 = log10(hi)
            py = { y in bottom - (log10(max(y, lo)) - l0) / (l1 - l0) * (bottom - top) }
        } else {
            let yMax = Swift.max(ys.max() ?? 1, 1)
            yTicks = Chart.ticks(0, yMax * 1.05)
            let scaleMax = yTicks.last.map { Swift.max($0, yMax) } ?? yMax
            py = { y in bottom - y / scaleMax * (bottom - top) }
        }
        var s = Chart.open(width: width, height: height, title: title, titleX: left)
        for t in yTicks {
            s += Chart.element("line", ["x1": left, "y1": py(t), "x2": right, "y2": py(t), "stroke": "#e3e3e3"])
            s += Chart.element("text", ["x": left - 6, "y": py(t), "text-anchor": "end", "dominant-baseline": "middle"],
                               Chart.label(t)) + "\n"
        }
        for t in Chart.ticks(xMin, xMax) {
            s += Chart.element("line", ["x1": px(t), "y1": top, "x2": px(t), "y2": bottom, "stroke": "#f0f0f0"])
            s += Chart.element("text", ["x": px(t), "y": bottom + 16, "text-anchor": "middle"], Chart.label(t)) + "\n"
        }
        s += Chart.element("line", ["x1": left, "y1": bottom, "x2": right, "y2": bottom, "stroke": "#444"]) + "\n"
        s += Chart.element("line", ["x1": left, "y1": top, "x2": left, "y2": bottom, "stroke": "#444"]) + "\n"
        s += Chart.element("text", ["x": (left + right) / 2, "y": bottom + 38, "text-anchor": "middle"],
                           Chart.text(xLabel)) + "\n"
        let middle = (top + bottom) / 2
        s += Chart.element("text", ["x": 14, "y": middle, "text-anchor": "middle",
                                    "transform": "rotate(-90 14 \(Chart.number(middle)))"], Chart.text(yLabel)) + "\n"
        for (i, series) in series.enumerated() {
            let color = Chart.color(i)
            let dash = series.dashed ? "6 3" : "none"
            var vertices: [Series.Point] = []
            for (k, p) in series.points.enumerated() {
                if stepped, k > 0 { vertices.append(.init(p.x, series.points[k - 1].y)) }
                vertices.append(p)
            }
            let points = vertices.map { "\(Chart.number(px($0.x))),\(Chart.number(py($0.y)))" }.joined(separator: " ")
            s += Chart.element("polyline", ["fill": "none", "stroke": color, "stroke-width": 1.6,
                                            "stroke-dasharray": dash, "points": points],
                               Chart.element("title", [:], Chart.text(series.name))) + "\n"
            let ly = top + 10 + Double(i) * 18
            s += Chart.element("line", ["x1": right + 16, "y1": ly, "x2": right + 40, "y2": ly, "stroke": color,
                                        "stroke-width": 2.5, "stroke-dasharray": dash])
            s += Chart.element("text", ["x": right + 46, "y": ly, "dominant-baseline": "middle"],
                               Chart.text(series.name)) + "\n"
        }
        return s + "</svg>\n"
    }
}

/// Horizontal bars, one group per category and one bar per series, with the value printed at the end of each bar.
public struct BarChart: Hashable, Sendable {
    public var name: String
    public var title: String
    public var valueLabel: String
    public var categories: [String]
    public var seriesNames: [String]
    /// values[category][series]; nil leaves the bar out.
    public var values: [[Double?]]
    public var decimals: Int

    public init(name: String, title: String, valueLabel: String, categories: [String], seriesNames: [String],
                values: [[Double?]], decimals: Int = 0) {
        self.name = name
        self.title = title
        self.valueLabel = valueLabel
        self.categories = categories
        self.seriesNames = seriesNames
        self.values = values
        self.decimals = decimals
    }

    public var svg: String {
        let width = 900.0
        let left = 14.0 + Double(categories.map(\.count).max() ?? 10) * 6.6, right = width - 70, top = 58.0
        let bar = 12.0, gap = 8.0
        let group = Double(seriesNames.count) * bar + gap
        let bottom = top + Double(categories.count) * group
        let height = bottom + 44
        let maxValue = Swift.max(values.flatMap { $0.compactMap { $0 } }.max() ?? 1, 1)
        let ticks = Chart.ticks(0, maxValue)
        let scaleMax = Swift.max(ticks.last ?? maxValue, maxValue)
        func px(_ v: Double) -> Double { left + v / scaleMax * (right - left) }
        var s = Chart.open(width: width, height: height, title: title, titleX: 10)
        var lx = 10.0
        for (i, name) in seriesNames.enumerated() {
            s += Chart.element("rect", ["x": lx, "y": 34, "width": 12, "height": 12, "fill": Chart.color(i)])
            s += Chart.element("text", ["x": lx + 17, "y": 40, "dominant-baseline": "middle"], Chart.text(name)) + "\n"
            lx += 30 + Double(name.count) * 6.8
        }
        for t in ticks {
            s += Chart.element("line", ["x1": px(t), "y1": top - 4, "x2": px(t), "y2": bottom, "stroke": "#e6e6e6"])
            s += Chart.element("text", ["x": px(t), "y": bottom + 16, "text-anchor": "middle"], Chart.label(t)) + "\n"
        }
        s += Chart.element("text", ["x": (left + right) / 2, "y": bottom + 36, "text-anchor": "middle"],
                           Chart.text(valueLabel)) + "\n"
        for (c, category) in categories.enumerated() {
            let y0 = top + Double(c) * group
            s += Chart.element("text", ["x": left - 6, "y": y0 + (group - gap) / 2, "text-anchor": "end",
                                        "dominant-baseline": "middle"], Chart.text(category)) + "\n"
            for (i, value) in values[c].enumerated() {
                guard let value else { continue }
                let y = y0 + Double(i) * bar
                let text = FixedPoint.format(value, places: decimals)
                let tip = Chart.element("title", [:], Chart.text("\(category), \(seriesNames[i]): \(text)"))
                s += Chart.element("rect", ["x": left, "y": y, "width": px(value) - left, "height": bar - 1,
                                            "fill": Chart.color(i)], tip)
                s += Chart.element("text", ["x": px(value) + 4, "y": y + bar / 2, "dominant-baseline": "middle",
                                            "font-size": 10], text) + "\n"
            }
        }
        s += Chart.element("line", ["x1": left, "y1": top - 4, "x2": left, "y2": bottom, "stroke": "#444"]) + "\n"
        return s + "</svg>\n"
    }
}
