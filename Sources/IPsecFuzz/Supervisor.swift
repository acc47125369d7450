#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One worker process: the same binary re-executed as `fuzz-worker`, its stdin, stdout and stderr on pipes, in its
/// own process group (so a terminal's Ctrl-C reaches the supervisor, which then ends its workers itself).
final class WorkerProcess {
    enum Death: Equatable {
        case signal(Int32)
        case exit(Int32)
        case timeout
        /// The pipes closed but the process could not be reaped (should not happen).
        case unknown

        var kind: String {
            switch self {
            case .signal(let s): WorkerProcess.signalName(s)
            case .exit(let code): "exit \(code)"
            case .timeout: "timeout"
            case .unknown: "lost"
            }
        }
    }

    let pid: pid_t
    private var toWorker: Int32
    private var fromWorker: Int32
    private var errors: Int32
    /// The worker's stderr since the last batch began (bounded).
    private(set) var stderrText: [UInt8] = []
    private(set) var death: Death?
    private var pending: [UInt8] = []

    init(command: [String], environment: [String: String]) throws(FuzzError) {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw FuzzError("cannot create pipes for a worker: \(FuzzIO.errorText())")
        }
        // The parent's ends must not leak into later workers.
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // The supervisor ignores SIGPIPE; the worker gets the default dispositions back.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))

        var env: [String: String] = [:]
        var e = environ
        while let entry = e.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            e += 1
        }
        for (k, v) in environment { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw FuzzError("cannot start the fuzz worker \(command[0]): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        toWorker = stdinPipe[1]
        fromWorker = stdoutPipe[0]
        errors = stderrPipe[0]
    }

    deinit {
        terminate()
    }

    /// Waits for the hello. False if the worker died or did not answer in time.
    func handshake(timeout: Double) -> Bool {
        guard let bytes = receive(count: FuzzWorker.hello.count, deadline: FuzzIO.now() + timeout) else { return false }
        return bytes == FuzzWorker.hello
    }

    /// What the worker answered for one entry.
    struct Answer {
        var mutant: [UInt8]?
        var features: [UInt64] = []
        var seeds: [[UInt8]] = []
    }

    /// Runs `entries`; the answers, or nil if the worker died or hung (then `death` says how).
    func run(_ entries: [FuzzWorker.Entry], timeout: Double) -> [Answer]? {
        stderrText.removeAll(keepingCapacity: true)
        let deadline = FuzzIO.now() + timeout
        guard death == nil else { return nil }
        guard FuzzIO.writeAll(toWorker, FuzzWorker.request(entries)) else {
            reap(deadline: deadline)
            return nil
        }
        func string() -> [UInt8]? {
            guard let n = receive(count: 4, deadline: deadline) else { return nil }
            let length = Int(FuzzWorker.word32(n, 0))
            guard length <= FuzzWorker.maximumFrame else { return nil }
            return length == 0 ? [] : receive(count: length, deadline: deadline)
        }
        func features() -> [UInt64]? {
            guard let countBytes = receive(count: 4, deadline: deadline) else { return nil }
            let n = Int(FuzzWorker.word32(countBytes, 0))
            guard n <= 1 << 16, let raw = receive(count: 8 * n, deadline: deadline) else { return nil }
            return (0..<n).map { i in raw[(8 * i)..<(8 * i + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        }
        var answers: [Answer] = []
        answers.reserveCapacity(entries.count)
        for e in entries {
            var a = Answer()
            switch e.kind {
            case .run:
                guard let f = features() else { return nil }
                a.features = f
            case .mutateAndRun:
                guard let m = string(), let f = features() else { return nil }
                a.mutant = m
                a.features = f
            case .mutateOnly:
                guard let m = string() else { return nil }
                a.mutant = m
            case .seeds:
                guard let n = receive(count: 4, deadline: deadline) else { return nil }
                for _ in 0..<FuzzWorker.word32(n, 0) {
                    guard let seed = string() else { return nil }
                    a.seeds.append(seed)
                }
            }
            answers.append(a)
        }
        return answers
    }

    /// Reads `count` bytes from the worker's stdout, draining its stderr meanwhile (a worker that fills its stderr
    /// pipe would otherwise block and look hung). Nil when the worker dies or the deadline passes.
    private func receive(count: Int, deadline: Double) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while pending.count < count {
            let remaining = deadline - FuzzIO.now()
            if remaining <= 0 {
                kill(pid, SIGKILL)
                reap(deadline: FuzzIO.now() + 5)
                death = .timeout
                return nil
            }
            var fds = [pollfd(fd: fromWorker, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, nfds_t(fds[1].fd >= 0 ? 2 : 1), Int32(min(remaining * 1000, 1000) + 1))
            if ready < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if fds[1].fd >= 0, fds[1].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(errors, $0.baseAddress, $0.count) }
                if n > 0 {
                    if stderrText.count < 1 << 16 { stderrText += chunk[0..<n] }
                } else if n == 0 {
                    close(errors)
                    errors = -1
                }
            }
            if fds[0].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(fromWorker, $0.baseAddress, $0.count) }
                if n > 0 {
                    pending += chunk[0..<n]
                } else if n == 0 || (n < 0 && errno != EINTR) {
                    // End of stdout: the worker is gone. Collect the rest of its stderr, then its status.
                    drainErrors()
                    reap(deadline: deadline + 5)
                    return nil
                }
            }
        }
        let out = Array(pending.prefix(count))
        pending.removeFirst(count)
        return out
    }

    private func drainErrors() {
        guard errors >= 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while stderrText.count < 1 << 16 {
            var fd = [pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
            guard poll(&fd, 1, 2000) > 0 else { break }
            let n = chunk.withUnsafeMutableBytes { read(errors, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            stderrText += chunk[0..<n]
        }
    }

    /// Waits for the process to end and records how it did.
    private func reap(deadline: Double) {
        guard death == nil else { return }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR {
                death = .unknown
                return
            }
            if FuzzIO.now() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(1000)
        }
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import as functions.
        let signal = status & 0x7f
        death = signal != 0 && signal != 0x7f ? .signal(signal) : .exit((status >> 8) & 0xff)
    }

    /// Ends the worker: stdin closed (a healthy worker exits by itself), then killed if it lingers.
    func terminate() {
        if toWorker >= 0 { close(toWorker); toWorker = -1 }
        if death == nil {
            var status: Int32 = 0
            var reaped = false
            for _ in 0..<50 {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
                usleep(2000)
            }
            if !reaped {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
            }
            death = .exit(0)
        }
        if fromWorker >= 0 { close(fromWorker); fromWorker = -1 }
        if errors >= 0 { close(errors); errors = -1 }
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGTERM: "SIGTERM"
        default: "signal \(s)"
        }
    }
}

