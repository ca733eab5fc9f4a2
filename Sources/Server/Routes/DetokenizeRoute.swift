import JSON

/// `POST /detokenize`: `{"tokens": [ids]}` → `{"content": text}` (invalid UTF-8 becomes U+FFFD).
public struct DetokenizeRoute: Route {
    public let method = "POST"
    public let pattern = "/detokenize"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let fields = try RequestBody.fields(request)
        let values: [JSONValue]
        do {
            values = try fields.requiredArray("tokens")
        } catch {
            throw .field(error)
        }
        let service = try context.service()
        let vocabularySize = service.tokenizer.vocabularySize
        var tokens: [Int32] = []
        tokens.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard case .int(let id) = value else {
                throw .field(.invalidType("tokens[\(index)]", expected: "a token id (integer)", got: value))
            }
            guard id >= 0, id < vocabularySize else {
                throw .invalidValue("tokens[\(index)]", "Invalid value for 'tokens[\(index)]': \(id) is not a token id of this model (0…\(vocabularySize - 1)).")
            }
            tokens.append(Int32(id))
        }
        return .json(["content": .string(service.tokenizer.decode(tokens))])
    }
}
