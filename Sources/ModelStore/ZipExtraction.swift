import CZlib

extension ZipArchive {
    /// Size of the read and inflate buffers: memory use of an extraction is twice this.
    static let extractionChunkByteCount = 1 << 20

    /// Streams the uncompressed bytes of `entry` to `sink`, in order, in chunks of at most 1 MiB,
    /// then checks the member's CRC-32 and size against the central directory.
    ///
    /// Stored (0) and deflated (8) members are supported; anything else, and encrypted
    /// members, throw `ModelStoreError.badArchive`.
    public func extract(_ entry: ZipEntry, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard entry.flags & 0x1 == 0 else { throw fail("\(entry.path) is encrypted") }
        let dataOffset = try dataOffset(of: entry)
        guard dataOffset <= file.byteCount, entry.compressedByteCount <= file.byteCount - dataOffset else {
            throw fail("\(entry.path): its \(entry.compressedByteCount) compressed bytes run past the end of the "
                       + "file (\(file.byteCount) bytes); the file is truncated")
        }
        var crc = CRC32()
        var producedByteCount: Int64 = 0
        let checkedSink = { (chunk: UnsafeRawBufferPointer) throws in
            producedByteCount += Int64(chunk.count)
            guard producedByteCount <= entry.uncompressedByteCount else {
                throw self.fail("\(entry.path) inflates to more than the \(entry.uncompressedByteCount) bytes "
                                + "the directory records")
            }
            crc.update(chunk)
            try sink(chunk)
        }
        switch entry.compressionMethod {
        case 0: try copyStored(entry, from: dataOffset, to: checkedSink)
        case 8: try inflate(entry, from: dataOffset, to: checkedSink)
        default: throw fail("\(entry.path) uses compression method \(entry.compressionMethod); only stored (0) "
                            + "and deflate (8) are supported")
        }
        guard producedByteCount == entry.uncompressedByteCount else {
            throw fail("\(entry.path) inflated to \(producedByteCount) bytes, the directory records "
                       + "\(entry.uncompressedByteCount)")
        }
        guard crc.value == entry.crc32 else {
            throw fail("\(entry.path) has CRC-32 \(hex32(crc.value)), the directory records \(hex32(entry.crc32))")
        }
    }

    private func fail(_ message: String) -> ModelStoreError {
        .badArchive(path: path, message: message)
    }

    private func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Where the member's bytes start: after its local header, whose name and extra lengths may
    /// differ from the central directory's.
    private func dataOffset(of entry: ZipEntry) throws -> Int64 {
        var header = LittleEndianReader(try file.readExactly(ZipArchive.localHeaderByteCount, at: entry.localHeaderOffset))
        guard header.uint32() == 0x0403_4b50 else {
            throw fail("\(entry.path): no local file header at offset \(entry.localHeaderOffset)")
        }
        header.offset = 26
        let nameByteCount = Int64(header.uint16()!), extraByteCount = Int64(header.uint16()!)
        return entry.localHeaderOffset + Int64(ZipArchive.localHeaderByteCount) + nameByteCount + extraByteCount
    }

    private func copyStored(_ entry: ZipEntry, from offset: Int64,
                            to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard entry.compressedByteCount == entry.uncompressedByteCount else {
            throw fail("\(entry.path) is stored but its compressed and uncompressed sizes differ")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ZipArchive.extractionChunkByteCount, alignment: 64)
        defer { buffer.deallocate() }
        var position = offset
        var remaining = entry.compressedByteCount
        while remaining > 0 {
            let wanted = Int(min(remaining, Int64(buffer.count)))
            let readCount = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<wanted]), at: position)
            guard readCount > 0 else { throw fail("\(entry.path) ends early; the file is truncated") }
            try sink(UnsafeRawBufferPointer(rebasing: buffer[..<readCount]))
            position += Int64(readCount)
            remaining -= Int64(readCount)
        }
    }

    /// Raw deflate (no zlib header, window bits -15), input and output streamed through 1 MiB buffers.
    private func inflate(_ entry: ZipEntry, from offset: Int64,
                         to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: ZipArchive.extractionChunkByteCount, alignment: 64)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZipArchive.extractionChunkByteCount, alignment: 64)
        defer {
            input.deallocate()
            output.deallocate()
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start inflating \(entry.path)")
        }
        defer { inflateEnd(&stream) }

        var position = offset
        var remainingInput = entry.compressedByteCount
        var status = Z_OK
        while status != Z_STREAM_END {
            if stream.avail_in == 0 {
                guard remainingInput > 0 else {
                    throw fail("the deflate stream of \(entry.path) ends before its end marker; the file is truncated")
                }
                let wanted = Int(min(remainingInput, Int64(input.count)))
                let readCount = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: input[..<wanted]), at: position)
                guard readCount > 0 else { throw fail("\(entry.path) ends early; the file is truncated") }
                position += Int64(readCount)
                remainingInput -= Int64(readCount)
                stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(readCount)
            }
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(output.count)
            status = CZlib.inflate(&stream, Z_NO_FLUSH)
            guard status == Z_OK || status == Z_STREAM_END else {
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw fail("\(entry.path) does not inflate (\(reason)); the file is corrupt")
            }
            let producedCount = output.count - Int(stream.avail_out)
            if producedCount > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[..<producedCount])) }
        }
    }
}
