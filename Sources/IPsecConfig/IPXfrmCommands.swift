import IPsecCore
import IPsecCrypto
import IPsecWire

/// A file of `ip xfrm state` and `ip xfrm policy` commands (iproute2's `ip-xfrm(8)`), as setup scripts write them:
/// one command a line (with `\` continuations, `;`, `#` comments and shell quoting), optionally preceded by `sudo`,
/// `ip` or a path to it, and `-4`/`-6`.
///
///     ip xfrm state { add | update } src ADDR dst ADDR proto { esp | ah | comp } spi SPI [ mode MODE ] [ reqid N ]
///         [ replay-window N ] [ replay-seq N ] [ replay-oseq N ] [ replay-seq-hi N ] [ replay-oseq-hi N ]
///         [ flag FLAG… ] [ enc ALGO KEY ] [ auth ALGO KEY ] [ auth-trunc ALGO KEY BITS ] [ aead ALGO KEY ICV-BITS ]
///         [ comp deflate ] [ encap espinudp SPORT DPORT OADDR ]
///         [ sel [ src PREFIX ] [ dst PREFIX ] [ proto P [ sport N ] [ dport N ] ] [ dev DEV ] ]
///         [ limit { packet-soft | packet-hard | byte-soft | byte-hard | time-… } N … ] [ tfcpad N ]
///         [ mark … ] [ output-mark … ] [ if_id N ] [ extra-flag … ] [ ctx … ] [ dir … ] [ offload … ] [ seq N ]
///     MODE := transport | tunnel | tunnel-hc        (tunnel-hc: IPsecLab's header-compressed tunnel)
///     ip xfrm state flush [ proto P ]               (drops the SAs read so far)
///     ip xfrm policy { add | update } …             (LinuxPolicy has the grammar)
///     ip xfrm policy flush                          (drops the policies read so far)
///
/// Numbers are read as iproute2 reads them (C's base 0: `0x…` hex, `0…` octal, else decimal). `proto comp` states are
/// IPComp SAs (their SPI is the CPI; only `comp deflate`). Packet and byte limits become the SA's lifetime; values
/// that only matter to a kernel (time limits, marks, interface ids, offload) are accepted and ignored; features
/// IPsecLab lacks (BEET, other compressors, GRE-key selectors, sub policies) are refused by name.
enum IPXfrmCommands {
    /// Whether a line whose first word is `word` is a command of this format (for format detection).
    static func startsCommand(_ word: String) -> Bool {
        word == "ip" || word == "sudo" || word == "xfrm" || word.hasSuffix("/ip")
    }

    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        let commands: [ShellWords.Command]
        do { commands = try ShellWords.split(bytes) } catch { throw error.at(origin, line: nil) }
        var collection = ConfigCollection()
        for command in commands {
            var parser = CommandParser(origin: origin, words: command.words)
            switch try parser.action() {
            case .add(let draft, let replacing): try collection.add(draft, replacing: replacing)
            case .compression(let draft, let replacing): try collection.add(draft, replacing: replacing)
            case .policy(let draft, let replacing): try collection.add(draft, replacing: replacing)
            case .flush(let proto):
                collection.flushStates(esp: proto == nil || proto == "esp", ah: proto == nil || proto == "ah",
                                       comp: proto == nil || proto == "comp")
            case .flushPolicies: collection.flushPolicies()
            case .ignore: break
            }
        }
        return try collection.file(.ipXfrmCommands, origin: origin, emptyReason: "nothing is left after the file's "
            + "commands (no 'ip xfrm state add' or 'ip xfrm policy add', or flushed)")
    }

    // MARK: - Writing

    /// `ip xfrm state add` commands for the SAs and IPComp SAs, then `ip xfrm policy add` commands, one a line, keys
    /// included (commands are useless without them). Throws for what iproute2 cannot express: RFC 8750 implicit-IV
    /// transforms, AH with GMAC, ESN without a window, and policy ranges that are not one prefix or one port.
    static func encode(_ file: SAFile) throws(ConfigError) -> String {
        var out = ""
        for (i, sa) in file.associations.enumerated() {
            let w = ["ip", "xfrm", "state", "add"] + identityWords(sa) + (try settingWords(sa, index: i))
                + (try algorithmWords(sa, index: i)) + trailingWords(sa)
            out += w.joined(separator: " ") + "\n"
        }
        for c in file.compressions {
            var w = ["ip", "xfrm", "state", "add", "src", c.source.description, "dst", c.destination.description,
                     "proto", "comp", "spi", "0x" + String(c.cpi, radix: 16)]
            if c.reqid != 0 { w += ["reqid", String(c.reqid)] }
            w += ["mode", c.mode.rawValue, "comp", "deflate"]
            out += w.joined(separator: " ") + "\n"
        }
        for (i, p) in file.policies.enumerated() {
            out += (["ip", "xfrm", "policy", "add"] + (try policyWords(p, index: i))).joined(separator: " ") + "\n"
        }
        return out
    }

    static func failure(_ sa: SAConfiguration, index: Int, _ reason: String) -> ConfigError {
        ConfigError(.unsupported, origin: "ip xfrm", line: nil,
                    reason: "SA \(index + 1) (\(sa.protocol) SPI 0x\(JSONFormat.hex32(sa.spi))): \(reason)")
    }

    /// `src A dst B proto P spi S`.
    static func identityWords(_ sa: SAConfiguration) -> [String] {
        ["src", sa.source.description, "dst", sa.destination.description, "proto", sa.protocol.rawValue,
         "spi", "0x" + JSONFormat.hex32(sa.spi)]
    }

    /// `reqid`, `mode`, `replay-window`, `flag esn` and the sequence numbers.
    static func settingWords(_ sa: SAConfiguration, index: Int) throws(ConfigError) -> [String] {
        var w: [String] = []
        if sa.reqid != 0 { w += ["reqid", String(sa.reqid)] }
        w += ["mode", sa.mode.rawValue, "replay-window", String(sa.replayWindow)]
        if sa.extendedSequenceNumbers {
            guard sa.replayWindow > 0 else {
                throw failure(sa, index: index, "iproute2 refuses flag esn without a replay window")
            }
            w += ["flag", "esn"]
        }
        let sequences: [(String, UInt64)] = [
            ("replay-seq", sa.replaySequence & 0xffff_ffff), ("replay-seq-hi", sa.replaySequence >> 32),
            ("replay-oseq", sa.outboundSequence & 0xffff_ffff), ("replay-oseq-hi", sa.outboundSequence >> 32),
        ]
        for (keyword, value) in sequences where value != 0 { w += [keyword, "0x" + String(value, radix: 16)] }
        return w
    }

    /// `enc`/`aead`/`auth-trunc` with names and keys.
    static func algorithmWords(_ sa: SAConfiguration, index: Int) throws(ConfigError) -> [String] {
        var w: [String] = []
        switch sa.algorithm {
        case .esp(let a):
            guard let e = LinuxAlgorithms.name(of: a.encryption) else {
                throw failure(sa, index: index, "Linux has no \(a.encryption.keyword) (RFC 8750 implicit IV)")
            }
            w += [e.keyword, "'\(e.name)'", key(sa.encryptionKey)]
            if let bits = e.icvBits { w.append(String(bits)) }
            if a.integrity != .none {
                guard let auth = LinuxAlgorithms.name(of: a.integrity) else {
                    throw failure(sa, index: index, "Linux has no \(a.integrity.keyword) for ESP")
                }
                w += ["auth-trunc", "'\(auth.name)'", key(sa.integrityKey), String(auth.bits)]
            }
        case .ah(let a):
            guard let auth = LinuxAlgorithms.name(of: a.integrity) else {
                throw failure(sa, index: index, "Linux AH has no \(a.keyword)")
            }
            w += ["auth-trunc", "'\(auth.name)'", key(sa.integrityKey), String(auth.bits)]
        }
        return w
    }

    /// `encap`, `hc-fields`, `sel`, `limit` and `tfcpad`.
    static func trailingWords(_ sa: SAConfiguration) -> [String] {
        var w: [String] = []
        if let e = sa.encapsulation {
            let any = sa.destination.version == .v4 ? "0.0.0.0" : "::"
            w += ["encap", "espinudp", String(e.sourcePort), String(e.destinationPort), any]
        }
        if let h = sa.headerCompression { w += ["hc-fields", h.description] }
        if let s = sa.selector {
            w.append("sel")
            if let p = s.source { w += ["src", p.description] }
            if let p = s.destination { w += ["dst", p.description] }
            if let p = s.protocol { w += ["proto", TextValues.protocolName(p) ?? String(p.rawValue)] }
            if let p = s.sourcePort { w += ["sport", String(p)] }
            if let p = s.destinationPort { w += ["dport", String(p)] }
        }
        let limits: [(String, UInt64?)] = [
            ("packet-soft", sa.lifetime.softPackets), ("packet-hard", sa.lifetime.hardPackets),
            ("byte-soft", sa.lifetime.softBytes), ("byte-hard", sa.lifetime.hardBytes),
        ]
        let given = limits.compactMap { k, v in v.map { [k, String($0)] } }
        if !given.isEmpty { w += ["limit"] + given.flatMap { $0 } }
        if sa.tfcPadding != 0 { w += ["tfcpad", String(sa.tfcPadding)] }
        return w
    }

    /// `src P dst P [proto …] dir D priority N [action block] [tmpl …]…`. Linux selectors are prefixes and single
    /// ports (a port with a full mask), so ranges are refused unless they are exactly that.
    static func policyWords(_ p: SecurityPolicy, index: Int) throws(ConfigError) -> [String] {
        func fail(_ reason: String) -> ConfigError {
            ConfigError(.unsupported, origin: "ip xfrm", line: nil, reason: "policy \(index + 1) (\(p.direction)): \(reason)")
        }
        var w: [String] = []
        let s = p.selector
        for (keyword, match) in [("src", s.source), ("dst", s.destination)] {
            guard let match else { continue }
            guard case .prefix(let prefix) = match else {
                throw fail("Linux selectors take prefixes, not the range \(match)")
            }
            w += [keyword, prefix.description]
        }
        if let proto = s.protocol { w += ["proto", TextValues.protocolName(proto) ?? String(proto.rawValue)] }
        for (keyword, range) in [("sport", s.sourcePorts), ("dport", s.destinationPorts)] {
            guard let range else { continue }
            guard range.lowerBound == range.upperBound else {
                throw fail("Linux selectors take one port, not the range \(range.lowerBound)-\(range.upperBound)")
            }
            w += [keyword, String(range.lowerBound)]
        }
        if let t = s.icmpType { w += ["type", String(t)] }
        if let c = s.icmpCode { w += ["code", String(c)] }
        w += ["dir", p.direction.rawValue, "priority", String(p.priority)]
        switch p.action {
        case .bypass: break
        case .discard: w += ["action", "block"]
        case .protect(let templates):
            for t in templates {
                w.append("tmpl")
                if let a = t.source { w += ["src", a.description] }
                if let a = t.destination { w += ["dst", a.description] }
                w += ["proto", t.protocol == .ipcomp ? "comp" : t.protocol.rawValue]
                if let spi = t.spi { w += ["spi", "0x" + JSONFormat.hex32(spi)] }
                w += ["mode", t.mode.rawValue]
                if t.reqid != 0 { w += ["reqid", String(t.reqid)] }
                if t.optional { w += ["level", "use"] }
            }
        }
        return w
    }

    static func key(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "\"\"" : "0x" + TextValues.hexString(bytes)
    }
}

