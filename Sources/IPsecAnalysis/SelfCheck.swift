import IPsecCore
import IPsecCrypto
import IPsecWire

/// How much of the analysis to run: the sizes the self-check tries per cell.
public enum AnalysisDepth: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A dozen sizes per cell: the padding edges at the smallest packets, 100, 576, 1400 and 1500.
    case quick
    /// Every size of the first padding cycles, then a stride to 1500 with the usual sizes.
    case standard
    /// Every inner packet size from a bare header to 1500 bytes.
    case full

    public var description: String { rawValue }

    /// The inner packet sizes tried for IP `version`.
    public func sizes(_ version: IPVersion) -> [Int] {
        let h = OverheadModel.ipHeaderLength(version)
        let common = [100, 576, 1280, 1400, 1500]
        var sizes: [Int]
        switch self {
        case .quick:
            // A bare header (nothing to protect in transport mode), sizes around the 8-byte UDP header, one whole
            // 16-byte block of padding cycle, and the usual sizes.
            sizes = [h, h + 1, h + 2, h + 3, h + 7, h + 8, h + 9, h + 15, h + 16, h + 17] + common
        case .standard:
            sizes = Array(h...(h + 40)) + Array(stride(from: h + 41, through: 1500, by: 23)) + common
        case .full:
            sizes = Array(h...1500)
        }
        return Array(Set(sizes)).sorted()
    }
}

/// The mode-matrix self-check: every cell round-trips through the data plane (protect, then open with a separate
/// receiving SA, and get the same packet back), every protected packet is as long as the overhead model says, and
/// the published whole-packet known answers reproduce byte for byte.
public struct SelfCheck: Sendable {
    /// What one cell gave over all sizes tried.
    public struct CellResult: Hashable, Sendable {
        public var cell: MatrixCell
        public var packets = 0
        /// Packets that came back as they went in (nil: not round-tripped, because the measurement had to insert the
        /// UDP header of a NAT-traversal packet itself, and what it built is not the data plane's to open).
        public var roundTripsPassed: Int?
        /// Packets whose length (and, for the compressed tunnel, form) matched the model.
        public var lengthsAgreed = 0
        /// NAT traversal: the data plane did not UDP-encapsulate, the measurement inserted the header.
        public var udpInsertedByMeasurement = false
        public var error: String?

        public var roundTripFailures: Int { roundTripsPassed.map { packets - $0 } ?? 0 }
        public var lengthDisagreements: Int { packets - lengthsAgreed }
        public var passed: Bool { error == nil && roundTripFailures == 0 && lengthDisagreements == 0 }
    }

    /// One packet that failed, for the report's list.
    public struct Failure: Hashable, Sendable {
        public var cell: MatrixCell
        public var size: Int
        public var check: String
        public var detail: String
    }

    public var depth: AnalysisDepth
    public var cells: [CellResult] = []
    public var failures: [Failure] = []
    /// Failures beyond those kept in `failures`.
    public var failuresNotKept = 0
    public var knownAnswers: [KnownAnswer.Check] = []

    public static let keptFailures = 200

    /// Runs the whole check. `progress` is called with the cells done and the cells in all.
    public static func run(depth: AnalysisDepth, cells: [MatrixCell] = MatrixCell.matrix(),
                           progress: (Int, Int) -> Void = { _, _ in }) -> SelfCheck {
        var check = SelfCheck(depth: depth)
        var out: [UInt8] = [], opened: [UInt8] = [], scratch: [UInt8] = []
        var packets = PacketCache()
        for (index, cell) in cells.enumerated() {
            check.cells.append(check.run(cell, packets: &packets, out: &out, opened: &opened, scratch: &scratch))
            progress(index + 1, cells.count)
        }
        for k in KnownAnswers.all { check.knownAnswers += k.run() }
        return check
    }

    /// Inner packets depend only on the IP version, whose addresses they carry and their size: built once each,
    /// they serve every cell.
    struct PacketCache {
        struct Key: Hashable {
            var version: IPVersion
            var gatewayTraffic: Bool
            var size: Int
        }

        var packets: [Key: [UInt8]] = [:]

        mutating func packet(_ cell: MatrixCell, size: Int) -> [UInt8] {
            let key = Key(version: cell.version, gatewayTraffic: cell.traffic == .gatewayToGateway, size: size)
            if let p = packets[key] { return p }
            let p = cell.innerPacket(size: size)
            packets[key] = p
            return p
        }
    }

    private mutating func run(_ cell: MatrixCell, packets: inout PacketCache, out: inout [UInt8],
                              opened: inout [UInt8], scratch: inout [UInt8]) -> CellResult {
        var result = CellResult(cell: cell)
        let sender: SecurityAssociation
        let sad = SADatabase()
        do {
            sender = try cell.sender()
            try sad.add(try SecurityAssociation(cell.configuration))
        } catch {
            result.error = "\(error)"
            record(Failure(cell: cell, size: 0, check: "SA", detail: "\(error)"))
            return result
        }
        result.roundTripsPassed = 0
        for size in depth.sizes(cell.version) {
            result.packets += 1
            let expected = cell.breakdown(payload: size)
            let inner = packets.packet(cell, size: size)
            let measured: OverheadMeasurement.Measured
            do {
                measured = try OverheadMeasurement.measure(cell, packet: inner, sa: sender, out: &out)
            } catch {
                record(Failure(cell: cell, size: size, check: "protect", detail: "\(error)"))
                continue
            }
            if measured.udpInsertedByMeasurement {
                result.udpInsertedByMeasurement = true
                result.roundTripsPassed = nil
            }
            if measured.total == expected.total && (measured.compressed ?? expected.compressed) == expected.compressed {
                result.lengthsAgreed += 1
            } else {
                var detail = "measured \(measured.total) bytes, model \(expected.total)"
                if let c = measured.compressed, c != expected.compressed {
                    detail += "; sent \(c ? "compressed" : "uncompressed"), the model expects "
                        + (expected.compressed ? "compressed" : "uncompressed")
                }
                record(Failure(cell: cell, size: size, check: "length", detail: detail))
            }
            guard result.roundTripsPassed != nil else { continue }
            let r = Inbound.unprotect(out[...], sad: sad, into: &opened, scratch: &scratch)
            if r.verdict == .accepted && opened == inner {
                result.roundTripsPassed! += 1
            } else {
                let detail = r.verdict == .accepted ? "opened packet differs from the original" : "verdict \(r.verdict)"
                record(Failure(cell: cell, size: size, check: "round trip", detail: detail))
            }
        }
        return result
    }

    private mutating func record(_ failure: Failure) {
        if failures.count < Self.keptFailures { failures.append(failure) } else { failuresNotKept += 1 }
    }

    // MARK: - Totals

    public var packets: Int { cells.reduce(0) { $0 + $1.packets } }
    public var roundTripPackets: Int { cells.reduce(0) { $0 + ($1.roundTripsPassed == nil ? 0 : $1.packets) } }
    public var roundTripsPassed: Int { cells.reduce(0) { $0 + ($1.roundTripsPassed ?? 0) } }
    public var lengthsAgreed: Int { cells.reduce(0) { $0 + $1.lengthsAgreed } }
    public var knownAnswersPassed: Int { knownAnswers.filter(\.passed).count }
    public var passed: Bool { cells.allSatisfy(\.passed) && knownAnswers.allSatisfy(\.passed) }
}
