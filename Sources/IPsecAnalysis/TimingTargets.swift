import IPsecCore
import IPsecCrypto
import IPsecWire

/// One leakage test: what is timed, what its two classes are, and what it should show.
public struct TimingTarget: Sendable {
    public enum Expectation: String, Hashable, Sendable {
        /// The control: the test must flag it, or the method is blind on this machine.
        case leak
        /// A verification path that must not leak.
        case constantTime = "constant-time"
    }

    /// `control-early-exit`, `constant-time-equal`, …, or `kind/algorithm` for the per-transform tests.
    public let name: String
    /// The family: the name up to the slash.
    public var kind: String { String(name.prefix { $0 != "/" }) }
    public let summary: String
    public let fixedClass: String
    public let randomClass: String
    public let expectation: Expectation
    let make: @Sendable (UInt64) throws(AnalysisError) -> any TimingSubject

    /// A fresh subject to measure, with inputs from `seed`.
    public func subject(seed: UInt64) throws(AnalysisError) -> any TimingSubject { try make(seed) }

    /// Whether `verdict` is what this target should show: the control must leak, a real path must not.
    public func meetsExpectation(_ verdict: TimingVerdict) -> Bool {
        expectation == .leak ? verdict == .leak : verdict != .leak
    }
}

/// Every leakage test `ipsec-lab timing` and the report run.
public enum TimingTargets {
    /// One ESP transform of every construction: AES-GCM, AES-CCM, ChaCha20-Poly1305, GMAC, CBC and CTR with HMAC,
    /// AES-XCBC and AES-CMAC, NULL with HMAC.
    public static let defaultESPAlgorithms = [
        "aes128gcm16", "aes128ccm16", "chacha20poly1305", "aes128gmac", "aes128-sha256", "aes128ctr-sha1",
        "aes128-aesxcbc", "aes256-aescmac", "null-sha256",
    ]
    /// One AH transform of every construction: HMAC, AES-XCBC, GMAC.
    public static let defaultAHAlgorithms = ["sha256", "aesxcbc", "aes128gmac"]

    /// The families, in report order, with what their classes are.
    static let families: [(kind: String, summary: String, fixed: String, random: String)] = [
        ("control-early-exit", "early-exit byte comparison of 4096-byte buffers (deliberately leaky control)",
         "differs in the last byte", "random bytes"),
        ("control-early-exit-icv", "early-exit byte comparison of 16-byte ICVs, 64 calls per measurement "
            + "(deliberately leaky control at the size of a tag)", "wrong in the last byte", "random wrong ICV"),
        ("constant-time-equal", "constantTimeEqual (CRYPTO_memcmp) on 16-byte ICVs, 64 calls per measurement",
         "wrong in the first byte", "random wrong ICV"),
        ("constant-time-equal-position", "constantTimeEqual on 16-byte ICVs, 64 calls per measurement",
         "wrong in the last byte", "wrong in one byte at a random position"),
        ("constant-time-equal-result", "constantTimeEqual on 16-byte ICVs, 64 calls per measurement (the result "
            + "differs between the classes; the harness adds it without a branch)",
         "equal", "wrong in the last byte"),
        ("constant-time-equal-long", "constantTimeEqual on 4096-byte buffers, the control's classes",
         "differs in the last byte", "random bytes"),
        ("padding-check", "ESPTrailer.split + hasDefaultPadding, 255 bytes of padding",
         "first padding byte wrong", "a random padding byte wrong"),
        ("esp-open", "ESPTransform.open (verify, then decrypt) of a 64-byte payload with a wrong ICV",
         "ICV wrong in the first byte", "random ICV"),
        ("ah-verify", "AHTransform.verifyICV over 96 bytes with a wrong ICV",
         "ICV wrong in the first tag byte", "random ICV"),
        ("decap", "Inbound.unprotect of a forged tunnel-mode packet (IPv4, 100-byte inner packet)",
         "one forgery", "fresh random forgeries"),
        ("decap-padding", "Inbound.unprotect of tunnel ESP with a valid ICV and wrong padding (up to 255 bytes)",
         "first padding byte wrong", "a random padding byte wrong"),
    ]

    /// The default list: the control, the comparison and padding checks, and every per-transform test for the
    /// default transforms.
    public static var all: [TimingTarget] {
        var names = ["control-early-exit", "control-early-exit-icv", "constant-time-equal",
                     "constant-time-equal-position", "constant-time-equal-result", "constant-time-equal-long",
                     "padding-check"]
        names += defaultESPAlgorithms.map { "esp-open/\($0)" }
        names += defaultAHAlgorithms.map { "ah-verify/\($0)" }
        names += defaultESPAlgorithms.map { "decap/\($0)" }
        names += defaultAHAlgorithms.map { "decap/ah-\($0)" }
        names += defaultESPAlgorithms.map { "decap-padding/\($0)" }
        // The defaults are valid names; a failure here is a programming error the tests catch.
        return names.compactMap { try? named($0) }
    }

