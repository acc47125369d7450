import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecDiff
import IPsecWire

/// The guest's addresses: IPsecLab plays the peer at `.1`, the guest's kernel is `.2`; tunnel mode carries traffic
/// between the networks behind them. The guest puts its addresses on the tun device `lab0` (docs/linux-oracle.md).
enum Topology {
    static func peer(_ v: IPVersion) -> IPAddress { v == .v4 ? IPAddress("10.0.1.1")! : IPAddress("fd00:1::1")! }
    static func guest(_ v: IPVersion) -> IPAddress { v == .v4 ? IPAddress("10.0.1.2")! : IPAddress("fd00:1::2")! }
    static func peerInner(_ v: IPVersion) -> IPAddress { v == .v4 ? IPAddress("10.1.0.1")! : IPAddress("fd00:a::1")! }
    static func guestInner(_ v: IPVersion) -> IPAddress { v == .v4 ? IPAddress("10.2.0.2")! : IPAddress("fd00:b::2")! }

    /// The `ip` commands that set the guest's network up, once per boot.
    static let guestSetup = [
        "link set lab0 up mtu 1500",
        "addr add 10.0.1.2/24 dev lab0", "addr add 10.2.0.2/32 dev lab0", "addr add 10.0.9.2/24 dev lab0",
        "addr add fd00:1::2/64 dev lab0 nodad", "addr add fd00:b::2/128 dev lab0 nodad",
        "route add 10.1.0.0/24 dev lab0", "route add fd00:a::/64 dev lab0", "route add 10.0.8.0/24 dev lab0",
    ]

    /// The UDP port the guest listens on (a socket that is never read, so no ICMP unreachable answers).
    static let guestPort: UInt16 = 4000
    /// The UDP port the guest sends from.
    static let guestSourcePort: UInt16 = 4001
}

/// How a protected packet is spoiled before the guest gets it, and the drop it must cause.
enum LinuxMutation: String, CaseIterable, Sendable {
    /// One bit of the last byte (the ICV for ESP; the payload, still covered by the ICV, for AH).
    case icv
    /// One bit after the ESP or AH header (ciphertext, IV or ICV): the ICV no longer verifies.
    case body
    /// An SPI no SA has.
    case spi
    /// An honest packet sent a second time.
    case replay
    /// Cut short after the ESP/AH header (lengths fixed up so that only IPsec is wrong).
    case truncate
}

/// One case of a Linux campaign: a pair of SAs (peer → guest and guest → peer) with their policies, the packets
/// IPsecLab protects for the guest, the mutated ones, and the datagrams the guest's kernel sends through its SA.
struct LinuxCase {
    let index: Int
    /// The SAs' family (the outer header's in tunnel mode).
    let version: IPVersion
    /// The family of the packets carried: `version`, or the other one in a mixed-family tunnel.
    let innerVersion: IPVersion
    let mode: SAMode
    let algorithm: SAAlgorithm
    let esn: Bool
    let natTraversal: Bool
    let ipcomp: Bool
    /// Peer → guest: the guest's inbound SA (its replay state as the guest starts with it).
    let toGuest: SAConfiguration
    /// Guest → peer: the guest's outbound SA (its sequence counter as the guest starts with it).
    let toPeer: SAConfiguration
    let compressions: [IPCompAssociation]
    /// The guest's policies: `out` for guest → peer, `in` for peer → guest.
    let guestPolicies: [SecurityPolicy]
    /// Plaintext packets IPsecLab protects for the guest.
    var plaintexts: [[UInt8]]
    var mutations: [LinuxMutation]
    /// UDP payloads and destination ports the guest sends.
    let guestSends: [(payload: [UInt8], port: UInt16)]
    /// For the harness's own tests: the guest gets a different key for its inbound SA than IPsecLab protects with,
    /// so every packet to the guest must be dropped and every comparison of them must disagree.
    var plantedKeyFault = false
    /// AH over IPv4 with an ICV that leaves the header a multiple of 4 but not 8 bytes (HMAC-SHA-256-128, -384-192,
    /// -512-256): Linux pads it to 8 unless the SA has `flag align4`. Set: the guest's SAs get the flag and must agree;
    /// clear: Linux's default, a documented difference (docs/linux-oracle.md).
    var align4 = false
    /// The crypto implementation of IPsecLab's SAs (`diff --backend`).
    var implementation: CryptoImplementation = .openSSL

