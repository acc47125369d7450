import IPsecCore
import IPsecCrypto
import IPsecWire

/// Published whole-packet known answers, run through the data plane in both directions.
///
/// Only RFC 3602 §4 cases 5 (transport) and 7 (tunnel) are whole, valid ESP packets that the data plane can be held
/// to byte for byte (facts.md, "Published known answers"); the other published ESP vectors are transform-level and
/// live in IPsecCrypto's tests. The bytes are copied from /work/shared/reference/published-vectors.txt [A] and [B].
public struct KnownAnswer: Sendable {
    public var name: String
    public var source: String
    public var configuration: SAConfiguration
    /// The IV the RFC's sender used.
    public var iv: [UInt8]
    /// The outer IPv4 identification of a tunnel-mode case.
    public var identification: [UInt8]?
    /// The packet before protection (tunnel mode: the inner packet).
    public var original: [UInt8]
    /// The packet on the wire.
    public var protected: [UInt8]

    /// The outcome of one direction of one case.
    public struct Check: Hashable, Sendable {
        public var name: String
        public var source: String
        public var direction: String
        public var passed: Bool
        public var detail: String
    }

    /// Protects `original` with the RFC's IV and compares every byte with `protected`; opens `protected` with a fresh
    /// SA and compares the result with `original`.
    public func run() -> [Check] {
        var checks: [Check] = []
        do {
            let sa = try SecurityAssociation(configuration, ivSource: .fixed(iv),
                                             identificationSource: identification.map { .fixed($0) } ?? .random)
            var out: [UInt8] = []
            try Outbound.protect(original[...], with: sa, into: &out)
            let same = out == protected
            checks.append(Check(name: name, source: source, direction: "protect", passed: same,
                                detail: same ? "\(out.count) bytes identical" : Self.firstDifference(out, protected)))
        } catch {
            checks.append(Check(name: name, source: source, direction: "protect", passed: false, detail: "\(error)"))
        }
        do {
            let sad = SADatabase()
            try sad.add(try SecurityAssociation(configuration))
            var out: [UInt8] = [], scratch: [UInt8] = []
            let r = Inbound.unprotect(protected[...], sad: sad, into: &out, scratch: &scratch)
            let same = r.verdict == .accepted && out == original
            let detail = r.verdict != .accepted ? "verdict \(r.verdict)"
                : same ? "\(out.count) bytes identical" : Self.firstDifference(out, original)
            checks.append(Check(name: name, source: source, direction: "unprotect", passed: same, detail: detail))
        } catch {
            checks.append(Check(name: name, source: source, direction: "unprotect", passed: false, detail: "\(error)"))
        }
        return checks
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            return "bytes differ from offset \(i) (\(a.count) vs \(b.count) bytes)"
        }
        return "lengths differ: \(a.count) vs \(b.count) bytes"
    }
}

public enum KnownAnswers {
    /// RFC 3602 §4 case #5: transport-mode ESP, AES-128-CBC, no ICV, an ICMP echo request.
    public static let rfc3602Case5 = KnownAnswer(
        name: "RFC 3602 case 5", source: "RFC 3602 §4 case #5 (transport-esp, aes128, IPv4)",
        configuration: SAConfiguration(protocol: .esp, spi: 0x4321, mode: .transport,
                                       source: IPAddress("192.168.123.3")!, destination: IPAddress("192.168.123.100")!,
                                       algorithm: .esp(try! ESPAlgorithm(encryption: .aesCBC(keyBits: 128))),
                                       encryptionKey: hex("90d382b410eeba7ad938c46cec1a82bf")),
        iv: hex("e96e8c08ab465763fd098d45dd3ff893"),
        identification: nil,
        original: hex("""
            45000054 08f20000 4001f9fe c0a87b03 c0a87b64
            08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
            18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637
            """),
        protected: hex("""
            4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64 00004321 00000001
            e96e8c08 ab465763 fd098d45 dd3ff893
            f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
            a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
            a269add0 47ad2d59 13ac19b7 cfbad4a6
            """))

    /// RFC 3602 §4 case #7: tunnel-mode ESP, AES-128-CBC, no ICV, sequence number 2.
    public static let rfc3602Case7: KnownAnswer = {
        var configuration = SAConfiguration(protocol: .esp, spi: 0x8765, mode: .tunnel,
                                            source: IPAddress("192.168.123.3")!,
                                            destination: IPAddress("192.168.123.200")!,
                                            algorithm: .esp(try! ESPAlgorithm(encryption: .aesCBC(keyBits: 128))),
                                            encryptionKey: hex("0123456789abcdef0123456789abcdef"))
        configuration.outboundSequence = 1  // the RFC's packet carries sequence number 2
        return KnownAnswer(
            name: "RFC 3602 case 7", source: "RFC 3602 §4 case #7 (tunnel-esp, aes128, IPv4)",
            configuration: configuration,
            iv: hex("f4e765244f6407adf13dc1380f673f37"),
            identification: [0x09, 0x05],
            original: hex("""
                45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a20400
                08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b
                2c2d2e2f3031323334353637
                """),
            protected: hex("""
                4500008c 09050000 4032f91e c0a87b03 c0a87bc8
                0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5
                ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c6
                47752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1
                e4dfe9d5a100b842f1c22f0d
                """))
    }()

    public static let all: [KnownAnswer] = [rfc3602Case5, rfc3602Case7]

    /// Bytes from hex text with whitespace; the literals above are checked by the tests.
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i + 1 < digits.count {
            out.append(UInt8(String(digits[i]) + String(digits[i + 1]), radix: 16) ?? 0)
            i += 2
        }
        return out
    }
}
