import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire

/// The SAs of one run, loaded from one or more SA files (any supported format, detected from the content) and keyed
/// once. `seed` makes every IV and outer identification reproducible.
public final class SASet {
    public let configurations: [SAConfiguration]
    public let database: SADatabase

    public convenience init(files: [String], seed: UInt64? = nil) throws {
        var configurations: [SAConfiguration] = []
        for path in files {
            configurations += try SAFile.load(path: path).associations
        }
        try self.init(configurations, seed: seed)
    }

    public init(_ configurations: [SAConfiguration], seed: UInt64? = nil) throws {
        guard !configurations.isEmpty else {
            throw CoreError(.badConfiguration, "no SA given")
        }
        self.configurations = configurations
        database = SADatabase()
        for c in configurations {
            // Each SA draws from its own stream, derived from the seed and its SPI, so adding an SA to a file does
            // not change the bytes another SA produces.
            let ivSource: IVSource = seed.map { .seeded($0 ^ UInt64(c.spi) &* 0x9e37_79b9_7f4a_7c15) } ?? .random
            let idSource: IVSource = seed.map { .seeded(~$0 ^ UInt64(c.spi)) } ?? .random
            try database.add(try SecurityAssociation(c, ivSource: ivSource, identificationSource: idSource))
        }
    }

    public var all: [SecurityAssociation] { database.all }

    /// The SA that protects `packet` outbound: the only SA when there is one (architecture: one SA and no policy
    /// protects everything); otherwise the first whose traffic selector matches. Nil: the packet bypasses.
    public func outboundSA(for packet: ArraySlice<UInt8>) -> SecurityAssociation? {
        let sas = database.all
        if sas.count == 1 { return sas[0] }
        return sas.first { sa in sa.configuration.selector.map { $0.matches(packet) } ?? false }
    }
}
