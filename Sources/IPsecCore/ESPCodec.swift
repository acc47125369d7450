import IPsecCrypto
import IPsecWire

/// ESP's own work (RFC 4303 §2–3): building SPI ‖ Seq ‖ IV ‖ ciphertext ‖ ICV around a payload, and opening it in the
/// order the RFC and the reference implementations keep — ICV verified before anything is decrypted, then a strict
/// check of the padding.
enum ESPCodec {
    /// Appends the ESP packet protecting `payload` (whose protocol is `nextHeader`) to `out`.
    /// `spi` defaults to the SA's own; the compressed tunnel sends the SA's SPI with its indicator bit set.
    /// `extra` is authenticated but not sent (the compressed tunnel's elided values).
    static func seal<C: Collection>(_ payload: C, nextHeader: IPProtocol, sa: SecurityAssociation,
                                    spi: UInt32? = nil, extra: [UInt8] = [],
                                    into out: inout [UInt8]) throws(CoreError) where C.Element == UInt8 {
        guard let t = sa.esp else { throw CoreError(.badConfiguration, "not an ESP SA") }
        let spi = spi ?? sa.configuration.spi
        let sequence = try sa.nextSequence()
        let padLength = ESPTrailer.paddingLength(payloadLength: payload.count, blockSize: t.blockSize)
        let start = out.count
        let ivStart = start + ESPPacket.headerLength
        let payloadStart = ivStart + t.ivLength
        let icvStart = payloadStart + payload.count + padLength + 2
        out.reserveCapacity(icvStart + t.icvLength)
        out.append(contentsOf: [UInt8](repeating: 0, count: ESPPacket.headerLength + t.ivLength))
        out[start...].setWireUInt32(spi, at: 0)
        out[start...].setWireUInt32(UInt32(truncatingIfNeeded: sequence), at: 4)
        out.append(contentsOf: payload)
        // RFC 4303 §2.4: the default padding is 1, 2, 3, …, checked by the receiver.
        for i in 0..<padLength { out.append(UInt8(truncatingIfNeeded: i + 1)) }
        out.append(UInt8(padLength))
        out.append(nextHeader.rawValue)
        out.append(contentsOf: [UInt8](repeating: 0, count: t.icvLength))
        do {
            let aad = ESPAssociatedData(spi: spi, sequenceNumber: sequence,
                                        extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers,
                                        extra: try ESPAssociatedData.Extra(extra))
            try out.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
                let iv = UnsafeMutableRawBufferPointer(rebasing: bytes[ivStart..<payloadStart])
                try sa.ivSource.fill(iv, sequence: sequence)
                try t.seal(aad, iv: UnsafeRawBufferPointer(iv),
                           payload: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart..<icvStart]),
                           icv: UnsafeMutableRawBufferPointer(rebasing: bytes[icvStart...]))
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
    static func open(_ esp: ArraySlice<UInt8>, sa: SecurityAssociation, sequence: UInt64, extra: [UInt8] = [],
                     scratch: inout [UInt8]) -> Result<Opened, DropReason> {
        guard let t = sa.esp else { return .failure(.noSA) }
        let ciphertextLength = esp.count - ESPPacket.headerLength - t.ivLength - t.icvLength
        // The ciphertext holds at least the two trailer bytes, is a whole number of cipher blocks, and ends on a
        // 4-byte boundary (RFC 4303 §2.4); anything else was not made by a conforming sender.
        guard ciphertextLength >= 2, ciphertextLength % t.blockSize == 0 else { return .failure(.malformed) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: esp)
        // The SPI as received: for the compressed tunnel it carries the indicator bit, which the ICV covers.
        guard let extraData = try? ESPAssociatedData.Extra(extra) else { return .failure(.malformed) }
        let aad = ESPAssociatedData(spi: esp.wireUInt32(at: 0), sequenceNumber: sequence,
                                    extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers,
                                    extra: extraData)
        let ivStart = ESPPacket.headerLength
        let payloadStart = ivStart + t.ivLength
        let icvStart = payloadStart + ciphertextLength
        let verified: Bool
        do {
            verified = try scratch.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
                try t.open(aad, iv: UnsafeRawBufferPointer(rebasing: bytes[ivStart..<payloadStart]),
                           payload: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart..<icvStart]),
                           icv: UnsafeRawBufferPointer(rebasing: bytes[icvStart...]))
            }
        } catch {
            return .failure(.malformed)
        }
        guard verified else { return .failure(.integrity) }
        let plaintext = scratch[payloadStart..<icvStart]
        guard let (payload, trailer) = try? ESPTrailer.split(plaintext) else { return .failure(.padding) }
        guard trailer.hasDefaultPadding else { return .failure(.padding) }
        return .success(Opened(payload: payload.startIndex..<payload.endIndex, nextHeader: trailer.nextHeader,
                               sequence: sequence))
    }
}
