import IPsecWire

/// How a campaign runs.
public struct FuzzOptions: Sendable {
    /// Every random choice derives from it: the same seed, target, corpus and options give the same inputs.
    public var seed: UInt64 = 1
    /// Mutated inputs to run after the initial corpus has run once (0: replay the corpus only). Nil: no limit.
    public var runs: Int? = nil
    /// Wall-clock limit. Nil: no limit (then `runs` must be set, or the caller must stop the campaign).
    public var seconds: Double? = nil
    /// `--shard I/N`: this campaign runs iterations I, I+N, I+2N, … of the seed's iteration space.
    public var shardIndex = 0
    public var shardCount = 1
    /// Files here join the initial corpus; inputs that show new behaviour are written here.
    public var corpusDirectory: String? = nil
    /// Reproducers go to `<crashDirectory>/<target>/`.
    public var crashDirectory = "fuzz-crashes"
    /// Whether the target's built-in seeds join the initial corpus.
    public var useBuiltInSeeds = true
    /// Inputs per round trip to the worker; part of what makes a run reproducible (see `FuzzCampaign`).
    public var batchSize = 64
    /// An input (or a batch) that runs longer is a hang.
    public var timeoutSeconds: Double = 10
    /// The worker's address-space limit.
    public var memoryLimitMB = 2048
    /// The in-memory corpus stops growing here.
    public var maximumCorpusSize = 4096
    /// At most this many candidate runs, and this much time, are spent minimising one crash.
    public var minimizeRuns = 300
    public var minimizeSeconds: Double = 30

    public init() {}
}

/// A crash found, minimised and saved.
public struct CrashReport: Sendable, Hashable {
    /// How the worker died: `SIGILL`, `SIGSEGV`, `timeout`, `exit 1`, …
    public var kind: String
    /// The line that identifies the crash: the trap message and where it happened, or the crash kind.
    public var signature: String
    /// Hash of target, kind and signature: the de-duplication key and the file name.
    public var identifier: String
    /// The minimised reproducer.
    public var reproducer: String
    public var reproducerSize: Int
    /// The input as the fuzzer first ran it.
    public var original: String
    /// Whether this campaign saw it first (false when a reproducer with this identifier was already saved).
    public var isNew: Bool
}

/// What a campaign did.
public struct FuzzReport: Sendable {
    public var target: String
    public var executions: Int
    public var seconds: Double
    public var crashes: [CrashReport]
    public var corpusSize: Int
    public var seed: UInt64
    public var shardIndex: Int
    public var shardCount: Int
    /// Distinct behaviours (features) seen.
    public var features: Int

    public var executionsPerSecond: Double { seconds > 0 ? Double(executions) / seconds : 0 }

    /// The `--json` object: `target`, `executions`, `executions_per_second`, `crashes`, `corpus_size`, `seed`, then
    /// the shard, the feature count, the wall time and the reproducers.
    public var json: JSONValue {
        let reproducers: [JSONValue] = crashes.map {
            .object([JSONMember("identifier", .string($0.identifier)), JSONMember("kind", .string($0.kind)),
                     JSONMember("signature", .string($0.signature)), JSONMember("reproducer", .string($0.reproducer)),
                     JSONMember("size", .int($0.reproducerSize)), JSONMember("new", .bool($0.isNew))])
        }
        return .object([
            JSONMember("target", .string(target)), JSONMember("executions", .int(executions)),
            JSONMember("executions_per_second", .double((executionsPerSecond * 10).rounded() / 10)),
            JSONMember("crashes", .int(crashes.count)), JSONMember("corpus_size", .int(corpusSize)),
            // A seed above Int.max would not survive JSON readers that parse numbers as doubles; the CLI's seeds fit.
            JSONMember("seed", seed <= UInt64(Int.max) ? .int(Int(seed)) : .string(String(seed))),
            JSONMember("shard", .string("\(shardIndex)/\(shardCount)")), JSONMember("features", .int(features)),
            JSONMember("seconds", .double((seconds * 100).rounded() / 100)), JSONMember("reproducers", .array(reproducers)),
        ])
    }
}

/// Progress, for a terminal.
public struct FuzzProgress: Sendable {
    public var executions: Int
    public var seconds: Double
    public var corpusSize: Int
    public var crashes: Int
    public var features: Int
}

