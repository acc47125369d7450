import Foundation
import IPsecCore
import IPsecWire

/// scapy 2.8.0's IPsec layer through the long-lived helper Tests/oracles/scapy_diff_oracle.py (JSON lines on its
/// stdin and stdout), run with the virtual environment's Python that scripts/setup.sh makes.
final class ScapyOracle: PacketOracle {
    let name = "scapy"
    let canProtect = true
    private let helper: LineProcess
    /// scapy's version, as the helper reported it.
    let version: String

    init() throws {
        let root = try OracleEnvironment.root()
        let python = try OracleEnvironment.python(root: root)
        helper = try LineProcess(name: "scapy", executable: python,
                                 arguments: [root.appendingPathComponent(OracleEnvironment.scapyScript).path])
        let ready = try helper.readLine()
        guard let object = try? JSONSerialization.jsonObject(with: Data(ready.utf8)) as? [String: Any],
              object["ready"] as? Bool == true else {
            throw DiffError("the scapy oracle did not start: \(ready.prefix(200))")
        }
        version = object["scapy"] as? String ?? "?"
    }

    static func saJSON(_ algorithm: OracleAlgorithm, _ sa: SAConfiguration) -> JSONValue {
        var members = [
            JSONMember("proto", .string(sa.protocol.rawValue)),
            JSONMember("mode", .string(sa.mode == .transport ? "transport" : "tunnel")),
            JSONMember("spi", .int(Int(sa.spi))),
            JSONMember("src", .string(sa.source.description)),
            JSONMember("dst", .string(sa.destination.description)),
            JSONMember("crypt", algorithm.scapyCrypt.map { .string($0) } ?? .null),
            JSONMember("crypt_key", .string(DiffPacket.hex(sa.encryptionKey))),
            JSONMember("auth", algorithm.scapyAuth.map { .string($0) } ?? .null),
            JSONMember("auth_key", .string(DiffPacket.hex(sa.integrityKey))),
            JSONMember("esn", .bool(sa.extendedSequenceNumbers)),
            JSONMember("natt", .bool(sa.encapsulation != nil)),
        ]
        if case .esp(let a) = sa.algorithm, a.encryption.isCombinedMode {
            members.append(JSONMember("icv", .int(a.icvLength)))
        }
        return .object(members)
    }

    static func request(_ op: String, _ item: OracleItem) -> String {
        JSONValue.object([
            JSONMember("op", .string(op)),
            JSONMember("sa", saJSON(item.algorithm, item.config)),
            JSONMember("packet", .string(DiffPacket.hex(item.packet))),
            JSONMember("seq", .int(Int(bitPattern: UInt(item.sequence)))),
            JSONMember("iv", .string(DiffPacket.hex(item.iv))),
        ]).text
    }

    struct Answer {
        var ok: Bool
        var packet: [UInt8]
        var error: String
        var bug: String?
    }

    func parse(_ line: String) throws -> Answer {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let ok = o["ok"] as? Bool else {
            throw DiffError("the scapy oracle answered something that is not JSON: \(line.prefix(200))")
        }
        let packet = (o["packet"] as? String).flatMap(DiffPacket.unhex) ?? []
        if ok && packet.isEmpty { throw DiffError("the scapy oracle answered ok without a packet") }
        return Answer(ok: ok, packet: packet, error: o["error"] as? String ?? "", bug: o["bug"] as? String)
    }

    func protect(_ items: [OracleItem]) throws -> [Result<(packet: [UInt8], bug: String?), DiffError>] {
        let answers = try helper.exchange(items.map { Self.request("protect", $0) })
        return try answers.map { line in
            let a = try parse(line)
            return a.ok ? .success((a.packet, a.bug)) : .failure(DiffError(a.error))
        }
    }

    func open(_ items: [OracleItem]) throws -> [OpenResult] {
        let answers = try helper.exchange(items.map { Self.request("open", $0) })
        return try answers.map { line in
            let a = try parse(line)
            return OpenResult(accepted: a.ok, packet: a.packet, said: a.ok ? "accepted" : "rejected (\(a.error))",
                              bug: a.bug)
        }
    }
}
