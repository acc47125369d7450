import IPsecCrypto
import IPsecWire

/// The outbound path: an IP packet in, the protected packet out.
public enum Outbound {
    /// Protects `packet` with `sa` in the SA's mode and writes the result to `out` (replacing its contents).
    ///
    /// Transport mode inserts ESP or AH after the IP header (IPv6: after the extension headers that must precede it)
    /// and refuses fragments (RFC 4301 §7: IPsec applies before fragmentation). Tunnel mode wraps the whole packet in
    /// an outer header built per RFC 4301 §5.1.2.
    public static func protect(_ packet: ArraySlice<UInt8>, with sa: SecurityAssociation,
                               into out: inout [UInt8]) throws(CoreError) {
        out.removeAll(keepingCapacity: true)
        let config = sa.configuration
        guard config.lifetime.allows(packets: UInt64(sa.counters.protectedPackets),
                                     usedBytes: UInt64(sa.counters.protectedPayloadBytes)) else {
            throw CoreError(.lifetime, "SA spi 0x\(String(config.spi, radix: 16)) has reached its hard lifetime "
                            + "(\(config.lifetime)); RFC 4301 §4.4.2.1 requires a new SA")
        }
        let payloadBytes = packet.count
        defer {
            if !out.isEmpty {
                sa.counters.protectedPayloadBytes += payloadBytes
                if config.lifetime.softReached(packets: UInt64(sa.counters.protectedPackets),
                                               usedBytes: UInt64(sa.counters.protectedPayloadBytes)) {
                    sa.counters.softLifetimeReached = true
                }
            }
        }
        switch config.mode {
        case .transport:
            let layout: PacketLayout
            do { layout = try PacketLayout.transport(packet) } catch { throw CoreError.badPacket(error) }
            guard !layout.isFragment else {
                throw CoreError(.unsupported, "transport mode cannot protect an IP fragment (RFC 4301 §7)")
            }
            guard layout.version == config.destination.version else {
                throw CoreError(.unsupported, "an \(layout.version) packet cannot use an \(config.destination.version) "
                                + "transport-mode SA")
            }
            let base = packet.startIndex
            let header = packet[base..<(base + layout.headerEnd)]
            let payload = packet[(base + layout.headerEnd)..<(base + layout.packetLength)]
            out.append(contentsOf: header)
            out[layout.nextHeaderOffset] = config.protocol.ipProtocol.rawValue
            switch config.protocol {
            case .esp:
                try ESPCodec.seal(payload, nextHeader: layout.nextHeader, sa: sa, into: &out)
                PacketLayout.fixLengths(&out)
                if config.encapsulation != nil {
                    try encapsulateInUDP(&out, headerEnd: layout.headerEnd, nextHeaderOffset: layout.nextHeaderOffset,
                                         config: config)
                }
            case .ah:
                let sequence = try sa.nextSequence()
                let icv = try AHCodec.appendHeader(nextHeader: layout.nextHeader, sequence: sequence, sa: sa,
                                                   version: layout.version, into: &out)
                out.append(contentsOf: payload)
                PacketLayout.fixLengths(&out)
                try AHCodec.sign(&out, headerEnd: layout.headerEnd, icv: icv, sequence: sequence, sa: sa)
            }
        case .tunnel, .tunnelHC:
            let inner: TunnelHeader.InnerFields
            let innerPacket: ArraySlice<UInt8>
            do {
                inner = try TunnelHeader.innerFields(packet)
                let layout = try PacketLayout.inbound(packet)
                innerPacket = packet.prefix(layout.packetLength)
            } catch {
                throw CoreError.badPacket(error)
            }
            let innerProtocol: IPProtocol = inner.version == .v4 ? .ipv4 : .ipv6
            if config.mode == .tunnelHC, config.protocol == .esp, let fields = config.headerCompression,
               let compressed = HeaderCompression.compress(innerPacket, fields: fields, source: config.source,
                                                           destination: config.destination) {
                try TunnelHeader.append(for: sa, inner: inner, protocol: .esp, identification: compressed.identification,
                                        into: &out)
                let values: HeaderCompression.OuterValues
                do { values = try HeaderCompression.OuterValues(outer: out[...]) } catch { throw CoreError.badPacket(error) }
                try ESPCodec.seal(compressed.payload, nextHeader: compressed.innerProtocol, sa: sa,
                                  spi: config.spi | HeaderCompression.indicator,
                                  extra: values.authenticatedData(fields), residual: compressed.residual, into: &out)
                PacketLayout.fixLengths(&out)
                if config.encapsulation != nil {
                    let end = config.destination.version == .v4 ? 20 : 40
                    try encapsulateInUDP(&out, headerEnd: end, nextHeaderOffset: end == 20 ? 9 : 6, config: config)
                }
                sa.counters.protectedPackets += 1
                sa.counters.protectedBytes += out.count
                return
            }
            try TunnelHeader.append(for: sa, inner: inner, protocol: config.protocol.ipProtocol, into: &out)
            let headerEnd = out.count
            switch config.protocol {
            case .esp:
                if config.tfcPadding > innerPacket.count {
                    // TFC padding (RFC 4303 §2.4): the inner packet's own length tells the receiver where it ends.
                    var padded = Array(innerPacket)
                    padded.append(contentsOf: repeatElement(0, count: config.tfcPadding - innerPacket.count))
                    try ESPCodec.seal(padded, nextHeader: innerProtocol, sa: sa, into: &out)
                } else {
                    try ESPCodec.seal(innerPacket, nextHeader: innerProtocol, sa: sa, into: &out)
                }
                PacketLayout.fixLengths(&out)
                if config.encapsulation != nil {
                    try encapsulateInUDP(&out, headerEnd: headerEnd, nextHeaderOffset: headerEnd == 20 ? 9 : 6,
                                         config: config)
                }
            case .ah:
                let sequence = try sa.nextSequence()
                let icv = try AHCodec.appendHeader(nextHeader: innerProtocol, sequence: sequence, sa: sa,
                                                   version: config.destination.version, into: &out)
                out.append(contentsOf: innerPacket)
                PacketLayout.fixLengths(&out)
                try AHCodec.sign(&out, headerEnd: headerEnd, icv: icv, sequence: sequence, sa: sa)
            }
        }
        guard out.count <= (config.destination.version == .v4 ? 65535 : 65535 + 40) else {
            throw CoreError(.unsupported, "the protected packet would exceed the IP length limit")
        }
        sa.counters.protectedPackets += 1
        sa.counters.protectedBytes += out.count
    }