/// Runs a target in worker processes and survives them: when a worker dies (a trap, a signal, an exit) or hangs, the
/// batch is replayed one input at a time in fresh workers to find the culprit; the culprit is minimised (each
/// candidate in a fresh worker), identified by target, kind and signature, saved unless already known, and the
/// campaign goes on with a new worker.
public final class SupervisedExecutor: FuzzExecutor {
    let target: FuzzTarget
    let command: [String]
    let options: FuzzOptions
    private var worker: WorkerProcess?
    private var known = Set<String>()
    /// Crashes that did not reproduce alone (state carried between inputs, or flakiness), for the report.
    public private(set) var unreproducible = 0

    /// `executable` is the `ipsec-lab` binary to re-execute (`/proc/self/exe` from the tool itself).
    public init(target: FuzzTarget, executable: String, options: FuzzOptions) {
        self.target = target
        self.options = options
        command = [executable, "fuzz-worker", "--target", target.name, "--memory-limit-mb", "\(options.memoryLimitMB)"]
        signal(SIGPIPE, SIG_IGN)
    }

    deinit { close() }

    public func close() {
        worker?.terminate()
        worker = nil
    }

    /// Backtraces are worth their cost once per crash, for the log, not on every minimisation candidate.
    private func spawn(backtrace: Bool, trace: Bool = false) throws(FuzzError) -> WorkerProcess {
        let settings = backtrace
            ? "enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none,limit=32,top=12"
            : "enable=no"
        var environment = ["SWIFT_BACKTRACE": settings]
        if trace { environment[MutationTrace.variable] = "1" }
        let w = try WorkerProcess(command: command, environment: environment)
        guard w.handshake(timeout: 30) else {
            let text = String(decoding: w.stderrText, as: UTF8.self)
            throw FuzzError("the fuzz worker did not start (\(command.joined(separator: " "))): "
                            + (text.split(separator: "\n").first.map(String.init) ?? "no answer"))
        }
        return w
    }

