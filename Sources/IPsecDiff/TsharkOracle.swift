import Foundation
import IPsecCapture
import IPsecConfig
import IPsecCore
import IPsecWire

/// tshark's ESP dissector: one process per batch, reading a pcap of the batch's packets with every SA of the batch
/// in its esp_sa table (the lines `ipsec-lab export-keys --format wireshark` writes). tshark cannot protect, never
/// verifies AH and has no ESN; it opens a packet when it finds the SA, reports the ICV good (for SAs with integrity)
/// and decrypts it. What it delivers is compared as IPsecLab's decap would deliver it: tunnel mode, the inner
/// packet; transport mode, the payload after the headers that stay in front of ESP.
final class TsharkOracle: PacketOracle {
    let name = "tshark"
    let canProtect = false
    let tshark: String
    /// UDP ports some dissector claims: random inner packets avoid them.
    let busyPorts: Set<UInt16>
    /// Dissectors disabled in every run.
    private let heuristics: [String]
    let version: String

    init() throws {
        let candidates = ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DiffError("tshark is missing: run scripts/setup.sh (apt package tshark)")
        }
        tshark = path
        let decodes = try Self.run(path, ["-G", "decodes"])
        busyPorts = Set(decodes.split(separator: "\n").compactMap { row -> UInt16? in
            let f = row.split(separator: "\t")
            return f.count >= 2 && f[0] == "udp.port" ? UInt16(f[1]) : nil
        })
        // The dissectors of UDP ports and the UDP heuristics are disabled (ESP in UDP's own excepted), so that a
        // decrypted payload is never handed to an application dissector that could throw before the ICV is checked
        // (the vectors' inner packets go to port 5000, TAPA's).
        let portDissectors = decodes.split(separator: "\n").compactMap { row -> String? in
            let f = row.split(separator: "\t")
            return f.count >= 3 && f[0] == "udp.port" ? String(f[2]) : nil
        }
        let heuristicDissectors = try Self.run(path, ["-G", "heuristic-decodes"]).split(separator: "\n").compactMap { row in
            let f = row.split(separator: "\t")
            return f.count >= 2 && f[0] == "udp" ? String(f[1]) : nil
        }
        let keep: Set<String> = ["udpencap", "esp", "ip", "ipv6", "udp", "tcp", "icmp", "icmpv6", "data"]
        heuristics = Set(portDissectors + heuristicDissectors).subtracting(keep).sorted()
        let banner = (try? Self.run(path, ["--version"]))?.split(separator: "\n").first.map(String.init) ?? "tshark"
        version = banner.hasSuffix(".") ? String(banner.dropLast()) : banner
    }

    static func run(_ tshark: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tshark)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw DiffError("cannot run tshark: \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DiffError("tshark \(arguments.first ?? "") failed (status \(p.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }

    func protect(_ items: [OracleItem]) throws -> [Result<(packet: [UInt8], bug: String?), DiffError>] {
        throw DiffError("tshark cannot protect packets")
    }

    static let fields = ["frame.number", "esp.spi", "esp.icv_good", "esp.icv_bad", "esp.contained_data",
                         "esp.protocol", "_ws.malformed"]

    func open(_ items: [OracleItem]) throws -> [OpenResult] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipsec-lab-diff-tshark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = dir.appendingPathComponent("batch.pcap").path
        do {
            // Ethernet framing, not raw IP: Wireshark's raw-IP dissector takes a frame whose bytes 1–2 are ff 03 for
            // PPP (an IPv4 TOS of 0xff with a length of 768–1023, an IPv6 traffic class and flow label that start
            // so), and then dissects no IP at all. The long tshark campaign met it 7 times in 50,000.
            let writer = try CaptureWriter(path: capture, linkType: .ethernet)
            for (i, item) in items.enumerated() {
                let type: [UInt8] = item.packet.first.map { $0 >> 4 == 6 } == true ? [0x86, 0xdd] : [0x08, 0x00]
                let frame = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01] + type + item.packet
                try writer.write(CaptureRecord(timestampSeconds: 1_700_000_000 + Int64(i), data: frame))
            }
            try writer.close()
        } catch {
            throw DiffError("cannot write the tshark batch: \(error)")
        }
        // The batch's SAs as Wireshark's esp_sa table, each record passed with -o (one SA per case).
        let table: String
        do { table = try SAFile.wiresharkESPSA(items.map(\.config)) } catch {
            throw DiffError("cannot write the esp_sa table: \(error)")
        }
        var arguments = ["-n", "-r", capture, "-o", "esp.enable_encryption_decode:TRUE",
                         "-o", "esp.enable_authentication_check:TRUE", "-o", "esp.do_esp_sequence_analysis:FALSE"]
        for line in table.split(separator: "\n") where line.hasPrefix("\"") {
            arguments += ["-o", "uat:esp_sa:" + line]
        }
        for h in heuristics { arguments += ["--disable-protocol", h] }
        arguments += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
        for f in Self.fields { arguments += ["-e", f] }
        // IPSECLAB_DIFF_KEEP=DIR keeps the batch (capture, esp_sa table, tshark's arguments) for a closer look.
        if let keep = ProcessInfo.processInfo.environment["IPSECLAB_DIFF_KEEP"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: keep + "/batch.pcap")
            try? FileManager.default.copyItem(atPath: capture, toPath: keep + "/batch.pcap")
            try? table.write(toFile: keep + "/esp_sa", atomically: true, encoding: .utf8)
            try? arguments.joined(separator: "\n").write(toFile: keep + "/tshark-arguments", atomically: true, encoding: .utf8)
        }
        let output = try Self.run(tshark, arguments)
        let rows = output.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
        guard rows.count == items.count else {
            throw DiffError("tshark printed \(rows.count) rows for \(items.count) packets")
        }
        return zip(items, rows).map { item, row in Self.verdict(item, row) }
    }

    /// tshark accepts a packet when it decrypted it with the case's SA and, if the SA has integrity, found the ICV
    /// good; it then delivers what IPsecLab would: the inner packet (tunnel) or the original header with the
    /// decrypted payload (transport).
    static func verdict(_ c: OracleItem, _ row: [String]) -> OpenResult {
        let packet = c.packet
        var f: [String: String] = [:]
        for (k, v) in zip(fields, row) { f[k] = v }
        let spiField = f["esp.spi"] ?? ""
        guard !spiField.isEmpty else { return OpenResult(accepted: false, packet: [], said: "rejected (no ESP dissected)") }
        // With several ESP layers (none here) the last is the one that matters.
        let spi = spiField.split(separator: ",").last.map(String.init) ?? ""
        guard UInt32(spi.hasPrefix("0x") ? String(spi.dropFirst(2)) : spi, radix: 16) == c.config.spi else {
            return OpenResult(accepted: false, packet: [], said: "rejected (SPI \(spi), no SA)")
        }
        // A malformed ESP dissection is a rejection; a dissector of the decrypted payload that trips over it (the
        // vectors' inner UDP port 5000 is TAPA's) says nothing about ESP.
        if let malformed = f["_ws.malformed"], !malformed.isEmpty,
           malformed.contains("ESP") || !malformed.contains("Malformed Packet:") {
            return OpenResult(accepted: false, packet: [], said: "rejected (malformed: \(malformed))")
        }
        if c.algorithm.hasIntegrity {
            let good = f["esp.icv_good"] ?? "", bad = f["esp.icv_bad"] ?? ""
            if bad == "1" || bad == "True" { return OpenResult(accepted: false, packet: [], said: "rejected (ICV bad)") }
            guard good == "1" || good == "True" else {
                return OpenResult(accepted: false, packet: [], said: "rejected (ICV not checked)")
            }
        }
        let data = f["esp.contained_data"].flatMap { DiffPacket.unhex($0.replacingOccurrences(of: ":", with: "")) } ?? []
        guard !data.isEmpty else { return OpenResult(accepted: false, packet: [], said: "rejected (nothing decrypted)") }
        guard let nh = UInt8(f["esp.protocol"]?.replacingOccurrences(of: "0x", with: "") ?? "", radix: 16) else {
            return OpenResult(accepted: false, packet: [], said: "rejected (no next header)")
        }
        if c.config.mode != .transport {
            return OpenResult(accepted: true, packet: data, said: "accepted")
        }
        // Transport: the headers in front of ESP, with the next header and lengths set as decap sets them.
        let (espOffset, _) = DiffPacket.ipsecOffset(packet)
        guard espOffset <= packet.count else { return OpenResult(accepted: false, packet: [], said: "rejected") }
        var rebuilt = Array(packet[..<espOffset]) + data
        if rebuilt[0] >> 4 == 4 {
            rebuilt[9] = nh
        } else {
            // The last header before ESP names it: the IPv6 header or the last extension header.
            var at = 6, off = 40, next = rebuilt[6]
            while next == 0 || next == 43 || next == 60, off < espOffset {
                at = off
                next = rebuilt[off]
                off += (Int(rebuilt[off + 1]) + 1) * 8
            }
            rebuilt[at] = nh
        }
        DiffPacket.fixLengths(&rebuilt)
        return OpenResult(accepted: true, packet: rebuilt, said: "accepted")
    }
}