    /// The families and the form of their names, for `--list` and error messages.
    public static var usage: [(name: String, summary: String)] {
        families.map { f in
            let form = switch f.kind {
            case "esp-open", "decap-padding": "\(f.kind)/ESP-ALGORITHM"
            case "ah-verify": "\(f.kind)/AH-ALGORITHM"
            case "decap": "decap/ESP-ALGORITHM or decap/ah-AH-ALGORITHM"
            default: f.kind
            }
            return (form, "\(f.summary); fixed class: \(f.fixed); random class: \(f.random)")
        }
    }

    /// The target called `name`: a fixed test, or `kind/algorithm` with any algorithm keyword the kind takes.
    public static func named(_ name: String) throws(AnalysisError) -> TimingTarget {
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        guard let family = families.first(where: { $0.kind == parts.first }) else {
            throw AnalysisError("unknown timing target '\(name)' (see ipsec-lab timing --list)")
        }
        let perTransform = ["esp-open", "ah-verify", "decap", "decap-padding"].contains(family.kind)
        guard perTransform == (parts.count == 2) else {
            throw AnalysisError(perTransform ? "timing target '\(name)' needs an algorithm: \(family.kind)/KEYWORD"
                                             : "timing target '\(family.kind)' takes no algorithm")
        }
        func target(_ summary: String, expectation: TimingTarget.Expectation = .constantTime,
                    _ make: @escaping @Sendable (UInt64) throws(AnalysisError) -> any TimingSubject) -> TimingTarget {
            TimingTarget(name: name, summary: summary, fixedClass: family.fixed, randomClass: family.random,
                         expectation: expectation, make: make)
        }
        switch family.kind {
        case "control-early-exit":
            return target(family.summary, expectation: .leak) { EarlyExitControlSubject(seed: $0) }
        case "control-early-exit-icv":
            return target(family.summary, expectation: .leak) {
                EarlyExitControlSubject(length: 16, repetitions: 64, seed: $0)
            }
        case "constant-time-equal":
            return target(family.summary) { ConstantTimeEqualSubject(.wrongFirstByte, seed: $0) }
        case "constant-time-equal-position":
            return target(family.summary) { ConstantTimeEqualSubject(.wrongPosition, seed: $0) }
        case "constant-time-equal-result":
            return target(family.summary) { ConstantTimeEqualSubject(.equalVersusLastByte, seed: $0) }
        case "constant-time-equal-long":
            return target(family.summary) { ConstantTimeEqualSubject(.long, seed: $0) }
        case "padding-check":
            return target(family.summary) { PaddingCheckSubject(seed: $0) }
        default:
            break
        }
        let keyword = parts[1]
        switch family.kind {
        case "esp-open":
            let a = try espAlgorithm(keyword, name)
            guard a.icvLength > 0 else {
                throw AnalysisError("timing target '\(name)': \(keyword) has no ICV (confidentiality-only ESP)")
            }
            return target("\(family.summary), \(keyword)") { seed throws(AnalysisError) in
                try ESPOpenSubject(a, seed: seed)
            }
        case "ah-verify":
            let a = try ahAlgorithm(keyword, name)
            return target("\(family.summary), \(keyword)") { seed throws(AnalysisError) in
                try AHVerifySubject(a, seed: seed)
            }
        case "decap":
            let algorithm: SAAlgorithm
            if keyword.hasPrefix("ah-") {
                algorithm = .ah(try ahAlgorithm(String(keyword.dropFirst(3)), name))
            } else {
                let a = try espAlgorithm(keyword, name)
                guard a.icvLength > 0 else {
                    throw AnalysisError("timing target '\(name)': \(keyword) has no ICV, so a forgery is not refused "
                                        + "for its ICV (confidentiality-only ESP is insecure; see docs/timing.md)")
                }
                algorithm = .esp(a)
            }
            let mode = algorithm.isAH ? "tunnel-ah" : "tunnel ESP"
            return target("\(family.summary), \(mode), \(algorithm)") { seed throws(AnalysisError) in
                try DecapForgerySubject(algorithm, seed: seed)
            }
        default:  // decap-padding
            let a = try espAlgorithm(keyword, name)
            return target("\(family.summary), \(keyword)") { seed throws(AnalysisError) in
                try DecapPaddingSubject(a, seed: seed)
            }
        }
    }

    static func espAlgorithm(_ keyword: String, _ name: String) throws(AnalysisError) -> ESPAlgorithm {
        do { return try ESPAlgorithm(keyword: keyword) } catch {
            throw AnalysisError("timing target '\(name)': \(error)")
        }
    }

    static func ahAlgorithm(_ keyword: String, _ name: String) throws(AnalysisError) -> AHAlgorithm {
        do { return try AHAlgorithm(keyword: keyword) } catch {
            throw AnalysisError("timing target '\(name)': \(error)")
        }
    }
}

private extension SAAlgorithm {
    var isAH: Bool {
        if case .ah = self { return true }
        return false
    }
}

