import Foundation
import IPsecWire
import Testing

@testable import IPsecCapture

/// Bytes from hex text; whitespace is ignored. Traps on bad hex: test data only.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var out: [UInt8] = []
    var it = digits.makeIterator()
    while let a = it.next(), let b = it.next() {
        out.append(UInt8(String([a, b]), radix: 16)!)
    }
    return out
}

/// A fresh directory under the system's temporary directory, removed with everything in it when the value goes.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ipseclab-capture-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// The names of the files in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

// MARK: Packets

/// A minimal IPv4/UDP packet with correct lengths and header checksum.
func ipv4Packet(source: [UInt8], destination: [UInt8], payload: [UInt8]) -> [UInt8] {
    let total = 20 + 8 + payload.count
    var header: [UInt8] = [
        0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xff),
        0x12, 0x34, 0x40, 0x00,
        64, 17, 0, 0,
    ]
    header += source + destination
    var checksum = InternetChecksum()
    checksum.add(header)
    let value = checksum.value
    header[10] = UInt8(value >> 8)
    header[11] = UInt8(value & 0xff)
    let udpLength = 8 + payload.count
    return header + [0x13, 0x88, 0x13, 0x89, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0] + payload
}

/// A minimal IPv6/UDP packet.
func ipv6Packet(source: [UInt8], destination: [UInt8], payload: [UInt8]) -> [UInt8] {
    let udpLength = 8 + payload.count
    var packet: [UInt8] = [0x60, 0x00, 0x00, 0x00, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 17, 64]
    packet += source + destination
    return packet + [0x13, 0x88, 0x13, 0x89, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0] + payload
}

let ipv4Source: [UInt8] = [192, 0, 2, 1]
let ipv4Destination: [UInt8] = [198, 51, 100, 7]
let ipv4SourceText = "192.0.2.1"
let ipv6Source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x01]
let ipv6Destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x02]
let ipv6SourceText = "2001:db8::1"

func samplePacket(_ version: IPVersion, payloadLength: Int = 32) -> [UInt8] {
    let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    return version == .v4
        ? ipv4Packet(source: ipv4Source, destination: ipv4Destination, payload: payload)
        : ipv6Packet(source: ipv6Source, destination: ipv6Destination, payload: payload)
}

// MARK: Link types under test