    /// The implementation IPsecLab's SAs of this case really run on (libipsec-mb leaves what it lacks to OpenSSL).
    var cryptoImplementation: CryptoImplementation {
        (try? SecurityAssociation(toGuest, implementation: implementation).cryptoImplementation) ?? .openSSL
    }

    /// Whether Linux's default AH alignment applies to this case and differs from RFC 4302's for IPv4.
    var linuxAHPaddingDiffers: Bool {
        guard case .ah(let a) = algorithm, version == .v4, !align4 else { return false }
        return (12 + a.icvLength) % 8 != 0
    }

    static let shortESPInUDPv6Reference = "Linux 6.1 silently drops ESP in UDP over IPv6 when the UDP datagram is "
        + "shorter than 48 bytes: xfrm6_udp_encap_rcv compares skb->len, which starts at the UDP header, with the IPv6 "
        + "header length plus 8; no counter moves (RFC 3948 §3.2 sets no such minimum; docs/linux-oracle.md)"

    /// Whether `packet` (as sent to the guest) is ESP in UDP over IPv6 shorter than Linux's mistaken minimum.
    func isShortESPInUDPv6(_ packet: [UInt8]) -> Bool {
        natTraversal && version == .v6 && packet.count >= 46 && packet[6] == 17
            && (Int(packet[44]) << 8 | Int(packet[45])) < 48
    }

    static let ahPaddingReference = "Linux pads AH over IPv4 to a multiple of 8 bytes unless the SA has `flag align4` "
        + "(net/ipv4/ah4.c); RFC 4302 §2.2 and §3.3.3.2.1 want a multiple of 4 for IPv4, and IPsecLab refuses the "
        + "extra padding (docs/linux-oracle.md)"

    var modeName: String { toGuest.modeName }

    var algorithmName: String {
        var s = algorithm.description
        if esn { s += " esn" }
        if natTraversal { s += " nat-t" }
        if ipcomp { s += " ipcomp" }
        if align4 { s += " align4" }
        if innerVersion != version { s += innerVersion == .v4 ? " inner-ipv4" : " inner-ipv6" }
        return s
    }

    /// The mode-matrix cells every short campaign cycles through first, so that a few cases cover them all.
    static let cells: [(SAMode, String, IPVersion)] = {
        var list: [(SAMode, String, IPVersion)] = []
        for mode in [SAMode.transport, .tunnel] {
            for kind in ["esp", "esp-null", "ah"] {
                for v in [IPVersion.v4, .v6] { list.append((mode, kind, v)) }
            }
        }
        return list
    }()

    /// ESP suites with confidentiality that Linux names: every AEAD at every key size and ICV length, and every
    /// cipher with every integrity algorithm.
    static let confidentialSuites: [ESPAlgorithm] = {
        var list: [ESPAlgorithm] = []
        for bits in [128, 192, 256] {
            for icv in [8, 12, 16] {
                list += [try? ESPAlgorithm(encryption: .aesGCM(keyBits: bits, icvLength: icv)),
                         try? ESPAlgorithm(encryption: .aesCCM(keyBits: bits, icvLength: icv))].compactMap { $0 }
            }
        }
        list += [try? ESPAlgorithm(encryption: .chacha20Poly1305)].compactMap { $0 }
        let ciphers: [EncryptionAlgorithm] = [.aesCBC(keyBits: 128), .aesCBC(keyBits: 192), .aesCBC(keyBits: 256),
                                              .aesCTR(keyBits: 128), .aesCTR(keyBits: 192), .aesCTR(keyBits: 256),
                                              .tripleDESCBC]
        for c in ciphers {
            for i in integrities { list += [try? ESPAlgorithm(encryption: c, integrity: i)].compactMap { $0 } }
        }
        return list
    }()

    /// ESP without confidentiality: NULL encryption with every integrity algorithm, and AES-GMAC (RFC 4543).
    static let nullSuites: [ESPAlgorithm] = {
        var list = integrities.compactMap { try? ESPAlgorithm(encryption: .null, integrity: $0) }
        for bits in [128, 192, 256] {
            list += [try? ESPAlgorithm(encryption: .nullAuthAESGMAC(keyBits: bits))].compactMap { $0 }
        }
        return list
    }()