/// What one command asks for.
enum CommandAction {
    case add(SADraft, replacing: Bool)
    case compression(CompressionDraft, replacing: Bool)
    case policy(PolicyDraft, replacing: Bool)
    /// `ip xfrm state flush [proto P]`: nil flushes every protocol.
    case flush(String?)
    case flushPolicies
    case ignore
}

/// Reads one command, word by word, the way iproute2's `xfrm_state_modify` and `xfrm_policy_modify` do.
struct CommandParser {
    typealias Word = ShellWords.Word

    let origin: String
    let words: [Word]
    var i = 0
    /// Set by `ip -4` / `ip -6`.
    var family: IPVersion?

    init(origin: String, words: [Word]) {
        self.origin = origin
        self.words = words
    }

    func fail(_ word: Word, _ code: ConfigError.Code, _ reason: String) -> ConfigError {
        ConfigError(code, origin: origin, line: word.line, reason: reason)
    }

    /// The word after `keyword`, which must be there.
    mutating func value(after keyword: Word, _ what: String) throws(ConfigError) -> Word {
        guard i < words.count else {
            throw fail(keyword, .syntax, "\(ConfigError.shown(keyword.text)) needs \(what) after it")
        }
        i += 1
        return words[i - 1]
    }

    func place<T>(_ word: Word, _ body: () throws(Problem) -> T) throws(ConfigError) -> T {
        do { return try body() } catch { throw error.at(origin, line: word.line) }
    }

