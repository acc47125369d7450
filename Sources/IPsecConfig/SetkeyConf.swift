import IPsecCore
import IPsecWire

/// setkey.conf, the file `setkey -f` reads (ipsec-tools/KAME, `setkey(8)`), as the classic Linux IPsec how-tos write
/// it: statements end with `;` and may span lines; `#` starts a comment.
///
///     flush [ esp | ah | ipcomp … ] ;                  spdflush ;
///     add [ -4 | -6 | -n ] SRC DST PROTOCOL SPI [ EXTENSIONS ] ALGORITHMS ;        (update: replaces)
///     spdadd [ -4 | -6 | -n ] SRC-RANGE DST-RANGE UPPERSPEC POLICY ;              (spdupdate: replaces)
///     PROTOCOL   := esp | esp-udp | ah | ipcomp           (ipcomp: the SPI is the CPI)
///     EXTENSIONS := -m transport|tunnel|any  -r WINDOW  -u REQID  -f PAD-OPTION  -lh|-ls SECONDS  -bh|-bs BYTES
///     ALGORITHMS := -E EALGO KEY [ -A AALGO KEY ]  |  -A AALGO KEY  |  -C deflate [ -R ]
///     KEY        := 0xHEX | "string"
///     SRC-RANGE  := ADDRESS[/PREFIXLEN][[PORT|any]]
///     UPPERSPEC  := any | tcp | udp | icmp | icmp6 [ TYPE[,CODE] ] | NAME | NUMBER
///     POLICY     := -P in|out|fwd [ prio N | priority N ] { none | discard | ipsec REQUEST… }
///     REQUEST    := esp|ah|ipcomp / transport|tunnel / [ SRC-DST ] / [ default | use | require | unique[:N] ]
///
/// The algorithm names are ipsec-tools' (its `pfkey_dump.c` and `token.l`), mapped to what Linux makes of the PF_KEY
/// algorithm each stands for (net/key/af_key.c looks them up in net/xfrm/xfrm_algo.c by `sadb_alg_id`), so that a
/// file means here what it means to a Linux kernel; docs/sa-files.md has the table. In particular `hmac-sha256` is
/// HMAC-SHA-256 truncated to 96 bits (the table's `icv_truncbits` for SADB_X_AALG_SHA2_256HMAC), not RFC 4868's 128.
/// Likewise Linux's PF_KEY defaults: `-m any` and no `-m` are transport mode, no `-r` is no replay window, and a
/// policy without `prio` has ipsec-tools' default priority 0x80000000.
enum SetkeyConf {
    /// Statements that may start a setkey.conf (for format detection).
    static let verbs: Set<String> = [
        "add", "update", "spdadd", "spdupdate", "flush", "spdflush", "delete", "deleteall", "get", "dump", "spddelete",
        "spddump",
    ]

    static func startsStatement(_ word: String) -> Bool {
        verbs.contains(word.hasSuffix(";") ? String(word.dropLast()) : word)
    }

    /// ipsec-tools' default policy priority (`PRIORITY_DEFAULT` of libipsec/policy_parse.y); `prio low` and
    /// `prio high` are a quarter of the range away on either side.
    static let defaultPriority = 0x8000_0000

    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        let statements = try split(bytes, origin: origin)
        var collection = ConfigCollection()
        for statement in statements {
            var parser = StatementParser(origin: origin, tokens: statement)
            try parser.apply(to: &collection)
        }
        return try collection.file(.setkey, origin: origin,
                                   emptyReason: "nothing is left after the file's statements (no add or spdadd, or flushed)")
    }

    struct Token {
        var text: String
        var line: Int
        /// Written in double quotes (a string key).
        var quoted: Bool
    }

    /// The statements of a file: tokens up to each `;`.
    static func split(_ bytes: [UInt8], origin: String) throws(ConfigError) -> [[Token]] {
        var statements: [[Token]] = []
        var tokens: [Token] = []
        var current: [UInt8] = []
        var line = 1
        var tokenLine = 1
        var i = 0
        func endToken() {
            if !current.isEmpty {
                tokens.append(Token(text: String(decoding: current, as: UTF8.self), line: tokenLine, quoted: false))
                current.removeAll()
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 0x20, 0x09, 0x0d:
                endToken()
            case 0x0a:
                endToken()
                line += 1
            case UInt8(ascii: "#"):
                endToken()
                while i < bytes.count, bytes[i] != 0x0a { i += 1 }
                continue
            case UInt8(ascii: ";"):
                endToken()
                if !tokens.isEmpty { statements.append(tokens) }
                tokens = []
            case UInt8(ascii: "\""):
                endToken()
                let opened = line
                var text: [UInt8] = []
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == 0x0a { line += 1 }
                    text.append(bytes[i])
                    i += 1
                }
                guard i < bytes.count else {
                    throw ConfigError(.syntax, origin: origin, line: opened,
                                      reason: "the double quote opened on line \(opened) is never closed")
                }
                tokens.append(Token(text: String(decoding: text, as: UTF8.self), line: opened, quoted: true))
            default:
                if current.isEmpty { tokenLine = line }
                current.append(b)
            }
            i += 1
        }
        endToken()
        if let first = tokens.first {
            throw ConfigError(.syntax, origin: origin, line: first.line,
                              reason: "the statement starting here does not end with ';'")
        }
        return statements
    }
}