    /// A dummy packet (RFC 4303 §2.6): next header 59, `length` bytes of payload, in the SA's mode. The receiver
    /// verifies and discards it; it hides when real traffic flows.
    public static func dummy(length: Int, with sa: SecurityAssociation, into out: inout [UInt8]) throws(CoreError) {
        out.removeAll(keepingCapacity: true)
        let config = sa.configuration
        guard config.protocol == .esp, config.mode != .transport else {
            throw CoreError(.unsupported, "dummy packets need a tunnel-mode ESP SA")
        }
        let inner = TunnelHeader.InnerFields(dscp: 0, ecn: 0, dontFragment: false, flowLabel: 0,
                                             version: config.destination.version)
        try TunnelHeader.append(for: sa, inner: inner, protocol: .esp, into: &out)
        let headerEnd = out.count
        try ESPCodec.seal(repeatElement(UInt8(0), count: max(0, length)), nextHeader: .noNextHeader, sa: sa, into: &out)
        PacketLayout.fixLengths(&out)
        if config.encapsulation != nil {
            try encapsulateInUDP(&out, headerEnd: headerEnd, nextHeaderOffset: headerEnd == 20 ? 9 : 6, config: config)
        }
        sa.counters.dummyPacketsSent += 1
    }

    /// Inserts the RFC 3948 UDP header between the IP header chain (ending at `headerEnd`) and ESP. The UDP checksum
    /// is zero over IPv4 (RFC 3948 §2.1) and computed over IPv6, where a zero checksum is not allowed (RFC 8200 §8.1).
    static func encapsulateInUDP(_ out: inout [UInt8], headerEnd: Int, nextHeaderOffset: Int,
                                 config: SAConfiguration) throws(CoreError) {
        guard let encapsulation = config.encapsulation else { return }
        let espLength = out.count - headerEnd
        guard espLength + 8 <= 65535 else { throw CoreError(.unsupported, "the UDP-encapsulated packet is too long") }
        var udp = UDPHeader(sourcePort: encapsulation.sourcePort, destinationPort: encapsulation.destinationPort,
                            length: UInt16(espLength + 8))
        if case let .v6(s) = config.source, case let .v6(d) = config.destination {
            udp.checksum = udp.computeChecksum(payload: out[headerEnd...],
                                               pseudoHeader: .ipv6(source: s, destination: d, nextHeader: .udp,
                                                                   length: UInt32(udp.length)))
        }
        let header: [UInt8]
        do { header = try udp.serialized() } catch { throw CoreError.badPacket(error) }
        out.insert(contentsOf: header, at: headerEnd)
        out[nextHeaderOffset] = IPProtocol.udp.rawValue
        PacketLayout.fixLengths(&out)
    }
}

