import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecDiff
import IPsecWire

/// A differential campaign against the Linux kernel's XFRM (docs/linux-oracle.md): every case's SAs and policies are
/// installed in the guest with `ip xfrm`, IPsecLab protects packets that the guest's kernel must deliver, mutated
/// packets it must drop for the same reason IPsecLab drops them, and the guest's kernel protects datagrams that
/// IPsecLab must open to what was sent. All of it in one boot of the VM.
///
/// Every packet checked counts as one case of the summary (a campaign case checks three honest packets, two mutated
/// ones and two the kernel protects); the kernel's IVs are random, so packets are compared by meaning — who sent what
/// to whom, delivered or dropped and why — never by ciphertext.
public struct LinuxCampaign {
    public let seed: UInt64
    public let cases: Int
    public let only: Int?
    public let vm: LinuxVM
    /// The crypto implementation of IPsecLab's SAs (`--backend`); libipsec-mb leaves what it lacks to OpenSSL.
    public let implementation: CryptoImplementation

    public init(seed: UInt64, cases: Int, only: Int? = nil, vm: LinuxVM, implementation: CryptoImplementation = .openSSL) {
        self.seed = seed
        self.cases = cases
        self.only = only
        self.vm = vm
        self.implementation = implementation
    }

    /// Builds (or reuses) the image, boots it once, and compares.
    public func run() throws(DiffError) -> DiffSummary {
        let started = HostSystem.now()
        let indices = only.map { [$0] } ?? Array(0..<cases)
        if implementation == .ipsecMB && !IPsecMB.isAvailable { throw DiffError("--backend ipsec-mb: \(IPsecMB.status)") }
        let run = try execute(indices.map { index in
            var c = LinuxCase.make(index: index, seed: seed)
            c.implementation = implementation
            return c
        })
        var summary = DiffSummary(oracle: "linux", seed: seed)
        summary.notes = LinuxCampaign.coverageNotes
        summary.backend = implementation.rawValue
        var prepared = run.prepared
        for i in prepared.indices {
            let before = summary.cases
            prepared[i].compare(run.answers, into: &summary, repro: repro(prepared[i].c.index))
            // Every packet checked is a case of the summary; count it for the implementation its SAs really got.
            let ran = prepared[i].c.cryptoImplementation.rawValue
            for _ in before..<summary.cases { summary.recordImplementations([ran]) }
        }
        summary.notes.append(LinuxCampaign.optionsNote(prepared))
        summary.seconds = HostSystem.now() - started
        summary.notes.append("\(run.prepared.count) campaign cases, \(summary.cases) packets checked, one boot of "
                             + "\((run.boot.seconds * 10).rounded() / 10) s (kernel \(kernelRelease()))")
        // A clean run leaves nothing behind; a failing one keeps the console and answers for diagnosis.
        if summary.disagreements.isEmpty { HostSystem.removeTree(run.work) } else {
            summary.notes.append("guest console and answers kept in \(run.work)")
        }
        return summary
    }

    /// One boot with `linuxCases`: the prepared cases (IPsecLab's side) and the guest's answers.
    func execute(_ linuxCases: [LinuxCase]) throws(DiffError)
        -> (prepared: [PreparedCase], answers: GuestAnswers, boot: LinuxVM.Boot, work: String)
    {
        try vm.prepare()
        var prepared: [PreparedCase] = []
        let sentinel = try Sentinels.make()
        var script = ["TUN"] + Topology.guestSetup.map { "IP " + $0 } + ["RUN setup"]
            + sentinel.packets.map { "SENTINEL " + Hex.encode($0) }
        for c in linuxCases {
            let p: PreparedCase
            do {
                p = try PreparedCase(c)
            } catch {
                // A case IPsecLab itself cannot set up is a bug in this campaign, not a result about Linux.
                throw DiffError("case \(c.index) (\(c.modeName) \(c.algorithmName)) cannot be prepared: \(error)")
            }
            script += ["IP xfrm state flush", "IP xfrm policy flush"] + sentinel.commands.map { "IP " + $0 } + p.script
            prepared.append(p)
        }
        script.append("END")
        let work = try HostSystem.temporaryDirectory(in: vm.cacheDirectory)
        let boot = try vm.boot(campaign: script.joined(separator: "\n") + "\n", workDirectory: work)
        let answers = GuestAnswers(boot.answers)
        guard answers.status["setup"] == 0 else {
            throw DiffError("the guest could not set its network up (console: \(boot.consolePath))")
        }
        return (prepared, answers, boot, work)
    }

    /// How often the options were drawn, and whether IPComp really compressed in both directions.
    static func optionsNote(_ prepared: [PreparedCase]) -> String {
        let cases = prepared.map(\.c)
        let oursCompressed = prepared.reduce(0) { $0 + $1.injections.filter { $0.decompressed > 0 }.count }
        let linuxCompressed = prepared.reduce(0) { $0 + $1.kernelCompressed }
        return "options: ESN in \(cases.filter(\.esn).count) cases, NAT-T in \(cases.filter(\.natTraversal).count), "
            + "IPComp in \(cases.filter(\.ipcomp).count) (packets compressed: \(oursCompressed) by IPsecLab, "
            + "\(linuxCompressed) by Linux), AH with `flag align4` in \(cases.filter(\.align4).count), mixed-family "
            + "tunnels in \(cases.filter { $0.innerVersion != $0.version }.count)"
    }