/// Reads one statement.
private struct StatementParser {
    typealias Token = SetkeyConf.Token

    let origin: String
    let tokens: [Token]
    var i = 0

    init(origin: String, tokens: [Token]) {
        self.origin = origin
        self.tokens = tokens
    }

    func fail(_ token: Token, _ code: ConfigError.Code, _ reason: String) -> ConfigError {
        ConfigError(code, origin: origin, line: token.line, reason: reason)
    }

    func place<T>(_ token: Token, _ body: () throws(Problem) -> T) throws(ConfigError) -> T {
        do { return try body() } catch { throw error.at(origin, line: token.line) }
    }

    mutating func next(after token: Token, _ what: String) throws(ConfigError) -> Token {
        guard i < tokens.count else {
            throw fail(token, .syntax, "\(ConfigError.shown(token.text)) needs \(what) after it")
        }
        i += 1
        return tokens[i - 1]
    }

    /// setkey's numbers: `0x` and hex digits, or decimal digits (its lexer has no octal).
    func number(_ token: Token, maximum: UInt64, _ what: String) throws(ConfigError) -> UInt64 {
        try place(token) { () throws(Problem) in
            token.text.lowercased().hasPrefix("0x")
                ? try TextValues.prefixedHex(token.text, maximum: maximum, what: what)
                : try TextValues.decimal(token.text, maximum: maximum, what: what)
        }
    }

    mutating func apply(to collection: inout ConfigCollection) throws(ConfigError) {
        let verb = tokens[0]
        i = 1
        switch verb.text {
        case "flush":
            var esp = tokens.count == 1, ah = tokens.count == 1, comp = tokens.count == 1
            for t in tokens.dropFirst() {
                switch t.text {
                case "esp", "esp-udp": esp = true
                case "ah": ah = true
                case "ipcomp": comp = true
                case "tcp": break
                default: throw fail(t, .invalidValue, "flush \(ConfigError.shown(t.text)): not esp, ah or ipcomp")
                }
            }
            collection.flushStates(esp: esp, ah: ah, comp: comp)
        case "spdflush":
            if tokens.count > 1 { throw fail(tokens[1], .syntax, "spdflush takes nothing after it") }
            collection.flushPolicies()
        case "add", "update":
            let state = try association(verb)
            if state.isCompression {
                try collection.add(try state.compressionDraft(), replacing: verb.text == "update")
            } else {
                try collection.add(try state.draft(), replacing: verb.text == "update")
            }
        case "spdadd", "spdupdate":
            try collection.add(try policy(verb), replacing: verb.text == "spdupdate")
        default:
            throw fail(verb, .unsupported, "'\(ConfigError.shown(verb.text).dropFirst().dropLast())' is not read from "
                + "SA files (only flush, spdflush, add, update, spdadd and spdupdate)")
        }
    }

    mutating func skipFamilyOptions() throws(ConfigError) {
        while i < tokens.count, ["-4", "-6", "-n"].contains(tokens[i].text) { i += 1 }
    }

