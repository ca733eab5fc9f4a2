import Foundation

/// Request ids and timestamps in responses.
enum ResponseIdentity {
    static func id(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func unixTime() -> Int { Int(Date().timeIntervalSince1970) }
}
