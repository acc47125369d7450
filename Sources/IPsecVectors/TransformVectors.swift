import IPsecCrypto

/// A transform-level known answer: ESP (key, SPI, sequence, IV, plaintext → ciphertext ‖ ICV) or a MAC.
public struct TransformCase: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case esp
        case mac
    }

    public var tcId = 0
    public var comment: String
    public var flags: [String]
    public var kind: Kind
    /// ESP: the strongSwan keyword; MAC: `hmac-md5` … `hmac-sha512`, `aes-xcbc-mac`, `aes-cmac`.
    public var algorithm: String
    public var key: [UInt8]
    public var integrityKey: [UInt8] = []
    public var spi: UInt32 = 0
    public var sequence: UInt64 = 0
    public var esn = false
    public var iv: [UInt8] = []
    /// ESP: plaintext; MAC: message.
    public var input: [UInt8]
    /// ESP: ciphertext; MAC: unused.
    public var output: [UInt8] = []
    /// ESP: ICV; MAC: the published tag (compared on its length).
    public var tag: [UInt8]
    public var result: VectorResult
    public var provenance: String?
}

public struct TransformGroup: Hashable, Sendable {
    public var kind: TransformCase.Kind
    public var tests: [TransformCase]
}

/// A transform-level vector file (`vectors/transforms/FAMILY.json`), checked through IPsecCrypto.
public struct TransformVectorFile: Hashable, Sendable {
    public var family: String
    public var notes: [String: String]
    public var groups: [TransformGroup]

    public var numberOfTests: Int { groups.reduce(0) { $0 + $1.tests.count } }

    static let flagNotes = [
        "Published": "A published known answer (see provenance).",
        "ModifiedICV": "The published ICV with its last bit flipped: must not verify.",
    ]

    public var text: String {
        var used = Set<String>()
        for g in groups { for t in g.tests { used.formUnion(t.flags) } }
        var allNotes = notes
        for f in used where allNotes[f] == nil { allNotes[f] = Self.flagNotes[f] ?? f }
        let root = VJSON.object([
            ("schema", .string(vectorSchema)),
            ("mode", .string("transform")),
            ("algorithm", .string(family)),
            ("numberOfTests", .int(numberOfTests)),
            ("notes", .object(allNotes.keys.sorted().map { ($0, .string(allNotes[$0]!)) })),
            ("testGroups", .array(groups.map { g in
                .object([("type", .string(g.kind.rawValue)), ("tests", .array(g.tests.map(Self.caseJSON)))])
            })),
        ])
        return root.pretty(inlineFrom: 4)
    }

    static func caseJSON(_ c: TransformCase) -> VJSON {
        var m: [(String, VJSON)] = [
            ("tcId", .int(c.tcId)), ("comment", .string(c.comment)), ("flags", .array(c.flags.map { .string($0) })),
            ("algorithm", .string(c.algorithm)), ("key", .string(hexString(c.key))),
        ]
        switch c.kind {
        case .esp:
            m += [
                ("integrityKey", .string(hexString(c.integrityKey))),
                ("spi", .int(c.spi)), ("sequence", .int(c.sequence)), ("esn", .bool(c.esn)),
                ("iv", .string(hexString(c.iv))), ("plaintext", .string(hexString(c.input))),
                ("ciphertext", .string(hexString(c.output))), ("icv", .string(hexString(c.tag))),
            ]
        case .mac:
            m += [("message", .string(hexString(c.input))), ("tag", .string(hexString(c.tag)))]
        }
        m.append(("result", .string(c.result.rawValue)))
        if let p = c.provenance { m.append(("provenance", .string(p))) }
        return .object(m)
    }
}