/// One unit of work for an executor.
public enum FuzzRequest: Sendable, Equatable {
    /// Run this input as it is (the initial corpus).
    case input([UInt8])
    /// Make a mutant of `parent` (splicing with `other`) with the generator seeded by `seed`, then run it.
    case mutate(parent: [UInt8], other: [UInt8], seed: UInt64)
}

/// What running one request showed.
public enum ExecutionOutcome: Sendable {
    /// It ran: the input that ran (the mutant, for a mutation request) and the features the executor had not
    /// reported before.
    case ran(input: [UInt8], features: [UInt64])
    /// It crashed the worker; the crash has been triaged.
    case crashed(CrashReport)
}

/// Mutates and runs batches of inputs: in this process, or in a supervised worker. Mutation happens where the
/// target runs, because structure-aware mutators call into the code under test (the inbound mutators open and seal
/// packets), and a crash there must not take the supervisor down.
public protocol FuzzExecutor: AnyObject {
    /// The target's built-in seeds, made where the target runs (making them seals packets).
    func seeds() throws(FuzzError) -> [[UInt8]]
    func run(_ batch: [FuzzRequest]) throws(FuzzError) -> [ExecutionOutcome]
    /// Stops any worker.
    func close()
}

/// Runs inputs in this process. A crash takes the process down: this is for tests, replays and libFuzzer-like
/// embedding, where the caller wants speed and accepts that.
public final class InProcessExecutor: FuzzExecutor {
    let target: FuzzTarget
    let harness: any FuzzHarness
    let schedule: MutationSchedule
    private var seen = Set<UInt64>()
    private var feedback = FuzzFeedback()

    public init(target: FuzzTarget) {
        self.target = target
        harness = target.harness()
        schedule = MutationSchedule(target: target)
    }

    public func seeds() -> [[UInt8]] { target.seeds() }

    public func run(_ batch: [FuzzRequest]) -> [ExecutionOutcome] {
        batch.map { request in
            let input = schedule.input(for: request)
            return .ran(input: input, features: execute(input))
        }
    }

    /// Runs one input; the features not reported before.
    func execute(_ input: [UInt8]) -> [UInt64] {
        feedback.reset()
        harness.execute(input.prefix(target.maximumInputLength), feedback: &feedback)
        return feedback.features.filter { seen.insert($0).inserted }
    }

    public func close() {}
}

/// The mutation schedule: one to four stacked mutations per input, half of them structure-aware when the target
/// has a structure mutator, the rest byte-level havoc (dictionary tokens and splicing with another corpus entry
/// included).
public struct MutationSchedule {
    let bytes: ByteMutator
    let structure: (any StructureMutator)?
    let maximumLength: Int

    public init(target: FuzzTarget) {
        bytes = ByteMutator(dictionary: target.dictionary)
        structure = target.structureMutator()
        maximumLength = target.maximumInputLength
    }

    /// The input a request stands for.
    public func input(for request: FuzzRequest) -> [UInt8] {
        switch request {
        case .input(let bytes):
            return bytes
        case let .mutate(parent, other, seed):
            var r = FuzzRandom(seed: seed)
            return mutant(of: parent, other: other, random: &r)
        }
    }

    /// A mutant of `parent`; `other` is a corpus entry to splice with.
    public func mutant(of parent: [UInt8], other: [UInt8], random r: inout FuzzRandom) -> [UInt8] {
        var x = parent
        let rounds = r.chance(1, in: 2) ? 1 : 1 + r.below(4)
        let havoc = bytes
        for _ in 0..<rounds {
            if let structure, r.chance(1, in: 2),
               structure.mutate(&x, random: &r, bytes: { b, limit, rr in havoc.mutate(&b, maximumLength: limit, random: &rr) }) {
                continue
            }
            bytes.mutate(&x, maximumLength: maximumLength, random: &r, splice: other)
        }
        if x.count > maximumLength { x.removeLast(x.count - maximumLength) }
        return x
    }
}

/// A campaign against one target: run the initial corpus, then mutate corpus entries in batches, keeping every
/// mutant that shows a feature not seen before, until the run count or the time is up.
///
/// Reproducibility: iteration k's mutant is made with a generator derived from (seed, k) from the corpus as it stood
/// when k's batch began, and the corpus grows in a fixed order from deterministic feedback. With `runs` the whole
/// campaign is a function of its inputs; with `seconds` every campaign is a prefix of the same sequence. A shard
/// I/N runs the iterations k ≡ I (mod N), so N shards cover the space without repeating each other.
public final class FuzzCampaign {
    public let target: FuzzTarget
    public let options: FuzzOptions
    let executor: any FuzzExecutor
    public private(set) var corpus: [[UInt8]] = []
    private var corpusKeys = Set<String>()
    private var features = Set<UInt64>()
    private var crashes: [CrashReport] = []
    private var executions = 0

