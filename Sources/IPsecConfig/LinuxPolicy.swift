import IPsecCore
import IPsecWire

/// One policy as iproute2 states it, in an `ip xfrm policy add` command or an `ip xfrm policy` listing
/// (`ip-xfrm(8)`):
///
///     ip xfrm policy { add | update } SELECTOR dir DIR [ priority N ] [ action ACTION ] [ ptype main ]
///         [ mark … ] [ index N ] [ flag FLAG… ] [ if_id N ] [ ctx CTX ] [ limit … ] [ tmpl TMPL ]…
///     SELECTOR := [ src PREFIX ] [ dst PREFIX ] [ dev DEV ] [ UPSPEC ]
///     UPSPEC   := proto { tcp | udp | sctp | dccp | udplite } [ sport N ] [ dport N ]
///               | proto { icmp | ipv6-icmp } [ type N ] [ code N ] | proto P
///     TMPL     := [ src ADDR ] [ dst ADDR ] [ proto { esp | ah | comp } ] [ spi SPI ] [ mode MODE ] [ reqid N ]
///                 [ level { required | use } ]
///     ACTION   := allow | block
///
/// `action block` is DISCARD; `allow` (the default) is PROTECT with the templates, or BYPASS without any. A template's
/// unspecified addresses (`0.0.0.0`, `::`, as transport templates are listed) mean "the packet's own". A port of 0 is
/// any port (Linux sets no mask for it).
struct LinuxPolicy {
    let origin: String
    /// The line where the policy starts.
    let line: Int
    var selector = PolicySelector()
    var direction: PolicyDirection?
    var priority = 0
    var block = false
    var templates: [SATemplate] = []
    /// `socket in|out` policies of the listing belong to one socket, not to traffic; they are skipped.
    var perSocket = false

    init(origin: String, line: Int) {
        self.origin = origin
        self.line = line
    }

    static let selectorKeys: Set<String> = ["src", "dst", "dev", "proto", "sport", "dport", "type", "code", "key"]
    static let templateKeys: Set<String> = ["src", "dst", "proto", "spi", "mode", "reqid", "level"]

    /// Applies one selector keyword and its value.
    static func selector(_ key: String, _ value: String, into s: inout PolicySelector) throws(Problem) {
        switch key {
        case "src": s.source = .prefix(try TextValues.prefix(value, what: "src"))
        case "dst": s.destination = .prefix(try TextValues.prefix(value, what: "dst"))
        case "proto": s.protocol = try TextValues.ipProtocol(value, what: "proto", allowAny: true)
        case "sport", "dport":
            let port = UInt16(try TextValues.cInteger(value, maximum: 65535, what: key))
            let range: ClosedRange<UInt16>? = port == 0 ? nil : port...port
            if key == "sport" { s.sourcePorts = range } else { s.destinationPorts = range }
        case "type": s.icmpType = UInt8(try TextValues.cInteger(value, maximum: 255, what: "type"))
        case "code": s.icmpCode = UInt8(try TextValues.cInteger(value, maximum: 255, what: "code"))
        case "key": throw Problem(.unsupported, "GRE key selectors are not supported")
        default: break  // dev: IPsecLab has no interfaces
        }
    }

    static func direction(_ text: String) throws(Problem) -> PolicyDirection {
        guard let d = PolicyDirection(rawValue: text) else {
            throw Problem(.invalidValue, "dir \(ConfigError.shown(text)) is not in, out or fwd")
        }
        return d
    }

    /// Applies one template keyword and its value.
    static func template(_ key: String, _ value: String, into t: inout SATemplate) throws(Problem) {
        switch key {
        case "src", "dst":
            let a = try TextValues.address(value, what: "tmpl \(key)")
            let given: IPAddress? = a.isUnspecified ? nil : a
            if key == "src" { t.source = given } else { t.destination = given }
        case "proto":
            switch value {
            case "esp": t.protocol = .esp
            case "ah": t.protocol = .ah
            case "comp": t.protocol = .ipcomp
            case "route2", "hao": throw Problem(.unsupported, "Mobile IPv6 templates (proto \(value)) are not IPsec")
            default: throw Problem(.invalidValue, "tmpl proto \(ConfigError.shown(value)) is not esp, ah or comp")
            }
        case "spi":
            let spi = UInt32(try TextValues.cInteger(value, maximum: UInt64(UInt32.max), what: "tmpl spi"))
            t.spi = spi == 0 ? nil : spi
        case "mode": t.mode = try LinuxState.mode(value)
        case "reqid": t.reqid = UInt32(try TextValues.cInteger(value, maximum: UInt64(UInt32.max), what: "reqid"))
        case "level":
            switch value {
            case "required": t.optional = false
            case "use": t.optional = true
            default: throw Problem(.invalidValue, "level \(ConfigError.shown(value)) is not required or use")
            }
        default: break
        }
    }