    public func seeds() throws(FuzzError) -> [[UInt8]] {
        let w = try spawn(backtrace: true)
        defer { w.terminate() }
        guard let answers = w.run([FuzzWorker.Entry(kind: .seeds, seed: 0, first: [], second: [])],
                                  timeout: max(options.timeoutSeconds, 120)) else {
            let line = Self.signatureLine(String(decoding: w.stderrText, as: UTF8.self))
            throw FuzzError("the worker died (\((w.death ?? .unknown).kind)) making \(target.name)'s seeds: \(line)")
        }
        return answers[0].seeds
    }

    static func entry(_ request: FuzzRequest, kind: FuzzWorker.Kind? = nil) -> FuzzWorker.Entry {
        switch request {
        case .input(let bytes):
            return FuzzWorker.Entry(kind: .run, seed: 0, first: bytes, second: [])
        case let .mutate(parent, other, seed):
            return FuzzWorker.Entry(kind: kind ?? .mutateAndRun, seed: seed, first: parent, second: other)
        }
    }

    public func run(_ batch: [FuzzRequest]) throws(FuzzError) -> [ExecutionOutcome] {
        if worker == nil { worker = try spawn(backtrace: false) }
        if let answers = worker!.run(batch.map { Self.entry($0) }, timeout: options.timeoutSeconds) {
            return zip(batch, answers).map { request, answer in
                if case .input(let bytes) = request { return .ran(input: bytes, features: answer.features) }
                return .ran(input: answer.mutant ?? [], features: answer.features)
            }
        }
        let firstDeath = worker!.death ?? .unknown
        worker = nil
        // Replay one request at a time, mutation and run apart, to find what killed it.
        var outcomes: [ExecutionOutcome] = []
        var replay = try spawn(backtrace: false)
        var found = false
        for request in batch {
            var input: [UInt8]
            switch request {
            case .input(let bytes):
                input = bytes
            case .mutate:
                if let a = replay.run([Self.entry(request, kind: .mutateOnly)], timeout: options.timeoutSeconds) {
                    input = a[0].mutant ?? []
                } else {
                    found = true
                    replay = try spawn(backtrace: false)
                    switch try triageMutation(request) {
                    case .crash(let report):
                        outcomes.append(.crashed(report))
                        continue
                    case .reproducer(let bytes):
                        input = bytes
                    }
                }
            }
            if let r = replay.run([Self.entry(.input(input))], timeout: options.timeoutSeconds) {
                outcomes.append(.ran(input: input, features: r[0].features))
                continue
            }
            found = true
            outcomes.append(.crashed(try triage(input)))
            replay = try spawn(backtrace: false)
        }
        if !found {
            unreproducible += 1
            FuzzIO.writeError("ipsec-lab fuzz: a worker died (\(firstDeath.kind)) but no request of its batch "
                              + "reproduces it alone\n")
        }
        worker = replay
        return outcomes
    }

    enum MutationTriage {
        /// The mutator died on a buffer it had made, which the trace names: run that as an input instead.
        case reproducer([UInt8])
        /// The mutator died and the trace names nothing: reported as is, with parent and seed.
        case crash(CrashReport)
    }

    /// A structure-aware mutator died (it calls into the code under test, e.g. to open a packet). The mutation runs
    /// again with tracing on: the mutators write every buffer they hand to the code under test to stderr first, so
    /// the last one is a standalone reproducer of the crash. Without a trace, the parent, partner and seed are saved.
    private func triageMutation(_ request: FuzzRequest) throws(FuzzError) -> MutationTriage {
        let w = try spawn(backtrace: true, trace: true)
        defer { w.terminate() }
        if let a = w.run([Self.entry(request, kind: .mutateOnly)], timeout: options.timeoutSeconds) {
            // Not reproducible alone: the mutant it makes this time is the input to try.
            return .reproducer(a[0].mutant ?? [])
        }
        let text = String(decoding: w.stderrText, as: UTF8.self)
        if let traced = MutationTrace.lastInput(in: text) { return .reproducer(traced) }
        guard case let .mutate(parent, other, seed) = request else { return .reproducer([]) }
        let death = w.death ?? .unknown
        let line = Self.signatureLine(text)
        var signature = "while mutating: " + (line.isEmpty ? death.kind : line)
        if let frame = Self.crashFrame(text) { signature += " at " + frame }
        let identifier = String(ContentHash.hex(Array((target.name + "|mutate|" + death.kind + "|" + signature).utf8)).prefix(16))
        let dir = options.crashDirectory + "/" + target.name
        let path = dir + "/mutator-crash-" + identifier
        let isNew = known.insert(identifier).inserted && !FuzzIO.fileExists(path)
        if isNew {
            try FuzzIO.makeDirectories(dir)
            try FuzzIO.writeFile(path, parent)
            try FuzzIO.writeFile(path + ".other", other)
            let log = "target: \(target.name)\nkind: \(death.kind)\nsignature: \(signature)\nmutation seed: \(seed)\n"
                + "the structure-aware mutator crashed while mutating this parent (the file) with .other as splice "
                + "partner\n\n--- worker stderr ---\n" + String(text.prefix(12000))
            try FuzzIO.writeFile(path + ".log", Array(log.utf8))
        }
        return .crash(CrashReport(kind: death.kind, signature: signature, identifier: identifier, reproducer: path,
                                  reproducerSize: parent.count, original: path, isNew: isNew))
    }

