import CZlib
import Foundation
import ModelStore

/// Builds zip archives in memory for tests, written from APPNOTE.TXT independently of the
/// reader: stored or deflated (zlib, raw) members, optionally with ZIP64 extra fields and a
/// ZIP64 end record even when the sizes would fit in 32 bits.
struct TestZipWriter {
    enum Method { case stored, deflated }

    struct Member {
        var name: String
        var data: [UInt8]
        var method: Method
    }

    var members: [Member] = []
    var forceZip64 = false

    mutating func add(_ name: String, _ data: [UInt8], method: Method = .deflated) {
        members.append(Member(name: name, data: data, method: method))
    }

    func archive() -> [UInt8] {
        var output: [UInt8] = []
        var central: [UInt8] = []
        for member in members {
            let payload = member.method == .stored ? member.data : TestZipWriter.deflate(member.data)
            let crc = CRC32.checksum(member.data)
            let method: UInt16 = member.method == .stored ? 0 : 8
            let offset = UInt64(output.count)
            let name = Array(member.name.utf8)
            // Local header: with ZIP64, sizes are 0xffffffff and live in the extra field.
            var localExtra: [UInt8] = []
            if forceZip64 {
                localExtra += le16(1) + le16(16) + le64(UInt64(member.data.count)) + le64(UInt64(payload.count))
            }
            output += le32(0x0403_4b50) + le16(45) + le16(0) + le16(method) + le32(0)
            output += le32(crc)
            output += forceZip64 ? le32(0xffff_ffff) + le32(0xffff_ffff)
                                 : le32(UInt32(payload.count)) + le32(UInt32(member.data.count))
            output += le16(UInt16(name.count)) + le16(UInt16(localExtra.count)) + name + localExtra + payload

            var centralExtra: [UInt8] = []
            if forceZip64 {
                centralExtra += le16(1) + le16(24) + le64(UInt64(member.data.count)) + le64(UInt64(payload.count)) + le64(offset)
            }
            central += le32(0x0201_4b50) + le16(0x031e) + le16(45) + le16(0) + le16(method) + le32(0) + le32(crc)
            central += forceZip64 ? le32(0xffff_ffff) + le32(0xffff_ffff)
                                  : le32(UInt32(payload.count)) + le32(UInt32(member.data.count))
            central += le16(UInt16(name.count)) + le16(UInt16(centralExtra.count)) + le16(0) + le16(0) + le16(0) + le32(0)
            central += forceZip64 ? le32(0xffff_ffff) : le32(UInt32(offset))
            central += name + centralExtra
        }
        let centralOffset = UInt64(output.count)
        output += central
        if forceZip64 {
            let zip64RecordOffset = UInt64(output.count)
            output += le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            output += le64(UInt64(members.count)) + le64(UInt64(members.count))
            output += le64(UInt64(central.count)) + le64(centralOffset)
            output += le32(0x0706_4b50) + le32(0) + le64(zip64RecordOffset) + le32(1)
            output += le32(0x0605_4b50) + le16(0) + le16(0) + le16(0xffff) + le16(0xffff)
            output += le32(0xffff_ffff) + le32(0xffff_ffff) + le16(0)
        } else {
            output += le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(members.count)) + le16(UInt16(members.count))
            output += le32(UInt32(central.count)) + le32(UInt32(centralOffset)) + le16(0)
        }
        return output
    }

    /// Writes the archive to a fresh temporary file and returns its path.
    func write(to directory: URL = FileManager.default.temporaryDirectory) -> String {
        let path = directory.appendingPathComponent("test-\(UUID().uuidString).zip").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(archive()))
        return path
    }

    /// Raw deflate (window bits -15) of `data` with zlib.
    static func deflate(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                   Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = data
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
        let producedCount = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                precondition(CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<producedCount])
    }
}

func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

/// Deterministic pseudo-random bytes (xorshift), compressible only a little.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 32) & 0x3f  // 6 bits: deflate has work to do
    }
}
