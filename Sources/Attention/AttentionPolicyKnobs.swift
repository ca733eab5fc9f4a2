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

    /// A policy written on a command line as `name[:knob=value...]`, e.g.
    /// `entropy:coverage=0.99:minimum_budget_tokens=1024` (knobs as in the JSON object).
    public static func parse(spec: String) throws(AttentionPolicyError) -> AttentionPolicy {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var policy = try named(parts[0])
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else {
                throw AttentionPolicyError("'\(part)' in attention policy '\(spec)' is not knob=value (e.g. entropy:coverage=0.99)")
            }
            let (knob, value) = (pair[0], pair[1])
            if booleanKnobs.contains(knob) {
                guard let flag = Bool(value) else { throw AttentionPolicyError("attention knob '\(knob)' takes true or false, got '\(value)'") }
                try policy.set(knob, boolean: flag)
            } else if let integer = Int(value) {
                try policy.set(knob, integer: integer)
            } else if let number = Double(value) {
                try policy.set(knob, number: number)
            } else {
                throw AttentionPolicyError("attention knob '\(knob)' takes a number, got '\(value)'")
            }
        }
        return try policy.validated()
    }

    /// The knobs of this policy's kind, by JSON name, as text.
    var knobTexts: [(name: String, value: String)] {
        var common = [("segment_tokens", "\(segmentTokens)"), ("dense_below_tokens", "\(denseBelowTokens)"),
                      ("dense_layers", "\(denseLayers)"), ("minimum_prompt_tokens", "\(minimumPromptTokens)")]
        switch kind {
        case .dense:
            return []
        case .reference:
            common += [("rigid_entropy_threshold", "\(rigidEntropyThreshold)"), ("delta_threshold", "\(deltaThreshold)"),
                       ("alpha", "\(alpha)"), ("base_budget_tokens", "\(baseBudgetTokens)"),
                       ("maximum_budget_factor", "\(maximumBudgetFactor)")]
        case .entropy:
            common += [("profile_queries", "\(profileQueries)"), ("coverage", "\(coverage)"), ("minimum_budget_tokens", "\(minimumBudgetTokens)"),
                       ("maximum_budget_tokens", "\(maximumBudgetTokens)"), ("sink_tokens", "\(sinkTokens)"),
                       ("local_window_tokens", "\(localWindowTokens)"), ("dense_last_segment", "\(denseLastSegment)")]
        case .uniform:
            common += [("uniform_budget_tokens", "\(uniformBudgetTokens)"), ("dense_last_segment", "\(denseLastSegment)")]
        }
        return common
    }

    /// The name, then each knob that differs from its default as `:knob=value` (the form
    /// `parse(spec:)` reads): what tables and progress lines call the policy.
    public var label: String {
        let defaults = Dictionary(uniqueKeysWithValues: AttentionPolicy(kind: kind).knobTexts.map { ($0.name, $0.value) })
        return ([kind.rawValue] + knobTexts.filter { defaults[$0.name] != $0.value }.map { "\($0.name)=\($0.value)" })
            .joined(separator: ":")
    }

    /// Knob names (snake_case, as in JSON) and the range each accepts.
    public static let integerKnobs: [String: ClosedRange<Int>] = [
        "segment_tokens": 16...65_536, "dense_below_tokens": 0...16_777_216, "dense_layers": 0...1024,
        "minimum_prompt_tokens": 0...16_777_216, "base_budget_tokens": 16...1_048_576, "maximum_budget_factor": 1...64,
        "minimum_budget_tokens": 0...16_777_216, "maximum_budget_tokens": 16...16_777_216, "sink_tokens": 0...16_777_216,
        "local_window_tokens": 0...16_777_216, "uniform_budget_tokens": 16...16_777_216, "profile_queries": 0...4096,
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
        case "profile_queries": profileQueries = value
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
