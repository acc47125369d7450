import IPsecCrypto
import IPsecWire

/// The header-compressed tunnel of Ferguson and Schneier, as specified in docs/header-compression.md.
///
/// A `tunnel-hc` SA owns two SPIs: its own (top bit clear) for ordinary tunnel ESP, and the same value with the top
/// bit set for compressed packets. The bit is sent in clear and authenticated (ESP authenticates the SPI), so the
/// receiver knows which form arrived before it verifies anything, and flipping it breaks the ICV.
///
/// A compressed packet carries, in place of the inner IP header, a residual block holding the inner fields that are
/// neither in X nor derivable; the ESP next-header field carries the inner protocol. The elided values — taken from
/// the outer header — are authenticated as additional data appended to the ICV input (AEAD: to the AAD), together
/// with the inner IP version and the field set, so a packet compressed under one X cannot be accepted under another.
public enum HeaderCompression {
    /// The SPI bit that marks the compressed form.
    public static let indicator: UInt32 = 0x8000_0000

    /// The residual block's length for `fields` and inner `version` (docs/header-compression.md §3).
    public static func residualLength(fields: HeaderCompressionFields, version: IPVersion) -> Int {
        switch version {
        case .v4:
            return 1 + (fields.contains(.identification) ? 0 : 2) + (fields.contains(.dontFragment) ? 0 : 2) + 1
                + (fields.contains(.source) ? 0 : 4) + (fields.contains(.destination) ? 0 : 4)
        case .v6:
            return (fields.contains(.dscp) ? 3 : 4) + 1 + (fields.contains(.source) ? 0 : 16)
                + (fields.contains(.destination) ? 0 : 16)
        }
    }

    /// The values of the elided fields as the outer header carries them, in the canonical order, preceded by the
    /// inner version and the field set: the additional authenticated data of a compressed packet. Held inline (no
    /// arrays), so that compressing and rebuilding allocate nothing per packet.
    struct OuterValues {
        var version: IPVersion
        var source: IPAddress
        var destination: IPAddress
        var dscp: UInt8
        var identification: UInt16
        var dontFragment: Bool

        /// Reads the fixed header at the start of `outer` (whose length fields may not be set yet, on the sending
        /// side); the caller has checked that the fixed header is there.
        init(outer: ArraySlice<UInt8>) throws {
            guard let first = outer.first else { throw WireError.truncated("IP", need: 1, have: 0) }
            if first >> 4 == 4 {
                guard outer.count >= 20 else { throw WireError.truncated("IPv4", need: 20, have: outer.count) }
                version = .v4
                source = .v4(IPv4Address(rawValue: outer.wireUInt32(at: 12)))
                destination = .v4(IPv4Address(rawValue: outer.wireUInt32(at: 16)))
                dscp = outer.wireUInt8(at: 1) >> 2
                identification = outer.wireUInt16(at: 4)
                dontFragment = outer.wireUInt8(at: 6) & 0x40 != 0
            } else {
                guard outer.count >= 40 else { throw WireError.truncated("IPv6", need: 40, have: outer.count) }
                version = .v6
                source = .v6(Self.ipv6(outer, at: 8))
                destination = .v6(Self.ipv6(outer, at: 24))
                dscp = UInt8(truncatingIfNeeded: outer.wireUInt16(at: 0) >> 6) & 0x3f
                identification = 0
                dontFragment = false
            }
        }

        private static func ipv6(_ bytes: ArraySlice<UInt8>, at offset: Int) -> IPv6Address {
            func word(_ o: Int) -> UInt64 {
                UInt64(bytes.wireUInt32(at: offset + o)) << 32 | UInt64(bytes.wireUInt32(at: offset + o + 4))
            }
            return IPv6Address(high: word(0), low: word(8))
        }

        func authenticatedData(_ fields: HeaderCompressionFields) -> ESPAssociatedData.Extra {
            // At most 2 + 16 + 16 + 1 = 35 bytes, within Extra's 64: the appends cannot fail.
            var out = ESPAssociatedData.Extra()
            out.appendByte(version.rawValue)
            out.appendByte(fields.rawValue)
            if fields.contains(.source) { out.appendAddress(source) }
            if fields.contains(.destination) { out.appendAddress(destination) }
            if fields.contains(.dscp) { out.appendByte(dscp) }
            if fields.contains(.identification) {
                out.appendByte(UInt8(identification >> 8))
                out.appendByte(UInt8(identification & 0xff))
            }
            if fields.contains(.dontFragment) { out.appendByte(dontFragment ? 1 : 0) }
            return out
        }
    }

