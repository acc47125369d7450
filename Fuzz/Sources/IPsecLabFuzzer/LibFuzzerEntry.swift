// The libFuzzer entry points (https://llvm.org/docs/LibFuzzer.html): LLVMFuzzerInitialize picks the target,
// LLVMFuzzerTestOneInput runs one input through the same harness `ipsec-lab fuzz` uses (so a crash here is a crash
// there, with the same oracles), and LLVMFuzzerCustomMutator lets the target's structure-aware mutator — for the
// inbound targets, the one that re-seals mutants with the SA's keys — work alongside libFuzzer's own mutations.
// This file must not be named main.swift: with -parse-as-library the entry point is libFuzzer's main.
import IPsecFuzz
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer calls these from one thread.
nonisolated(unsafe) private var target: FuzzTarget?
nonisolated(unsafe) private var harness: (any FuzzHarness)?
nonisolated(unsafe) private var mutator: (any StructureMutator)?
nonisolated(unsafe) private var feedback = FuzzFeedback()

@_silgen_name("LLVMFuzzerMutate")
private func libFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>)
    -> Int32 {
    // Swift's crash reporter would catch a trap before libFuzzer does, and libFuzzer would then neither save the
    // input nor minimise it. The reporter is configured only from the environment at start-up, so start again with
    // it off (once: the variable is then set).
    if getenv("SWIFT_BACKTRACE") == nil, let args = argv.pointee {
        setenv("SWIFT_BACKTRACE", "enable=no", 1)
        execv("/proc/self/exe", args)
    }
    let program = argv.pointee?.pointee.map { String(cString: $0) } ?? ""
    let invoked = program.split(separator: "/").last.map(String.init) ?? program
    let requested = getenv("IPSECLAB_FUZZ_TARGET").map { String(cString: $0) }
    if requested == "list" {
        // For build.sh: every target with its maximum input length.
        for t in FuzzTargets.listed { print("\(t.name) \(t.maximumInputLength)") }
        // _exit, not exit: under AddressSanitizer, LeakSanitizer would count the strings above at exit.
        fflush(nil)
        _exit(0)
    }
    guard let chosen = FuzzTargets.named(invoked) ?? requested.flatMap(FuzzTargets.named) else {
        let names = FuzzTargets.listed.map(\.name).joined(separator: ", ")
        FuzzIO.writeError("ipsec-lab-fuzzer: run me as one of \(names) (a copy named after the target), "
                          + "or set IPSECLAB_FUZZ_TARGET\n")
        exit(1)
    }
    target = chosen
    harness = chosen.harness()
    mutator = chosen.structureMutator()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target, let harness else { return 0 }
    let count = min(size, target.maximumInputLength)
    let input: [UInt8] = count > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: count)) : []
    feedback.reset()
    harness.execute(input[...], feedback: &feedback)
    return 0
}

@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzerCustomMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int,
                                _ seed: UInt32) -> Int {
    var random = FuzzRandom(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15)
    guard let mutator, random.chance(1, in: 2) else { return libFuzzerMutate(data, size, maxSize) }
    var buffer = Array(UnsafeBufferPointer(start: data, count: size))
    // Parts of the input (a plaintext, a payload) get libFuzzer's own byte mutations.
    let bytes: ByteMutation = { part, limit, _ in
        let capacity = max(limit, part.count, 1)
        var work = part + [UInt8](repeating: 0, count: capacity - part.count)
        let n = work.withUnsafeMutableBufferPointer { libFuzzerMutate($0.baseAddress!, part.count, capacity) }
        part = Array(work.prefix(n))
    }
    guard mutator.mutate(&buffer, random: &random, bytes: bytes) else { return libFuzzerMutate(data, size, maxSize) }
    let n = min(buffer.count, maxSize)
    buffer.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: n) }
    return n
}
