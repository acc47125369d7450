import IPsecConfig
import IPsecCore
import IPsecWire

/// The schema name every vector file carries (docs/vectors.md).
public let vectorSchema = "ipseclab-vectors-1"

public enum VectorDirection: String, Hashable, Sendable {
    /// The SA protects `input` (with the injected IV) and must produce `output` byte for byte.
    case outbound
    /// The SA's receiver opens `input`: delivers `output`, or drops it for `dropReason`.
    case inbound
}

/// Wycheproof's three results.
public enum VectorResult: String, Hashable, Sendable {
    /// Must be accepted (inbound: delivered as `output`; outbound: produced as `output`).
    case valid
    /// Must be dropped; `dropReason` names the stage IPsecLab drops it at.
    case invalid
    /// The RFCs allow either; `dropReason` (or `output` alone) records what IPsecLab does, and `output` what an
    /// implementation that accepts must deliver.
    case acceptable
}

/// One test of a packet-level group.
public struct VectorCase: Hashable, Sendable {
    public var tcId: Int
    public var comment: String
    public var flags: [String]
    public var direction: VectorDirection
    /// Outbound: the full sequence number the sender uses (its outbound counter is this minus one). Inbound: the
    /// full (ESN-inferred) sequence number of an accepted packet, null otherwise.
    public var sequence: UInt64?
    /// Outbound: the IV the sender's IV source yields for this packet (empty for NULL and implicit-IV transforms;
    /// AH-GMAC: the 8-byte IV of the ICV field).
    public var iv: [UInt8]?
    /// Outbound, tunnel mode over IPv4: the outer header's identification.
    public var outerIdentification: UInt16?
    public var input: [UInt8]
    public var output: [UInt8]?
    public var dropReason: DropReason?
    public var result: VectorResult
    public var provenance: String?

    public init(tcId: Int = 0, comment: String, flags: [String], direction: VectorDirection, sequence: UInt64? = nil,
                iv: [UInt8]? = nil, outerIdentification: UInt16? = nil, input: [UInt8], output: [UInt8]?,
                dropReason: DropReason? = nil, result: VectorResult, provenance: String? = nil) {
        self.tcId = tcId
        self.comment = comment
        self.flags = flags
        self.direction = direction
        self.sequence = sequence
        self.iv = iv
        self.outerIdentification = outerIdentification
        self.input = input
        self.output = output
        self.dropReason = dropReason
        self.result = result
        self.provenance = provenance
    }
}

/// One SA and the tests run against it. Every test starts from the SA as written (the replay state included):
/// tests are independent of each other and may run in any order.
public struct VectorGroup: Hashable, Sendable {
    public var comment: String
    public var sa: SAConfiguration
    public var tests: [VectorCase]

    public init(comment: String, sa: SAConfiguration, tests: [VectorCase]) {
        self.comment = comment
        self.sa = sa
        self.tests = tests
    }
}

/// One packet-level vector file: one mode × one algorithm.
public struct VectorFile: Hashable, Sendable {
    public var mode: String
    public var algorithm: String
    public var notes: [String: String]
    public var groups: [VectorGroup]

    public init(mode: String, algorithm: String, notes: [String: String], groups: [VectorGroup]) {
        self.mode = mode
        self.algorithm = algorithm
        self.notes = notes
        self.groups = groups
    }

    public var numberOfTests: Int { groups.reduce(0) { $0 + $1.tests.count } }

    // MARK: - Writing

    /// The file's text: the layout is fixed (two-space indentation, one test a line), so equal files are equal bytes.
    public var text: String {
        let notesValue = VJSON.object(notes.keys.sorted().map { ($0, .string(notes[$0]!)) })
        let groupValues: [VJSON] = groups.map { g in
            .object([
                ("comment", .string(g.comment)),
                ("sa", Self.saJSON(g.sa)),
                ("tests", .array(g.tests.map(Self.caseJSON))),
            ])
        }
        let root = VJSON.object([
            ("schema", .string(vectorSchema)),
            ("mode", .string(mode)),
            ("algorithm", .string(algorithm)),
            ("numberOfTests", .int(numberOfTests)),
            ("notes", notesValue),
            ("testGroups", .array(groupValues)),
        ])
        // root (0) → testGroups (1) → group (2) → tests (3) → each test inline (4); the SA object at 3 is inline.
        return root.pretty(inlineFrom: 4)
    }

