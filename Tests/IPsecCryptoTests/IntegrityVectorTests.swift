import IPsecCrypto
import Testing

// Integrity known answers: RFC 2202 (HMAC-MD5, HMAC-SHA-1), RFC 4231 (HMAC-SHA-256/384/512), RFC 4868 (the IPsec
// AUTH vectors, with key lengths equal to the output length), RFC 3566 (AES-XCBC-MAC, all 7 cases), RFC 4494
// (AES-CMAC-96, all 4 cases, the messages and outputs of RFC 4493). Values copied from the RFCs (via public test
// suites) and confirmed with Python's hmac module before being pasted here.
//
// Through the transforms: ESP with NULL encryption authenticates SPI ‖ Seq ‖ payload, so a message of 8 bytes or more
// is fed as SPI = bytes 0-3, Seq = bytes 4-7, payload = the rest, and the ICV must be the published MAC truncated as
// the IPsec RFCs say. Messages shorter than 8 bytes, and keys whose length IPsec does not allow, go through
// `Primitives` only.

struct HMACVector: CustomTestStringConvertible, Sendable {
    var name: String
    var digest: Primitives.Digest
    var key: [UInt8]
    var data: [UInt8]
    /// The published MAC (truncated where the RFC truncates it).
    var mac: [UInt8]
    var testDescription: String { name }

    var espKeyword: String {
        switch digest {
        case .md5: "null-md5"
        case .sha1: "null-sha1"
        case .sha256: "null-sha256"
        case .sha384: "null-sha384"
        case .sha512: "null-sha512"
        }
    }
}

