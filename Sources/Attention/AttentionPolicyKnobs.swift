/// Building an `AttentionPolicy` from a name and knob values (the request's `"attention"`
/// object and the server configuration), with errors a user can act on.
public struct AttentionPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension AttentionPolicy {
    public static let policyNames = Kind.allCases.map(\.rawValue)

    /// The policy called `name` with its default knobs.
    public static func named(_ name: String) throws(AttentionPolicyError) -> AttentionPolicy {
        guard let kind = Kind(rawValue: name) else {
            throw AttentionPolicyError("unknown attention policy '\(name)'; expected one of \(policyNames.joined(separator: ", "))")
        }
        return AttentionPolicy(kind: kind)
    }

    /// Knob names (snake_case, as in JSON) and the range each accepts.
    public static let integerKnobs: [String: ClosedRange<Int>] = [
        "segment_tokens": 16...65_536, "dense_below_tokens": 0...16_777_216, "dense_layers": 0...1024,
        "minimum_prompt_tokens": 0...16_777_216, "base_budget_tokens": 16...1_048_576, "maximum_budget_factor": 1...64,
        "minimum_budget_tokens": 0...16_777_216, "maximum_budget_tokens": 16...16_777_216, "sink_tokens": 0...16_777_216,
        "local_window_tokens": 0...16_777_216, "uniform_budget_tokens": 16...16_777_216,
    ]
    public static let numberKnobs: [String: ClosedRange<Double>] = [
        "rigid_entropy_threshold": 0...100, "delta_threshold": 0...10, "alpha": 0...10, "coverage": 0...1,
    ]
    public static let booleanKnobs: Set<String> = ["dense_last_segment"]

    /// Sets an integer knob; the segment length must be a multiple of 16 (whole KV blocks).
    public mutating func set(_ knob: String, integer value: Int) throws(AttentionPolicyError) {
        guard let range = Self.integerKnobs[knob] else {
            if Self.numberKnobs[knob] != nil { try set(knob, number: Double(value)); return }
            throw Self.unknownKnob(knob)
        }
        guard range.contains(value) else {
            throw AttentionPolicyError("attention knob '\(knob)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        switch knob {
        case "segment_tokens":
            guard value % 16 == 0 else { throw AttentionPolicyError("attention knob 'segment_tokens' must be a multiple of 16, got \(value)") }
            segmentTokens = value
        case "dense_below_tokens": denseBelowTokens = value
        case "dense_layers": denseLayers = value
        case "minimum_prompt_tokens": minimumPromptTokens = value
        case "base_budget_tokens": baseBudgetTokens = value
        case "maximum_budget_factor": maximumBudgetFactor = value
        case "minimum_budget_tokens": minimumBudgetTokens = value
        case "maximum_budget_tokens": maximumBudgetTokens = value
        case "sink_tokens": sinkTokens = value
        case "local_window_tokens": localWindowTokens = value
        default: uniformBudgetTokens = value
        }
    }

    public mutating func set(_ knob: String, number value: Double) throws(AttentionPolicyError) {
        guard let range = Self.numberKnobs[knob] else {
            if Self.integerKnobs[knob] != nil {
                guard value.rounded() == value, let integer = Int(exactly: value) else {
                    throw AttentionPolicyError("attention knob '\(knob)' takes a whole number, got \(value)")
                }
                try set(knob, integer: integer)
                return
            }
            throw Self.unknownKnob(knob)
        }
        guard value.isFinite, range.contains(value) else {
            throw AttentionPolicyError("attention knob '\(knob)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        switch knob {
        case "rigid_entropy_threshold": rigidEntropyThreshold = value
        case "delta_threshold": deltaThreshold = value
        case "alpha": alpha = value
        default: coverage = value
        }
    }

    public mutating func set(_ knob: String, boolean value: Bool) throws(AttentionPolicyError) {
        guard Self.booleanKnobs.contains(knob) else { throw Self.unknownKnob(knob) }
        denseLastSegment = value
    }

    /// Checks the knobs together (bounds that depend on each other).
    public func validated() throws(AttentionPolicyError) -> AttentionPolicy {
        if minimumBudgetTokens > maximumBudgetTokens {
            throw AttentionPolicyError("attention knob 'minimum_budget_tokens' (\(minimumBudgetTokens)) exceeds 'maximum_budget_tokens' (\(maximumBudgetTokens))")
        }
        return self
    }

    private static func unknownKnob(_ knob: String) -> AttentionPolicyError {
        let known = (Array(integerKnobs.keys) + Array(numberKnobs.keys) + Array(booleanKnobs)).sorted()
        return AttentionPolicyError("unknown attention knob '\(knob)'; known knobs: policy, \(known.joined(separator: ", "))")
    }
}
