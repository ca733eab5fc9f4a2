/// Checks API keys sent as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Comparison
/// takes the same time whatever the key sent: every configured key is compared over its full
/// length, and the result is combined without early exit.
public struct Authenticator: Sendable {
    private let keys: [[UInt8]]

    public init(keys: [String]) { self.keys = keys.map { Array($0.utf8) } }

    public var isEnabled: Bool { !keys.isEmpty }

    public func isAuthorized(_ headers: HTTPHeaders) -> Bool {
        guard isEnabled else { return true }
        var presented: [UInt8]? = nil
        if let authorization = headers["Authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                presented = Array(parts[1].trimmingSpaces().utf8)
            }
        }
        if presented == nil, let apiKey = headers["X-Api-Key"] {
            presented = Array(apiKey.utf8)
        }
        guard let presented else { return false }
        var matched: UInt8 = 0
        for key in keys { matched |= Self.constantTimeEqual(presented, key) }
        return matched == 1
    }

    /// 1 when equal, 0 otherwise; time depends only on `expected.count`.
    static func constantTimeEqual(_ presented: [UInt8], _ expected: [UInt8]) -> UInt8 {
        var difference = UInt64(truncatingIfNeeded: presented.count ^ expected.count)
        for index in 0..<expected.count {
            let byte = index < presented.count ? presented[index] : 0
            difference |= UInt64(byte ^ expected[index])
        }
        return difference == 0 ? 1 : 0
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var text = self
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
