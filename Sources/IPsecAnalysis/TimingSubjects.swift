import IPsecCore
import IPsecCrypto
import IPsecWire

// The operations the leakage tests time, each through the public API a data plane or a library user calls. Keys are
// the deterministic test keys of `MatrixCell` (never for real use, never printed).

/// A byte comparison that returns at the first difference — what `constantTimeEqual` exists to avoid. Used only as
/// the leakage tests' control, to show that the method sees a leak on this machine.
@inline(never)
func earlyExitEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}

/// A working buffer a subject owns (stable address, no copy-on-write on the timed path).
final class TimingBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int) {
        bytes = .allocate(byteCount: max(count, 1), alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { bytes.deallocate() }

    var readOnly: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }

    func load(_ source: UnsafeRawBufferPointer) {
        bytes.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: source.count)
    }

    func load(_ source: [UInt8]) { source.withUnsafeBytes { load($0) } }
}

/// The controls: an early-exit comparison, of 4096-byte buffers (one call per measurement) or of 16-byte ICVs (64 calls
/// per measurement, like `constant-time-equal`). Fixed class: the reference with its last byte changed (every byte is
/// compared); random class: random bytes (the comparison stops at the first byte, 255 times in 256).
final class EarlyExitControlSubject: TimingSubject {
    static let length = 4096
    let length: Int
    let repetitions: Int
    let reference: [UInt8]
    let work: TimingBuffer

    init(length: Int = EarlyExitControlSubject.length, repetitions: Int = 1, seed: UInt64) {
        self.length = length
        self.repetitions = repetitions
        var r = TimingRandom(seed: seed)
        reference = r.bytes(length)
        work = TimingBuffer(count: length)
    }

    var inputLength: Int { length }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        switch inputClass {
        case .fixed:
            reference.withUnsafeBytes { input.copyMemory(from: $0) }
            input[length - 1] ^= 0x01
        case .random:
            random.fill(input)
        }
    }

    func stage(_ input: UnsafeRawBufferPointer) { work.load(input) }

    func run() -> Int {
        reference.withUnsafeBytes { ref in
            var equal = 0
            for _ in 0..<repetitions { equal &+= earlyExitEqual(work.readOnly, ref) ? 1 : 0 }
            return equal
        }
    }

    func checkPaths(random: inout TimingRandom) -> String? { nil }
}

/// `constantTimeEqual` (OpenSSL's `CRYPTO_memcmp`), the comparison behind every ICV check of the composite transforms
/// and of AH.
final class ConstantTimeEqualSubject: TimingSubject {
    enum Classes {
        /// 16-byte tags, fixed: wrong in the first byte; random: a random wrong tag.
        case wrongFirstByte
        /// 16-byte tags, fixed: wrong in the last byte only; random: wrong in one byte at a random position.
        case wrongPosition
        /// 16-byte tags, fixed: equal; random: wrong in the last byte only. The result differs between the classes,
        /// and it is public (the packet is accepted or dropped), so a difference here is not a leak of the tag.
        case equalVersusLastByte
        /// 4096-byte buffers with the control's classes: fixed wrong in the last byte, random bytes.
        case long
    }

    let classes: Classes
    let length: Int
    /// Calls per measurement: one call on 16 bytes takes about as long as reading the clock.
    let repetitions: Int
    let reference: [UInt8]
    let work: TimingBuffer

    init(_ classes: Classes, seed: UInt64) {
        self.classes = classes
        length = classes == .long ? EarlyExitControlSubject.length : 16
        repetitions = classes == .long ? 1 : 64
        var r = TimingRandom(seed: seed)
        reference = r.bytes(length)
        work = TimingBuffer(count: length)
    }

    var inputLength: Int { length }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        reference.withUnsafeBytes { input.copyMemory(from: $0) }
        switch (classes, inputClass) {
        case (.wrongFirstByte, .fixed):
            input[0] ^= 0x01
        case (.equalVersusLastByte, .fixed):
            break
        case (.equalVersusLastByte, .random):
            input[length - 1] ^= UInt8(1 + random.below(255))
        case (.wrongPosition, .fixed):
            input[length - 1] ^= 0x01
        case (.wrongPosition, .random):
            input[random.below(length)] ^= UInt8(1 + random.below(255))
        case (.long, .fixed):
            input[length - 1] ^= 0x01
        case (.wrongFirstByte, .random), (.long, .random):
            random.fill(input)
            if input.elementsEqual(reference) { input[0] ^= 0x01 }
        }
    }

    func stage(_ input: UnsafeRawBufferPointer) { work.load(input) }

    /// The results are added as bytes, without a select the compiler could turn into a branch, so that equal and
    /// unequal cost the harness the same.
    func run() -> Int {
        reference.withUnsafeBytes { ref in
            var equal = 0
            for _ in 0..<repetitions {
                equal &+= Int(unsafeBitCast(constantTimeEqual(work.readOnly, ref), to: UInt8.self))
            }
            return equal
        }
    }

    func checkPaths(random: inout TimingRandom) -> String? { nil }
}

