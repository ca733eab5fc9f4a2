/// One member of a zip archive, as its central directory describes it.
public struct ZipEntry: Sendable, Equatable {
    public var path: String
    /// 0 = stored, 8 = deflate; others are rejected when extracting.
    public var compressionMethod: UInt16
    /// General-purpose flags (bit 0: encrypted).
    public var flags: UInt16
    public var crc32: UInt32
    public var compressedByteCount: Int64
    public var uncompressedByteCount: Int64
    /// Offset of the member's local file header from the start of the archive.
    public var localHeaderOffset: Int64
}

/// A zip archive on disk, read through its central directory (APPNOTE.TXT 6.3, with ZIP64).
///
/// Only the directory is held in memory; members are streamed by `extract(_:to:)`.
public final class ZipArchive {
    public let path: String
    public let entries: [ZipEntry]
    let file: InputFile

    private enum Signature {
        static let localFileHeader: UInt32 = 0x0403_4b50
        static let centralDirectoryHeader: UInt32 = 0x0201_4b50
        static let endOfCentralDirectory: UInt32 = 0x0605_4b50
        static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4b50
        static let zip64Locator: UInt32 = 0x0706_4b50
    }

    /// Field value meaning "the real value is in the ZIP64 record".
    private static let saturated16: UInt16 = 0xffff
    private static let saturated32: UInt32 = 0xffff_ffff
    /// End-of-central-directory record without its comment.
    private static let endRecordByteCount = 22
    private static let zip64LocatorByteCount = 20
    private static let zip64EndRecordByteCount = 56
    private static let centralHeaderByteCount = 46
    static let localHeaderByteCount = 30

    public init(path: String) throws {
        self.path = path
        file = try InputFile(path: path)
        entries = try ZipArchive.readCentralDirectory(file)
    }

    public func entry(named name: String) -> ZipEntry? {
        entries.first { $0.path == name }
    }

    // MARK: - Central directory

    private struct DirectoryLocation {
        var entryCount: UInt64
        var byteCount: UInt64
        var offset: UInt64
    }

    private static func fail(_ file: InputFile, _ message: String) -> ModelStoreError {
        .badArchive(path: file.path, message: message)
    }

    private static func readCentralDirectory(_ file: InputFile) throws -> [ZipEntry] {
        let location = try locateCentralDirectory(file)
        guard location.offset <= UInt64(file.byteCount), location.byteCount <= UInt64(file.byteCount) - location.offset else {
            throw fail(file, "the central directory (offset \(location.offset), \(location.byteCount) bytes) "
                       + "lies past the end of the file (\(file.byteCount) bytes); the file is truncated")
        }
        // Every entry takes at least 46 bytes, which bounds a corrupt count before we allocate.
        guard location.entryCount <= location.byteCount / UInt64(centralHeaderByteCount) else {
            throw fail(file, "the directory claims \(location.entryCount) entries in \(location.byteCount) bytes")
        }
        var reader = LittleEndianReader(try file.readExactly(Int(location.byteCount), at: Int64(location.offset)))
        var entries: [ZipEntry] = []
        entries.reserveCapacity(Int(location.entryCount))
        for index in 0..<location.entryCount {
            entries.append(try readCentralHeader(&reader, index: index, file: file))
        }
        return entries
    }

    private static func locateCentralDirectory(_ file: InputFile) throws -> DirectoryLocation {
        guard file.byteCount >= Int64(endRecordByteCount) else {
            throw fail(file, "\(file.byteCount) bytes is too short for a zip archive")
        }
        // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
        let tailByteCount = Int(min(file.byteCount, Int64(endRecordByteCount + 0xffff)))
        let tailOffset = file.byteCount - Int64(tailByteCount)
        let tail = try file.readExactly(tailByteCount, at: tailOffset)
        var endOffset: Int?
        var candidate = tailByteCount - endRecordByteCount
        while candidate >= 0 {
            var reader = LittleEndianReader(tail, offset: candidate)
            if reader.uint32() == Signature.endOfCentralDirectory {
                reader.offset = candidate + 20
                let commentByteCount = Int(reader.uint16()!)
                if candidate + endRecordByteCount + commentByteCount <= tailByteCount {
                    endOffset = candidate
                    break
                }
            }
            candidate -= 1
        }
        guard let endOffset else {
            throw fail(file, "no end-of-central-directory record (not a zip file, or truncated)")
        }
        var reader = LittleEndianReader(tail, offset: endOffset + 4)
        let diskNumber = reader.uint16()!, directoryDisk = reader.uint16()!
        _ = reader.uint16()!  // entries on this disk
        let entryCount = reader.uint16()!
        let directoryByteCount = reader.uint32()!
        let directoryOffset = reader.uint32()!
        guard diskNumber == 0 || diskNumber == saturated16, directoryDisk == 0 || directoryDisk == saturated16 else {
            throw fail(file, "multi-disk (split) archives are not supported")
        }
        let plain = DirectoryLocation(entryCount: UInt64(entryCount), byteCount: UInt64(directoryByteCount),
                                      offset: UInt64(directoryOffset))
        let needsZip64 = entryCount == saturated16 || directoryByteCount == saturated32 || directoryOffset == saturated32
        let absoluteEndOffset = tailOffset + Int64(endOffset)
        if let zip64 = try readZip64Location(file, endRecordOffset: absoluteEndOffset) { return zip64 }
        if needsZip64 { throw fail(file, "the end record points to a ZIP64 record that is missing") }
        return plain
    }

