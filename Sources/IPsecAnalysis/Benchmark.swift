import CAllocationCounter
import IPsecCore
import IPsecCrypto
import IPsecWire
#if canImport(Glibc)
import Glibc
#endif

/// Which way a benchmark row measured the data plane.
public enum BenchDirection: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `Outbound.protect`: an inner packet in, the protected packet out.
    case encap
    /// `Inbound.unprotect`: a protected packet in, the packet that was protected out.
    case decap

    public var description: String { rawValue }
}

/// The throughput of the bare cryptography of a row's transform on one backend (`TransformLimit`).
public struct BenchLimit: Hashable, Sendable {
    /// The backend measured ("openssl").
    public var backend: String
    public var packetsPerSecond: Double
    /// Inner-packet bytes per second: what the data plane would carry if a packet cost only its cryptography.
    public var bytesPerSecond: Double

    public init(backend: String, packetsPerSecond: Double, bytesPerSecond: Double) {
        self.backend = backend
        self.packetsPerSecond = packetsPerSecond
        self.bytesPerSecond = bytesPerSecond
    }
}

/// One row of `ipsec-lab bench`: a mode, an algorithm, an inner packet size and a direction, measured on one core.
public struct BenchRow: Hashable, Sendable {
    public var mode: OverheadMode
    public var algorithm: SAAlgorithm
    /// The inner IP packet's size in bytes (its header included), as in `ipsec-lab overhead`.
    public var size: Int
    public var direction: BenchDirection
    public var packetsPerSecond: Double
    /// Inner-packet bytes per second (`packetsPerSecond × size`), so that encap and decap compare directly.
    public var bytesPerSecond: Double
    /// The limits measured in the same run, the reference backend (OpenSSL EVP) first.
    public var limits: [BenchLimit]
    /// Heap allocations per packet in steady state, counted by the allocator (not estimated); nil when this build
    /// cannot count (under a sanitizer).
    public var allocationsPerPacket: Double?

    public init(mode: OverheadMode, algorithm: SAAlgorithm, size: Int, direction: BenchDirection,
                packetsPerSecond: Double, bytesPerSecond: Double, limits: [BenchLimit], allocationsPerPacket: Double?) {
        self.mode = mode
        self.algorithm = algorithm
        self.size = size
        self.direction = direction
        self.packetsPerSecond = packetsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.limits = limits
        self.allocationsPerPacket = allocationsPerPacket
    }

    /// The reference limit (OpenSSL), in inner-packet bytes per second.
    public var limitBytesPerSecond: Double { limits.first?.bytesPerSecond ?? 0 }

    /// The data plane's packet rate over the reference limit's: 1 would mean IPsec around the crypto costs nothing.
    public var ratioToLimit: Double { ratio(to: 0) }

    public func ratio(to index: Int) -> Double {
        guard limits.indices.contains(index), limits[index].packetsPerSecond > 0 else { return 0 }
        return packetsPerSecond / limits[index].packetsPerSecond
    }
}

/// What `ipsec-lab bench` measures: modes × algorithms × inner packet sizes × directions, over IPv4.
public struct BenchQuery: Hashable, Sendable {
    /// The seven modes of the matrix; the compressed tunnel with its host-to-host preset (the form that compresses
    /// host-to-host traffic the most).
    public static let defaultModes: [OverheadMode] = OverheadMode.Matrix.allCases.map { m in
        m == .tunnelESPHC ? OverheadMode(m, headerCompression: .hostToHost)! : OverheadMode(m)!
    }

    /// The suites the targets name (AES-GCM, ChaCha20-Poly1305, AES-CBC with HMAC-SHA-256), NULL encryption with
    /// HMAC-SHA-256 for the -esp-null modes and HMAC-SHA-256-128 for AH.
    public static let defaultAlgorithmKeywords = ["aes128gcm16", "chacha20poly1305", "aes128-sha256", "null-sha256",
                                                  "sha256"]

    public static let defaultSizes = [64, 512, 1400, 9000]

    public var modes: [OverheadMode] = BenchQuery.defaultModes
    /// nil: every algorithm each mode takes.
    public var algorithms: [SAAlgorithm]? = try? OverheadQuery.parseAlgorithms(BenchQuery.defaultAlgorithmKeywords)
    public var sizes: [Int] = BenchQuery.defaultSizes
    public var directions: [BenchDirection] = BenchDirection.allCases
    /// Seconds per timed window; each measurement (data plane and limit) runs `rounds` windows and keeps the best.
    public var seconds: Double = 0.1
    public var rounds: Int = 3

    public init() {}

