import Foundation
import Testing
import ModelStore

@Suite struct SHA256Tests {
    /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(message: String, expected: String) {
        #expect(SHA256.hash(Array(message.utf8)).hex == expected)
    }

    @Test func nistMillionA() {
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hex
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (55/56 and 119/120 bytes need one more block).
    /// Expected values from Python's `hashlib.sha256(bytes((i*7+3)&255 for i in range(n)))`.
    @Test(arguments: [
        (1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"),
        (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
        (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
        (57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"),
        (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
        (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
        (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
        (111, "67d9492e628fd376e0b2efec8ca2b99b123e202cf620deb270728df979b2f73e"),
        (112, "96b928cff8528dbb99602c709a65b846cb6467acb8b722f0d758e4dc27bfc508"),
        (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
        (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
        (127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"),
        (128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"),
        (129, "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4"),
        (1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"),
    ])
    func paddingBoundaries(length: Int, expected: String) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        #expect(SHA256.hash(message).hex == expected)
    }

    /// Feeding the same message in irregular pieces must give the one-shot digest.
    @Test func streamingMatchesOneShot() {
        let message = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }
        let expected = SHA256.hash(message)
        for pieceLengths in [[1], [3, 61, 64, 1, 127], [63], [64], [65], [1000, 1, 5000]] {
            var hasher = SHA256()
            var offset = 0, turn = 0
            while offset < message.count {
                let length = min(pieceLengths[turn % pieceLengths.count], message.count - offset)
                hasher.update(message[offset..<(offset + length)])
                offset += length
                turn += 1
            }
            #expect(hasher.finalize() == expected, "pieces \(pieceLengths)")
        }
    }

    @Test func hashesFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = [UInt8](repeating: 0x61, count: 1_000_000)
        _ = FileManager.default.createFile(atPath: path, contents: Data(message))
        var reported: Int64 = 0
        let digest = try SHA256.hash(fileAt: path) { reported = $0 }
        #expect(digest.hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(reported == 1_000_000)
    }

    /// Throughput on 32 MiB held in memory, best of three. Prints MB/s: meaningful in a release
    /// build run alone (`swift test -c release --filter SHA256Tests/throughput`), since other
    /// tests run in parallel. Checks the digest against a piecewise hash so the timed work counts.
    @Test func throughput() {
        let byteCount = 32 << 20
        let message = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 11)) }
        var bestSeconds = Double.infinity
        var digest: SHA256Digest?
        for _ in 0..<3 {
            let start = ContinuousClock.now
            digest = SHA256.hash(message)
            let elapsed = ContinuousClock.now - start
            bestSeconds = min(bestSeconds, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        print(String(format: "SHA-256: %.0f MB/s (%d MiB in %.3f s, best of 3)", Double(byteCount) / bestSeconds / 1e6, byteCount >> 20, bestSeconds))
        var hasher = SHA256()
        hasher.update(message[..<12_345])
        hasher.update(message[12_345...])
        #expect(hasher.finalize() == digest)
    }
}
