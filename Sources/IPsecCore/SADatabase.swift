import IPsecWire

/// The SAs a node holds. Inbound lookup is by SPI, destination and protocol (RFC 4301 §4.4.2.1); a lookup that
/// finds no SA for the destination falls back to SPI and protocol alone, as RFC 4301 §4.1 allows for unicast SAs
/// whose SPIs are unique per receiver.
public final class SADatabase {
    struct Key: Hashable {
        var spi: UInt32
        var destination: IPAddress
        var proto: IPsecProtocol
    }

    struct SPIKey: Hashable {
        var spi: UInt32
        var proto: IPsecProtocol
    }

    @exclusivity(unchecked) private var exact: [Key: SecurityAssociation] = [:]
    @exclusivity(unchecked) private var bySPI: [SPIKey: [SecurityAssociation]] = [:]
    public private(set) var all: [SecurityAssociation] = []
    /// The UDP destination ports any SA expects ESP on (RFC 3948), besides 4500.
    public private(set) var encapsulationPorts: Set<UInt16> = []
    /// Counts changes, so that a cached lookup can tell it is still valid.
    public private(set) var generation = 0

    public init() {}

    /// Installs an SA; a second SA with the same SPI, destination and protocol is refused.
    public func add(_ sa: SecurityAssociation) throws(CoreError) {
        let c = sa.configuration
        let key = Key(spi: c.spi, destination: c.destination, proto: c.protocol)
        guard exact[key] == nil else {
            throw CoreError(.badConfiguration, "two SAs with \(c.protocol) SPI 0x\(String(c.spi, radix: 16)) "
                            + "and destination \(c.destination)")
        }
        exact[key] = sa
        generation += 1
        bySPI[SPIKey(spi: c.spi, proto: c.protocol), default: []].append(sa)
        all.append(sa)
        if let e = c.encapsulation {
            encapsulationPorts.insert(e.sourcePort)
            encapsulationPorts.insert(e.destinationPort)
        }
    }

    /// The SA for a received SPI. A compressed-tunnel SA also owns its SPI with the indicator bit set
    /// (docs/header-compression.md §2), so an SPI with that bit falls back to the SA of the SPI without it when that
    /// SA's mode is `tunnel-hc`.
    public func lookup(spi: UInt32, destination: IPAddress, protocol proto: IPsecProtocol) -> SecurityAssociation? {
        if let sa = directLookup(spi: spi, destination: destination, proto: proto) { return sa }
        if proto == .esp, spi & HeaderCompression.indicator != 0,
           let sa = directLookup(spi: spi & ~HeaderCompression.indicator, destination: destination, proto: proto),
           sa.configuration.mode == .tunnelHC {
            return sa
        }
        return nil
    }

    private func directLookup(spi: UInt32, destination: IPAddress, proto: IPsecProtocol) -> SecurityAssociation? {
        if let sa = exact[Key(spi: spi, destination: destination, proto: proto)] { return sa }
        let candidates = bySPI[SPIKey(spi: spi, proto: proto)] ?? []
        return candidates.count == 1 ? candidates[0] : nil
    }
}
