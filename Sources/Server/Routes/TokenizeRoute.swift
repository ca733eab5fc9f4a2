import JSON

/// `POST /tokenize`, as llama.cpp's server: `{"content": text, "add_special": false,
/// "parse_special": true, "with_pieces": false}` → `{"tokens": [ids]}`, or with pieces
/// `{"tokens": [{"id", "piece"}]}` where a piece that is not valid UTF-8 on its own is given as
/// its byte values.
public struct TokenizeRoute: Route {
    public let method = "POST"
    public let pattern = "/tokenize"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let fields = try RequestBody.fields(request)
        let content: String, addSpecial: Bool, parseSpecial: Bool, withPieces: Bool, model: String?
        do {
            model = try fields.string("model")
            content = try fields.requiredString("content")
            addSpecial = try fields.bool("add_special") ?? false
            parseSpecial = try fields.bool("parse_special") ?? true
            withPieces = try fields.bool("with_pieces") ?? false
        } catch {
            throw .field(error)
        }
        let service = try context.service()
        try context.checkModel(model, service: service)
        let tokenizer = service.tokenizer
        let tokens = tokenizer.encode(content, addSpecial: addSpecial, parseSpecial: parseSpecial)
        guard withPieces else { return .json(["tokens": .array(tokens.map { .int(Int($0)) })]) }
        let entries: [JSONValue] = tokens.map { token in
            let bytes = tokenizer.pieceBytes(token)
            let piece: JSONValue = String(validating: bytes, as: UTF8.self).map { .string($0) }
                ?? .array(bytes.map { .int(Int($0)) })
            return ["id": .int(Int(token)), "piece": piece]
        }
        return .json(["tokens": .array(entries)])
    }
}