    /// The ZIP64 end record, when a ZIP64 locator sits right before the end record.
    private static func readZip64Location(_ file: InputFile, endRecordOffset: Int64) throws -> DirectoryLocation? {
        guard endRecordOffset >= Int64(zip64LocatorByteCount) else { return nil }
        var locator = LittleEndianReader(try file.readExactly(zip64LocatorByteCount,
                                                              at: endRecordOffset - Int64(zip64LocatorByteCount)))
        guard locator.uint32() == Signature.zip64Locator else { return nil }
        _ = locator.uint32()!  // disk holding the ZIP64 end record
        let recordOffset = locator.uint64()!
        guard file.byteCount >= Int64(zip64EndRecordByteCount),
              recordOffset <= UInt64(file.byteCount - Int64(zip64EndRecordByteCount)) else {
            throw fail(file, "the ZIP64 locator points past the end of the file")
        }
        var record = LittleEndianReader(try file.readExactly(zip64EndRecordByteCount, at: Int64(recordOffset)))
        guard record.uint32() == Signature.zip64EndOfCentralDirectory else {
            throw fail(file, "no ZIP64 end-of-central-directory record at offset \(recordOffset)")
        }
        _ = record.uint64()!  // size of the rest of the record
        _ = record.uint16()!  // version made by
        _ = record.uint16()!  // version needed
        let diskNumber = record.uint32()!, directoryDisk = record.uint32()!
        guard diskNumber == 0, directoryDisk == 0 else { throw fail(file, "multi-disk (split) archives are not supported") }
        _ = record.uint64()!  // entries on this disk
        let entryCount = record.uint64()!
        let byteCount = record.uint64()!
        let offset = record.uint64()!
        return DirectoryLocation(entryCount: entryCount, byteCount: byteCount, offset: offset)
    }

    private static func readCentralHeader(_ reader: inout LittleEndianReader, index: UInt64,
                                          file: InputFile) throws -> ZipEntry {
        let truncated = fail(file, "central directory entry \(index) is truncated")
        guard reader.remainingCount >= centralHeaderByteCount else { throw truncated }
        guard reader.uint32() == Signature.centralDirectoryHeader else {
            throw fail(file, "central directory entry \(index) has a bad signature")
        }
        _ = reader.uint16()!  // version made by
        _ = reader.uint16()!  // version needed
        let flags = reader.uint16()!
        let method = reader.uint16()!
        _ = reader.uint32()!  // modification time and date
        let crc = reader.uint32()!
        let compressed32 = reader.uint32()!
        let uncompressed32 = reader.uint32()!
        let nameByteCount = Int(reader.uint16()!)
        let extraByteCount = Int(reader.uint16()!)
        let commentByteCount = Int(reader.uint16()!)
        let startDisk = reader.uint16()!
        _ = reader.uint16()!  // internal attributes
        _ = reader.uint32()!  // external attributes
        let localOffset32 = reader.uint32()!
        guard let name = reader.bytes(nameByteCount), let extra = reader.bytes(extraByteCount),
              reader.bytes(commentByteCount) != nil else { throw truncated }

        var uncompressed = UInt64(uncompressed32), compressed = UInt64(compressed32)
        var localOffset = UInt64(localOffset32)
        // ZIP64 extended information (header id 1): only the saturated fields are present, in this order.
        var fields = LittleEndianReader(Array(extra))
        while fields.remainingCount >= 4 {
            let headerID = fields.uint16()!, dataByteCount = Int(fields.uint16()!)
            guard let data = fields.bytes(dataByteCount) else { throw truncated }
            guard headerID == 0x0001 else { continue }
            var zip64 = LittleEndianReader(Array(data))
            let missing = fail(file, "entry \(index): the ZIP64 extra field lacks a value the header defers to it")
            if uncompressed32 == saturated32 { guard let value = zip64.uint64() else { throw missing }; uncompressed = value }
            if compressed32 == saturated32 { guard let value = zip64.uint64() else { throw missing }; compressed = value }
            if localOffset32 == saturated32 { guard let value = zip64.uint64() else { throw missing }; localOffset = value }
        }
        guard startDisk == 0 || startDisk == saturated16 else {
            throw fail(file, "multi-disk (split) archives are not supported")
        }
        let limit = UInt64(Int64.max)
        guard uncompressed < limit, compressed < limit, localOffset < limit else {
            throw fail(file, "entry \(index) has impossible sizes")
        }
        return ZipEntry(path: String(decoding: name, as: UTF8.self), compressionMethod: method, flags: flags,
                        crc32: crc, compressedByteCount: Int64(compressed), uncompressedByteCount: Int64(uncompressed),
                        localHeaderOffset: Int64(localOffset))
    }
}