    func repro(_ index: Int) -> String {
        "ipsec-lab diff --oracle linux --seed \(seed) --cases \(cases) --case \(index)"
    }

    func kernelRelease() -> String {
        let text = (try? HostSystem.readFile(vm.cacheDirectory + "/kernel.release")).map {
            String(decoding: $0, as: UTF8.self)
        } ?? "?"
        return text.split(separator: "\n").first.map(String.init) ?? "?"
    }

    static let coverageNotes = [
        "BEET mode (Linux `mode beet`) is not compared: IPsecLab does not implement it.",
        "RFC 8750 implicit-IV ESP is not compared: Linux has no such transform.",
        "AH with AES-GMAC is not compared: Linux's AH takes only hash-based integrity algorithms.",
    ]
}

/// What the guest's agent answered, by tag.
struct GuestAnswers {
    struct Injection {
        var delivered: [UDPPacket.Meaning?] = []
        var counters: [String: Int] = [:]
        var sentinel = false
        var done = false
    }

    struct Sending {
        var packets: [[UInt8]] = []
        var error: Int32 = 0
        var done = false
    }

    var status: [String: Int] = [:]
    var injections: [String: Injection] = [:]
    var sendings: [String: Sending] = [:]

    init(_ lines: [String]) {
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            guard f.count >= 2 else { continue }
            let tag = f[1]
            switch f[0] {
            case "R" where f.count == 3:
                status[tag] = Int(f[2]) ?? -1
            case "D" where f.count == 6 || f.count == 7:
                // An empty datagram has an empty hex field, which the split drops.
                var m: UDPPacket.Meaning?
                if let s = IPAddress(f[2]), let sp = UInt16(f[3]), let d = IPAddress(f[4]), let dp = UInt16(f[5]),
                   let payload = Hex.decode(f.count == 7 ? f[6] : "") {
                    m = UDPPacket.Meaning(source: s, destination: d, sourcePort: sp, destinationPort: dp,
                                          payload: payload)
                }
                injections[tag, default: Injection()].delivered.append(m)
            case "X" where f.count == 4:
                injections[tag, default: Injection()].counters[f[2]] = Int(f[3]) ?? 0
            case "I" where f.count == 4:
                injections[tag, default: Injection()].sentinel = f[3] == "sentinel"
                injections[tag, default: Injection()].done = true
            case "T" where f.count == 3:
                if let p = Hex.decode(f[2]) { sendings[tag, default: Sending()].packets.append(p) }
            case "S" where f.count == 4:
                sendings[tag, default: Sending()].error = Int32(f[3]) ?? -1
                sendings[tag, default: Sending()].done = true
            default:
                break
            }
        }
    }
}

/// The ESP sentinels the agent writes after each packet under test (scripts/linux-oracle/agent.c): NULL-encryption
/// ESP from 10.0.9.1, one in transport and one in tunnel mode, with no replay window so the same packet can be sent
/// again and again. Linux finishes decapsulated packets in deferred work (a tasklet for transport mode, GRO cells for
/// tunnel mode), in order; when both sentinels have arrived, the packet under test has been handled.
enum Sentinels {
    static func make() throws(DiffError) -> (commands: [String], packets: [[UInt8]]) {
        let outer = (IPAddress("10.0.9.1")!, IPAddress("10.0.9.2")!)
        let inner = IPAddress("10.0.8.1")!
        do {
            let suite = try ESPAlgorithm(encryption: .null, integrity: .hmacSHA1_96)
            var sas: [SAConfiguration] = []
            var policies: [SecurityPolicy] = []
            var packets: [[UInt8]] = []
            for (i, mode) in [SAMode.transport, .tunnel].enumerated() {
                let sa = SAConfiguration(protocol: .esp, spi: 0x5e00_0001 + UInt32(i), mode: mode, source: outer.0,
                                         destination: outer.1, algorithm: .esp(suite), integrityKey: Array(repeating: 0x5e, count: 20),
                                         replayWindow: 0)
                sas.append(sa)
                let from = mode == .tunnel ? inner : outer.0
                policies.append(SecurityPolicy(
                    direction: .inbound,
                    selector: PolicySelector(source: .prefix(IPPrefix(address: from, length: 32)!),
                                             destination: .prefix(IPPrefix(address: outer.1, length: 32)!),
                                             protocol: .udp, sourcePorts: 9997...9997),
                    action: .protect([SATemplate(protocol: .esp, mode: mode, source: outer.0, destination: outer.1)])))
                let plain = UDPPacket.build(version: .v4, source: from, destination: outer.1, sourcePort: 9997,
                                            destinationPort: 9999, payload: Array("sentinel".utf8), hopLimit: 64)
                var out: [UInt8] = []
                try Outbound.protect(plain[...], with: SecurityAssociation(sa), into: &out)
                packets.append(out)
            }
            let text = try SAFile(associations: sas, policies: policies, format: .ipXfrmCommands).ipXfrmCommands()
            let commands = text.split(separator: "\n").map { String($0.hasPrefix("ip ") ? $0.dropFirst(3) : $0[...]) }
            return (commands, packets)
        } catch {
            throw DiffError("cannot build the sentinel packets: \(error)")
        }
    }
}

enum Hex {
    static func encode(_ bytes: some Collection<UInt8>) -> String { hexString(bytes) }

    static func decode(_ text: some StringProtocol) -> [UInt8]? { bytes(fromHex: text) }
}