    /// What the sender needs to compress one inner packet.
    struct Compressed {
        /// The residual block (at most 37 bytes, held inline); the inner payload follows it in the ESP payload.
        var residual: ESPAssociatedData.Extra
        /// Everything after the inner fixed header.
        var payload: ArraySlice<UInt8>
        var innerProtocol: IPProtocol
        /// The outer identification to use (the inner one when identification is elided).
        var identification: UInt16?
    }

    /// Compresses `inner` for an SA with tunnel endpoints `source`/`destination`, or returns nil when the packet does
    /// not qualify (§4: another IP version than the tunnel's, IPv4 options, a fragment when DF is elided, addresses
    /// that differ from the endpoints when they are elided).
    static func compress(_ inner: ArraySlice<UInt8>, fields: HeaderCompressionFields, source: IPAddress,
                         destination: IPAddress) -> Compressed? {
        guard let first = inner.first else { return nil }
        var residual = ESPAssociatedData.Extra()
        if first >> 4 == 4 {
            guard case .v4(let s) = source, case .v4(let d) = destination,
                  let v = try? IPv4Packet(inner), v.headerLength == 20 else { return nil }
            if fields.contains(.source), v.source != s { return nil }
            if fields.contains(.destination), v.destination != d { return nil }
            if fields.contains(.dontFragment), v.moreFragments || v.fragmentOffset != 0 || v.reservedFlag { return nil }
            residual.appendByte(fields.contains(.dscp) ? v.ecn : v.dscp << 2 | v.ecn)
            if !fields.contains(.identification) {
                residual.appendByte(UInt8(v.identification >> 8))
                residual.appendByte(UInt8(v.identification & 0xff))
            }
            if !fields.contains(.dontFragment) {
                residual.appendByte(inner.wireUInt8(at: 6))
                residual.appendByte(inner.wireUInt8(at: 7))
            }
            residual.appendByte(v.ttl)
            if !fields.contains(.source) { residual.appendAddress(.v4(v.source)) }
            if !fields.contains(.destination) { residual.appendAddress(.v4(v.destination)) }
            return Compressed(residual: residual, payload: v.payload, innerProtocol: v.protocol,
                              identification: fields.contains(.identification) ? v.identification : nil)
        }
        guard case .v6(let s) = source, case .v6(let d) = destination, let v = try? IPv6Packet(inner) else {
            return nil
        }
        if fields.contains(.source), v.source != s { return nil }
        if fields.contains(.destination), v.destination != d { return nil }
        let flow = v.flowLabel
        if fields.contains(.dscp) {
            residual.appendByte(v.ecn << 6 | UInt8(flow >> 16 & 0x0f))
        } else {
            residual.appendByte(v.trafficClass)
            residual.appendByte(UInt8(flow >> 16 & 0x0f))
        }
        residual.appendByte(UInt8(flow >> 8 & 0xff))
        residual.appendByte(UInt8(flow & 0xff))
        residual.appendByte(v.hopLimit)
        if !fields.contains(.source) { residual.appendAddress(.v6(v.source)) }
        if !fields.contains(.destination) { residual.appendAddress(.v6(v.destination)) }
        return Compressed(residual: residual, payload: v.payload, innerProtocol: v.nextHeader, identification: nil)
    }

