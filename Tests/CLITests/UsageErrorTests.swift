import Foundation
import Testing

/// Usage errors caught by the argument parser (unknown options, values that do not parse, missing arguments) follow
/// the same contract as every other bad input: one line on stderr naming the problem, nothing on stdout, a non-zero
/// exit (64, EX_USAGE) — not ArgumentParser's multi-line usage block. Help and --version still print in full.
@Suite struct UsageErrorTests {
    static let cases: [([String], String)] = [
        (["timing", "--measurements", "-5"], "--measurements"),
        (["diff", "--oracle", "foo"], "foo"),
        (["diff", "--oracle", "scapy", "--cases", "many"], "many"),
        (["fuzz", "--runs", "-3"], "--runs"),
        (["encap", "--in", "x.pcap"], "--sa"),
        (["inspect", "some.pcap", "--no-such-option"], "--no-such-option"),
        (["no-such-command"], "no-such-command"),
        (["bench", "--json", "extra-argument"], "extra-argument"),
    ]

    @Test(arguments: cases) func usageErrorsAreOneLine(_ arguments: [String], _ needle: String) throws {
        let r = try Tool.run(arguments)
        #expect(r.status == 64, "exit status \(r.status), stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("ipsec-lab: error: "), "stderr: \(r.stderr)")
        #expect(r.stderr.contains(needle), "stderr: \(r.stderr)")
    }

    @Test func helpAndVersionStillPrint() throws {
        let help = try Tool.run(["encap", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE") || help.stdout.contains("Usage"))
        #expect(help.stdout.split(separator: "\n").count > 3)
        let version = try Tool.run(["--version"])
        #expect(version.status == 0)
        #expect(!version.stdout.isEmpty)
    }
}
