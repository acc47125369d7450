import IPsecCore
import IPsecWire

/// A deliberately wrong oracle, to prove that a campaign notices, minimises and reports (the tests plant it; the
/// repro line carries it, so the reproduction disagrees the same way).
public enum DiffPlantedFault: String, CaseIterable, Hashable, Sendable {
    /// Every answer of the oracle longer than 64 bytes has its byte 64 flipped (the backend oracle: swift-crypto's).
    case oracleByte64 = "oracle-byte-64"
    /// The backend oracle only: every output of libipsec-mb longer than 64 bytes (a ciphertext it sealed, a plaintext
    /// it opened) has its byte 64 flipped, so the tests can prove a fault on that side is found and named.
    case ipsecMBByte64 = "ipsec-mb-byte-64"

    /// Damages an answer of the oracle (scapy, tshark, swift-crypto); a fault planted elsewhere leaves it alone.
    func apply(_ bytes: inout [UInt8]) {
        if self == .oracleByte64 { Self.flipByte64(&bytes) }
    }

    /// Damages an output of libipsec-mb in a backend campaign.
    func applyToIPsecMB(_ bytes: inout [UInt8]) {
        if self == .ipsecMBByte64 { Self.flipByte64(&bytes) }
    }

    static func flipByte64(_ bytes: inout [UInt8]) {
        if bytes.count > 64 { bytes[64] ^= 0x01 }
    }
}

/// What one case came to.
enum CaseOutcome {
    case agree
    case oracleBug(reference: String, ours: String, oracle: String, detail: String)
    case disagree(ours: String, oracle: String, detail: String)

    var disagrees: Bool { if case .disagree = self { true } else { false } }
}

/// Runs packet-level cases through IPsecLab and an oracle, in batches.
struct PacketCampaign {
    let oracle: PacketOracle
    let profile: CaseProfile
    let seed: UInt64
    let fault: DiffPlantedFault?

    /// Evaluates a batch of cases: the oracle protects (oracle-protects, mutated) or opens (we-protect, mutated) in
    /// two rounds; IPsecLab's side runs in process.
    func evaluate(_ cases: [DiffCase]) throws -> [CaseOutcome] {
        var outcomes = [CaseOutcome?](repeating: nil, count: cases.count)
        // Round 1: what needs the oracle to protect.
        let protectIndices = cases.indices.filter { cases[$0].direction != .weProtect && oracle.canProtect }
        var protected: [Int: (packet: [UInt8], bug: String?)] = [:]
        if !protectIndices.isEmpty {
            let answers = try oracle.protect(protectIndices.map { OracleItem(cases[$0], packet: cases[$0].plaintext) })
            for (i, answer) in zip(protectIndices, answers) {
                switch answer {
                case .success(var p):
                    fault?.apply(&p.packet)
                    protected[i] = p
                case .failure(let e):
                    outcomes[i] = .disagree(ours: "protects", oracle: "refuses to protect",
                                            detail: "the oracle cannot protect the packet: \(e.description)")
                }
            }
        }
        // Round 2: what the oracle opens.
        var toOpen: [(Int, [UInt8], String?)] = []  // case, packet, bug met while protecting
        var ours: [Int: (OpenResult, [UInt8])] = [:]  // our verdict on the packet the oracle opens / we open
        for (i, c) in cases.enumerated() where outcomes[i] == nil {
            switch c.direction {
            case .weProtect, .transform:
                switch c.protectOurs() {
                case .success(let p): toOpen.append((i, p, nil))
                case .failure(let e): outcomes[i] = .disagree(ours: "refuses to protect", oracle: "-", detail: e.description)
                }
            case .oracleProtects:
                guard let p = protected[i] else { continue }
                ours[i] = (c.openOurs(p.packet), p.packet)
            case .mutated:
                let source: [UInt8]
                var bug: String?
                if oracle.canProtect {
                    guard let p = protected[i] else { continue }
                    source = p.packet
                    bug = p.bug
                } else {
                    switch c.protectOurs() {
                    case .success(let p): source = p
                    case .failure(let e):
                        outcomes[i] = .disagree(ours: "refuses to protect", oracle: "-", detail: e.description)
                        continue
                    }
                }
                let m = c.mutate(source)
                ours[i] = (c.openOurs(m), m)
                toOpen.append((i, m, bug))
            }
        }
        let opened = toOpen.isEmpty ? [] : try oracle.open(toOpen.map { OracleItem(cases[$0.0], packet: $0.1) })
        var theirs: [Int: OpenResult] = [:]
        for ((i, _, bug), var r) in zip(toOpen, opened) {
            if r.bug == nil { r.bug = bug }
            if r.accepted { fault?.apply(&r.packet) }
            theirs[i] = r
        }
        for (i, c) in cases.enumerated() where outcomes[i] == nil {
            outcomes[i] = judge(c, ours: ours[i]?.0, theirs: theirs[i], protectedBug: protected[i]?.bug)
        }
        return outcomes.map { $0 ?? .disagree(ours: "?", oracle: "?", detail: "case not evaluated") }
    }

