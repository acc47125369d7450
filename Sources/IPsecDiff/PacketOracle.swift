import IPsecCore

/// One packet for an oracle, with what it needs to know: the SA, the algorithm in the oracle's names, the full
/// sequence number (scapy takes ESN's high bits from the caller) and the IV to protect with.
struct OracleItem: Sendable {
    var algorithm: OracleAlgorithm
    var config: SAConfiguration
    var sequence: UInt64
    var iv: [UInt8]
    var packet: [UInt8]

    init(_ c: DiffCase, packet: [UInt8]) {
        algorithm = c.algorithm
        config = c.config
        sequence = c.sequence
        iv = c.iv
        self.packet = packet
    }

    init(algorithm: OracleAlgorithm, config: SAConfiguration, sequence: UInt64, iv: [UInt8] = [], packet: [UInt8]) {
        self.algorithm = algorithm
        self.config = config
        self.sequence = sequence
        self.iv = iv
        self.packet = packet
    }
}

/// An independent implementation that can open (and perhaps protect) whole packets.
protocol PacketOracle: AnyObject {
    var name: String { get }
    /// Whether it can protect packets (tshark cannot).
    var canProtect: Bool { get }
    /// Each item's plaintext protected by the oracle, with the item's sequence number and IV.
    func protect(_ items: [OracleItem]) throws -> [Result<(packet: [UInt8], bug: String?), DiffError>]
    /// What the oracle makes of each protected packet.
    func open(_ items: [OracleItem]) throws -> [OpenResult]
}
