import Foundation

/// Small element-wise operations of the forward pass.
public enum Elementwise {
    /// `gate[i] = silu(gate[i]) * up[i]` (SwiGLU), over `count` elements.
    public static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// `x[i] += y[i]`.
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// Adds `bias` (width) to each of `rowCount` rows of `x` (rows `stride` apart).
    public static func addBias(_ x: UnsafeMutablePointer<Float>, stride: Int, rowCount: Int, bias: UnsafePointer<Float>, width: Int) {
        for row in 0..<rowCount {
            let r = x + row * stride
            for i in 0..<width { r[i] += bias[i] }
        }
    }
}