    static let integrities: [IntegrityAlgorithm] = [
        .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_96, .hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256, .aesXCBC96,
        .aesCMAC96,
    ]

    static let ahSuites: [AHAlgorithm] = integrities.compactMap { try? AHAlgorithm($0) }

    /// Case `index` of the campaign with `seed`: the same case on every machine and in every run.
    static func make(index: Int, seed: UInt64) -> LinuxCase {
        var r = DiffRandom(seed: seed, caseIndex: index)
        let (mode, kind, version) = cells[index % cells.count]
        let algorithm: SAAlgorithm
        switch kind {
        case "esp": algorithm = .esp(r.pick(confidentialSuites))
        case "esp-null": algorithm = .esp(r.pick(nullSuites))
        default: algorithm = .ah(r.pick(ahSuites))
        }
        let isESP = kind != "ah"
        let esn = r.chance(1, in: 4)
        let natTraversal = isESP && r.chance(1, in: 5)
        let ipcomp = isESP && !natTraversal && mode == .transport && r.chance(1, in: 5)

        func keys() -> ([UInt8], [UInt8]) {
            switch algorithm {
            case .esp(let a): (r.bytes(a.encryptionKeyLength), r.bytes(a.integrityKeyLength))
            case .ah(let a): ([], r.bytes(a.keyLength))
            }
        }
        let proto: IPsecProtocol = isESP ? .esp : .ah
        let (peer, guest) = (Topology.peer(version), Topology.guest(version))
        let window = esn ? 128 : 64
        // ESN cases start just below a 2^32 boundary, so the high word changes within the case (RFC 4303 §2.2.1).
        func start() -> UInt64 {
            esn ? UInt64(1 + r.below(3)) << 32 | UInt64(0xffff_fff0 + r.below(12)) : UInt64(r.below(1000))
        }
        let encap: UDPEncapsulationConfig? = natTraversal ? UDPEncapsulationConfig() : nil
        let (ek1, ik1) = keys()
        var toGuest = SAConfiguration(protocol: proto, spi: 0x1000 + UInt32(index % 0xffff) << 8 | 1, mode: mode,
                                      source: peer, destination: guest, algorithm: algorithm, encryptionKey: ek1,
                                      integrityKey: ik1, reqid: 1, extendedSequenceNumbers: esn,
                                      replayWindow: window, replaySequence: start(), encapsulation: encap)
        let (ek2, ik2) = keys()
        var toPeer = SAConfiguration(protocol: proto, spi: 0x1000 + UInt32(index % 0xffff) << 8 | 2, mode: mode,
                                     source: guest, destination: peer, algorithm: algorithm, encryptionKey: ek2,
                                     integrityKey: ik2, reqid: 2, extendedSequenceNumbers: esn,
                                     replayWindow: window, outboundSequence: start(), encapsulation: encap)
        // One tunnel case in four carries the other family (RFC 4301 §5.1.2 allows it; IPsecLab and Linux both do).
        let innerVersion = mode == .tunnel && r.chance(1, in: 4) ? (version == .v4 ? IPVersion.v6 : .v4) : version
        // A mixed-family tunnel SA names its traffic (`sel`): Linux takes a state's selector family for its inner
        // family and refuses other traffic (XfrmInStateMismatch) unless told.
        if innerVersion != version {
            let (a, b) = (Topology.peerInner(innerVersion), Topology.guestInner(innerVersion))
            let bits = innerVersion == .v4 ? 32 : 128
            toGuest.selector = TrafficSelector(source: IPPrefix(address: a, length: bits),
                                               destination: IPPrefix(address: b, length: bits))
            toPeer.selector = TrafficSelector(source: IPPrefix(address: b, length: bits),
                                              destination: IPPrefix(address: a, length: bits))
        }
        var compressions: [IPCompAssociation] = []
        if ipcomp {
            compressions = [IPCompAssociation(cpi: UInt16(0x100 + index % 0x1000), source: peer, destination: guest,
                                              reqid: 1),
                            IPCompAssociation(cpi: UInt16(0x2000 + index % 0x1000), source: guest, destination: peer,
                                              reqid: 2)]
        }
        let (from, to) = mode == .tunnel
            ? (Topology.peerInner(innerVersion), Topology.guestInner(innerVersion)) : (peer, guest)
        func host(_ a: IPAddress) -> AddressMatch { .prefix(IPPrefix(address: a, length: a.version == .v4 ? 32 : 128)!) }
        func templates(_ sa: SAConfiguration) -> [SATemplate] {
            var t: [SATemplate] = []
            if ipcomp {
                t.append(SATemplate(protocol: .ipcomp, mode: .transport, source: sa.source, destination: sa.destination,
                                    reqid: sa.reqid, optional: true))
            }
            t.append(SATemplate(protocol: proto == .esp ? .esp : .ah, mode: mode, source: sa.source,
                                destination: sa.destination, reqid: sa.reqid))
            return t
        }
        let policies = [
            SecurityPolicy(direction: .outbound, selector: PolicySelector(source: host(to), destination: host(from)),
                           action: .protect(templates(toPeer))),
            SecurityPolicy(direction: .inbound, selector: PolicySelector(source: host(from), destination: host(to)),
                           action: .protect(templates(toGuest))),
        ]

        func payload(_ n: Int) -> [UInt8] {
            // IPComp only compresses what shrinks: give those cases long, repetitive payloads.
            ipcomp ? (0..<(200 + r.below(400))).map { UInt8(($0 / 7) % 5) + 0x61 } : r.bytes(n)
        }
        var plaintexts: [[UInt8]] = []
        for _ in 0..<3 {
            let sport = UInt16(10000 + r.below(50000))
            plaintexts.append(UDPPacket.build(version: innerVersion, source: from, destination: to, sourcePort: sport,
                                              destinationPort: Topology.guestPort, payload: payload(r.below(200)),
                                              hopLimit: UInt8(16 + r.below(200))))
        }
        var mutations: [LinuxMutation] = []
        for _ in 0..<2 { mutations.append(r.pick(LinuxMutation.allCases)) }
        var sends: [(payload: [UInt8], port: UInt16)] = []
        for _ in 0..<2 { sends.append((payload(1 + r.below(200)), UInt16(5000 + r.below(1000)))) }
        var c = LinuxCase(index: index, version: version, innerVersion: innerVersion, mode: mode, algorithm: algorithm, esn: esn,
                          natTraversal: natTraversal, ipcomp: ipcomp, toGuest: toGuest, toPeer: toPeer,
                          compressions: compressions, guestPolicies: policies, plaintexts: plaintexts,
                          mutations: mutations, guestSends: sends)
        c.align4 = !isESP && version == .v4 && r.chance(1, in: 2)
        return c
    }