    /// The SA in IPsecLab's native JSON (docs/sa-files.md), keys included, plus `ip` and `replay`.
    static func saJSON(_ sa: SAConfiguration) -> VJSON {
        let native = SAFile.json([sa], includeKeys: true)
        guard case .object(var members)? = (try? VJSON.parse(Array(native.utf8)))?["associations"]
            .flatMap({ if case .array(let a) = $0 { a.first } else { nil } }) else {
            preconditionFailure("SAFile.json wrote unreadable JSON")
        }
        members.append(("ip", .int(sa.destination.version == .v4 ? 4 : 6)))
        members.append(("replay", .object([("window", .int(sa.replayWindow)), ("highest", .int(sa.replaySequence))])))
        return .object(members)
    }

    static func caseJSON(_ c: VectorCase) -> VJSON {
        var m: [(String, VJSON)] = [
            ("tcId", .int(c.tcId)),
            ("comment", .string(c.comment)),
            ("flags", .array(c.flags.map { .string($0) })),
            ("direction", .string(c.direction.rawValue)),
            ("sequence", c.sequence.map { .int($0) } ?? .null),
        ]
        if c.direction == .outbound {
            m.append(("iv", .string(hexString(c.iv ?? []))))
            m.append(("outerId", c.outerIdentification.map { .string(hexString([UInt8($0 >> 8), UInt8($0 & 0xff)])) }
                        ?? .null))
        }
        m += [
            ("input", .string(hexString(c.input))),
            ("output", c.output.map { .string(hexString($0)) } ?? .null),
            ("dropReason", c.dropReason.map { .string($0.rawValue) } ?? .null),
            ("result", .string(c.result.rawValue)),
        ]
        if let p = c.provenance { m.append(("provenance", .string(p))) }
        return .object(m)
    }
}

// MARK: - Reading

/// A vector file as read: packet-level or transform-level.
public enum AnyVectorFile: Sendable {
    case packets(VectorFile)
    case transforms(TransformVectorFile)

    public var numberOfTests: Int {
        switch self {
        case .packets(let f): f.numberOfTests
        case .transforms(let f): f.numberOfTests
        }
    }

    public var mode: String {
        switch self {
        case .packets(let f): f.mode
        case .transforms: "transform"
        }
    }
}

public enum VectorReader {
    /// Largest vector file read: the committed ones are a few hundred kilobytes.
    public static let maximumSize = 64 << 20

    /// Reads and checks a vector file; every problem is one `VectorError` line naming the file.
    public static func load(path: String) throws(VectorError) -> AnyVectorFile {
        let bytes: [UInt8]
        switch FileSystem.readAll(path, limit: maximumSize) {
        case .success(let b): bytes = b
        case .failure(let e): throw VectorError("\(path): \(e.message)")
        }
        return try parse(bytes, origin: path)
    }

    public static func parse(_ bytes: [UInt8], origin: String) throws(VectorError) -> AnyVectorFile {
        let root: VJSON
        do { root = try VJSON.parse(bytes) } catch { throw VectorError("\(origin): not JSON: \(error.message)") }
        var r = Reader(origin: origin)
        return try r.file(root)
    }

    struct Reader {
        let origin: String

        func fail(_ path: String, _ message: String) -> VectorError {
            VectorError("\(origin): \(path.isEmpty ? "" : path + ": ")\(message)")
        }

        func object(_ v: VJSON, _ path: String, required: [String], optional: [String] = []) throws(VectorError)
            -> [String: VJSON] {
            guard case .object(let members) = v else { throw fail(path, "must be an object, not \(v.typeName)") }
            var out: [String: VJSON] = [:]
            for (k, value) in members {
                guard required.contains(k) || optional.contains(k) else {
                    throw fail(path, "unknown key \"\(k)\"")
                }
                out[k] = value
            }
            for k in required where out[k] == nil { throw fail(path, "missing key \"\(k)\"") }
            return out
        }

        func string(_ v: VJSON?, _ path: String) throws(VectorError) -> String {
            guard case .string(let s)? = v else { throw fail(path, "must be a string, not \(v?.typeName ?? "absent")") }
            return s
        }

        func optionalString(_ v: VJSON?, _ path: String) throws(VectorError) -> String? {
            if v == nil || v == .null { return nil }
            return try string(v, path)
        }

