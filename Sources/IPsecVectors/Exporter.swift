import IPsecCapture
import IPsecConfig
import IPsecCore
import IPsecCrypto

/// Writes vectors in forms other implementations read: one pcap (raw IP) of the inbound inputs per group, the
/// groups' SAs as `ip xfrm state add` commands, and a Wireshark `esp_sa` UAT file.
public enum VectorExporter {
    public struct Summary: Sendable {
        public var captures = 0
        public var packets = 0
        public var xfrmStates = 0
        public var wiresharkEntries = 0
        public var notes: [String] = []
    }

    /// Exports the files at `paths` (or, when empty, freshly generated vectors) to `directory`.
    public static func export(paths: [String], to directory: String) throws -> Summary {
        var files: [(String, VectorFile)] = []
        if paths.isEmpty {
            for (path, text) in try VectorGenerator().generate().files {
                if case .packets(let f) = try VectorReader.parse(Array(text.utf8), origin: path) {
                    files.append((String(path.dropLast(5)), f))
                }
            }
        } else {
            for path in paths {
                let list = FileSystem.isDirectory(path)
                    ? try FileSystem.list(path, suffix: ".json").map { (path + "/" + $0, $0) }
                    : [(path, String(path.split(separator: "/").last ?? ""))]
                for (full, relative) in list {
                    if case .packets(let f) = try VectorReader.load(path: full) {
                        files.append((String(relative.dropLast(5)), f))
                    }
                }
            }
        }
        var summary = Summary()
        var wireshark: [String] = []
        var skippedWireshark = Set<String>()
        var skippedXfrm = Set<String>()
        for (name, file) in files {
            var xfrm: [String] = []
            for (gi, group) in file.groups.enumerated() {
                let inputs = group.tests.filter { $0.direction == .inbound }.map(\.input)
                if !inputs.isEmpty {
                    let path = "\(directory)/\(name)/group-\(gi + 1).pcap"
                    try FileSystem.makeDirectories("\(directory)/\(name)")
                    let writer = try CaptureWriter(path: path, linkType: .raw)
                    for (i, packet) in inputs.enumerated() {
                        try writer.write(CaptureRecord(timestampSeconds: Int64(i), data: packet))
                    }
                    try writer.close()
                    summary.captures += 1
                    summary.packets += inputs.count
                }
                do {
                    xfrm.append("# group \(gi + 1): \(group.comment)")
                    xfrm.append(try SAFile.ipXfrmCommands([group.sa]).trimmingTrailingNewlines)
                    summary.xfrmStates += 1
                } catch {
                    xfrm.removeLast()
                    // One note per algorithm: the reason is the same for every SA of it.
                    let reason = "\(error)".split(separator: ")", maxSplits: 1).last.map {
                        $0.drop(while: { $0 == ":" || $0 == " " }) } ?? ""
                    skippedXfrm.insert("\(file.algorithm) (\(reason))")
                }
                if let line = wiresharkLine(group.sa) {
                    wireshark.append(line)
                    summary.wiresharkEntries += 1
                } else if group.sa.protocol == .esp {
                    skippedWireshark.insert(group.sa.mode == .tunnelHC ? "tunnel-esp-hc (Wireshark cannot parse the compressed form)"
                                            : "\(file.algorithm) (no Wireshark 4.0 name)")
                }
            }
            if !xfrm.isEmpty {
                try FileSystem.writeAll("\(directory)/\(name).xfrm", Array((xfrm.joined(separator: "\n") + "\n").utf8))
            }
        }
        try FileSystem.writeAll("\(directory)/esp_sa", Array(wireshark.map { $0 + "\n" }.joined().utf8))
        summary.notes = skippedXfrm.sorted().map { "ip xfrm: skipped \($0)" }
            + skippedWireshark.sorted().map { "esp_sa: skipped \($0)" }
        return summary
    }

    /// A Wireshark `esp_sa` UAT line with Wireshark 4.0's algorithm names; nil for what Wireshark 4.0 cannot
    /// decrypt (AES-CCM, ChaCha20-Poly1305, GMAC, AES-XCBC/CMAC, RFC 8750 implicit IVs, the compressed tunnel, AH).
    public static func wiresharkLine(_ sa: SAConfiguration) -> String? {
        guard sa.protocol == .esp, sa.mode != .tunnelHC, case .esp(let a) = sa.algorithm else { return nil }
        let encryption: String
        switch a.encryption {
        case .null: encryption = "NULL"
        case .aesCBC: encryption = "AES-CBC [RFC3602]"
        case .aesCTR: encryption = "AES-CTR [RFC3686]"
        case .tripleDESCBC: encryption = "TripleDES-CBC [RFC2451]"
        case .aesGCM(_, let icv): encryption = "AES-GCM with \(icv) octet ICV [RFC4106]"
        default: return nil
        }
        let integrity: String
        switch a.integrity {
        case .none: integrity = "NULL"
        case .hmacSHA1_96: integrity = "HMAC-SHA-1-96 [RFC2404]"
        case .hmacMD5_96: integrity = "HMAC-MD5-96 [RFC2403]"
        case .hmacSHA256_128: integrity = "HMAC-SHA-256-128 [RFC4868]"
        case .hmacSHA384_192: integrity = "HMAC-SHA-384-192 [RFC4868]"
        case .hmacSHA512_256: integrity = "HMAC-SHA-512-256 [RFC4868]"
        default: return nil
        }
        let family = sa.destination.version == .v4 ? "IPv4" : "IPv6"
        let spi = String(sa.spi, radix: 16)
        let fields = [family, sa.source.description, sa.destination.description,
                      "0x" + String(repeating: "0", count: 8 - spi.count) + spi, encryption,
                      sa.encryptionKey.isEmpty ? "" : "0x" + hexString(sa.encryptionKey), integrity,
                      sa.integrityKey.isEmpty ? "" : "0x" + hexString(sa.integrityKey)]
        return fields.map { "\"\($0)\"" }.joined(separator: ",")
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
