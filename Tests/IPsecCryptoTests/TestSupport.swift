import IPsecCrypto
import Testing

/// Bytes from hex; whitespace and newlines are ignored, so vectors can be pasted as the RFCs print them.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }.map { $0 }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Repeated byte, for the RFCs' "0x0b repeated 20 times".
func bytes(_ value: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: value, count: count) }

func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One ESP known answer: inputs and the expected ciphertext and ICV.
struct ESPVector: CustomTestStringConvertible, Sendable {
    var name: String
    var keyword: String
    var encryptionKey: [UInt8]
    var integrityKey: [UInt8] = []
    var spi: UInt32
    var sequenceNumber: UInt64
    var esn: Bool = false
    var extra: [UInt8] = []
    var iv: [UInt8]
    var plaintext: [UInt8]
    var ciphertext: [UInt8]
    var icv: [UInt8]

    var testDescription: String { name }

    func associatedData() throws -> ESPAssociatedData {
        ESPAssociatedData(spi: spi, sequenceNumber: sequenceNumber, extendedSequenceNumbers: esn,
                          extra: try ESPAssociatedData.Extra(extra))
    }
}

/// Seals with a fresh transform; returns (ciphertext, ICV).
func seal(_ transform: ESPTransform, _ aad: ESPAssociatedData, iv: [UInt8], payload: [UInt8]) throws
    -> (ciphertext: [UInt8], icv: [UInt8])
{
    var data = payload
    var icv = [UInt8](repeating: 0, count: transform.icvLength)
    try iv.withUnsafeBytes { ivBytes in
        try data.withUnsafeMutableBytes { payloadBytes in
            try icv.withUnsafeMutableBytes { icvBytes in
                try transform.seal(aad, iv: ivBytes, payload: payloadBytes, icv: icvBytes)
            }
        }
    }
    return (data, icv)
}

/// Opens; returns the verdict and what the payload buffer holds afterwards.
func open(_ transform: ESPTransform, _ aad: ESPAssociatedData, iv: [UInt8], payload: [UInt8], icv: [UInt8]) throws
    -> (ok: Bool, payload: [UInt8])
{
    var data = payload
    let ok = try iv.withUnsafeBytes { ivBytes in
        try data.withUnsafeMutableBytes { payloadBytes in
            try icv.withUnsafeBytes { icvBytes in
                try transform.open(aad, iv: ivBytes, payload: payloadBytes, icv: icvBytes)
            }
        }
    }
    return (ok, data)
}

/// Checks a vector both ways: sealing gives the published ciphertext and ICV, opening gives the plaintext back.
func checkESPVector(_ vector: ESPVector) throws {
    let algorithm = try ESPAlgorithm(keyword: vector.keyword)
    let transform = try ESPTransform(algorithm, encryptionKey: vector.encryptionKey,
                                     integrityKey: vector.integrityKey)
    let aad = try vector.associatedData()
    // Twice through the same transform: contexts are reused per packet and must give the same answer.
    for _ in 0..<2 {
        let sealed = try seal(transform, aad, iv: vector.iv, payload: vector.plaintext)
        #expect(hexString(sealed.ciphertext) == hexString(vector.ciphertext), "ciphertext")
        #expect(hexString(sealed.icv) == hexString(vector.icv), "ICV")
        let opened = try open(transform, aad, iv: vector.iv, payload: vector.ciphertext, icv: vector.icv)
        #expect(opened.ok)
        #expect(hexString(opened.payload) == hexString(vector.plaintext), "plaintext")
    }
}

/// AH ICV over prefix ‖ ICV field ‖ suffix.
func computeAH(_ transform: AHTransform, prefix: [UInt8], suffix: [UInt8], sequenceNumber: UInt64 = 0,
               esn: Bool = false) throws -> [UInt8] {
    try transform.icv(prefix: prefix, suffix: suffix, sequenceNumber: sequenceNumber, extendedSequenceNumbers: esn)
}

func verifyAH(_ transform: AHTransform, prefix: [UInt8], suffix: [UInt8], sequenceNumber: UInt64 = 0,
              esn: Bool = false, icv: [UInt8]) throws -> Bool {
    try prefix.withUnsafeBytes { p in
        try suffix.withUnsafeBytes { s in
            try icv.withUnsafeBytes { i in
                try transform.verifyICV(prefix: p, suffix: s, sequenceNumber: sequenceNumber,
                                        extendedSequenceNumbers: esn, icv: i)
            }
        }
    }
}

/// Deterministic filler bytes for round trips.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}
