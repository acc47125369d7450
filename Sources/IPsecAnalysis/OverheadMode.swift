import IPsecCore
import IPsecCrypto
import IPsecWire

/// One column of the mode matrix as the overhead analysis sees it: a matrix mode (architecture.md's names), plus the
/// variants whose cost differs — the compressed tunnel per field set X, and NAT traversal (ESP in UDP, RFC 3948).
///
/// Labels: the matrix name, with the variant in brackets — `tunnel-esp-hc[host-to-host]`, `transport-esp[nat-t]`.
/// The bracket of a compressed tunnel holds a preset name or a comma-separated field list
/// (`HeaderCompressionFields(parsing:)`).
public struct OverheadMode: Hashable, Sendable, CustomStringConvertible {
    /// The seven modes of the matrix.
    public enum Matrix: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        case transportAH = "transport-ah"
        case transportESP = "transport-esp"
        case transportESPNull = "transport-esp-null"
        case tunnelAH = "tunnel-ah"
        case tunnelESP = "tunnel-esp"
        case tunnelESPNull = "tunnel-esp-null"
        case tunnelESPHC = "tunnel-esp-hc"

        public var description: String { rawValue }

        public var isTunnel: Bool {
            switch self {
            case .transportAH, .transportESP, .transportESPNull: false
            default: true
            }
        }

        public var ipsecProtocol: IPsecProtocol { self == .transportAH || self == .tunnelAH ? .ah : .esp }

        /// The SA mode that realises this matrix mode.
        public var saMode: SAMode {
            switch self {
            case .transportAH, .transportESP, .transportESPNull: .transport
            case .tunnelAH, .tunnelESP, .tunnelESPNull: .tunnel
            case .tunnelESPHC: .tunnelHC
            }
        }

        /// The algorithms the mode takes: AH every AH algorithm; `-esp` the ESP suites that encrypt; `-esp-null` the
        /// integrity-only ones (NULL encryption, GMAC); the compressed tunnel every ESP suite.
        public var algorithms: [SAAlgorithm] {
            switch self {
            case .transportAH, .tunnelAH:
                AHAlgorithm.all.map { .ah($0) }
            case .transportESP, .tunnelESP:
                ESPAlgorithm.all.filter { $0.encryption.providesConfidentiality }.map { .esp($0) }
            case .transportESPNull, .tunnelESPNull:
                ESPAlgorithm.all.filter { !$0.encryption.providesConfidentiality }.map { .esp($0) }
            case .tunnelESPHC:
                ESPAlgorithm.all.map { .esp($0) }
            }
        }

