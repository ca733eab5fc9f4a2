import CKernels

/// fp32 <-> IEEE half rows (the KV cache and attention store f16), through the C kernels
/// (F16C / AVX-512 / portable: bit-identical, round to nearest even).
public enum HalfPrecision {
    /// - Parameters: source (count) fp32; destination (count) f16 bits.
    public static func convert(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<UInt16>, count: Int,
                               isa: KernelISA = .active) {
        ei_f32_to_f16_row_isa(isa.cValue, source, destination, count)
    }

    /// - Parameters: source (count) f16 bits; destination (count) fp32.
    public static func convert(_ source: UnsafePointer<UInt16>, to destination: UnsafeMutablePointer<Float>, count: Int,
                               isa: KernelISA = .active) {
        ei_f16_to_f32_row_isa(isa.cValue, source, destination, count)
    }

    /// The Swift reference of one conversion (compiler-rt's correctly rounded software conversion).
    public static func referenceHalf(_ value: Float) -> UInt16 { Float16(value).bitPattern }
    public static func referenceFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
}