    /// An empty template: ESP in transport mode, required, as iproute2 defaults them.
    static var defaultTemplate: SATemplate { SATemplate(protocol: .esp, mode: .transport) }

    func draft() throws(ConfigError) -> PolicyDraft {
        guard let direction else {
            throw ConfigError(.missing, origin: origin, line: line, reason: "missing 'dir in', 'dir out' or 'dir fwd'")
        }
        var draft = PolicyDraft(origin: origin, line: line, direction: direction)
        draft.selector = selector
        draft.priority = priority
        draft.action = block ? .discard : templates.isEmpty ? .bypass : .protect(templates)
        return draft
    }
}

extension IPAddress {
    /// `0.0.0.0` or `::`.
    var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
}

extension CommandParser {
    /// `ip xfrm policy add|update …`, read as iproute2's `xfrm_policy_modify` reads it.
    mutating func policy(from first: Word) throws(ConfigError) -> PolicyDraft {
        var policy = LinuxPolicy(origin: origin, line: first.line)
        var seen: [String: Word] = [:]
        var sawTemplate = false
        while i < words.count {
            let keyword = words[i]
            i += 1
            let k = keyword.text
            if LinuxPolicy.selectorKeys.contains(k) && !sawTemplate || ["dir", "priority", "action", "ptype"].contains(k) {
                if let earlier = seen[k] {
                    throw fail(keyword, .duplicate, "'\(k)' repeats '\(earlier.text)' of line \(earlier.line)")
                }
                seen[k] = keyword
            }
            switch k {
            case _ where LinuxPolicy.selectorKeys.contains(k):
                let w = try value(after: keyword, "a value")
                try place(w) { () throws(Problem) in try LinuxPolicy.selector(k, w.text, into: &policy.selector) }
            case "dir":
                let w = try value(after: keyword, "in, out or fwd")
                policy.direction = try place(w) { () throws(Problem) in try LinuxPolicy.direction(w.text) }
            case "priority":
                policy.priority = Int(try number(try value(after: keyword, "a number"), maximum: UInt64(UInt32.max),
                                                 "priority"))
            case "action":
                let w = try value(after: keyword, "allow or block")
                switch w.text {
                case "allow": policy.block = false
                case "block": policy.block = true
                default: throw fail(w, .invalidValue, "action \(ConfigError.shown(w.text)) is not allow or block")
                }
            case "ptype":
                let w = try value(after: keyword, "main or sub")
                guard w.text == "main" else {
                    throw fail(w, .unsupported, "ptype \(ConfigError.shown(w.text)) is not supported (only main)")
                }
            case "tmpl":
                sawTemplate = true
                var t = LinuxPolicy.defaultTemplate
                var keys: Set<String> = []
                while i < words.count, LinuxPolicy.templateKeys.contains(words[i].text) {
                    let key = words[i]
                    i += 1
                    guard keys.insert(key.text).inserted else {
                        throw fail(key, .duplicate, "'tmpl \(key.text)' is given twice in one template")
                    }
                    let w = try value(after: key, "a value")
                    try place(w) { () throws(Problem) in try LinuxPolicy.template(key.text, w.text, into: &t) }
                }
                policy.templates.append(t)
            case "mark":
                _ = try value(after: keyword, "a mark")
                if i < words.count, words[i].text == "mask" {
                    i += 1
                    _ = try value(after: words[i - 1], "a mask")
                }
            case "index", "if_id", "ctx":
                _ = try value(after: keyword, "a value")
            case "flag":
                let w = try value(after: keyword, "a flag")
                let flags: Set<String> = ["localok", "icmp"]
                guard flags.contains(w.text) || w.text.hasPrefix("0x") else {
                    throw fail(w, .invalidValue, "unknown policy flag \(ConfigError.shown(w.text)) (localok, icmp)")
                }
                while i < words.count, flags.contains(words[i].text) { i += 1 }
            case "limit":
                var any = false
                while i < words.count, Self.limits.contains(words[i].text) {
                    i += 1
                    _ = try number(try value(after: words[i - 1], "a number"), maximum: .max, words[i - 1].text)
                    any = true
                }
                guard any else { throw fail(keyword, .syntax, "'limit' needs one of " + Self.limits.sorted().joined(separator: ", ")) }
            case "offload":
                while i < words.count, ["packet", "crypto", "dev", "dir"].contains(words[i].text) {
                    let w = words[i]
                    i += 1
                    if w.text == "dev" || w.text == "dir" { _ = try value(after: w, "a value") }
                }
            default:
                throw fail(keyword, .unknownKey, "unknown keyword \(ConfigError.shown(k)) in 'ip xfrm policy add'")
            }
        }
        return try policy.draft()
    }
}