        /// Whether the mode takes `algorithm` (of the right protocol and, for ESP, the right confidentiality class).
        public func accepts(_ algorithm: SAAlgorithm) -> Bool {
            switch (self, algorithm) {
            case (.transportAH, .ah), (.tunnelAH, .ah), (.tunnelESPHC, .esp): true
            case (.transportESP, .esp(let a)), (.tunnelESP, .esp(let a)): a.encryption.providesConfidentiality
            case (.transportESPNull, .esp(let a)), (.tunnelESPNull, .esp(let a)): !a.encryption.providesConfidentiality
            default: false
            }
        }
    }

    public let matrix: Matrix
    /// The field set X of a compressed tunnel; nil for every other mode.
    public let headerCompression: HeaderCompressionFields?
    /// ESP in UDP (RFC 3948): 8 more bytes after the (outer) IP header.
    public let natTraversal: Bool

    /// A mode; nil for a combination that does not exist (compression on anything but `tunnel-esp-hc`, which needs
    /// it; NAT traversal on AH, which RFC 3948 does not define, or on the compressed tunnel).
    public init?(_ matrix: Matrix, headerCompression: HeaderCompressionFields? = nil, natTraversal: Bool = false) {
        guard (matrix == .tunnelESPHC) == (headerCompression != nil) else { return nil }
        guard !natTraversal || (matrix.ipsecProtocol == .esp && matrix != .tunnelESPHC) else { return nil }
        self.matrix = matrix
        self.headerCompression = headerCompression
        self.natTraversal = natTraversal
    }

    /// Parses a label: a matrix name, optionally followed by `[nat-t]` or, for `tunnel-esp-hc`, `[X]`.
    public init?(label: String) {
        var name = Substring(label)
        var variant: Substring?
        if label.hasSuffix("]"), let open = label.firstIndex(of: "[") {
            name = label[..<open]
            variant = label[label.index(after: open)..<label.index(before: label.endIndex)]
        }
        guard let matrix = Matrix(rawValue: String(name)) else { return nil }
        switch (matrix, variant) {
        case (.tunnelESPHC, let v?):
            guard let fields = HeaderCompressionFields(parsing: String(v)) else { return nil }
            self.init(matrix, headerCompression: fields)
        case (_, "nat-t"?):
            self.init(matrix, natTraversal: true)
        case (_, nil):
            self.init(matrix)
        default:
            return nil
        }
    }

    /// The variant in brackets, or "" for a plain matrix mode.
    public var variant: String {
        if let headerCompression { return headerCompression.description }
        return natTraversal ? "nat-t" : ""
    }

    public var label: String { variant.isEmpty ? matrix.rawValue : "\(matrix.rawValue)[\(variant)]" }
    public var description: String { label }

    /// The modes the analysis covers by default: the seven of the matrix (the compressed tunnel once per preset of
    /// `HeaderCompressionFields.presets`), and NAT traversal for transport and tunnel ESP.
    public static let all: [OverheadMode] = {
        var modes: [OverheadMode] = []
        for m in Matrix.allCases {
            if m == .tunnelESPHC {
                for p in HeaderCompressionFields.presets { modes.append(OverheadMode(m, headerCompression: p.fields)!) }
            } else {
                modes.append(OverheadMode(m)!)
            }
        }
        modes.append(OverheadMode(.transportESP, natTraversal: true)!)
        modes.append(OverheadMode(.tunnelESP, natTraversal: true)!)
        return modes
    }()

    /// Modes for a list of labels; a bare `tunnel-esp-hc` stands for every preset. The failure names the first label
    /// that is not a mode.
    public static func parseList(_ labels: [String]) -> Result<[OverheadMode], LabelError> {
        var modes: [OverheadMode] = []
        for label in labels {
            if label == Matrix.tunnelESPHC.rawValue {
                modes += all.filter { $0.matrix == .tunnelESPHC }
            } else if let m = OverheadMode(label: label) {
                modes.append(m)
            } else {
                return .failure(LabelError(label: label))
            }
        }
        var seen = Set<OverheadMode>()
        return .success(modes.filter { seen.insert($0).inserted })
    }

    public struct LabelError: Error, Hashable, Sendable, CustomStringConvertible {
        public let label: String
        public var description: String {
            "unknown mode \"\(label)\"; use " + Matrix.allCases.map(\.rawValue).joined(separator: ", ")
                + ", tunnel-esp-hc[PRESET or FIELDS] or an ESP mode with [nat-t]"
        }
    }

    /// The field set that applies to inner packets of `version`: IPv6 has no identification or DF, so the
    /// `host-to-host` preset means source, destination and DSCP there.
    public func effectiveHeaderCompression(for version: IPVersion) -> HeaderCompressionFields? {
        guard let fields = headerCompression else { return nil }
        return version == .v4 ? fields : fields.subtracting([.identification, .dontFragment])
    }
}

/// Whose packets a tunnel carries — which decides whether the compressed tunnel may elide the addresses.
public enum TrafficKind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Two hosts tunnel their own traffic: the inner addresses are the tunnel endpoints.
    case hostToHost = "host-to-host"
    /// Two gateways tunnel the traffic of the networks behind them: the inner addresses differ from the endpoints.
    case gatewayToGateway = "gateway-to-gateway"

    public var description: String { rawValue }
}