        func integer(_ v: VJSON?, _ path: String) throws(VectorError) -> UInt64 {
            guard case .number(let n)? = v, let value = UInt64(n) else {
                throw fail(path, "must be a non-negative integer, not \(v?.typeName ?? "absent")")
            }
            return value
        }

        func hexBytes(_ v: VJSON?, _ path: String) throws(VectorError) -> [UInt8] {
            let s = try string(v, path)
            guard let b = bytes(fromHex: s) else { throw fail(path, "must be hex bytes (an even number of hex digits)") }
            return b
        }

        func optionalHex(_ v: VJSON?, _ path: String) throws(VectorError) -> [UInt8]? {
            if v == nil || v == .null { return nil }
            return try hexBytes(v, path)
        }

        func stringArray(_ v: VJSON?, _ path: String) throws(VectorError) -> [String] {
            guard case .array(let items)? = v else { throw fail(path, "must be an array of strings") }
            var out: [String] = []
            for (i, item) in items.enumerated() { out.append(try string(item, "\(path)[\(i)]")) }
            return out
        }

        mutating func file(_ root: VJSON) throws(VectorError) -> AnyVectorFile {
            let f = try object(root, "", required: ["schema", "mode", "algorithm", "numberOfTests", "notes", "testGroups"])
            let schema = try string(f["schema"], "schema")
            guard schema == vectorSchema else {
                throw fail("schema", "is \"\(schema)\"; this reader knows \"\(vectorSchema)\"")
            }
            let mode = try string(f["mode"], "mode")
            let algorithm = try string(f["algorithm"], "algorithm")
            let declared = try integer(f["numberOfTests"], "numberOfTests")
            guard case .object(let noteMembers)? = f["notes"] else { throw fail("notes", "must be an object") }
            var notes: [String: String] = [:]
            for (k, v) in noteMembers { notes[k] = try string(v, "notes.\(k)") }
            guard case .array(let groupValues)? = f["testGroups"] else { throw fail("testGroups", "must be an array") }
            var ids = Set<Int>()
            let file: AnyVectorFile
            if mode == "transform" {
                var groups: [TransformGroup] = []
                for (gi, g) in groupValues.enumerated() {
                    groups.append(try transformGroup(g, "testGroups[\(gi)]", notes: notes, ids: &ids))
                }
                file = .transforms(TransformVectorFile(family: algorithm, notes: notes, groups: groups))
            } else {
                var groups: [VectorGroup] = []
                for (gi, g) in groupValues.enumerated() {
                    groups.append(try group(g, "testGroups[\(gi)]", notes: notes, ids: &ids))
                }
                file = .packets(VectorFile(mode: mode, algorithm: algorithm, notes: notes, groups: groups))
            }
            guard declared == UInt64(file.numberOfTests) else {
                throw fail("numberOfTests", "says \(declared) but the file holds \(file.numberOfTests) tests")
            }
            return file
        }

        func group(_ v: VJSON, _ path: String, notes: [String: String], ids: inout Set<Int>) throws(VectorError)
            -> VectorGroup {
            let g = try object(v, path, required: ["comment", "sa", "tests"])
            let comment = try string(g["comment"], "\(path).comment")
            let sa = try self.sa(g["sa"]!, "\(path).sa")
            guard case .array(let testValues)? = g["tests"] else { throw fail("\(path).tests", "must be an array") }
            var tests: [VectorCase] = []
            for (ti, t) in testValues.enumerated() {
                tests.append(try test(t, "\(path).tests[\(ti)]", sa: sa, notes: notes, ids: &ids))
            }
            return VectorGroup(comment: comment, sa: sa, tests: tests)
        }