extension VectorReader.Reader {
    func transformGroup(_ v: VJSON, _ path: String, notes: [String: String], ids: inout Set<Int>) throws(VectorError)
        -> TransformGroup {
        let g = try object(v, path, required: ["type", "tests"])
        guard let kind = TransformCase.Kind(rawValue: try string(g["type"], "\(path).type")) else {
            throw fail("\(path).type", "must be \"esp\" or \"mac\"")
        }
        guard case .array(let items)? = g["tests"] else { throw fail("\(path).tests", "must be an array") }
        var tests: [TransformCase] = []
        for (i, item) in items.enumerated() {
            let p = "\(path).tests[\(i)]"
            let common = ["tcId", "comment", "flags", "algorithm", "key", "result"]
            let specific = kind == .esp
                ? ["integrityKey", "spi", "sequence", "esn", "iv", "plaintext", "ciphertext", "icv"]
                : ["message", "tag"]
            let t = try object(item, p, required: common + specific, optional: ["provenance"])
            let id = Int(try integer(t["tcId"], "\(p).tcId"))
            guard ids.insert(id).inserted else { throw fail("\(p).tcId", "\(id) is used twice") }
            let flags = try stringArray(t["flags"], "\(p).flags")
            for f in flags where notes[f] == nil { throw fail("\(p).flags", "flag \"\(f)\" is not described in \"notes\"") }
            guard let result = VectorResult(rawValue: try string(t["result"], "\(p).result")) else {
                throw fail("\(p).result", "must be \"valid\", \"invalid\" or \"acceptable\"")
            }
            var c = TransformCase(comment: try string(t["comment"], "\(p).comment"), flags: flags, kind: kind,
                                  algorithm: try string(t["algorithm"], "\(p).algorithm"),
                                  key: try hexBytes(t["key"], "\(p).key"), input: [], tag: [], result: result,
                                  provenance: try optionalString(t["provenance"], "\(p).provenance"))
            c.tcId = id
            switch kind {
            case .esp:
                c.integrityKey = try hexBytes(t["integrityKey"], "\(p).integrityKey")
                let spi = try integer(t["spi"], "\(p).spi")
                guard spi <= UInt64(UInt32.max) else { throw fail("\(p).spi", "must fit in 32 bits") }
                c.spi = UInt32(spi)
                c.sequence = try integer(t["sequence"], "\(p).sequence")
                guard case .bool(let esn)? = t["esn"] else { throw fail("\(p).esn", "must be true or false") }
                c.esn = esn
                c.iv = try hexBytes(t["iv"], "\(p).iv")
                c.input = try hexBytes(t["plaintext"], "\(p).plaintext")
                c.output = try hexBytes(t["ciphertext"], "\(p).ciphertext")
                c.tag = try hexBytes(t["icv"], "\(p).icv")
            case .mac:
                c.input = try hexBytes(t["message"], "\(p).message")
                c.tag = try hexBytes(t["tag"], "\(p).tag")
            }
            tests.append(c)
        }
        return TransformGroup(kind: kind, tests: tests)
    }
}

/// Checks transform-level cases through IPsecCrypto: ESP both ways (seal gives ciphertext ‖ ICV; open verifies and
/// gives the plaintext back), MACs through `Primitives`.
public enum TransformVerifier {
    public static func check(_ c: TransformCase, in group: TransformGroup) -> String? {
        do {
            switch c.kind {
            case .esp: return try checkESP(c)
            case .mac: return try checkMAC(c)
            }
        } catch {
            return "\(error)"
        }
    }

    static func checkESP(_ c: TransformCase) throws -> String? {
        let algorithm = try ESPAlgorithm(keyword: c.algorithm)
        let t = try ESPTransform(algorithm, encryptionKey: c.key, integrityKey: c.integrityKey)
        let aad = ESPAssociatedData(spi: c.spi, sequenceNumber: c.sequence, extendedSequenceNumbers: c.esn)
        guard c.tag.count == t.icvLength, c.iv.count == t.ivLength, c.output.count == c.input.count else {
            return "lengths do not fit \(c.algorithm)"
        }
        var opened = c.output
        let ok = try c.iv.withUnsafeBytes { iv in
            try opened.withUnsafeMutableBytes { p in
                try c.tag.withUnsafeBytes { i in try t.open(aad, iv: iv, payload: p, icv: i) }
            }
        }
        if c.result == .invalid { return ok ? "the ICV verified but must not" : nil }
        guard ok else { return "the ICV did not verify" }
        guard opened == c.input else { return "decryption differs from the plaintext" }
        var sealed = c.input
        var icv = [UInt8](repeating: 0, count: t.icvLength)
        try c.iv.withUnsafeBytes { iv in
            try sealed.withUnsafeMutableBytes { p in
                try icv.withUnsafeMutableBytes { i in try t.seal(aad, iv: iv, payload: p, icv: i) }
            }
        }
        guard sealed == c.output else { return "ciphertext differs" }
        guard icv == c.tag else { return "ICV differs" }
        return nil
    }

    static func checkMAC(_ c: TransformCase) throws -> String? {
        let full: [UInt8]
        switch c.algorithm {
        case "hmac-md5": full = try Primitives.hmac(.md5, key: c.key, data: c.input)
        case "hmac-sha1": full = try Primitives.hmac(.sha1, key: c.key, data: c.input)
        case "hmac-sha256": full = try Primitives.hmac(.sha256, key: c.key, data: c.input)
        case "hmac-sha384": full = try Primitives.hmac(.sha384, key: c.key, data: c.input)
        case "hmac-sha512": full = try Primitives.hmac(.sha512, key: c.key, data: c.input)
        case "aes-xcbc-mac": full = try Primitives.aesXCBCMAC(key: c.key, data: c.input)
        case "aes-cmac": full = try Primitives.aesCMAC(key: c.key, data: c.input)
        default: return "unknown MAC \(c.algorithm)"
        }
        let matches = !c.tag.isEmpty && Array(full.prefix(c.tag.count)) == c.tag
        switch c.result {
        case .invalid: return matches ? "the tag matches but must not" : nil
        default: return matches ? nil : "tag differs"
        }
    }
}
