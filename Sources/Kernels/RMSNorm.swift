/// Root-mean-square normalisation of rows: `out = x / sqrt(mean(x²) + epsilon) * weight`.
///
/// The sum of squares is accumulated in Double in index order, so a row's result depends only
/// on the row (batch invariant) and is as accurate as the fp32 reference needs.
public enum RMSNorm {
    /// - Parameters:
    ///   - input: (rowCount, width) f32, rows `inputStride` apart.
    ///   - weight: (width) f32.
    ///   - output: (rowCount, width) f32, rows `outputStride` apart; may equal `input`.
    public static func apply(input: UnsafePointer<Float>, inputStride: Int, weight: UnsafePointer<Float>,
                             output: UnsafeMutablePointer<Float>, outputStride: Int,
                             rowCount: Int, width: Int, epsilon: Float) {
        for row in 0..<rowCount {
            let x = input + row * inputStride
            let y = output + row * outputStride
            var sum = 0.0
            for i in 0..<width { sum += Double(x[i]) * Double(x[i]) }
            let scale = Float(1 / (sum / Double(width) + Double(epsilon)).squareRoot())
            for i in 0..<width { y[i] = x[i] * scale * weight[i] }
        }
    }
}
