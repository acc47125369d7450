import IPsecCrypto
import IPsecWire

/// AH's own work (RFC 4302): the ICV over the packet as the receiver will see it, with the fields that change in
/// transit zeroed and the ones that change predictably set to their final values (§3.3.3.1).
enum AHCodec {
    /// IPv4 options that stay unchanged in transit (RFC 4302 Appendix A.1): End of Options List, No Operation,
    /// Security, Extended Security, Commercial Security, Router Alert, Sender Directed Multi-Destination Delivery.
    /// Every other option is mutable and zeroed whole, type and length included.
    static let immutableIPv4Options: Set<UInt8> = [0, 1, 130, 133, 134, 148, 149]

    /// Calls `body` with the bytes before the ICV field (`packet[0 ..< icvStart]`) as the ICV sees them, built in
    /// temporary memory (on the stack for the usual header sizes, so that the per-packet path allocates nothing).
    /// `headerEnd` is where the IP header chain ends (where AH starts).
    static func withAuthenticatedPrefix<R>(_ packet: ArraySlice<UInt8>, headerEnd: Int, icvStart: Int,
                                           _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try withUnsafeTemporaryAllocation(byteCount: icvStart, alignment: 8) { p in
            packet.withUnsafeBytes { source in
                p.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<icvStart]))
            }
            try zeroMutableFields(p, packet: packet, headerEnd: headerEnd)
            return try body(UnsafeRawBufferPointer(p))
        }
    }

    /// The bytes before the ICV field as the ICV sees them, as an array (for tests and tools).
    static func authenticatedPrefix(_ packet: ArraySlice<UInt8>, headerEnd: Int, icvStart: Int) throws -> [UInt8] {
        try withAuthenticatedPrefix(packet, headerEnd: headerEnd, icvStart: icvStart) { Array($0) }
    }

    /// RFC 4302 §3.3.3.1 on a copy `p` of the packet's first bytes: mutable fields zeroed, predictable ones set to
    /// their values at the destination.
    private static func zeroMutableFields(_ p: UnsafeMutableRawBufferPointer, packet: ArraySlice<UInt8>,
                                          headerEnd: Int) throws {
        if p[0] >> 4 == 4 {
            // RFC 4302 §3.3.3.1.1.1: DSCP and ECN, flags, fragment offset, TTL and checksum are mutable.
            p[1] = 0
            p[6] = 0
            p[7] = 0
            p[8] = 0
            p[10] = 0
            p[11] = 0
            var i = 20
            let end = Int(p[0] & 0x0f) * 4
            while i < end {
                let type = p[i]
                if type == 0 { break }  // End of Options List: the rest is padding, authenticated as sent.
                if type == 1 { i += 1; continue }
                guard i + 1 < end else { break }
                let length = Int(p[i + 1])
                guard length >= 2, i + length <= end else { throw WireError.badLength("IPv4 option", "bad length") }
                if type == 131 || type == 137, length >= 7 {
                    // Source routing: the destination is mutable but predictable. Until the route is exhausted the
                    // final destination is the last address in the option (§3.3.3.1.1.1).
                    let pointer = Int(p[i + 2])
                    if pointer <= length {
                        let last = i + length - 4
                        for k in 0..<4 { p[16 + k] = p[last + k] }
                    }
                }
                if !immutableIPv4Options.contains(type) {
                    for k in i..<(i + length) { p[k] = 0 }
                }
                i += length
            }
            return
        }
        // IPv6 (§3.3.3.1.2): traffic class, flow label and hop limit are mutable.
        p[0] = 0x60
        p[1] = 0
        p[2] = 0
        p[3] = 0
        p[7] = 0
        var offset = 40
        var next = IPProtocol(p[6])
        while offset < headerEnd, next.isIPv6ExtensionHeader {
            let header = try IPv6ExtensionHeader.parse(next, bytes: packet[(packet.startIndex + offset)...])
            let length = header.bufferLength
            switch header {
            case .hopByHop, .destinationOptions:
                // Options whose type has the 0x20 bit set may change en route: their data is zeroed (§3.3.3.1.2.1).
                var i = offset + 2
                while i < offset + length {
                    let type = p[i]
                    if type == 0 { i += 1; continue }
                    let dataLength = Int(p[i + 1])
                    if type & 0x20 != 0 {
                        for k in (i + 2)..<(i + 2 + dataLength) { p[k] = 0 }
                    }
                    i += 2 + dataLength
                }
            case .routing(let r):
                // Mutable but predictable: authenticated in the form the final destination will see (§3.3.3.1.2.2).
                if r.segmentsLeft != 0 {
                    guard let destination = IPv6Address(bytes: p[24..<40]),
                          let final = r.atFinalDestination(currentDestination: destination) else {
                        throw WireError.badValue("IPv6 Routing", "type \(r.routingType) has no final-destination form")
                    }
                    var bytes = try final.header.serialized()
                    bytes.withUnsafeBufferPointer { src in
                        for k in 0..<min(src.count, length) { p[offset + k] = src[k] }
                    }
                    bytes = final.destination.bytes
                    for k in 0..<16 { p[24 + k] = bytes[k] }
                }
            case .fragment:
                break
            }
            next = header.nextHeader
            offset += length
        }
    }

    /// Writes the AH header (ICV zeroed, padding zero) for `nextHeader` and returns the ICV's range in `out`.
    static func appendHeader(nextHeader: IPProtocol, sequence: UInt64, sa: SecurityAssociation, version: IPVersion,
                             into out: inout [UInt8]) throws(CoreError) -> Range<Int> {
        guard let t = sa.ah else { throw CoreError(.badConfiguration, "not an AH SA") }
        guard t.icvLength <= AHHeader.maximumHeaderLength - AHPacket.icvOffset else {
            throw CoreError(.badConfiguration, "AH header: ICV length \(t.icvLength) does not fit in an AH header")
        }
        // RFC 4302 §2: Next Header, Payload Len (in 32-bit words, minus 2), Reserved, SPI, Sequence Number, then the
        // ICV and its alignment padding, zero while the ICV is computed. Written in place, allocating nothing.
        let length = AHHeader.headerLength(icvLength: t.icvLength, ipVersion: version)
        let start = out.count
        PacketLayout.appendZeros(length, to: &out)
        let spi = sa.configuration.spi
        out.withUnsafeMutableBytes { b in
            b[start] = nextHeader.rawValue
            b[start + 1] = UInt8(length / 4 - 2)
            b.storeBytes(of: spi.bigEndian, toByteOffset: start + 4, as: UInt32.self)
            b.storeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian, toByteOffset: start + 8, as: UInt32.self)
        }
        let icvStart = start + AHPacket.icvOffset
        return icvStart..<(icvStart + t.icvLength)
    }

    /// Computes the ICV of the packet in `out` (whose AH ICV field is at `icv`) and writes it there.
    static func sign(_ out: inout [UInt8], headerEnd: Int, icv: Range<Int>, sequence: UInt64,
                     sa: SecurityAssociation) throws(CoreError) {
        guard let t = sa.ah else { throw CoreError(.badConfiguration, "not an AH SA") }
        let extended = sa.configuration.extendedSequenceNumbers
        do {
            // The ICV goes to temporary memory first: `out` may only be written once the slice the prefix was read
            // through is gone (a write while it lives would copy the whole packet).
            try withUnsafeTemporaryAllocation(byteCount: icv.count, alignment: 8) { computed in
                try withAuthenticatedPrefix(out[...], headerEnd: headerEnd, icvStart: icv.lowerBound) { pre in
                    try out.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
                        try t.computeICV(prefix: pre, suffix: UnsafeRawBufferPointer(rebasing: all[icv.upperBound...]),
                                         sequenceNumber: sequence, extendedSequenceNumbers: extended, into: computed)
                    }
                }
                out.withUnsafeMutableBytes { all in
                    UnsafeMutableRawBufferPointer(rebasing: all[icv]).copyMemory(from: UnsafeRawBufferPointer(computed))
                }
            }
        } catch let error as CryptoError {
            throw .crypto(error)
        } catch let error as CoreError {
            throw error
        } catch {
            throw CoreError.badPacket(error)
        }
    }

    /// Verifies the ICV of the received `packet` whose AH header starts at `headerEnd`.
    static func verify(_ packet: ArraySlice<UInt8>, headerEnd: Int, sequence: UInt64,
                       sa: SecurityAssociation) -> Result<AHPacket, DropReason> {
        guard let t = sa.ah else { return .failure(.noSA) }
        let version: IPVersion = packet.first.map { $0 >> 4 == 4 ? .v4 : .v6 } ?? .v4
        guard let view = try? AHPacket(packet.dropFirst(headerEnd), ipVersion: version) else {
            return .failure(.malformed)
        }
        // The header must be exactly as long as this SA's ICV makes it (Linux checks the same).
        guard view.headerLength == AHHeader.headerLength(icvLength: t.icvLength, ipVersion: version) else {
            return .failure(.malformed)
        }
        let icvStart = packet.startIndex + headerEnd + AHPacket.icvOffset
        let icvEnd = icvStart + t.icvLength
        let ok: Bool
        do {
            ok = try withAuthenticatedPrefix(packet, headerEnd: headerEnd, icvStart: icvStart - packet.startIndex) {
                (pre: UnsafeRawBufferPointer) -> Bool in
                try packet.withUnsafeBytes { (all: UnsafeRawBufferPointer) -> Bool in
                    let base = packet.startIndex
                    return try t.verifyICV(prefix: pre,
                                           suffix: UnsafeRawBufferPointer(rebasing: all[(icvEnd - base)...]),
                                           sequenceNumber: sequence,
                                           extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers,
                                           icv: UnsafeRawBufferPointer(rebasing: all[(icvStart - base)..<(icvEnd - base)]))
                }
            }
        } catch {
            return .failure(.malformed)
        }
        return ok ? .success(view) : .failure(.integrity)
    }
}