    /// The cells to run, in the order of the modes and then the algorithms.
    public func cells() throws(AnalysisError) -> [MatrixCell] {
        let cells = MatrixCell.matrix(modes: modes, versions: [.v4], algorithms: algorithms,
                                      traffic: [.hostToHost])
        guard !cells.isEmpty else {
            throw AnalysisError("no mode of \(modes.map(\.label).joined(separator: ", ")) takes any of the algorithms "
                                + "\((algorithms ?? []).map(\.description).joined(separator: ", "))")
        }
        return cells
    }

    public func validate() throws(AnalysisError) {
        guard !sizes.isEmpty else { throw AnalysisError("no packet sizes to measure") }
        for s in sizes where s < 28 || s > 65535 - 100 {
            throw AnalysisError("size \(s) is not measurable: inner IPv4 packets of 28…65435 bytes")
        }
        guard seconds > 0, seconds <= 60 else { throw AnalysisError("--seconds takes a duration of (0, 60] seconds") }
        guard rounds >= 1, rounds <= 100 else { throw AnalysisError("--rounds takes 1…100") }
        guard !directions.isEmpty else { throw AnalysisError("no direction to measure") }
    }
}

/// The benchmark behind `ipsec-lab bench`: for every cell, size and direction, the data plane's packet rate on one
/// core, the raw crypto limit of the same transform measured in the same run on buffers of the same size, and the
/// heap allocations per packet in steady state.
///
/// Method (docs/performance.md): each measurement warms up, then runs batches of packets until its window has
/// passed, reading the monotonic clock between batches; data plane and limit windows alternate `rounds` times and
/// each keeps its best window, so that a burst of load from elsewhere on the machine hurts neither more than the
/// other. Allocations are counted over every timed window of the data plane by the interposed allocator
/// (`CAllocationCounter`), on this thread only.
///
/// Decapsulation opens one protected packet again and again, from the same buffer the limit opens, with anti-replay
/// off on the receiving SA (RFC 4303 §3.4.3 lets a receiver disable it); everything else of the inbound path runs:
/// header checks, SA lookup, ICV verification before decryption, the padding check, decapsulation and the selector.
public enum Bench {
    /// Whether allocation counts are real in this build.
    public static var countsAllocations: Bool { ipseclab_allocation_counting_available() == 1 }

    /// Heap allocations made so far by this thread (monotonic; for deltas).
    public static var threadAllocations: UInt64 { ipseclab_thread_allocations() }

    /// Runs the query. `progress` is called with the rows done and the rows in all.
    public static func run(_ query: BenchQuery, progress: (Int, Int) -> Void = { _, _ in })
        throws(AnalysisError) -> [BenchRow]
    {
        try query.validate()
        let cells = try query.cells()
        let total = cells.count * query.sizes.count * query.directions.count
        var rows: [BenchRow] = []
        rows.reserveCapacity(total)
        for cell in cells {
            for size in query.sizes {
                let fixture: Fixture
                do { fixture = try Fixture(cell, size: size) } catch {
                    throw AnalysisError("\(cell.mode.label) \(cell.algorithm) at \(size) bytes: \(error)")
                }
                for direction in query.directions {
                    rows.append(try fixture.measure(direction, seconds: query.seconds, rounds: query.rounds))
                    progress(rows.count, total)
                }
            }
        }
        return rows
    }

    // MARK: - One cell at one size

    /// Everything one cell needs at one size, built before any timing: the SAs, the inner and protected packets, the
    /// limit and its buffers.
    final class Fixture {
        let cell: MatrixCell
        let size: Int
        let inner: [UInt8]
        let sender: SecurityAssociation
        let receivers = SADatabase()
        let protected: [UInt8]
        let limit: TransformLimit
        /// What the limit works on: the ESP payload (inner data ‖ padding ‖ trailer) or, for AH, the whole packet.
        var limitInput: [UInt8]
        var limitOutput: [UInt8]
        /// The ICV of `limitInput`, which the limit's open verifies; the seal measurement writes to `limitScratchICV`.
        var limitICV: [UInt8]
        var limitScratchICV: [UInt8]
        var out: [UInt8] = []
        var opened: [UInt8] = []
        var scratch: [UInt8] = []