        /// The native SA object (read by IPsecConfig, so it is validated exactly as an SA file is) plus `ip` and
        /// `replay`, which must agree with it.
        func sa(_ v: VJSON, _ path: String) throws(VectorError) -> SAConfiguration {
            guard case .object(let members) = v else { throw fail(path, "must be an object, not \(v.typeName)") }
            let native = members.filter { $0.0 != "ip" && $0.0 != "replay" }
            let text = VJSON.object([("associations", .array([.object(native)]))]).compact
            let config: SAConfiguration
            do {
                let file = try SAFile.parse(text, origin: "\(origin): \(path)")
                guard file.associations.count == 1 else { throw fail(path, "must hold one SA") }
                config = file.associations[0]
            } catch let e as VectorError {
                throw e
            } catch {
                throw VectorError("\(error)")
            }
            let ip = try integer(v["ip"], "\(path).ip")
            guard ip == (config.destination.version == .v4 ? 4 : 6) else {
                throw fail("\(path).ip", "is \(ip) but the SA's addresses are IPv\(config.destination.version == .v4 ? 4 : 6)")
            }
            let replay = try object(v["replay"] ?? .null, "\(path).replay", required: ["window", "highest"])
            let window = try integer(replay["window"], "\(path).replay.window")
            let highest = try integer(replay["highest"], "\(path).replay.highest")
            guard window == UInt64(config.replayWindow), highest == config.replaySequence else {
                throw fail("\(path).replay", "disagrees with replay_window / replay_sequence")
            }
            // Fail early on an SA the data plane refuses (bad key length, …), with its message.
            do { _ = try SecurityAssociation(config) } catch { throw fail(path, "\(error)") }
            return config
        }

        func test(_ v: VJSON, _ path: String, sa: SAConfiguration, notes: [String: String], ids: inout Set<Int>)
            throws(VectorError) -> VectorCase {
            let t = try object(v, path, required: ["tcId", "comment", "flags", "direction", "sequence", "input",
                                                   "output", "dropReason", "result"],
                               optional: ["iv", "outerId", "provenance"])
            let id = Int(try integer(t["tcId"], "\(path).tcId"))
            guard ids.insert(id).inserted else { throw fail("\(path).tcId", "\(id) is used twice") }
            let here = "\(path) (tcId \(id))"
            let flags = try stringArray(t["flags"], "\(here).flags")
            for flag in flags where notes[flag] == nil {
                throw fail("\(here).flags", "flag \"\(flag)\" is not described in \"notes\"")
            }
            guard let direction = VectorDirection(rawValue: try string(t["direction"], "\(here).direction")) else {
                throw fail("\(here).direction", "must be \"inbound\" or \"outbound\"")
            }
            guard let result = VectorResult(rawValue: try string(t["result"], "\(here).result")) else {
                throw fail("\(here).result", "must be \"valid\", \"invalid\" or \"acceptable\"")
            }
            let sequence: UInt64? = t["sequence"] == .null ? nil : try integer(t["sequence"], "\(here).sequence")
            let input = try hexBytes(t["input"], "\(here).input")
            let output = try optionalHex(t["output"], "\(here).output")
            var dropReason: DropReason?
            if let text = try optionalString(t["dropReason"], "\(here).dropReason") {
                guard let r = DropReason(rawValue: text) else {
                    throw fail("\(here).dropReason", "\"\(text)\" is not a drop reason ("
                               + DropReason.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                dropReason = r
            }
            var iv: [UInt8]?
            var outerId: UInt16?
            switch direction {
            case .outbound:
                guard let s = sequence, s > 0 else { throw fail("\(here).sequence", "an outbound test needs one (≥ 1)") }
                _ = s
                iv = try hexBytes(t["iv"], "\(here).iv")
                if let id = try optionalHex(t["outerId"], "\(here).outerId") {
                    guard id.count == 2 else { throw fail("\(here).outerId", "must be 2 bytes") }
                    outerId = UInt16(id[0]) << 8 | UInt16(id[1])
                }
                guard result == .valid, output != nil, dropReason == nil else {
                    throw fail(here, "an outbound test is valid, with an output and no dropReason")
                }
            case .inbound:
                guard t["iv"] == nil, t["outerId"] == nil else {
                    throw fail(here, "iv and outerId belong to outbound tests")
                }
                switch result {
                case .valid:
                    guard output != nil, dropReason == nil else {
                        throw fail(here, "a valid inbound test has an output and no dropReason")
                    }
                case .invalid:
                    guard output == nil, dropReason != nil else {
                        throw fail(here, "an invalid inbound test has a dropReason and no output")
                    }
                case .acceptable:
                    guard output != nil || dropReason != nil else {
                        throw fail(here, "an acceptable inbound test has an output, a dropReason or both")
                    }
                }
            }
            return VectorCase(tcId: id, comment: try string(t["comment"], "\(here).comment"), flags: flags,
                              direction: direction, sequence: sequence, iv: iv, outerIdentification: outerId,
                              input: input, output: output, dropReason: dropReason, result: result,
                              provenance: try optionalString(t["provenance"], "\(here).provenance"))
        }
    }
}
