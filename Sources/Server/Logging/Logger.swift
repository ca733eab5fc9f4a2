import Foundation

/// Severity of a log line; lines below the logger's level are dropped.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case error, warning, info, debug

    private var rank: Int {
        switch self {
        case .error: return 0
        case .warning: return 1
        case .info: return 2
        case .debug: return 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// A thread-safe line logger: `2026-11-27T03:03:27.799Z info  message`, to standard error by
/// default. Tests pass a sink to capture lines.
public final class Logger: @unchecked Sendable {
    public typealias Sink = @Sendable (String) -> Void

    private let lock = NSLock()
    private var minimumLevel: LogLevel
    private let sink: Sink

    public init(level: LogLevel = .info, sink: Sink? = nil) {
        self.minimumLevel = level
        self.sink = sink ?? { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    public var level: LogLevel {
        get { lock.withLock { minimumLevel } }
        set { lock.withLock { minimumLevel = newValue } }
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level <= self.level else { return }
        let line = "\(Self.timestamp()) \(level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))\(message())"
        lock.withLock { sink(line) }
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }
}

/// Collects log lines in memory (tests).
public final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String] = []

    public init() {}

    public var lines: [String] { lock.withLock { captured } }

    public func logger(level: LogLevel = .debug) -> Logger {
        Logger(level: level) { [self] line in lock.withLock { captured.append(line) } }
    }
}
