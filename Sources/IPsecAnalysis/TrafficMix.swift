import IPsecCore
import IPsecWire

/// A mix of IP packet sizes by packet count, to average the overhead over traffic rather than quote one size.
///
/// The default is the "simple IMIX" of the traffic-generator vendors: 7 packets of 40 bytes, 4 of 576 and 1 of 1500
/// (by count; 340.33 bytes on average). RFC 6985 gives the notation for such mixes and leaves the mix to the tester;
/// the 7:4:1 mix is the one test equipment ships as "simple IMIX" (Agilent/Ixia/Spirent; see Wikipedia, "Internet
/// Mix"). Sizes are IP packet sizes. The same sizes serve IPv6, where the 40-byte packet is a bare IPv6 header.
public struct TrafficMix: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var size: Int
        public var count: Int
        public init(size: Int, count: Int) {
            self.size = size
            self.count = count
        }
    }

    public var name: String
    public var entries: [Entry]

    public init(name: String, entries: [Entry]) {
        self.name = name
        self.entries = entries
    }

    public static let simpleIMIX = TrafficMix(name: "simple IMIX 7:4:1",
                                              entries: [Entry(size: 40, count: 7), Entry(size: 576, count: 4),
                                                        Entry(size: 1500, count: 1)])

    public var packets: Int { entries.reduce(0) { $0 + $1.count } }
    public var bytes: Int { entries.reduce(0) { $0 + $1.size * $1.count } }
    public var averageSize: Double { Double(bytes) / Double(packets) }

    /// The mix's averages for one mode, algorithm and IP version.
    public func average(mode: OverheadMode, algorithm: SAAlgorithm, version: IPVersion,
                        traffic: TrafficKind? = nil) -> Average {
        var overhead = 0
        for e in entries {
            let b = OverheadModel.breakdown(mode: mode, algorithm: algorithm, version: version, payload: e.size,
                                            traffic: traffic)
            overhead += b.overhead * e.count
        }
        return Average(totalOverhead: overhead, packets: packets, bytes: bytes)
    }

    /// Mix averages, kept as exact sums so that they print the same everywhere.
    public struct Average: Hashable, Sendable {
        /// The overhead of all packets of the mix together.
        public var totalOverhead: Int
        public var packets: Int
        public var bytes: Int
        /// Bytes added per packet, on average.
        public var overheadPerPacket: Double { Double(totalOverhead) / Double(packets) }
        /// Bytes added per byte carried, in percent (the byte-weighted expansion).
        public var expansionPercent: Double { Double(totalOverhead) * 100 / Double(bytes) }
    }
}
