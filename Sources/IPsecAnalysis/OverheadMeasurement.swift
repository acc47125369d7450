import IPsecCore
import IPsecCrypto
import IPsecWire

/// The overhead measured the other way: by protecting real packets with the data plane (IPsecCore) and counting
/// the bytes that come out. `OverheadModel` must give the same numbers for every cell and size.
public enum OverheadMeasurement {
    /// What one protected packet measured.
    public struct Measured: Hashable, Sendable {
        public var payload: Int
        public var total: Int
        /// For the compressed tunnel: whether the packet went in compressed form (the SPI's indicator bit,
        /// docs/header-compression.md §2); nil for other modes.
        public var compressed: Bool?
        /// True when the data plane did not UDP-encapsulate a NAT-traversal SA's packet itself and the measurement
        /// inserted the RFC 3948 UDP header (see `encapsulateInUDP`).
        public var udpInsertedByMeasurement: Bool

        public var overhead: Int { total - payload }
    }

    /// Protects an inner packet of `size` bytes with `sa` (made for `cell`) and measures the result. `out` is a
    /// scratch buffer that holds the protected packet afterwards.
    public static func measure(_ cell: MatrixCell, size: Int, sa: SecurityAssociation,
                               out: inout [UInt8]) throws -> Measured {
        try measure(cell, packet: cell.innerPacket(size: size), sa: sa, out: &out)
    }

    /// Protects `packet` (an inner packet of `cell`) with `sa` and measures the result.
    public static func measure(_ cell: MatrixCell, packet inner: [UInt8], sa: SecurityAssociation,
                               out: inout [UInt8]) throws -> Measured {
        try Outbound.protect(inner[...], with: sa, into: &out)
        var inserted = false
        if cell.mode.natTraversal, ipProtocol(of: out) != .udp {
            encapsulateInUDP(&out)
            inserted = true
        }
        var compressed: Bool?
        if cell.mode.matrix == .tunnelESPHC {
            let espStart = OverheadModel.ipHeaderLength(cell.version)
            compressed = out.count >= espStart + 4
                && out[...].wireUInt32(at: espStart) & HeaderCompression.indicator != 0
        }
        return Measured(payload: inner.count, total: out.count, compressed: compressed,
                        udpInsertedByMeasurement: inserted)
    }

    /// The protocol after a plain IP header (IPv4 protocol, IPv6 next header).
    static func ipProtocol(of packet: [UInt8]) -> IPProtocol? {
        guard let first = packet.first else { return nil }
        if first >> 4 == 4, packet.count >= 20 { return IPProtocol(packet[9]) }
        if first >> 4 == 6, packet.count >= 40 { return IPProtocol(packet[6]) }
        return nil
    }

    /// Turns an ESP packet with a plain IP header into ESP in UDP (RFC 3948 §2.1): an 8-byte UDP header from port
    /// 4500 to 4500 between the IP header and ESP, the IP protocol set to UDP and the lengths and checksums fixed.
    /// The UDP checksum is zero over IPv4 (§2.1 says SHOULD) and computed over IPv6 (RFC 8200 §8.1).
    ///
    /// Used while the data plane does not encapsulate by itself; the measurement says when it did this.
    public static func encapsulateInUDP(_ packet: inout [UInt8]) {
        guard let first = packet.first else { return }
        let header = first >> 4 == 4 ? 20 : 40
        guard packet.count >= header else { return }
        let esp = packet[header...]
        var udp = UDPHeader(sourcePort: UDPEncapsulation.port, destinationPort: UDPEncapsulation.port,
                            length: UInt16(truncatingIfNeeded: esp.count + UDPDatagram.headerLength))
        var ip = Array(packet[..<header])
        if header == 20 {
            ip[9] = IPProtocol.udp.rawValue
            let total = UInt16(truncatingIfNeeded: packet.count + UDPDatagram.headerLength)
            ip[...].setWireUInt16(total, at: 2)
            ip[...].setWireUInt16(0, at: 10)
            ip[...].setWireUInt16(InternetChecksum.compute(ip), at: 10)
        } else {
            ip[6] = IPProtocol.udp.rawValue
            ip[...].setWireUInt16(UInt16(truncatingIfNeeded: packet.count - 40 + UDPDatagram.headerLength), at: 4)
            if let s = IPv6Address(bytes: ip[8..<24]), let d = IPv6Address(bytes: ip[24..<40]) {
                udp.checksum = udp.computeChecksum(payload: esp, pseudoHeader: .ipv6(source: s, destination: d,
                                                                                     nextHeader: .udp,
                                                                                     length: UInt32(udp.length)))
            }
        }
        var udpBytes = [UInt8](repeating: 0, count: UDPDatagram.headerLength)
        try? udp.emit(into: &udpBytes[...])
        packet = ip + udpBytes + Array(esp)
    }
}