        init(_ cell: MatrixCell, size: Int) throws {
            self.cell = cell
            self.size = size
            inner = cell.innerPacket(size: size)
            sender = try cell.sender()
            var configuration = cell.configuration
            configuration.replayWindow = 0
            try receivers.add(try SecurityAssociation(configuration))
            try Outbound.protect(inner[...], with: sender, into: &out)
            protected = out
            let result = Inbound.unprotect(protected[...], sad: receivers, into: &opened, scratch: &scratch)
            guard result.verdict == .accepted, opened == inner else {
                throw AnalysisError("the data plane did not open its own packet (\(result.verdict))")
            }
            let c = cell.configuration
            let limitLength: Int
            switch c.algorithm {
            case .esp(let a):
                limit = try TransformLimit(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey)
                // IPv4 here: the ESP header starts after 20 bytes of (outer or transport) IP header, and UDP.
                let espStart = 20 + (c.encapsulation == nil ? 0 : UDPDatagram.headerLength)
                limitLength = protected.count - espStart - ESPPacket.headerLength - a.encryption.ivLength
                    - a.icvLength
            case .ah(let a):
                limit = try TransformLimit(a, key: c.integrityKey)
                limitLength = protected.count
            }
            limitInput = Array(inner.prefix(limitLength))
            if limitInput.count < limitLength { limitInput += [UInt8](repeating: 0, count: limitLength - limitInput.count) }
            limitOutput = limitInput
            limitICV = [UInt8](repeating: 0, count: limit.icvLength)
            limitScratchICV = limitICV
            try limitInput.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) throws in
                try limitICV.withUnsafeMutableBytes { (icv: UnsafeMutableRawBufferPointer) throws in
                    try limit.seal(b, icv: icv)
                }
            }
            let verified = try limitInput.withUnsafeBytes { (i: UnsafeRawBufferPointer) throws -> Bool in
                try limitICV.withUnsafeBytes { (icv: UnsafeRawBufferPointer) throws -> Bool in
                    try limitOutput.withUnsafeMutableBytes { (o: UnsafeMutableRawBufferPointer) throws -> Bool in
                        try limit.open(i, icv: icv, into: o)
                    }
                }
            }
            guard verified else { throw AnalysisError("the crypto limit did not verify its own tag") }
        }

        func measure(_ direction: BenchDirection, seconds: Double, rounds: Int) throws(AnalysisError) -> BenchRow {
            var best = Sample.zero, bestLimit = Sample.zero
            var packets: UInt64 = 0, allocations: UInt64 = 0
            do {
                for _ in 0..<rounds {
                    let l = try direction == .encap ? timeLimitSeal(seconds) : timeLimitOpen(seconds)
                    if l.rate > bestLimit.rate { bestLimit = l }
                    let s = try direction == .encap ? timeEncap(seconds) : timeDecap(seconds)
                    if s.rate > best.rate { best = s }
                    packets += s.packets
                    allocations += s.allocations
                }
            } catch let error as AnalysisError {
                throw error
            } catch {
                throw AnalysisError("\(cell.mode.label) \(cell.algorithm) \(direction) at \(size) bytes: \(error)")
            }
            let limit = BenchLimit(backend: self.limit.backend, packetsPerSecond: bestLimit.rate,
                                   bytesPerSecond: bestLimit.rate * Double(size))
            return BenchRow(mode: cell.mode, algorithm: cell.algorithm, size: size, direction: direction,
                            packetsPerSecond: best.rate, bytesPerSecond: best.rate * Double(size), limits: [limit],
                            allocationsPerPacket: Bench.countsAllocations
                                ? Double(allocations) / Double(max(packets, 1)) : nil)
        }

        func timeEncap(_ seconds: Double) throws -> Sample {
            try Sample.measure(seconds: seconds) {
                try Outbound.protect(inner[...], with: sender, into: &out)
            }
        }

        func timeDecap(_ seconds: Double) throws -> Sample {
            let sample = try Sample.measure(seconds: seconds) {
                let r = Inbound.unprotect(protected[...], sad: receivers, into: &opened, scratch: &scratch)
                if r.verdict != .accepted { throw AnalysisError("the data plane dropped a good packet (\(r.verdict))") }
            }
            return sample
        }

        func timeLimitSeal(_ seconds: Double) throws -> Sample {
            try limitOutput.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) throws -> Sample in
                try limitScratchICV.withUnsafeMutableBytes { (icv: UnsafeMutableRawBufferPointer) throws -> Sample in
                    try Sample.measure(seconds: seconds) { try limit.seal(buffer, icv: icv) }
                }
            }
        }

        func timeLimitOpen(_ seconds: Double) throws -> Sample {
            try limitInput.withUnsafeBytes { (input: UnsafeRawBufferPointer) throws -> Sample in
                try limitICV.withUnsafeBytes { (icv: UnsafeRawBufferPointer) throws -> Sample in
                    try limitOutput.withUnsafeMutableBytes { (output: UnsafeMutableRawBufferPointer) throws -> Sample in
                        try Sample.measure(seconds: seconds) {
                            if try !limit.open(input, icv: icv, into: output) {
                                throw AnalysisError("the crypto limit did not verify its own tag")
                            }
                        }
                    }
                }
            }
        }
    }

    /// One timed window.
    struct Sample {
        var packets: UInt64
        var nanoseconds: UInt64
        var allocations: UInt64

        static let zero = Sample(packets: 0, nanoseconds: 1, allocations: 0)

        var rate: Double { Double(packets) * 1e9 / Double(max(nanoseconds, 1)) }

        /// Packets between two reads of the clock: enough to make the read negligible, few enough to stop on time.
        static let batch = 32
        static let warmUp = 64

        static func measure(seconds: Double, _ body: () throws -> Void) rethrows -> Sample {
            for _ in 0..<warmUp { try body() }
            let budget = UInt64(seconds * 1e9)
            let allocationsBefore = ipseclab_thread_allocations()
            let start = monotonicNanoseconds()
            var now = start
            var packets: UInt64 = 0
            repeat {
                for _ in 0..<batch { try body() }
                packets += UInt64(batch)
                now = monotonicNanoseconds()
            } while now - start < budget
            let allocations = ipseclab_thread_allocations() - allocationsBefore
            return Sample(packets: packets, nanoseconds: now - start, allocations: allocations)
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

// MARK: - Tables

extension Bench {
    /// The rows as `--json` prints them, one object per row with exactly the fields (and, when a second
    /// backend was measured, its limit and ratio after them). Rates are rounded to whole units.
    public static func jsonTable(_ rows: [BenchRow]) -> DataTable {
        let extra = extraBackends(rows)
        var keys = ["mode", "algorithm", "size", "direction", "packets_per_second", "bytes_per_second",
                    "limit_bytes_per_second", "ratio_to_limit", "allocations_per_packet"]
        for b in extra { keys += ["\(b)_limit_bytes_per_second", "\(b)_ratio_to_limit"] }
        var table = DataTable(keys: keys)
        for r in rows {
            var cells: [DataTable.Cell] = [
                .text(r.mode.label), .text(r.algorithm.description), .int(r.size), .text(r.direction.rawValue),
                .int(Int(r.packetsPerSecond.rounded())), .int(Int(r.bytesPerSecond.rounded())),
                .int(Int(r.limitBytesPerSecond.rounded())), .decimal(r.ratioToLimit, places: 4),
                r.allocationsPerPacket.map { .decimal($0, places: 4) } ?? .empty,
            ]
            for b in extra {
                let index = r.limits.firstIndex { $0.backend == b }
                cells.append(index.map { .int(Int(r.limits[$0].bytesPerSecond.rounded())) } ?? .empty)
                cells.append(index.map { .decimal(r.ratio(to: $0), places: 4) } ?? .empty)
            }
            table.append(cells)
        }
        return table
    }

    /// The rows for people: rates in packets/s and MB/s (10^6 bytes), the limit, the ratio and allocations.
    public static func markdownTable(_ rows: [BenchRow]) -> DataTable {
        let extra = extraBackends(rows)
        var columns: [DataTable.Column] = [
            .init("mode"), .init("algorithm"), .init("size", title: "size (B)"), .init("direction"),
            .init("packets_per_second", title: "packets/s"), .init("mb_per_second", title: "MB/s"),
            .init("limit_mb_per_second", title: "limit MB/s"), .init("ratio_to_limit", title: "ratio"),
            .init("allocations_per_packet", title: "allocs/packet"),
        ]
        for b in extra {
            columns += [.init("\(b)_limit_mb_per_second", title: "\(b) MB/s"), .init("\(b)_ratio", title: "\(b) ratio")]
        }
        var table = DataTable(columns: columns)
        for r in rows {
            var cells: [DataTable.Cell] = [
                .text(r.mode.label), .text(r.algorithm.description), .int(r.size), .text(r.direction.rawValue),
                .int(Int(r.packetsPerSecond.rounded())), .decimal(r.bytesPerSecond / 1e6, places: 1),
                .decimal(r.limitBytesPerSecond / 1e6, places: 1), .decimal(r.ratioToLimit, places: 3),
                r.allocationsPerPacket.map { .decimal($0, places: 2) } ?? .text("n/a"),
            ]
            for b in extra {
                let index = r.limits.firstIndex { $0.backend == b }
                cells.append(index.map { .decimal(r.limits[$0].bytesPerSecond / 1e6, places: 1) } ?? .empty)
                cells.append(index.map { .decimal(r.ratio(to: $0), places: 3) } ?? .empty)
            }
            table.append(cells)
        }
        return table
    }

    /// Backends beyond the reference one that any row measured, in first-seen order.
    static func extraBackends(_ rows: [BenchRow]) -> [String] {
        var seen: [String] = []
        for r in rows {
            for l in r.limits.dropFirst() where !seen.contains(l.backend) { seen.append(l.backend) }
        }
        return seen
    }
}