    /// Rebuilds the inner packet from the outer header's values, the residual block and the payload in `body`.
    /// Returns nil when the residual is malformed (too short, reserved bits set).
    static func decompress(_ body: ArraySlice<UInt8>, innerProtocol: IPProtocol, fields: HeaderCompressionFields,
                           outer: OuterValues, into out: inout [UInt8]) -> Bool {
        var r = ByteReader(body)
        switch outer.version {
        case .v4:
            guard let tosByte = r.readUInt8() else { return false }
            let tos: UInt8
            if fields.contains(.dscp) {
                guard tosByte & 0xfc == 0 else { return false }
                tos = outer.dscp << 2 | tosByte
            } else {
                tos = tosByte
            }
            let identification: UInt16
            if fields.contains(.identification) { identification = outer.identification } else {
                guard let v = r.readUInt16() else { return false }
                identification = v
            }
            let flags: UInt16
            if fields.contains(.dontFragment) { flags = outer.dontFragment ? 0x4000 : 0 } else {
                guard let v = r.readUInt16() else { return false }
                flags = v
            }
            guard let ttl = r.readUInt8() else { return false }
            let source: ArraySlice<UInt8>?, destination: ArraySlice<UInt8>?
            if fields.contains(.source) { source = nil } else {
                guard let v = r.readBytes(4) else { return false }
                source = v
            }
            if fields.contains(.destination) { destination = nil } else {
                guard let v = r.readBytes(4) else { return false }
                destination = v
            }
            let payload = r.remainingBytes
            guard payload.count + 20 <= 65535 else { return false }
            let start = out.count
            out.append(0x45)
            out.append(tos)
            out.append(contentsOf: repeatElement(0, count: 2))  // total length, set below
            out.append(UInt8(identification >> 8))
            out.append(UInt8(identification & 0xff))
            out.append(UInt8(flags >> 8))
            out.append(UInt8(flags & 0xff))
            out.append(ttl)
            out.append(innerProtocol.rawValue)
            out.append(contentsOf: repeatElement(0, count: 2))  // checksum, set below
            appendAddress(source, elided: outer.source, to: &out)
            appendAddress(destination, elided: outer.destination, to: &out)
            out += payload
            PacketLayout.fixLengths(&out, start: start)
        case .v6:
            let trafficClass: UInt8
            let flowHigh: UInt8
            if fields.contains(.dscp) {
                guard let b = r.readUInt8(), b & 0x30 == 0 else { return false }
                trafficClass = outer.dscp << 2 | b >> 6
                flowHigh = b & 0x0f
            } else {
                guard let tc = r.readUInt8(), let b = r.readUInt8(), b & 0xf0 == 0 else { return false }
                trafficClass = tc
                flowHigh = b
            }
            guard let flowLow = r.readUInt16(), let hopLimit = r.readUInt8() else { return false }
            let source: ArraySlice<UInt8>?, destination: ArraySlice<UInt8>?
            if fields.contains(.source) { source = nil } else {
                guard let v = r.readBytes(16) else { return false }
                source = v
            }
            if fields.contains(.destination) { destination = nil } else {
                guard let v = r.readBytes(16) else { return false }
                destination = v
            }
            let payload = r.remainingBytes
            guard payload.count <= 65535 else { return false }
            let start = out.count
            out.append(0x60 | trafficClass >> 4)
            out.append(trafficClass << 4 | flowHigh)
            out.append(UInt8(flowLow >> 8))
            out.append(UInt8(flowLow & 0xff))
            out.append(0)
            out.append(0)
            out.append(innerProtocol.rawValue)
            out.append(hopLimit)
            appendAddress(source, elided: outer.source, to: &out)
            appendAddress(destination, elided: outer.destination, to: &out)
            out += payload
            PacketLayout.fixLengths(&out, start: start)
        }
        return true
    }

    /// Appends an address: the bytes the residual carried, or the elided value from the outer header.
    private static func appendAddress(_ carried: ArraySlice<UInt8>?, elided: IPAddress, to out: inout [UInt8]) {
        if let carried {
            out += carried
            return
        }
        switch elided {
        case .v4(let a):
            withUnsafeBytes(of: a.rawValue.bigEndian) { out.append(contentsOf: $0) }
        case .v6(let a):
            withUnsafeBytes(of: a.high.bigEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: a.low.bigEndian) { out.append(contentsOf: $0) }
        }
    }
}

extension ESPAssociatedData.Extra {
    /// Appends one byte; the compressed tunnel's blocks stay far below the capacity, so this cannot fail.
    mutating func appendByte(_ byte: UInt8) {
        try? append(byte)
    }

    /// Appends an address in network byte order.
    mutating func appendAddress(_ address: IPAddress) {
        switch address {
        case .v4(let a):
            Swift.withUnsafeBytes(of: a.rawValue.bigEndian) { try? append(bytes: $0) }
        case .v6(let a):
            Swift.withUnsafeBytes(of: a.high.bigEndian) { try? append(bytes: $0) }
            Swift.withUnsafeBytes(of: a.low.bigEndian) { try? append(bytes: $0) }
        }
    }
}
