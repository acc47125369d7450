import IPsecCore
import IPsecCrypto
import IPsecWire

/// IPsecLab's native SA file (docs/sa-files.md): `{"associations": [SA, …]}` or a bare array of SAs.
///
///     SA = { "protocol": "esp" | "ah", "spi": 4660 | "0x1234", "mode": "transport" | "tunnel" | "tunnel-hc",
///            "source": ADDRESS, "destination": ADDRESS, "algorithm": STRONGSWAN-KEYWORD,
///            ["encryption_key": HEX], ["integrity_key": HEX], ["reqid": N], ["esn": BOOL], ["replay_window": N],
///            ["replay_sequence": N], ["outbound_sequence": N], ["selector": SELECTOR], ["encapsulation": ENCAP] }
///     SELECTOR = { ["source": PREFIX], ["destination": PREFIX], ["protocol": NAME | 1-255],
///                  ["source_port": 1-65535], ["destination_port": 1-65535] }
///     ENCAP = { ["source_port": 1-65535], ["destination_port": 1-65535] }   ; each defaults to 4500
///
/// Strict: unknown keys, wrong types, `null`, fractions and negative numbers are errors, with the key's path.
enum JSONFormat {
    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> [SAConfiguration] {
        let root: JSONNode
        do { root = try JSONReader.parse(bytes) } catch { throw error.at(origin, line: nil) }
        let reader = Reader(origin: origin)
        let entries: [JSONNode]
        let base: String
        switch root.value {
        case .array(let items):
            entries = items
            base = ""
        case .object(let members):
            base = "associations"
            for m in members where m.key != "associations" {
                throw reader.fail(.unknownKey, line: m.line, path: "",
                                  "unknown key \(ConfigError.shown(m.key)); the file holds \"associations\" only")
            }
            guard let list = members.first(where: { $0.key == "associations" }) else {
                throw reader.fail(.missing, line: root.line, path: "", "missing key \"associations\"")
            }
            guard case .array(let items) = list.value.value else {
                throw reader.fail(.wrongType, line: list.value.line, path: base,
                                  "must be an array, not \(list.value.typeName)")
            }
            entries = items
        default:
            throw reader.fail(.wrongType, line: root.line, path: "",
                              "the file must hold an object with \"associations\" or an array, not \(root.typeName)")
        }
        guard !entries.isEmpty else {
            throw reader.fail(.missing, line: root.line, path: base, "no SA in the file")
        }
        var collection = SACollection()
        for (i, entry) in entries.enumerated() {
            try collection.add(try reader.association(entry, path: "\(base)[\(i)]"))
        }
        return collection.associations
    }

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
                ("hc_fields", .headerCompression),
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
            return draft
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

    static func encode(_ associations: [SAConfiguration], includeKeys: Bool) -> String {
        var out = "{\n  \"associations\": ["
        for (i, sa) in associations.enumerated() {
            out += i == 0 ? "\n" : ",\n"
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
            out += "    {\n"
            out += fields.map { "      \(quoted($0.0)): \($0.1)" }.joined(separator: ",\n")
            out += "\n    }"
        }
        out += associations.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
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
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    let h = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