    func number(_ word: Word, maximum: UInt64, _ what: String) throws(ConfigError) -> UInt64 {
        try place(word) { () throws(Problem) in try TextValues.cInteger(word.text, maximum: maximum, what: what) }
    }

    func address(_ word: Word, _ what: String) throws(ConfigError) -> IPAddress {
        let a = try place(word) { () throws(Problem) in try TextValues.address(word.text, what: what) }
        if let family, a.version != family {
            throw fail(word, .inconsistent, "\(what) \(a) is not \(family), as 'ip -\(family == .v4 ? 4 : 6)' requires")
        }
        return a
    }

    /// Key material as iproute2 reads it: `0x` and hex digits, or else the bytes of the word itself (a string key).
    /// A bare `0x` is taken as empty, the way NULL encryption's key is usually written.
    func key(_ word: Word, _ what: String) throws(ConfigError) -> [UInt8] {
        let text = word.text
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            return try place(word) { () throws(Problem) in try TextValues.hexBytes(text, what: what) }
        }
        return Array(text.utf8)
    }

    mutating func action() throws(ConfigError) -> CommandAction {
        if let expanding = words.first(where: \.expands) {
            throw fail(expanding, .unsupported,
                       "shell expansion ($… or `…`) is not performed here; write the value itself")
        }
        guard let first = words.first else { return .ignore }
        if words[i].text == "sudo" { i += 1 }
        if i < words.count, words[i].text == "ip" || words[i].text.hasSuffix("/ip") {
            i += 1
            while i < words.count, words[i].text.hasPrefix("-") {
                switch words[i].text {
                case "-4": family = .v4
                case "-6": family = .v6
                default:
                    throw fail(words[i], .unsupported, "ip option \(ConfigError.shown(words[i].text)) is not supported "
                        + "here (only -4 and -6)")
                }
                i += 1
            }
        }
        guard i < words.count, words[i].text == "xfrm" else {
            let word = i < words.count ? words[i] : first
            throw fail(word, .syntax, "not an 'ip xfrm' command (found \(ConfigError.shown(word.text)))")
        }
        let xfrm = words[i]
        i += 1
        let object = try value(after: xfrm, "'state' or 'policy'")
        let verb = try value(after: object, "a command such as 'add'")
        switch (object.text, verb.text) {
        case ("state", "add"), ("sa", "add"), ("state", "update"), ("sa", "update"):
            let replacing = verb.text == "update"
            let parsed = try state(from: first)
            if parsed.isCompression { return .compression(try parsed.compressionDraft(), replacing: replacing) }
            return .add(try finish(parsed), replacing: replacing)
        case ("state", "flush"), ("sa", "flush"):
            var proto: String?
            if i < words.count, words[i].text == "proto" {
                let keyword = words[i]
                i += 1
                let p = try value(after: keyword, "a protocol")
                guard ["esp", "ah", "comp", "route2", "hao"].contains(p.text) else {
                    throw fail(p, .invalidValue, "\(ConfigError.shown(p.text)) is not esp, ah, comp, route2 or hao")
                }
                // Flushing Mobile IPv6 states touches none of the SAs read here.
                if p.text == "route2" || p.text == "hao" { return .ignore }
                proto = p.text
            }
            try expectEnd()
            return .flush(proto)
        case ("policy", "flush"):
            return .flushPolicies
        case ("policy", "add"), ("policy", "update"):
            return .policy(try policy(from: first), replacing: verb.text == "update")
        case ("policy", _):
            throw fail(verb, .unsupported, "'ip xfrm policy \(ConfigError.shown(verb.text))' is not read from SA "
                + "files (only add, update and flush)")
        case ("state", _), ("sa", _):
            throw fail(verb, .unsupported, "'ip xfrm state \(ConfigError.shown(verb.text))' is not read from SA files "
                + "(only add, update and flush)")
        default:
            throw fail(object, .unsupported, "'ip xfrm \(ConfigError.shown(object.text))' is not read from SA files")
        }
    }

    func expectEnd() throws(ConfigError) {
        if i < words.count {
            throw fail(words[i], .syntax, "unexpected \(ConfigError.shown(words[i].text)) at the end of the command")
        }
    }

    static let flags: Set<String> = ["noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp", "af-unspec", "align4",
                                     "esn"]
    static let extraFlags: Set<String> = ["dont-encap-dscp", "oseq-may-wrap"]
    static let limits: Set<String> = ["time-soft", "time-hard", "time-use-soft", "time-use-hard", "byte-soft",
                                      "byte-hard", "packet-soft", "packet-hard"]
    static let selectorWords: Set<String> = ["src", "dst", "dev", "proto", "sport", "dport", "type", "code", "key"]
    /// Keywords whose one value only matters to a kernel: read and ignored.
    static let ignoredWithValue: Set<String> = ["if_id", "ctx", "dir", "seq", "nat-keepalive-interval",
                                                "mtimer-thresh", "pcpu-num"]

    /// The ESN flag's word, for the check in `finish`.
    var esnWord: Word?

    func finish(_ state: LinuxState) throws(ConfigError) -> SADraft {
        var state = state
        if let esnWord {
            state.esn = true
            if (state.window?.0 ?? 0) == 0 {
                throw fail(esnWord, .inconsistent, "flag esn needs a replay-window (iproute2 refuses it too)")
            }
        }
        return try state.draft()
    }

    mutating func state(from first: Word) throws(ConfigError) -> LinuxState {
        var state = LinuxState(origin: origin, line: first.line)
        var seen: [String: Word] = [:]

        while i < words.count {
            let keyword = words[i]
            i += 1
            let k = keyword.text
            // Each keyword once: iproute2 would keep the last of two, silently.
            if Self.once.contains(k) {
                let slot = k == "auth-trunc" ? "auth" : k
                if let earlier = seen[slot] {
                    throw fail(keyword, .duplicate,
                               "'\(k)' repeats '\(earlier.text)' of line \(earlier.line); give each once")
                }
                seen[slot] = keyword
            }
            switch k {
            case "src":
                state.source = try address(try value(after: keyword, "an address"), "src")
            case "dst":
                let w = try value(after: keyword, "an address")
                state.destination = (try address(w, "dst"), w.line)
            case "proto":
                let w = try value(after: keyword, "esp, ah or comp")
                if w.text == "comp" {
                    state.compressionProtocolLine = w.line
                } else {
                    state.proto = (try place(w) { () throws(Problem) in try LinuxState.ipsecProtocol(w.text) }, w.line)
                }
            case "spi":
                let w = try value(after: keyword, "an SPI")
                state.spi = (UInt32(try number(w, maximum: UInt64(UInt32.max), "spi")), w.line)
            case "mode":
                let w = try value(after: keyword, "a mode")
                state.mode = (try place(w) { () throws(Problem) in try LinuxState.mode(w.text) }, w.line)
            case "reqid":
                state.reqid = UInt32(try number(try value(after: keyword, "a number"), maximum: UInt64(UInt32.max),
                                                "reqid"))
            case "replay-window":
                let w = try value(after: keyword, "a number")
                let n = try number(w, maximum: UInt64(UInt32.max), "replay-window")
                guard n <= UInt64(SADraft.maximumReplayWindow) else {
                    throw fail(w, .invalidValue, "replay-window \(n) is more than \(SADraft.maximumReplayWindow), "
                        + "Linux's maximum (XFRMA_REPLAY_ESN_MAX)")
                }
                state.window = (Int(n), w.line)
            case "replay-seq", "replay-seq-hi":
                let w = try value(after: keyword, "a number")
                let n = try number(w, maximum: UInt64(UInt32.max), k)
                if k == "replay-seq" { state.sequence.low = n } else { state.sequence.high = n }
                state.sequence.line = w.line
            case "replay-oseq", "replay-oseq-hi":
                let w = try value(after: keyword, "a number")
                let n = try number(w, maximum: UInt64(UInt32.max), k)
                if k == "replay-oseq" { state.outboundSequence.low = n } else { state.outboundSequence.high = n }
                state.outboundSequence.line = w.line
            case "flag":
                let w = try value(after: keyword, "a flag")
                if w.text.hasPrefix("0x") || w.text.hasPrefix("0X") {
                    let bits = try place(w) { () throws(Problem) in
                        try TextValues.prefixedHex(w.text, maximum: 0xff, what: "flag")
                    }
                    if bits & 0x80 != 0 { esnWord = w }  // XFRM_STATE_ESN
                } else {
                    guard Self.flags.contains(w.text) else {
                        throw fail(w, .invalidValue, "unknown flag \(ConfigError.shown(w.text)) (flags: "
                            + Self.flags.sorted().joined(separator: ", ") + ")")
                    }
                    var flag = w
                    while true {
                        if flag.text == "esn" { esnWord = flag }
                        guard i < words.count, Self.flags.contains(words[i].text) else { break }
                        flag = words[i]
                        i += 1
                    }
                }
            case "extra-flag":
                let w = try value(after: keyword, "a flag")
                if !(w.text.hasPrefix("0x") || w.text.hasPrefix("0X")) {
                    guard Self.extraFlags.contains(w.text) else {
                        throw fail(w, .invalidValue, "unknown extra-flag \(ConfigError.shown(w.text))")
                    }
                    while i < words.count, Self.extraFlags.contains(words[i].text) { i += 1 }
                }
            case "enc", "auth", "auth-trunc", "aead":
                let name = try value(after: keyword, "an algorithm name")
                let keyWord = try value(after: name, "a key")
                var algorithm = LinuxState.Algorithm(keyword: k, name: name.text, key: try key(keyWord, "the \(k) key"),
                                                     bits: nil, line: keyword.line)
                if k == "aead" || k == "auth-trunc" {
                    let w = try value(after: keyWord, k == "aead" ? "the ICV length in bits" : "the truncation in bits")
                    algorithm.bits = try number(w, maximum: 4096, k == "aead" ? "ICV length" : "truncation")
                }
                switch k {
                case "enc": state.enc = algorithm
                case "aead": state.aead = algorithm
                default: state.auth = algorithm
                }
            case "comp":
                let name = try value(after: keyword, "an algorithm name")
                state.compression = (name.text, keyword.line)
            case "encap":
                state.encapsulation = (try encapsulation(after: keyword), keyword.line)
            case "sel":
                state.selector = (try selector(after: keyword), keyword.line)
            case "mark", "output-mark":
                _ = try value(after: keyword, "a mark")
                if i < words.count, words[i].text == "mask" {
                    i += 1
                    _ = try value(after: words[i - 1], "a mask")
                }
            case "limit":
                var any = false
                while i < words.count, Self.limits.contains(words[i].text) {
                    let limit = words[i]
                    i += 1
                    let n = try number(try value(after: limit, "a number"), maximum: .max, limit.text)
                    // Linux's "no limit" is the largest value (XFRM_INF), which the listing prints as (INF).
                    let bound: UInt64? = n == .max ? nil : n
                    switch limit.text {
                    case "packet-soft": state.lifetime.softPackets = bound
                    case "packet-hard": state.lifetime.hardPackets = bound
                    case "byte-soft": state.lifetime.softBytes = bound
                    case "byte-hard": state.lifetime.hardBytes = bound
                    default: break  // time limits: a capture replays time, it does not live through it
                    }
                    state.lifetimeLine = limit.line
                    any = true
                }
                guard any else {
                    throw fail(keyword, .syntax, "'limit' needs one of " + Self.limits.sorted().joined(separator: ", "))
                }
            case "offload":
                // offload [ crypto | packet ] dev DEV dir DIR
                if i < words.count, words[i].text == "crypto" || words[i].text == "packet" { i += 1 }
                while i < words.count, words[i].text == "dev" || words[i].text == "dir" {
                    i += 1
                    _ = try value(after: words[i - 1], "a value")
                }
            case "coa":
                throw fail(keyword, .unsupported, "'coa' (Mobile IPv6 route optimisation) is not supported")
            case "hc-fields":
                let v = try value(after: keyword, "a preset or a list of fields")
                guard let fields = HeaderCompressionFields(parsing: v.text) else {
                    throw fail(v, .invalidValue, HeaderCompressionText.problem(v.text))
                }
                state.headerCompression = (fields, keyword.line)
            case "tfcpad":
                let w = try value(after: keyword, "a length in bytes")
                state.tfcPadding = (Int(try number(w, maximum: UInt64(UInt32.max), "tfcpad")), w.line)
            case let other where Self.ignoredWithValue.contains(other):
                _ = try value(after: keyword, "a value")
            default:
                throw fail(keyword, .unknownKey, "unknown keyword \(ConfigError.shown(k)) in 'ip xfrm state add'")
            }
        }
        return state
    }

    /// Keywords that may appear once in a command (`auth` and `auth-trunc` share one slot).
    static let once: Set<String> = [
        "src", "dst", "proto", "spi", "mode", "reqid", "replay-window", "replay-seq", "replay-oseq", "replay-seq-hi",
        "replay-oseq-hi", "enc", "auth", "auth-trunc", "aead", "sel", "encap", "comp", "tfcpad",
    ]

    /// `encap espinudp SPORT DPORT OADDR`.
    mutating func encapsulation(after keyword: Word) throws(ConfigError) -> UDPEncapsulationConfig {
        let type = try value(after: keyword, "an encapsulation type")
        switch type.text {
        case "espinudp": break
        case "espinudp-nonike":
            throw fail(type, .unsupported, "espinudp-nonike (the pre-RFC 3948 draft format) is not supported")
        case "espintcp":
            throw fail(type, .unsupported, "espintcp (ESP in TCP, RFC 8229) is not supported")
        default:
            throw fail(type, .invalidValue, "encap type \(ConfigError.shown(type.text)) is not espinudp")
        }
        let sport = try value(after: type, "the source port")
        let dport = try value(after: sport, "the destination port")
        let original = try value(after: dport, "the original address (OADDR)")
        var config = UDPEncapsulationConfig()
        config.sourcePort = UInt16(try number(sport, maximum: 65535, "encap source port"))
        config.destinationPort = UInt16(try number(dport, maximum: 65535, "encap destination port"))
        // The original address serves Linux's transport-mode checksum fix-up; it is checked, not kept.
        _ = try place(original) { () throws(Problem) in
            try TextValues.address(original.text, what: "encap original address")
        }
        return config
    }

    /// `sel [src PREFIX] [dst PREFIX] [dev DEV] [proto P [sport N] [dport N]]`. A port of 0 means any, as in Linux
    /// (it sets no port mask). The device is accepted and ignored: IPsecLab has no interfaces.
    mutating func selector(after keyword: Word) throws(ConfigError) -> TrafficSelector {
        var s = TrafficSelector()
        var seen: Set<String> = []
        while i < words.count, Self.selectorWords.contains(words[i].text) {
            let w = words[i]
            i += 1
            guard seen.insert(w.text).inserted else { throw fail(w, .duplicate, "'sel \(w.text)' is given twice") }
            let v = try value(after: w, "a value")
            switch w.text {
            case "src": s.source = try place(v) { () throws(Problem) in try TextValues.prefix(v.text, what: "sel src") }
            case "dst":
                s.destination = try place(v) { () throws(Problem) in try TextValues.prefix(v.text, what: "sel dst") }
            case "proto":
                s.protocol = try place(v) { () throws(Problem) in
                    try TextValues.ipProtocol(v.text, what: "sel proto", allowAny: true)
                }
            case "sport", "dport":
                let port = UInt16(try number(v, maximum: 65535, "sel \(w.text)"))
                if w.text == "sport" { s.sourcePort = port == 0 ? nil : port } else {
                    s.destinationPort = port == 0 ? nil : port
                }
            case "dev": break
            default:
                throw fail(w, .unsupported, "'sel \(w.text)' (ICMP type/code, GRE key) is not supported in selectors")
            }
        }
        guard !seen.isEmpty else { throw fail(keyword, .syntax, "'sel' needs src, dst, dev or proto after it") }
        if let a = s.source, let b = s.destination, a.address.version != b.address.version {
            throw fail(keyword, .inconsistent, "sel src and dst are of different families")
        }
        return s
    }
}
