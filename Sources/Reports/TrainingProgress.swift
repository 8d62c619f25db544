import Foundation

/// Progress of a finetuning run on standard error: on a terminal a redrawn bar with step, loss,
/// learning rate, tokens/s and ETA; otherwise one line per step (logs, CI).
public final class TrainingProgress: @unchecked Sendable {
    private let isTerminal: Bool
    private var started: Date?
    private var firstStep = 0

    public init(isTerminal: Bool = isatty(2) != 0) { self.isTerminal = isTerminal }

    /// After step `step` of `total` (1-based).
    public func update(step: Int, total: Int, loss: Double, learningRate: Float, tokensPerSecond: Double,
                       validationLoss: Double? = nil) {
        let now = Date()
        if started == nil { started = now; firstStep = step - 1 }
        let elapsed = now.timeIntervalSince(started!)
        let done = step - firstStep
        let eta = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
        let val = validationLoss.map { String(format: " val %.4f", $0) } ?? ""
        let text = String(format: "step %d/%d loss %.4f%@ lr %.2e %.0f tok/s ETA %@", step, total, loss, val as NSString,
                          learningRate, tokensPerSecond, ProgressBar.duration(eta) as NSString)
        if isTerminal {
            let width = 24
            let filled = total > 0 ? Int(Double(width) * Double(step) / Double(total)) : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[2K\(bar) \(text)")
        } else {
            write(text + "\n")
        }
    }

    public func finish() { if isTerminal { write("\n") } }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
