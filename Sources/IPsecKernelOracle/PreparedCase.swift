import IPsecConfig
import IPsecCore
import IPsecDiff
import IPsecWire

/// One case made concrete: the guest's commands, the packets IPsecLab protected for it with what IPsecLab itself
/// does with each on the guest's side, and the datagrams the guest will send. `compare` turns the guest's answers
/// into the summary's agreements and disagreements.
struct PreparedCase {
    /// A packet written into the guest, with IPsecLab's verdict on it as the guest's stand-in.
    struct Injection {
        var tag: String
        var packet: [UInt8]
        /// The plaintext it carries (what must come out if it is delivered).
        var plaintext: [UInt8]
        var mutation: LinuxMutation?
        var ours: InboundVerdict
        /// What IPsecLab's stand-in delivered (nil when it dropped the packet).
        var oursDelivered: [UInt8]?
        /// How many IPComp layers IPsecLab's stand-in opened (to show that compression was exercised).
        var decompressed = 0
    }

    let c: LinuxCase
    private(set) var script: [String] = []
    private(set) var injections: [Injection] = []
    private(set) var sendTags: [(tag: String, payload: [UInt8], port: UInt16)] = []

    init(_ c: LinuxCase) throws {
        self.c = c
        let tag = "\(c.index)"
        script += try c.guestCommands().map { "IP " + $0 }
        script.append("RUN \(tag)")

        let sender = try c.peerSender()
        let mirror = try c.guestMirror()
        var r = DiffRandom(seed: UInt64(c.index), caseIndex: c.index, stream: 7)
        var out: [UInt8] = []
        var honest: [[UInt8]] = []
        func protect(_ plain: [UInt8]) throws -> [UInt8] {
            let verdict = try sender.outbound(plain[...], into: &out)
            guard case .protected = verdict else { throw DiffError("IPsecLab did not protect: \(verdict)") }
            return out
        }
        for (j, plain) in c.plaintexts.enumerated() {
            let p = try protect(plain)
            honest.append(p)
            injections.append(Injection(tag: "\(tag).p\(j)", packet: p, plaintext: plain, mutation: nil,
                                        ours: .accepted, oursDelivered: nil))
        }
        for (k, m) in c.mutations.enumerated() {
            let plain = c.plaintexts[k % c.plaintexts.count]
            let packet = m == .replay ? honest[k % honest.count]
                : PreparedCase.mutate(try protect(plain), m, protocol: c.toGuest.protocol, random: &r)
            injections.append(Injection(tag: "\(tag).m\(k)", packet: packet, plaintext: plain, mutation: m,
                                        ours: .accepted, oursDelivered: nil))
        }
        // IPsecLab in the guest's place, in the order the guest sees the packets.
        var scratch: [UInt8] = []
        for i in injections.indices {
            let outcome = mirror.inbound(injections[i].packet[...], into: &out, scratch: &scratch)
            injections[i].ours = outcome.verdict
            injections[i].oursDelivered = outcome.verdict == .accepted ? out : nil
            injections[i].decompressed = outcome.decompressed
            script.append("INJECT \(injections[i].tag) \(Hex.encode(injections[i].packet))")
        }
        let (from, to) = c.mode == .tunnel
            ? (Topology.guestInner(c.innerVersion), Topology.peerInner(c.innerVersion))
            : (Topology.guest(c.version), Topology.peer(c.version))
        for (k, s) in c.guestSends.enumerated() {
            let t = "\(tag).s\(k)"
            sendTags.append((t, s.payload, s.port))
            script.append("SEND \(t) \(c.innerVersion == .v4 ? 4 : 6) \(from) \(Topology.guestSourcePort) \(to) \(s.port) "
                          + Hex.encode(s.payload))
        }
    }

    /// The IPsec header's offset (after the IP header, and UDP for NAT-T) and the header's length before its ICV or
    /// ciphertext: ESP's SPI and sequence number, AH's fixed part.
    static func ipsecHeader(_ p: [UInt8]) -> (offset: Int, fixed: Int)? {
        guard let first = p.first else { return nil }
        var off: Int
        var proto: UInt8
        if first >> 4 == 4 {
            guard p.count >= 20 else { return nil }
            off = Int(first & 0x0f) * 4
            proto = p[9]
        } else {
            guard p.count >= 40 else { return nil }
            off = 40
            proto = p[6]
        }
        if proto == 17 {
            off += 8
            proto = 50
        }
        guard p.count >= off + 12 else { return nil }
        return (off, proto == 51 ? 12 : 8)
    }

