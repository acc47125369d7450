/// The content of a report, independent of its rendering: the same blocks become Markdown (`report.md`, the files
/// under `analysis/`) and a self-contained HTML page (`index.html`: inline CSS and SVG, no script, nothing fetched).
///
/// Inline text takes a small Markdown subset, rendered to HTML by `ReportDocument.inlineHTML`: `code`, **bold** and
/// [text](relative-link).
public indirect enum ReportBlock: Hashable, Sendable {
    case heading(String, level: Int)
    case paragraph(String)
    case list([String])
    /// A table, with the data file (relative path) that holds the same rows.
    case table(DataTable, data: String?)
    /// A chart, drawn from the data file (relative path) whose numbers it plots.
    case chart(Chart, data: String)
    /// A highlighted statement: the verdict, a warning.
    case callout(String, kind: CalloutKind)
    /// Blocks a reader can unfold (HTML `<details>`; Markdown prints them under a bold title).
    case collapsible(String, [ReportBlock])

    /// The block with its headings (and those of unfolded blocks) moved `levels` up or down, within 1...6.
    public func shifted(by levels: Int) -> ReportBlock {
        switch self {
        case let .heading(text, level): .heading(text, level: min(max(level + levels, 1), 6))
        case let .collapsible(title, inner): .collapsible(title, inner.map { $0.shifted(by: levels) })
        default: self
        }
    }

    public enum CalloutKind: String, Hashable, Sendable {
        case verdict, pass, fail, note

        /// The word that opens the callout.
        var label: String {
            switch self {
            case .verdict: "Verdict."
            case .pass: "Pass."
            case .fail: "Fail."
            case .note: "Note."
            }
        }
    }
}

public struct ReportDocument: Hashable, Sendable {
    public var title: String
    public var blocks: [ReportBlock]

    public init(title: String, blocks: [ReportBlock]) {
        self.title = title
        self.blocks = blocks
    }

    /// Every chart in the document, unfolded blocks included, for writing them as files.
    public var charts: [Chart] {
        func collect(_ blocks: [ReportBlock]) -> [Chart] {
            blocks.flatMap { b -> [Chart] in
                switch b {
                case .chart(let c, _): [c]
                case .collapsible(_, let inner): collect(inner)
                default: []
                }
            }
        }
        return collect(blocks)
    }

    /// The path at which a chart's SVG file is written, relative to the document.
    public static func chartPath(_ chart: Chart) -> String { "charts/\(chart.name).svg" }

    // MARK: - Markdown

    public var markdown: String {
        "# \(title)\n\n" + Self.markdown(blocks)
    }