/// The strict padding check after decryption, alone: `ESPTrailer.split` and `hasDefaultPadding` on a payload of 16
/// bytes with 255 bytes of padding (the most a pad length can say). Fixed class: the first padding byte wrong; random
/// class: one padding byte wrong at a random position.
final class PaddingCheckSubject: TimingSubject {
    static let payload = 16
    static let padding = 255
    let plaintext: [UInt8]
    var work: [UInt8]

    init(seed: UInt64) {
        var r = TimingRandom(seed: seed)
        plaintext = r.bytes(Self.payload) + ESPTrailer.defaultPadding(count: Self.padding)
            + [UInt8(Self.padding), IPProtocol.ipv4.rawValue]
        work = plaintext
    }

    var inputLength: Int { plaintext.count }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        plaintext.withUnsafeBytes { input.copyMemory(from: $0) }
        let position = inputClass == .fixed ? 0 : random.below(Self.padding)
        input[Self.payload + position] ^= 0x80
    }

    func stage(_ input: UnsafeRawBufferPointer) {
        work.withUnsafeMutableBytes { $0.copyMemory(from: input) }
    }

    func run() -> Int {
        guard let (_, trailer) = try? ESPTrailer.split(work[...]) else { return -1 }
        return trailer.hasDefaultPadding ? 1 : 0
    }

    func checkPaths(random: inout TimingRandom) -> String? {
        guard let (_, good) = try? ESPTrailer.split(plaintext[...]), good.hasDefaultPadding else {
            return "the reference padding is refused"
        }
        for c in [TimingClass.fixed, .random] {
            var input = [UInt8](repeating: 0, count: inputLength)
            input.withUnsafeMutableBytes { makeInput(c, into: $0, random: &random) }
            input.withUnsafeBytes { stage($0) }
            if run() != 0 { return "a \(c) input's padding is accepted" }
        }
        return nil
    }
}

/// `ESPTransform.open` with a wrong ICV on a 64-byte payload: fixed class: the right ICV with its first byte wrong;
/// random class: a random ICV. The payload is restored before every run (CCM zeroes it on failure).
final class ESPOpenSubject: TimingSubject {
    static let payloadLength = 64
    let transform: ESPTransform
    let aad: ESPAssociatedData
    let iv: [UInt8]
    let ciphertext: [UInt8]
    let tag: [UInt8]
    let payload: TimingBuffer
    let icv: TimingBuffer

    init(_ algorithm: ESPAlgorithm, seed: UInt64) throws(AnalysisError) {
        guard algorithm.icvLength > 0 else {
            throw AnalysisError("\(algorithm) has no ICV (confidentiality-only ESP): nothing to verify")
        }
        var r = TimingRandom(seed: seed)
        let encryptionKey = MatrixCell.keyBytes(algorithm.encryptionKeyLength, seed: 1)
        let integrityKey = MatrixCell.keyBytes(algorithm.integrityKeyLength, seed: 101)
        do {
            transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
            let sender = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
            let aad = ESPAssociatedData(spi: 0x1000, sequenceNumber: 1)
            let iv = r.bytes(algorithm.ivLength)
            var text = r.bytes(Self.payloadLength)
            var tag = [UInt8](repeating: 0, count: algorithm.icvLength)
            try iv.withUnsafeBytes { iv in
                try text.withUnsafeMutableBytes { text in
                    try tag.withUnsafeMutableBytes { tag in
                        try sender.seal(aad, iv: iv, payload: text, icv: tag)
                    }
                }
            }
            self.aad = aad
            self.iv = iv
            ciphertext = text
            self.tag = tag
        } catch {
            throw AnalysisError("\(algorithm): \(error)")
        }
        payload = TimingBuffer(count: Self.payloadLength)
        icv = TimingBuffer(count: algorithm.icvLength)
    }

