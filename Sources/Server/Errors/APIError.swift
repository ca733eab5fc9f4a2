import Engine
import JSON

/// An error answered in OpenAI's envelope `{"error": {"message", "type", "param", "code"}}`.
///
/// `code` is always a string a program can branch on (see `APIError.Code`); `extra` carries
/// additional fields inside the error object (token counts for context errors).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String
    public var extra: JSONObject
    public var headers: [Header]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public init(status: Int, message: String, type: String? = nil, param: String? = nil, code: String,
                extra: JSONObject = JSONObject(), headers: [Header] = []) {
        self.status = status; self.message = message
        self.type = type ?? (status >= 500 ? "server_error" : "invalid_request_error")
        self.param = param; self.code = code; self.extra = extra; self.headers = headers
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The envelope object.
    public var json: JSONValue {
        var error: JSONObject = ["message": .string(message), "type": .string(type), "param": JSONValue(param),
                                 "code": .string(code)]
        for (key, value) in extra { error[key] = value }
        return ["error": .object(error)]
    }

    public var response: HTTPResponse {
        .json(json, status: status, headers: headers.map { (name: $0.name, value: $0.value) })
    }

    /// Machine-readable codes of every error the server answers.
    public enum Code {
        public static let invalidJSON = "invalid_json"
        public static let invalidType = "invalid_type"
        public static let missingParameter = "missing_required_parameter"
        public static let invalidValue = "invalid_value"
        public static let unsupportedParameter = "unsupported_parameter"
        public static let contextLengthExceeded = "context_length_exceeded"
        public static let kvMemoryExceeded = "kv_memory_exceeded"
        public static let invalidAPIKey = "invalid_api_key"
        public static let modelNotFound = "model_not_found"
        public static let unknownURL = "unknown_url"
        public static let methodNotAllowed = "method_not_allowed"
        public static let requestTooLarge = "request_too_large"
        public static let serverOverloaded = "server_overloaded"
        public static let modelLoading = "model_loading"
        public static let shuttingDown = "shutting_down"
        public static let internalError = "internal_error"
        public static let clientClosedRequest = "client_closed_request"
    }
}

extension APIError {
    /// Runs request validation that throws `JSONFieldError`s (a field's type or presence) and
    /// `APIError`s; the former become 400s naming the field, anything else an internal error.
    static func validating<Result>(_ body: () throws -> Result) throws(APIError) -> Result {
        do {
            return try body()
        } catch let error as JSONFieldError {
            throw .field(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw .internalError("\(error)")
        }
    }

    public static func invalidJSON(_ error: JSONParseError) -> APIError {
        APIError(status: 400, message: "The request body is not valid JSON: \(error.description).", code: Code.invalidJSON)
    }

    public static func field(_ error: JSONFieldError) -> APIError {
        let code: String
        switch error.kind {
        case .missing: code = Code.missingParameter
        case .invalidType: code = Code.invalidType
        case .invalidValue: code = Code.invalidValue
        }
        return APIError(status: 400, message: error.message, param: error.parameter.isEmpty ? nil : error.parameter, code: code)
    }

    public static func invalidValue(_ param: String?, _ message: String) -> APIError {
        APIError(status: 400, message: message, param: param, code: Code.invalidValue)
    }

    /// A parameter the server knows but does not implement yet: never ignored silently.
    public static func unsupported(_ param: String, _ message: String) -> APIError {
        APIError(status: 400, message: message, param: param, code: Code.unsupportedParameter)
    }

    public static func contextLengthExceeded(promptTokens: Int, requestedTokens: Int?, contextLength: Int,
                                             param: String) -> APIError {
        let message = EngineErrorText.contextLength(promptTokens: promptTokens, requestedTokens: requestedTokens,
                                                    contextLength: contextLength)
        var extra: JSONObject = ["n_prompt_tokens": .int(promptTokens), "n_ctx": .int(contextLength)]
        if let requestedTokens { extra["max_tokens"] = .int(requestedTokens) }
        return APIError(status: 400, message: message, param: param, code: Code.contextLengthExceeded, extra: extra)
    }

    public static let invalidAPIKey = APIError(
        status: 401,
        message: "Missing or invalid API key. Send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
        code: Code.invalidAPIKey, headers: [Header("WWW-Authenticate", "Bearer")])

    public static func modelNotFound(_ name: String, served: [String]) -> APIError {
        APIError(status: 404,
                 message: "The model '\(name)' does not exist on this server; it serves \(served.map { "'\($0)'" }.joined(separator: ", ")).",
                 param: "model", code: Code.modelNotFound)
    }

    public static func unknownURL(method: String, path: String) -> APIError {
        APIError(status: 404, message: "Unknown URL: \(method) \(path). See GET /v1/models and the OpenAPI description (openapi.yaml).",
                 code: Code.unknownURL)
    }

    public static func methodNotAllowed(method: String, path: String, allowed: [String]) -> APIError {
        APIError(status: 405, message: "\(path) does not accept \(method); use \(allowed.joined(separator: " or ")).",
                 code: Code.methodNotAllowed, headers: [Header("Allow", allowed.joined(separator: ", "))])
    }

    public static func requestTooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body is larger than the server's limit of \(limit) bytes (max_body_bytes).",
                 code: Code.requestTooLarge)
    }

    public static let modelLoading = APIError(status: 503, message: "The model is loading; retry shortly.",
                                              type: "unavailable_error", code: Code.modelLoading,
                                              headers: [Header("Retry-After", "5")])

    public static let shuttingDown = APIError(status: 503, message: "The server is shutting down.",
                                              type: "unavailable_error", code: Code.shuttingDown,
                                              headers: [Header("Connection", "close")])

    /// The client went away before the answer was ready (logged as 499, as nginx does; the
    /// client never sees it).
    public static let clientClosedRequest = APIError(status: 499, message: "The client closed the connection.",
                                                     code: Code.clientClosedRequest)

    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, message: "Internal server error: \(message)", code: Code.internalError)
    }
}

/// Message texts shared by the server's own checks and the engine's errors.
enum EngineErrorText {
    static func contextLength(promptTokens: Int, requestedTokens: Int?, contextLength: Int) -> String {
        EngineError.contextLengthExceeded(promptTokens: promptTokens, requestedTokens: requestedTokens,
                                          contextLength: contextLength).description
    }
}
