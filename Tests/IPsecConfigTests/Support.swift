import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Deterministic key material with letters in it (so no key looks like a decimal number), as bytes and as hex.
func keyBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: 0xa1 &+ UInt8(truncatingIfNeeded: $0) &* 13 &+ seed) }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func keyHex(_ count: Int, seed: UInt8 = 0) -> String { hex(keyBytes(count, seed: seed)) }

func address(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
    return a
}

func prefix(_ text: String) -> IPPrefix {
    guard let p = IPPrefix(text) else { preconditionFailure("bad test prefix \(text)") }
    return p
}

func esp(_ keyword: String) throws -> SAAlgorithm { .esp(try ESPAlgorithm(keyword: keyword)) }
func ah(_ keyword: String) throws -> SAAlgorithm { .ah(try AHAlgorithm(keyword: keyword)) }

/// Parses `text` and expects success.
func parse(_ text: String, origin: String = "sa.conf") throws -> SAFile {
    try SAFile.parse(text, origin: origin)
}

/// Parses `text`, expects a `ConfigError` and checks what every error must be: one line, starting with the file and
/// the expected line, with none of `secrets` (key hex) in it, in either case.
@discardableResult
func expectError(_ text: String, origin: String = "sa.conf", code: ConfigError.Code, line: Int?,
                 mentions: [String] = [], secrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation)
    -> ConfigError?
{
    do {
        let file = try SAFile.parse(text, origin: origin)
        let expectedLine = line.map { String($0) } ?? "-"
        Issue.record("expected \(code) at line \(expectedLine), but parsed \(file.associations.count) SA(s)",
                     sourceLocation: sourceLocation)
        return nil
    } catch {
        checkError(error, origin: origin, code: code, line: line, mentions: mentions, secrets: secrets,
                   sourceLocation: sourceLocation)
        return error
    }
}

func checkError(_ error: ConfigError, origin: String, code: ConfigError.Code, line: Int?, mentions: [String] = [],
                secrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    let message = error.description
    #expect(error.code == code, "\(message)", sourceLocation: sourceLocation)
    #expect(error.line == line, "\(message)", sourceLocation: sourceLocation)
    #expect(!message.contains("\n") && !message.contains("\r"), "one line: \(message)", sourceLocation: sourceLocation)
    let location = line.map { "\(origin):\($0): " } ?? "\(origin): "
    #expect(message.hasPrefix(location), "\(message)", sourceLocation: sourceLocation)
    for word in mentions {
        #expect(message.contains(word), "expected '\(word)' in: \(message)", sourceLocation: sourceLocation)
    }
    for secret in secrets {
        #expect(!leaks(message, secret), "key material in: \(message)", sourceLocation: sourceLocation)
    }
}

/// Whether `message` contains 8 or more consecutive hex digits of `secret` (either case).
func leaks(_ message: String, _ secret: String) -> Bool {
    let s = Array(secret.lowercased().utf8)
    guard s.count >= 8 else { return message.lowercased().contains(secret.lowercased()) }
    return leaks(message, windows: Set((0...(s.count - 8)).map { Array(s[$0..<($0 + 8)]) }))
}

/// The same, against precomputed 8-byte windows of the secrets (for the many messages of the randomized tests).
func leaks(_ message: String, windows: Set<[UInt8]>) -> Bool {
    let m = Array(message.lowercased().utf8)
    guard m.count >= 8 else { return false }
    return (0...(m.count - 8)).contains { windows.contains(Array(m[$0..<($0 + 8)])) }
}

func secretWindows(_ secrets: [String]) -> Set<[UInt8]> {
    var out: Set<[UInt8]> = []
    for secret in secrets {
        let s = Array(secret.lowercased().utf8)
        for start in 0...(s.count - 8) { out.insert(Array(s[start..<(start + 8)])) }
    }
    return out
}

/// A small deterministic generator (SplitMix64) for the randomized tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
