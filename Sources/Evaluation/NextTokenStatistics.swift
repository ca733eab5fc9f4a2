import Foundation

/// Next-token quality of one policy against the dense oracle, accumulated one logits row at a
/// time so no more than the rows of one forward pass are ever held: mean negative
/// log-likelihood of the actual next token (nats) under both, perplexity, the mean KL divergence
/// KL(dense ‖ policy) of the full next-token distributions (nats), and how often both put the
/// same token first.
///
/// Each row is reduced in Double with its own maximum subtracted (log-sum-exp), so rows of
/// 150K logits lose nothing to Float rounding in the sums.
public struct NextTokenStatistics: Sendable, Equatable {
    public private(set) var count = 0
    private var policyNLLSum = 0.0
    private var denseNLLSum = 0.0
    private var klSum = 0.0
    private var topAgreements = 0
    /// Σ (policy NLL − dense NLL)² over the rows: the spread of the paired difference.
    private var differenceSquaredSum = 0.0

    public init() {}

    /// Mean NLL of the policy (nats per token).
    public var meanNLL: Double { count == 0 ? .nan : policyNLLSum / Double(count) }
    /// Mean NLL of dense on the same rows.
    public var denseMeanNLL: Double { count == 0 ? .nan : denseNLLSum / Double(count) }
    public var perplexity: Double { exp(meanNLL) }
    /// Mean KL(dense ‖ policy) per token (nats).
    public var meanKL: Double { count == 0 ? .nan : klSum / Double(count) }
    /// Mean NLL difference, policy − dense (nats per token; negative: the policy predicts the
    /// actual text better than dense).
    public var meanNLLDifference: Double { count == 0 ? .nan : (policyNLLSum - denseNLLSum) / Double(count) }
    /// Standard error of `meanNLLDifference` over the rows (paired: each row is one position
    /// scored by both), √(s² / n) with the sample variance s²; NaN below two rows. Rows of one
    /// text are not independent, so read it as a lower bound of the uncertainty.
    public var nllDifferenceStandardError: Double {
        guard count > 1 else { return .nan }
        let n = Double(count)
        let mean = meanNLLDifference
        let variance = max(0, (differenceSquaredSum - n * mean * mean) / (n - 1))
        return (variance / n).squareRoot()
    }
    /// Fraction of rows where both have the same most likely token.
    public var topAgreement: Double { count == 0 ? .nan : Double(topAgreements) / Double(count) }

    /// Adds one position: `dense` and `policy` are its logits rows (`vocabularySize` f32 each)
    /// and `target` the token that actually came next.
    public mutating func add(dense: UnsafePointer<Float>, policy: UnsafePointer<Float>, vocabularySize: Int, target: Int32) {
        let row = Self.compare(dense: dense, policy: policy, vocabularySize: vocabularySize, target: Int(target))
        count += 1
        policyNLLSum += row.policyNLL
        denseNLLSum += row.denseNLL
        klSum += row.kl
        if row.sameTop { topAgreements += 1 }
        let difference = row.policyNLL - row.denseNLL
        differenceSquaredSum += difference * difference
    }

    /// Adds another accumulator's rows (e.g. another window).
    public mutating func merge(_ other: NextTokenStatistics) {
        count += other.count
        policyNLLSum += other.policyNLLSum
        denseNLLSum += other.denseNLLSum
        klSum += other.klSum
        topAgreements += other.topAgreements
        differenceSquaredSum += other.differenceSquaredSum
    }

    /// One row: NLLs of `target` under both distributions, KL(dense ‖ policy), same argmax.
    ///   KL = Σᵢ pᵢ (dᵢ − qᵢ) − log Z_d + log Z_q, with pᵢ = softmax(d)ᵢ and log Z = log-sum-exp.
    static func compare(dense: UnsafePointer<Float>, policy: UnsafePointer<Float>, vocabularySize: Int,
                        target: Int) -> (policyNLL: Double, denseNLL: Double, kl: Double, sameTop: Bool) {
        precondition(target >= 0 && target < vocabularySize, "target outside the vocabulary")
        var denseMax = -Float.infinity, policyMax = -Float.infinity
        var denseArgmax = 0, policyArgmax = 0
        for index in 0..<vocabularySize {
            if dense[index] > denseMax { denseMax = dense[index]; denseArgmax = index }
            if policy[index] > policyMax { policyMax = policy[index]; policyArgmax = index }
        }
        var denseSum = 0.0, policySum = 0.0, weighted = 0.0
        let denseShift = Double(denseMax), policyShift = Double(policyMax)
        for index in 0..<vocabularySize {
            let d = Double(dense[index]), q = Double(policy[index])
            let weight = exp(d - denseShift)
            denseSum += weight
            policySum += exp(q - policyShift)
            weighted += weight * (d - q)
        }
        let denseLogZ = denseShift + log(denseSum)
        let policyLogZ = policyShift + log(policySum)
        let kl = weighted / denseSum - denseLogZ + policyLogZ
        return (policyLogZ - Double(policy[target]), denseLogZ - Double(dense[target]), max(0, kl),
                denseArgmax == policyArgmax)
    }
}