    /// `ADDRESS[PORT]` of `add` (ports only for esp-udp).
    func endpoint(_ token: Token, _ what: String) throws(ConfigError) -> (IPAddress, UInt16?) {
        var text = Substring(token.text)
        var port: UInt16?
        if let open = text.firstIndex(of: "["), text.hasSuffix("]") {
            let p = text[text.index(after: open)..<text.index(before: text.endIndex)]
            port = UInt16(try place(token) { () throws(Problem) in
                try TextValues.decimal(p, maximum: 65535, what: "\(what) port")
            })
            text = text[..<open]
        }
        let address = try place(token) { () throws(Problem) in try TextValues.address(text, what: what) }
        return (address, port)
    }

    // MARK: - add

    mutating func association(_ verb: Token) throws(ConfigError) -> LinuxState {
        try skipFamilyOptions()
        let srcToken = try next(after: verb, "the source address")
        let dstToken = try next(after: srcToken, "the destination address")
        let protoToken = try next(after: dstToken, "a protocol (esp, ah or ipcomp)")
        let spiToken = try next(after: protoToken, "an SPI")
        var state = LinuxState(origin: origin, line: verb.line)
        let (source, sourcePort) = try endpoint(srcToken, "source")
        let (destination, destinationPort) = try endpoint(dstToken, "destination")
        state.source = source
        state.destination = (destination, dstToken.line)
        switch protoToken.text {
        case "esp": state.proto = (.esp, protoToken.line)
        case "esp-udp":
            state.proto = (.esp, protoToken.line)
            state.encapsulation = (UDPEncapsulationConfig(sourcePort: sourcePort ?? UDPEncapsulation.port,
                                                          destinationPort: destinationPort ?? UDPEncapsulation.port),
                                   protoToken.line)
        case "ah": state.proto = (.ah, protoToken.line)
        case "ipcomp": state.compressionProtocolLine = protoToken.line
        case "esp-old", "ah-old":
            throw fail(protoToken, .unsupported, "\(protoToken.text) (the RFC 1827/1826 formats) is not supported")
        case "tcp":
            throw fail(protoToken, .unsupported, "tcp (TCP-MD5 signatures, RFC 2385) is not IPsec")
        default:
            throw fail(protoToken, .invalidValue, "protocol \(ConfigError.shown(protoToken.text)) is not esp, ah or ipcomp")
        }
        if protoToken.text != "esp-udp", sourcePort != nil || destinationPort != nil {
            throw fail(srcToken, .inconsistent, "ports on an SA's addresses belong to esp-udp (NAT traversal)")
        }
        state.spi = (UInt32(try number(spiToken, maximum: UInt64(UInt32.max), "spi")), spiToken.line)

        var seen: [String: Token] = [:]
        while i < tokens.count {
            let option = tokens[i]
            i += 1
            if let earlier = seen[option.text] {
                throw fail(option, .duplicate, "'\(option.text)' repeats the one of line \(earlier.line)")
            }
            seen[option.text] = option
            switch option.text {
            case "-m":
                let t = try next(after: option, "a mode")
                switch t.text {
                case "transport", "any": state.mode = (.transport, t.line)  // Linux: IPSEC_MODE_ANY is transport
                case "tunnel": state.mode = (.tunnel, t.line)
                default: throw fail(t, .invalidValue, "mode \(ConfigError.shown(t.text)) is not transport, tunnel or any")
                }
            case "-r":
                let t = try next(after: option, "a window size")
                state.window = (Int(try number(t, maximum: UInt64(SADraft.maximumReplayWindow), "-r")), t.line)
            case "-u":
                state.reqid = UInt32(try number(try next(after: option, "a reqid"), maximum: UInt64(UInt32.max), "-u"))
            case "-f":
                let t = try next(after: option, "a pad option")
                guard ["zero-pad", "random-pad", "seq-pad", "nocyclic-seq"].contains(t.text) else {
                    throw fail(t, .invalidValue, "-f \(ConfigError.shown(t.text)) is not zero-pad, random-pad, seq-pad "
                        + "or nocyclic-seq")
                }
            case "-lh", "-ls":
                // Time limits only matter to a kernel's clock; a capture replays time, it does not live through it.
                _ = try number(try next(after: option, "seconds"), maximum: .max, option.text)
            case "-bh", "-bs":
                let t = try next(after: option, "a number of bytes")
                let n = try number(t, maximum: .max, option.text)
                if option.text == "-bh" { state.lifetime.hardBytes = n } else { state.lifetime.softBytes = n }
                state.lifetimeLine = t.line
            case "-E":
                let name = try next(after: option, "an encryption algorithm")
                let key = try optionalKey(after: name, allowedEmpty: name.text == "null")
                try encryption(name, key: key, option: option, into: &state)
            case "-A":
                let name = try next(after: option, "an authentication algorithm")
                let key = try optionalKey(after: name, allowedEmpty: name.text == "null")
                try authentication(name, key: key, option: option, into: &state)
            case "-C":
                let name = try next(after: option, "a compression algorithm")
                state.compression = (name.text, name.line)
                if i < tokens.count, tokens[i].text == "-R" { i += 1 }  // use the CPI as given
            default:
                throw fail(option, .unknownKey, "unknown option \(ConfigError.shown(option.text)) in 'add'")
            }
        }
        if state.isCompression, state.compression == nil {
            throw fail(protoToken, .missing, "an ipcomp SA needs '-C deflate'")
        }
        return state
    }

