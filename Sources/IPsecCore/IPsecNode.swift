import IPsecWire

/// A whole IPsec node: its SA database, its policy database and its IPComp SAs. It chooses protection by policy,
/// applies bundles (`transport-ah+esp`, nested tunnels, IPComp under ESP), peels them off again inbound, and checks
/// that a decapsulated packet arrived through the SAs its inbound policy asks for (RFC 4301 §5.2).
public final class IPsecNode {
    public let sad: SADatabase
    public let spd: SecurityPolicyDatabase
    public let compressions: [IPCompAssociation]
    /// Bundles and nested tunnels are followed this deep and no deeper.
    public static let maximumBundleDepth = 4

    public init(sad: SADatabase, policies: [SecurityPolicy] = [], compressions: [IPCompAssociation] = []) {
        self.sad = sad
        spd = SecurityPolicyDatabase(policies)
        self.compressions = compressions
    }

    /// What the outbound path did with a packet.
    public enum OutboundVerdict: Hashable, Sendable {
        /// Protected; the layers applied, innermost first (`esp/transport`, `ah/transport`).
        case protected([String])
        /// Sent in clear: a BYPASS policy, or no policy and no SA for it.
        case bypassed
        /// A DISCARD policy.
        case discarded
        /// A PROTECT policy whose SA is missing.
        case noSA(String)
    }

    /// Applies the outbound policy to `packet`. Without policies: with one SA, protect everything with it; with several,
    /// the first SA whose traffic selector matches; none matches: bypass.
    public func outbound(_ packet: ArraySlice<UInt8>, into out: inout [UInt8]) throws(CoreError) -> OutboundVerdict {
        out.removeAll(keepingCapacity: true)
        if spd.isEmpty {
            let sas = sad.all
            let sa = sas.count == 1 ? sas[0] : sas.first { $0.configuration.selector?.matches(packet) ?? false }
            guard let sa else {
                out.append(contentsOf: packet)
                return .bypassed
            }
            try Outbound.protect(packet, with: sa, into: &out)
            return .protected([sa.configuration.modeName])
        }
        guard let fields = PacketSelectorFields(packet),
              let policy = spd.lookup(fields, direction: .outbound) else {
            // RFC 4301 would discard; Linux (and IPsecLab, to read captures as Linux sends them) sends in clear.
            out.append(contentsOf: packet)
            return .bypassed
        }
        switch policy.action {
        case .bypass:
            out.append(contentsOf: packet)
            return .bypassed
        case .discard:
            return .discarded
        case .protect(let templates):
            guard templates.count <= Self.maximumBundleDepth else {
                throw CoreError(.unsupported, "a bundle of \(templates.count) SAs is deeper than \(Self.maximumBundleDepth)")
            }
            var current = Array(packet)
            var applied: [String] = []
            for template in templates {
                if template.protocol == .ipcomp {
                    guard let comp = compression(for: template, destination: fields.destination) else {
                        if template.optional { continue }
                        return .noSA("no IPComp SA for \(template)")
                    }
                    // The non-expansion rule: a packet that would not shrink goes uncompressed (RFC 3173 §2.2).
                    if try IPCompCodec.compress(current[...], cpi: comp.cpi, into: &out) {
                        current = out
                        applied.append("ipcomp/\(template.mode)")
                    }
                    continue
                }
                let destination = PacketSelectorFields(current[...])?.destination
                guard let sa = sad.all.first(where: { template.accepts($0.configuration, packetDestination: destination) })
                else {
                    if template.optional { continue }
                    return .noSA("no SA for \(template)")
                }
                try Outbound.protect(current[...], with: sa, into: &out)
                current = out
                applied.append("\(template.protocol)/\(sa.configuration.mode)")
            }
            out = current
            return .protected(applied)
        }
    }

    private func compression(for template: SATemplate, destination: IPAddress) -> IPCompAssociation? {
        compressions.first {
            (template.reqid == 0 || $0.reqid == template.reqid) && $0.destination == (template.destination ?? destination)
        }
    }

    /// What the inbound path made of a packet, layer by layer.
    public struct InboundOutcome: Sendable {
        public var verdict: InboundVerdict
        /// The IPsec layers opened, outermost first.
        public var layers: [InboundResult] = []
        /// IPComp layers decompressed.
        public var decompressed = 0

        public init(verdict: InboundVerdict, layers: [InboundResult] = []) {
            self.verdict = verdict
            self.layers = layers
        }