let hmacVectors: [HMACVector] = [
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 1", digest: .md5,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("9294727a3638bb1c13f48ef8158bfc9d")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 2", digest: .md5,
        key: hex("4a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("750c783e6ab0b503eaa86e310a5db738")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 3", digest: .md5,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("56be34521d144c88dbb8c733f0e8b3f6")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 4", digest: .md5,
        key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("697eaf0aca3a3aea3a75164746ffaa79")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 5", digest: .md5,
        key: hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"),
        data: hex("546573742057697468205472756e636174696f6e"),
        mac: hex("56461ef2342edc00f9bab995690efd4c")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 6", digest: .md5,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579
            204669727374
            """),
        mac: hex("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")),
    HMACVector(
        name: "RFC 2202 HMAC-MD5 case 7", digest: .md5,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b657920616e64204c6172676572
            205468616e204f6e6520426c6f636b2d53697a652044617461
            """),
        mac: hex("6f630fad67cda0ee1fb1f562db3aa53e")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 1", digest: .sha1,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("b617318655057264e28bc0b6fb378c8ef146be00")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 2", digest: .sha1,
        key: hex("4a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 3", digest: .sha1,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("125d7342b9ac11cd91a39af48aa17b4f63f175d3")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 4", digest: .sha1,
        key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("4c9007f4026250c6bc8414f9bf50c86c2d7235da")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 5", digest: .sha1,
        key: hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"),
        data: hex("546573742057697468205472756e636174696f6e"),
        mac: hex("4c1a03424b55e07fe7f27be1d58bb9324a9a5a04")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 6", digest: .sha1,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579
            204669727374
            """),
        mac: hex("aa4ae5e15272d00e95705637ce8a3b55ed402112")),
    HMACVector(
        name: "RFC 2202 HMAC-SHA1 case 7", digest: .sha1,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b657920616e64204c6172676572
            205468616e204f6e6520426c6f636b2d53697a652044617461
            """),
        mac: hex("e8e99d0f45237d786d6bbaa7965c7808bbff1a91")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 1", digest: .sha256,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 2", digest: .sha256,
        key: hex("4a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 3", digest: .sha256,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 4", digest: .sha256,
        key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 5 (truncated to 128 bits)", digest: .sha256,
        key: hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"),
        data: hex("546573742057697468205472756e636174696f6e"),
        mac: hex("a3b6167473100ee06e0c796c2955552b")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 6", digest: .sha256,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579
            204669727374
            """),
        mac: hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA256 case 7", digest: .sha256,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b65
            7920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565
            647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c
            676f726974686d2e
            """),
        mac: hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 1", digest: .sha384,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 2", digest: .sha384,
        key: hex("4a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 3", digest: .sha384,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 4", digest: .sha384,
        key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 5 (truncated to 128 bits)", digest: .sha384,
        key: hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"),
        data: hex("546573742057697468205472756e636174696f6e"),
        mac: hex("3abf34c3503b2a23a46efc619baef897")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 6", digest: .sha384,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579
            204669727374
            """),
        mac: hex("4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA384 case 7", digest: .sha384,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b65
            7920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565
            647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c
            676f726974686d2e
            """),
        mac: hex("6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 1", digest: .sha512,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("""
            87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4
            be9d914eeb61f1702e696c203a126854
            """)),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 2", digest: .sha512,
        key: hex("4a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("""
            164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd
            caeab1a34d4a6b4b636e070a38bce737
            """)),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 3", digest: .sha512,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("""
            fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807
            b946a337bee8942674278859e13292fb
            """)),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 4", digest: .sha512,
        key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("""
            b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063
            a5f19741120c4f2de2adebeb10a298dd
            """)),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 5 (truncated to 128 bits)", digest: .sha512,
        key: hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"),
        data: hex("546573742057697468205472756e636174696f6e"),
        mac: hex("415fad6271580a531d4179bc891d87a6")),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 6", digest: .sha512,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579
            204669727374
            """),
        mac: hex("""
            80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52
            95e64f73f63f0aec8b915a985d786598
            """)),
    HMACVector(
        name: "RFC 4231 HMAC-SHA512 case 7", digest: .sha512,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b65
            7920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565
            647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c
            676f726974686d2e
            """),
        mac: hex("""
            e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15
            134676fb6de0446065c97440fa8c6a58
            """)),
    HMACVector(
        name: "RFC 4868 AUTH256-1", digest: .sha256,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7")),
    HMACVector(
        name: "RFC 4868 AUTH256-2", digest: .sha256,
        key: hex("4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6")),
    HMACVector(
        name: "RFC 4868 AUTH256-3", digest: .sha256,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0")),
    HMACVector(
        name: "RFC 4868 AUTH256-4", digest: .sha256,
        key: hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f")),
    HMACVector(
        name: "RFC 4868 AUTH384-1", digest: .sha384,
        key: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        data: hex("4869205468657265"),
        mac: hex("b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2")),
    HMACVector(
        name: "RFC 4868 AUTH384-2", digest: .sha384,
        key: hex("4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5349524ca4e82400cbde0686d403371c9")),
    HMACVector(
        name: "RFC 4868 AUTH384-3", digest: .sha384,
        key: hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("809f439be00274321d4a538652164b53554a508184a0c3160353e3428597003d35914a18770f9443987054944b7c4b4a")),
    HMACVector(
        name: "RFC 4868 AUTH384-4", digest: .sha384,
        key: hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200a0b0c0d0e0f10111213141516171819"),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("5b540085c6e6358096532b2493609ed1cb298f774f87bb5c2ebf182c83cc7428707fb92eab2536a5812258228bc96687")),
    HMACVector(
        name: "RFC 4868 AUTH512-1", digest: .sha512,
        key: hex("""
            0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b
            0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b
            """),
        data: hex("4869205468657265"),
        mac: hex("""
            637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8ac2878ebd5803f6f0b61dbce5e251ff8
            789a4722c1be65aea45fd464e89f8f5b
            """)),
    HMACVector(
        name: "RFC 4868 AUTH512-2", digest: .sha512,
        key: hex("""
            4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665
            4a6566654a6566654a6566654a656665
            """),
        data: hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
        mac: hex("""
            cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b154546aa334ae9fb9afc2184932d8695e397b
            fa0ffb93466cfcceaae38c833b7dba38
            """)),
    HMACVector(
        name: "RFC 4868 AUTH512-3", digest: .sha512,
        key: hex("""
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            """),
        data: hex("""
            dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
            dddd
            """),
        mac: hex("""
            2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8623c7b55cebefccf02d5581acc1c9d5f
            b1ff68a1de45509fbe4da9a433922655
            """)),
    HMACVector(
        name: "RFC 4868 AUTH512-4", digest: .sha512,
        key: hex("""
            0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30
            3132333435363738393a3b3c3d3e3f40
            """),
        data: hex("""
            cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
            cdcd
            """),
        mac: hex("""
            5e6688e5a3daec826ca32eaea224eff5e700628947470e13ad01302561bab108b8c48cbc6b807dcfbd850521a685babc
            7eae4a2a2e660dc0e86b931d65503fd2
            """)),
]

/// Authenticates `message` with ESP NULL encryption (SPI ‖ Seq ‖ payload = message) and returns the ICV.
func nullESPICV(_ keyword: String, key: [UInt8], message: [UInt8]) throws -> [UInt8] {
    precondition(message.count >= 8)
    let transform = try ESPTransform(try ESPAlgorithm(keyword: keyword), encryptionKey: [], integrityKey: key)
    let spi = message[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    let seq = message[4..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let aad = ESPAssociatedData(spi: spi, sequenceNumber: seq)
    let sealed = try seal(transform, aad, iv: [], payload: Array(message[8...]))
    #expect(sealed.ciphertext == Array(message[8...]), "NULL encryption leaves the payload alone")
    #expect(try open(transform, aad, iv: [], payload: sealed.ciphertext, icv: sealed.icv).ok)
    return sealed.icv
}

@Suite("Published integrity known answers")
struct IntegrityVectorTests {
    @Test("HMAC, full output through Primitives", arguments: hmacVectors)
    func hmacFull(_ vector: HMACVector) throws {
        let mac = try Primitives.hmac(vector.digest, key: vector.key, data: vector.data)
        #expect(hexString(Array(mac.prefix(vector.mac.count))) == hexString(vector.mac))
    }

    @Test("HMAC, truncated ICV through NULL-encryption ESP", arguments: hmacVectors)
    func hmacThroughESP(_ vector: HMACVector) throws {
        let algorithm = try ESPAlgorithm(keyword: vector.espKeyword)
        guard vector.key.count == algorithm.integrityKeyLength, vector.data.count >= 8,
              vector.mac.count >= algorithm.icvLength
        else { return }  // IPsec fixes the key length; other keys are only checked through Primitives.
        let icv = try nullESPICV(vector.espKeyword, key: vector.key, message: vector.data)
        #expect(hexString(icv) == hexString(Array(vector.mac.prefix(algorithm.icvLength))))
    }

    @Test("The starter set's truncated ICVs")
    func starterTruncations() throws {
        // shared/reference/published-vectors.txt [F], exactly as printed there.
        #expect(try nullESPICV("null-sha1", key: bytes(0x0b, 20), message: ascii("Hi There"))
            == hex("b617318655057264e28bc0b6"))
        #expect(try nullESPICV("null-md5", key: bytes(0x0b, 16), message: ascii("Hi There"))
            == hex("9294727a3638bb1c13f48ef8"))
        #expect(try nullESPICV("null-sha256", key: bytes(0x0b, 32), message: ascii("Hi There"))
            == hex("198a607eb44bfbc69903a0f1cf2bbdc5"))
        #expect(try nullESPICV("null-sha384", key: bytes(0x0b, 48), message: ascii("Hi There"))
            == hex("b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"))
        #expect(try nullESPICV("null-sha512", key: bytes(0x0b, 64), message: ascii("Hi There"))
            == hex("637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"))
        #expect(try nullESPICV("null-aesxcbc", key: hex("000102030405060708090a0b0c0d0e0f"),
                               message: Array(0..<16)) == hex("d2a246fa349b68a79998a439"))
        #expect(try nullESPICV("null-aescmac", key: hex("2b7e151628aed2a6abf7158809cf4f3c"),
                               message: hex("6bc1bee22e409f96e93d7e117393172a")) == hex("070a16b46b4d4144f79bdd9d"))
    }

    /// RFC 3566 §4, test cases #1-#7: key 000102...0f; full 128-bit AES-XCBC-MAC.
    static let xcbcCases: [(message: [UInt8], mac: String)] = [
        ([], "75f0251d528ac01c4573dfd584d79f29"),
        (Array(0..<3), "5b376580ae2f19afe7219ceef172756f"),
        (Array(0..<16), "d2a246fa349b68a79998a4394ff7a263"),
        (Array(0..<20), "47f51b4564966215b8985c63055ed308"),
        (Array(0..<32), "f54f0ec8d2b9f3d36807734bd5283fd4"),
        (Array(0..<34), "becbb3bccdb518a30677d5481fb6b4d8"),
        (bytes(0, 1000), "f0dafee895db30253761103b5d84528f"),
    ]

    @Test("RFC 3566 AES-XCBC-MAC-96, all test cases")
    func xcbc() throws {
        let key = hex("000102030405060708090a0b0c0d0e0f")
        for (message, mac) in Self.xcbcCases {
            #expect(hexString(try Primitives.aesXCBCMAC(key: key, data: message)) == mac, "\(message.count) bytes")
            if message.count >= 8 {
                #expect(hexString(try nullESPICV("null-aesxcbc", key: key, message: message))
                    == String(mac.prefix(24)), "\(message.count) bytes, 96-bit ICV")
            }
        }
    }

    /// RFC 4494 §4 (AES-CMAC-96): RFC 4493's examples, truncated to 96 bits.
    static let cmacCases: [(length: Int, mac: String)] = [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ]
    static let cmacMessage = hex("""
        6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51
        30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710
        """)

    @Test("RFC 4494 AES-CMAC-96, all test cases")
    func cmac() throws {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c")
        for (length, mac) in Self.cmacCases {
            let message = Array(Self.cmacMessage.prefix(length))
            #expect(hexString(try Primitives.aesCMAC(key: key, data: message)) == mac, "\(length) bytes")
            if length >= 8 {
                #expect(hexString(try nullESPICV("null-aescmac", key: key, message: message))
                    == String(mac.prefix(24)), "\(length) bytes, 96-bit ICV")
            }
        }
    }

    @Test("XCBC streams correctly whatever the chunk boundaries")
    func xcbcStreaming() throws {
        // AH feeds prefix ‖ zeroed ICV field ‖ suffix as three updates; every split point must give the one-shot MAC.
        let key = hex("000102030405060708090a0b0c0d0e0f")
        let transform = try AHTransform(try AHAlgorithm(keyword: "aesxcbc"), key: key)
        let message = pattern(70)
        for split in 0...message.count {
            let prefix = Array(message[..<split])
            let suffix = Array(message[split...])
            let expected = try Primitives.aesXCBCMAC(key: key, data: prefix + bytes(0, 12) + suffix)
            let icv = try computeAH(transform, prefix: prefix, suffix: suffix)
            #expect(icv == Array(expected.prefix(12)), "split at \(split)")
        }
    }
}
