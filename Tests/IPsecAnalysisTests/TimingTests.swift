@testable import IPsecAnalysis
import IPsecWire
import Testing

/// The leakage tests' mechanics — Welch's t, the verdicts, dudect's cropping and second-order tests, the class
/// interleaving, the JSON — on known data, and the control measured for real: it must be flagged. The real paths'
/// verdicts are measured, so they go into the report, not into assertions that load on the machine could break.
@Suite struct TimingTests {
    // MARK: Welch's t

    /// Hand-computed: class 0 = 1…5 (mean 3, variance 10/4 = 2.5), class 1 = 2, 4, …, 12 (mean 7, variance
    /// 70/5 = 14); t = (3 − 7) / √(2.5/5 + 14/6) = −4 / √(17/6) = −2.3763541…
    @Test func welchTMatchesAHandComputation() throws {
        let t = try #require(WelchTest.t([1, 2, 3, 4, 5], [2, 4, 6, 8, 10, 12]))
        #expect(abs(t - (-2.376354103)) < 1e-8)
        // Swapping the classes flips the sign.
        let swapped = try #require(WelchTest.t([2, 4, 6, 8, 10, 12], [1, 2, 3, 4, 5]))
        #expect(abs(swapped + t) < 1e-12)
        // The online form gives the same whatever the order the measurements arrive in.
        var online = WelchTest()
        for (x, second) in [(10.0, true), (1, false), (2, true), (5, false), (12, true), (3, false), (4, true),
                            (2, false), (8, true), (4, false), (6, true)] {
            online.push(x, second: second)
        }
        #expect(online.count0 == 5 && online.count1 == 6)
        #expect(online.mean0 == 3 && online.mean1 == 7)
        #expect(abs(try #require(online.variance0) - 2.5) < 1e-12)
        #expect(abs(try #require(online.variance1) - 14) < 1e-12)
        #expect(abs(try #require(online.t) - t) < 1e-12)
    }

    @Test func welchTEdgeCases() {
        #expect(WelchTest.t([1], [1, 2]) == nil)
        #expect(WelchTest.t([], []) == nil)
        #expect(WelchTest.t([5, 5, 5], [5, 5]) == 0)
        #expect(WelchTest.t([6, 6, 6], [5, 5]) == .infinity)
        #expect(WelchTest.t([4, 4], [5, 5, 5]) == -.infinity)
    }

    @Test func verdictThresholds() {
        #expect(TimingThresholds.leak == 10 && TimingThresholds.suspicious == 4.5)
        #expect(TimingThresholds.verdict(10.01) == .leak)
        #expect(TimingThresholds.verdict(-250) == .leak)
        #expect(TimingThresholds.verdict(10) == .suspicious)
        #expect(TimingThresholds.verdict(-4.51) == .suspicious)
        #expect(TimingThresholds.verdict(4.5) == .noLeakDetected)
        #expect(TimingThresholds.verdict(0) == .noLeakDetected)
        #expect(TimingThresholds.verdict(.infinity) == .leak)
    }

    // MARK: dudect's statistics, on synthetic times

    /// Times drawn from a seeded generator (so the data, and the answer, are fixed): a base, noise, and a rare large
    /// "interruption".
    static func synthetic(count: Int, seed: UInt64, shift: UInt64 = 0, spreadRandomClass: Bool = false,
                          interruptions: Bool = true) -> (times: [UInt64], classes: [TimingClass]) {
        var r = TimingRandom(seed: seed)
        var times: [UInt64] = [], classes: [TimingClass] = []
        for _ in 0..<count {
            let c: TimingClass = r.next() & 1 == 0 ? .fixed : .random
            var x = 1000 + UInt64(r.below(100))
            if c == .random { x += shift }
            if spreadRandomClass && c == .random { x = r.next() & 1 == 0 ? x - 300 : x + 300 }
            if interruptions && r.below(1000) == 0 { x += 100_000 }
            times.append(x)
            classes.append(c)
        }
        return (times, classes)
    }