    var inputLength: Int { tag.count }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        switch inputClass {
        case .fixed:
            tag.withUnsafeBytes { input.copyMemory(from: $0) }
            input[0] ^= 0x01
        case .random:
            random.fill(input)
            if input.elementsEqual(tag) { input[0] ^= 0x01 }
        }
    }

    func stage(_ input: UnsafeRawBufferPointer) {
        payload.load(ciphertext)
        icv.load(input)
    }

    func run() -> Int {
        iv.withUnsafeBytes { iv in
            switch Result(catching: { () throws(CryptoError) -> Bool in
                try transform.open(aad, iv: iv, payload: payload.bytes, icv: icv.readOnly)
            }) {
            case .success(let opened): opened ? 1 : 0
            case .failure: -1
            }
        }
    }

    func checkPaths(random: inout TimingRandom) -> String? {
        tag.withUnsafeBytes { stage($0) }
        guard run() == 1 else { return "the right ICV does not open" }
        for c in [TimingClass.fixed, .random] {
            var input = [UInt8](repeating: 0, count: inputLength)
            input.withUnsafeMutableBytes { makeInput(c, into: $0, random: &random) }
            input.withUnsafeBytes { stage($0) }
            switch run() {
            case 0: continue
            case 1: return "a \(c) ICV opens"
            default: return "open fails with an error on a \(c) ICV"
            }
        }
        return nil
    }
}

/// `AHTransform.verifyICV` with a wrong ICV over a 32-byte prefix and 64-byte suffix: fixed class: the right ICV
/// with the first byte of its tag wrong (for GMAC the tag follows an 8-byte IV); random class: a random ICV.
final class AHVerifySubject: TimingSubject {
    let transform: AHTransform
    let prefix: [UInt8]
    let suffix: [UInt8]
    let rightICV: [UInt8]
    let tagOffset: Int
    let icv: TimingBuffer

    init(_ algorithm: AHAlgorithm, seed: UInt64) throws(AnalysisError) {
        var r = TimingRandom(seed: seed)
        prefix = r.bytes(32)
        suffix = r.bytes(64)
        if case .aesGMAC = algorithm.integrity { tagOffset = 8 } else { tagOffset = 0 }
        var right = [UInt8](repeating: 0, count: algorithm.icvLength)
        do {
            transform = try AHTransform(algorithm, key: MatrixCell.keyBytes(algorithm.keyLength, seed: 55),
                                        ivSource: .seeded(seed))
            let (transform, prefix, suffix) = (transform, prefix, suffix)
            try prefix.withUnsafeBytes { p in
                try suffix.withUnsafeBytes { s in
                    try right.withUnsafeMutableBytes { icv in
                        try transform.computeICV(prefix: p, suffix: s, sequenceNumber: 1,
                                                 extendedSequenceNumbers: false, into: icv)
                    }
                }
            }
        } catch {
            throw AnalysisError("\(algorithm): \(error)")
        }
        rightICV = right
        icv = TimingBuffer(count: algorithm.icvLength)
    }

    var inputLength: Int { rightICV.count }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        switch inputClass {
        case .fixed:
            rightICV.withUnsafeBytes { input.copyMemory(from: $0) }
            input[tagOffset] ^= 0x01
        case .random:
            random.fill(input)
            if input.elementsEqual(rightICV) { input[tagOffset] ^= 0x01 }
        }
    }

    func stage(_ input: UnsafeRawBufferPointer) { icv.load(input) }

    func run() -> Int {
        prefix.withUnsafeBytes { p in
            suffix.withUnsafeBytes { s in
                switch Result(catching: { () throws(CryptoError) -> Bool in
                    try transform.verifyICV(prefix: p, suffix: s, sequenceNumber: 1, extendedSequenceNumbers: false,
                                            icv: icv.readOnly)
                }) {
                case .success(let verified): verified ? 1 : 0
                case .failure: -1
                }
            }
        }
    }

    func checkPaths(random: inout TimingRandom) -> String? {
        rightICV.withUnsafeBytes { stage($0) }
        guard run() == 1 else { return "the right ICV does not verify" }
        for c in [TimingClass.fixed, .random] {
            var input = [UInt8](repeating: 0, count: inputLength)
            input.withUnsafeMutableBytes { makeInput(c, into: $0, random: &random) }
            input.withUnsafeBytes { stage($0) }
            if run() != 0 { return "a \(c) ICV does not fail cleanly" }
        }
        return nil
    }
}

/// What the inbound path makes of the packets a decapsulation subject sends.
private func outcome(_ verdict: InboundVerdict) -> Int {
    switch verdict {
    case .accepted: 1
    case .dropped: 0
    }
}