    static func markdown(_ blocks: [ReportBlock]) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case let .heading(text, level):
                out += String(repeating: "#", count: min(max(level, 1), 6)) + " " + text + "\n\n"
            case .paragraph(let text):
                out += text + "\n\n"
            case .list(let items):
                out += items.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
            case let .table(table, data):
                out += table.markdown + "\n"
                if let data { out += "Data: [\(data)](\(data))\n\n" }
            case let .chart(chart, data):
                out += "![\(chart.title)](\(chartPath(chart)))\n\nData: [\(data)](\(data))\n\n"
            case let .callout(text, kind):
                out += "> **\(kind.label)** " + text + "\n\n"
            case let .collapsible(title, inner):
                out += "**\(title)**\n\n" + markdown(inner)
            }
        }
        return out
    }

    // MARK: - HTML

    /// A complete, self-contained HTML page; `navigation` lists (anchor, title) pairs for the table of contents.
    public func html(subtitle: String, navigation: [(anchor: String, title: String)]) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTML.escape(title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        out += "<header><h1>\(HTML.escape(title))</h1><p class=\"sub\">\(Self.inlineHTML(subtitle))</p></header>\n"
        if !navigation.isEmpty {
            out += "<nav><ol>"
            for n in navigation { out += "<li><a href=\"#\(n.anchor)\">\(HTML.escape(n.title))</a></li>" }
            out += "</ol></nav>\n"
        }
        out += "<main>\n" + Self.html(blocks) + "</main>\n</body>\n</html>\n"
        return out
    }

    static func html(_ blocks: [ReportBlock]) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case let .heading(text, level):
                let l = min(max(level, 1), 6)
                out += "<h\(l) id=\"\(anchor(text))\">\(inlineHTML(text))</h\(l)>\n"
            case .paragraph(let text):
                out += "<p>\(inlineHTML(text))</p>\n"
            case .list(let items):
                out += "<ul>" + items.map { "<li>\(inlineHTML($0))</li>" }.joined() + "</ul>\n"
            case let .table(table, data):
                out += "<div class=\"table\">\n" + table.html + "</div>\n"
                if let data {
                    out += "<p class=\"data\">Data: <a href=\"\(HTML.escape(data))\">\(HTML.escape(data))</a></p>\n"
                }
            case let .chart(chart, data):
                out += "<figure>\n" + chart.svg + "<figcaption>Data: <a href=\"\(HTML.escape(data))\">"
                    + "\(HTML.escape(data))</a> · SVG: <a href=\"\(HTML.escape(chartPath(chart)))\">"
                    + "\(HTML.escape(chartPath(chart)))</a></figcaption>\n</figure>\n"
            case let .callout(text, kind):
                out += "<div class=\"callout \(kind.rawValue)\"><strong>\(kind.label)</strong> "
                    + inlineHTML(text) + "</div>\n"
            case let .collapsible(title, inner):
                out += "<details><summary>\(inlineHTML(title))</summary>\n" + html(inner) + "</details>\n"
            }
        }
        return out
    }

    /// The id a heading gets: lower case, runs of anything but letters and digits become one hyphen.
    public static func anchor(_ text: String) -> String {
        var out = ""
        var pendingHyphen = false
        for ch in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(ch) || ("0"..."9").contains(ch) {
                if pendingHyphen && !out.isEmpty { out += "-" }
                pendingHyphen = false
                out.unicodeScalars.append(ch)
            } else {
                pendingHyphen = true
            }
        }
        return out
    }

    /// The inline subset to HTML: `code`, **bold**, [text](link); everything else escaped.
    static func inlineHTML(_ text: String) -> String {
        var out = ""
        let chars = Array(text)
        var i = 0
        var bold = false
        while i < chars.count {
            let c = chars[i]
            if c == "`", let close = chars[(i + 1)...].firstIndex(of: "`") {
                out += "<code>" + HTML.escape(String(chars[(i + 1)..<close])) + "</code>"
                i = close + 1
            } else if c == "*", i + 1 < chars.count, chars[i + 1] == "*" {
                out += bold ? "</strong>" : "<strong>"
                bold.toggle()
                i += 2
            } else if c == "[", let mid = chars[i...].firstIndex(of: "]"), mid + 1 < chars.count, chars[mid + 1] == "(",
                      let close = chars[(mid + 1)...].firstIndex(of: ")") {
                let label = String(chars[(i + 1)..<mid]), href = String(chars[(mid + 2)..<close])
                out += "<a href=\"\(HTML.escape(href))\">\(inlineHTML(label))</a>"
                i = close + 1
            } else {
                out += HTML.escape(String(c))
                i += 1
            }
        }
        if bold { out += "</strong>" }
        return out
    }

    static let css = """
        :root { color-scheme: light; }
        body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
               color: #1d1d1f; background: #fafafa; }
        header { background: #10324a; color: #fff; padding: 20px 32px; }
        header h1 { margin: 0; font-size: 26px; }
        header .sub { margin: 4px 0 0; color: #cfe0ec; }
        header code { background: rgba(255,255,255,0.12); color: #fff; }
        nav { background: #fff; border-bottom: 1px solid #ddd; padding: 8px 32px; }
        nav ol { margin: 0; padding-left: 20px; columns: 2; }
        main { max-width: 1000px; margin: 0 auto; padding: 8px 32px 48px; background: #fff; }
        h2 { border-bottom: 2px solid #10324a; padding-bottom: 4px; margin-top: 40px; }
        h3 { margin-top: 28px; }
        code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f5;
               padding: 1px 4px; border-radius: 3px; }
        .table { overflow-x: auto; margin: 8px 0; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { border: 1px solid #d8dde3; padding: 3px 8px; text-align: left; white-space: nowrap; }
        th { background: #eef2f6; position: sticky; top: 0; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        td.w { white-space: normal; min-width: 260px; }
        tbody tr:nth-child(even) { background: #f8fafc; }
        figure { margin: 16px 0; overflow-x: auto; }
        figure svg { max-width: 100%; height: auto; border: 1px solid #e5e5e5; }
        figcaption, p.data { font-size: 12px; color: #666; }
        .callout { border-left: 5px solid; padding: 10px 14px; margin: 14px 0; border-radius: 3px; }
        .callout.verdict { border-color: #10324a; background: #eef4f9; }
        .callout.pass { border-color: #1a7f37; background: #eefbf1; }
        .callout.fail { border-color: #cf222e; background: #fff0f0; }
        .callout.note { border-color: #9a6700; background: #fff8e5; }
        details { margin: 10px 0; border: 1px solid #e1e4e8; border-radius: 4px; padding: 4px 12px; }
        summary { cursor: pointer; font-weight: 600; padding: 4px 0; }

        """
}
