import Foundation

/// Monotonic seconds (CLOCK_MONOTONIC): every timestamp of a load test comes from here, taken
/// right after the system call that delivered the bytes.
public enum MonotonicTime {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}