    static func mutate(_ packet: [UInt8], _ m: LinuxMutation, protocol proto: IPsecProtocol,
                       random r: inout DiffRandom) -> [UInt8] {
        var p = packet
        guard let (off, fixed) = ipsecHeader(p) else { return p }
        switch m {
        case .icv:
            p[p.count - 1] ^= UInt8(1) << UInt8(r.below(8))
        case .body:
            // AH: after the whole fixed part (sequence number included); ESP: after SPI and sequence number.
            let start = off + 12
            guard start < p.count else { break }
            p[start + r.below(p.count - start)] ^= UInt8(1) << UInt8(r.below(8))
        case .spi:
            let at = proto == .ah ? off + 4 : off
            p[at + 1] ^= 0x5a
        case .truncate:
            p.removeLast(p.count - (off + fixed + r.below(4)))
        case .replay:
            break
        }
        fixLengths(&p)
        return p
    }

    /// After a truncation: IP and UDP lengths and the IPv4 header checksum set again; after any change, the UDP
    /// checksum of ESP in UDP (IPv6 requires one), so that only the IPsec part is wrong.
    static func fixLengths(_ p: inout [UInt8]) {
        let v4 = p[0] >> 4 == 4
        let ihl = v4 ? Int(p[0] & 0x0f) * 4 : 40
        if v4 {
            p[2] = UInt8(p.count >> 8)
            p[3] = UInt8(p.count & 0xff)
            p[10] = 0
            p[11] = 0
            let c = InternetChecksum.compute(p[0..<ihl])
            p[10] = UInt8(c >> 8)
            p[11] = UInt8(c & 0xff)
        } else {
            let n = p.count - 40
            p[4] = UInt8(n >> 8)
            p[5] = UInt8(n & 0xff)
        }
        guard (v4 ? p[9] : p[6]) == 17, p.count >= ihl + 8 else { return }
        let n = p.count - ihl
        p[ihl + 4] = UInt8(n >> 8)
        p[ihl + 5] = UInt8(n & 0xff)
        let hadChecksum = p[ihl + 6] != 0 || p[ihl + 7] != 0
        p[ihl + 6] = 0
        p[ihl + 7] = 0
        guard hadChecksum || !v4 else { return }
        var sum = InternetChecksum()
        sum.add(p[(v4 ? 12 : 8)..<(v4 ? 20 : 40)])
        if v4 {
            sum.add(UInt16(17))
            sum.add(UInt16(n))
        } else {
            sum.add(UInt32(n))
            sum.add(UInt32(17))
        }
        sum.add(p[ihl...])
        let c = sum.value == 0 ? 0xffff : sum.value
        p[ihl + 6] = UInt8(c >> 8)
        p[ihl + 7] = UInt8(c & 0xff)
    }

    /// The xfrm_stat counters (net/xfrm/xfrm_proc.c) that may move when Linux drops a packet for each of IPsecLab's
    /// reasons. "none" stands for a drop below XFRM (a length the IP layer refuses) that moves no XFRM counter.
    static let kernelCounters: [DropReason: Set<String>] = [
        .integrity: ["XfrmInStateProtoError"],
        .noSA: ["XfrmInNoStates"],
        .replay: ["XfrmInStateSeqError"],
        .malformed: ["XfrmInStateProtoError", "XfrmInHdrError", "XfrmInError", "XfrmInBufferError", "none"],
        .policy: ["XfrmInPolBlock", "XfrmInNoPols", "XfrmInTmplMismatch", "XfrmInStateMismatch", "XfrmInPolError"],
        .nextHeader: ["XfrmInStateModeError", "XfrmInStateProtoError", "XfrmInError"],
    ]

    /// Packets the guest's kernel sent compressed (IPComp inside its ESP), counted by `compare`.
    private(set) var kernelCompressed = 0

