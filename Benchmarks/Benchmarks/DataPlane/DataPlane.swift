import Benchmark
import IPsecCore
import IPsecCrypto
import IPsecWire

// Heap allocations per packet of the data plane in steady state, per mode, for encap (Outbound.protect) and decap
// (Inbound.unprotect). Each measured iteration runs 1,000 packets (scalingFactor .kilo) through warm buffers; the
// committed threshold is zero allocations for the whole iteration, so one allocation per thousand packets fails the
// check. Only allocations are measured here: seconds vary with the machine, allocations do not (throughput is
// `ipsec-lab bench`'s job, docs/performance.md). A control that allocates once per packet shows the counter is live:
// it must count 1,000 per iteration.

/// One mode of the matrix, as the bench runs it: IPv4, documentation addresses, deterministic benchmark keys.
struct Case {
    var label: String
    var mode: SAMode
    var algorithm: SAAlgorithm
    var headerCompression: HeaderCompressionFields?

    /// The benchmark's name: no spaces, since package-benchmark reads thresholds back from files named after it.
    var name: String { label.split(separator: " ").joined(separator: "_") }
}

let cases: [Case] = {
    let gcm = SAAlgorithm.esp(try! ESPAlgorithm(keyword: "aes128gcm16"))
    let cbc = SAAlgorithm.esp(try! ESPAlgorithm(keyword: "aes128-sha256"))
    let null = SAAlgorithm.esp(try! ESPAlgorithm(keyword: "null-sha256"))
    let ah = SAAlgorithm.ah(try! AHAlgorithm(keyword: "sha256"))
    return [
        Case(label: "transport-ah sha256", mode: .transport, algorithm: ah),
        Case(label: "transport-esp aes128gcm16", mode: .transport, algorithm: gcm),
        Case(label: "transport-esp aes128-sha256", mode: .transport, algorithm: cbc),
        Case(label: "transport-esp-null null-sha256", mode: .transport, algorithm: null),
        Case(label: "tunnel-ah sha256", mode: .tunnel, algorithm: ah),
        Case(label: "tunnel-esp aes128gcm16", mode: .tunnel, algorithm: gcm),
        Case(label: "tunnel-esp aes128-sha256", mode: .tunnel, algorithm: cbc),
        Case(label: "tunnel-esp-null null-sha256", mode: .tunnel, algorithm: null),
        Case(label: "tunnel-esp-hc aes128gcm16", mode: .tunnelHC, algorithm: gcm, headerCompression: .hostToHost),
    ]
}()

func keyBytes(_ count: Int, seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ seed) } }

func configuration(_ c: Case) -> SAConfiguration {
    let source = IPAddress("192.0.2.1")!, destination = IPAddress("198.51.100.2")!
    var sa: SAConfiguration
    switch c.algorithm {
    case .esp(let a):
        sa = SAConfiguration(protocol: .esp, spi: 0x1000, mode: c.mode, source: source, destination: destination,
                             algorithm: c.algorithm, encryptionKey: keyBytes(a.encryptionKeyLength, seed: 1),
                             integrityKey: keyBytes(a.integrityKeyLength, seed: 101))
    case .ah(let a):
        sa = SAConfiguration(protocol: .ah, spi: 0x2000, mode: c.mode, source: source, destination: destination,
                             algorithm: c.algorithm, integrityKey: keyBytes(a.keyLength, seed: 55))
    }
    sa.headerCompression = c.headerCompression
    return sa
}

/// A 1400-byte IPv4/UDP packet between the tunnel endpoints (so that the compressed tunnel compresses it).
func innerPacket(size: Int = 1400) -> [UInt8] {
    let udp = UDPHeader(sourcePort: 4000, destinationPort: 5000, length: UInt16(size - 20))
    var ip = IPv4Header(totalLength: UInt16(size), identification: 0x1234, dontFragment: true, protocol: .udp,
                        source: IPv4Address(rawValue: 0xc000_0201), destination: IPv4Address(rawValue: 0xc633_6402))
    ip.updateChecksum()
    return try! ip.serialized() + udp.serialized() + (0..<(size - 28)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
}

func allocationGuard() -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 20,
        thresholds: [.mallocCountTotal: .init(absolute: [.p100: 0])]
    )
}

let benchmarks: @Sendable () -> Void = {
    Benchmark("control_one_allocation_per_packet", configuration: .init(metrics: [.mallocCountTotal],
                                                                         scalingFactor: .kilo)) { benchmark in
        final class Box { var value = 0 }
        for i in benchmark.scaledIterations {
            let box = Box()
            box.value = i
            blackHole(box)  // escapes, so it cannot live on the stack
        }
    }
    // Every case on both libraries: OpenSSL (the names without a library, as first committed) and libipsec-mb
    // ("encap_ipsec-mb_…"), whose per-packet path is a burst of one (docs/ipsec-mb.md).
    for c in cases {
        for backend in CryptoImplementation.allCases {
            let name = backend == .openSSL ? c.name : "\(backend.rawValue)_\(c.name)"
            Benchmark("encap_\(name)", configuration: allocationGuard()) { benchmark in
                let sa = try SecurityAssociation(configuration(c), ivSource: .seeded(7), identificationSource: .seeded(8),
                                                 implementation: backend)
                requireLibrary(sa, backend, c)
                let inner = innerPacket()
                var out: [UInt8] = []
                try Outbound.protect(inner[...], with: sa, into: &out)  // grow the buffer before measuring
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    try Outbound.protect(inner[...], with: sa, into: &out)
                }
                benchmark.stopMeasurement()
                blackHole(out)
            }
            Benchmark("decap_\(name)", configuration: allocationGuard()) { benchmark in
                let sender = try SecurityAssociation(configuration(c), ivSource: .seeded(7), implementation: backend)
                var receiving = configuration(c)
                receiving.replayWindow = 0  // the same packet, opened again and again (as `ipsec-lab bench` does)
                let sad = SADatabase()
                let receiver = try SecurityAssociation(receiving, implementation: backend)
                requireLibrary(receiver, backend, c)
                try sad.add(receiver)
                var protected: [UInt8] = []
                try Outbound.protect(innerPacket()[...], with: sender, into: &protected)
                var opened: [UInt8] = [], scratch: [UInt8] = []
                _ = Inbound.unprotect(protected[...], sad: sad, into: &opened, scratch: &scratch)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    let r = Inbound.unprotect(protected[...], sad: sad, into: &opened, scratch: &scratch)
                    guard r.verdict == .accepted else { fatalError("\(c.label): a good packet was dropped") }
                }
                benchmark.stopMeasurement()
                blackHole(opened)
            }
        }
    }
}

/// A libipsec-mb benchmark that ran on OpenSSL would guard nothing: stop instead.
func requireLibrary(_ sa: SecurityAssociation, _ backend: CryptoImplementation, _ c: Case) {
    guard sa.cryptoImplementation == backend else {
        fatalError("\(c.label): the SA runs on \(sa.cryptoImplementation), not \(backend) (\(IPsecMB.status))")
    }
}
