import IPsecCore
import IPsecCrypto
import IPsecWire
#if canImport(Glibc)
import Glibc
#endif

/// One row of `ipsec-lab bench --burst N`: a mode, transform, inner packet size and direction, with both crypto
/// limits (raw OpenSSL EVP one packet at a time, raw libipsec-mb a burst at a time, on buffers of the ESP payload's
/// size) and IPsecLab's burst data plane on each implementation.
public struct BurstBenchRow: Hashable, Sendable {
    public var mode: String
    public var algorithm: String
    /// Inner packet bytes.
    public var size: Int
    public var direction: BenchDirection
    public var burst: Int
    /// Packets per second.
    public var openSSLLimit: Double
    public var ipsecMBLimit: Double?
    public var openSSLBurst: Double
    public var ipsecMBBurst: Double?
    /// Refilling the burst's slots with the packets to process (a copy the benchmark needs to reuse its packets; a
    /// data plane receiving from a NIC would not pay it), on its own.
    public var refill: Double
    /// Heap allocations per packet on the burst path (libipsec-mb when available), counted in the timed windows.
    public var allocationsPerPacket: Double?

    /// The faster of the two limits.
    public var limit: Double { max(openSSLLimit, ipsecMBLimit ?? 0) }

    /// A rate with the refill's time taken out: 1 / (1/rate − 1/refill).
    public func withoutRefill(_ rate: Double) -> Double {
        guard rate > 0, refill > rate else { return rate }
        return 1 / (1 / rate - 1 / refill)
    }
}

/// The burst benchmark: the data plane's `Outbound.protect(_:with:)` and `Inbound.unprotect(_:sad:)` on bursts,
/// against the fastest crypto this machine has (docs/ipsec-mb.md). Same method as `Bench`: warm up, time windows of
/// whole bursts on the monotonic clock, alternate the measurements `rounds` times and keep each one's best window.
public enum BurstBench {
    public static let defaultAlgorithms = ["aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256",
                                           "aes128ctr-sha1"]
    public static let defaultSizes = [64, 512, 1400]

    public static func run(modes: [SAMode] = [.tunnel], algorithms: [ESPAlgorithm], sizes: [Int],
                           directions: [BenchDirection] = BenchDirection.allCases, burst: Int = 32,
                           seconds: Double = 0.1, rounds: Int = 3,
                           progress: (Int, Int) -> Void = { _, _ in }) throws(AnalysisError) -> [BurstBenchRow] {
        guard burst > 0, burst <= 1024 else { throw AnalysisError("--burst takes 1 to 1024 packets, not \(burst)") }
        guard seconds > 0, rounds > 0 else { throw AnalysisError("--seconds and --rounds must be positive") }
        for size in sizes where size < 28 || size > 9000 {
            throw AnalysisError("size \(size) is outside 28...9000 (an IPv4 UDP packet)")
        }
        var rows: [BurstBenchRow] = []
        let total = modes.count * algorithms.count * sizes.count * directions.count
        for mode in modes {
            guard mode == .tunnel || mode == .transport else {
                throw AnalysisError("the burst benchmark runs tunnel-esp and transport-esp")
            }
            for algorithm in algorithms {
                for size in sizes {
                    for direction in directions {
                        do {
                            rows.append(try measure(mode: mode, algorithm: algorithm, size: size,
                                                    direction: direction, burst: burst, seconds: seconds,
                                                    rounds: rounds))
                        } catch let error as AnalysisError {
                            throw error
                        } catch {
                            throw AnalysisError("\(algorithm) \(size) B: \(error)")
                        }
                        progress(rows.count, total)
                    }
                }
            }
        }
        return rows
    }

    /// An IPv4 UDP packet of `size` bytes between the benchmark's hosts.
    static func packet(size: Int) -> [UInt8] {
        let payload = (0..<(size - 28)).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        let udp = UDPHeader(sourcePort: 4000, destinationPort: 5000, length: UInt16(size - 20))
        var ip = IPv4Header(totalLength: UInt16(size), identification: 1, protocol: .udp,
                            source: IPv4Address(rawValue: 0xc000_0201), destination: IPv4Address(rawValue: 0xc633_6401))
        ip.updateChecksum()
        return (try? ip.serialized() + udp.serialized() + payload) ?? []
    }

