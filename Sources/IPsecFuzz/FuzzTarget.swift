/// One thing the fuzzer can aim at: a parser, a capture reader, an SA file format or the inbound path of one mode.
///
/// A target is a value that makes per-process objects: a harness that runs one input, and optionally a mutator that
/// knows the input's structure. Both are made once per process (a worker, a libFuzzer binary, a test) and reused for
/// every input; whatever per-input state matters (an SA's replay window) the harness makes fresh for each input, so
/// that an input's outcome never depends on the inputs before it and every reproducer replays alone.
public struct FuzzTarget: Sendable {
    /// The name used by `ipsec-lab fuzz --target`, the libFuzzer binaries and `corpora/<name>/`.
    public let name: String
    public let summary: String
    /// Hidden targets (the supervisor's self-test) are runnable but not listed.
    public let isHidden: Bool
    /// Inputs are cut to this many bytes before they run (libFuzzer's `-max_len` is set to it too).
    public let maximumInputLength: Int
    /// Tokens worth inserting whole: protocol numbers, magic numbers, keywords (also written as `<name>.dict`).
    public let dictionary: [[UInt8]]
    let makeHarness: @Sendable () -> any FuzzHarness
    let makeMutator: (@Sendable () -> any StructureMutator)?
    let makeSeeds: @Sendable () -> [[UInt8]]

    init(name: String, summary: String, isHidden: Bool = false, maximumInputLength: Int = 4096,
         dictionary: [[UInt8]] = [], harness: @escaping @Sendable () -> any FuzzHarness,
         mutator: (@Sendable () -> any StructureMutator)? = nil, seeds: @escaping @Sendable () -> [[UInt8]]) {
        self.name = name
        self.summary = summary
        self.isHidden = isHidden
        self.maximumInputLength = maximumInputLength
        self.dictionary = dictionary
        self.makeHarness = harness
        self.makeMutator = mutator
        self.makeSeeds = seeds
    }

    /// A fresh harness for this process.
    public func harness() -> any FuzzHarness { makeHarness() }

    /// A fresh structure-aware mutator, if the target has one.
    public func structureMutator() -> (any StructureMutator)? { makeMutator?() }

    /// The built-in seed inputs: generated packets and texts, valid or nearly so, deterministic.
    public func seeds() -> [[UInt8]] {
        makeSeeds().map { Array($0.prefix(maximumInputLength)) }
    }
}

/// Runs one input. Never throws: a parser's error is an outcome, reported as a feature. A broken oracle traps
/// (`FuzzOracle.fail`), which is what libFuzzer and the supervisor both recognise as a crash.
public protocol FuzzHarness: AnyObject {
    func execute(_ input: ArraySlice<UInt8>, feedback: inout FuzzFeedback)
}

/// Mutates an input with knowledge of its structure (length fields, next headers, options, trailers, …). `bytes` is
/// the byte-level mutator to apply to a part of the input (the engine's havoc, or libFuzzer's `LLVMFuzzerMutate`).
public protocol StructureMutator: AnyObject {
    /// Returns false when the input offers nothing to mutate structurally; the caller then falls back to bytes.
    func mutate(_ input: inout [UInt8], random: inout FuzzRandom, bytes: ByteMutation) -> Bool
}

/// A byte-level mutation of a buffer, bounded by a maximum length.
public typealias ByteMutation = (_ buffer: inout [UInt8], _ maximumLength: Int, _ random: inout FuzzRandom) -> Void

/// What an execution did, as a few stable 64-bit features: the stage a packet reached, the drop reason, the error
/// code and layer a parser gave up at, which layers a dissection found. The in-process engine and the supervisor
/// keep an input when it shows a feature not seen before; this is the fuzzer's guidance when it runs without
/// compiler coverage (libFuzzer adds its own coverage on top).
///
/// Features are hashed with a fixed function, never with Swift's per-process seeded `Hasher`, so that a worker
/// process and its supervisor agree on them.
public struct FuzzFeedback: Sendable {
    public private(set) var features: [UInt64] = []

    public init() {}

    public mutating func reset() { features.removeAll(keepingCapacity: true) }

    /// Adds the feature named `tag` with an optional small value.
    public mutating func add(_ tag: String, _ value: Int = 0) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in tag.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        features.append(FuzzRandom.mix(h ^ UInt64(bitPattern: Int64(value)) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Adds a feature for an error: its type and its description up to the first digit (codes and layers, not the
    /// numbers in the message, which would make every input look new).
    public mutating func add(error: any Error, in tag: String) {
        let text = "\(error)"
        add(tag + ":" + String(text.prefix(while: { !$0.isNumber }).prefix(60)))
    }
}

/// The oracles' way to fail: details on stderr, then a trap with a stable first line. The first line is what the
/// supervisor de-duplicates crashes by, so it names the target and the broken property, never the input's bytes.
public enum FuzzOracle {
    public static func fail(_ target: String, _ property: String, details: @autoclosure () -> String = "") -> Never {
        let text = details()
        if !text.isEmpty { FuzzIO.writeError("ipsec-lab fuzz: detail: " + text + "\n") }
        fatalError("IPsecFuzz oracle \(target): \(property)")
    }

    /// Checks `condition`; on failure, fails with `property`.
    @inline(__always)
    public static func check(_ condition: Bool, _ target: String, _ property: @autoclosure () -> String,
                             details: @autoclosure () -> String = "") {
        if !condition { fail(target, property(), details: details()) }
    }
}

/// Hex for details and reports.
func hexString(_ bytes: some Sequence<UInt8>, limit: Int = 256) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    var n = 0
    for b in bytes {
        if n == limit { out += Array("…".utf8); break }
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
        n += 1
    }
    return String(decoding: out, as: UTF8.self)
}

extension FuzzTarget {
    /// The dictionary in libFuzzer's (and AFL's) format: one quoted token a line, bytes outside printable ASCII
    /// escaped as `\xNN`.
    public var dictionaryText: String {
        var lines = ["# \(name): tokens for libFuzzer -dict= (generated by ipsec-lab fuzz --write-dictionary)"]
        for (i, token) in dictionary.enumerated() {
            var text = ""
            for b in token {
                if b >= 0x20 && b < 0x7f && b != 0x22 && b != 0x5c {
                    text.unicodeScalars.append(UnicodeScalar(b))
                } else {
                    text += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                }
            }
            lines.append("t\(i)=\"\(text)\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the built-in seeds to `directory`, one file each, named by content hash. Returns how many.
    @discardableResult
    public func writeSeeds(to directory: String) throws(FuzzError) -> Int {
        try FuzzIO.makeDirectories(directory)
        let all = seeds()
        for seed in all { try FuzzIO.writeFile(directory + "/seed-" + ContentHash.hex(seed).prefix(16), seed) }
        return all.count
    }
}
