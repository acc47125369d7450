import Foundation
import Testing

/// `ipsec-lab timing`: the control comes out as a leak in JSON, the JSON carries the contracted fields, and bad
/// targets or counts give one error line. (Real paths are measured, so their verdicts are not asserted here.)
@Suite struct TimingCommandTests {
    @Test func jsonLinesPerTarget() throws {
        let r = try Tool.run(["timing", "--target", "control-early-exit", "constant-time-equal", "--measurements",
                              "2000", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            objects.append(try #require(object))
        }
        #expect(objects.map { $0["target"] as? String } == ["control-early-exit", "constant-time-equal"])
        for o in objects {
            #expect(o["t_statistic"] is Double || o["t_statistic"] is Int)
            #expect(o["measurements"] as? Int == 2000)
            #expect(["leak", "suspicious", "no-leak-detected"].contains(o["verdict"] as? String ?? ""))
        }
        #expect(objects[0]["verdict"] as? String == "leak")
        #expect(objects[0]["expected"] as? String == "leak")
        #expect(objects[0]["as_expected"] as? Bool == true)
        #expect((objects[0]["t_statistic"] as? Double ?? 0) > 10)
    }

    @Test func markdownTableAndList() throws {
        let r = try Tool.run(["timing", "--target", "control-early-exit", "--measurements", "1000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("| target | expected | max t |"))
        #expect(r.stdout.contains("| control-early-exit | leak |"))
        let list = try Tool.run(["timing", "--list"])
        #expect(list.status == 0)
        for name in ["control-early-exit", "constant-time-equal", "padding-check", "esp-open/ESP-ALGORITHM",
                     "decap-padding/ESP-ALGORITHM"] {
            #expect(list.stdout.contains(name), "\(name) missing from --list")
        }
    }

    @Test func badInputGivesOneLine() throws {
        expectOneLineError(try Tool.run(["timing", "--target", "no-such-target"]), mentioning: "unknown timing target")
        expectOneLineError(try Tool.run(["timing", "--target", "esp-open/aes128"]), mentioning: "no ICV")
        expectOneLineError(try Tool.run(["timing", "--target", "decap/aes999gcm"]), mentioning: "decap/aes999gcm")
        expectOneLineError(try Tool.run(["timing", "--target", "control-early-exit", "--measurements", "10"]),
                           mentioning: "at least 1000 measurements")
        expectOneLineError(try Tool.run(["timing", "--target", "control-early-exit", "--backend", "nope"]),
                           mentioning: "--backend")
    }
}