    /// Runs one input in a fresh worker; how the worker died, with its stderr, or nil if it survived.
    private func runAlone(_ input: [UInt8], backtrace: Bool, timeout: Double) throws(FuzzError)
        -> (death: WorkerProcess.Death, stderr: String)? {
        let w = try spawn(backtrace: backtrace)
        defer { w.terminate() }
        if w.run([Self.entry(.input(input))], timeout: timeout) != nil { return nil }
        return (w.death ?? .unknown, String(decoding: w.stderrText, as: UTF8.self))
    }

    /// Reproduces, identifies, minimises and saves a crashing input.
    ///
    /// The identity is the target, how the worker died, the trap message and — when the message comes from the
    /// standard library ("Index out of range" says nothing of where) — the first frame of the backtrace in IPsecLab's
    /// code. A crash already known, earlier in this campaign or saved by an earlier one, costs one or two runs, not a
    /// minimisation: a campaign that keeps hitting the same bug keeps going.
    private func triage(_ input: [UInt8]) throws(FuzzError) -> CrashReport {
        let quick = try runAlone(input, backtrace: false, timeout: options.timeoutSeconds)
        var death = quick?.death ?? .unknown
        let line = Self.signatureLine(quick?.stderr ?? "")
        let specific = !line.isEmpty && !line.hasPrefix("Swift/")
        var traced: (death: WorkerProcess.Death, stderr: String)? = nil
        var frame: String? = nil
        if !specific {
            traced = try runAlone(input, backtrace: true, timeout: options.timeoutSeconds)
            frame = traced.flatMap { Self.crashFrame($0.stderr) }
            if let d = traced?.death { death = d }
        }
        let basis = specific ? line : (line.isEmpty && frame == nil ? ContentHash.hex(input) : line + " at " + (frame ?? ""))
        let identifier = String(ContentHash.hex(Array((target.name + "|" + death.kind + "|" + basis).utf8)).prefix(16))
        let dir = options.crashDirectory + "/" + target.name
        let path = dir + "/crash-" + identifier
        func signature(_ frame: String?) -> String {
            (line.isEmpty ? death.kind : line) + (frame.map { " at " + $0 } ?? "")
        }
        if !known.insert(identifier).inserted || FuzzIO.fileExists(path) {
            let size = (try? FuzzIO.readFile(path).count) ?? input.count
            return CrashReport(kind: death.kind, signature: signature(frame), identifier: identifier, reproducer: path,
                               reproducerSize: size, original: path + ".original", isNew: false)
        }
        let minimal = try minimize(input, death: death, line: line)
        // The minimised input's backtrace, for the log and the crash site.
        let last = try runAlone(minimal, backtrace: true, timeout: options.timeoutSeconds) ?? traced
        let stderr = last?.stderr ?? quick?.stderr ?? ""
        if frame == nil { frame = Self.crashFrame(stderr) }
        try FuzzIO.makeDirectories(dir)
        try FuzzIO.writeFile(path, minimal)
        try FuzzIO.writeFile(path + ".original", input)
        var log = "target: \(target.name)\nkind: \(death.kind)\nsignature: \(signature(frame))\n"
        log += "seed: \(options.seed)\nreproducer: \(minimal.count) bytes (original \(input.count) bytes)\n"
        log += "replay: ipsec-lab fuzz --target \(target.name) --no-seeds --corpus DIR --runs 0 (DIR holding the reproducer)\n"
        log += "\n--- worker stderr, minimised input ---\n" + String(stderr.prefix(12000))
        try FuzzIO.writeFile(path + ".log", Array(log.utf8))
        return CrashReport(kind: death.kind, signature: signature(frame), identifier: identifier, reproducer: path,
                           reproducerSize: minimal.count, original: path + ".original", isNew: true)
    }