/// A receiving SA in the tunnel mode of its protocol (IPv4), with the test keys, and the packets it opens.
struct TunnelFixture {
    let cell: MatrixCell
    let sad: SADatabase

    init(_ algorithm: SAAlgorithm) throws(AnalysisError) {
        let matrix: OverheadMode.Matrix
        switch algorithm {
        case .ah: matrix = .tunnelAH
        case .esp(let a): matrix = a.encryption.providesConfidentiality ? .tunnelESP : .tunnelESPNull
        }
        guard let mode = OverheadMode(matrix) else { throw AnalysisError("no mode \(matrix)") }
        cell = MatrixCell(mode: mode, algorithm: algorithm, version: .v4)
        sad = try Self.database(cell)
    }

    static func database(_ cell: MatrixCell) throws(AnalysisError) -> SADatabase {
        do {
            let sad = SADatabase()
            try sad.add(try SecurityAssociation(cell.configuration))
            return sad
        } catch {
            throw AnalysisError("\(cell.algorithm): \(error)")
        }
    }

    /// What a fresh receiver (its replay window untouched) makes of `packet`.
    func freshVerdict(_ packet: [UInt8]) -> InboundVerdict? {
        guard let sad = try? Self.database(cell) else { return nil }
        var out: [UInt8] = [], scratch: [UInt8] = []
        return Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch).verdict
    }
}

/// The whole inbound path, `Inbound.unprotect`, on forged tunnel-mode packets (IPv4, a 100-byte inner packet): the
/// headers (outer IP, SPI, sequence number 1; for AH its whole fixed part) are those of a real packet, everything
/// after them (IV, ciphertext and ICV; for AH the ICV and the inner packet) is forged. Fixed class: one forgery;
/// random class: a fresh random forgery. Every one is refused for its ICV, so the replay window never moves.
final class DecapForgerySubject: TimingSubject {
    let fixture: TunnelFixture
    let valid: [UInt8]
    /// Where the forged bytes begin.
    let forgedFrom: Int
    let fixedForgery: [UInt8]
    var packet: [UInt8]
    var out: [UInt8] = []
    var scratch: [UInt8] = []

    init(_ algorithm: SAAlgorithm, seed: UInt64) throws(AnalysisError) {
        fixture = try TunnelFixture(algorithm)
        var r = TimingRandom(seed: seed)
        var valid: [UInt8] = []
        do {
            let sender = try fixture.cell.sender(seed: seed)
            try Outbound.protect(fixture.cell.innerPacket(size: 100)[...], with: sender, into: &valid)
        } catch {
            throw AnalysisError("\(algorithm): \(error)")
        }
        self.valid = valid
        let ipHeader = Int(valid[0] & 0x0f) * 4
        forgedFrom = ipHeader + (fixture.cell.configuration.protocol == .esp ? ESPPacket.headerLength : 12)
        fixedForgery = Array(valid[..<forgedFrom]) + r.bytes(valid.count - forgedFrom)
        packet = valid
        out.reserveCapacity(2 * valid.count)
        scratch.reserveCapacity(2 * valid.count)
    }

    var inputLength: Int { valid.count }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        switch inputClass {
        case .fixed:
            fixedForgery.withUnsafeBytes { input.copyMemory(from: $0) }
        case .random:
            valid.withUnsafeBytes { input.copyMemory(from: $0) }
            random.fill(UnsafeMutableRawBufferPointer(rebasing: input[forgedFrom...]))
        }
    }

    func stage(_ input: UnsafeRawBufferPointer) {
        packet.withUnsafeMutableBytes { $0.copyMemory(from: input) }
    }

    func run() -> Int {
        outcome(Inbound.unprotect(packet[...], sad: fixture.sad, into: &out, scratch: &scratch).verdict)
    }

    func checkPaths(random: inout TimingRandom) -> String? {
        guard fixture.freshVerdict(valid) == .accepted else { return "the genuine packet is not accepted" }
        for c in [TimingClass.fixed, .random] {
            var input = [UInt8](repeating: 0, count: inputLength)
            input.withUnsafeMutableBytes { makeInput(c, into: $0, random: &random) }
            input.withUnsafeBytes { stage($0) }
            let verdict = Inbound.unprotect(packet[...], sad: fixture.sad, into: &out, scratch: &scratch).verdict
            guard verdict == .dropped(.integrity) else { return "a \(c) forgery gives \(verdict), not an ICV drop" }
        }
        return nil
    }
}