    /// A key after an algorithm name: `0x` and hex digits, or a quoted string. `null` takes none (setkey's
    /// ALG_ENC_NOKEY), though an empty one is accepted.
    mutating func optionalKey(after name: Token, allowedEmpty: Bool) throws(ConfigError) -> [UInt8] {
        guard i < tokens.count, tokens[i].quoted || tokens[i].text.lowercased().hasPrefix("0x") else {
            if allowedEmpty { return [] }
            throw fail(name, .missing, "\(ConfigError.shown(name.text)) needs a key (0x and hex digits, or \"a string\")")
        }
        let t = tokens[i]
        i += 1
        if t.quoted { return Array(t.text.utf8) }
        return try place(t) { () throws(Problem) in try TextValues.hexBytes(t.text, what: "the \(name.text) key") }
    }

    /// ipsec-tools' `-E` names, as the Linux transform each PF_KEY algorithm stands for.
    func encryption(_ name: Token, key: [UInt8], option: Token, into state: inout LinuxState) throws(ConfigError) {
        var algorithm = LinuxState.Algorithm(keyword: "-E \(name.text)", name: "", key: key, bits: nil, line: option.line)
        switch name.text.lowercased() {
        case "aes-cbc", "rijndael-cbc": algorithm.name = "cbc(aes)"
        case "aes-ctr": algorithm.name = "rfc3686(ctr(aes))"
        case "3des-cbc": algorithm.name = "cbc(des3_ede)"
        case "null": algorithm.name = "ecb(cipher_null)"
        case "aes-gcm-16":
            algorithm.name = "rfc4106(gcm(aes))"
            algorithm.bits = 128
            state.aead = algorithm
            return
        case "aes-gcm-8", "aes-gcm-12":
            throw fail(name, .unknownAlgorithm, "ipsec-tools names only aes-gcm-16 (SADB_X_EALG_AESGCM16); for a shorter "
                + "ICV write the SA as 'ip xfrm state … aead rfc4106(gcm(aes)) KEY 64|96'")
        case "des-cbc", "blowfish-cbc", "cast128-cbc", "twofish-cbc", "camellia-cbc", "des-deriv", "des-32iv", "simple":
            throw fail(name, .unsupported, "\(name.text) is an ipsec-tools cipher that IPsecLab does not implement")
        default:
            throw fail(name, .unknownAlgorithm, "unknown encryption algorithm \(ConfigError.shown(name.text)) "
                + "(ipsec-tools names: aes-cbc, rijndael-cbc, aes-ctr, aes-gcm-16, 3des-cbc, null)")
        }
        state.enc = algorithm
    }

