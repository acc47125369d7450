@testable import IPsecAnalysis
import Testing

// The burst benchmark's tables: what each column means must survive formatting (no Foundation here, so the number
// formatting is IPsecLab's own).
@Suite("Burst benchmark tables")
struct BurstBenchTests {
    static let row = BurstBenchRow(mode: "tunnel-esp", algorithm: "aes128gcm16", size: 1000, direction: .encap,
                                   burst: 32, openSSLLimit: 1_000_000, ipsecMBLimit: 4_000_000,
                                   openSSLBurst: 500_000, ipsecMBBurst: 2_000_000, refill: 8_000_000,
                                   allocationsPerPacket: 0)

    @Test("Fixed-point formatting rounds half away from zero and pads the fraction")
    func fixed() {
        #expect(BurstBench.fixed(1.125, 2) == "1.13")  // exact in binary: a true half
        #expect(BurstBench.fixed(0.25, 2) == "0.25")
        #expect(BurstBench.fixed(2.5, 0) == "3")
        #expect(BurstBench.fixed(0.05, 2) == "0.05")
        #expect(BurstBench.fixed(12.0, 3) == "12.000")
        #expect(BurstBench.fixed(-0.5, 1) == "-0.5")
        #expect(BurstBench.fixed(.infinity, 1) == "–")
    }

    @Test("The ratio is to the faster limit, and taking out the refill raises it")
    func ratios() {
        let r = Self.row
        #expect(r.limit == 4_000_000)
        // 1/(1/2M − 1/8M) = 2.667M
        #expect(abs(r.withoutRefill(2_000_000) - 8_000_000.0 / 3) < 1)
        let text = BurstBench.markdown([r])
        let cells = text.split(separator: "\n")[2].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(cells == ["tunnel-esp", "aes128gcm16", "1000", "encap", "1000", "4000", "500", "2000", "2.00", "0.50",
                          "0.67", "0.00"])
        var missing = r
        missing.ipsecMBLimit = nil
        missing.ipsecMBBurst = nil
        missing.allocationsPerPacket = nil
        let line = BurstBench.markdown([missing]).split(separator: "\n")[2]
        #expect(line.contains("| – |"))
        #expect(line.contains("not counted"))
        #expect(line.contains("| 0.50 |"))  // 500k on OpenSSL over the OpenSSL limit of 1M
    }

    @Test("JSON Lines carry packets per second and null for what was not measured")
    func json() {
        var r = Self.row
        #expect(BurstBench.jsonLines([r]) == "{\"mode\":\"tunnel-esp\",\"algorithm\":\"aes128gcm16\",\"size\":1000,"
            + "\"direction\":\"encap\",\"burst\":32,\"openssl_limit_pps\":1000000,\"ipsec_mb_limit_pps\":4000000,"
            + "\"burst_openssl_pps\":500000,\"burst_ipsec_mb_pps\":2000000,\"refill_pps\":8000000,"
            + "\"allocations_per_packet\":0.000}\n")
        r.ipsecMBLimit = nil
        #expect(BurstBench.jsonLines([r]).contains("\"ipsec_mb_limit_pps\":null"))
        #expect(BurstBench.jsonLines([]) == "")
    }
}
