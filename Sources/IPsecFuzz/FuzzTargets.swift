/// Every target, by name: one per parser, the capture reader, each SA file format, the inbound path of every mode
/// (IPv4 and IPv6 within each), the encapsulation round trip, and the hidden self-test of the supervisor.
public enum FuzzTargets {
    public static let all: [FuzzTarget] =
        ParserTargets.all + [CaptureTarget.target] + ConfigTargets.all + InboundTargets.all + [SelfTestTarget.target]

    /// The targets `--list` shows (the self-test is hidden).
    public static var listed: [FuzzTarget] { all.filter { !$0.isHidden } }

    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }

    /// The target named `name`, or an error listing the names.
    public static func require(_ name: String) throws(FuzzError) -> FuzzTarget {
        guard let target = named(name) else {
            throw FuzzError("unknown fuzz target '\(name)' (known: \(listed.map(\.name).joined(separator: ", ")))")
        }
        return target
    }
}
