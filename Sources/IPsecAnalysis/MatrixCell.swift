import IPsecCore
import IPsecCrypto
import IPsecWire

/// One cell of the mode matrix — mode, algorithm, IP version and, for the compressed tunnel, the traffic kind —
/// with what it takes to run it through the data plane: an SA with deterministic keys, and inner packets of any size.
public struct MatrixCell: Hashable, Sendable, CustomStringConvertible {
    public var mode: OverheadMode
    public var algorithm: SAAlgorithm
    public var version: IPVersion
    /// Set for the compressed tunnel only (the other modes cost the same for every kind of traffic).
    public var traffic: TrafficKind?

    public init(mode: OverheadMode, algorithm: SAAlgorithm, version: IPVersion, traffic: TrafficKind? = nil) {
        self.mode = mode
        self.algorithm = algorithm
        self.version = version
        self.traffic = mode.matrix == .tunnelESPHC ? (traffic ?? .hostToHost) : nil
    }

    public var description: String {
        var s = "\(mode.label) \(version) \(algorithm)"
        if let traffic { s += " \(traffic)" }
        return s
    }

    /// Every cell of the given modes, versions and traffic kinds, with every algorithm each mode takes (or those of
    /// `algorithms` it takes, when given). Traffic kinds multiply only the compressed tunnel.
    public static func matrix(modes: [OverheadMode] = OverheadMode.all, versions: [IPVersion] = IPVersion.allCases,
                              algorithms: [SAAlgorithm]? = nil,
                              traffic: [TrafficKind] = TrafficKind.allCases) -> [MatrixCell] {
        var cells: [MatrixCell] = []
        for mode in modes {
            let candidates = algorithms?.filter { mode.matrix.accepts($0) } ?? mode.matrix.algorithms
            let kinds: [TrafficKind?] = mode.matrix == .tunnelESPHC ? traffic.map { $0 } : [nil]
            for kind in kinds {
                for version in versions {
                    for algorithm in candidates {
                        cells.append(MatrixCell(mode: mode, algorithm: algorithm, version: version, traffic: kind))
                    }
                }
            }
        }
        return cells
    }

    // MARK: - The model's answer

    public func breakdown(payload: Int) -> OverheadBreakdown {
        OverheadModel.breakdown(mode: mode, algorithm: algorithm, version: version, payload: payload, traffic: traffic)
    }

    // MARK: - Running it

    /// The SA's endpoints (RFC 5737 / RFC 3849 documentation addresses): the hosts in transport mode and the
    /// tunnel endpoints in tunnel mode.
    public static func endpoints(_ version: IPVersion) -> (source: IPAddress, destination: IPAddress) {
        version == .v4 ? Addresses.endpoints4 : Addresses.endpoints6
    }

    /// The hosts behind two gateways, for gateway-to-gateway traffic.
    public static func networkHosts(_ version: IPVersion) -> (source: IPAddress, destination: IPAddress) {
        version == .v4 ? Addresses.hosts4 : Addresses.hosts6
    }

    /// Parsed once: packets are built by the hundred thousand.
    enum Addresses {
        static let endpoints4 = (IPAddress("192.0.2.1")!, IPAddress("198.51.100.2")!)
        static let endpoints6 = (IPAddress("2001:db8::1")!, IPAddress("2001:db8::2")!)
        static let hosts4 = (IPAddress("203.0.113.10")!, IPAddress("203.0.113.20")!)
        static let hosts6 = (IPAddress("2001:db8:a::10")!, IPAddress("2001:db8:b::20")!)
    }

    /// The SA configuration of this cell: fixed SPI, deterministic keys (never for real use).
    public var configuration: SAConfiguration {
        let (source, destination) = Self.endpoints(version)
        var c: SAConfiguration
        switch algorithm {
        case .esp(let a):
            c = SAConfiguration(protocol: .esp, spi: 0x1000, mode: mode.matrix.saMode, source: source,
                                destination: destination, algorithm: algorithm,
                                encryptionKey: Self.keyBytes(a.encryptionKeyLength, seed: 1),
                                integrityKey: Self.keyBytes(a.integrityKeyLength, seed: 101))
        case .ah(let a):
            c = SAConfiguration(protocol: .ah, spi: 0x2000, mode: mode.matrix.saMode, source: source,
                                destination: destination, algorithm: algorithm,
                                integrityKey: Self.keyBytes(a.keyLength, seed: 55))
        }
        c.headerCompression = mode.effectiveHeaderCompression(for: version)
        if mode.natTraversal { c.encapsulation = UDPEncapsulationConfig() }
        return c
    }

    /// A sending SA with reproducible IVs and identifications (seeded, so runs compare byte for byte), its crypto on
    /// `implementation` where that library runs the transform.
    public func sender(seed: UInt64 = 7, implementation: CryptoImplementation = CryptoImplementation.preferred) throws
        -> SecurityAssociation
    {
        try SecurityAssociation(configuration, ivSource: .seeded(seed), identificationSource: .seeded(seed &+ 1),
                                implementation: implementation)
    }

    /// An inner IP packet of exactly `size` bytes (at least a bare header): UDP when there is room for its header,
    /// otherwise an empty or raw payload of protocol 253 (RFC 3692, for experimentation). Host-to-host packets run
    /// between the SA's endpoints; gateway-to-gateway packets between hosts behind them.
    public func innerPacket(size: Int) -> [UInt8] {
        let (source, destination) = traffic == .gatewayToGateway ? Self.networkHosts(version) : Self.endpoints(version)
        return Self.ipPacket(source: source, destination: destination, size: size)
    }

    static func ipPacket(source: IPAddress, destination: IPAddress, size: Int) -> [UInt8] {
        let header = OverheadModel.ipHeaderLength(source.version)
        precondition(size >= header && size <= 65535, "an IP packet of \(size) bytes")
        let body = size - header
        let useUDP = body >= UDPDatagram.headerLength
        let dataLength = useUDP ? body - UDPDatagram.headerLength : body
        let data = (0..<dataLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let proto: IPProtocol = useUDP ? .udp : IPProtocol(253)
        var udp = UDPHeader(sourcePort: 4000, destinationPort: 5000, length: UInt16(truncatingIfNeeded: body))
        switch (source, destination) {
        case let (.v4(s), .v4(d)):
            var ip = IPv4Header(totalLength: UInt16(size), identification: 0x1234, dontFragment: true,
                                protocol: proto, source: s, destination: d)
            ip.updateChecksum()
            guard useUDP else { return (try! ip.serialized()) + data }
            udp.checksum = udp.computeChecksum(payload: data, pseudoHeader: .ipv4(source: s, destination: d,
                                                                                    protocol: .udp, length: udp.length))
            return (try! ip.serialized()) + (try! udp.serialized()) + data
        case let (.v6(s), .v6(d)):
            let ip = IPv6Header(flowLabel: 0x12345, payloadLength: UInt16(body), nextHeader: proto, source: s,
                                destination: d)
            guard useUDP else { return (try! ip.serialized()) + data }
            udp.checksum = udp.computeChecksum(payload: data, pseudoHeader: .ipv6(source: s, destination: d,
                                                                                    nextHeader: .udp,
                                                                                    length: UInt32(udp.length)))
            return (try! ip.serialized()) + (try! udp.serialized()) + data
        default:
            preconditionFailure("source and destination of different IP versions")
        }
    }

    /// `count` key bytes from `seed`: deterministic test keys.
    static func keyBytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Int(seed) &+ $0 &* 7) }
    }
}
