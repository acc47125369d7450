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
    /// inner version and the field set: the additional authenticated data of a compressed packet.
    struct OuterValues {
        var version: IPVersion
        var source: [UInt8]
        var destination: [UInt8]
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
                source = Array(outer.wireBytes(at: 12, count: 4))
                destination = Array(outer.wireBytes(at: 16, count: 4))
                dscp = outer.wireUInt8(at: 1) >> 2
                identification = outer.wireUInt16(at: 4)
                dontFragment = outer.wireUInt8(at: 6) & 0x40 != 0
            } else {
                guard outer.count >= 40 else { throw WireError.truncated("IPv6", need: 40, have: outer.count) }
                version = .v6
                source = Array(outer.wireBytes(at: 8, count: 16))
                destination = Array(outer.wireBytes(at: 24, count: 16))
                dscp = UInt8(truncatingIfNeeded: outer.wireUInt16(at: 0) >> 6) & 0x3f
                identification = 0
                dontFragment = false
            }
        }

        func authenticatedData(_ fields: HeaderCompressionFields) -> [UInt8] {
            var out: [UInt8] = [version.rawValue, fields.rawValue]
            if fields.contains(.source) { out += source }
            if fields.contains(.destination) { out += destination }
            if fields.contains(.dscp) { out.append(dscp) }
            if fields.contains(.identification) { out += [UInt8(identification >> 8), UInt8(identification & 0xff)] }
            if fields.contains(.dontFragment) { out.append(dontFragment ? 1 : 0) }
            return out
        }
    }

    /// What the sender needs to compress one inner packet.
    struct Compressed {
        /// Residual block followed by the inner payload (everything after the inner fixed header).
        var body: [UInt8]
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
        if first >> 4 == 4 {
            guard case .v4(let s) = source, case .v4(let d) = destination,
                  let v = try? IPv4Packet(inner), v.headerLength == 20 else { return nil }
            if fields.contains(.source), v.source != s { return nil }
            if fields.contains(.destination), v.destination != d { return nil }
            if fields.contains(.dontFragment), v.moreFragments || v.fragmentOffset != 0 || v.reservedFlag { return nil }
            var body: [UInt8] = []
            body.reserveCapacity(Int(v.totalLength))
            body.append(fields.contains(.dscp) ? v.ecn : v.dscp << 2 | v.ecn)
            if !fields.contains(.identification) {
                body += [UInt8(v.identification >> 8), UInt8(v.identification & 0xff)]
            }
            if !fields.contains(.dontFragment) {
                body += [inner.wireUInt8(at: 6), inner.wireUInt8(at: 7)]
            }
            body.append(v.ttl)
            if !fields.contains(.source) { body += v.source.bytes }
            if !fields.contains(.destination) { body += v.destination.bytes }
            body += v.payload
            return Compressed(body: body, innerProtocol: v.protocol,
                              identification: fields.contains(.identification) ? v.identification : nil)
        }
        guard case .v6(let s) = source, case .v6(let d) = destination, let v = try? IPv6Packet(inner) else {
            return nil
        }
        if fields.contains(.source), v.source != s { return nil }
        if fields.contains(.destination), v.destination != d { return nil }
        var body: [UInt8] = []
        let flow = v.flowLabel
        if fields.contains(.dscp) {
            body += [v.ecn << 6 | UInt8(flow >> 16 & 0x0f), UInt8(flow >> 8 & 0xff), UInt8(flow & 0xff)]
        } else {
            body += [v.trafficClass, UInt8(flow >> 16 & 0x0f), UInt8(flow >> 8 & 0xff), UInt8(flow & 0xff)]
        }
        body.append(v.hopLimit)
        if !fields.contains(.source) { body += v.source.bytes }
        if !fields.contains(.destination) { body += v.destination.bytes }
        body += v.payload
        return Compressed(body: body, innerProtocol: v.nextHeader, identification: nil)
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
            let source: ArraySlice<UInt8>, destination: ArraySlice<UInt8>
            if fields.contains(.source) { source = outer.source[...] } else {
                guard let v = r.readBytes(4) else { return false }
                source = v
            }
            if fields.contains(.destination) { destination = outer.destination[...] } else {
                guard let v = r.readBytes(4) else { return false }
                destination = v
            }
            let payload = r.remainingBytes
            guard payload.count + 20 <= 65535 else { return false }
            let start = out.count
            out += [0x45, tos, 0, 0, UInt8(identification >> 8), UInt8(identification & 0xff),
                    UInt8(flags >> 8), UInt8(flags & 0xff), ttl, innerProtocol.rawValue, 0, 0]
            out += source
            out += destination
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
            let source: ArraySlice<UInt8>, destination: ArraySlice<UInt8>
            if fields.contains(.source) { source = outer.source[...] } else {
                guard let v = r.readBytes(16) else { return false }
                source = v
            }
            if fields.contains(.destination) { destination = outer.destination[...] } else {
                guard let v = r.readBytes(16) else { return false }
                destination = v
            }
            let payload = r.remainingBytes
            guard payload.count <= 65535 else { return false }
            let start = out.count
            out += [0x60 | trafficClass >> 4, trafficClass << 4 | flowHigh, UInt8(flowLow >> 8), UInt8(flowLow & 0xff),
                    0, 0, innerProtocol.rawValue, hopLimit]
            out += source
            out += destination
            out += payload
            PacketLayout.fixLengths(&out, start: start)
        }
        return true
    }
}