    static func key(_ count: Int, _ seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ Int(seed)) }
    }

    private static func measure(mode: SAMode, algorithm: ESPAlgorithm, size: Int, direction: BenchDirection,
                                burst count: Int, seconds: Double, rounds: Int) throws -> BurstBenchRow {
        var config = SAConfiguration(protocol: .esp, spi: 0x0b00_0001, mode: mode,
                                     source: IPAddress("192.0.2.1")!, destination: IPAddress("198.51.100.1")!,
                                     algorithm: .esp(algorithm),
                                     encryptionKey: key(algorithm.encryptionKeyLength, 1),
                                     integrityKey: key(algorithm.integrityKeyLength, 2))
        // The same packets are opened again and again: anti-replay off on the receiver (RFC 4303 §3.4.3).
        config.replayWindow = 0
        let inner = packet(size: size)
        let payloadLength = (mode == .tunnel ? size : size - 20) + 2
            + ESPTrailer.paddingLength(payloadLength: mode == .tunnel ? size : size - 20, blockSize: algorithm.blockSize)

        // Protected packets to open, made once.
        let maker = try SecurityAssociation(config, ivSource: .seeded(3), implementation: .openSSL)
        var protected: [UInt8] = []
        try Outbound.protect(inner[...], with: maker, into: &protected)

        // The limits.
        let reference = try TransformLimit(algorithm, encryptionKey: config.encryptionKey,
                                           integrityKey: config.integrityKey)
        var limitInput = [UInt8](repeating: 0x5a, count: payloadLength)
        var limitOutput = limitInput
        var limitICV = [UInt8](repeating: 0, count: reference.icvLength)
        try limitInput.withUnsafeMutableBytes { b in try limitICV.withUnsafeMutableBytes { try reference.seal(b, icv: $0) } }
        let fast = IPsecMBLimit(algorithm, encryptionKey: config.encryptionKey, integrityKey: config.integrityKey,
                                length: payloadLength, count: count)

        // The data plane on each implementation.
        func plane(_ implementation: CryptoImplementation) throws -> (PacketBurst, SecurityAssociation, SADatabase) {
            // Seeded IVs and outer identifications: the random sources ask OpenSSL's DRBG for a few bytes per packet,
            // which costs more than sealing a small packet (docs/ipsec-mb.md).
            let sa = try SecurityAssociation(config, ivSource: .seeded(5), identificationSource: .seeded(6),
                                             implementation: implementation)
            let sad = SADatabase()
            try sad.add(try SecurityAssociation(config, implementation: implementation))
            return (PacketBurst(capacity: count, maximumPacketLength: max(size, protected.count)), sa, sad)
        }
        let planes = try [CryptoImplementation.openSSL, .ipsecMB].filter { $0 == .openSSL || IPsecMB.isAvailable }
            .map { try plane($0) }
        let source = direction == .encap ? inner : protected
        func refill(_ b: PacketBurst) {
            b.removeAll()
            for _ in 0..<count { b.append(source) }
        }
        func runPlane(_ p: (PacketBurst, SecurityAssociation, SADatabase)) {
            refill(p.0)
            if direction == .encap { Outbound.protect(p.0, with: p.1) } else { Inbound.unprotect(p.0, sad: p.2) }
        }
        // Check once that every packet goes through.
        for p in planes {
            runPlane(p)
            for i in 0..<count {
                if direction == .encap, let error = p.0.outboundErrors[i] { throw AnalysisError("\(error)") }
                if direction == .decap, p.0.inboundResults[i].verdict != .accepted {
                    throw AnalysisError("the burst dropped a packet: \(p.0.inboundResults[i].verdict)")
                }
            }
        }

        var best = [Double](repeating: 0, count: 4 + planes.count)  // openssl limit, mb limit, refill, planes…
        var allocations: Double?
        for _ in 0..<rounds {
            best[0] = max(best[0], try limitInput.withUnsafeBytes { input in
                try limitOutput.withUnsafeMutableBytes { output in
                    try limitICV.withUnsafeMutableBytes { icv in
                        try time(seconds, per: 1) {
                            if direction == .encap {
                                try reference.seal(output, icv: icv)
                            } else if try !reference.open(input, icv: UnsafeRawBufferPointer(icv), into: output) {
                                throw AnalysisError("the OpenSSL limit did not verify its own tag")
                            }
                        }.rate
                    }
                }
            })
            if let fast {
                best[1] = max(best[1], try time(seconds, per: count) {
                    guard fast.run(opening: direction == .decap, rounds: 1) else {
                        throw AnalysisError("libipsec-mb refused a job")
                    }
                }.rate)
            }
            best[2] = max(best[2], try time(seconds, per: count) { refill(planes[0].0) }.rate)
            for (k, p) in planes.enumerated() {
                let sample = try time(seconds, per: count) { runPlane(p) }
                if sample.rate > best[4 + k] {
                    best[4 + k] = sample.rate
                    if k == planes.count - 1 { allocations = sample.allocationsPerPacket }
                }
            }
        }
        return BurstBenchRow(mode: mode == .tunnel ? "tunnel-esp" : "transport-esp", algorithm: algorithm.keyword,
                             size: size, direction: direction, burst: count, openSSLLimit: best[0],
                             ipsecMBLimit: fast == nil ? nil : best[1], openSSLBurst: best[4],
                             ipsecMBBurst: planes.count > 1 ? best[5] : nil, refill: best[2],
                             allocationsPerPacket: Bench.countsAllocations ? allocations : nil)
    }

    struct Sample {
        var rate: Double
        var allocationsPerPacket: Double
    }

    /// Runs `body` (which handles `per` packets) for a warm-up, then for `seconds`, reading the clock between calls.
    private static func time(_ seconds: Double, per packets: Int, _ body: () throws -> Void) rethrows -> Sample {
        let calls = max(1, 256 / packets)
        for _ in 0..<calls { try body() }
        let budget = UInt64(seconds * 1e9)
        let allocationsBefore = Bench.threadAllocations
        let start = now()
        var elapsed: UInt64 = 0
        var done = 0
        repeat {
            for _ in 0..<calls { try body() }
            done += calls * packets
            elapsed = now() - start
        } while elapsed < budget
        let allocations = Bench.threadAllocations - allocationsBefore
        return Sample(rate: Double(done) * 1e9 / Double(max(elapsed, 1)),
                      allocationsPerPacket: Double(allocations) / Double(max(done, 1)))
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// `value` with `places` decimals (no Foundation here).
    static func fixed(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = scaled % Int(scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if places > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return text
    }

    /// Markdown: rates in MB/s of inner packets, the ratio of each burst data plane to the faster limit.
    public static func markdown(_ rows: [BurstBenchRow]) -> String {
        func mb(_ pps: Double?, _ size: Int) -> String {
            guard let pps else { return "–" }
            return fixed(pps * Double(size) / 1e6, 0)
        }
        func ratio(_ a: Double?, _ b: Double) -> String {
            guard let a, b > 0 else { return "–" }
            return fixed(a / b, 2)
        }
        var text = "| mode | algorithm | size | direction | OpenSSL limit MB/s | libipsec-mb limit MB/s "
        text += "| burst OpenSSL MB/s | burst libipsec-mb MB/s | burst Mpps | ratio to faster limit "
        text += "| same, refill excluded | allocs/packet |\n"
        text += "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            let best: Double = r.ipsecMBBurst ?? r.openSSLBurst
            let allocations: String = r.allocationsPerPacket.map { fixed($0, 2) } ?? "not counted"
            var cells: [String] = [r.mode, r.algorithm, String(r.size), r.direction.rawValue]
            cells.append(mb(r.openSSLLimit, r.size))
            cells.append(mb(r.ipsecMBLimit, r.size))
            cells.append(mb(r.openSSLBurst, r.size))
            cells.append(mb(r.ipsecMBBurst, r.size))
            cells.append(fixed(best / 1e6, 2))
            cells.append(ratio(best, r.limit))
            cells.append(ratio(r.withoutRefill(best), r.limit))
            cells.append(allocations)
            text += "| " + cells.joined(separator: " | ") + " |\n"
        }
        return text
    }

    /// JSON Lines, one object per row; rates in packets per second.
    public static func jsonLines(_ rows: [BurstBenchRow]) -> String {
        func number(_ value: Double?) -> String { value.map { fixed($0, 0) } ?? "null" }
        var lines: [String] = []
        for r in rows {
            var fields: [String] = []
            fields.append("\"mode\":\"\(r.mode)\"")
            fields.append("\"algorithm\":\"\(r.algorithm)\"")
            fields.append("\"size\":\(r.size)")
            fields.append("\"direction\":\"\(r.direction.rawValue)\"")
            fields.append("\"burst\":\(r.burst)")
            fields.append("\"openssl_limit_pps\":\(number(r.openSSLLimit))")
            fields.append("\"ipsec_mb_limit_pps\":\(number(r.ipsecMBLimit))")
            fields.append("\"burst_openssl_pps\":\(number(r.openSSLBurst))")
            fields.append("\"burst_ipsec_mb_pps\":\(number(r.ipsecMBBurst))")
            fields.append("\"refill_pps\":\(number(r.refill))")
            fields.append("\"allocations_per_packet\":\(r.allocationsPerPacket.map { fixed($0, 3) } ?? "null")")
            lines.append("{" + fields.joined(separator: ",") + "}")
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