    /// The guest's side as an SA file, turned into `ip xfrm` commands by IPsecConfig (the same writer `export`
    /// uses): states, IPComp states, then policies.
    func guestCommands() throws(ConfigError) -> [String] {
        var guestInbound = toGuest
        if plantedKeyFault {
            if guestInbound.integrityKey.isEmpty { guestInbound.encryptionKey[0] ^= 1 } else { guestInbound.integrityKey[0] ^= 1 }
        }
        let file = SAFile(associations: [guestInbound, toPeer], policies: guestPolicies, compressions: compressions,
                          format: .ipXfrmCommands)
        return try file.ipXfrmCommands().split(separator: "\n").map {
            // The agent runs `ip -batch`, which takes the arguments after `ip`.
            var line = String($0.hasPrefix("ip ") ? $0.dropFirst(3) : $0[...])
            if align4 && line.hasPrefix("xfrm state add") && line.contains(" proto ah ") { line += " flag align4" }
            return line
        }
    }

    /// IPsecLab as the peer that sends to the guest: the guest's inbound SA, its sequence counter where the guest's
    /// replay state starts, and the guest's `in` policy turned outbound.
    func peerSender() throws(CoreError) -> IPsecNode {
        var sending = toGuest
        sending.outboundSequence = toGuest.replaySequence
        sending.replaySequence = 0
        let sad = SADatabase()
        try sad.add(SecurityAssociation(sending, implementation: implementation))
        var policy = guestPolicies[1]
        policy.direction = .outbound
        return IPsecNode(sad: sad, policies: [policy], compressions: compressions)
    }

