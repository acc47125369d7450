#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A hidden target that proves the supervisor: it traps when the input contains `FUZZ!`, hangs on `SLOW!` and
/// exhausts memory on `HUGE!`. A campaign against it must survive each, save the input, minimise it to the five
/// bytes and carry on. The features reward partial matches so that mutation finds the patterns quickly.
enum SelfTestTarget {
    static let crashPattern = Array("FUZZ!".utf8)
    static let hangPattern = Array("SLOW!".utf8)
    static let memoryPattern = Array("HUGE!".utf8)

    static let target = FuzzTarget(
        name: "selftest-crash", summary: "the supervisor's self-test: traps on FUZZ!, hangs on SLOW!, exhausts memory on HUGE!",
        isHidden: true, maximumInputLength: 256, dictionary: [Array("FUZZ!".utf8), Array("!".utf8)],
        harness: { FunctionHarness { input, feedback in run(input, &feedback) } },
        seeds: { [Array("hello FUZZ world".utf8), Array("xxFUxx".utf8), Array("SLOW".utf8)] })

    static func run(_ input: ArraySlice<UInt8>, _ feedback: inout FuzzFeedback) {
        let bytes = Array(input)
        for (name, pattern) in [("crash", crashPattern), ("hang", hangPattern), ("memory", memoryPattern)] {
            feedback.add("selftest " + name, longestPrefixMatch(bytes, pattern))
        }
        if contains(bytes, crashPattern) {
            fatalError("IPsecFuzz self-test: planted crash")
        }
        if contains(bytes, hangPattern) {
            while true { usleep(100_000) }
        }
        if contains(bytes, memoryPattern) {
            var hoard: [[UInt8]] = []
            while true { hoard.append([UInt8](repeating: 1, count: 1 << 26)) }
        }
    }

    static func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        for i in 0...(bytes.count - pattern.count) where bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
            return true
        }
        return false
    }

    static func longestPrefixMatch(_ bytes: [UInt8], _ pattern: [UInt8]) -> Int {
        var best = 0
        for i in bytes.indices {
            var k = 0
            while k < pattern.count, i + k < bytes.count, bytes[i + k] == pattern[k] { k += 1 }
            best = max(best, k)
        }
        return best
    }
}
