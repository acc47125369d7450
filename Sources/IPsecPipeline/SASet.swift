import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire

/// The SAs of one run, loaded from one or more SA files (any supported format, detected from the content) and keyed
/// once. `seed` makes every IV and outer identification reproducible.
public final class SASet {
    public let configurations: [SAConfiguration]
    public let database: SADatabase
    /// The node: the SAs with the files' policies and IPComp SAs.
    public let node: IPsecNode

    public convenience init(files: [String], seed: UInt64? = nil) throws {
        var configurations: [SAConfiguration] = []
        var policies: [SecurityPolicy] = []
        var compressions: [IPCompAssociation] = []
        for path in files {
            let file = try SAFile.load(path: path)
            configurations += file.associations
            policies += file.policies
            compressions += file.compressions
        }
        try self.init(configurations, policies: policies, compressions: compressions, seed: seed)
    }

    public init(_ configurations: [SAConfiguration], policies: [SecurityPolicy] = [],
                compressions: [IPCompAssociation] = [], seed: UInt64? = nil) throws {
        guard !configurations.isEmpty || !compressions.isEmpty else {
            throw CoreError(.badConfiguration, "no SA given")
        }
        self.configurations = configurations
        database = SADatabase()
        for c in configurations {
            // Each SA draws from its own stream, derived from the seed and its SPI, so adding an SA to a file does
            // not change the bytes another SA produces.
            let ivSource: IVSource = seed.map { .seeded($0 ^ UInt64(c.spi) &* 0x9e37_79b9_7f4a_7c15) } ?? .random
            let idSource: IVSource = seed.map { .seeded(~$0 ^ UInt64(c.spi)) } ?? .identificationCounter()
            try database.add(try SecurityAssociation(c, ivSource: ivSource, identificationSource: idSource))
        }
        node = IPsecNode(sad: database, policies: policies, compressions: compressions)
    }

    public var all: [SecurityAssociation] { database.all }

}