        /// The mode-matrix name of what was opened: `tunnel-esp`, `transport-ah+esp`, …
        public var modeName: String? {
            guard let first = layers.first, let mode = first.mode else { return nil }
            let base = mode == .transport ? "transport" : "tunnel"
            let protocols = layers.compactMap(\.protocol).map(\.rawValue)
            if layers.count == 1 { return first.modeName }
            return "\(base)-" + protocols.joined(separator: "+")
        }
    }

    /// Opens every IPsec and IPComp layer of `packet` and applies the inbound policy check.
    public func inbound(_ packet: ArraySlice<UInt8>, into out: inout [UInt8], scratch: inout [UInt8]) -> InboundOutcome {
        inbound(packet, opened: nil, into: &out, scratch: &scratch)
    }

    /// As `inbound(_:into:scratch:)`, for a packet whose outermost layer was opened elsewhere (a staged burst):
    /// `packet` is what that layer held and `opened` its accepted result.
    public func inbound(_ packet: ArraySlice<UInt8>, opened: InboundResult?, into out: inout [UInt8],
                        scratch: inout [UInt8]) -> InboundOutcome {
        var outcome = InboundOutcome(verdict: .accepted)
        var current = Array(packet)
        var next: [UInt8] = []
        var applied: [(SATemplate.TemplateProtocol, SAMode)] = []
        if let r = opened {
            outcome.layers.append(r)
            if let p = r.protocol, let m = r.mode { applied.append((p == .esp ? .esp : .ah, m == .tunnelHC ? .tunnel : m)) }
        }
        var finished = false
        for _ in 0..<(Self.maximumBundleDepth + (opened == nil ? 1 : 0)) {
            let r = Inbound.unprotect(current[...], sad: sad, into: &next, scratch: &scratch)
            switch r.verdict {
            case .accepted:
                outcome.layers.append(r)
                if let p = r.protocol, let m = r.mode { applied.append((p == .esp ? .esp : .ah, m == .tunnelHC ? .tunnel : m)) }
                swap(&current, &next)
                continue
            case .dropped(.notIPsec):
                // IPComp under ESP or AH (RFC 3173 §5), or on its own.
                if let layout = try? PacketLayout.transport(current[...]), layout.nextHeader == .ipcomp,
                   !layout.isFragment {
                    guard let header = IPCompCodec.decompress(current[...], layout: layout, into: &next) else {
                        outcome.verdict = .dropped(.malformed)
                        return outcome
                    }
                    // With IPComp SAs configured, the CPI must name one of them (RFC 3173 §2.2).
                    if !compressions.isEmpty,
                       !compressions.contains(where: { $0.cpi == header.cpi && $0.destination == layout.destination }) {
                        outcome.verdict = .dropped(.noSA)
                        return outcome
                    }
                    outcome.decompressed += 1
                    applied.append((.ipcomp, .transport))
                    swap(&current, &next)
                    continue
                }
            case .dropped:
                outcome.layers.append(r)
                outcome.verdict = r.verdict
                return outcome
            }
            finished = true
            break
        }
        // Layers nested deeper than the limit: refused rather than followed without end.
        guard finished else {
            outcome.verdict = .dropped(.malformed)
            return outcome
        }
        if outcome.layers.isEmpty && outcome.decompressed == 0 {
            // Plain traffic: refused if an inbound policy says it must have been protected.
            if let fields = PacketSelectorFields(current[...]), let policy = spd.lookup(fields, direction: .inbound),
               case .protect(let templates) = policy.action, templates.contains(where: { !$0.optional }) {
                outcome.verdict = .dropped(.policy)
            } else {
                outcome.verdict = .dropped(.notIPsec)
            }
            return outcome
        }
        if !spd.isEmpty, let fields = PacketSelectorFields(current[...]),
           let policy = spd.lookup(fields, direction: .inbound) {
            switch policy.action {
            case .discard:
                outcome.verdict = .dropped(.policy)
                return outcome
            case .bypass:
                break
            case .protect(let templates):
                // The layers peeled, outermost first, must be the policy's templates, innermost first, reversed.
                // Optional templates and IPComp (which the non-expansion rule may skip) need not have been applied.
                var expected = templates.reversed().map { ($0.protocol, $0.mode, $0.optional || $0.protocol == .ipcomp) }
                var ok = true
                for layer in applied {
                    while let e = expected.first, e.2, e.0 != layer.0 || e.1 != layer.1 { expected.removeFirst() }
                    guard let e = expected.first, e.0 == layer.0, e.1 == layer.1 else { ok = false; break }
                    expected.removeFirst()
                }
                if expected.contains(where: { !$0.2 }) { ok = false }
                if !ok {
                    outcome.verdict = .dropped(.policy)
                    return outcome
                }
            }
        }
        out = current
        return outcome
    }
}
