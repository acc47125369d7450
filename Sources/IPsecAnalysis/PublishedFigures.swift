import IPsecCore
import IPsecCrypto
import IPsecWire

/// Overhead figures published by others, which the model and the data plane must reproduce.
public struct PublishedFigure: Hashable, Sendable {
    /// What the figure states.
    public enum Quantity: String, Hashable, Sendable {
        /// The protected packet's size, for an inner packet of `payload` bytes.
        case total
        /// The bytes added to an inner packet of `payload` bytes.
        case overhead
        /// The largest inner packet whose protected form fits a path MTU of `payload` bytes.
        case largestPayload = "largest-payload"
    }

    public var name: String
    public var source: String
    public var cell: MatrixCell
    public var quantity: Quantity
    /// The inner packet size, or for `largestPayload` the path MTU.
    public var payload: Int
    public var expected: Int

    public init(name: String, source: String, cell: MatrixCell, quantity: Quantity, payload: Int, expected: Int) {
        self.name = name
        self.source = source
        self.cell = cell
        self.quantity = quantity
        self.payload = payload
        self.expected = expected
    }

    /// The model's value.
    public var model: Int {
        switch quantity {
        case .total: cell.breakdown(payload: payload).total
        case .overhead: cell.breakdown(payload: payload).overhead
        case .largestPayload:
            OverheadModel.largestPayload(mode: cell.mode, algorithm: cell.algorithm, version: cell.version,
                                         mtu: payload, traffic: cell.traffic) ?? 0
        }
    }

    /// The value measured by protecting packets with the data plane.
    public func measured() throws -> Int {
        let sa = try cell.sender()
        var out: [UInt8] = []
        func total(_ size: Int) throws -> Int {
            try OverheadMeasurement.measure(cell, size: size, sa: sa, out: &out).total
        }
        switch quantity {
        case .total: return try total(payload)
        case .overhead: return try total(payload) - payload
        case .largestPayload:
            var p = payload
            while p >= OverheadModel.ipHeaderLength(cell.version) {
                if try total(p) <= payload { return p }
                p -= 1
            }
            return 0
        }
    }

    static func esp(_ keyword: String) -> SAAlgorithm { .esp(try! ESPAlgorithm(keyword: keyword)) }
    static func ah(_ keyword: String) -> SAAlgorithm { .ah(try! AHAlgorithm(keyword: keyword)) }

    /// The figures (facts.md, "Overhead, every byte", and the RFCs it cites).
    public static let all: [PublishedFigure] = [
        PublishedFigure(
            name: "100-byte IPv4 packet, tunnel ESP, AES-CBC + HMAC-SHA1-96",
            source: "Cisco IPsec Overhead Calculator: 168 bytes (20 outer + 8 ESP + 16 IV + 100 + 10 padding + 2 "
                + "trailer + 12 ICV)",
            cell: MatrixCell(mode: OverheadMode(.tunnelESP)!, algorithm: esp("aes128-sha1"), version: .v4),
            quantity: .total, payload: 100, expected: 168),
        PublishedFigure(
            name: "AH HMAC-SHA1-96, transport, IPv4",
            source: "RFC 4302 §2 with RFC 2404: 12 + 12-byte ICV = 24 bytes",
            cell: MatrixCell(mode: OverheadMode(.transportAH)!, algorithm: ah("sha1"), version: .v4),
            quantity: .overhead, payload: 100, expected: 24),
        PublishedFigure(
            name: "AH HMAC-SHA1-96, transport, IPv6",
            source: "RFC 4302 §2: 24 bytes is already a multiple of 8, no padding",
            cell: MatrixCell(mode: OverheadMode(.transportAH)!, algorithm: ah("sha1"), version: .v6),
            quantity: .overhead, payload: 100, expected: 24),
        PublishedFigure(
            name: "AH HMAC-SHA1-96, tunnel, IPv4",
            source: "Cisco IPsec Overhead Calculator: 44 bytes (20 outer + 24 AH)",
            cell: MatrixCell(mode: OverheadMode(.tunnelAH)!, algorithm: ah("sha1"), version: .v4),
            quantity: .overhead, payload: 100, expected: 44),
        PublishedFigure(
            name: "AH HMAC-SHA-256-128, transport, IPv4",
            source: "RFC 4302 §2 with RFC 4868: 12 + 16 = 28 bytes",
            cell: MatrixCell(mode: OverheadMode(.transportAH)!, algorithm: ah("sha256"), version: .v4),
            quantity: .overhead, payload: 100, expected: 28),
        PublishedFigure(
            name: "AH HMAC-SHA-256-128, transport, IPv6",
            source: "RFC 4302 §2 and §3.3.3.2.1: 28 bytes padded to a multiple of 8 = 32",
            cell: MatrixCell(mode: OverheadMode(.transportAH)!, algorithm: ah("sha256"), version: .v6),
            quantity: .overhead, payload: 100, expected: 32),
        PublishedFigure(
            name: "Path MTU 1300 over IPv6, tunnel ESP, AES-GCM with a 12-byte ICV",
            source: "Linux kernel networking selftest (facts.md): 1300 − 40 − 8 − 8 − 2 − 12 = 1230",
            cell: MatrixCell(mode: OverheadMode(.tunnelESP)!, algorithm: esp("aes128gcm12"), version: .v6),
            quantity: .largestPayload, payload: 1300, expected: 1230),
        PublishedFigure(
            name: "RFC 8750 implicit IV: AES-GCM-16 without the 8-byte IV, tunnel, IPv4",
            source: "RFC 8750 §1: saves the 8-byte IV of every packet (tunnel-esp aes128gcm16 adds 56 bytes to a "
                + "100-byte packet, so the implicit-IV form adds 48)",
            cell: MatrixCell(mode: OverheadMode(.tunnelESP)!, algorithm: esp("aes128gcm16iiv"), version: .v4),
            quantity: .overhead, payload: 100, expected: 48),
    ]
}