/// The whole inbound path on tunnel-mode ESP packets (IPv4, a 100-byte inner packet) whose ICV is valid but whose
/// padding is wrong — what only the key holder can make, or anyone when the SA has no integrity. The padding is as
/// long as the pad length byte allows (up to 255 bytes, whole cipher blocks). Fixed class: the first padding byte
/// wrong; random class: one padding byte wrong at a random position. Every packet has sequence number 1 and is
/// dropped for its padding, so the replay window never moves.
final class DecapPaddingSubject: TimingSubject {
    let fixture: TunnelFixture
    let paddingLength: Int
    /// `packets[p]` has padding byte `p` wrong; `packets[paddingLength]` is correct.
    let packets: [[UInt8]]
    var packet: [UInt8]
    var out: [UInt8] = []
    var scratch: [UInt8] = []

    init(_ algorithm: ESPAlgorithm, seed: UInt64) throws(AnalysisError) {
        fixture = try TunnelFixture(.esp(algorithm))
        let configuration = fixture.cell.configuration
        guard case .v4(let source) = configuration.source, case .v4(let destination) = configuration.destination
        else { throw AnalysisError("the fixture is not IPv4") }
        var r = TimingRandom(seed: seed)
        let inner = fixture.cell.innerPacket(size: 100)
        let unit = max(algorithm.blockSize, 4)
        paddingLength = (0...ESPTrailer.maximumPadding).last { (inner.count + $0 + 2) % unit == 0 }!
        var packets: [[UInt8]] = []
        do {
            let sender = try ESPTransform(algorithm, encryptionKey: configuration.encryptionKey,
                                          integrityKey: configuration.integrityKey)
            let aad = ESPAssociatedData(spi: configuration.spi, sequenceNumber: 1)
            for wrong in 0...paddingLength {
                var plaintext = inner + ESPTrailer.defaultPadding(count: paddingLength)
                    + [UInt8(paddingLength), IPProtocol.ipv4.rawValue]
                if wrong < paddingLength { plaintext[inner.count + wrong] ^= 0x80 }
                let iv = r.bytes(algorithm.ivLength)
                var esp = [UInt8](repeating: 0, count: ESPPacket.headerLength)
                esp[...].setWireUInt32(configuration.spi, at: 0)
                esp[...].setWireUInt32(1, at: 4)
                let payloadStart = esp.count + iv.count
                esp += iv + plaintext + [UInt8](repeating: 0, count: algorithm.icvLength)
                let icvStart = payloadStart + plaintext.count
                try esp.withUnsafeMutableBytes { bytes in
                    let ivRange = ESPPacket.headerLength..<payloadStart
                    try sender.seal(aad, iv: UnsafeRawBufferPointer(rebasing: bytes[ivRange]),
                                    payload: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart..<icvStart]),
                                    icv: UnsafeMutableRawBufferPointer(rebasing: bytes[icvStart...]))
                }
                var outer = IPv4Header(totalLength: UInt16(20 + esp.count), identification: 1, protocol: .esp,
                                       source: source, destination: destination)
                outer.updateChecksum()
                packets.append(try outer.serialized() + esp)
            }
        } catch {
            throw AnalysisError("\(algorithm): \(error)")
        }
        self.packets = packets
        packet = packets[0]
        out.reserveCapacity(2 * packet.count)
        scratch.reserveCapacity(2 * packet.count)
    }

    var inputLength: Int { packet.count }

    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {
        let wrong = inputClass == .fixed ? 0 : random.below(paddingLength)
        packets[wrong].withUnsafeBytes { input.copyMemory(from: $0) }
    }

    func stage(_ input: UnsafeRawBufferPointer) {
        packet.withUnsafeMutableBytes { $0.copyMemory(from: input) }
    }

    func run() -> Int {
        outcome(Inbound.unprotect(packet[...], sad: fixture.sad, into: &out, scratch: &scratch).verdict)
    }

    func checkPaths(random: inout TimingRandom) -> String? {
        guard paddingLength > 0 else { return "no padding to get wrong" }
        guard fixture.freshVerdict(packets[paddingLength]) == .accepted else {
            return "the packet with correct padding is not accepted"
        }
        for wrong in [0, paddingLength - 1] {
            let verdict = fixture.freshVerdict(packets[wrong])
            guard verdict == .dropped(.padding) else {
                let what = verdict.map { "\($0)" } ?? "nothing"
                return "padding wrong at byte \(wrong) gives \(what), not a padding drop"
            }
        }
        return nil
    }
}
