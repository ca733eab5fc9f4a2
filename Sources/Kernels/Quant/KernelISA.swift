import CKernels

/// The instruction-set level of the C kernels, chosen at run time from CPUID.
///
/// Swift is compiled for baseline x86-64; each SIMD kernel is C with per-function target
/// attributes. All levels compute bit-identical results (the numerics are fixed by the formats,
/// see `MatMulReference`), so the level only changes speed. An ARM NEON level would be added here
/// and in `ei_isa` (Sources/CKernels/include/CKernels.h), with the portable path as its fallback.
public enum KernelISA: Int, Sendable, CaseIterable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2

    /// The best level this CPU and OS support.
    public static var best: KernelISA { KernelISA(ei_cpu_best_isa()) }

    /// The level kernels use on this thread (and in the ThreadPool jobs it submits): `best` unless
    /// this thread lowered it (tests, benchmarks). Other threads are unaffected.
    public static var active: KernelISA {
        get { KernelISA(ei_active_isa()) }
        set { ei_set_active_isa(newValue.cValue) }
    }

    /// Every level this CPU can run, lowest first.
    public static var available: [KernelISA] { allCases.filter { $0.rawValue <= best.rawValue } }

    /// CPU features as CPUID reports them, e.g. "avx2 fma f16c avx512f ...".
    public static var cpuFeatures: String { String(cString: ei_cpu_features()) }

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    var cValue: ei_isa { ei_isa(rawValue: UInt32(rawValue)) }

    init(_ isa: ei_isa) { self = KernelISA(rawValue: Int(isa.rawValue)) ?? .portable }
}