    @Test func croppingPercentilesAreDudects() {
        let p = TimingStatistics.croppingPercentiles
        #expect(p.count == 100)
        #expect(abs(p[0] - (1 - 0.933032991536807)) < 1e-12)  // 1 − 0.5^0.1
        #expect(abs(p[99] - (1 - 1.0 / 1024)) < 1e-12)  // 1 − 0.5^10
        #expect(zip(p, p.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func sameDistributionsAreNotFlagged() {
        let (times, classes) = Self.synthetic(count: 20_000, seed: 3)
        let s = TimingStatistics(times: times, classes: classes)
        #expect(s.raw.count0 + s.raw.count1 == 20_000)
        #expect(abs(s.maximumT) <= TimingThresholds.suspicious, "max t \(s.maximumT) (\(s.maximumTest))")
        #expect(s.verdict == .noLeakDetected)
    }

    /// A 20 ns shift (noise 0–100 ns, rare 100 µs outliers) is a leak; the raw test, dragged down by the outliers'
    /// variance, sees less of it than the cropped tests.
    @Test func aShiftIsFlaggedAndCroppingHelps() throws {
        let (times, classes) = Self.synthetic(count: 20_000, seed: 4, shift: 20)
        let s = TimingStatistics(times: times, classes: classes)
        #expect(s.verdict == .leak)
        #expect(s.maximumT < -TimingThresholds.leak)  // the random class is the slower
        #expect(s.maximumTest.hasPrefix("cropped-p"))
        #expect(abs(try #require(s.raw.t)) < abs(s.maximumT))
        #expect(s.maximumMeasurements < 20_000)
    }

    /// Equal means, different spread: the raw test does not see it, the second-order test does.
    @Test func aSpreadIsFlaggedBySecondOrder() throws {
        let (times, classes) = Self.synthetic(count: 20_000, seed: 5, spreadRandomClass: true, interruptions: false)
        let s = TimingStatistics(times: times, classes: classes)
        #expect(abs(try #require(s.raw.t)) < TimingThresholds.leak)
        #expect(abs(try #require(s.secondOrder.t)) > TimingThresholds.leak)
        #expect(s.verdict == .leak)
    }