/// What the inbound path made of a packet.
public struct InboundResult: Sendable {
    public var verdict: InboundVerdict
    /// The SA's SPI and protocol, when the packet carried an IPsec header.
    public var spi: UInt32?
    public var `protocol`: IPsecProtocol?
    /// The full (ESN-inferred) sequence number, once the ICV verified.
    public var sequence: UInt64?
    /// The mode the packet was opened in.
    public var mode: SAMode?
    /// Whether ESP arrived in UDP (RFC 3948).
    public var udpEncapsulated = false
    /// The SA's cell of the mode matrix (`tunnel-esp-null`, `transport-ah`, …).
    public var modeName: String?
    /// Confidentiality-only ESP (no ICV): RFC 4303 allows it, but nothing protects such packets from forgery, so every
    /// report marks them insecure.
    public var insecure = false

    public init(verdict: InboundVerdict, spi: UInt32? = nil, protocol: IPsecProtocol? = nil,
                sequence: UInt64? = nil, mode: SAMode? = nil) {
        self.verdict = verdict
        self.spi = spi
        self.protocol = `protocol`
        self.sequence = sequence
        self.mode = mode
    }
}

/// The inbound path: SA lookup → ICV verified before decryption → decrypt → strict padding check → mode
/// decapsulation → selector check on the inner packet. Nothing here throws: every failure is a typed drop.
public enum Inbound {
    /// Opens `packet` with the SA the database holds for it and writes the packet that was protected to `out`
    /// (transport: the IP header rebuilt with the right protocol, length and checksum; tunnel: the inner packet).
    public static func unprotect(_ packet: ArraySlice<UInt8>, sad: SADatabase, into out: inout [UInt8],
                                 scratch: inout [UInt8]) -> InboundResult {
        out.removeAll(keepingCapacity: true)
        guard let layout = try? PacketLayout.inbound(packet) else { return InboundResult(verdict: .dropped(.malformed)) }
        // IP discards an IPv4 header whose checksum fails before IPsec sees it (RFC 1122 §3.2.1.2).
        if layout.version == .v4, !Self.ipv4HeaderChecksumHolds(packet) {
            return InboundResult(verdict: .dropped(.malformed))
        }
        let proto: IPsecProtocol
        // Where the ESP or AH header starts: right after the IP header chain, or after a UDP header (RFC 3948).
        var ipsecStart = layout.headerEnd
        var udpEncapsulated = false
        switch layout.nextHeader {
        case .esp: proto = .esp
        case .ah: proto = .ah
        case .udp:
            guard let encapsulated = udpEncapsulatedESP(packet.prefix(layout.packetLength), layout: layout, sad: sad)
            else { return InboundResult(verdict: .dropped(.notIPsec)) }
            proto = .esp
            ipsecStart = encapsulated
            udpEncapsulated = true
        default: return InboundResult(verdict: .dropped(.notIPsec))
        }
        // IPsec works on whole packets (RFC 4301 §7); reassembly is not IPsecLab's job.
        guard !layout.isFragment else { return InboundResult(verdict: .dropped(.fragment), protocol: proto) }
        let whole = packet.prefix(layout.packetLength)
        let base = whole.startIndex
        let ipsec = whole[(base + ipsecStart)...]
        // The fixed part of the header must be there before any field of it is read: 8 bytes of ESP header, 12 of AH.
        guard ipsec.count >= (proto == .esp ? ESPPacket.headerLength : AHPacket.icvOffset) else {
            return InboundResult(verdict: .dropped(.malformed), protocol: proto)
        }
        let spi = proto == .esp ? ipsec.wireUInt32(at: 0) : ipsec.wireUInt32(at: 4)
        guard let sa = sad.lookup(spi: spi, destination: layout.destination, protocol: proto) else {
            return InboundResult(verdict: .dropped(.noSA), spi: spi, protocol: proto)
        }
        var result = InboundResult(verdict: .accepted, spi: spi, protocol: proto, mode: sa.configuration.mode)
        result.modeName = sa.configuration.modeName
        if case .esp(let a) = sa.configuration.algorithm, a.isConfidentialityOnly { result.insecure = true }
        // ESP in UDP only for an SA configured for it, and plain ESP only for one that is not (Linux checks the same).
        guard udpEncapsulated == (sa.configuration.encapsulation != nil) else {
            result.verdict = .dropped(.policy)
            sa.counters.drop(.policy)
            return result
        }
        result.udpEncapsulated = udpEncapsulated
        let verdict: InboundVerdict
        switch proto {
        case .esp:
            verdict = openESP(whole, layout: layout, espStart: ipsecStart, sa: sa, result: &result, out: &out,
                              scratch: &scratch)
        case .ah:
            verdict = openAH(whole, layout: layout, sa: sa, result: &result, out: &out)
        }
        result.verdict = verdict
        switch verdict {
        case .accepted:
            sa.counters.acceptedPackets += 1
            sa.counters.acceptedBytes += out.count
            if sa.configuration.lifetime.softReached(packets: UInt64(sa.counters.acceptedPackets),
                                                     usedBytes: UInt64(sa.counters.acceptedBytes)) {
                sa.counters.softLifetimeReached = true
            }
        case .dropped(let reason):
            sa.counters.drop(reason)
            out.removeAll(keepingCapacity: true)
        }
        return result
    }

