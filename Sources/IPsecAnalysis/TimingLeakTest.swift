#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// dudect-style leakage detection (Reparaz, Balasch and Verbauwhede, "Dude, is my code constant time?", DATE 2017,
// IACR ePrint 2016/1123): run an operation on inputs of two classes — one fixed input, and fresh random ones —
// interleaved in random order, time every run, and ask Welch's t-test whether the two timing distributions have
// the same mean. Raw times, times cropped at a series of percentiles (the right tail is OS noise) and a second-order
// test are all tried; the largest |t| decides. docs/timing.md describes the method, the thresholds and the limits.

/// The two input classes of a leakage test.
public enum TimingClass: UInt8, Hashable, Sendable {
    /// The same input every time.
    case fixed = 0
    /// A fresh random input every time.
    case random = 1
}

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): reproducible class choices and random inputs from a seed. Not
/// for keys.
public struct TimingRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (bound > 0), without modulo bias.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = next()
            if x < limit { return Int(x % b) }
        }
    }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var i = 0
        while i < buffer.count {
            var word = next()
            for _ in 0..<min(8, buffer.count - i) {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}

/// The clock every measurement reads: `CLOCK_MONOTONIC_RAW` in nanoseconds (not slewed by NTP; on Linux read through
/// the vDSO, about 20 ns a call). dudect reads the cycle counter (`rdtsc`), which Swift cannot reach without C; at the
/// microsecond scale of the operations measured here the difference is noise that the t-test averages away, and the
/// operations too short for it are repeated inside one measurement.
public enum TimingClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC_RAW, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

/// What a leakage test runs: inputs of either class, written beforehand (so that making them is never timed), each
/// staged (untimed: copied into working buffers, since some operations work in place) and then processed (timed).
public protocol TimingSubject: AnyObject {
    /// Bytes per input.
    var inputLength: Int { get }
    /// Writes an input of class `inputClass` to `input` (exactly `inputLength` bytes).
    func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom)
    /// Untimed: gets ready to process `input`.
    func stage(_ input: UnsafeRawBufferPointer)
    /// Timed: the operation under test, on the staged input. Returns a value derived from the result, which the
    /// caller keeps, so that the work cannot be optimised away.
    func run() -> Int
    /// Checks, before any measurement, that inputs of each class take the path the test is about (for example, a
    /// forgery is refused for its ICV and not for something earlier); nil when they do, otherwise what is wrong.
    func checkPaths(random: inout TimingRandom) -> String?
}

/// How a leakage test came out, from the largest |t| over its tests.
public enum TimingVerdict: String, Hashable, Sendable, CustomStringConvertible {
    /// |t| above `TimingThresholds.leak`: the classes' timings differ (dudect: "probably not constant time").
    case leak
    /// |t| between `TimingThresholds.suspicious` and `TimingThresholds.leak`: worth a longer run.
    case suspicious
    /// |t| at most `TimingThresholds.suspicious`: no evidence of a leak at this number of measurements.
    case noLeakDetected = "no-leak-detected"

    public var description: String { rawValue }
}

/// The thresholds on |t|. dudect calls |t| > 10 a failure ("probably not constant time"; its `t_threshold_moderate`)
/// and leaves 4.5 — the threshold of the TVLA methodology (Goodwill, Jun, Jaffe and Rohatgi, NIST NIAT 2011), which
/// a Student-t variable exceeds with probability about 10⁻⁵ — as the stricter alternative; here 4.5 marks a result
/// as suspicious.
public enum TimingThresholds {
    public static let leak = 10.0
    public static let suspicious = 4.5

    public static func verdict(_ t: Double) -> TimingVerdict {
        let magnitude = abs(t)
        if magnitude > leak { return .leak }
        if magnitude > suspicious { return .suspicious }
        return .noLeakDetected
    }
}

/// The statistics of one leakage test: every t-test dudect runs over the same measurements, and the largest |t|.
public struct TimingStatistics: Hashable, Sendable {
    /// dudect's 100 cropping thresholds: the percentiles 1 − 0.5^(10·(i+1)/100), i = 0…99, of all measured times —
    /// from the 6.7th to the 99.9th, dense near the top, where the tail of OS interruptions begins.
    public static let croppingPercentiles: [Double] = (0..<100).map { 1 - pow(0.5, 10 * Double($0 + 1) / 100) }
    /// A cropped or second-order test takes part in the maximum only with at least this many measurements in each
    /// class (dudect waits for 10,000 in total before concluding; the cropped tests at low percentiles hold few). The
    /// raw test always does.
    public static let minimumPerClass = 500

    /// The t-test on the raw times.
    public var raw: WelchTest
    /// The t-test on the times below each cropping percentile, in `croppingPercentiles` order.
    public var cropped: [WelchTest]
    /// The second-order test: Welch's t on (time − its class mean)², which sees a difference in spread.
    public var secondOrder: WelchTest
    /// The largest |t| of the tests with enough measurements, signed, and which test gave it.
    public var maximumT: Double
    public var maximumTest: String
    /// Measurements in the test that gave the maximum.
    public var maximumMeasurements: Int

