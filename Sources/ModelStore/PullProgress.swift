import Foundation

/// Where a pull reports what it is doing. Called from one thread at a time.
public protocol PullProgress: AnyObject {
    /// A status line ("downloading 6 wheels from https://pypi.org/simple").
    func note(_ text: String)
    /// A measured task starts (`label`: "downloading", "verifying"); `totalByteCount` may be unknown.
    func begin(_ label: String, totalByteCount: Int64?)
    /// The task has done `byteCount` bytes so far (monotonic).
    func advance(to byteCount: Int64)
    /// The task is over (finished or failed).
    func end()
}

/// Reports nothing (tests, `--quiet`).
public final class SilentProgress: PullProgress {
    public init() {}
    public func note(_ text: String) {}
    public func begin(_ label: String, totalByteCount: Int64?) {}
    public func advance(to byteCount: Int64) {}
    public func end() {}
}

/// Progress on standard error: on a terminal one line rewritten in place (at most 10 times a
/// second) with bytes, percent, MB/s and ETA; otherwise (logs, CI) one line per 10 %.
public final class TerminalProgress: PullProgress {
    private let isTerminal: Bool
    private var label = ""
    private var totalByteCount: Int64?
    private var doneByteCount: Int64 = 0
    private var start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var lastReportedTenth = -1
    private var lineIsOpen = false

    public init(isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.isTerminal = isTerminal
    }

    public func note(_ text: String) {
        closeLine()
        write(text + "\n")
    }

    public func begin(_ label: String, totalByteCount: Int64?) {
        closeLine()
        self.label = label
        self.totalByteCount = totalByteCount
        doneByteCount = 0
        start = .now
        lastDraw = start
        lastReportedTenth = -1
        if isTerminal { draw() }
    }

    public func advance(to byteCount: Int64) {
        doneByteCount = byteCount
        let now = ContinuousClock.now
        if isTerminal {
            guard now - lastDraw >= .milliseconds(100) else { return }
            lastDraw = now
            draw()
        } else if let totalByteCount, totalByteCount > 0 {
            let tenth = Int(min(10, byteCount * 10 / totalByteCount))
            guard tenth > lastReportedTenth else { return }
            lastReportedTenth = tenth
            write(statusLine() + "\n")
        }
    }

    public func end() {
        if isTerminal {
            draw()
            closeLine()
        } else if let totalByteCount, lastReportedTenth < 10, doneByteCount >= totalByteCount {
            lastReportedTenth = 10
            write(statusLine() + "\n")
        }
    }

    /// "downloading  45.2 / 92.9 MB   48%   31.5 MB/s  ETA 0:02"
    func statusLine() -> String {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        // Rates over the first half second are noise (connection set-up, first buffers).
        let rate = seconds > 0.5 ? Double(doneByteCount) / seconds : 0
        var line = label + "  " + String(format: "%.1f", Double(doneByteCount) / 1e6)
        if let totalByteCount, totalByteCount > 0 {
            let fraction = Double(doneByteCount) / Double(totalByteCount)
            line += String(format: " / %.1f MB  %3.0f%%", Double(totalByteCount) / 1e6, 100 * fraction)
            if rate > 0 { line += String(format: "  %.1f MB/s", rate / 1e6) }
            if rate > 0, doneByteCount < totalByteCount {
                let remaining = Int((Double(totalByteCount - doneByteCount) / rate).rounded(.up))
                line += String(format: "  ETA %d:%02d", remaining / 60, remaining % 60)
            }
        } else {
            line += " MB" + (rate > 0 ? String(format: "  %.1f MB/s", rate / 1e6) : "")
        }
        return line
    }

    private func draw() {
        write("\r\u{1B}[K" + statusLine())
        lineIsOpen = true
    }

    private func closeLine() {
        if lineIsOpen { write("\n") }
        lineIsOpen = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