    /// A cropped test with too few measurements per class does not take part in the maximum; the raw test always
    /// does.
    @Test func smallTestsAreIgnoredButRawCounts() throws {
        let (times, classes) = Self.synthetic(count: 20_000, seed: 4, shift: 20)
        let s = TimingStatistics(times: times, classes: classes)
        // The lowest cropping percentile holds about 1,340 measurements, nearly all of the faster (fixed) class.
        #expect(min(s.cropped[0].count0, s.cropped[0].count1) < TimingStatistics.minimumPerClass)
        let name = s.maximumTest
        let k = try #require(TimingStatistics.croppingPercentiles.indices.first {
            "cropped-p\(FixedPoint.format(TimingStatistics.croppingPercentiles[$0] * 100, places: 1))" == name
        })
        #expect(min(s.cropped[k].count0, s.cropped[k].count1) >= TimingStatistics.minimumPerClass)
        #expect(s.maximumMeasurements == s.cropped[k].count0 + s.cropped[k].count1)
        // 400 per class: only the raw test qualifies, and it decides.
        let few: [UInt64] = (0..<800).map { $0 % 2 == 0 ? 100 : 200 }
        let fewClasses: [TimingClass] = (0..<800).map { $0 % 2 == 0 ? .fixed : .random }
        let small = TimingStatistics(times: few, classes: fewClasses)
        #expect(small.raw.t == -.infinity)
        #expect(small.maximumTest == "raw" && small.maximumT == -.infinity)
        #expect(small.verdict == .leak)
    }

    // MARK: The measurement loop

    /// Writes its input's class into the input and records the class of every input it processes.
    final class RecordingSubject: TimingSubject {
        var processed: [UInt8] = []
        var staged: UInt8 = 0xff
        var made = 0
        var inputLength: Int { 3 }

        func makeInput(_ inputClass: TimingClass, into input: UnsafeMutableRawBufferPointer,
                       random: inout TimingRandom) {
            made += 1
            input[0] = inputClass.rawValue
            input[1] = 0xa5
            input[2] = UInt8(truncatingIfNeeded: random.next())
        }

        func stage(_ input: UnsafeRawBufferPointer) {
            precondition(input.count == 3 && input[1] == 0xa5, "staged something that is not an input")
            staged = input[0]
        }

        func run() -> Int {
            processed.append(staged)
            return Int(staged)
        }

        func checkPaths(random: inout TimingRandom) -> String? { nil }
    }

    @Test func classesAreInterleavedAndEachTimeBelongsToItsInput() throws {
        let subject = RecordingSubject()
        let run = try TimingLeakTest.run(subject, measurements: 3000, seed: 11)
        #expect(run.measurements == 3000 && run.classes.count == 3000)
        // Every input was made before it was processed, once; the warm-up (discarded) came first.
        let warmup = subject.processed.count - 3000
        #expect(warmup > 0)
        #expect(subject.made == subject.processed.count)
        // The class recorded for each time is the class of the input processed in that measurement.
        #expect(Array(subject.processed.suffix(3000)) == run.classes.map(\.rawValue))
        // What every run returned is kept (warm-up included), so the work cannot be optimised away.
        #expect(run.checksum == subject.processed.reduce(0) { $0 + Int($1) })
        // Random order, not blocks: about half each, and the class changes about every other measurement.
        let fixed = run.classes.filter { $0 == .fixed }.count
        #expect((1200...1800).contains(fixed))
        let switches = zip(run.classes, run.classes.dropFirst()).filter { $0 != $1 }.count
        #expect((1200...1800).contains(switches))
        #expect(run.times.allSatisfy { $0 < 1_000_000_000 })
        // The same seed gives the same order; another seed another.
        let again = try TimingLeakTest.run(RecordingSubject(), measurements: 3000, seed: 11)
        #expect(again.classes == run.classes)
        let other = try TimingLeakTest.run(RecordingSubject(), measurements: 3000, seed: 12)
        #expect(other.classes != run.classes)
    }

    @Test func tooFewMeasurementsAreRefused() {
        #expect(throws: AnalysisError.self) { try TimingLeakTest.run(RecordingSubject(), measurements: 999, seed: 1) }
    }

    /// A subject whose inputs would not take the path under test is refused before anything is measured.
    @Test func wrongPathsAreRefused() {
        final class Broken: TimingSubject {
            var inputLength: Int { 1 }
            func makeInput(_ c: TimingClass, into input: UnsafeMutableRawBufferPointer, random: inout TimingRandom) {}
            func stage(_ input: UnsafeRawBufferPointer) {}
            func run() -> Int { 0 }
            func checkPaths(random: inout TimingRandom) -> String? { "the forgery is accepted" }
        }
        #expect(throws: AnalysisError("the inputs do not take the path under test: the forgery is accepted")) {
            try TimingLeakTest.run(Broken(), measurements: 2000, seed: 1)
        }
    }

    // MARK: The control, measured

    /// The early-exit comparison compares 4096 bytes for the fixed class and about one for the random class: a
    /// difference of thousands of times the noise, so it is flagged however loaded the machine is.
    @Test func theLeakyControlIsDetected() throws {
        let results = try TimingCampaign.run([TimingTargets.named("control-early-exit")], measurements: 2000, seed: 5)
        let r = try #require(results.first)
        #expect(r.verdict == .leak, "max t \(r.run.statistics.maximumT)")
        #expect(r.meetsExpectation)
        #expect(r.run.statistics.maximumT > TimingThresholds.leak)  // the fixed class is the slower
        #expect(r.run.median(.fixed) > r.run.median(.random))
    }

    /// The control's comparison really exits early, and agrees with constantTimeEqual on what is equal.
    @Test func theControlComparisonIsAComparison() {
        let a: [UInt8] = [1, 2, 3, 4]
        for b: [UInt8] in [[1, 2, 3, 4], [1, 2, 3, 5], [9, 2, 3, 4], [1, 2, 3]] {
            let early = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in earlyExitEqual(pa, pb) } }
            #expect(early == (a == b))
        }
    }

    // MARK: Targets

    /// Every default target resolves, and its inputs take the path the test is about: forgeries are refused for their
    /// ICV, wrong padding behind a valid ICV for its padding, wrong ICVs fail and the right ones verify.
    @Test func everyDefaultTargetTakesItsPath() throws {
        let targets = TimingTargets.all
        let expected = 7 + 2 * TimingTargets.defaultESPAlgorithms.count + 2 * TimingTargets.defaultAHAlgorithms.count
            + TimingTargets.defaultESPAlgorithms.count
        #expect(targets.count == expected)
        #expect(Set(targets.map(\.name)).count == targets.count)
        #expect(targets.filter { $0.expectation == .leak }.map(\.name)
            == ["control-early-exit", "control-early-exit-icv"])
        for target in targets {
            var random = TimingRandom(seed: 9)
            let subject = try target.subject(seed: 9)
            #expect(subject.checkPaths(random: &random) == nil, "\(target.name)")
        }
    }

    @Test func badTargetNamesAreRefused() {
        for (name, needle) in [("nonsense", "unknown timing target"), ("decap", "needs an algorithm"),
                               ("padding-check/aes128gcm16", "takes no algorithm"), ("decap/aes999", "decap/aes999"),
                               ("esp-open/aes128", "no ICV"), ("decap/aes128", "no ICV"),
                               ("ah-verify/aes128gcm16", "ah-verify/aes128gcm16")] {
            do {
                _ = try TimingTargets.named(name)
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.reason.contains(needle), "\(name): \(error.reason)")
            }
        }
        #expect((try? TimingTargets.named("decap/ah-aes256gmac")) != nil)
        #expect((try? TimingTargets.named("decap-padding/aes128")) != nil)
    }

    // MARK: Output

    @Test func jsonHasTheContractedFields() throws {
        let results = try TimingCampaign.run([TimingTargets.named("control-early-exit"),
                                              TimingTargets.named("constant-time-equal-position")],
                                             measurements: 1000, seed: 2)
        #expect(results.map(\.target.name) == ["control-early-exit", "constant-time-equal-position"])
        for r in results {
            guard case .object(let members) = r.json else {
                Issue.record("not an object")
                continue
            }
            let fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(members.count == fields.count, "duplicate keys")
            #expect(fields["target"] == .string(r.target.name))
            #expect(fields["measurements"] == .int(1000))
            #expect(fields["verdict"] == .string(r.verdict.rawValue))
            #expect(["leak", "suspicious", "no-leak-detected"].contains(r.verdict.rawValue))
            guard case .double(let t)? = fields["t_statistic"] else {
                Issue.record("t_statistic is not a number")
                continue
            }
            #expect(abs(t - r.run.statistics.maximumT) < 0.01 || t == 1e308)
            #expect(fields["as_expected"] == .bool(r.meetsExpectation))
            for key in ["expected", "test", "raw_t_statistic", "mean_fixed_ns", "mean_random_ns", "median_fixed_ns",
                        "median_random_ns", "fixed_measurements", "random_measurements", "tau", "fixed_class",
                        "random_class", "seconds"] {
                #expect(fields[key] != nil, "missing \(key)")
            }
            #expect(fields["fixed_measurements"] == .int(r.run.statistics.raw.count0))
            #expect(fields["random_measurements"] == .int(r.run.statistics.raw.count1))
            #expect(r.run.statistics.raw.count0 + r.run.statistics.raw.count1 == 1000)
            #expect(!r.json.text.contains("\n"))
        }
    }

    /// The section states its verdicts and writes their data; its status follows the control and the real paths.
    @Test func reportSectionTabulatesEveryTarget() throws {
        let output = try TimingSection().run(ReportContext(depth: .quick))
        let csv = try #require(output.files.first { $0.path == "data/timing.csv" }).contents
        let rows = csv.split(separator: "\n")
        #expect(rows.first?.hasPrefix("target,expected,t_statistic,test,measurements,verdict,as_expected") == true)
        #expect(rows.count == 1 + TimingTargets.all.count)
        #expect(rows.contains { $0.hasPrefix("control-early-exit,leak,") && $0.contains(",leak,true,") })
        let document = ReportDocument(title: "t", blocks: output.blocks).markdown
        #expect(document.contains("control"))
        switch output.status {
        case .passed(let s), .failed(let s): #expect(s.contains("controls flagged"))
        case .unavailable: Issue.record("the timing section is marked unavailable")
        }
    }
}
