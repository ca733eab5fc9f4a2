/// Reusable buffers for `WeightMatrix.multiply`: the quantized activation rows.
///
/// Grow-only: once it has served the largest call, multiplying allocates nothing. One scratch per
/// submitting thread (the engine thread); the pool's workers only read and write disjoint parts.
public final class MatMulScratch: @unchecked Sendable {
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0

    public init() {}

    deinit { buffer?.deallocate() }

    /// At least `byteCount` bytes, 64-byte aligned; contents are undefined.
    func bytes(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if let buffer, capacity >= byteCount { return buffer }
        buffer?.deallocate()
        capacity = max(byteCount, capacity * 3 / 2, 4096)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        buffer = fresh
        return fresh
    }

    /// Bytes held now.
    public var byteCount: Int { capacity }
}