    /// ipsec-tools' `-A` names. `hmac-sha256` gets Linux's default truncation for SADB_X_AALG_SHA2_256HMAC: 96 bits.
    func authentication(_ name: Token, key: [UInt8], option: Token, into state: inout LinuxState) throws(ConfigError) {
        let linux: String
        switch name.text.lowercased() {
        case "hmac-md5": linux = "hmac(md5)"
        case "hmac-sha1": linux = "hmac(sha1)"
        case "hmac-sha256": linux = "hmac(sha256)"
        case "hmac-sha384": linux = "hmac(sha384)"
        case "hmac-sha512": linux = "hmac(sha512)"
        case "aes-xcbc-mac": linux = "xcbc(aes)"
        case "null":
            guard key.isEmpty else { throw fail(name, .badKeyLength, "-A null takes no key") }
            return  // ESP without integrity; AH is then refused for having none
        case "keyed-md5", "keyed-sha1", "hmac-ripemd160", "tcp-md5", "aes-cmac":
            throw fail(name, .unsupported, "\(name.text) is an ipsec-tools algorithm that IPsecLab does not implement")
        default:
            throw fail(name, .unknownAlgorithm, "unknown authentication algorithm \(ConfigError.shown(name.text)) "
                + "(ipsec-tools names: hmac-md5, hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512, aes-xcbc-mac, null)")
        }
        state.auth = LinuxState.Algorithm(keyword: "-A \(name.text)", name: linux, key: key, bits: nil, line: option.line)
    }

    // MARK: - spdadd