    /// Whether the IPv4 header at the start of `packet` (whose length the layout has checked) sums to zero, summed
    /// from the bytes in place (the generic checksum entry point costs more than the 20 bytes it sums).
    static func ipv4HeaderChecksumHolds(_ packet: ArraySlice<UInt8>) -> Bool {
        let ihl = Int(packet[packet.startIndex] & 0x0f) * 4
        return packet.withUnsafeBytes { bytes in
            var sum = InternetChecksum()
            sum.add(contiguous: UnsafeRawBufferPointer(rebasing: bytes[0..<min(ihl, bytes.count)]))
            return sum.value == 0
        }
    }

    /// The offset of ESP inside a UDP datagram on an encapsulation port (RFC 3948 §2.1), or nil for a
    /// NAT-keepalive, an IKE message behind the non-ESP marker, or other UDP.
    private static func udpEncapsulatedESP(_ packet: ArraySlice<UInt8>, layout: PacketLayout,
                                           sad: SADatabase) -> Int? {
        let base = packet.startIndex
        guard let udp = try? UDPDatagram(packet[(base + layout.headerEnd)...]) else { return nil }
        let ports = sad.encapsulationPorts
        guard udp.destinationPort == UDPEncapsulation.port || udp.sourcePort == UDPEncapsulation.port
                || ports.contains(udp.destinationPort) else { return nil }
        guard case .esp = try? UDPEncapsulation.classify(udp.payload) else { return nil }
        return layout.headerEnd + UDPDatagram.headerLength
    }