    mutating func compare(_ answers: GuestAnswers, into summary: inout DiffSummary, repro: String) {
        let mode = c.modeName, algorithm = c.algorithmName
        // Cases where Linux's documented default differs from the RFC: their differences are known, counted apart.
        let caseReference = c.linuxAHPaddingDiffers ? LinuxCase.ahPaddingReference : nil
        func finding(_ direction: DiffDirection, _ ours: String, _ oracle: String, _ detail: String,
                     reference: String? = caseReference) -> DiffFinding {
            DiffFinding(mode: mode, algorithm: algorithm, direction: direction, caseIndex: c.index, ours: ours,
                        oracle: oracle, detail: detail, reference: reference, repro: repro)
        }
        guard let status = answers.status["\(c.index)"], status == 0 else {
            PreparedCase.record(&summary, finding(.weProtect, "SAs installed", "ip xfrm refused them",
                                               "ip -batch exited \(answers.status["\(c.index)"].map(String.init) ?? "?")"
                                                   + " on the guest's SAs or policies (see the guest console)"))
            return
        }
        for i in injections {
            let direction: DiffDirection = i.mutation == nil ? .weProtect : .mutated
            let reference = c.isShortESPInUDPv6(i.packet) ? LinuxCase.shortESPInUDPv6Reference : caseReference
            func finding(_ direction: DiffDirection, _ ours: String, _ oracle: String, _ detail: String) -> DiffFinding {
                DiffFinding(mode: mode, algorithm: algorithm, direction: direction, caseIndex: c.index, ours: ours,
                            oracle: oracle, detail: detail, reference: reference, repro: repro)
            }
            let what = i.mutation.map { "mutation \($0.rawValue)" } ?? "honest packet"
            guard let a = answers.injections[i.tag], a.done else {
                PreparedCase.record(&summary, finding(direction, describe(i.ours), "no answer", "\(what): the guest "
                                                   + "agent did not answer"))
                continue
            }
            guard a.sentinel else {
                PreparedCase.record(&summary, finding(direction, describe(i.ours), "unknown",
                                                   "\(what): the sentinel packet never arrived, so the guest's "
                                                       + "verdict is unknown"))
                continue
            }
            // XFRM's inbound counters classify the drop; IPv6's and UDP's (Ip6*, Udp6*) only describe it.
            let moved = a.counters.keys.filter { $0.hasPrefix("XfrmIn") }.sorted()
            let other = a.counters.keys.filter { !$0.hasPrefix("Xfrm") && !$0.hasSuffix("Octets")
                && !$0.hasPrefix("Ip6InReceives") && !$0.hasPrefix("Ip6InDelivers") && !$0.hasPrefix("Udp6InDatagrams")
                && !$0.hasPrefix("Ip6InNoECTPkts") && !$0.hasPrefix("Ip6InMcast") }.sorted()
            let oracle = a.delivered.isEmpty
                ? "dropped (" + (moved.isEmpty ? "no xfrm counter" : moved.joined(separator: ", "))
                    + (other.isEmpty ? "" : "; " + other.joined(separator: ", ")) + ")"
                : "delivered"
            switch i.ours {
            case .accepted:
                guard !a.delivered.isEmpty else {
                    PreparedCase.record(&summary, finding(direction, "accepted", oracle, "\(what): Linux dropped a "
                                                       + "packet IPsecLab accepts"))
                    continue
                }
                let expected = UDPPacket.meaning(ofPacket: i.plaintext)
                guard a.delivered.count == 1, let got = a.delivered[0], got == expected else {
                    let shown = a.delivered.map { $0?.description ?? "unreadable" }.joined(separator: "; ")
                    PreparedCase.record(&summary, finding(direction, "accepted", "delivered \(shown)",
                                                       "\(what): Linux delivered something other than the "
                                                           + "plaintext (\(expected?.description ?? "?"))"))
                    continue
                }
                if let ours = i.oursDelivered, UDPPacket.meaning(ofPacket: ours) != expected {
                    PreparedCase.record(&summary, finding(direction, "accepted", "delivered", "\(what): IPsecLab's "
                                                       + "own decapsulation differs from the plaintext"))
                    continue
                }
                summary.recordAgreement(mode: mode)
            case .dropped(let reason):
                guard a.delivered.isEmpty else {
                    PreparedCase.record(&summary, finding(direction, "dropped (\(reason))", oracle,
                                                       "\(what): Linux delivered a packet IPsecLab drops"))
                    continue
                }
                let allowed = PreparedCase.kernelCounters[reason] ?? []
                let seen = moved.isEmpty ? ["none"] : moved
                if seen.allSatisfy({ allowed.contains($0) }) {
                    summary.recordAgreement(mode: mode)
                } else {
                    PreparedCase.record(&summary, finding(direction, "dropped (\(reason))", oracle,
                                                       "\(what): a different drop reason (Linux's counters "
                                                           + "\(seen.joined(separator: ", ")) do not mean \(reason))"))
                }
            }
        }
        kernelCompressed += compareSends(answers, into: &summary, finding: { finding($0, $1, $2, $3) })
    }

