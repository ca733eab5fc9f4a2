import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

/// Loading the real vocabularies and the reference vectors the tokenizer tests compare against.
enum TokenizerFixtures {
    /// One reference tokenization: `text` encodes to `ids` (no BOS/EOS, special tokens parsed).
    struct Vector: Sendable, CustomTestStringConvertible {
        var text: String
        var ids: [Int32]
        var testDescription: String { text.debugDescription }
    }

    /// `Tests/Fixtures/tokenizer/tokenizer_vectors.json` (a copy of `../shared/models/tokenizer_vectors.json`):
    /// ids from HF transformers' tokenizer built from each GGUF vocabulary, checked against
    /// llama.cpp's own test vectors. Where the file records a known mismatch with llama.cpp, the
    /// llama.cpp ids are expected (the file says to prefer them).
    static func vectors(_ vocabulary: String) throws -> [Vector] {
        let url = TestModels.fixture("tokenizer/tokenizer_vectors.json")
        let root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let all = try #require(root["vectors"] as? [String: Any])
        let entries = try #require(all[vocabulary] as? [[String: Any]], "no vectors for \(vocabulary)")
        var overrides: [String: [Int32]] = [:]
        for mismatch in root["known_mismatches"] as? [[String: Any]] ?? [] where mismatch["vocab"] as? String == vocabulary {
            let text = try #require(mismatch["text"] as? String)
            overrides[text] = try #require(mismatch["ids_llama_cpp"] as? [Int]).map { Int32($0) }
        }
        return try entries.map { entry in
            let text = try #require(entry["text"] as? String)
            let ids = try #require(entry["ids"] as? [Int]).map { Int32($0) }
            return Vector(text: text, ids: overrides[text] ?? ids)
        }
    }

    /// Random texts and their ids from transformers (`hf_vectors.json`).
    static func hfVectors(_ vocabulary: String) throws -> [Vector] {
        let root = try hfVectorFile()
        let entry = try #require(root[vocabulary] as? [String: Any])
        let cases = try #require(entry["random"] as? [[String: Any]])
        return try cases.map { item in
            Vector(text: try #require(item["text"] as? String), ids: try #require(item["ids"] as? [Int]).map { Int32($0) })
        }
    }

    /// The text of `/usr/share/common-licenses/GPL-3` and its ids from transformers; fails when
    /// the file is missing or differs from the one the ids were made from.
    static func licenseVector(_ vocabulary: String) throws -> (text: String, ids: [Int32]) {
        let root = try hfVectorFile()
        let license = try #require(root["license"] as? [String: String])
        let path = try #require(license["path"])
        let data = try #require(FileManager.default.contents(atPath: path),
                                "\(path) is missing (Debian's base-files package provides it)")
        let digest = sha256Hex(Array(data))
        try #require(digest == license["sha256"], "\(path) has sha256 \(digest), not the one the fixture was made from")
        let entry = try #require(root[vocabulary] as? [String: Any])
        let ids = try #require(entry["license_ids"] as? [Int]).map { Int32($0) }
        return (String(decoding: data, as: UTF8.self), ids)
    }

    private static func hfVectorFile() throws -> [String: Any] {
        let url = TestModels.fixture("tokenizer/hf_vectors.json")
        return try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The SmolLM2 GGUF pulled by the model store; fails the test when it is missing.
    static func smolLM2() throws -> any Tokenizer {
        let path = try #require(TestModels.path(TestModels.smolLM2), Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
        return try cached(path)
    }

    /// The Qwen2.5 vocabulary: the pulled model, else the vocab-only GGUF in `../shared` (development
    /// machines); fails the test when neither exists.
    static func qwen2() throws -> any Tokenizer {
        if let path = TestModels.path(TestModels.qwen25Coder) { return try cached(path) }
        if let shared = TestModels.sharedDirectory {
            let path = shared.appendingPathComponent("models/qwen2-vocab/ggml-vocab-qwen2.5-coder.gguf").path
            if FileManager.default.fileExists(atPath: path) { return try cached(path) }
        }
        Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.qwen25Coder)))
        throw MissingModel()
    }

    struct MissingModel: Error {}

    /// Tokenizers are immutable: load each file once per test process.
    private static let cache = TokenizerCache()

    private static func cached(_ path: String) throws -> any Tokenizer {
        try cache.tokenizer(path: path)
    }
}

private final class TokenizerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var tokenizers: [String: any Tokenizer] = [:]

    func tokenizer(path: String) throws -> any Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = tokenizers[path] { return tokenizer }
        let tokenizer = try makeTokenizer(from: GGUFFile(path: path))
        tokenizers[path] = tokenizer
        return tokenizer
    }
}

/// SHA-256 (FIPS 180-4), enough to check a fixture's source file without another dependency.
func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var data = message
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    let bitLength = UInt64(message.count) * 8
    for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    for chunk in stride(from: 0, to: data.count, by: 64) {
        var w = [UInt32](repeating: 0, count: 64)
        for i in 0..<16 {
            w[i] = (0..<4).reduce(0) { $0 << 8 | UInt32(data[chunk + 4 * i + $1]) }
        }
        for i in 16..<64 {
            let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ value }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}
