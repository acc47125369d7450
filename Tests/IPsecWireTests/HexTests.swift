import IPsecWire
import Testing

/// The one hex decoder every layer uses (SA files' keys excepted, which report their own errors): it takes exactly
/// an even number of hex digits in either case and is the inverse of `hexString`.
@Suite struct HexTests {
    @Test func roundTripsEveryByte() {
        let all = (0...255).map { UInt8($0) }
        #expect(bytes(fromHex: hexString(all)) == all)
        #expect(bytes(fromHex: hexString(all).uppercased()) == all)
        #expect(bytes(fromHex: "") == [])
        #expect(bytes(fromHex: "0aFf"[...]) == [0x0a, 0xff])
    }

    @Test(arguments: ["0", "abc", "0g", "zz", " 00", "00 ", "0x00", "-1", "é0"])
    func refusesWhatIsNotEvenHex(_ text: String) {
        #expect(bytes(fromHex: text) == nil)
    }
}