    private static func openESP(_ packet: ArraySlice<UInt8>, layout: PacketLayout, espStart: Int,
                                sa: SecurityAssociation, result: inout InboundResult, out: inout [UInt8],
                                scratch: inout [UInt8]) -> InboundVerdict {
        let base = packet.startIndex
        let esp = packet[(base + espStart)...]
        // The compressed form of a tunnel-hc SA: its SPI carries the indicator bit (docs/header-compression.md §2).
        let compressed = sa.configuration.mode == .tunnelHC && esp.wireUInt32(at: 0) != sa.configuration.spi
        var extra = ESPAssociatedData.Extra()
        var outerValues: HeaderCompression.OuterValues?
        if compressed {
            guard let fields = sa.configuration.headerCompression,
                  let values = try? HeaderCompression.OuterValues(outer: packet) else { return .dropped(.malformed) }
            extra = values.authenticatedData(fields)
            outerValues = values
        }
        // Replay check before any crypto (RFC 4303 §3.4.3); the window moves only after the ICV verified.
        let sequence = sa.inferSequence(low: esp.wireUInt32(at: 4))
        guard sa.replay.check(sequence) else { return .dropped(.replay) }
        guard sa.configuration.lifetime.allows(packets: UInt64(sa.counters.acceptedPackets),
                                               usedBytes: UInt64(sa.counters.acceptedBytes)) else {
            return .dropped(.lifetime)
        }
        let opened: ESPCodec.Opened
        switch ESPCodec.open(esp, sa: sa, sequence: sequence, extra: extra, scratch: &scratch) {
        case .failure(let reason): return .dropped(reason)
        case .success(let o): opened = o
        }
        result.sequence = opened.sequence
        // RFC 4303 §2.6: dummy packets are discarded quietly, after the ICV (so they are authentic). In the compressed
        // form the next-header field carries the inner protocol, where 59 is an inner packet's own value, not a dummy.
        if opened.nextHeader == .noNextHeader, outerValues == nil {
            sa.accept(sequence: opened.sequence)
            return .dropped(.dummy)
        }
        let payload = scratch[opened.payload]
        if let outerValues, let fields = sa.configuration.headerCompression {
            guard HeaderCompression.decompress(payload, innerProtocol: opened.nextHeader, fields: fields,
                                               outer: outerValues, into: &out) else {
                return .dropped(.malformed)
            }
            if let selector = sa.configuration.selector, !selector.matches(out[...]) { return .dropped(.policy) }
            sa.accept(sequence: opened.sequence)
            return .accepted
        }
        let verdict = decapsulate(payload, nextHeader: opened.nextHeader, header: packet[base..<(base + layout.headerEnd)],
                                  layout: layout, sa: sa, out: &out)
        // RFC 3948 §3.1.2: in transport mode the inner TCP/UDP checksum still covers the addresses the sender saw,
        // which a NAT has rewritten; recompute it over the addresses the packet now carries.
        if verdict == .accepted, espStart != layout.headerEnd, sa.configuration.mode == .transport {
            fixTransportChecksum(&out)
        }
        if verdict == .accepted { sa.accept(sequence: opened.sequence) }
        return verdict
    }

    private static func openAH(_ packet: ArraySlice<UInt8>, layout: PacketLayout, sa: SecurityAssociation,
                               result: inout InboundResult, out: inout [UInt8]) -> InboundVerdict {
        let base = packet.startIndex
        let low = packet.wireUInt32(at: layout.headerEnd + 8)
        let sequence = sa.inferSequence(low: low)
        guard sa.replay.check(sequence) else { return .dropped(.replay) }
        guard sa.configuration.lifetime.allows(packets: UInt64(sa.counters.acceptedPackets),
                                               usedBytes: UInt64(sa.counters.acceptedBytes)) else {
            return .dropped(.lifetime)
        }
        let view: AHPacket
        switch AHCodec.verify(packet, headerEnd: layout.headerEnd, sequence: sequence, sa: sa) {
        case .failure(let reason): return .dropped(reason)
        case .success(let v): view = v
        }
        result.sequence = sequence
        let verdict = decapsulate(view.payload, nextHeader: view.nextHeader,
                                  header: packet[base..<(base + layout.headerEnd)], layout: layout, sa: sa, out: &out)
        if verdict == .accepted { sa.accept(sequence: sequence) }
        return verdict
    }