    public init(target: FuzzTarget, options: FuzzOptions, executor: any FuzzExecutor) {
        self.target = target
        self.options = options
        self.executor = executor
    }

    /// Runs the campaign. `shouldStop` is polled between batches (an interrupt); `progress` is called after each.
    public func run(shouldStop: () -> Bool = { false },
                    progress: ((FuzzProgress) -> Void)? = nil) throws(FuzzError) -> FuzzReport {
        let start = FuzzIO.now()
        defer { executor.close() }
        if let dir = options.corpusDirectory { try FuzzIO.makeDirectories(dir) }
        // The initial corpus: built-in seeds, then the corpus directory's files in name order.
        var initial = options.useBuiltInSeeds ? try executor.seeds() : []
        if let dir = options.corpusDirectory {
            for path in try FuzzIO.listFiles(dir) {
                initial.append(Array(try FuzzIO.readFile(path).prefix(target.maximumInputLength)))
            }
        }
        var unique: [[UInt8]] = []
        var keys = Set<String>()
        for input in initial where keys.insert(ContentHash.hex(input)).inserted { unique.append(input) }
        for chunk in stride(from: 0, to: unique.count, by: options.batchSize) {
            let batch = Array(unique[chunk..<min(chunk + options.batchSize, unique.count)])
            let outcomes = try executor.run(batch.map { .input($0) })
            for outcome in outcomes {
                switch outcome {
                case let .ran(input, f):
                    for feature in f { features.insert(feature) }
                    addToCorpus(input, write: false)
                case .crashed(let report):
                    record(report)
                }
            }
            executions += batch.count
            if shouldStop() { break }
        }
        if corpus.isEmpty { addToCorpus([0], write: false) }
        progress?(snapshot(start))

        var iteration = 0
        var mutants = 0
        let shardCount = max(1, options.shardCount)
        while !shouldStop() {
            if let runs = options.runs, mutants >= runs { break }
            if let seconds = options.seconds, FuzzIO.now() - start >= seconds { break }
            var size = options.batchSize
            if let runs = options.runs { size = min(size, runs - mutants) }
            var batch: [FuzzRequest] = []
            batch.reserveCapacity(size)
            for _ in 0..<size {
                let k = UInt64(options.shardIndex + shardCount * iteration)
                iteration += 1
                var r = FuzzRandom(seed: options.seed, iteration: k)
                let parent = corpus[r.below(corpus.count)]
                let other = corpus[r.below(corpus.count)]
                batch.append(.mutate(parent: parent, other: other, seed: r.next()))
            }
            let outcomes = try executor.run(batch)
            for outcome in outcomes {
                switch outcome {
                case let .ran(input, f):
                    var isNew = false
                    for feature in f where features.insert(feature).inserted { isNew = true }
                    if isNew { addToCorpus(input, write: true) }
                case .crashed(let report):
                    record(report)
                }
            }
            executions += batch.count
            mutants += batch.count
            progress?(snapshot(start))
        }
        return FuzzReport(target: target.name, executions: executions, seconds: FuzzIO.now() - start,
                          crashes: crashes, corpusSize: corpus.count, seed: options.seed,
                          shardIndex: options.shardIndex, shardCount: shardCount, features: features.count)
    }

    private func snapshot(_ start: Double) -> FuzzProgress {
        FuzzProgress(executions: executions, seconds: FuzzIO.now() - start, corpusSize: corpus.count,
                     crashes: crashes.count, features: features.count)
    }

    private func record(_ report: CrashReport) {
        if !crashes.contains(where: { $0.identifier == report.identifier }) { crashes.append(report) }
    }

    private func addToCorpus(_ input: [UInt8], write: Bool) {
        guard corpus.count < options.maximumCorpusSize else { return }
        let key = ContentHash.hex(input)
        guard corpusKeys.insert(key).inserted else { return }
        corpus.append(input)
        if write, let dir = options.corpusDirectory {
            try? FuzzIO.writeFile(dir + "/" + key, input)
        }
    }
}