    /// Shrinks `input` while it still kills a worker the same way (same kind, same trap message): chunks removed from
    /// large to single bytes, then bytes made zero. Every candidate runs in a worker process, never here; a worker
    /// that survives a candidate runs the next one (inputs do not share state), and each crash means a fresh worker.
    /// Bounded by `minimizeRuns` and `minimizeSeconds`.
    private func minimize(_ input: [UInt8], death: WorkerProcess.Death, line: String) throws(FuzzError) -> [UInt8] {
        var best = input
        var budget = options.minimizeRuns
        let deadline = FuzzIO.now() + options.minimizeSeconds
        // Candidates that hang cost a whole timeout each; give them a shorter one.
        let timeout = death == .timeout ? min(options.timeoutSeconds, 2) : options.timeoutSeconds
        var current: WorkerProcess? = nil
        defer { current?.terminate() }
        func crashes(_ candidate: [UInt8]) throws(FuzzError) -> Bool {
            budget -= 1
            if current == nil { current = try spawn(backtrace: false) }
            let w = current!
            if w.run([Self.entry(.input(candidate))], timeout: timeout) != nil { return false }
            current = nil
            let text = String(decoding: w.stderrText, as: UTF8.self)
            w.terminate()
            return w.death == death && Self.signatureLine(text) == line
        }
        var chunk = max(1, best.count / 2)
        while budget > 0, FuzzIO.now() < deadline {
            var i = 0
            while i < best.count, budget > 0, FuzzIO.now() < deadline {
                var candidate = best
                candidate.removeSubrange(i..<min(i + chunk, best.count))
                if try crashes(candidate) { best = candidate } else { i += chunk }
            }
            if chunk == 1 { break }
            chunk /= 2
        }
        var i = 0
        while i < best.count, budget > 0, FuzzIO.now() < deadline {
            if best[i] != 0 {
                var candidate = best
                candidate[i] = 0
                if try crashes(candidate) { best = candidate }
            }
            i += 1
        }
        return best
    }

    /// The line of a worker's stderr that names the crash: Swift's "Fatal error" line, else the crash reporter's
    /// headline, with addresses blanked (they move from run to run), else the first line.
    static func signatureLine(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map { String($0) }
        let pick = lines.first { $0.contains("Fatal error") } ?? lines.first { $0.contains("crashed") }
            ?? lines.first { !$0.hasPrefix("ipsec-lab fuzz: detail:") && !$0.isEmpty } ?? ""
        return blankAddresses(pick).trimmingWhitespace()
    }

    /// The first frame of the backtrace in IPsecLab's own code (not the standard library, not the fuzzer's
    /// plumbing), as "function (File.swift:line)".
    static func crashFrame(_ stderr: String) -> String? {
        for raw in stderr.split(separator: "\n") {
            let line = String(raw)
            guard line.contains(" in "), line.contains("/Sources/") else { continue }
            if line.contains("/Sources/IPsecFuzz/FuzzTarget.swift") || line.contains("/Sources/IPsecFuzz/FuzzWorker")
                || line.contains("/Sources/IPsecFuzz/ParserTargets.swift:") && line.contains("checkRoundTrip") {
                continue
            }
            // "N [ra] 0xADDRESS function + offset in image at /path/File.swift:line:column"
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let address = words.firstIndex(where: { $0.hasPrefix("0x") }),
                  let plus = words.lastIndex(of: "+"), plus > address + 1 else { continue }
            let function = words[(address + 1)..<plus].joined(separator: " ")
            var file = ""
            if let at = words.lastIndex(of: "at"), at + 1 < words.count {
                let location = words[at + 1].split(separator: "/").last.map(String.init) ?? ""
                // Keep file and line, drop the column.
                file = location.split(separator: ":").prefix(2).joined(separator: ":")
            }
            let text = function + (file.isEmpty ? "" : " (" + file + ")")
            return blankAddresses(text).trimmingWhitespace()
        }
        return nil
    }

    static func blankAddresses(_ s: String) -> String {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i...].hasPrefix("0x") {
                var j = s.index(i, offsetBy: 2)
                while j < s.endIndex, s[j].isHexDigit { j = s.index(after: j) }
                out += "0x…"
                i = j
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
