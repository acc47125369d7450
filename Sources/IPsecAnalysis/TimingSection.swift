/// The timing side-channel section: every leakage test of `TimingTargets.all`, the control included, at the report's
/// depth. It measures this machine, so it is never committed.
public struct TimingSection: ReportSection {
    public var id: String { "timing" }
    public var title: String { "Timing side channels" }
    public var isDeterministic: Bool { false }
    public var seed: UInt64

    public init(seed: UInt64 = 1) { self.seed = seed }

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        let measurements = TimingCampaign.measurements(for: context.depth)
        let targets = TimingTargets.all
        let results = try TimingCampaign.run(targets, measurements: measurements, seed: seed) { i, target in
            context.progress("timing: \(i + 1)/\(targets.count) \(target.name)")
        }
        let table = TimingCampaign.table(results)
        let controls = results.filter { $0.target.expectation == .leak }
        let real = results.filter { $0.target.expectation == .constantTime }
        let controlSeen = !controls.isEmpty && controls.allSatisfy(\.meetsExpectation)
        let leaks = real.filter { !$0.meetsExpectation }
        let suspicious = real.filter { $0.verdict == .suspicious }

        var blocks: [ReportBlock] = []
        blocks.append(.paragraph(
            "dudect-style leakage tests (docs/timing.md): each operation runs on a fixed input and on fresh random "
                + "inputs, in random order, \(measurements) timed runs per test (`\(context.depth)` depth) after a "
                + "discarded warm-up; Welch's t-test compares the two classes on the raw times, on the times cropped "
                + "at dudect's 100 percentiles, and in the second order, and the largest |t| decides: above "
                + "\(FixedPoint.format(TimingThresholds.leak, places: 0)) a leak, above "
                + "\(FixedPoint.format(TimingThresholds.suspicious, places: 1)) suspicious. Deliberately leaky "
                + "early-exit comparisons (of 4096-byte buffers and of 16-byte tags) run beside the real paths as "
                + "controls."))
        if controlSeen {
            let t = controls.map { FixedPoint.format(abs($0.run.statistics.maximumT), places: 0) }
                .joined(separator: ", ")
            blocks.append(.callout("The controls are flagged (|t| = \(t)): the method sees a leak on this machine, "
                                   + "down to an early exit on a 16-byte tag.", kind: .pass))
        } else {
            blocks.append(.callout("A control is not flagged: on this run the method could not see a deliberate "
                                   + "leak, so the verdicts below prove little.", kind: .fail))
        }
        if leaks.isEmpty {
            var text = "No verification path leaks: all \(real.count) real paths stay at or below |t| = "
                + "\(FixedPoint.format(TimingThresholds.leak, places: 0))."
            if !suspicious.isEmpty {
                text += " Suspicious (worth a longer run with `ipsec-lab timing --target NAME --measurements N`): "
                    + suspicious.map { "`\($0.target.name)`" }.joined(separator: ", ") + "."
            }
            blocks.append(.callout(text, kind: .pass))
        } else {
            blocks.append(.callout("Flagged as leaking: " + leaks.map { "`\($0.target.name)`" }
                .joined(separator: ", ") + ".", kind: .fail))
        }
        blocks.append(.table(table, data: "data/timing.csv"))
        blocks.append(.paragraph(
            "`max t` is signed: positive when the fixed class is slower. The medians are of the raw times, clock "
                + "reading included. A quick report takes few measurements, so small leaks go unseen; a debug build "
                + "times debug code. The AEAD tag checks happen inside OpenSSL (CRYPTO_memcmp), the HMAC, XCBC, CMAC "
                + "and GMAC ones in `constantTimeEqual` (CRYPTO_memcmp too)."))
        let status = "controls \(controlSeen ? "flagged" : "NOT flagged"), \(real.count - leaks.count) of "
            + "\(real.count) real paths without a leak at \(measurements) measurements"
            + (suspicious.isEmpty ? "" : ", \(suspicious.count) suspicious")
        return ReportSectionOutput(blocks: blocks, files: [ReportFile(path: "data/timing.csv", contents: table.csv)],
                                   status: controlSeen && leaks.isEmpty ? .passed(status) : .failed(status))
    }
}
