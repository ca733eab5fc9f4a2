import Foundation
import ModelStore
import Testing

@Suite struct ZipArchiveTests {
    func extract(_ archive: ZipArchive, _ name: String) throws -> [UInt8] {
        guard let entry = archive.entry(named: name) else {
            Issue.record("no member \(name)")
            return []
        }
        var bytes: [UInt8] = []
        try archive.extract(entry) { bytes += $0 }
        return bytes
    }

    @Test(arguments: [false, true])
    func readsStoredAndDeflatedMembers(forceZip64: Bool) throws {
        let big = testBytes(3_000_000, seed: 7)  // several 1 MiB inflate chunks
        var writer = TestZipWriter()
        writer.forceZip64 = forceZip64
        writer.add("pkg/__init__.py", Array("print('hi')\n".utf8), method: .stored)
        writer.add("pkg/data/part01.bin", big)
        writer.add("pkg/empty.txt", [], method: .deflated)
        writer.add("pkg/empty-stored.txt", [], method: .stored)
        let path = writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }

        let archive = try ZipArchive(path: path)
        #expect(archive.entries.map(\.path) == ["pkg/__init__.py", "pkg/data/part01.bin", "pkg/empty.txt", "pkg/empty-stored.txt"])
        let member = try #require(archive.entry(named: "pkg/data/part01.bin"))
        #expect(member.compressionMethod == 8)
        #expect(member.uncompressedByteCount == 3_000_000)
        #expect(member.compressedByteCount < 3_000_000)
        #expect(try extract(archive, "pkg/data/part01.bin") == big)
        #expect(try extract(archive, "pkg/__init__.py") == Array("print('hi')\n".utf8))
        #expect(try extract(archive, "pkg/empty.txt") == [])
        #expect(try extract(archive, "pkg/empty-stored.txt") == [])
    }

    /// An archive written by CPython's zipfile with ZIP64 forced (an independent writer).
    @Test func readsPythonZip64Archive() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("py-\(UUID().uuidString).zip").path
        _ = FileManager.default.createFile(atPath: path, contents: PythonZipFixture.archive)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ZipArchive(path: path)
        #expect(archive.entries.map(\.path) == ["pkg/readme.txt", "pkg/data/part01.bin", "pkg/stored.bin"])
        #expect(archive.entries.map(\.crc32) == [0x5309_3e65, 0xde0e_57ce, 0x0fa6_7778])
        #expect(archive.entries.map(\.localHeaderOffset) == [0, 95, 439])
        #expect(try extract(archive, "pkg/readme.txt") == Array(String(repeating: "hello from python zipfile\n", count: 3).utf8))
        #expect(try extract(archive, "pkg/data/part01.bin") == (0..<300).map { UInt8(($0 * 7 + 3) & 255) })
        #expect(try extract(archive, "pkg/stored.bin") == Array("stored bytes".utf8))
    }

    @Test func rejectsBadCRC() throws {
        var writer = TestZipWriter()
        writer.add("a.bin", testBytes(10_000, seed: 3))
        var bytes = writer.archive()
        // The CRC field of the central directory entry: 16 bytes after its signature.
        let centralStart = try #require(findSignature(bytes, [0x50, 0x4b, 0x01, 0x02]))
        bytes[centralStart + 16] ^= 0xff
        let path = write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ZipArchive(path: path)
        let error = #expect(throws: ModelStoreError.self) { _ = try extract(archive, "a.bin") }
        #expect(error?.description.contains("CRC-32") == true)
    }

    @Test func rejectsCorruptDeflateData() throws {
        var writer = TestZipWriter()
        writer.add("a.bin", testBytes(50_000, seed: 5))
        var bytes = writer.archive()
        for offset in stride(from: 60, to: 400, by: 7) { bytes[offset] ^= 0x5a }
        let path = write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ZipArchive(path: path)
        #expect(throws: ModelStoreError.self) { _ = try extract(archive, "a.bin") }
    }

    @Test func rejectsNonZipAndTruncatedFiles() throws {
        var writer = TestZipWriter()
        writer.add("a.bin", testBytes(20_000, seed: 9))
        let bytes = writer.archive()
        for sample in [Array("not a zip file at all, just text".utf8), [], Array(bytes[..<(bytes.count / 2)])] {
            let path = write(sample)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: ModelStoreError.self) { _ = try ZipArchive(path: path) }
        }
    }

    /// Random truncations and byte flips must give an error or the exact bytes, never a crash
    /// or wrong bytes (the CRC-32 check catches flips inside the data).
    @Test func survivesFuzzing() throws {
        var writer = TestZipWriter()
        let payload = testBytes(40_000, seed: 11)
        writer.add("pkg/x.bin", payload)
        writer.add("pkg/y.txt", Array("small".utf8), method: .stored)
        for forceZip64 in [false, true] {
            writer.forceZip64 = forceZip64
            let original = writer.archive()
            var random = SystemRandomNumberGenerator()
            for trial in 0..<150 {
                var bytes = original
                if trial % 3 == 0 {
                    bytes = Array(bytes[..<Int.random(in: 0..<bytes.count, using: &random)])
                } else {
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                    }
                }
                let path = write(bytes)
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard let archive = try? ZipArchive(path: path), let entry = archive.entry(named: "pkg/x.bin") else { continue }
                var extracted: [UInt8] = []
                if (try? archive.extract(entry, to: { extracted += $0 })) != nil {
                    #expect(extracted == payload, "trial \(trial) returned wrong bytes without an error")
                }
            }
        }
    }

    private func write(_ bytes: [UInt8]) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    private func findSignature(_ bytes: [UInt8], _ signature: [UInt8]) -> Int? {
        (0...(bytes.count - signature.count)).first { Array(bytes[$0..<($0 + signature.count)]) == signature }
    }
}
