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

/// The throughput of the bare cryptography of a row's transform on one library: OpenSSL EVP one packet per call
/// (`TransformLimit`) or libipsec-mb a burst of buffers per call (`IPsecMBLimit`), on buffers of the same size.
public struct BenchLimit: Hashable, Sendable {
    /// The library measured.
    public var backend: CryptoImplementation
    public var packetsPerSecond: Double
    /// Inner-packet bytes per second: what the data plane would carry if a packet cost only its cryptography.
    public var bytesPerSecond: Double

    public init(backend: CryptoImplementation, packetsPerSecond: Double, bytesPerSecond: Double) {
        self.backend = backend
        self.packetsPerSecond = packetsPerSecond
        self.bytesPerSecond = bytesPerSecond
    }
}

/// The data plane of a row measured on one library: its SAs made with `implementation: backend`.
public struct BenchPlane: Hashable, Sendable {
    public var backend: CryptoImplementation
    public var packetsPerSecond: Double
    /// Inner-packet bytes per second (`packetsPerSecond × size`), so that encap and decap compare directly.
    public var bytesPerSecond: Double
    /// Heap allocations per packet in steady state, counted by the allocator (not estimated); nil when this build
    /// cannot count (under a sanitizer).
    public var allocationsPerPacket: Double?

    public init(backend: CryptoImplementation, packetsPerSecond: Double, bytesPerSecond: Double,
                allocationsPerPacket: Double?) {
        self.backend = backend
        self.packetsPerSecond = packetsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.allocationsPerPacket = allocationsPerPacket
    }
}

/// One row of `ipsec-lab bench`: a mode, an algorithm, an inner packet size and a direction, measured on one core:
/// the data plane on each library asked for and the crypto limit on each library that runs the transform.
///
/// A library is absent from `planes` when it was not asked for, or when it does not run the transform (an SA made
/// for libipsec-mb that runs on OpenSSL is not measured as libipsec-mb); absent from `limits` when it does not run
/// the transform. Nothing stands in for a missing measurement.
public struct BenchRow: Hashable, Sendable {
    public var mode: OverheadMode
    public var algorithm: SAAlgorithm
    /// The inner IP packet's size in bytes (its header included), as in `ipsec-lab overhead`.
    public var size: Int
    public var direction: BenchDirection
    /// The data planes measured, OpenSSL (the reference) first.
    public var planes: [BenchPlane]
    /// The limits measured in the same run, OpenSSL EVP (the reference) first.
    public var limits: [BenchLimit]

    public init(mode: OverheadMode, algorithm: SAAlgorithm, size: Int, direction: BenchDirection,
                planes: [BenchPlane], limits: [BenchLimit]) {
        self.mode = mode
        self.algorithm = algorithm
        self.size = size
        self.direction = direction
        self.planes = planes
        self.limits = limits
    }

    public func plane(_ backend: CryptoImplementation) -> BenchPlane? { planes.first { $0.backend == backend } }

    public func limit(_ backend: CryptoImplementation) -> BenchLimit? { limits.first { $0.backend == backend } }

    /// The faster of the limits measured (by packet rate): what the machine's cryptography allows at the most.
    public var fasterLimit: BenchLimit? {
        limits.reduce(nil) { best, l in best.map { $0.packetsPerSecond >= l.packetsPerSecond ? $0 : l } ?? l }
    }

    /// The data plane on `plane` over the limit on `limit`, as a ratio of packet rates (1 would mean that IPsec
    /// around the cryptography costs nothing); nil when either was not measured.
    public func ratio(_ plane: CryptoImplementation, to limit: CryptoImplementation) -> Double? {
        guard let p = self.plane(plane), let l = self.limit(limit), l.packetsPerSecond > 0 else { return nil }
        return p.packetsPerSecond / l.packetsPerSecond
    }

    /// The data plane on `plane` over the faster limit; nil when that plane was not measured.
    public func ratioToFasterLimit(_ plane: CryptoImplementation) -> Double? {
        guard let faster = fasterLimit else { return nil }
        return ratio(plane, to: faster.backend)
    }

    /// The OpenSSL data plane over the OpenSSL EVP limit: `ratio_to_limit`, the ratio the performance targets name.
    public var ratioToLimit: Double? { ratio(.openSSL, to: .openSSL) }
}

