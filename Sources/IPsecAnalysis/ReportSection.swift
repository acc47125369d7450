/// One file the report writes, relative to its output directory.
public struct ReportFile: Hashable, Sendable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// What a section runs with.
public struct ReportContext: Sendable {
    public var depth: AnalysisDepth
    /// Progress text for a terminal; the caller decides whether anyone sees it.
    public var progress: @Sendable (String) -> Void

    public init(depth: AnalysisDepth = .standard, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.depth = depth
        self.progress = progress
    }
}

/// How a section came out, for the summary at the top of the report.
public enum ReportStatus: Hashable, Sendable {
    /// Ran; everything it checks passed (or it checks nothing and only reports).
    case passed(String)
    /// Ran; something it checks failed.
    case failed(String)
    /// Not part of this version (its issue has not landed); no numbers are shown for it.
    case unavailable(String)

    public var summary: String {
        switch self {
        case .passed(let s), .failed(let s), .unavailable(let s): s
        }
    }
}

/// What a section produced: its blocks, the data files behind every number in them, and its status.
public struct ReportSectionOutput: Hashable, Sendable {
    public var blocks: [ReportBlock]
    /// Data files (CSV, JSON), relative to the report directory (`data/…`). Charts are collected from the blocks.
    public var files: [ReportFile]
    public var status: ReportStatus

    public init(blocks: [ReportBlock], files: [ReportFile] = [], status: ReportStatus) {
        self.blocks = blocks
        self.files = files
        self.status = status
    }
}

/// A section of the report. The extension point for the analyses that later issues add (benchmarks, fuzzing,
/// differential testing, timing): each implements this protocol and takes its place in `Report.sections`, replacing
/// its `UnavailableSection`.
public protocol ReportSection: Sendable {
    /// Stable identifier: the HTML anchor and the prefix of the section's data files.
    var id: String { get }
    var title: String { get }
    /// Whether the section's output depends only on the model (no measurement, no randomness, no clock), so that it
    /// can be committed under `analysis/` and checked for staleness byte for byte.
    var isDeterministic: Bool { get }
    func run(_ context: ReportContext) throws -> ReportSectionOutput
}

/// A section whose analysis is not in this version yet: the report names it and says so, and shows no numbers.
public struct UnavailableSection: ReportSection {
    public let id: String
    public let title: String
    public let what: String
    public var isDeterministic: Bool { true }

    public init(id: String, title: String, what: String) {
        self.id = id
        self.title = title
        self.what = what
    }

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        ReportSectionOutput(blocks: [.callout("Not yet available in this version. When it lands, this section will "
                                              + "show \(what).", kind: .note)],
                            status: .unavailable("not yet available in this version"))
    }
}