    /// Compares what the guest's kernel protected; returns how many of its packets carried IPComp.
    private func compareSends(_ answers: GuestAnswers, into summary: inout DiffSummary,
                              finding: (DiffDirection, String, String, String) -> DiffFinding) -> Int {
        var compressed = 0
        let receiver: IPsecNode
        do {
            receiver = try c.peerReceiver()
        } catch {
            PreparedCase.record(&summary, finding(.oracleProtects, "no receiver", "-", "IPsecLab refused the SA: \(error)"))
            return 0
        }
        let (from, to) = c.mode == .tunnel
            ? (Topology.guestInner(c.innerVersion), Topology.peerInner(c.innerVersion))
            : (Topology.guest(c.version), Topology.peer(c.version))
        var out: [UInt8] = [], scratch: [UInt8] = []
        for s in sendTags {
            guard let a = answers.sendings[s.tag], a.done else {
                PreparedCase.record(&summary, finding(.oracleProtects, "-", "no answer", "the guest agent did not answer"))
                continue
            }
            let protected = a.packets.filter(PreparedCase.isIPsec)
            guard a.error == 0, protected.count == 1 else {
                PreparedCase.record(&summary, finding(.oracleProtects, "-", "sent \(protected.count) IPsec packets",
                                                   "the guest's send ended with errno \(a.error) and "
                                                       + "\(a.packets.count) packets on lab0"))
                continue
            }
            let outcome = receiver.inbound(protected[0][...], into: &out, scratch: &scratch)
            compressed += outcome.decompressed
            let expected = UDPPacket.Meaning(source: from, destination: to, sourcePort: Topology.guestSourcePort,
                                             destinationPort: s.port, payload: s.payload)
            guard outcome.verdict == .accepted else {
                PreparedCase.record(&summary, finding(.oracleProtects, describe(outcome.verdict), "protected",
                                                   "IPsecLab refused what Linux protected "
                                                       + "(\(Hex.encode(protected[0].prefix(64)))…)"))
                continue
            }
            let got = UDPPacket.meaning(ofPacket: out)
            if got == expected {
                summary.recordAgreement(mode: c.modeName)
            } else {
                PreparedCase.record(&summary, finding(.oracleProtects, "opened \(got?.description ?? "unreadable")",
                                                   "sent \(expected)", "IPsecLab opened something else"))
            }
        }
        return compressed
    }

    /// A difference is a disagreement, unless it carries the reference of a documented one.
    static func record(_ summary: inout DiffSummary, _ f: DiffFinding) {
        if f.reference == nil { summary.recordDisagreement(f) } else { summary.recordOracleBug(f) }
    }

    /// ESP, AH, IPComp, or UDP to or from port 4500 (ESP in UDP).
    static func isIPsec(_ p: [UInt8]) -> Bool {
        guard let first = p.first else { return false }
        let (proto, off): (UInt8, Int) = first >> 4 == 4 && p.count >= 20 ? (p[9], Int(first & 0x0f) * 4)
            : (first >> 4 == 6 && p.count >= 40 ? (p[6], 40) : (0, 0))
        if proto == 50 || proto == 51 || proto == 108 { return true }
        guard proto == 17, p.count >= off + 4 else { return false }
        return p[off] == 0x11 && p[off + 1] == 0x94 || p[off + 2] == 0x11 && p[off + 3] == 0x94
    }

    func describe(_ v: InboundVerdict) -> String {
        switch v {
        case .accepted: "accepted"
        case .dropped(let r): "dropped (\(r))"
        }
    }
}
