import IPsecCore
import IPsecCrypto
import IPsecWire

/// IPsecLab's native SA file (docs/sa-files.md): `{"associations": [SA, …], "compressions": [IPCOMP, …],
/// "policies": [POLICY, …]}` (each key optional, at least one entry in all) or a bare array of SAs.
///
///     SA = { "protocol": "esp" | "ah", "spi": 4660 | "0x1234", "mode": "transport" | "tunnel" | "tunnel-hc",
///            "source": ADDRESS, "destination": ADDRESS, "algorithm": STRONGSWAN-KEYWORD,
///            ["encryption_key": HEX], ["integrity_key": HEX], ["reqid": N], ["esn": BOOL], ["replay_window": N],
///            ["replay_sequence": N], ["outbound_sequence": N], ["selector": SELECTOR], ["encapsulation": ENCAP],
///            ["hc_fields": FIELDS], ["lifetime": LIFETIME], ["tfc_padding": N] }
///     SELECTOR = { ["source": PREFIX], ["destination": PREFIX], ["protocol": NAME | 1-255],
///                  ["source_port": 1-65535], ["destination_port": 1-65535] }
///     ENCAP = { ["source_port": 1-65535], ["destination_port": 1-65535] }   ; each defaults to 4500
///     LIFETIME = { ["soft_packets": N], ["hard_packets": N], ["soft_bytes": N], ["hard_bytes": N] }
///     IPCOMP = { "cpi": N | "0x…", "mode": MODE, "source": ADDRESS, "destination": ADDRESS, ["reqid": N],
///                ["algorithm": "deflate"] }
///     POLICY = { "direction": "in" | "out" | "fwd", ["priority": N], ["selector": PSELECTOR],
///                "action": "bypass" | "discard" | "protect", ["templates": [TEMPLATE, …]] }   ; templates with protect
///     PSELECTOR = { ["source": PREFIX | "A-B"], ["destination": PREFIX | "A-B"], ["protocol": NAME | 1-255],
///                   ["source_ports": N | "LOW-HIGH"], ["destination_ports": N | "LOW-HIGH"], ["icmp_type": N],
///                   ["icmp_code": N] }
///     TEMPLATE = { "protocol": "esp" | "ah" | "ipcomp", "mode": MODE, ["source": ADDRESS],
///                  ["destination": ADDRESS], ["reqid": N], ["spi": N | "0x…"], ["optional": BOOL] }
///
/// Strict: unknown keys, wrong types, `null`, fractions and negative numbers are errors, with the key's path.
enum JSONFormat {
    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        let root: JSONNode
        do { root = try JSONReader.parse(bytes) } catch { throw error.at(origin, line: nil) }
        let reader = Reader(origin: origin)
        var lists: [String: (JSONNode, [JSONNode])] = [:]
        switch root.value {
        case .array(let items):
            lists["associations"] = (root, items)
        case .object(let members):
            for m in members {
                guard Self.sections.contains(m.key) else {
                    throw reader.fail(.unknownKey, line: m.line, path: "", "unknown key \(ConfigError.shown(m.key)); the "
                        + "file holds \"associations\", \"compressions\" and \"policies\"")
                }
                guard case .array(let items) = m.value.value else {
                    throw reader.fail(.wrongType, line: m.value.line, path: m.key,
                                      "must be an array, not \(m.value.typeName)")
                }
                lists[m.key] = (m.value, items)
            }
            guard !lists.isEmpty else {
                throw reader.fail(.missing, line: root.line, path: "", "missing key \"associations\"")
            }
        default:
            throw reader.fail(.wrongType, line: root.line, path: "",
                              "the file must hold an object with \"associations\" or an array, not \(root.typeName)")
        }
        guard lists.values.contains(where: { !$0.1.isEmpty }) else {
            let (node, _) = lists["associations"] ?? lists.values.first!
            throw reader.fail(.missing, line: node.line, path: lists["associations"] == nil ? "" : "associations",
                              "no SA in the file")
        }
        let base = root.isArray ? "" : "associations"
        var collection = ConfigCollection()
        for (i, entry) in (lists["associations"]?.1 ?? []).enumerated() {
            try collection.add(try reader.association(entry, path: "\(base)[\(i)]"))
        }
        for (i, entry) in (lists["compressions"]?.1 ?? []).enumerated() {
            try collection.add(try reader.compression(entry, path: "compressions[\(i)]"))
        }
        for (i, entry) in (lists["policies"]?.1 ?? []).enumerated() {
            try collection.add(try reader.policy(entry, path: "policies[\(i)]"))
        }
        return try collection.file(.json, origin: origin, emptyReason: "no SA in the file")
    }

    static let sections = ["associations", "compressions", "policies"]

    /// Reads fields with their paths, for messages like `associations[0].spi: …`.
    private struct Reader {
        let origin: String

        func fail(_ code: ConfigError.Code, line: Int?, path: String, _ reason: String) -> ConfigError {
            Problem(code, reason).at(origin, line: line, label: path)
        }

        /// The members of an object, after checking that every key is one of `allowed`.
        func members(_ node: JSONNode, path: String, allowed: [String]) throws(ConfigError) -> [String: JSONNode] {
            guard case .object(let members) = node.value else {
                throw fail(.wrongType, line: node.line, path: path, "must be an object, not \(node.typeName)")
            }
            var out: [String: JSONNode] = [:]
            for m in members {
                guard allowed.contains(m.key) else {
                    throw fail(.unknownKey, line: m.line, path: path,
                               "unknown key \(ConfigError.shown(m.key)) (allowed: \(allowed.joined(separator: ", ")))")
                }
                out[m.key] = m.value
            }
            return out
        }

        func required(_ fields: [String: JSONNode], _ key: String, in node: JSONNode, path: String)
            throws(ConfigError) -> JSONNode
        {
            guard let value = fields[key] else {
                throw fail(.missing, line: node.line, path: path, "missing key \"\(key)\"")
            }
            return value
        }

        func string(_ node: JSONNode, path: String) throws(ConfigError) -> String {
            guard case .string(let s) = node.value else {
                throw fail(.wrongType, line: node.line, path: path, "must be a string, not \(node.typeName)")
            }
            return s
        }

        func bool(_ node: JSONNode, path: String) throws(ConfigError) -> Bool {
            guard case .bool(let b) = node.value else {
                throw fail(.wrongType, line: node.line, path: path, "must be true or false, not \(node.typeName)")
            }
            return b
        }

        func integer(_ node: JSONNode, path: String, maximum: UInt64, minimum: UInt64 = 0) throws(ConfigError)
            -> UInt64
        {
            guard case .number(let text) = node.value else {
                throw fail(.wrongType, line: node.line, path: path, "must be an integer, not \(node.typeName)")
            }
            guard !text.hasPrefix("-") else {
                throw fail(.invalidValue, line: node.line, path: path, "must not be negative")
            }
            guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
                throw fail(.invalidValue, line: node.line, path: path, "must be an integer (no fraction or exponent)")
            }
            let value: UInt64
            do { value = try TextValues.decimal(text, maximum: maximum, what: "value") } catch {
                throw error.at(origin, line: node.line, label: path)
            }
            guard value >= minimum else {
                throw fail(.invalidValue, line: node.line, path: path, "must be at least \(minimum)")
            }
            return value
        }

        func hex(_ node: JSONNode, path: String) throws(ConfigError) -> [UInt8] {
            let text = try string(node, path: path)
            do { return try TextValues.hexBytes(text, what: "the key") } catch {
                throw error.at(origin, line: node.line, label: path)
            }
        }

        func parse<T>(_ node: JSONNode, path: String, _ body: (String) throws(Problem) -> T) throws(ConfigError) -> T {
            let text = try string(node, path: path)
            do { return try body(text) } catch { throw error.at(origin, line: node.line, label: path) }
        }

        static let associationKeys = [
            "protocol", "spi", "mode", "source", "destination", "algorithm", "encryption_key", "integrity_key", "reqid",
            "esn", "replay_window", "replay_sequence", "outbound_sequence", "selector", "encapsulation", "hc_fields",
            "lifetime", "tfc_padding",
        ]

        func association(_ node: JSONNode, path: String) throws(ConfigError) -> SADraft {
            let f = try members(node, path: path, allowed: Self.associationKeys)
            func sub(_ key: String) -> String { "\(path).\(key)" }
            func place(_ key: String) -> SADraft.Place { SADraft.Place(line: f[key]?.line ?? node.line, label: sub(key)) }

            let protocolNode = try required(f, "protocol", in: node, path: path)
            let protocolText = try string(protocolNode, path: sub("protocol"))
            guard let proto = IPsecProtocol(rawValue: protocolText) else {
                throw fail(.invalidValue, line: protocolNode.line, path: sub("protocol"),
                           "\(ConfigError.shown(protocolText)) is not \"esp\" or \"ah\"")
            }
            let spi = try self.spi(try required(f, "spi", in: node, path: path), path: sub("spi"))
            let modeNode = try required(f, "mode", in: node, path: path)
            let modeText = try string(modeNode, path: sub("mode"))
            guard let mode = SAMode(rawValue: modeText) else {
                throw fail(.invalidValue, line: modeNode.line, path: sub("mode"),
                           "\(ConfigError.shown(modeText)) is not \"transport\", \"tunnel\" or \"tunnel-hc\"")
            }
            let source = try parse(try required(f, "source", in: node, path: path), path: sub("source")) {
                text throws(Problem) in try TextValues.address(text, what: "address")
            }
            let destination = try parse(try required(f, "destination", in: node, path: path),
                                        path: sub("destination")) {
                text throws(Problem) in try TextValues.address(text, what: "address")
            }
            let algorithmNode = try required(f, "algorithm", in: node, path: path)
            let keyword = try string(algorithmNode, path: sub("algorithm"))
            let algorithm: SAAlgorithm
            do throws(CryptoError) {
                algorithm = proto == .esp ? .esp(try ESPAlgorithm(keyword: keyword))
                    : .ah(try AHAlgorithm(keyword: keyword))
            } catch {
                // CryptoError's reason may repeat the keyword; show it only if it is safe to.
                let shown = ConfigError.shown(keyword)
                let detail = shown.hasPrefix("'") ? ": \(error.reason)" : ""
                throw fail(.unknownAlgorithm, line: algorithmNode.line, path: sub("algorithm"),
                           "\(shown) is not an \(proto == .esp ? "ESP" : "AH") algorithm\(detail)")
            }

            var draft = SADraft(origin: origin, entry: SADraft.Place(line: node.line, label: path), protocol: proto,
                                spi: spi, mode: mode, source: source, destination: destination, algorithm: algorithm,
                                replayWindow: 64)
            let fields: [(String, SADraft.Field)] = [
                ("spi", .spi), ("mode", .mode), ("source", .source), ("destination", .destination),
                ("algorithm", .algorithm), ("encryption_key", .encryptionKey), ("integrity_key", .integrityKey),
                ("replay_window", .replayWindow), ("replay_sequence", .replaySequence),
                ("outbound_sequence", .outboundSequence), ("selector", .selector), ("encapsulation", .encapsulation),
                ("hc_fields", .headerCompression), ("lifetime", .lifetime), ("tfc_padding", .tfcPadding),
            ]
            for (key, field) in fields { draft.places[field] = place(key) }
            if let n = f["encryption_key"] { draft.encryptionKey = try hex(n, path: sub("encryption_key")) }
            if let n = f["integrity_key"] { draft.integrityKey = try hex(n, path: sub("integrity_key")) }
            if let n = f["reqid"] { draft.reqid = UInt32(try integer(n, path: sub("reqid"), maximum: UInt64(UInt32.max))) }
            if let n = f["esn"] { draft.esn = try bool(n, path: sub("esn")) }
            if let n = f["replay_window"] {
                draft.replayWindow = Int(try integer(n, path: sub("replay_window"),
                                                     maximum: UInt64(SADraft.maximumReplayWindow)))
            }
            if let n = f["replay_sequence"] {
                draft.replaySequence = try integer(n, path: sub("replay_sequence"), maximum: .max)
            }
            if let n = f["outbound_sequence"] {
                draft.outboundSequence = try integer(n, path: sub("outbound_sequence"), maximum: .max)
            }
            if let n = f["selector"] { draft.selector = try selector(n, path: sub("selector")) }
            if let n = f["encapsulation"] { draft.encapsulation = try encapsulation(n, path: sub("encapsulation")) }
            if let n = f["hc_fields"] { draft.headerCompression = try headerCompression(n, path: sub("hc_fields")) }
            if let n = f["lifetime"] { draft.lifetime = try lifetime(n, path: sub("lifetime")) }
            if let n = f["tfc_padding"] {
                draft.tfcPadding = Int(try integer(n, path: sub("tfc_padding"), maximum: UInt64(SADraft.maximumTFCPadding)))
            }
            return draft
        }

        func lifetime(_ node: JSONNode, path: String) throws(ConfigError) -> SALifetime {
            let f = try members(node, path: path, allowed: ["soft_packets", "hard_packets", "soft_bytes", "hard_bytes"])
            func limit(_ key: String) throws(ConfigError) -> UInt64? {
                guard let n = f[key] else { return nil }
                return try integer(n, path: "\(path).\(key)", maximum: .max - 1)
            }
            return SALifetime(softPackets: try limit("soft_packets"), hardPackets: try limit("hard_packets"),
                              softBytes: try limit("soft_bytes"), hardBytes: try limit("hard_bytes"))
        }

        func mode(_ node: JSONNode, path: String) throws(ConfigError) -> SAMode {
            let text = try string(node, path: path)
            guard let mode = SAMode(rawValue: text) else {
                throw fail(.invalidValue, line: node.line, path: path,
                           "\(ConfigError.shown(text)) is not \"transport\", \"tunnel\" or \"tunnel-hc\"")
            }
            return mode
        }

        func address(_ node: JSONNode, path: String) throws(ConfigError) -> IPAddress {
            try parse(node, path: path) { text throws(Problem) in try TextValues.address(text, what: "address") }
        }

        static let compressionKeys = ["cpi", "mode", "source", "destination", "reqid", "algorithm"]

        func compression(_ node: JSONNode, path: String) throws(ConfigError) -> CompressionDraft {
            let f = try members(node, path: path, allowed: Self.compressionKeys)
            func sub(_ key: String) -> String { "\(path).\(key)" }
            if let n = f["algorithm"] {
                let name = try string(n, path: sub("algorithm"))
                do { try LinuxState.checkCompression(name, line: n.line, origin: origin) } catch {
                    throw fail(error.code, line: n.line, path: sub("algorithm"), error.reason)
                }
            }
            let cpiNode = try required(f, "cpi", in: node, path: path)
            var draft = CompressionDraft(
                origin: origin, line: cpiNode.line, label: sub("cpi"),
                cpi: UInt64(try spi(cpiNode, path: sub("cpi"))),
                mode: try mode(try required(f, "mode", in: node, path: path), path: sub("mode")),
                source: try address(try required(f, "source", in: node, path: path), path: sub("source")),
                destination: try address(try required(f, "destination", in: node, path: path), path: sub("destination")))
            if let n = f["reqid"] { draft.reqid = UInt32(try integer(n, path: sub("reqid"), maximum: UInt64(UInt32.max))) }
            return draft
        }

        static let policyKeys = ["direction", "priority", "selector", "action", "templates"]

        func policy(_ node: JSONNode, path: String) throws(ConfigError) -> PolicyDraft {
            let f = try members(node, path: path, allowed: Self.policyKeys)
            func sub(_ key: String) -> String { "\(path).\(key)" }
            let directionNode = try required(f, "direction", in: node, path: path)
            let directionText = try string(directionNode, path: sub("direction"))
            guard let direction = PolicyDirection(rawValue: directionText) else {
                throw fail(.invalidValue, line: directionNode.line, path: sub("direction"),
                           "\(ConfigError.shown(directionText)) is not \"in\", \"out\" or \"fwd\"")
            }
            var draft = PolicyDraft(origin: origin, line: node.line, direction: direction)
            draft.label = path
            if let n = f["priority"] { draft.priority = Int(try integer(n, path: sub("priority"), maximum: UInt64(UInt32.max))) }
            if let n = f["selector"] { draft.selector = try policySelector(n, path: sub("selector")) }
            let actionNode = try required(f, "action", in: node, path: path)
            let action = try string(actionNode, path: sub("action"))
            var templates: [SATemplate] = []
            if let n = f["templates"] {
                guard case .array(let items) = n.value else {
                    throw fail(.wrongType, line: n.line, path: sub("templates"), "must be an array, not \(n.typeName)")
                }
                for (i, item) in items.enumerated() { templates.append(try template(item, path: "\(sub("templates"))[\(i)]")) }
            }
            switch action {
            case "protect":
                guard !templates.isEmpty else {
                    throw fail(.missing, line: actionNode.line, path: sub("templates"),
                               "a \"protect\" policy needs at least one template")
                }
                draft.action = .protect(templates)
            case "bypass", "discard":
                if let n = f["templates"] {
                    throw fail(.inconsistent, line: n.line, path: sub("templates"),
                               "only a \"protect\" policy has templates, not \"\(action)\"")
                }
                draft.action = action == "bypass" ? .bypass : .discard
            default:
                throw fail(.invalidValue, line: actionNode.line, path: sub("action"),
                           "\(ConfigError.shown(action)) is not \"bypass\", \"discard\" or \"protect\"")
            }
            return draft
        }

        func template(_ node: JSONNode, path: String) throws(ConfigError) -> SATemplate {
            let f = try members(node, path: path, allowed: ["protocol", "mode", "source", "destination", "reqid", "spi",
                                                            "optional"])
            func sub(_ key: String) -> String { "\(path).\(key)" }
            let protocolNode = try required(f, "protocol", in: node, path: path)
            let protocolText = try string(protocolNode, path: sub("protocol"))
            guard let proto = SATemplate.TemplateProtocol(rawValue: protocolText) else {
                throw fail(.invalidValue, line: protocolNode.line, path: sub("protocol"),
                           "\(ConfigError.shown(protocolText)) is not \"esp\", \"ah\" or \"ipcomp\"")
            }
            var t = SATemplate(protocol: proto, mode: try mode(try required(f, "mode", in: node, path: path),
                                                                path: sub("mode")))
            if let n = f["source"] { t.source = try address(n, path: sub("source")) }
            if let n = f["destination"] { t.destination = try address(n, path: sub("destination")) }
            if let n = f["reqid"] { t.reqid = UInt32(try integer(n, path: sub("reqid"), maximum: UInt64(UInt32.max))) }
            if let n = f["spi"] { t.spi = try spi(n, path: sub("spi")) }
            if let n = f["optional"] { t.optional = try bool(n, path: sub("optional")) }
            return t
        }

        /// `"10.0.0.0/24"`, `"10.0.0.1"` (a host) or `"10.0.0.1-10.0.0.9"` (an inclusive range).
        func addressMatch(_ node: JSONNode, path: String) throws(ConfigError) -> AddressMatch {
            try parse(node, path: path) { text throws(Problem) in
                let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                if parts.count == 2 {
                    return .range(try TextValues.address(parts[0], what: "range start"),
                                  try TextValues.address(parts[1], what: "range end"))
                }
                return .prefix(try TextValues.prefix(text, what: "prefix"))
            }
        }

        /// A port (`443`) or an inclusive range (`"1024-65535"`).
        func ports(_ node: JSONNode, path: String) throws(ConfigError) -> ClosedRange<UInt16> {
            if case .number = node.value {
                let p = try port(node, path: path)
                return p...p
            }
            return try parse(node, path: path) { text throws(Problem) in
                let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count <= 2 else { throw Problem(.invalidValue, "not a port or a range LOW-HIGH") }
                let low = UInt16(try TextValues.decimal(parts[0], maximum: 65535, what: "port"))
                let high = parts.count == 2 ? UInt16(try TextValues.decimal(parts[1], maximum: 65535, what: "port")) : low
                guard low <= high else { throw Problem(.invalidValue, "the range ends before it starts") }
                return low...high
            }
        }

        func policySelector(_ node: JSONNode, path: String) throws(ConfigError) -> PolicySelector {
            let f = try members(node, path: path, allowed: ["source", "destination", "protocol", "source_ports",
                                                            "destination_ports", "icmp_type", "icmp_code"])
            var s = PolicySelector()
            if let n = f["source"] { s.source = try addressMatch(n, path: "\(path).source") }
            if let n = f["destination"] { s.destination = try addressMatch(n, path: "\(path).destination") }
            if let n = f["protocol"] { s.protocol = try ipProtocol(n, path: "\(path).protocol") }
            if let n = f["source_ports"] { s.sourcePorts = try ports(n, path: "\(path).source_ports") }
            if let n = f["destination_ports"] { s.destinationPorts = try ports(n, path: "\(path).destination_ports") }
            if let n = f["icmp_type"] { s.icmpType = UInt8(try integer(n, path: "\(path).icmp_type", maximum: 255)) }
            if let n = f["icmp_code"] { s.icmpCode = UInt8(try integer(n, path: "\(path).icmp_code", maximum: 255)) }
            return s
        }

        func ipProtocol(_ node: JSONNode, path: String) throws(ConfigError) -> IPProtocol? {
            if case .number = node.value { return IPProtocol(UInt8(try integer(node, path: path, maximum: 255, minimum: 1))) }
            return try parse(node, path: path) { text throws(Problem) in try TextValues.ipProtocol(text, what: "protocol") }
        }

        /// A preset name (`"host-to-host"`), a comma-separated field list, or an array of field names.
        func headerCompression(_ node: JSONNode, path: String) throws(ConfigError) -> HeaderCompressionFields {
            let text: String
            if case .array(let items) = node.value {
                var names: [String] = []
                for (i, item) in items.enumerated() { names.append(try string(item, path: "\(path)[\(i)]")) }
                text = names.joined(separator: ",")
            } else {
                text = try string(node, path: path)
            }
            guard let fields = HeaderCompressionFields(parsing: text) else {
                throw fail(.invalidValue, line: node.line, path: path, HeaderCompressionText.problem(text))
            }
            return fields
        }

        /// An integer, or a string of `0x` and hex digits (how SPIs are usually written) or of decimal digits.
        func spi(_ node: JSONNode, path: String) throws(ConfigError) -> UInt32 {
            let value: UInt64
            switch node.value {
            case .number:
                value = try integer(node, path: path, maximum: UInt64(UInt32.max))
            case .string(let text):
                do throws(Problem) {
                    value = text.lowercased().hasPrefix("0x")
                        ? try TextValues.prefixedHex(text, maximum: UInt64(UInt32.max), what: "SPI")
                        : try TextValues.decimal(text, maximum: UInt64(UInt32.max), what: "SPI")
                } catch {
                    throw error.at(origin, line: node.line, label: path)
                }
            default:
                throw fail(.wrongType, line: node.line, path: path,
                           "must be an integer or a \"0x…\" string, not \(node.typeName)")
            }
            return UInt32(value)
        }

        func port(_ node: JSONNode, path: String) throws(ConfigError) -> UInt16 {
            UInt16(try integer(node, path: path, maximum: UInt64(UInt16.max), minimum: 1))
        }

        func selector(_ node: JSONNode, path: String) throws(ConfigError) -> TrafficSelector {
            let f = try members(node, path: path, allowed: ["source", "destination", "protocol", "source_port",
                                                            "destination_port"])
            var s = TrafficSelector()
            if let n = f["source"] {
                s.source = try parse(n, path: "\(path).source") { text throws(Problem) in
                    try TextValues.prefix(text, what: "prefix")
                }
            }
            if let n = f["destination"] {
                s.destination = try parse(n, path: "\(path).destination") { text throws(Problem) in
                    try TextValues.prefix(text, what: "prefix")
                }
            }
            if let n = f["protocol"] {
                switch n.value {
                case .number:
                    s.protocol = IPProtocol(UInt8(try integer(n, path: "\(path).protocol", maximum: 255, minimum: 1)))
                default:
                    s.protocol = try parse(n, path: "\(path).protocol") { text throws(Problem) in
                        try TextValues.ipProtocol(text, what: "protocol")
                    }
                }
            }
            if let n = f["source_port"] { s.sourcePort = try port(n, path: "\(path).source_port") }
            if let n = f["destination_port"] { s.destinationPort = try port(n, path: "\(path).destination_port") }
            return s
        }

        func encapsulation(_ node: JSONNode, path: String) throws(ConfigError) -> UDPEncapsulationConfig {
            let f = try members(node, path: path, allowed: ["source_port", "destination_port"])
            var e = UDPEncapsulationConfig()
            if let n = f["source_port"] { e.sourcePort = try port(n, path: "\(path).source_port") }
            if let n = f["destination_port"] { e.destinationPort = try port(n, path: "\(path).destination_port") }
            return e
        }
    }

    // MARK: - Writing

    static func encode(_ file: SAFile, includeKeys: Bool) -> String {
        var sections = [section("associations", file.associations.map { association($0, includeKeys: includeKeys) })]
        if !file.compressions.isEmpty { sections.append(section("compressions", file.compressions.map(compression))) }
        if !file.policies.isEmpty { sections.append(section("policies", file.policies.map(policy))) }
        return "{\n" + sections.joined(separator: ",\n") + "\n}\n"
    }

    /// `  "name": [ {…}, … ]`, each entry an object of one member a line.
    private static func section(_ name: String, _ entries: [[(String, String)]]) -> String {
        guard !entries.isEmpty else { return "  \(quoted(name)): []" }
        let objects = entries.map { fields in
            "    {\n" + fields.map { "      \(quoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n    }"
        }
        return "  \(quoted(name)): [\n" + objects.joined(separator: ",\n") + "\n  ]"
    }

    private static func association(_ sa: SAConfiguration, includeKeys: Bool) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("protocol", quoted(sa.protocol.rawValue)),
            ("spi", quoted("0x" + hex32(sa.spi))),
            ("mode", quoted(sa.mode.rawValue)),
            ("source", quoted(sa.source.description)),
            ("destination", quoted(sa.destination.description)),
            ("algorithm", quoted(sa.algorithm.description)),
        ]
        if includeKeys {
            if !sa.encryptionKey.isEmpty {
                fields.append(("encryption_key", quoted("0x" + TextValues.hexString(sa.encryptionKey))))
            }
            if !sa.integrityKey.isEmpty {
                fields.append(("integrity_key", quoted("0x" + TextValues.hexString(sa.integrityKey))))
            }
        }
        fields += [
            ("reqid", String(sa.reqid)),
            ("esn", sa.extendedSequenceNumbers ? "true" : "false"),
            ("replay_window", String(sa.replayWindow)),
            ("replay_sequence", String(sa.replaySequence)),
            ("outbound_sequence", String(sa.outboundSequence)),
        ]
        if let s = sa.selector {
            var parts: [(String, String)] = []
            if let p = s.source { parts.append(("source", quoted(p.description))) }
            if let p = s.destination { parts.append(("destination", quoted(p.description))) }
            if let p = s.protocol {
                parts.append(("protocol", TextValues.protocolName(p).map(quoted) ?? String(p.rawValue)))
            }
            if let p = s.sourcePort { parts.append(("source_port", String(p))) }
            if let p = s.destinationPort { parts.append(("destination_port", String(p))) }
            fields.append(("selector", inlineObject(parts)))
        }
        if let e = sa.encapsulation {
            fields.append(("encapsulation", inlineObject([("source_port", String(e.sourcePort)),
                                                           ("destination_port", String(e.destinationPort))])))
        }
        if let h = sa.headerCompression { fields.append(("hc_fields", quoted(h.description))) }
        if sa.lifetime != .unlimited {
            let l = sa.lifetime
            let parts: [(String, UInt64?)] = [("soft_packets", l.softPackets), ("hard_packets", l.hardPackets),
                                              ("soft_bytes", l.softBytes), ("hard_bytes", l.hardBytes)]
            fields.append(("lifetime", inlineObject(parts.compactMap { k, v in v.map { (k, String($0)) } })))
        }
        if sa.tfcPadding != 0 { fields.append(("tfc_padding", String(sa.tfcPadding))) }
        return fields
    }

    private static func compression(_ c: IPCompAssociation) -> [(String, String)] {
        [("cpi", quoted("0x" + String(c.cpi, radix: 16))), ("mode", quoted(c.mode.rawValue)),
         ("source", quoted(c.source.description)), ("destination", quoted(c.destination.description)),
         ("reqid", String(c.reqid)), ("algorithm", quoted("deflate"))]
    }

    private static func policy(_ p: SecurityPolicy) -> [(String, String)] {
        var fields: [(String, String)] = [("direction", quoted(p.direction.rawValue)), ("priority", String(p.priority))]
        let s = p.selector
        var parts: [(String, String)] = []
        if let a = s.source { parts.append(("source", quoted(a.description))) }
        if let a = s.destination { parts.append(("destination", quoted(a.description))) }
        if let proto = s.protocol {
            parts.append(("protocol", TextValues.protocolName(proto).map(quoted) ?? String(proto.rawValue)))
        }
        func ports(_ r: ClosedRange<UInt16>) -> String {
            r.lowerBound == r.upperBound ? String(r.lowerBound) : quoted("\(r.lowerBound)-\(r.upperBound)")
        }
        if let r = s.sourcePorts { parts.append(("source_ports", ports(r))) }
        if let r = s.destinationPorts { parts.append(("destination_ports", ports(r))) }
        if let t = s.icmpType { parts.append(("icmp_type", String(t))) }
        if let c = s.icmpCode { parts.append(("icmp_code", String(c))) }
        if !parts.isEmpty { fields.append(("selector", inlineObject(parts))) }
        switch p.action {
        case .bypass: fields.append(("action", quoted("bypass")))
        case .discard: fields.append(("action", quoted("discard")))
        case .protect(let templates):
            fields.append(("action", quoted("protect")))
            let written = templates.map { t -> String in
                var m: [(String, String)] = [("protocol", quoted(t.protocol.rawValue)), ("mode", quoted(t.mode.rawValue))]
                if let a = t.source { m.append(("source", quoted(a.description))) }
                if let a = t.destination { m.append(("destination", quoted(a.description))) }
                if t.reqid != 0 { m.append(("reqid", String(t.reqid))) }
                if let spi = t.spi { m.append(("spi", quoted("0x" + hex32(spi)))) }
                if t.optional { m.append(("optional", "true")) }
                return inlineObject(m)
            }
            fields.append(("templates", "[" + written.joined(separator: ", ") + "]"))
        }
        return fields
    }

    private static func inlineObject(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func hex32(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A JSON string. The values written here are ASCII names and addresses, but escape properly anyway.
    static func quoted(_ s: String) -> String {
        JSONValue.quoted(s)
    }
}
