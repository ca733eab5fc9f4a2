import CKernels
import Foundation

/// Measures how fast this machine streams memory into the cores (the ceiling of decode speed).
public enum MemoryBandwidth {
    /// Read bandwidth in GB/s (10⁹ bytes/s) over a buffer far larger than the caches, split over
    /// the pool's threads; the best of `repeats` passes after one warm-up pass.
    public static func measureRead(pool: ThreadPool, megabytes: Int = 1024, repeats: Int = 3) -> Double {
        let count = megabytes << 18   // floats
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        var best = 0.0
        var sink: Float = 0
        for pass in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelRanges(count, granularity: 1 << 16) { range in
                let sum = ei_stream_read(buffer + range.lowerBound, range.count)
                if sum == -1 { sink += sum }   // keeps the read from being optimised away
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if pass > 0 { best = max(best, Double(count * 4) / seconds / 1e9) }
        }
        return sink == -1 ? 0 : best
    }
}
