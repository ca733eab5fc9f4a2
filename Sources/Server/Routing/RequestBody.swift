import JSON

/// Parses a request body as a JSON object.
enum RequestBody {
    static func fields(_ request: HTTPRequest) throws(APIError) -> JSONFields {
        let value: JSONValue
        do {
            value = try JSONValue.parse(request.body)
        } catch {
            throw APIError.invalidJSON(error)
        }
        do {
            return try JSONFields.body(value)
        } catch {
            throw APIError(status: 400, message: error.message, code: APIError.Code.invalidJSON)
        }
    }
}
