import IPsecCore
import IPsecWire

/// What `ip xfrm state` (and `ip -s xfrm state`) prints: per SA, a `src ADDR dst ADDR` line at the start of a line and
/// indented lines that belong to it (iproute2's `xfrm_state_info_print`):
///
///     src 192.168.1.1 dst 192.168.1.2
///         proto esp spi 0x00001000 reqid 1 mode tunnel
///         replay-window 32 flag af-unspec esn
///         aead rfc4106(gcm(aes)) 0x0102…14 128
///         encap type espinudp sport 4500 dport 4500 addr 0.0.0.0
///         anti-replay esn context:
///          seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x5
///          replay_window 32, bitmap-length 1
///          00000000
///         sel src 0.0.0.0/0 dst 0.0.0.0/0
///
/// Read: the `proto` line (with `-s`'s decorations such as `0x1000(4096)`), `replay-window` and `flag`, the algorithm
/// lines, `encap`, the replay context in both forms (`anti-replay context: seq 0x0, oseq 0x5, bitmap 0x00000000` and
/// the ESN form, whose `replay_window` is the real window), `sel`, `comp` (IPComp states), `tfcpad` and `ip -s`'s
/// `limit:` lines (packet and byte lifetimes). Skipped: everything else iproute2 prints (time limits, statistics,
/// marks, `if_id`, `lastused`, `dir`, offload, bitmaps), whatever its version, and Linux's own IPIP states. Policies
/// (`ip xfrm policy` output, told apart by the prefixes of their first line) are read by `PolicyRecord`.
enum IPXfrmListing {
    /// Whether a line opens an SA: `src ADDR dst ADDR` at its very start.
    static func isHeader(_ line: ArraySlice<UInt8>) -> Bool {
        line.starts(with: Array("src ".utf8))
    }

    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        var collection = ConfigCollection()
        var current: Entry?
        var lineNumber = 0
        func finish(_ entry: Entry?) throws(ConfigError) {
            switch entry {
            case .state(let record)?:
                if record.skipped { return }
                if record.state.isCompression {
                    try collection.add(try record.state.compressionDraft())
                } else {
                    try collection.add(try record.state.draft())
                }
            case .policy(let record)?:
                if !record.policy.perSocket { try collection.add(try record.policy.draft()) }
            case nil:
                break
            }
        }
        for rawLine in bytes.split(separator: 0x0a, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == 0x0d { line = line.dropLast() }
            let tokens = Self.tokens(line)
            guard let first = tokens.first else { continue }
            if first.hasPrefix("#") { continue }
            let indented = line.first == 0x20 || line.first == 0x09
            if !indented {
                try finish(current)
                if tokens.count >= 4, tokens[0] == "src", tokens[2] == "dst",
                   tokens[1].contains("/") || tokens[3].contains("/")
                {
                    current = .policy(try PolicyRecord(header: tokens, line: lineNumber, origin: origin))
                } else {
                    current = .state(try Record(header: tokens, line: lineNumber, origin: origin))
                }
                continue
            }
            switch current {
            case nil:
                throw ConfigError(.syntax, origin: origin, line: lineNumber,
                                  reason: "an indented line before the first 'src ADDRESS dst ADDRESS' line")
            case .state(var record)?:
                try record.read(tokens, line: lineNumber)
                current = .state(record)
            case .policy(var record)?:
                try record.read(tokens, line: lineNumber)
                current = .policy(record)
            }
        }
        try finish(current)
        return try collection.file(.ipXfrmListing, origin: origin, emptyReason: "the listing holds no SA or policy")
    }

    private enum Entry {
        case state(Record)
        case policy(PolicyRecord)
    }

    /// One policy of an `ip xfrm policy` listing (iproute2's `xfrm_policy_info_print`):
    ///
    ///     src 10.0.0.0/24 dst 10.0.1.0/24 proto tcp dport 443
    ///         dir out priority 0 ptype main
    ///         tmpl src 192.0.2.1 dst 192.0.2.2
    ///             proto esp reqid 1 mode tunnel
    ///             level use share any
    ///
    /// Read: the selector, `dir`, `priority`, `action`, `ptype`, and the templates; skipped: marks, `if_id`, indexes,
    /// masks, lifetimes and statistics. `socket in|out` entries (per-socket policies, such as IKE daemons install)
    /// are skipped whole.
    private struct PolicyRecord {
        var policy: LinuxPolicy
        var inTemplate = false

        init(header t: [String], line: Int, origin: String) throws(ConfigError) {
            policy = LinuxPolicy(origin: origin, line: line)
            var i = 0
            while i < t.count {
                let key = t[i]
                guard LinuxPolicy.selectorKeys.contains(key), i + 1 < t.count else {
                    throw ConfigError(.syntax, origin: origin, line: line,
                                      reason: "unexpected \(ConfigError.shown(key)) in a policy's selector line")
                }
                do throws(Problem) { try LinuxPolicy.selector(key, t[i + 1], into: &policy.selector) } catch {
                    throw error.at(origin, line: line)
                }
                i += 2
            }
        }

        mutating func read(_ t: [String], line: Int) throws(ConfigError) {
            func place(_ body: () throws(Problem) -> Void) throws(ConfigError) {
                do { try body() } catch { throw error.at(policy.origin, line: line) }
            }
            switch t[0] {
            case "dir", "socket":
                if t[0] == "socket" { policy.perSocket = true }
                var i = 0
                while i + 1 < t.count {
                    let (key, value) = (t[i], t[i + 1])
                    switch key {
                    case "dir", "socket":
                        try place { () throws(Problem) in policy.direction = try LinuxPolicy.direction(value) }
                    case "priority":
                        try place { () throws(Problem) in
                            policy.priority = Int(try TextValues.cInteger(bare(value), maximum: UInt64(UInt32.max),
                                                                          what: "priority"))
                        }
                    case "action":
                        guard value == "allow" || value == "block" else {
                            throw ConfigError(.invalidValue, origin: policy.origin, line: line,
                                              reason: "action \(ConfigError.shown(value)) is not allow or block")
                        }
                        policy.block = value == "block"
                    case "ptype" where value != "main":
                        throw ConfigError(.unsupported, origin: policy.origin, line: line,
                                          reason: "ptype \(ConfigError.shown(value)) is not supported (only main)")
                    default:
                        break  // index, share, flag, …
                    }
                    i += 1
                }
            case "tmpl":
                var t2 = LinuxPolicy.defaultTemplate
                try pairs(t.dropFirst(), line: line, into: &t2)
                policy.templates.append(t2)
                inTemplate = true
            case "proto" where inTemplate, "level" where inTemplate:
                guard var last = policy.templates.popLast() else { return }
                try pairs(t[...], line: line, into: &last)
                policy.templates.append(last)
            default:
                return  // mark, if_id, lifetimes, statistics, masks
            }
        }

        func pairs(_ t: ArraySlice<String>, line: Int, into template: inout SATemplate) throws(ConfigError) {
            var i = t.startIndex
            while i + 1 < t.endIndex {
                let key = t[i]
                if LinuxPolicy.templateKeys.contains(key) {
                    do throws(Problem) {
                        try LinuxPolicy.template(key, String(bare(t[i + 1])), into: &template)
                    } catch {
                        throw error.at(policy.origin, line: line)
                    }
                }
                i += 2  // share, enc-mask, … are skipped with their values
            }
        }
    }

    /// The words of a line: split at blanks, trailing commas dropped (`seq 0x0,`), and `-s`'s parenthesised
    /// annotations (`(0x00100000)`, `(128 bits)`) left out.
    static func tokens(_ line: ArraySlice<UInt8>) -> [String] {
        var out: [String] = []
        var inParentheses = false
        for piece in line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }) {
            var word = String(decoding: piece, as: UTF8.self)
            if inParentheses || word.hasPrefix("(") {
                inParentheses = !word.hasSuffix(")")
                continue
            }
            while word.hasSuffix(",") { word.removeLast() }
            if !word.isEmpty { out.append(word) }
        }
        return out
    }

    /// A number as the listing prints it, with `-s`'s `(decimal)` or `(0x…)` glued on dropped.
    static func bare(_ token: String) -> Substring {
        token.prefix(while: { $0 != "(" })
    }

    /// One SA of the listing while its lines are read.
    private struct Record {
        var state: LinuxState
        var seen: [String: Int] = [:]
        /// Linux's own IPIP states (`proto 4`, `proto 41`), which it adds to carry IPComp tunnel packets that did
        /// not shrink (RFC 3173 §2.2): they are no SA of the configuration.
        var skipped = false

        init(header tokens: [String], line: Int, origin: String) throws(ConfigError) {
            state = LinuxState(origin: origin, line: line)
            state.sequenceLabels = (inbound: "anti-replay seq", outbound: "anti-replay oseq")
            guard tokens.count == 4, tokens[0] == "src", tokens[2] == "dst" else {
                if ["Deleted", "Updated", "Expired"].contains(tokens[0]) {
                    throw ConfigError(.unsupported, origin: origin, line: line,
                                      reason: "'ip xfrm monitor' output is not an SA listing; use 'ip xfrm state'")
                }
                throw ConfigError(.syntax, origin: origin, line: line,
                                  reason: "expected 'src ADDRESS dst ADDRESS' to start an SA, or an indented line")
            }
            do throws(Problem) {
                state.source = try TextValues.address(tokens[1], what: "src")
                state.destination = (try TextValues.address(tokens[3], what: "dst"), line)
            } catch {
                throw error.at(origin, line: line)
            }
        }

        func fail(_ line: Int, _ code: ConfigError.Code, _ reason: String) -> ConfigError {
            ConfigError(code, origin: state.origin, line: line, reason: reason)
        }

        func place<T>(_ line: Int, _ body: () throws(Problem) -> T) throws(ConfigError) -> T {
            do { return try body() } catch { throw error.at(state.origin, line: line) }
        }

        /// Lines of one kind appear once per SA.
        mutating func once(_ kind: String, _ line: Int) throws(ConfigError) {
            if let earlier = seen[kind] {
                throw fail(line, .duplicate, "a second '\(kind)' line in one SA (the first is line \(earlier))")
            }
            seen[kind] = line
        }

        func number(_ token: String, _ line: Int, _ what: String, maximum: UInt64 = UInt64(UInt32.max))
            throws(ConfigError) -> UInt64
        {
            try place(line) { () throws(Problem) in try TextValues.cInteger(bare(token), maximum: maximum, what: what) }
        }

        /// `key value` pairs; `handle` returns false for a key it does not know.
        func pairs(_ tokens: ArraySlice<String>, _ line: Int, _ what: String,
                   _ handle: (String, String) throws(ConfigError) -> Bool) throws(ConfigError) {
            var i = tokens.startIndex
            while i < tokens.endIndex {
                let key = tokens[i]
                guard i + 1 < tokens.endIndex else {
                    throw fail(line, .syntax, "\(ConfigError.shown(key)) has no value in the \(what) line")
                }
                guard try handle(key, tokens[i + 1]) else {
                    throw fail(line, .syntax, "unexpected \(ConfigError.shown(key)) in the \(what) line")
                }
                i += 2
            }
        }

        mutating func read(_ t: [String], line: Int) throws(ConfigError) {
            switch t[0] {
            case "proto":
                try once("proto", line)
                try pairs(t[...], line, "proto") { key, value throws(ConfigError) in
                    switch key {
                    case "proto" where value == "comp":
                        state.compressionProtocolLine = line
                    case "proto" where ["4", "41"].contains(value):
                        skipped = true
                    case "proto":
                        state.proto = (try place(line) { () throws(Problem) in try LinuxState.ipsecProtocol(value) },
                                       line)
                    case "spi": state.spi = (UInt32(try number(value, line, "spi")), line)
                    case "reqid": state.reqid = UInt32(try number(value, line, "reqid"))
                    case "mode":
                        state.mode = (try place(line) { () throws(Problem) in try LinuxState.mode(value) }, line)
                    default: return false
                    }
                    return true
                }
            case "replay-window" where t.contains("replay") && t.contains("failed"):
                return  // the statistics of `ip -s`: replay-window N replay N failed N
            case "replay-window":
                try once("replay-window", line)
                guard t.count >= 2 else { throw fail(line, .syntax, "'replay-window' has no value") }
                let n = try number(t[1], line, "replay-window", maximum: UInt64(SADraft.maximumReplayWindow))
                state.window = (Int(n), line)
                var rest = t[2...]
                if rest.first == "seq" { rest = rest.dropFirst(2) }  // the acquire sequence of `-s`, not replay state
                if rest.first == "flag" { readFlags(rest.dropFirst()) } else if let extra = rest.first {
                    throw fail(line, .syntax, "unexpected \(ConfigError.shown(extra)) in the replay-window line")
                }
            case "flag":
                try once("flag", line)
                readFlags(t.dropFirst())
            case "enc", "auth", "auth-trunc", "aead":
                try once(t[0] == "auth-trunc" ? "auth" : t[0], line)
                try readAlgorithm(t, line: line)
            case "comp":
                try once("comp", line)
                guard t.count == 2 else { throw fail(line, .syntax, "expected 'comp NAME'") }
                state.compression = (t[1], line)
            case "tfcpad":
                try once("tfcpad", line)
                guard t.count == 2 else { throw fail(line, .syntax, "expected 'tfcpad N'") }
                state.tfcPadding = (Int(try number(t[1], line, "tfcpad")), line)
            case "limit:":
                // `ip -s`: "limit: soft 100(packets), hard (INF)(packets)"; (INF), no limit, is left out by tokens().
                var i = 1
                while i < t.count {
                    let which = t[i]
                    i += 1
                    guard which == "soft" || which == "hard", i < t.count, t[i] != "soft", t[i] != "hard" else {
                        continue
                    }
                    let token = t[i]
                    i += 1
                    let n = try number(token, line, "limit", maximum: .max)
                    let bound: UInt64? = n == .max ? nil : n
                    switch (which, token.hasSuffix("(packets)")) {
                    case ("soft", true): state.lifetime.softPackets = bound
                    case ("hard", true): state.lifetime.hardPackets = bound
                    case ("soft", false): state.lifetime.softBytes = bound
                    default: state.lifetime.hardBytes = bound
                    }
                    state.lifetimeLine = line
                }
            case "encap":
                try once("encap", line)
                var config = UDPEncapsulationConfig()
                try pairs(t.dropFirst(), line, "encap") { key, value throws(ConfigError) in
                    switch key {
                    case "type":
                        guard value == "espinudp" else {
                            throw fail(line, .unsupported, "encapsulation \(ConfigError.shown(value)) is not supported "
                                + "(only espinudp, RFC 3948)")
                        }
                    case "sport": config.sourcePort = UInt16(try number(value, line, "encap sport", maximum: 65535))
                    case "dport": config.destinationPort = UInt16(try number(value, line, "encap dport", maximum: 65535))
                    case "addr": break
                    default: return false
                    }
                    return true
                }
                state.encapsulation = (config, line)
            case "anti-replay":
                // "anti-replay context: seq …" or "anti-replay esn context:" with its fields here or on the next lines.
                try once("anti-replay", line)
                var rest = t.dropFirst()
                if rest.first == "esn" { rest = rest.dropFirst() }
                guard rest.first == "context:" else { throw fail(line, .syntax, "expected 'anti-replay context:'") }
                try readReplay(rest.dropFirst(), line: line)
            case "seq-hi", "seq", "oseq-hi", "oseq", "replay_window":
                guard seen["anti-replay"] != nil else {
                    throw fail(line, .syntax, "\(ConfigError.shown(t[0])) outside an 'anti-replay' context")
                }
                try readReplay(t[...], line: line)
            case "sel":
                try once("sel", line)
                state.selector = (try readSelector(t.dropFirst(), line: line), line)
            default:
                return  // lifetimes, statistics, marks, if_id, lastused, dir, offload, bitmap words, …
            }
        }

        /// Flag names, and the hex that iproute2 prints for bits it has no name for (older versions print ESN so).
        mutating func readFlags(_ flags: ArraySlice<String>) {
            for flag in flags {
                if flag == "esn" {
                    state.esn = true
                } else if let bits = try? TextValues.cInteger("0x" + flag, maximum: UInt64(UInt32.max), what: "flag"),
                          bits & 0x80 != 0 {
                    state.esn = true  // XFRM_STATE_ESN
                }
            }
        }

        mutating func readAlgorithm(_ t: [String], line: Int) throws(ConfigError) {
            let needsBits = t[0] == "aead" || t[0] == "auth-trunc"
            if t.count >= 3, !t[2].hasPrefix("0x") {
                throw fail(line, .missing, "the listing shows no key for \(ConfigError.shown(t[1])) (were keys hidden?); "
                    + "list the SAs with their keys")
            }
            guard t.count == (needsBits ? 4 : 3) else {
                throw fail(line, .syntax, "expected '\(t[0]) NAME KEY\(needsBits ? " BITS" : "")'")
            }
            var algorithm = LinuxState.Algorithm(
                keyword: t[0], name: t[1],
                key: try place(line) { () throws(Problem) in try TextValues.hexBytes(t[2], what: "the \(t[0]) key") },
                bits: nil, line: line)
            if needsBits { algorithm.bits = try number(t[3], line, t[0] == "aead" ? "ICV length" : "truncation") }
            switch t[0] {
            case "enc": state.enc = algorithm
            case "aead": state.aead = algorithm
            default: state.auth = algorithm
            }
        }

        mutating func readReplay(_ t: ArraySlice<String>, line: Int) throws(ConfigError) {
            try pairs(t, line, "anti-replay") { key, value throws(ConfigError) in
                switch key {
                case "seq": state.sequence.low = try number(value, line, "seq"); state.sequence.line = line
                case "seq-hi": state.sequence.high = try number(value, line, "seq-hi"); state.sequence.line = line
                case "oseq":
                    state.outboundSequence.low = try number(value, line, "oseq")
                    state.outboundSequence.line = line
                case "oseq-hi":
                    state.outboundSequence.high = try number(value, line, "oseq-hi")
                    state.outboundSequence.line = line
                case "replay_window":
                    // With ESN (or a window over 32) the window lives here; the replay-window line then shows 0.
                    let n = try number(value, line, "replay_window", maximum: UInt64(SADraft.maximumReplayWindow))
                    state.window = (Int(n), line)
                case "bitmap", "bitmap-length": break
                default: return false
                }
                return true
            }
        }

        func readSelector(_ t: ArraySlice<String>, line: Int) throws(ConfigError) -> TrafficSelector {
            var s = TrafficSelector()
            try pairs(t, line, "sel") { key, value throws(ConfigError) in
                switch key {
                case "src": s.source = try place(line) { () throws(Problem) in try TextValues.prefix(value, what: "sel src") }
                case "dst":
                    s.destination = try place(line) { () throws(Problem) in try TextValues.prefix(value, what: "sel dst") }
                case "proto":
                    s.protocol = try place(line) { () throws(Problem) in
                        try TextValues.ipProtocol(value, what: "sel proto", allowAny: true)
                    }
                case "sport":
                    let port = UInt16(try number(value, line, "sel sport", maximum: 65535))
                    s.sourcePort = port == 0 ? nil : port
                case "dport":
                    let port = UInt16(try number(value, line, "sel dport", maximum: 65535))
                    s.destinationPort = port == 0 ? nil : port
                case "type", "code", "key":
                    throw fail(line, .unsupported, "'sel \(key)' (ICMP type/code, GRE key) is not supported in selectors")
                case "dev", "uid": break
                default: return false
                }
                return true
            }
            if let a = s.source, let b = s.destination, a.address.version != b.address.version {
                throw fail(line, .inconsistent, "sel src and dst are of different families")
            }
            return s
        }
    }
}