    /// Rebuilds the packet that was protected from the opened payload.
    private static func decapsulate(_ payload: ArraySlice<UInt8>, nextHeader: IPProtocol, header: ArraySlice<UInt8>,
                                    layout: PacketLayout, sa: SecurityAssociation,
                                    out: inout [UInt8]) -> InboundVerdict {
        switch sa.configuration.mode {
        case .transport:
            // The payload must not be a tunnelled packet on a transport SA, nor an IPsec header looping back.
            out.append(contentsOf: header)
            out[layout.nextHeaderOffset] = nextHeader.rawValue
            out.append(contentsOf: payload)
            PacketLayout.fixLengths(&out)
        case .tunnel, .tunnelHC:
            guard nextHeader == .ipv4 || nextHeader == .ipv6 else { return .dropped(.nextHeader) }
            // The inner packet must parse and be of the announced version. Bytes after it are TFC padding
            // (RFC 4303 §2.4): the inner header's length says where the packet ends.
            guard let first = payload.first, (first >> 4 == 4) == (nextHeader == .ipv4),
                  let inner = try? PacketLayout.inbound(payload), inner.packetLength <= payload.count else {
                return .dropped(.nextHeader)
            }
            out.append(contentsOf: payload.prefix(inner.packetLength))
        }
        if let selector = sa.configuration.selector, !selector.matches(out[...]) {
            return .dropped(.policy)
        }
        return .accepted
    }
}

extension Inbound {
    /// Recomputes the TCP or UDP checksum of the IP packet in `packet` (a zero UDP checksum over IPv4 stays zero).
    static func fixTransportChecksum(_ packet: inout [UInt8]) {
        guard let layout = try? PacketLayout.transport(packet[...]), !layout.isFragment else { return }
        let start = layout.headerEnd
        let end = layout.packetLength
        guard end <= packet.count else { return }
        let ph: (IPProtocol, Int) -> PseudoHeader = { proto, length in
            switch (layout.source, layout.destination) {
            case let (.v4(s), .v4(d)): .ipv4(source: s, destination: d, protocol: proto, length: UInt16(length))
            case let (.v6(s), .v6(d)): .ipv6(source: s, destination: d, nextHeader: proto, length: UInt32(length))
            default: .ipv4(source: IPv4Address(rawValue: 0), destination: IPv4Address(rawValue: 0), protocol: proto,
                           length: 0)
            }
        }
        switch layout.nextHeader {
        case .udp where end - start >= 8:
            let old = packet[start...].wireUInt16(at: 6)
            if old == 0, layout.version == .v4 { return }
            packet[start...].setWireUInt16(0, at: 6)
            var sum = ph(.udp, end - start).checksum(over: packet[start..<end])
            if sum == 0 { sum = 0xffff }
            packet[start...].setWireUInt16(sum, at: 6)
        case .tcp where end - start >= 20:
            packet[start...].setWireUInt16(0, at: 16)
            packet[start...].setWireUInt16(ph(.tcp, end - start).checksum(over: packet[start..<end]), at: 16)
        default:
            break
        }
    }
}

extension TrafficSelector {
    /// Whether the packet's addresses, protocol and ports fall within the selector.
    public func matches(_ packet: ArraySlice<UInt8>) -> Bool {
        let d = Dissector.dissect(ipPacket: packet)
        var src: IPAddress?, dst: IPAddress?, proto: IPProtocol?, sport: UInt16?, dport: UInt16?
        for layer in d.layers {
            switch layer.layer {
            case let .ipv4(h, _):
                if src == nil { src = .v4(h.source); dst = .v4(h.destination); proto = h.protocol }
            case let .ipv6(h):
                if src == nil { src = .v6(h.source); dst = .v6(h.destination); proto = h.nextHeader }
            case .ipv6Extension(let e):
                proto = e.nextHeader
            case let .udp(h, _):
                sport = h.sourcePort; dport = h.destinationPort
            case let .tcp(h, _):
                sport = h.sourcePort; dport = h.destinationPort
            default:
                break
            }
        }
        if let source, !(src.map { source.contains($0) } ?? false) { return false }
        if let destination, !(dst.map { destination.contains($0) } ?? false) { return false }
        if let p = self.protocol, p != proto { return false }
        if let sourcePort, sourcePort != sport { return false }
        if let destinationPort, destinationPort != dport { return false }
        return true
    }
}