    func judge(_ c: DiffCase, ours: OpenResult?, theirs: OpenResult?, protectedBug: String?) -> CaseOutcome {
        let plain = c.plaintext
        var outcome: CaseOutcome
        var bug = protectedBug
        switch c.direction {
        case .weProtect, .transform:
            guard let theirs else { return .disagree(ours: "protected", oracle: "no answer", detail: "") }
            bug = bug ?? theirs.bug
            if !theirs.accepted {
                outcome = .disagree(ours: "protected", oracle: theirs.said,
                                    detail: "the oracle does not open IPsecLab's packet")
            } else if theirs.packet != plain {
                outcome = .disagree(ours: "protected", oracle: "opened to different bytes",
                                    detail: "the oracle's plaintext differs from the original" + firstDifference(theirs.packet, plain))
            } else {
                outcome = .agree
            }
        case .oracleProtects:
            guard let ours else { return .disagree(ours: "no answer", oracle: "protected", detail: "") }
            if !ours.accepted {
                outcome = .disagree(ours: ours.said, oracle: "protected",
                                    detail: "IPsecLab does not open the oracle's packet")
            } else if ours.packet != plain {
                outcome = .disagree(ours: "opened to different bytes", oracle: "protected",
                                    detail: "IPsecLab's plaintext differs from the original" + firstDifference(ours.packet, plain))
            } else {
                outcome = .agree
            }
        case .mutated:
            guard let ours, let theirs else { return .disagree(ours: "?", oracle: "?", detail: "no answer") }
            bug = bug ?? theirs.bug
            if ours.accepted != theirs.accepted {
                outcome = .disagree(ours: ours.said, oracle: theirs.said, detail: "accept/reject differs")
            } else if ours.accepted && ours.packet != theirs.packet {
                outcome = .disagree(ours: "accepted", oracle: "accepted",
                                    detail: "delivered packets differ" + firstDifference(ours.packet, theirs.packet))
            } else {
                outcome = .agree
            }
        }
        if let bug {
            switch outcome {
            case .agree:
                return .oracleBug(reference: bug, ours: ours?.said ?? "protected", oracle: theirs?.said ?? "protected",
                                  detail: "agrees once the oracle's known bug is worked around")
            default: return outcome  // a disagreement even after the workaround stays a disagreement
            }
        }
        return outcome
    }

    func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        if a.count != b.count { return " (\(a.count) bytes, expected \(b.count))" }
        let i = a.indices.first(where: { a[$0] != b[$0] }) ?? 0
        return " (first at byte \(i))"
    }

    /// Shrinks disagreeing cases (plainer packet, smaller payload, smaller mutation) while each still disagrees. All
    /// cases shrink together, one oracle batch per round, so that a tshark campaign runs a dozen tshark processes
    /// however many cases it minimises.
    func minimise(_ cases: [DiffCase], rounds: Int = 16) throws -> [DiffCase] {
        var best = cases
        var active = Array(cases.indices)
        for _ in 0..<rounds where !active.isEmpty {
            var candidates: [DiffCase] = []
            var owners: [(Int, Range<Int>)] = []
            for i in active {
                let list = shrinkCandidates(best[i])
                owners.append((i, candidates.count..<candidates.count + list.count))
                candidates += list
            }
            let outcomes = candidates.isEmpty ? [] : try evaluate(candidates)
            var still: [Int] = []
            for (i, range) in owners {
                if let k = range.first(where: { outcomes[$0].disagrees }) {
                    best[i] = candidates[k]
                    still.append(i)
                }
            }
            active = still
        }
        return best
    }

    func shrinkCandidates(_ c: DiffCase) -> [DiffCase] {
        var out: [DiffCase] = []
        func with(_ change: (inout DiffCase) -> Void) {
            var d = c
            change(&d)
            out.append(d)
        }
        if c.shape.optionsOrExtensions { with { $0.shape.optionsOrExtensions = false } }
        if c.shape.transport != .udp && profile.transports.contains(.udp) { with { $0.shape.transport = .udp } }
        let n = c.shape.payloadLength
        var lengths: [Int] = []
        for candidate in [0, n / 2, n * 3 / 4, n - 1] where candidate >= 0 && candidate < n && !lengths.contains(candidate) {
            lengths.append(candidate)
        }
        for l in lengths { with { $0.shape.payloadLength = l } }
        switch c.mutation {
        case .truncate(let k) where k > 1: with { $0.mutation = .truncate(1) }
        case .append(let k) where k > 1: with { $0.mutation = .append(1) }
        default: break
        }
        return out
    }
}