/// The result of one target, as `ipsec-lab timing` prints it and the report tabulates it.
public struct TimingResult: Sendable {
    public var target: TimingTarget
    public var run: TimingRun

    public var verdict: TimingVerdict { run.statistics.verdict }
    public var meetsExpectation: Bool { target.meetsExpectation(verdict) }

    /// Per target: `target`, `kind`, `expected`, `t_statistic` (the largest |t| of dudect's tests, signed:
    /// positive when the fixed class is slower), `test` (which one), `measurements` (in the statistics, warm-up
    /// excluded), `verdict`, `as_expected`, the raw means and the medians in nanoseconds, the raw t, τ, and the
    /// classes.
    public var json: JSONValue {
        let s = run.statistics
        return .object([
            JSONMember("target", .string(target.name)),
            JSONMember("kind", .string(target.kind)),
            JSONMember("expected", .string(target.expectation.rawValue)),
            JSONMember("t_statistic", Self.number(s.maximumT, places: 2)),
            JSONMember("test", .string(s.maximumTest)),
            JSONMember("measurements", .int(run.measurements)),
            JSONMember("verdict", .string(verdict.rawValue)),
            JSONMember("as_expected", .bool(meetsExpectation)),
            JSONMember("raw_t_statistic", Self.number(s.raw.t ?? 0, places: 2)),
            JSONMember("mean_fixed_ns", Self.number(s.raw.mean0, places: 1)),
            JSONMember("mean_random_ns", Self.number(s.raw.mean1, places: 1)),
            JSONMember("median_fixed_ns", Self.number(run.median(.fixed), places: 1)),
            JSONMember("median_random_ns", Self.number(run.median(.random), places: 1)),
            JSONMember("fixed_measurements", .int(s.raw.count0)),
            JSONMember("random_measurements", .int(s.raw.count1)),
            JSONMember("tau", Self.number(s.tau, places: 5)),
            JSONMember("fixed_class", .string(target.fixedClass)),
            JSONMember("random_class", .string(target.randomClass)),
            JSONMember("seconds", Self.number(run.seconds, places: 2)),
        ])
    }

    /// JSON has no infinity: a perfectly separated test (no spread at all) is written as ±1e308.
    static func number(_ value: Double, places: Int) -> JSONValue {
        guard value.isFinite else { return .double(value.isNaN ? 0 : (value > 0 ? 1e308 : -1e308)) }
        return .double(Double(FixedPoint.format(value, places: places)) ?? value)
    }
}

/// Runs a list of targets.
public enum TimingCampaign {
    /// Measurements per target: the CLI's default, and the report's per depth. dudect draws no conclusion before
    /// 10,000; the quick report takes fewer, so its verdicts are less sensitive (docs/timing.md).
    public static let defaultMeasurements = 50_000
    public static func measurements(for depth: AnalysisDepth) -> Int {
        switch depth {
        case .quick: 2_000
        case .standard: 20_000
        case .full: 100_000
        }
    }

    /// Runs every target with `measurements` measurements, each with its own seed derived from `seed` and its name
    /// (so a target's inputs do not depend on which others run). `progress` gets each target's name before it runs.
    public static func run(_ targets: [TimingTarget], measurements: Int, seed: UInt64,
                           progress: (Int, TimingTarget) -> Void = { _, _ in }) throws(AnalysisError)
        -> [TimingResult] {
        var results: [TimingResult] = []
        for (i, target) in targets.enumerated() {
            progress(i, target)
            // FNV-1a of the name, started from the seed.
            let targetSeed = target.name.utf8.reduce(seed ^ 0xcbf2_9ce4_8422_2325) {
                ($0 ^ UInt64($1)) &* 0x100_0000_01b3
            }
            let subject = try target.subject(seed: targetSeed)
            let run: TimingRun
            do { run = try TimingLeakTest.run(subject, measurements: measurements, seed: targetSeed) } catch {
                throw AnalysisError("\(target.name): \(error)")
            }
            results.append(TimingResult(target: target, run: run))
        }
        return results
    }

    /// The results as a table: one row per target.
    public static func table(_ results: [TimingResult]) -> DataTable {
        var t = DataTable(columns: [
            .init("target"), .init("expected"), .init("t_statistic", title: "max t"), .init("test"),
            .init("measurements"), .init("verdict"), .init("as_expected", title: "as expected"),
            .init("median_fixed_ns", title: "median fixed (ns)"),
            .init("median_random_ns", title: "median random (ns)"),
        ])
        for r in results {
            let s = r.run.statistics
            t.append([.text(r.target.name), .text(r.target.expectation.rawValue),
                      .decimal(clamped(s.maximumT), places: 2), .text(s.maximumTest), .int(r.run.measurements),
                      .text(r.verdict.rawValue), .bool(r.meetsExpectation),
                      .decimal(r.run.median(.fixed), places: 1), .decimal(r.run.median(.random), places: 1)])
        }
        return t
    }

    static func clamped(_ t: Double) -> Double { t.isFinite ? t : (t > 0 ? 1e308 : -1e308) }
}
