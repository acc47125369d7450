import IPsecCrypto
import Testing

// Cross-checked known answers for what no RFC publishes: AES-CCM ESP (RFC 4309), RFC 8750 implicit IVs, GMAC ESP with
// ESN and extra data, composite ESP (CBC, CTR, 3DES with HMAC or CMAC) with ESN and extra data, and AH ICVs.
//
// The expected bytes were computed with pyca/cryptography 48.0.0 by the script below. It is independent of IPsecLab:
// it uses pyca's own primitives (AESGCM, AESCCM, ChaCha20Poly1305, Cipher, HMAC, CMAC; its OpenSSL is the one bundled
// in its wheel) and re-derives every byte layout (nonce, AAD order, ESN placement, where the extra bytes go) from the
// RFCs, sharing no code with the Swift transforms. What this catches is layout mistakes on either side, which is
// where IPsec implementations go wrong (ESN bits, AAD order, truncation lengths).
//
// # Independent cross-check of the ESP/AH layouts that have no published vectors (CCM, RFC 8750 implicit IV, GMAC with
// # ESN/extra, composite ESP with ESN/extra, AH). Built only on pyca/cryptography's primitives; the ESP/AH byte
// # layouts are re-derived here from the RFCs, not from IPsecLab's code.
// import struct
// from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESCCM, ChaCha20Poly1305
// from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
// from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
// from cryptography.hazmat.primitives import hmac, hashes, cmac
//
// def h(b): return b.hex()
// def seq_aad(spi, seq, esn):
//     return struct.pack(">I", spi) + (struct.pack(">II", seq >> 32, seq & 0xffffffff) if esn else struct.pack(">I", seq & 0xffffffff))
//
// payload = bytes.fromhex("4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
//                         "65666768696a6b6c6d6e6f70717273747576776162636465666768690102020104")[:64]
// payload = payload[:60] + bytes([1, 2, 2, 4])  # 64 bytes, ends like an ESP trailer
// extra = bytes.fromhex("c0a80001c0a80002")
// out = []
// def emit(name, **kv):
//     out.append((name, kv))
//
// # AES-CCM ESP (RFC 4309): nonce = salt(3) || IV(8), L = 4; AAD = SPI || Seq (|| high before low with ESN) || extra
// for bits, icv, esn, ext in [(128, 8, False, b""), (128, 12, True, b""), (128, 16, False, extra), (192, 16, True, extra), (256, 16, False, b"")]:
//     key = bytes(range(0x40, 0x40 + bits // 8)); salt = bytes.fromhex("a1b2c3")
//     spi, seq, iv = 0x11223344, 0x0000000500000007, bytes.fromhex("0102030405060708")
//     ct = AESCCM(key, tag_length=icv).encrypt(salt + iv, payload, seq_aad(spi, seq, esn) + ext)
//     emit(f"aes{bits}ccm{icv}", key=h(key + salt), spi=spi, seq=seq, esn=esn, extra=h(ext), iv=h(iv), pt=h(payload), ct=h(ct[:-icv]), icv=h(ct[-icv:]))
//
// # RFC 8750 implicit IV: IV = 64-bit ESN, or 0^32 || 32-bit seq; not on the wire
// for kind, esn in [("aes128gcm16iiv", False), ("aes128gcm16iiv", True), ("aes256gcm16iiv", True), ("aes128ccm8iiv", False), ("chacha20poly1305iiv", True), ("chacha20poly1305iiv", False)]:
//     spi, seq = 0x0a0b0c0d, 0x00000001fffffffe
//     ivi = struct.pack(">Q", seq if esn else seq & 0xffffffff)
//     aad = seq_aad(spi, seq, esn)
//     if kind.startswith("aes128gcm"):
//         key = bytes(range(16)); salt = bytes.fromhex("deadbeef"); ct = AESGCM(key).encrypt(salt + ivi, payload, aad); icv = 16
//     elif kind.startswith("aes256gcm"):
//         key = bytes(range(32)); salt = bytes.fromhex("deadbeef"); ct = AESGCM(key).encrypt(salt + ivi, payload, aad); icv = 16
//     elif kind.startswith("aes128ccm8"):
//         key = bytes(range(16)); salt = bytes.fromhex("c0ffee"); ct = AESCCM(key, tag_length=8).encrypt(salt + ivi, payload, aad); icv = 8
//     else:
//         key = bytes(range(0x80, 0xa0)); salt = bytes.fromhex("a0a1a2a3"); ct = ChaCha20Poly1305(key).encrypt(salt + ivi, payload, aad); icv = 16
//     emit(kind, key=h(key + salt), spi=spi, seq=seq, esn=esn, extra="", iv="", pt=h(payload), ct=h(ct[:-icv]), icv=h(ct[-icv:]))
//
// # ENCR_NULL_AUTH_AES_GMAC (RFC 4543 §3): AAD = SPI || Seq(|| ESN) || IV || payload || extra, plaintext empty
// for bits, esn, ext in [(128, True, b""), (256, False, extra)]:
//     key = bytes(range(0x10, 0x10 + bits // 8)); salt = bytes.fromhex("01020304")
//     spi, seq, iv = 0x00004321, 0xabcdef0100000007, bytes.fromhex("f0e0d0c0b0a09080")
//     tag = AESGCM(key).encrypt(salt + iv, b"", seq_aad(spi, seq, esn) + iv + payload + ext)
//     emit(f"aes{bits}gmac", key=h(key + salt), spi=spi, seq=seq, esn=esn, extra=h(ext), iv=h(iv), pt=h(payload), ct=h(payload), icv=h(tag))
//
// # Composite ESP (RFC 4303 §2.2.1, §3.3.2.1): ICV = MAC(SPI || Seq(low) || IV || ct || [Seq(high)] || extra) truncated
// def composite(name, enc, integ, esn, ext):
//     spi, seq = 0x87654321, 0x0000000900000002
//     if enc.startswith("aes") and "ctr" in enc:
//         bits = int(enc[3:6]); key = bytes(range(0x20, 0x20 + bits // 8)); nonce = bytes.fromhex("00000030"); iv = bytes.fromhex("c0543b59da48d90b")
//         e = Cipher(algorithms.AES(key), modes.CTR(nonce + iv + b"\x00\x00\x00\x01")).encryptor(); ct = e.update(payload) + e.finalize(); ekey = key + nonce
//     elif enc.startswith("aes"):
//         bits = int(enc[3:6]); key = bytes(range(0x20, 0x20 + bits // 8)); iv = bytes(range(0xe0, 0xf0))
//         e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor(); ct = e.update(payload) + e.finalize(); ekey = key
//     elif enc == "3des":
//         key = bytes.fromhex("0123456789abcdef23456789abcdef01456789abcdef0123"); iv = bytes.fromhex("1122334455667788")
//         e = Cipher(TripleDES(key), modes.CBC(iv)).encryptor(); ct = e.update(payload) + e.finalize(); ekey = key
//     else:
//         iv = b""; ct = payload; ekey = b""
//     data = struct.pack(">II", spi, seq & 0xffffffff) + iv + ct + (struct.pack(">I", seq >> 32) if esn else b"") + ext
//     if integ == "aescmac":
//         ikey = bytes(range(0x30, 0x40)); c = cmac.CMAC(algorithms.AES(ikey)); c.update(data); full = c.finalize(); t = 12
//     else:
//         alg, klen, t = {"md5": (hashes.MD5(), 16, 12), "sha1": (hashes.SHA1(), 20, 12), "sha256": (hashes.SHA256(), 32, 16),
//                         "sha384": (hashes.SHA384(), 48, 24), "sha512": (hashes.SHA512(), 64, 32)}[integ]
//         ikey = bytes(range(0x30, 0x30 + klen)); m = hmac.HMAC(ikey, alg); m.update(data); full = m.finalize()
//     emit(name, key=h(ekey), ikey=h(ikey), spi=spi, seq=seq, esn=esn, extra=h(ext), iv=h(iv), pt=h(payload), ct=h(ct), icv=h(full[:t]))
//
// composite("aes128-sha1", "aes128", "sha1", True, b"")
// composite("aes256-sha512", "aes256", "sha512", False, extra)
// composite("aes192-sha384", "aes192", "sha384", True, extra)
// composite("aes128ctr-sha256", "aes128ctr", "sha256", True, b"")
// composite("3des-sha1", "3des", "sha1", False, b"")
// composite("3des-md5", "3des", "md5", True, b"")
// composite("null-sha256", "null", "sha256", True, extra)
// composite("aes128-aescmac", "aes128", "aescmac", False, b"")
//
// # AH: ICV over prefix || zeros(icv) || suffix || [ESN high]; GMAC: nonce salt||IV, AAD prefix || IV || 0^16 || suffix || [high]
// prefix = bytes.fromhex("4500005400000000003300000a0000010a000002" "0104000000001000" "00000003")  # IPv4 (mutable zeroed) + AH fixed
// suffix = payload
// for integ, esn in [("sha256", True), ("sha1", False)]:
//     alg, klen, t = {"sha256": (hashes.SHA256(), 32, 16), "sha1": (hashes.SHA1(), 20, 12)}[integ]
//     key = bytes(range(0x50, 0x50 + klen)); m = hmac.HMAC(key, alg)
//     m.update(prefix + bytes(t) + suffix + (struct.pack(">I", 0x00000002) if esn else b"")); full = m.finalize()
//     emit(f"ah-{integ}", key=h(key), prefix=h(prefix), suffix=h(suffix), seq=0x0000000200000003, esn=esn, icv=h(full[:t]))
// for bits, esn in [(128, False), (256, True)]:
//     key = bytes(range(0x60, 0x60 + bits // 8)); salt = bytes.fromhex("cafebabe"); iv = bytes.fromhex("0000000000000001")
//     aad = prefix + iv + bytes(16) + suffix + (struct.pack(">I", 0x00000002) if esn else b"")
//     tag = AESGCM(key).encrypt(salt + iv, b"", aad)
//     emit(f"ah-aes{bits}gmac", key=h(key + salt), prefix=h(prefix), suffix=h(suffix), seq=0x0000000200000003, esn=esn, icv=h(iv + tag))
//
// # draft-mcgrew GMAC case (cross-check of the published tag)
// key = bytes.fromhex("4c80cdefbb5d10da906ac73c3613a634"); salt = bytes.fromhex("22433c64")
// aad = bytes.fromhex("0000432100000007" "0000000000000000") + bytes.fromhex("45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f70717273740102020100"[:104])
// assert AESGCM(key).encrypt(salt + bytes(8), b"", aad).hex() == "f2a9a836e155106aa8dcd618e4099aaa"
//
// for name, kv in out:
//     print(name, kv)

