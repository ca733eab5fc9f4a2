/// A request field that is missing, of the wrong type or out of range. The server turns it into a
/// 400 whose `param` is `parameter` and whose message says what was expected.
public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case missing
        case invalidType
        case invalidValue
    }

    public var kind: Kind
    /// The parameter's path as clients write it: `max_tokens`, `messages[2].content`.
    public var parameter: String
    public var message: String

    public init(_ kind: Kind, parameter: String, message: String) {
        self.kind = kind; self.parameter = parameter; self.message = message
    }

    public var description: String { message }

    public static func missing(_ parameter: String) -> JSONFieldError {
        JSONFieldError(.missing, parameter: parameter, message: "Missing required parameter: '\(parameter)'.")
    }

    public static func invalidType(_ parameter: String, expected: String, got value: JSONValue) -> JSONFieldError {
        JSONFieldError(.invalidType, parameter: parameter,
                       message: "Invalid type for '\(parameter)': expected \(expected), but got \(value.typeDescription) instead.")
    }

    public static func invalidValue(_ parameter: String, _ explanation: String) -> JSONFieldError {
        JSONFieldError(.invalidValue, parameter: parameter, message: "Invalid value for '\(parameter)': \(explanation)")
    }
}

/// Bounds for a numeric field; `description` reads as the end of "expected a number …".
public enum NumericBound<Number: Comparable & Sendable>: Sendable {
    case closed(Number, Number)
    /// lower < x ≤ upper
    case leftOpen(Number, Number)
    case atLeast(Number)
    case greaterThan(Number)

    public func contains(_ value: Number) -> Bool {
        switch self {
        case .closed(let low, let high): return low <= value && value <= high
        case .leftOpen(let low, let high): return low < value && value <= high
        case .atLeast(let low): return low <= value
        case .greaterThan(let low): return low < value
        }
    }

    public var description: String {
        switch self {
        case .closed(let low, let high): return "between \(low) and \(high)"
        case .leftOpen(let low, let high): return "greater than \(low) and at most \(high)"
        case .atLeast(let low): return "at least \(low)"
        case .greaterThan(let low): return "greater than \(low)"
        }
    }
}
