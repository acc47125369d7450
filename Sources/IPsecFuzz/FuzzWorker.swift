#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker side of a supervised campaign: `ipsec-lab fuzz-worker --target NAME` makes mutants and runs them as
/// requests arrive on stdin, and answers on stdout, until stdin closes. If a request kills it, the supervisor
/// notices and starts another. Everything that touches the code under test — the seeds (which seal packets), the
/// structure-aware mutators (which open and re-seal them) and the harness — runs here, never in the supervisor.
///
/// The protocol (integers big-endian):
/// - on start, the worker writes the 8-byte hello: "IPLF" and the protocol version (2);
/// - a request is a batch: count (u32), then per entry a kind (u8), a generator seed (u64) and two byte strings
///   (u32 length, bytes): the input or parent, and the splice partner;
/// - kinds: 0 run the input; 1 mutate, then run the mutant; 2 mutate only; 3 make the seeds (one entry alone);
/// - the answer, once the whole batch has run, is per entry: the mutant (kinds 1 and 2), then the features not
///   reported before (kinds 0 and 1: u32 count, u64 each); for kind 3, the seed count and the seeds.
public enum FuzzWorker {
    static let hello: [UInt8] = Array("IPLF".utf8) + [0, 0, 0, 2]
    /// No input is longer; a larger length means the stream is out of step.
    static let maximumFrame = 1 << 20

    enum Kind: UInt8 {
        case run = 0
        case mutateAndRun = 1
        case mutateOnly = 2
        case seeds = 3
    }

    struct Entry {
        var kind: Kind
        var seed: UInt64
        var first: [UInt8]
        var second: [UInt8]
    }

    /// Serves `target` on stdin/stdout. Returns when stdin closes (exit status 0) or the stream is malformed.
    public static func serve(target: FuzzTarget, memoryLimitMB: Int) -> Int32 {
        limitResources(memoryLimitMB: memoryLimitMB)
        let executor = InProcessExecutor(target: target)
        guard FuzzIO.writeAll(1, hello) else { return 1 }
        var answer: [UInt8] = []
        while true {
            guard let header = FuzzIO.readExactly(0, 4) else { return 0 }
            let count = Int(word32(header, 0))
            var entries: [Entry] = []
            for _ in 0..<count {
                guard let fixed = FuzzIO.readExactly(0, 9), let kind = Kind(rawValue: fixed[0]),
                      let first = readString(), let second = readString() else { return 1 }
                var seed: UInt64 = 0
                for k in 1...8 { seed = seed << 8 | UInt64(fixed[k]) }
                entries.append(Entry(kind: kind, seed: seed, first: first, second: second))
            }
            answer.removeAll(keepingCapacity: true)
            for e in entries {
                switch e.kind {
                case .run:
                    appendFeatures(&answer, executor.execute(e.first))
                case .mutateAndRun, .mutateOnly:
                    let mutant = executor.schedule.input(for: .mutate(parent: e.first, other: e.second, seed: e.seed))
                    appendString(&answer, mutant)
                    if e.kind == .mutateAndRun { appendFeatures(&answer, executor.execute(mutant)) }
                case .seeds:
                    let seeds = target.seeds()
                    append32(&answer, UInt32(seeds.count))
                    for s in seeds { appendString(&answer, s) }
                }
            }
            guard FuzzIO.writeAll(1, answer) else { return 1 }
        }
    }

    private static func readString() -> [UInt8]? {
        guard let lengthBytes = FuzzIO.readExactly(0, 4) else { return nil }
        let length = Int(word32(lengthBytes, 0))
        guard length <= maximumFrame else { return nil }
        return length == 0 ? [] : FuzzIO.readExactly(0, length)
    }

    /// No core files (a crash is expected, and a core per crash fills disks) and a bounded address space, so that a
    /// runaway allocation ends the worker rather than the machine.
    static func limitResources(memoryLimitMB: Int) {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        if memoryLimitMB > 0 {
            let bytes = rlim_t(memoryLimitMB) << 20
            var limit = rlimit(rlim_cur: bytes, rlim_max: bytes)
            _ = setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        }
    }

    static func word32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func append32(_ out: inout [UInt8], _ v: UInt32) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(k)))) }
    }

    static func append64(_ out: inout [UInt8], _ v: UInt64) {
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64(k)))) }
    }

    static func appendString(_ out: inout [UInt8], _ s: [UInt8]) {
        append32(&out, UInt32(s.count))
        out += s
    }

    static func appendFeatures(_ out: inout [UInt8], _ features: [UInt64]) {
        append32(&out, UInt32(features.count))
        for f in features { append64(&out, f) }
    }

    /// A request frame for `entries`.
    static func request(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + entries.reduce(0) { $0 + 17 + $1.first.count + $1.second.count })
        append32(&out, UInt32(entries.count))
        for e in entries {
            out.append(e.kind.rawValue)
            append64(&out, e.seed)
            appendString(&out, e.first)
            appendString(&out, e.second)
        }
        return out
    }
}

/// Tracing for the triage of a mutator that crashed: with IPSECLAB_FUZZ_TRACE_MUTATION set, a mutator writes every
/// buffer it is about to hand to the code under test to stderr, so that the last line before a crash is a
/// standalone reproducer (an input of the same target).
enum MutationTrace {
    static let variable = "IPSECLAB_FUZZ_TRACE_MUTATION"
    static let enabled: Bool = getenv(variable) != nil
    static let prefix = "ipsec-lab fuzz: trace input "

    /// Notes `bytes`, an input of this target that a mutator is about to run through the code under test.
    static func input(_ bytes: [UInt8]) {
        guard enabled else { return }
        FuzzIO.writeError(prefix + hexString(bytes, limit: Int.max) + "\n")
    }

    /// The last traced input in a worker's stderr.
    static func lastInput(in text: String) -> [UInt8]? {
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else { return nil }
        let digits = Array(line.dropFirst(prefix.count).utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < digits.count {
            guard let hi = hexValue(digits[i]), let lo = hexValue(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
