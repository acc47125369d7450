#if canImport(Glibc)
import Glibc
#endif
import Foundation
import IPsecCore
import IPsecVectors

/// The conformance vectors (vectors/, docs/vectors.md) confirmed by an independent implementation: every case the
/// oracle can process. Positive cases: the oracle opens the expected protected packet (an outbound case's output, an
/// inbound case's input) and delivers the expected plaintext. Negative cases whose drop the oracle can check
/// (integrity, an unknown SPI): the oracle rejects them. Everything else is counted as skipped, with the reason.
public struct VectorConfirmation: Sendable {
    public private(set) var considered = 0
    public private(set) var checked = 0
    public private(set) var confirmed = 0
    /// Cases confirmed only once a known oracle bug was worked around, by reference.
    public private(set) var oracleBugs: [String: Int] = [:]
    /// One line per case the oracle did not confirm.
    public private(set) var failures: [String] = []
    /// Why cases were not checked, with counts.
    public private(set) var skipped: [String: Int] = [:]
    /// Checked cases per vector file.
    public private(set) var checkedByFile: [String: Int] = [:]

    struct Item {
        var file: String
        var tcId: Int
        var item: OracleItem
        /// The packet the oracle must deliver, or nil when it must reject.
        var expected: [UInt8]?
    }

    /// Confirms the vector files below `directory` with `oracle` (scapy or tshark). `perFile`: at most this many
    /// checked cases of each kind (valid inbound, outbound, invalid) per group, for a quick deterministic subset that
    /// still covers every group; nil for all of them.
    public static func run(oracle kind: DiffOracleKind, directory: String, perFile: Int? = nil) throws
        -> VectorConfirmation {
        signal(SIGPIPE, SIG_IGN)  // a helper that dies must give an error, not end the process
        var report = VectorConfirmation()
        let oracle: PacketOracle
        let algorithms: [OracleAlgorithm]
        switch kind {
        case .scapy:
            oracle = try ScapyOracle()
            algorithms = OracleAlgorithm.scapy
        case .tshark:
            oracle = try TsharkOracle()
            algorithms = OracleAlgorithm.tshark
        default:
            throw DiffError("the vectors can be confirmed by scapy or tshark, not by \(kind.rawValue)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DiffError("\(directory): not a directory of vector files")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw DiffError("\(directory): cannot list")
        }
        let files = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw DiffError("\(directory): no vector files") }
        var items: [Item] = []
        for name in files {
            let loaded: AnyVectorFile
            do { loaded = try VectorReader.load(path: directory + "/" + name) } catch {
                throw DiffError("\(name): \(error)")
            }
            guard case .packets(let file) = loaded else {
                report.skip(loaded.numberOfTests, "transform-level vectors (no packets)")
                continue
            }
            for group in file.groups {
                report.collect(group, file: name, algorithms: algorithms, oracle: kind, perFile: perFile, into: &items)
            }
        }
        // In batches: one helper exchange (scapy) or one tshark run per batch.
        let batch = kind == .tshark ? 3000 : 1000
        var start = 0
        while start < items.count {
            let slice = Array(items[start..<min(items.count, start + batch)])
            let answers = try oracle.open(slice.map(\.item))
            for (it, answer) in zip(slice, answers) { report.judge(it, answer) }
            start += batch
        }
        return report
    }

    mutating func skip(_ n: Int, _ reason: String) {
        considered += n
        skipped[reason, default: 0] += n
    }

    mutating func collect(_ group: VectorGroup, file: String, algorithms: [OracleAlgorithm], oracle: DiffOracleKind,
                          perFile: Int?, into items: inout [Item]) {
        let sa = group.sa
        guard sa.mode != .tunnelHC else { return skip(group.tests.count, "tunnel-esp-hc (no other implementation)") }
        guard let algorithm = algorithms.first(where: { $0.algorithm == sa.algorithm }) else {
            return skip(group.tests.count, "\(sa.algorithm) (the oracle lacks it)")
        }
        if oracle == .tshark && sa.extendedSequenceNumbers { return skip(group.tests.count, "ESN (tshark has none)") }
        var taken: [String: Int] = [:]
        for c in group.tests {
            let expectAccept = c.result == .valid || (c.result == .acceptable && c.dropReason == nil)
            var item: Item?
            let sequence = c.sequence ?? (sa.replaySequence + 1)
            switch (c.direction, expectAccept) {
            case (.outbound, true):
                if let output = c.output {
                    item = Item(file: file, tcId: c.tcId,
                                item: OracleItem(algorithm: algorithm, config: sa, sequence: sequence, packet: output),
                                expected: c.input)
                }
            case (.inbound, true):
                if let output = c.output {
                    item = Item(file: file, tcId: c.tcId,
                                item: OracleItem(algorithm: algorithm, config: sa, sequence: sequence, packet: c.input),
                                expected: output)
                }
            case (.inbound, false) where c.dropReason == .integrity || c.dropReason == .noSA:
                item = Item(file: file, tcId: c.tcId,
                            item: OracleItem(algorithm: algorithm, config: sa, sequence: sequence, packet: c.input),
                            expected: nil)
            default:
                break
            }
            guard let item else {
                skip(1, "drop reason \(c.dropReason?.rawValue ?? "?") (the oracle does not check it)")
                continue
            }
            let kind = "\(c.direction) \(expectAccept)"
            if let perFile, taken[kind, default: 0] >= perFile {
                skip(1, "left out of the quick subset")
                continue
            }
            taken[kind, default: 0] += 1
            considered += 1
            items.append(item)
        }
    }

    mutating func judge(_ it: Item, _ answer: OpenResult) {
        checked += 1
        checkedByFile[it.file, default: 0] += 1
        let ok: Bool
        var why = ""
        if let expected = it.expected {
            ok = answer.accepted && answer.packet == expected
            if !answer.accepted { why = "expected accepted, oracle \(answer.said)" }
            else if !ok { why = "oracle delivered \(answer.packet.count) bytes that differ from the expected \(expected.count)" }
        } else {
            ok = !answer.accepted
            why = "expected rejected, oracle accepted"
        }
        if ok {
            confirmed += 1
            if let bug = answer.bug { oracleBugs[bug, default: 0] += 1 }
        } else {
            failures.append("\(it.file) tcId \(it.tcId): \(why)")
        }
    }
}
