import Evaluation
import Foundation

/// Progress on standard error: a redrawn bar with rate and ETA on a terminal, a line every few
/// seconds otherwise (logs, CI).
public final class ProgressBar: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private var started: [String: Date] = [:]
    private var startDone: [String: Int] = [:]
    private var lastDraw = Date.distantPast
    private var last: (phase: String, done: Int, total: Int)?
    private var lastDrawn: (phase: String, done: Int)?

    public init(isTerminal: Bool = isatty(2) != 0) { self.isTerminal = isTerminal }

    public func update(phase: String, done: Int, total: Int) {
        lock.withLock {
            let now = Date()
            if started[phase] == nil { started[phase] = now; startDone[phase] = done }
            last = (phase, done, total)
            let interval = isTerminal ? 0.1 : 5.0
            guard now.timeIntervalSince(lastDraw) >= interval || done == total else { return }
            lastDraw = now
            draw(phase: phase, done: done, total: total, now: now)
        }
    }

    public func finish(phase: String) {
        lock.withLock {
            if let l = last, l.phase == phase, lastDrawn.map({ $0.phase != phase || $0.done != l.done }) ?? true {
                draw(phase: phase, done: l.done, total: l.total, now: Date())
            }
            if isTerminal { write("\n") }
            started[phase] = nil
            last = nil
        }
    }

    private func draw(phase: String, done: Int, total: Int, now: Date) {
        lastDrawn = (phase, done)
        let elapsed = now.timeIntervalSince(started[phase] ?? now)
        let progressed = done - (startDone[phase] ?? 0)
        let rate = elapsed > 0 ? Double(progressed) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : nil
        let etaText = eta.map { Self.duration($0) } ?? "–"
        let text = String(format: "%.1f/s, elapsed %@, ETA %@", rate, Self.duration(elapsed) as NSString, etaText as NSString)
        if isTerminal {
            let width = 30
            let filled = total > 0 ? Int(Double(width) * Double(done) / Double(total)) : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[2K\(phase) \(bar) \(done)/\(total) \(text)")
        } else {
            write("\(phase): \(done)/\(total) (\(text))\n")
        }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : String(format: "%d:%02d", t / 60, t % 60)
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