/// One link type and the frames a test writes for it: one header per IP version it can carry, plus a VLAN-tagged
/// frame for Ethernet and both byte orders for BSD loopback.
struct LinkTypeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let linkType: LinkType
    let headers: [(IPVersion, LinkHeader)]

    var testDescription: String { name }

    static let all: [LinkTypeCase] = [
        LinkTypeCase(
            name: "ethernet", linkType: .ethernet,
            headers: [
                (.v4, LinkLayer.header(for: .ethernet, ipVersion: .v4)!),
                (.v6, LinkLayer.header(for: .ethernet, ipVersion: .v6)!),
                (
                    .v4,
                    .ethernet(
                        destination: [0x02, 0, 0, 0, 0, 0x01], source: [0x02, 0, 0, 0, 0, 0x02], vlanTags: [0x2064],
                        etherType: 0x0800)
                ),
                (
                    .v6,
                    .ethernet(
                        destination: [0x02, 0, 0, 0, 0, 0x01], source: [0x02, 0, 0, 0, 0, 0x02],
                        vlanTags: [0x0010, 0x0020], etherType: 0x86DD)
                ),
            ]),
        LinkTypeCase(
            name: "raw", linkType: .raw,
            headers: [(.v4, .raw), (.v6, .raw)]),
        LinkTypeCase(name: "ipv4", linkType: .ipv4, headers: [(.v4, .raw)]),
        LinkTypeCase(name: "ipv6", linkType: .ipv6, headers: [(.v6, .raw)]),
        LinkTypeCase(
            name: "linuxSLL", linkType: .linuxSLL,
            headers: [
                (.v4, .linuxSLL(packetType: 0, addressType: 1, address: [2, 0, 0, 0, 0, 9], protocolType: 0x0800)),
                (.v6, LinkLayer.header(for: .linuxSLL, ipVersion: .v6)!),
            ]),
        LinkTypeCase(
            name: "linuxSLL2", linkType: .linuxSLL2,
            headers: [
                (
                    .v4,
                    .linuxSLL2(
                        protocolType: 0x0800, interfaceIndex: 7, addressType: 1, packetType: 0,
                        address: [2, 0, 0, 0, 0, 9])
                ),
                (.v6, LinkLayer.header(for: .linuxSLL2, ipVersion: .v6)!),
            ]),
        LinkTypeCase(
            name: "null", linkType: .null,
            headers: [
                (.v4, .null(family: 2, byteOrder: .littleEndian)),
                (.v4, .null(family: 2, byteOrder: .bigEndian)),
                (.v6, .null(family: 24, byteOrder: .littleEndian)),
                (.v6, .null(family: 30, byteOrder: .bigEndian)),
            ]),
        LinkTypeCase(
            name: "loop", linkType: .loop,
            headers: [(.v4, .loop(family: 2)), (.v6, .loop(family: 24))]),
    ]

    /// Records for this link type: each header with a whole packet, then each header again with a packet cut short
    /// by the capture (the IP and UDP headers kept, the payload not), all with nanosecond timestamps.
    func records() -> [CaptureRecord] {
        var records: [CaptureRecord] = []
        for (i, (version, header)) in headers.enumerated() {
            let frame = LinkLayer.frame(header, payload: samplePacket(version, payloadLength: 20 + i))
            records.append(
                CaptureRecord(
                    timestampSeconds: 1_700_000_000 + Int64(i), timestampNanoseconds: 123_456_789 + UInt32(i),
                    originalLength: frame.count, data: frame))
        }
        for (i, (version, header)) in headers.enumerated() {
            let frame = LinkLayer.frame(header, payload: samplePacket(version, payloadLength: 100))
            let kept = header.length + (version == .v4 ? 28 : 48)
            records.append(
                CaptureRecord(
                    timestampSeconds: 1_700_000_100 + Int64(i), timestampNanoseconds: UInt32(i) * 1000 + 1,
                    originalLength: frame.count, data: Array(frame[..<kept])))
        }
        return records
    }
}

// MARK: Capture helpers

func writeCapture(_ path: String, linkType: LinkType, records: [CaptureRecord], snapshotLength: Int = 262_144) throws {
    let writer = try CaptureWriter(path: path, linkType: linkType, snapshotLength: snapshotLength)
    for record in records { try writer.write(record) }
    try writer.close()
}

func readCapture(_ path: String) throws -> (LinkType, [CaptureRecord]) {
    let reader = try CaptureReader(path: path)
    var records: [CaptureRecord] = []
    while let record = try reader.next() { records.append(record) }
    return (reader.linkType, records)
}

/// The error `body` throws, as a `CaptureError`; records a test failure if it throws something else or nothing.
func captureError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> CaptureError? {
    do {
        try body()
        Issue.record("expected a CaptureError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CaptureError {
        return error
    } catch {
        Issue.record("expected a CaptureError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

// MARK: tshark

enum Tshark {
    static let path = "/usr/bin/tshark"

    /// Runs tshark with `arguments`; its standard output, or an error naming the exit status and standard error.
    /// tshark is a required oracle: a missing binary fails the test.
    static func run(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TsharkError(message: "\(path) is missing; tshark is a required test oracle")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting, so a chatty tshark cannot block on a full pipe.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = String(decoding: errData, as: UTF8.self)
            throw TsharkError(message: "tshark \(arguments) exited with \(process.terminationStatus): \(stderr)")
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// One line per frame: the given fields, tab-separated.
    static func fields(_ file: String, _ fields: [String]) throws -> [String] {
        let out = try run(["-n", "-r", file, "-T", "fields"] + fields.flatMap { ["-e", $0] })
        return out.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

struct TsharkError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
