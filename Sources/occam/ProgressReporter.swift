import Foundation
import OccamNN

/// Shows training progress: a line rewritten in place on a terminal, plain lines every 10% (and at each
/// evaluation) otherwise, nothing when quiet.
final class ProgressReporter {
    private let quiet: Bool
    private let isTerminal = Console.isTerminal
    private var lastDraw = Date.distantPast
    private var lastPlainTenth = -1
    private let started = Date()

    init(quiet: Bool) { self.quiet = quiet }

    func report(_ progress: TrainingProgress) {
        guard !quiet else { return }
        let line = describe(progress)
        if isTerminal {
            if Date().timeIntervalSince(lastDraw) > 0.1 || !progress.evaluations.isEmpty || progress.iteration == progress.totalIterations {
                status("\r\u{1B}[K" + line, terminator: "")
                lastDraw = Date()
            }
            if !progress.evaluations.isEmpty { status("") }
        } else {
            let tenth = progress.iteration * 10 / max(progress.totalIterations, 1)
            if tenth != lastPlainTenth || !progress.evaluations.isEmpty {
                lastPlainTenth = tenth
                status(line)
            }
        }
    }

    func finish() {
        if !quiet && isTerminal { status("") }
    }

    private func describe(_ p: TrainingProgress) -> String {
        let elapsed = Date().timeIntervalSince(started)
        let done = Double(p.iteration) / Double(max(p.totalIterations, 1))
        let eta = done > 0 ? elapsed * (1 - done) / done : 0
        var line = String(
            format: "step %d/%d (epoch %.2f)  loss %.4f  acc %.2f%%  %.0f samples/s  ETA %@",
            p.iteration, p.totalIterations, Double(p.iteration) / Double(max(p.iterationsPerEpoch, 1)),
            p.trainingLoss, 100 * p.trainingAccuracy, p.samplesPerSecond, formatDuration(eta))
        for e in p.evaluations {
            line += String(format: "  | %@ loss %.4f acc %.2f%%", e.split, e.loss, 100 * e.accuracy)
        }
        return line
    }
}

/// "1h02m", "3m05s" or "12s".
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}

/// Flushes standard output (so progress shows in pipes and CI logs as it happens).
func fflushStandardOutput() {
    fflush(nil)  // flushes every output stream, standard output included
}