    /// IPsecLab in the guest's place, to predict what the guest's kernel must do with each packet sent to it.
    func guestMirror() throws(CoreError) -> IPsecNode {
        let sad = SADatabase()
        try sad.add(SecurityAssociation(toGuest, implementation: implementation))
        return IPsecNode(sad: sad, policies: [guestPolicies[1]], compressions: compressions)
    }

    /// IPsecLab as the peer that receives what the guest's kernel protected.
    func peerReceiver() throws(CoreError) -> IPsecNode {
        var receiving = toPeer
        receiving.replaySequence = toPeer.outboundSequence
        receiving.outboundSequence = 0
        let sad = SADatabase()
        try sad.add(SecurityAssociation(receiving, implementation: implementation))
        var policy = guestPolicies[0]
        policy.direction = .inbound
        return IPsecNode(sad: sad, policies: [policy], compressions: compressions)
    }
}

/// UDP datagrams in IPv4 or IPv6, checksums right.
enum UDPPacket {
    static func build(version: IPVersion, source: IPAddress, destination: IPAddress, sourcePort: UInt16,
                      destinationPort: UInt16, payload: [UInt8], hopLimit: UInt8) -> [UInt8] {
        let n = 8 + payload.count
        var udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8),
                            UInt8(destinationPort & 0xff), UInt8(n >> 8), UInt8(n & 0xff), 0, 0] + payload
        var sum = InternetChecksum()
        sum.add(source.bytes)
        sum.add(destination.bytes)
        if version == .v4 {
            sum.add(UInt16(17))
            sum.add(UInt16(n))
        } else {
            sum.add(UInt32(n))
            sum.add(UInt32(17))
        }
        sum.add(udp)
        let c = sum.value == 0 ? 0xffff : sum.value
        udp[6] = UInt8(c >> 8)
        udp[7] = UInt8(c & 0xff)
        switch version {
        case .v4:
            let total = 20 + n
            var h: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0x12, 0x34, 0x40, 0, hopLimit, 17, 0, 0]
                + source.bytes + destination.bytes
            let hc = InternetChecksum.compute(h[...])
            h[10] = UInt8(hc >> 8)
            h[11] = UInt8(hc & 0xff)
            return h + udp
        case .v6:
            return [0x60, 0, 0, 0, UInt8(n >> 8), UInt8(n & 0xff), 17, hopLimit] + source.bytes + destination.bytes
                + udp
        }
    }

    /// The meaning of an IP packet carrying UDP: addresses, ports and payload; nil for anything else.
    struct Meaning: Equatable, CustomStringConvertible {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
        var payload: [UInt8]

        var description: String {
            "\(source).\(sourcePort) > \(destination).\(destinationPort) UDP \(payload.count) bytes"
        }
    }

    static func meaning(ofPacket p: [UInt8]) -> Meaning? {
        guard let first = p.first else { return nil }
        if first >> 4 == 4 {
            guard p.count >= 20 else { return nil }
            let ihl = Int(first & 0x0f) * 4
            guard p[9] == 17, p.count >= ihl + 8, ihl >= 20,
                  let s = IPv4Address(p[12..<16].map { String($0) }.joined(separator: ".")),
                  let d = IPv4Address(p[16..<20].map { String($0) }.joined(separator: ".")) else { return nil }
            return meaning(source: .v4(s), destination: .v4(d), udp: Array(p[ihl...]))
        }
        guard first >> 4 == 6, p.count >= 48, p[6] == 17, let s = IPv6Address(bytes: p[8..<24]),
              let d = IPv6Address(bytes: p[24..<40]) else { return nil }
        return meaning(source: .v6(s), destination: .v6(d), udp: Array(p[40...]))
    }

    static func meaning(source: IPAddress, destination: IPAddress, udp: [UInt8]) -> Meaning? {
        guard udp.count >= 8 else { return nil }
        let length = Int(udp[4]) << 8 | Int(udp[5])
        guard length >= 8, length <= udp.count else { return nil }
        return Meaning(source: source, destination: destination, sourcePort: UInt16(udp[0]) << 8 | UInt16(udp[1]),
                       destinationPort: UInt16(udp[2]) << 8 | UInt16(udp[3]), payload: Array(udp[8..<length]))
    }
}