    mutating func policy(_ verb: Token) throws(ConfigError) -> PolicyDraft {
        try skipFamilyOptions()
        let srcToken = try next(after: verb, "the source range")
        let dstToken = try next(after: srcToken, "the destination range")
        let upperToken = try next(after: dstToken, "an upper-layer protocol (any, tcp, udp, icmp6, …)")
        var selector = PolicySelector()
        let (source, sourcePorts) = try range(srcToken, "source")
        let (destination, destinationPorts) = try range(dstToken, "destination")
        selector.source = source
        selector.destination = destination
        selector.sourcePorts = sourcePorts
        selector.destinationPorts = destinationPorts
        selector.protocol = try place(upperToken) { () throws(Problem) in
            upperToken.text == "icmp6" ? IPProtocol(58)
                : try TextValues.ipProtocol(upperToken.text, what: "upper-layer protocol", allowAny: true)
        }
        // `icmp6 TYPE[,CODE]` (setkey(8): "a type is separated with a code by single comma").
        if i < tokens.count, tokens[i].text != "-P", let p = selector.protocol, p.rawValue == 1 || p.rawValue == 58 {
            let t = tokens[i]
            i += 1
            let parts = t.text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail(t, .syntax, "expected TYPE or TYPE,CODE after \(upperToken.text)") }
            selector.icmpType = UInt8(try place(t) { () throws(Problem) in
                try TextValues.decimal(parts[0], maximum: 255, what: "ICMP type")
            })
            if parts.count == 2 {
                selector.icmpCode = UInt8(try place(t) { () throws(Problem) in
                    try TextValues.decimal(parts[1], maximum: 255, what: "ICMP code")
                })
            }
        }
        if i < tokens.count, tokens[i].text == "-ctx" {
            throw fail(tokens[i], .unsupported, "security contexts (-ctx) are not supported")
        }
        guard i < tokens.count, tokens[i].text == "-P" else {
            let t = i < tokens.count ? tokens[i] : upperToken
            throw fail(t, .syntax, "expected '-P in|out|fwd POLICY' after the selector")
        }
        let p = tokens[i]
        i += 1
        let directionToken = try next(after: p, "in, out or fwd")
        let direction = try place(directionToken) { () throws(Problem) in try LinuxPolicy.direction(directionToken.text) }
        var draft = PolicyDraft(origin: origin, line: verb.line, direction: direction)
        draft.selector = selector
        draft.priority = SetkeyConf.defaultPriority
        var actionToken = try next(after: directionToken, "none, discard or ipsec")
        if actionToken.text == "prio" || actionToken.text == "priority" {
            draft.priority = try priority(try next(after: actionToken, "a priority"))
            actionToken = try next(after: actionToken, "none, discard or ipsec")
        }
        switch actionToken.text {
        case "none", "bypass": draft.action = .bypass
        case "discard": draft.action = .discard
        case "ipsec":
            var templates: [SATemplate] = []
            while i < tokens.count {
                templates.append(try request(tokens[i]))
                i += 1
            }
            guard !templates.isEmpty else {
                throw fail(actionToken, .missing, "'ipsec' needs at least one request such as esp/transport//require")
            }
            draft.action = .protect(templates)
        case "entrust":
            throw fail(actionToken, .unsupported, "'entrust' (consult the SPD) only means something on a socket policy")
        case "default":
            throw fail(actionToken, .unsupported, "'default' (the system-wide policy) is not a policy of this file")
        default:
            throw fail(actionToken, .invalidValue, "policy \(ConfigError.shown(actionToken.text)) is not none, discard or ipsec")
        }
        if actionToken.text != "ipsec", i < tokens.count {
            throw fail(tokens[i], .syntax, "unexpected \(ConfigError.shown(tokens[i].text)) after '\(actionToken.text)'")
        }
        return draft
    }

    /// `N`, or ipsec-tools' `def`, `low`, `high` with an optional `+N`/`-N` offset.
    func priority(_ token: Token) throws(ConfigError) -> Int {
        let text = token.text
        for (name, base) in [("def", SetkeyConf.defaultPriority), ("low", 0xC000_0000), ("high", 0x4000_0000)]
        where text.hasPrefix(name) {
            let rest = text.dropFirst(name.count)
            guard let sign = rest.first else { return base }
            guard sign == "+" || sign == "-" else { break }
            let offset = Int(try place(token) { () throws(Problem) in
                try TextValues.decimal(rest.dropFirst(), maximum: 0x3FFF_FFFF, what: "priority offset")
            })
            return sign == "+" ? base + offset : base - offset
        }
        return Int(try number(token, maximum: UInt64(UInt32.max), "priority"))
    }

    /// `ADDRESS[/PREFIXLEN][[PORT]]`; `[any]` is any port. A bare address is a host (/32, /128).
    func range(_ token: Token, _ what: String) throws(ConfigError) -> (AddressMatch, ClosedRange<UInt16>?) {
        var text = Substring(token.text)
        var ports: ClosedRange<UInt16>?
        if let open = text.firstIndex(of: "["), text.hasSuffix("]") {
            let p = text[text.index(after: open)..<text.index(before: text.endIndex)]
            if p != "any" {
                let port = UInt16(try place(token) { () throws(Problem) in
                    try TextValues.decimal(p, maximum: 65535, what: "\(what) port")
                })
                ports = port == 0 ? nil : port...port
            }
            text = text[..<open]
        }
        let prefix = try place(token) { () throws(Problem) in try TextValues.prefix(text, what: what) }
        return (.prefix(prefix), ports)
    }

    /// `PROTOCOL/MODE/SRC-DST/LEVEL` (setkey(8)'s request): the endpoints are left empty in transport mode.
    func request(_ token: Token) throws(ConfigError) -> SATemplate {
        let parts = token.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4 else {
            throw fail(token, .syntax, "expected a request PROTOCOL/MODE/SRC-DST/LEVEL, such as esp/tunnel/A-B/require")
        }
        let proto: SATemplate.TemplateProtocol
        switch parts[0] {
        case "esp": proto = .esp
        case "ah": proto = .ah
        case "ipcomp": proto = .ipcomp
        default: throw fail(token, .invalidValue, "request protocol \(ConfigError.shown(parts[0])) is not esp, ah or ipcomp")
        }
        let mode: SAMode
        switch parts[1] {
        case "transport": mode = .transport
        case "tunnel": mode = .tunnel
        default: throw fail(token, .invalidValue, "request mode \(ConfigError.shown(parts[1])) is not transport or tunnel")
        }
        var template = SATemplate(protocol: proto, mode: mode)
        if !parts[2].isEmpty {
            let ends = parts[2].split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 2 else { throw fail(token, .syntax, "request endpoints are written SRC-DST") }
            try place(token) { () throws(Problem) in
                template.source = try TextValues.address(ends[0], what: "request source")
                template.destination = try TextValues.address(ends[1], what: "request destination")
            }
        }
        let level = parts.count == 4 ? parts[3] : "default"
        switch level {
        case "default", "require", "": break
        case "use": template.optional = true
        case "unique": break  // a reqid the kernel picks
        case _ where level.hasPrefix("unique:"):
            template.reqid = UInt32(try place(token) { () throws(Problem) in
                try TextValues.decimal(level.dropFirst(7), maximum: UInt64(UInt32.max), what: "unique reqid")
            })
        default:
            throw fail(token, .invalidValue, "request level \(ConfigError.shown(level)) is not default, use, require or unique")
        }
        return template
    }
}