let crossCheckedESPVectors: [ESPVector] = [
    ESPVector(
        name: "aes128ccm8", keyword: "aes128ccm8",
        encryptionKey: hex("404142434445464748494a4b4c4d4e4fa1b2c3"),
        integrityKey: hex(""),
        spi: 0x11223344, sequenceNumber: 0x500000007, esn: false, extra: hex(""),
        iv: hex("0102030405060708"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            8a8430bdfd2299d52fbea0658842950c5f18bfc5585595ddb359e0eb11fe807d37187c4bcd1064658a1f1695ee351c80
            8b25d5277330d69d3f5180ec7d3dc7d4
            """),
        icv: hex("dcea4122e357a74b")),
    ESPVector(
        name: "aes128ccm12 ESN", keyword: "aes128ccm12",
        encryptionKey: hex("404142434445464748494a4b4c4d4e4fa1b2c3"),
        integrityKey: hex(""),
        spi: 0x11223344, sequenceNumber: 0x500000007, esn: true, extra: hex(""),
        iv: hex("0102030405060708"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            8a8430bdfd2299d52fbea0658842950c5f18bfc5585595ddb359e0eb11fe807d37187c4bcd1064658a1f1695ee351c80
            8b25d5277330d69d3f5180ec7d3dc7d4
            """),
        icv: hex("eee3578f961ad54d8f5b2baa")),
    ESPVector(
        name: "aes128ccm16 extra", keyword: "aes128ccm16",
        encryptionKey: hex("404142434445464748494a4b4c4d4e4fa1b2c3"),
        integrityKey: hex(""),
        spi: 0x11223344, sequenceNumber: 0x500000007, esn: false, extra: hex("c0a80001c0a80002"),
        iv: hex("0102030405060708"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            8a8430bdfd2299d52fbea0658842950c5f18bfc5585595ddb359e0eb11fe807d37187c4bcd1064658a1f1695ee351c80
            8b25d5277330d69d3f5180ec7d3dc7d4
            """),
        icv: hex("e9079a75c239cf6fded77cb7707faa42")),
    ESPVector(
        name: "aes192ccm16 ESN extra", keyword: "aes192ccm16",
        encryptionKey: hex("404142434445464748494a4b4c4d4e4f5051525354555657a1b2c3"),
        integrityKey: hex(""),
        spi: 0x11223344, sequenceNumber: 0x500000007, esn: true, extra: hex("c0a80001c0a80002"),
        iv: hex("0102030405060708"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            2bbceca12c3ba38d41467da36983f58383155dae92b04ac94faea2c20f52e45b6a1a21dbd1cb660eb5e3372e37786ff9
            c04b7e94a486e1a2057580e9299d1d26
            """),
        icv: hex("176f8f36beee4accbc0e4a243cad8819")),
    ESPVector(
        name: "aes256ccm16", keyword: "aes256ccm16",
        encryptionKey: hex("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5fa1b2c3"),
        integrityKey: hex(""),
        spi: 0x11223344, sequenceNumber: 0x500000007, esn: false, extra: hex(""),
        iv: hex("0102030405060708"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            7a10a40bfc43c628add353a4de11687e14715e51d43231fb8b7a40ef8414f76a5d48cf5bf09fe9b88d5ebe521b6a177f
            e1d97edbeb883b5175ba22af11a6f431
            """),
        icv: hex("b380b3bcd3ed7f5fa290161b6d87914f")),
    ESPVector(
        name: "aes128gcm16iiv", keyword: "aes128gcm16iiv",
        encryptionKey: hex("000102030405060708090a0b0c0d0e0fdeadbeef"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: false, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            e977b06e39e44e2a3ebe04b245ae92e46b4f75e1fbfece6fff9b7e97d1f483c26c2fd008e0c4c677c2b7f0cf90636519
            b1b20665bbfe857904908de0e56802cc
            """),
        icv: hex("99aa1606838eb194372a2dd927cb291a")),
    ESPVector(
        name: "aes128gcm16iiv ESN", keyword: "aes128gcm16iiv",
        encryptionKey: hex("000102030405060708090a0b0c0d0e0fdeadbeef"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: true, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            213f486b6b8e6ed918cbfcd82c8856d93fc4f43ee489639a021ec340dc9ddf5b42066d9c29042f283190f17012b38e6f
            7cb36d581800d8795ecdd28f8d950435
            """),
        icv: hex("1713794bf616c754d17e85245728315e")),
    ESPVector(
        name: "aes256gcm16iiv ESN", keyword: "aes256gcm16iiv",
        encryptionKey: hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fdeadbeef"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: true, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            0d1a20717ae621372e9dd1bb36e0aab0d733922bd15717b8f53cf05a6ffe008c52613238391d9822e1439d06b8882589
            a8757366e52ed63cc876e0c2ebfc0b10
            """),
        icv: hex("e271eb6eaa2ebd5bc80c46103b563c33")),
    ESPVector(
        name: "aes128ccm8iiv", keyword: "aes128ccm8iiv",
        encryptionKey: hex("000102030405060708090a0b0c0d0e0fc0ffee"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: false, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            6c350a97cef53e7385fe7beb0c36d8663675a0e555f099fcbd95c747dfebff85eaa3d9726326a2fa7c184e56c9040d3a
            de92f969e43c46912d7360c2f78b129e
            """),
        icv: hex("369bf67c6b6b6879")),
    ESPVector(
        name: "chacha20poly1305iiv ESN", keyword: "chacha20poly1305iiv",
        encryptionKey: hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: true, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            7d5f7d91a09d9302bef4dcd7bc7c5ccdcb7b423dceeb81ace9471809cf54854e9ba9030d34cca75646ced013e7fd0b36
            b51ebe6d7d51eedbec4e74b6b054bf84
            """),
        icv: hex("f4067d6c1103ea7cbe459958c15c4323")),
    ESPVector(
        name: "chacha20poly1305iiv", keyword: "chacha20poly1305iiv",
        encryptionKey: hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3"),
        integrityKey: hex(""),
        spi: 0x0a0b0c0d, sequenceNumber: 0x1fffffffe, esn: false, extra: hex(""),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            896881be2b7ff6afa6f71232cff77a113fd9dd4716e9b2bacdde2bd2b5b5009d18fc4c8451b0f8f32ad4cde2020e9cc5
            284367f6425e943538a456dcd3c5a385
            """),
        icv: hex("c0ee56a982ba3b048794a3bba1aadc8b")),
    ESPVector(
        name: "aes128gmac ESN", keyword: "aes128gmac",
        encryptionKey: hex("101112131415161718191a1b1c1d1e1f01020304"),
        integrityKey: hex(""),
        spi: 0x00004321, sequenceNumber: 0xabcdef0100000007, esn: true, extra: hex(""),
        iv: hex("f0e0d0c0b0a09080"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        icv: hex("1ef4e121a82b4230ef89726f7bc8d216")),
    ESPVector(
        name: "aes256gmac extra", keyword: "aes256gmac",
        encryptionKey: hex("101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f01020304"),
        integrityKey: hex(""),
        spi: 0x00004321, sequenceNumber: 0xabcdef0100000007, esn: false, extra: hex("c0a80001c0a80002"),
        iv: hex("f0e0d0c0b0a09080"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        icv: hex("8a7709225c43b6f697d3ed76b92e3400")),
    ESPVector(
        name: "aes128-sha1 ESN", keyword: "aes128-sha1",
        encryptionKey: hex("202122232425262728292a2b2c2d2e2f"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f40414243"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: true, extra: hex(""),
        iv: hex("e0e1e2e3e4e5e6e7e8e9eaebecedeeef"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            ec5d9c52048c7f4c7405ebc436649ec2f544f2f7d39c16b6b686c880aa2b765de286d0d9623eecad9d3e211c664de35f
            104c4e8d671f1dfb4f53b910d704a3ce
            """),
        icv: hex("3711b52f57c17612d9941bc4")),
    ESPVector(
        name: "aes256-sha512 extra", keyword: "aes256-sha512",
        encryptionKey: hex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
        integrityKey: hex("""
            303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
            606162636465666768696a6b6c6d6e6f
            """),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: false, extra: hex("c0a80001c0a80002"),
        iv: hex("e0e1e2e3e4e5e6e7e8e9eaebecedeeef"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            d55779d8cf01799049ed2886dee5d3fa7882df321262b380d0ab40630c228136294c2cfb9c0c576d2f5ca3fbcfadf2df
            2daeeb60f033269b59867ff407c303e0
            """),
        icv: hex("6e334417c311085a48a2f3c5756f5c0408cdee224ce6f7f5eabd011af5f7b57a")),
    ESPVector(
        name: "aes192-sha384 ESN extra", keyword: "aes192-sha384",
        encryptionKey: hex("202122232425262728292a2b2c2d2e2f3031323334353637"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: true, extra: hex("c0a80001c0a80002"),
        iv: hex("e0e1e2e3e4e5e6e7e8e9eaebecedeeef"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            70e1e371a4131078355ddffd7384b024b0d9fe8cb5f1f312ff3734d10f71aafee2a981f7a73b82cb2d41e9f9448095e0
            b42fc514ec0af537bfbd3f6ec25221a3
            """),
        icv: hex("dccdc6cd387c8027010644bb35172c581a8c050a3be2833e")),
    ESPVector(
        name: "aes128ctr-sha256 ESN", keyword: "aes128ctr-sha256",
        encryptionKey: hex("202122232425262728292a2b2c2d2e2f00000030"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: true, extra: hex(""),
        iv: hex("c0543b59da48d90b"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            9c5baab5e1c58ba24227ede34168dec802e3c22e8ccbc9a5ccc62982009720fd9d0baeba810458f3a94fe933f38846b0
            7fcbd29740946228b5de0bbc281a509f
            """),
        icv: hex("9cc16d52eab0142b2fe7979f499d17bd")),
    ESPVector(
        name: "3des-sha1", keyword: "3des-sha1",
        encryptionKey: hex("0123456789abcdef23456789abcdef01456789abcdef0123"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f40414243"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: false, extra: hex(""),
        iv: hex("1122334455667788"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            9c3de8dfbb126259c98a786dc391630d41c31632a30112f972a97405367ce129455a054f16813cb4cdbffa4d559050c6
            ccb39d7fca61282ad85c7870185b51cc
            """),
        icv: hex("4e440858aab250750ed798e1")),
    ESPVector(
        name: "3des-md5 ESN", keyword: "3des-md5",
        encryptionKey: hex("0123456789abcdef23456789abcdef01456789abcdef0123"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: true, extra: hex(""),
        iv: hex("1122334455667788"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            9c3de8dfbb126259c98a786dc391630d41c31632a30112f972a97405367ce129455a054f16813cb4cdbffa4d559050c6
            ccb39d7fca61282ad85c7870185b51cc
            """),
        icv: hex("835333cda555aef892ffd9db")),
    ESPVector(
        name: "null-sha256 ESN extra", keyword: "null-sha256",
        encryptionKey: hex(""),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: true, extra: hex("c0a80001c0a80002"),
        iv: hex(""),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        icv: hex("f5783171ee1678af90a53b3bf9c98c3e")),
    ESPVector(
        name: "aes128-aescmac", keyword: "aes128-aescmac",
        encryptionKey: hex("202122232425262728292a2b2c2d2e2f"),
        integrityKey: hex("303132333435363738393a3b3c3d3e3f"),
        spi: 0x87654321, sequenceNumber: 0x900000002, esn: false, extra: hex(""),
        iv: hex("e0e1e2e3e4e5e6e7e8e9eaebecedeeef"),
        plaintext: hex("""
            4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
            75767761626364656667686901020204
            """),
        ciphertext: hex("""
            ec5d9c52048c7f4c7405ebc436649ec2f544f2f7d39c16b6b686c880aa2b765de286d0d9623eecad9d3e211c664de35f
            104c4e8d671f1dfb4f53b910d704a3ce
            """),
        icv: hex("471e4433b5fa5bbc0cf47df9")),
]

struct AHVector: CustomTestStringConvertible, Sendable {
    var keyword: String
    var key: [UInt8]
    var sequenceNumber: UInt64
    var esn: Bool
    var icv: [UInt8]
    var testDescription: String { "ah " + keyword + (esn ? " ESN" : "") }

    /// IPv4 header (mutable fields zeroed) and the AH fields before the ICV, as in the script.
    static let prefix = hex("4500005400000000003300000a0000010a000002" + "0104000000001000" + "00000003")
    static let suffix = hex("""
        4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f7071727374
        75767761626364656667686901020204
        """)
}

let crossCheckedAHVectors: [AHVector] = [
    AHVector(
        keyword: "sha256", key: hex("505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f"),
        sequenceNumber: 0x200000003, esn: true,
        icv: hex("cfacc74e7cafdb120e7c24e3afb1be72")),
    AHVector(
        keyword: "sha1", key: hex("505152535455565758595a5b5c5d5e5f60616263"),
        sequenceNumber: 0x200000003, esn: false,
        icv: hex("9a90921e4de95b9452508b7e")),
    AHVector(
        keyword: "aes128gmac", key: hex("606162636465666768696a6b6c6d6e6fcafebabe"),
        sequenceNumber: 0x200000003, esn: false,
        icv: hex("0000000000000001e6212a979ca1c341d89f44c6e58c7de6")),
    AHVector(
        keyword: "aes256gmac", key: hex("606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7fcafebabe"),
        sequenceNumber: 0x200000003, esn: true,
        icv: hex("00000000000000018a2bca93fabd32ee61e01d35a2ea6367")),
]

@Suite("Cross-checked known answers (pyca/cryptography)")
struct CrossCheckTests {
    @Test("ESP", arguments: crossCheckedESPVectors)
    func esp(_ vector: ESPVector) throws {
        try checkESPVector(vector)
    }

    @Test("AH", arguments: crossCheckedAHVectors)
    func ah(_ vector: AHVector) throws {
        let algorithm = try AHAlgorithm(keyword: vector.keyword)
        // The script's GMAC IV is 0000000000000001: the first value of a counter source started at 1.
        let transform = try AHTransform(algorithm, key: vector.key, ivSource: .counter(start: 1))
        let suffix = AHVector.suffix
        let icv = try computeAH(transform, prefix: AHVector.prefix, suffix: suffix,
                                sequenceNumber: vector.sequenceNumber, esn: vector.esn)
        #expect(hexString(icv) == hexString(vector.icv))
        #expect(try verifyAH(transform, prefix: AHVector.prefix, suffix: suffix, sequenceNumber: vector.sequenceNumber,
                             esn: vector.esn, icv: vector.icv))
    }
}