/// What `ipsec-lab bench` measures: modes × algorithms × inner packet sizes × directions, over IPv4, with the data
/// plane on each library in `backends`.
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

    /// Both libraries when libipsec-mb runs here, otherwise OpenSSL alone.
    public static var defaultBackends: [CryptoImplementation] {
        IPsecMB.isAvailable ? [.openSSL, .ipsecMB] : [.openSSL]
    }

    public var modes: [OverheadMode] = BenchQuery.defaultModes
    /// nil: every algorithm each mode takes.
    public var algorithms: [SAAlgorithm]? = try? OverheadQuery.parseAlgorithms(BenchQuery.defaultAlgorithmKeywords)
    public var sizes: [Int] = BenchQuery.defaultSizes
    public var directions: [BenchDirection] = BenchDirection.allCases
    /// The libraries whose data plane runs. The limits of both run whatever this says, where the library runs the
    /// transform: the ratios are to the faster one.
    public var backends: [CryptoImplementation] = BenchQuery.defaultBackends
    /// Seconds per timed window; each measurement (data planes and limits) runs `rounds` windows and keeps the best.
    public var seconds: Double = 0.1
    public var rounds: Int = 3

    public init() {}

    /// `--backend`: "openssl", "ipsec-mb" or "both".
    public static func parseBackends(_ text: String) throws(AnalysisError) -> [CryptoImplementation] {
        switch text {
        case "both": return [.openSSL, .ipsecMB]
        default:
            guard let b = CryptoImplementation(rawValue: text) else {
                throw AnalysisError("--backend takes openssl, ipsec-mb or both, not \"\(text)\"")
            }
            return [b]
        }
    }

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
        guard !backends.isEmpty else { throw AnalysisError("no data plane to measure") }
        if backends.contains(.ipsecMB) && !IPsecMB.isAvailable {
            throw AnalysisError("--backend ipsec-mb: \(IPsecMB.status)")
        }
    }
}

