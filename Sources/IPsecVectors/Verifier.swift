import IPsecCore
import IPsecCrypto

/// Runs vector cases through IPsecLab's data plane: outbound byte for byte with the injected IV, inbound by verdict,
/// drop reason, delivered packet and (when given) the inferred sequence number.
public enum VectorVerifier {
    /// Nil when IPsecLab does what the case expects; otherwise why not, in one line.
    public static func check(_ c: VectorCase, in group: VectorGroup) -> String? {
        switch c.direction {
        case .outbound:
            guard let sequence = c.sequence, sequence > 0 else { return "outbound test without a sequence number" }
            var config = group.sa
            config.outboundSequence = sequence - 1
            let id = c.outerIdentification ?? 0
            let out: [UInt8]
            do {
                out = try protect(c.input, config: config, iv: c.iv ?? [], identification: id)
            } catch {
                return "outbound refused: \(error)"
            }
            guard let expected = c.output else { return "outbound test without an output" }
            return out == expected ? nil : "output differs" + firstDifference(out, expected)
        case .inbound:
            let (result, out): (InboundResult, [UInt8])
            do { (result, out) = try unprotect(c.input, config: group.sa) } catch { return "SA refused: \(error)" }
            let expectAccept: Bool
            switch c.result {
            case .valid: expectAccept = true
            case .invalid: expectAccept = false
            case .acceptable: expectAccept = c.dropReason == nil
            }
            if expectAccept {
                guard result.verdict == .accepted else { return "expected accepted, got \(describe(result.verdict))" }
                if let expected = c.output, out != expected {
                    return "delivered packet differs" + firstDifference(out, expected)
                }
                if let s = c.sequence, result.sequence != s {
                    return "expected sequence \(s), got \(result.sequence.map(String.init) ?? "none")"
                }
                return nil
            }
            let reason = c.dropReason.map { $0.rawValue } ?? "?"
            guard result.verdict == .dropped(c.dropReason ?? .malformed) else {
                return "expected dropped (\(reason)), got \(describe(result.verdict))"
            }
            return nil
        }
    }

    static func describe(_ v: InboundVerdict) -> String {
        switch v {
        case .accepted: "accepted"
        case .dropped(let r): "dropped (\(r.rawValue))"
        }
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        if a.count != b.count { return " (\(a.count) bytes, expected \(b.count))" }
        let i = a.indices.first(where: { a[$0] != b[$0] }) ?? 0
        return " at byte \(i)"
    }

    /// Protects `packet` as the sender of `config` whose IV source yields `iv` and whose outer identification is `id`.
    static func protect(_ packet: [UInt8], config: SAConfiguration, iv: [UInt8], identification id: UInt16) throws
        -> [UInt8] {
        let sa = try SecurityAssociation(config, ivSource: .fixed(iv),
                                         identificationSource: .fixed([UInt8(id >> 8), UInt8(id & 0xff)]))
        var out: [UInt8] = []
        try Outbound.protect(packet[...], with: sa, into: &out)
        return out
    }

    /// Opens `packet` as a fresh receiver of `config`.
    static func unprotect(_ packet: [UInt8], config: SAConfiguration) throws -> (InboundResult, [UInt8]) {
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config))
        var out: [UInt8] = [], scratch: [UInt8] = []
        let r = Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch)
        return (r, out)
    }
}

/// The outcome of verifying files.
public struct VerificationReport: Sendable {
    public struct Failure: Sendable, Hashable {
        public var file: String
        public var tcId: Int
        public var comment: String
        public var reason: String
    }

    public var total = 0
    public var passed = 0
    public var failures: [Failure] = []
    /// Per mode: (total, passed).
    public var byMode: [String: (total: Int, passed: Int)] = [:]
    public var files = 0

    public var failed: Int { total - passed }

    mutating func record(file: String, mode: String, tcId: Int, comment: String, failure: String?) {
        total += 1
        var m = byMode[mode] ?? (0, 0)
        m.total += 1
        if let failure {
            failures.append(Failure(file: file, tcId: tcId, comment: comment, reason: failure))
        } else {
            passed += 1
            m.passed += 1
        }
        byMode[mode] = m
    }

    /// Verifies every vector file at `paths` (files, or directories searched for `*.json`). Throws the first
    /// unreadable or malformed file, as one line.
    public static func verify(paths: [String]) throws(VectorError) -> VerificationReport {
        var report = VerificationReport()
        for path in paths {
            let files: [String]
            if FileSystem.isDirectory(path) {
                files = try FileSystem.list(path, suffix: ".json").map { path + "/" + $0 }
                guard !files.isEmpty else { throw VectorError("\(path): no vector files (*.json) in the directory") }
            } else {
                files = [path]
            }
            for file in files {
                report.add(try VectorReader.load(path: file), origin: file)
            }
        }
        return report
    }

    public mutating func add(_ file: AnyVectorFile, origin: String) {
        files += 1
        switch file {
        case .packets(let f):
            for g in f.groups {
                for c in g.tests {
                    record(file: origin, mode: f.mode, tcId: c.tcId, comment: c.comment,
                           failure: VectorVerifier.check(c, in: g))
                }
            }
        case .transforms(let f):
            for g in f.groups {
                for c in g.tests {
                    record(file: origin, mode: "transform", tcId: c.tcId, comment: c.comment,
                           failure: TransformVerifier.check(c, in: g))
                }
            }
        }
    }
}