    /// Runs every test over `times` (nanoseconds), measurement `i` having class `classes[i]`.
    public init(times: [UInt64], classes: [TimingClass]) {
        precondition(times.count == classes.count, "one class per measurement")
        var raw = WelchTest()
        for (x, c) in zip(times, classes) { raw.push(Double(x), second: c == .random) }
        var thresholds: [UInt64] = []
        if !times.isEmpty {
            let sorted = times.sorted()
            thresholds = Self.croppingPercentiles.map { sorted[min(Int(Double(sorted.count) * $0), sorted.count - 1)] }
        }
        var cropped = [WelchTest](repeating: WelchTest(), count: thresholds.count)
        var secondOrder = WelchTest()
        for (x, c) in zip(times, classes) {
            let value = Double(x)
            // The thresholds only grow: every test from the first threshold above x takes it.
            var low = 0, high = thresholds.count
            while low < high {
                let mid = (low + high) / 2
                if x < thresholds[mid] { high = mid } else { low = mid + 1 }
            }
            for k in low..<thresholds.count { cropped[k].push(value, second: c == .random) }
            let centred = value - (c == .random ? raw.mean1 : raw.mean0)
            secondOrder.push(centred * centred, second: c == .random)
        }
        self.raw = raw
        self.cropped = cropped
        self.secondOrder = secondOrder
        var best = (t: raw.t ?? 0, name: "raw", n: raw.count0 + raw.count1)
        func consider(_ test: WelchTest, _ name: String) {
            guard min(test.count0, test.count1) >= Self.minimumPerClass, let t = test.t, !t.isNaN else { return }
            if abs(t) > abs(best.t) { best = (t, name, test.count0 + test.count1) }
        }
        for (k, test) in cropped.enumerated() {
            consider(test, "cropped-p\(FixedPoint.format(Self.croppingPercentiles[k] * 100, places: 1))")
        }
        consider(secondOrder, "second-order")
        maximumT = best.t
        maximumTest = best.name
        maximumMeasurements = best.n
    }

    public var verdict: TimingVerdict { TimingThresholds.verdict(maximumT) }

    /// dudect's τ = t / √n: the size of the effect, comparable across numbers of measurements.
    public var tau: Double { maximumMeasurements > 0 ? maximumT / Double(maximumMeasurements).squareRoot() : 0 }

    /// dudect's (5/τ)²: about how many measurements it would take for |t| to reach 5 (nil when τ is 0).
    public var measurementsToDetect: Double? { tau == 0 ? nil : (5 / tau) * (5 / tau) }
}

/// One run of a leakage test: the measurements and their statistics.
public struct TimingRun: Sendable {
    /// Nanoseconds per measurement, in the order taken (warm-up excluded).
    public var times: [UInt64]
    public var classes: [TimingClass]
    public var statistics: TimingStatistics
    /// Wall-clock seconds the run took, preparation included.
    public var seconds: Double
    /// The sum of what the measured operations returned: kept, so that the optimiser must compute them.
    var checksum: Int

    public var measurements: Int { times.count }

    /// The median time of a class in nanoseconds (0 without measurements): unlike the mean, untouched by the
    /// occasional interruption.
    public func median(_ inputClass: TimingClass) -> Double {
        let sorted = zip(times, classes).filter { $0.1 == inputClass }.map(\.0).sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[mid]) : (Double(sorted[mid - 1]) + Double(sorted[mid])) / 2
    }
}

/// Runs leakage tests.
public enum TimingLeakTest {
    /// Inputs are written and measured this many at a time (dudect's "chunk").
    static let batchSize = 1000

    /// Measures `subject` `measurements` times (after a warm-up batch, discarded, as dudect discards its first),
    /// classes drawn at random per measurement from `seed`, and runs the statistics.
    public static func run(_ subject: any TimingSubject, measurements: Int, seed: UInt64) throws(AnalysisError)
        -> TimingRun {
        guard measurements >= 2 * TimingStatistics.minimumPerClass else {
            throw AnalysisError("a leakage test needs at least \(2 * TimingStatistics.minimumPerClass) measurements, "
                                + "not \(measurements)")
        }
        let started = TimingClock.nanoseconds()
        var random = TimingRandom(seed: seed)
        if let problem = subject.checkPaths(random: &random) {
            throw AnalysisError("the inputs do not take the path under test: \(problem)")
        }
        let warmup = min(batchSize, max(100, measurements / 10))
        var times: [UInt64] = []
        var classes: [TimingClass] = []
        times.reserveCapacity(measurements)
        classes.reserveCapacity(measurements)
        let length = subject.inputLength
        var inputs = [UInt8](repeating: 0, count: batchSize * max(length, 1))
        var batchClasses = [TimingClass](repeating: .fixed, count: batchSize)
        var batchTimes = [UInt64](repeating: 0, count: batchSize)
        var sink = 0
        var remaining = warmup + measurements
        var first = true
        while remaining > 0 {
            let n = first ? warmup : min(batchSize, remaining)
            for i in 0..<n { batchClasses[i] = random.next() & 1 == 0 ? .fixed : .random }
            inputs.withUnsafeMutableBytes { all in
                for i in 0..<n {
                    subject.makeInput(batchClasses[i], into: UnsafeMutableRawBufferPointer(
                        rebasing: all[(i * length)..<((i + 1) * length)]), random: &random)
                }
            }
            inputs.withUnsafeBytes { all in
                for i in 0..<n {
                    subject.stage(UnsafeRawBufferPointer(rebasing: all[(i * length)..<((i + 1) * length)]))
                    let t0 = TimingClock.nanoseconds()
                    sink &+= subject.run()
                    let t1 = TimingClock.nanoseconds()
                    batchTimes[i] = t1 &- t0
                }
            }
            if !first {
                times += batchTimes[0..<n]
                classes += batchClasses[0..<n]
            }
            remaining -= n
            first = false
        }
        let statistics = TimingStatistics(times: times, classes: classes)
        let seconds = Double(TimingClock.nanoseconds() &- started) / 1e9
        return TimingRun(times: times, classes: classes, statistics: statistics, seconds: seconds, checksum: sink)
    }
}
