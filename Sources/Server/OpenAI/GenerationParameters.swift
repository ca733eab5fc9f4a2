import Attention
import Engine
import Grammar
import JSON
import KVMemory
import Sampling

/// The request fields `/v1/chat/completions` and `/v1/completions` share, validated.
struct GenerationParameters {
    var model: String?
    var sampling = SamplingParameters()
    var n = 1
    /// nil: until the context is full.
    var maxTokens: Int?
    var minTokens = 0
    var stop: [String] = []
    var ignoreEOS = false
    var cachePrompt = true
    var cacheSalt: String?
    var returnProgress = false
    var stream = false
    var includeUsage = false
    /// Raw `logit_bias` (token id text → bias), checked against the vocabulary later.
    var logitBias: [(String, Double)] = []
    /// The `"attention"` extension: nil uses the server's configured default.
    var attention: AttentionPolicy?
    /// The output constraint (`response_format` on chat, the `grammar` extension): see `OutputFormat`.
    var grammar: Grammar?
    /// The `"kv_compression"` extension: nil uses the server's configured default.
    var kvCompression: KVCompressionPolicy?

    static let maxStopSequences = 16
    static let maxChoices = 128

    init(_ fields: JSONFields, endpoint: GenerationEndpointLimits) throws(APIError) {
        do {
            model = try fields.string("model")
            if let value = try fields.double("temperature", .closed(0, 2)) { sampling.temperature = Float(value) }
            if let value = try fields.double("top_p", .leftOpen(0, 1)) { sampling.topP = Float(value) }
            if let value = try fields.int("top_k", .atLeast(-1)) { sampling.topK = max(0, value) }
            if let value = try fields.double("min_p", .closed(0, 1)) { sampling.minP = Float(value) }
            if let value = try fields.double("presence_penalty", .closed(-2, 2)) { sampling.presencePenalty = Float(value) }
            if let value = try fields.double("frequency_penalty", .closed(-2, 2)) { sampling.frequencyPenalty = Float(value) }
            if let value = try fields.double("repetition_penalty", .leftOpen(0, 10)) { sampling.repetitionPenalty = Float(value) }
            if let value = try fields.int("seed") { sampling.seed = UInt64(bitPattern: Int64(value)) }
            n = try fields.int("n", .closed(1, Self.maxChoices)) ?? 1

            let maxTokensValue = try fields.int("max_tokens", .atLeast(endpoint.minimumMaxTokens))
            let maxCompletionTokens = try fields.int("max_completion_tokens", .atLeast(endpoint.minimumMaxTokens))
            maxTokens = maxCompletionTokens ?? maxTokensValue
            minTokens = try fields.int("min_tokens", .atLeast(0)) ?? 0
            if let maxTokens, minTokens > maxTokens {
                throw APIError.invalidValue("min_tokens", "Invalid value for 'min_tokens': \(minTokens) is more than max_tokens (\(maxTokens)).")
            }

            stop = try fields.strings("stop") ?? []
            if stop.count > Self.maxStopSequences {
                throw APIError.invalidValue("stop", "Invalid value for 'stop': at most \(Self.maxStopSequences) stop sequences, got \(stop.count).")
            }
            if stop.contains(where: \.isEmpty) {
                throw APIError.invalidValue("stop", "Invalid value for 'stop': stop sequences must not be empty.")
            }

            ignoreEOS = try fields.bool("ignore_eos") ?? false
            cachePrompt = try fields.bool("cache_prompt") ?? true
            cacheSalt = try fields.string("cache_salt")
            if cacheSalt?.isEmpty == true {
                throw APIError.invalidValue("cache_salt", "Invalid value for 'cache_salt': must not be empty (omit it instead).")
            }
            returnProgress = try fields.bool("return_progress") ?? false
            stream = try fields.bool("stream") ?? false
            if let options = try fields.fields("stream_options") {
                includeUsage = try options.bool("include_usage") ?? false
            }
            _ = try fields.string("user")

            grammar = try OutputFormat.grammar(fields, readsResponseFormat: endpoint.readsResponseFormat)

            if let value = fields.value("attention") {
                attention = try Self.attentionPolicy(value, name: fields.name("attention"))
            }
            if let value = fields.value("kv_compression"), !value.isNull {
                kvCompression = try Self.kvCompressionPolicy(value, name: fields.name("kv_compression"))
            }

            if let bias = try fields.fields("logit_bias") {
                for (key, value) in bias.object where !value.isNull {
                    guard let number = value.doubleValue else {
                        throw JSONFieldError.invalidType(bias.name(key), expected: "a number", got: value)
                    }
                    guard (-100...100).contains(number) else {
                        throw JSONFieldError.invalidValue(bias.name(key), "expected a number between -100 and 100, but got \(number).")
                    }
                    logitBias.append((key, number))
                }
            }
        } catch let error as JSONFieldError {
            throw .field(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw .internalError("\(error)")
        }
    }

    /// `"attention": "entropy"` or `"attention": {"policy": "entropy", "coverage": 0.9, ...}`.
    static func attentionPolicy(_ value: JSONValue, name: String) throws(APIError) -> AttentionPolicy {
        do {
            switch value {
            case .string(let policyName):
                return try AttentionPolicy.named(policyName)
            case .object(let object):
                guard let policyName = object["policy"]?.stringValue else {
                    throw APIError.invalidValue(name, "Invalid value for '\(name)': expected an object with a string 'policy' (one of \(AttentionPolicy.policyNames.joined(separator: ", "))).")
                }
                var policy = try AttentionPolicy.named(policyName)
                for (key, knob) in object where key != "policy" && !knob.isNull {
                    switch knob {
                    case .int(let integer): try policy.set(key, integer: integer)
                    case .double(let number): try policy.set(key, number: number)
                    case .bool(let flag): try policy.set(key, boolean: flag)
                    default:
                        throw APIError.invalidValue("\(name).\(key)", "Invalid value for '\(name).\(key)': expected a number or a boolean, but got \(knob.typeDescription).")
                    }
                }
                return try policy.validated()
            default:
                throw APIError.invalidValue(name, "Invalid value for '\(name)': expected a policy name or an object, but got \(value.typeDescription).")
            }
        } catch let error as AttentionPolicyError {
            throw APIError.invalidValue(name, "Invalid value for '\(name)': \(error.message).")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.internalError("\(error)")
        }
    }

    /// `"kv_compression": "entropy"` or `{"policy": "entropy", "budget": 512, ...}`.
    static func kvCompressionPolicy(_ value: JSONValue, name: String) throws(APIError) -> KVCompressionPolicy {
        do {
            switch value {
            case .string(let policyName):
                return try KVCompressionPolicy.named(policyName).validated()
            case .object(let object):
                guard let policyName = object["policy"]?.stringValue else {
                    throw APIError.invalidValue(name, "Invalid value for '\(name)': expected an object with a string 'policy' (one of \(KVCompressionPolicy.policyNames.joined(separator: ", "))).")
                }
                var policy = try KVCompressionPolicy.named(policyName)
                for (key, knob) in object where key != "policy" && !knob.isNull {
                    switch knob {
                    case .int(let integer): try policy.set(key, integer: integer)
                    case .double(let number): try policy.set(key, number: number)
                    case .bool(let flag): try policy.set(key, boolean: flag)
                    case .string(let text): try policy.set(key, string: text)
                    default:
                        throw APIError.invalidValue("\(name).\(key)", "Invalid value for '\(name).\(key)': expected a number, a boolean or a string, but got \(knob.typeDescription).")
                    }
                }
                return try policy.validated()
            default:
                throw APIError.invalidValue(name, "Invalid value for '\(name)': expected a policy name or an object, but got \(value.typeDescription).")
            }
        } catch let error as KVCompressionPolicyError {
            throw APIError.invalidValue(name, "Invalid value for '\(name)': \(error.message).")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.internalError("\(error)")
        }
    }

    /// `logit_bias` as token ids, checked against the vocabulary.
    func resolvedLogitBias(vocabularySize: Int) throws(APIError) -> [Int32: Float] {
        var result: [Int32: Float] = [:]
        for (key, value) in logitBias {
            guard let id = Int32(key), id >= 0, Int(id) < vocabularySize else {
                throw APIError.invalidValue("logit_bias", "Invalid key in 'logit_bias': '\(key)' is not a token id of this model (0…\(vocabularySize - 1)).")
            }
            result[id] = Float(value)
        }
        return result
    }

    /// The engine request for choice `choice` of a prompt: seeds `seed`, `seed+1`, … so choices
    /// differ but every run with the same seed repeats.
    func generationRequest(id: String, prompt: [Int32], choice: Int, logitBias: [Int32: Float]) -> GenerationRequest {
        var sampling = self.sampling
        sampling.logitBias = logitBias
        if let seed = sampling.seed { sampling.seed = seed &+ UInt64(choice) }
        var request = GenerationRequest(id: id, prompt: prompt, sampling: sampling)
        request.maxTokens = maxTokens
        request.minTokens = minTokens
        request.ignoreEOS = ignoreEOS
        request.stop = stop
        request.cachePrompt = cachePrompt
        request.cacheSalt = cacheSalt
        request.returnProgress = returnProgress && stream
        request.attention = attention
        request.grammar = grammar
        request.kvCompression = kvCompression
        return request
    }
}

/// What differs between the two generation endpoints in shared validation.
struct GenerationEndpointLimits {
    /// Chat needs at least one token; completions allow 0 (prompt scoring with `echo`).
    var minimumMaxTokens: Int
    /// Chat reads `response_format`; both read the `grammar` extension.
    var readsResponseFormat: Bool

    static let chat = GenerationEndpointLimits(minimumMaxTokens: 1, readsResponseFormat: true)
    static let completions = GenerationEndpointLimits(minimumMaxTokens: 0, readsResponseFormat: false)
}
