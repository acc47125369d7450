import ArgumentParser
import IPsecFuzz
import IPsecWire
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT: the campaign stops after its current batch and reports.
nonisolated(unsafe) private var fuzzInterrupted: sig_atomic_t = 0

struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuzz a parser or the inbound path of a mode, with crashes contained in a supervised worker.",
        discussion: """
            Targets run in a worker process (this binary, re-executed); a crash, hang or memory blow-up kills only \
            the worker: the input is saved, minimised and de-duplicated under --crashes, and fuzzing goes on. \
            --runs N runs N mutants after the initial corpus (0: replay the corpus only); without --runs or \
            --seconds the campaign runs for 60 seconds. Every run is reproducible from its seed. See docs/fuzzing.md.
            """
    )

    @Option(help: "The target (see --list).")
    var target: String?

    @Flag(help: "List the targets.")
    var list = false

    @Option(help: "Mutated inputs to run after the initial corpus (0: replay the corpus only).")
    var runs: Int?

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    @Option(help: "Seed for every random choice (default: a random seed, printed).")
    var seed: UInt64?

    @Option(help: "Corpus directory: read at start, new inputs written to it.")
    var corpus: String?

    @Option(help: "Where crash reproducers go (in a folder per target).")
    var crashes = "fuzz-crashes"

    @Option(help: "Run shard I of N (e.g. 0/4): the iterations I, I+N, I+2N, … of the seed's sequence.")
    var shard: String?

    @Option(help: "Seconds an input may run before it counts as a hang.")
    var timeout: Double = 10

    @Option(name: .customLong("memory-limit-mb"), help: "The worker's address-space limit in MiB.")
    var memoryLimitMB = 2048

    @Flag(help: "Leave out the target's built-in seeds (use only --corpus).")
    var noSeeds = false

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: .hidden)
    var inProcess = false

    @Option(help: .hidden)
    var batchSize = 64

    @Option(help: .hidden)
    var writeSeeds: String?

    @Option(help: .hidden)
    var writeDictionary: String?

    func validate() throws {
        if runs != nil && seconds != nil { throw ValidationError("give --runs or --seconds, not both") }
        if !list && target == nil { throw ValidationError("--target NAME is required (see --list)") }
        if let runs, runs < 0 { throw ValidationError("--runs must not be negative") }
        if batchSize < 1 { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try runReportingErrors {
            let out = StandardOutput()
            defer { out.flush() }
            if list {
                for t in FuzzTargets.listed {
                    out.write(json ? JSONValue.object([JSONMember("target", .string(t.name)),
                                                       JSONMember("summary", .string(t.summary))]).text
                                   : t.name.padding(to: 28) + t.summary)
                }
                return
            }
            let t = try FuzzTargets.require(target!)
            if writeSeeds != nil || writeDictionary != nil {
                if let dir = writeSeeds { try t.writeSeeds(to: dir) }
                if let path = writeDictionary { try FuzzIO.writeFile(path, Array(t.dictionaryText.utf8)) }
                return
            }
            var options = FuzzOptions()
            options.seed = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
            options.runs = runs
            options.seconds = seconds ?? (runs == nil ? 60 : nil)
            if let shard {
                let parts = shard.split(separator: "/")
                guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, (0..<n).contains(i) else {
                    throw FuzzError("--shard wants I/N with 0 ≤ I < N, not '\(shard)'")
                }
                options.shardIndex = i
                options.shardCount = n
            }
            options.corpusDirectory = corpus
            options.crashDirectory = crashes
            options.useBuiltInSeeds = !noSeeds
            options.timeoutSeconds = timeout
            options.memoryLimitMB = memoryLimitMB
            options.batchSize = batchSize
            let executor: any FuzzExecutor = inProcess
                ? InProcessExecutor(target: t)
                : SupervisedExecutor(target: t, executable: Self.executablePath(), options: options)
            signal(SIGINT) { _ in fuzzInterrupted = 1 }
            let onTerminal = isatty(2) == 1
            var lastProgress = 0.0
            let campaign = FuzzCampaign(target: t, options: options, executor: executor)
            let report = try campaign.run(shouldStop: { fuzzInterrupted != 0 }, progress: { p in
                guard onTerminal, p.seconds - lastProgress >= 1 else { return }
                lastProgress = p.seconds
                let rate = p.seconds > 0 ? Int(Double(p.executions) / p.seconds) : 0
                writeAll(2, Array("\r\(t.name): \(p.executions) execs (\(rate)/s), corpus \(p.corpusSize), features \(p.features), crashes \(p.crashes)   ".utf8))
            })
            if onTerminal && lastProgress > 0 { writeAll(2, Array("\n".utf8)) }
            if json {
                out.write(report.json.text)
            } else {
                out.write("\(report.target): \(report.executions) executions in "
                          + "\(String(format1: report.seconds)) s (\(Int(report.executionsPerSecond))/s), corpus "
                          + "\(report.corpusSize), features \(report.features), crashes \(report.crashes.count), "
                          + "seed \(report.seed)" + (report.shardCount > 1 ? ", shard \(report.shardIndex)/\(report.shardCount)" : ""))
                for c in report.crashes {
                    out.write("crash \(c.identifier) (\(c.kind))\(c.isNew ? "" : " [known]"): \(c.signature)")
                    out.write("  reproducer: \(c.reproducer) (\(c.reproducerSize) bytes)")
                }
            }
        }
    }

    /// This binary, for re-executing as a worker.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The worker half of `fuzz`: runs inputs from stdin (docs/fuzzing.md, "The supervisor"). Not for direct use.
struct FuzzWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fuzz-worker", shouldDisplay: false)

    @Option var target: String
    @Option(name: .customLong("memory-limit-mb")) var memoryLimitMB = 2048

    func run() throws {
        let t: FuzzTarget
        do { t = try FuzzTargets.require(target) } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let status = FuzzWorker.serve(target: t, memoryLimitMB: memoryLimitMB)
        if status != 0 { throw ExitCode(status) }
    }
}

private extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    init(format1 value: Double) { self = String((value * 10).rounded() / 10) }
}
