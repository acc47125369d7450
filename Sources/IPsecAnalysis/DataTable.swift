import IPsecWire

/// A table of values with named columns, the one shape every number of the analysis takes before it is written:
/// CSV (RFC 4180), Markdown, JSON Lines and HTML are all rendered from it, so the report and its data files cannot
/// disagree.
public struct DataTable: Hashable, Sendable {
    public struct Column: Hashable, Sendable {
        /// The CSV / JSON key (snake_case).
        public var key: String
        /// The heading in Markdown and HTML (the key when nil).
        public var title: String?
        public init(_ key: String, title: String? = nil) {
            self.key = key
            self.title = title
        }
        var heading: String { title ?? key }
    }

    public enum Cell: Hashable, Sendable {
        case int(Int)
        /// A number printed with a fixed number of decimals everywhere.
        case decimal(Double, places: Int)
        case text(String)
        case bool(Bool)
        case empty

        /// The cell as CSV and Markdown print it.
        public var text: String {
            switch self {
            case .int(let i): String(i)
            case .decimal(let d, let places): FixedPoint.format(d, places: places)
            case .text(let s): s
            case .bool(let b): b ? "true" : "false"
            case .empty: ""
            }
        }

        var isNumeric: Bool {
            switch self {
            case .int, .decimal: true
            default: false
            }
        }

        var json: JSONValue {
            switch self {
            case .int(let i): .int(i)
            // Through the formatted text, so that JSON carries exactly the digits the CSV does.
            case .decimal(let d, let places): .double(Double(FixedPoint.format(d, places: places)) ?? d)
            case .text(let s): .string(s)
            case .bool(let b): .bool(b)
            case .empty: .null
            }
        }
    }

    public var columns: [Column]
    public var rows: [[Cell]]

    public init(columns: [Column], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public init(keys: [String], rows: [[Cell]] = []) {
        self.init(columns: keys.map { Column($0) }, rows: rows)
    }

    public mutating func append(_ row: [Cell]) {
        precondition(row.count == columns.count, "a row of \(row.count) cells in a table of \(columns.count) columns")
        rows.append(row)
    }

    // MARK: - Renderings

    /// CSV per RFC 4180 with a header line of the keys; lines end in LF (the files are text, read by scripts).
    public var csv: String {
        var out = columns.map { Self.csvField($0.key) }.joined(separator: ",") + "\n"
        for row in rows { out += row.map { Self.csvField($0.text) }.joined(separator: ",") + "\n" }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacing("\"", with: "\"\"") + "\""
    }

    /// JSON Lines: one object per row, members in column order.
    public var jsonLines: String {
        var out = ""
        for row in rows {
            out += JSONValue.object(zip(columns, row).map { JSONMember($0.key, $1.json) }).text + "\n"
        }
        return out
    }

    /// A GitHub-flavoured Markdown table; numeric columns are right-aligned.
    public var markdown: String {
        let numeric = columns.indices.map { c in
            !rows.isEmpty && rows.allSatisfy { $0[c].isNumeric || $0[c] == .empty }
        }
        var out = "| " + columns.map { Self.markdownEscape($0.heading) }.joined(separator: " | ") + " |\n"
        out += "|" + numeric.map { $0 ? "---:|" : "---|" }.joined() + "\n"
        for row in rows { out += "| " + row.map { Self.markdownEscape($0.text) }.joined(separator: " | ") + " |\n" }
        return out
    }

    static func markdownEscape(_ s: String) -> String { s.replacing("|", with: "\\|") }

    /// An HTML table (escaped); numeric cells get class `n` for right alignment.
    public var html: String {
        var out = "<table>\n<thead><tr>"
        for c in columns { out += "<th>" + HTML.escape(c.heading) + "</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>"
            for cell in row {
                // Numbers right-aligned; long text may wrap, so that a table of notes stays on the page.
                let cls = cell.isNumeric ? " class=\"n\"" : cell.text.count > 40 ? " class=\"w\"" : ""
                out += "<td\(cls)>" + HTML.escape(cell.text) + "</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table>\n"
        return out
    }
}

/// Fixed-point decimal text, the same on every platform (no locale, no binary-float noise in the output).
public enum FixedPoint {
    public static func format(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return String(value) }
        let n = Int(scaled)
        let unit = Int(scale)
        var text = String(n / unit)
        if places > 0 {
            let fraction = String(n % unit)
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return (value < 0 && n != 0 ? "-" : "") + text
    }
}

enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
