import IPsecCrypto
import IPsecWire

/// ESP's own work (RFC 4303 §2–3): building SPI ‖ Seq ‖ IV ‖ ciphertext ‖ ICV around a payload, and opening it in the
/// order the RFC and the reference implementations keep — ICV verified before anything is decrypted, then a strict
/// check of the padding.
enum ESPCodec {
    /// Appends the ESP packet protecting `payload` (whose protocol is `nextHeader`) to `out`.
    /// `spi` defaults to the SA's own; the compressed tunnel sends the SA's SPI with its indicator bit set.
    /// `extra` is authenticated but not sent (the compressed tunnel's elided values); `residual` goes before the payload
    /// (the compressed tunnel's residual block).
    static func seal<C: Collection>(_ payload: C, nextHeader: IPProtocol, sa: SecurityAssociation,
                                    spi: UInt32? = nil, extra: ESPAssociatedData.Extra = .init(),
                                    residual: ESPAssociatedData.Extra = .init(),
                                    into out: inout [UInt8]) throws(CoreError) where C.Element == UInt8 {
        guard let t = sa.esp else { throw CoreError(.badConfiguration, "not an ESP SA") }
        let spi = spi ?? sa.configuration.spi
        let sequence = try sa.nextSequence()
        let plainLength = residual.count + payload.count
        let padLength = ESPTrailer.paddingLength(payloadLength: plainLength, blockSize: t.blockSize)
        let start = out.count
        let ivStart = start + ESPPacket.headerLength
        let payloadStart = ivStart + t.ivLength
        let icvStart = payloadStart + plainLength + padLength + 2
        // Nothing here may allocate once `out` has grown to its working size: no temporary arrays, and no writes
        // through slices of `out` (which copy it).
        out.reserveCapacity(icvStart + t.icvLength)
        PacketLayout.appendZeros(ESPPacket.headerLength + t.ivLength, to: &out)
        if !residual.isEmpty { residual.withUnsafeBytes { out.append(contentsOf: $0) } }
        out.append(contentsOf: payload)
        // RFC 4303 §2.4: the default padding is 1, 2, 3, …, checked by the receiver.
        for i in 0..<padLength { out.append(UInt8(truncatingIfNeeded: i + 1)) }
        out.append(UInt8(padLength))
        out.append(nextHeader.rawValue)
        PacketLayout.appendZeros(t.icvLength, to: &out)
        do {
            let aad = ESPAssociatedData(spi: spi, sequenceNumber: sequence,
                                        extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers,
                                        extra: extra)
            try out.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
                bytes.storeBytes(of: spi.bigEndian, toByteOffset: start, as: UInt32.self)
                bytes.storeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian, toByteOffset: start + 4,
                                 as: UInt32.self)
                let iv = UnsafeMutableRawBufferPointer(rebasing: bytes[ivStart..<payloadStart])
                try sa.ivSource.fill(iv, sequence: sequence)
                if let burst = sa.espBurst {
                    // A burst of one, on the SA's crypto implementation (Burst.swift).
                    var item = ESPBurstPacket(packet: UnsafeMutableRawBufferPointer(rebasing: bytes[start...]),
                                              associatedData: aad)
                    try burst.seal(&item)
                } else {
                    try t.seal(aad, iv: UnsafeRawBufferPointer(iv),
                               payload: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart..<icvStart]),
                               icv: UnsafeMutableRawBufferPointer(rebasing: bytes[icvStart...]))
                }
            }
        } catch let error as CryptoError {
            throw .crypto(error)
        } catch {
            throw CoreError(.crypto, "\(error)")
        }
    }

    struct Opened {
        /// The decrypted payload's range in the buffer `open` worked in.
        var payload: Range<Int>
        var nextHeader: IPProtocol
        var sequence: UInt64
    }

    /// Opens the ESP packet `esp` (from its SPI to the end of the ICV). The bytes are copied to `scratch` and
    /// decrypted there; on success the payload's range in `scratch` is returned.
    static func open(_ esp: ArraySlice<UInt8>, sa: SecurityAssociation, sequence: UInt64,
                     extra: ESPAssociatedData.Extra = .init(), scratch: inout [UInt8]) -> Result<Opened, DropReason> {
        guard let t = sa.esp else { return .failure(.noSA) }
        let ciphertextLength = esp.count - ESPPacket.headerLength - t.ivLength - t.icvLength
        // The ciphertext holds at least the two trailer bytes, is a whole number of cipher blocks, and ends on a
        // 4-byte boundary (RFC 4303 §2.4); anything else was not made by a conforming sender.
        guard ciphertextLength >= 2, ciphertextLength % t.blockSize == 0 else { return .failure(.malformed) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: esp)
        // The SPI as received: for the compressed tunnel it carries the indicator bit, which the ICV covers.
        let aad = ESPAssociatedData(spi: esp.wireUInt32(at: 0), sequenceNumber: sequence,
                                    extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers,
                                    extra: extra)
        let ivStart = ESPPacket.headerLength
        let payloadStart = ivStart + t.ivLength
        let icvStart = payloadStart + ciphertextLength
        let verified: Bool
        do {
            verified = try scratch.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
                if let burst = sa.espBurst {
                    // A burst of one, on the SA's crypto implementation (Burst.swift).
                    var item = ESPBurstPacket(packet: bytes, associatedData: aad)
                    return try burst.open(&item)
                }
                return try t.open(aad, iv: UnsafeRawBufferPointer(rebasing: bytes[ivStart..<payloadStart]),
                           payload: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart..<icvStart]),
                           icv: UnsafeRawBufferPointer(rebasing: bytes[icvStart...]))
            }
        } catch {
            return .failure(.malformed)
        }
        guard verified else { return .failure(.integrity) }
        // The trailer (RFC 4303 §2.4–2.6), read where it was decrypted: pad length and next header last, the padding
        // before them, which must be the default 1, 2, 3, … Every padding byte is looked at, whichever is the first
        // wrong one, so the time depends on the pad length alone (as `ESPTrailer.hasDefaultPadding`).
        let padLength = Int(scratch[icvStart - 2])
        let nextHeader = IPProtocol(scratch[icvStart - 1])
        guard padLength + ESPTrailer.fixedLength <= ciphertextLength else { return .failure(.padding) }
        let paddingStart = icvStart - ESPTrailer.fixedLength - padLength
        let difference = scratch.withUnsafeBytes { bytes in
            var difference: UInt8 = 0
            for i in 0..<padLength { difference |= bytes[paddingStart + i] ^ UInt8(truncatingIfNeeded: i + 1) }
            return difference
        }
        guard difference == 0 else { return .failure(.padding) }
        return .success(Opened(payload: payloadStart..<paddingStart, nextHeader: nextHeader, sequence: sequence))
    }
}