/// The benchmark behind `ipsec-lab bench`: for every cell, size and direction, the data plane's packet rate on one
/// core on each library asked for, the raw crypto limits of the same transform on both libraries measured in the same
/// run on buffers of the same size, and the heap allocations per packet in steady state.
///
/// Method (docs/performance.md): each measurement warms up, then runs batches of packets until its window has
/// passed, reading the monotonic clock between batches; the limits' and the data planes' windows alternate `rounds`
/// times and each keeps its best window, so that a burst of load from elsewhere on the machine hurts none more than
/// the others. Allocations are counted over every timed window of each data plane by the interposed allocator
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

    /// Buffers per call of the libipsec-mb limit: enough jobs in flight to fill the library's lanes, as in
    /// `bench --burst 32`.
    public static let ipsecMBLimitBurst = 32

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
                do { fixture = try Fixture(cell, size: size, backends: query.backends) } catch {
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

    /// Whether libipsec-mb runs this cell's transform here: an SA made for it says which library it got.
    public static func ipsecMBRuns(_ cell: MatrixCell) -> Bool {
        guard IPsecMB.isAvailable else { return false }
        return (try? SecurityAssociation(cell.configuration, implementation: .ipsecMB))?.cryptoImplementation
            == .ipsecMB
    }

    /// The ESP transform whose bare cryptography on libipsec-mb is an AH algorithm's: NULL encryption with the same
    /// MAC, or ENCR_NULL_AUTH_AES_GMAC for AES-GMAC, its key laid out as the ESP transform wants it. Run over a
    /// buffer the size of the packet, it is what AH computes per packet (RFC 4302 §3.3.3: one MAC over the packet).
    static func ipsecMBEquivalent(_ algorithm: AHAlgorithm, key: [UInt8])
        -> (algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8])?
    {
        if case .aesGMAC(let bits) = algorithm.integrity {
            return (try? ESPAlgorithm(encryption: .nullAuthAESGMAC(keyBits: bits))).map { ($0, key, []) }
        }
        return (try? ESPAlgorithm(encryption: .null, integrity: algorithm.integrity)).map { ($0, [], key) }
    }

    /// The libipsec-mb limit of a transform over buffers of `length` bytes; nil when the library does not run it.
    public static func ipsecMBLimit(_ algorithm: SAAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8],
                                    length: Int) -> IPsecMBLimit? {
        switch algorithm {
        case .esp(let a):
            return IPsecMBLimit(a, encryptionKey: encryptionKey, integrityKey: integrityKey, length: length,
                                count: ipsecMBLimitBurst)
        case .ah(let a):
            guard let e = ipsecMBEquivalent(a, key: integrityKey) else { return nil }
            return IPsecMBLimit(e.algorithm, encryptionKey: e.encryptionKey, integrityKey: e.integrityKey,
                                length: length, count: ipsecMBLimitBurst)
        }
    }

    // MARK: - One cell at one size

    /// The data plane on one library: its sending SA, its receiving SA database and its reused buffers.
    final class Plane {
        let backend: CryptoImplementation
        let sender: SecurityAssociation
        let receivers = SADatabase()
        var out: [UInt8] = []
        var opened: [UInt8] = []
        var scratch: [UInt8] = []

        /// Nil when an SA made for `backend` runs on another library (libipsec-mb lacks the transform).
        init?(_ cell: MatrixCell, backend: CryptoImplementation) throws {
            sender = try cell.sender(implementation: backend)
            guard sender.cryptoImplementation == backend else { return nil }
            self.backend = backend
            var configuration = cell.configuration
            configuration.replayWindow = 0
            let receiver = try SecurityAssociation(configuration, implementation: backend)
            guard receiver.cryptoImplementation == backend else { return nil }
            try receivers.add(receiver)
        }
    }

    /// Everything one cell needs at one size, built before any timing: the SAs of each data plane, the inner and
    /// protected packets, the limits and their buffers.
    final class Fixture {
        let cell: MatrixCell
        let size: Int
        let inner: [UInt8]
        let planes: [Plane]
        let protected: [UInt8]
        let limit: TransformLimit
        /// The libipsec-mb limit, when the library runs the transform here.
        let fastLimit: IPsecMBLimit?
        /// What the limit works on: the ESP payload (inner data ‖ padding ‖ trailer) or, for AH, the whole packet.
        var limitInput: [UInt8]
        var limitOutput: [UInt8]
        /// The ICV of `limitInput`, which the limit's open verifies; the seal measurement writes to `limitScratchICV`.
        var limitICV: [UInt8]
        var limitScratchICV: [UInt8]

        init(_ cell: MatrixCell, size: Int, backends: [CryptoImplementation]) throws {
            self.cell = cell
            self.size = size
            inner = cell.innerPacket(size: size)
            planes = try backends.compactMap { try Plane(cell, backend: $0) }
            // The packet every plane opens, sealed on the reference library (both libraries seal the same bytes).
            var sealed: [UInt8] = []
            try Outbound.protect(inner[...], with: try cell.sender(implementation: .openSSL), into: &sealed)
            protected = sealed
            for plane in planes {
                try Outbound.protect(inner[...], with: plane.sender, into: &plane.out)
                let result = Inbound.unprotect(protected[...], sad: plane.receivers, into: &plane.opened,
                                               scratch: &plane.scratch)
                guard result.verdict == .accepted, plane.opened == inner else {
                    throw AnalysisError("the data plane on \(plane.backend) did not open the packet "
                                        + "(\(result.verdict))")
                }
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
            fastLimit = Bench.ipsecMBRuns(cell)
                ? Bench.ipsecMBLimit(c.algorithm, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey,
                                     length: limitLength)
                : nil
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
            if let fastLimit, !fastLimit.run(opening: false, rounds: 1) {
                throw AnalysisError("libipsec-mb refused the limit's jobs")
            }
        }

        func measure(_ direction: BenchDirection, seconds: Double, rounds: Int) throws(AnalysisError) -> BenchRow {
            var bestLimit = Sample.zero, bestFastLimit = Sample.zero
            var best = [Sample](repeating: .zero, count: planes.count)
            var packets = [UInt64](repeating: 0, count: planes.count)
            var allocations = [UInt64](repeating: 0, count: planes.count)
            do {
                for _ in 0..<rounds {
                    let l = try direction == .encap ? timeLimitSeal(seconds) : timeLimitOpen(seconds)
                    if l.rate > bestLimit.rate { bestLimit = l }
                    if let fastLimit {
                        let f = try timeFastLimit(fastLimit, opening: direction == .decap, seconds)
                        if f.rate > bestFastLimit.rate { bestFastLimit = f }
                    }
                    for (k, plane) in planes.enumerated() {
                        let s = try direction == .encap ? timeEncap(plane, seconds) : timeDecap(plane, seconds)
                        if s.rate > best[k].rate { best[k] = s }
                        packets[k] += s.packets
                        allocations[k] += s.allocations
                    }
                }
            } catch let error as AnalysisError {
                throw error
            } catch {
                throw AnalysisError("\(cell.mode.label) \(cell.algorithm) \(direction) at \(size) bytes: \(error)")
            }
            var limits = [BenchLimit(backend: .openSSL, packetsPerSecond: bestLimit.rate,
                                     bytesPerSecond: bestLimit.rate * Double(size))]
            if fastLimit != nil {
                limits.append(BenchLimit(backend: .ipsecMB, packetsPerSecond: bestFastLimit.rate,
                                         bytesPerSecond: bestFastLimit.rate * Double(size)))
            }
            let measured = planes.indices.map { k in
                BenchPlane(backend: planes[k].backend, packetsPerSecond: best[k].rate,
                           bytesPerSecond: best[k].rate * Double(size),
                           allocationsPerPacket: Bench.countsAllocations
                               ? Double(allocations[k]) / Double(max(packets[k], 1)) : nil)
            }
            return BenchRow(mode: cell.mode, algorithm: cell.algorithm, size: size, direction: direction,
                            planes: measured, limits: limits)
        }

        func timeEncap(_ plane: Plane, _ seconds: Double) throws -> Sample {
            try Sample.measure(seconds: seconds) {
                try Outbound.protect(inner[...], with: plane.sender, into: &plane.out)
            }
        }

        func timeDecap(_ plane: Plane, _ seconds: Double) throws -> Sample {
            try Sample.measure(seconds: seconds) {
                let r = Inbound.unprotect(protected[...], sad: plane.receivers, into: &plane.opened,
                                          scratch: &plane.scratch)
                if r.verdict != .accepted { throw AnalysisError("the data plane dropped a good packet (\(r.verdict))") }
            }
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

        /// The libipsec-mb limit: `fast.count` buffers per call. Opening decrypts and computes the tag (MAC then
        /// decrypt for composite transforms) without comparing it, as `IPsecMBLimit` does.
        func timeFastLimit(_ fast: IPsecMBLimit, opening: Bool, _ seconds: Double) throws -> Sample {
            try Sample.measure(seconds: seconds, packetsPerCall: fast.count) {
                guard fast.run(opening: opening, rounds: 1) else { throw AnalysisError("libipsec-mb refused a job") }
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

        /// Times `body`, which handles `packetsPerCall` packets per call.
        static func measure(seconds: Double, packetsPerCall: Int = 1, _ body: () throws -> Void) rethrows -> Sample {
            let perBatch = max(1, batch / packetsPerCall)
            for _ in 0..<max(1, warmUp / packetsPerCall) { try body() }
            let budget = UInt64(seconds * 1e9)
            let allocationsBefore = ipseclab_thread_allocations()
            let start = monotonicNanoseconds()
            var now = start
            var packets: UInt64 = 0
            repeat {
                for _ in 0..<perBatch { try body() }
                packets += UInt64(perBatch * packetsPerCall)
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
    /// How the tables name a library.
    static func displayName(_ backend: CryptoImplementation) -> String {
        backend == .openSSL ? "OpenSSL" : "libipsec-mb"
    }

    /// The JSON keys of the libipsec-mb measurements, after the nine fields (which are the OpenSSL data plane
    /// and the OpenSSL EVP limit). Every row has every key; null where nothing was measured.
    public static let ipsecMBKeys = ["ratio_to_faster_limit", "faster_limit", "ipsec_mb_limit_bytes_per_second",
                                     "ipsec_mb_packets_per_second", "ipsec_mb_bytes_per_second",
                                     "ipsec_mb_ratio_to_faster_limit", "ipsec_mb_allocations_per_packet"]

    /// The rows as `--json` prints them, one object per row: first the nine fields, meaning what they meant
    /// before there was a second library — `packets_per_second`, `bytes_per_second`, `ratio_to_limit` and
    /// `allocations_per_packet` are the OpenSSL data plane's (null when it did not run), `limit_bytes_per_second` and
    /// `ratio_to_limit` are against the OpenSSL EVP limit — then the OpenSSL data plane's ratio to the faster limit,
    /// which library that limit is on, and libipsec-mb's limit and data plane (null where the library does not run the
    /// transform, is unavailable, or its data plane was not asked for). Rates are rounded to whole units.
    public static func jsonTable(_ rows: [BenchRow]) -> DataTable {
        let keys = ["mode", "algorithm", "size", "direction", "packets_per_second", "bytes_per_second",
                    "limit_bytes_per_second", "ratio_to_limit", "allocations_per_packet"] + ipsecMBKeys
        var table = DataTable(keys: keys)
        func int(_ value: Double?) -> DataTable.Cell { value.map { .int(Int($0.rounded())) } ?? .empty }
        func decimal(_ value: Double?) -> DataTable.Cell { value.map { .decimal($0, places: 4) } ?? .empty }
        for r in rows {
            let openSSL = r.plane(.openSSL), fast = r.plane(.ipsecMB)
            table.append([
                .text(r.mode.label), .text(r.algorithm.description), .int(r.size), .text(r.direction.rawValue),
                int(openSSL?.packetsPerSecond), int(openSSL?.bytesPerSecond), int(r.limit(.openSSL)?.bytesPerSecond),
                decimal(r.ratioToLimit), decimal(openSSL?.allocationsPerPacket),
                decimal(r.ratioToFasterLimit(.openSSL)), r.fasterLimit.map { .text($0.backend.rawValue) } ?? .empty,
                int(r.limit(.ipsecMB)?.bytesPerSecond), int(fast?.packetsPerSecond), int(fast?.bytesPerSecond),
                decimal(r.ratioToFasterLimit(.ipsecMB)), decimal(fast?.allocationsPerPacket),
            ])
        }
        return table
    }

    /// The rows for people: both limits in MB/s (10^6 bytes of inner packets), then for each data plane in `backends`
    /// (default: those any row measured) its packets/s, MB/s, ratio to the faster limit and allocations per packet.
    /// "—" marks what was not measured: libipsec-mb does not run the transform, or is not available.
    public static func markdownTable(_ rows: [BenchRow], backends: [CryptoImplementation]? = nil) -> DataTable {
        let shown = backends ?? CryptoImplementation.allCases.filter { b in rows.contains { $0.plane(b) != nil } }
        var columns: [DataTable.Column] = [
            .init("mode"), .init("algorithm"), .init("size", title: "size (B)"), .init("direction"),
            .init("limit_mb_per_second", title: "OpenSSL limit MB/s"),
            .init("ipsec_mb_limit_mb_per_second", title: "libipsec-mb limit MB/s"),
        ]
        for b in shown {
            let key = b == .openSSL ? "" : "ipsec_mb_", name = displayName(b)
            columns += [.init("\(key)packets_per_second", title: "\(name) packets/s"),
                        .init("\(key)mb_per_second", title: "\(name) MB/s"),
                        .init("\(key)ratio_to_faster_limit", title: "\(name) ratio"),
                        .init("\(key)allocations_per_packet", title: "\(name) allocs/packet")]
        }
        var table = DataTable(columns: columns)
        let missing = DataTable.Cell.text("—")
        for r in rows {
            var cells: [DataTable.Cell] = [
                .text(r.mode.label), .text(r.algorithm.description), .int(r.size), .text(r.direction.rawValue),
            ]
            for b in CryptoImplementation.allCases {
                cells.append(r.limit(b).map { .decimal($0.bytesPerSecond / 1e6, places: 1) } ?? missing)
            }
            for b in shown {
                guard let p = r.plane(b), let ratio = r.ratioToFasterLimit(b) else {
                    cells += [missing, missing, missing, missing]
                    continue
                }
                cells += [.int(Int(p.packetsPerSecond.rounded())), .decimal(p.bytesPerSecond / 1e6, places: 1),
                          .decimal(ratio, places: 3),
                          p.allocationsPerPacket.map { .decimal($0, places: 2) } ?? .text("n/a")]
            }
            table.append(cells)
        }
        return table
    }
}
