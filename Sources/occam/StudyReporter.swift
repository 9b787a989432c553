import Foundation
import OccamExperiments
import OccamNN

/// Shows a multi-stage study's progress: on a terminal, one line rewritten in place (stage, step, loss,
/// accuracy, time left for the study) and a line per finished stage; otherwise a line when a stage starts and
/// when it ends; nothing when quiet.
final class StudyReporter {
    private let quiet: Bool
    private let totalStages: Int
    private let isTerminal = Console.isTerminal
    private var finishedStages = 0
    private var trainedStages = 0
    private var trainingSeconds = 0.0
    private var stageStarted = Date()
    /// When each unfinished stage started: stages of a parallel sweep overlap.
    private var startTimes: [String: Date] = [:]
    private var stageName = ""
    private var lastDraw = Date.distantPast
    private var lastPhase = ""
    private var lastFraction = 0.0

    /// When the reporter was made: the clock of a concurrent study's ETA.
    private let created = Date()

    init(totalStages: Int, quiet: Bool) { (self.totalStages, self.quiet) = (totalStages, quiet) }

    func handle(_ event: StudyEvent) {
        guard !quiet else { return }
        switch event {
        case let .stageStarted(name, detail):
            let concurrent = !startTimes.isEmpty
            (stageName, stageStarted) = (name, Date())
            startTimes[name] = stageStarted
            // On a terminal the progress line names the stage; stages that overlap get a start line each.
            if !isTerminal || concurrent {
                say((isTerminal ? "\r\u{1B}[K" : "") + "[\(finishedStages + 1)/\(totalStages)] \(name): \(detail)")
            }
        case .training(let progress):
            guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 || progress.iteration == progress.totalIterations else { return }
            lastDraw = Date()
            let line = String(
                format: "[%d/%d] %@  step %d/%d  loss %.4f  acc %.2f%%  %.0f samples/s  study ETA %@",
                finishedStages + 1, totalStages, stageName, progress.iteration, progress.totalIterations, progress.trainingLoss,
                100 * progress.trainingAccuracy, progress.samplesPerSecond, formatDuration(eta(within: progress)))
            status("\r\u{1B}[K" + line, terminator: "")
        case let .concurrentTraining(name, progress):
            guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = Date()
            // Stages overlap, so the ETA is the study's pace so far: wall time per stage finished.
            let eta = trainedStages > 0
                ? formatDuration(Date().timeIntervalSince(created) / Double(trainedStages) * Double(totalStages - finishedStages)) : "-"
            let line = String(
                format: "[%d/%d done, %d running] %@  step %d/%d  loss %.4f  acc %.2f%%  study ETA %@", finishedStages, totalStages,
                startTimes.count, name, progress.iteration, progress.totalIterations, progress.trainingLoss, 100 * progress.trainingAccuracy, eta)
            status("\r\u{1B}[K" + line, terminator: "")
        case let .progress(phase, fraction):
            let line = String(format: "[%d/%d] %@  %@ %.0f%%  (%@ in this stage)", finishedStages + 1, totalStages, stageName, phase,
                              100 * fraction, formatDuration(Date().timeIntervalSince(stageStarted)))
            if isTerminal {
                guard Date().timeIntervalSince(lastDraw) > 0.1 || fraction >= 1 else { return }
                lastDraw = Date()
                status("\r\u{1B}[K" + line, terminator: "")
            } else if phase != lastPhase || Int(4 * fraction) > Int(4 * lastFraction) {
                // In a log: the start of each phase and each quarter of it.
                say(line)
            }
            (lastPhase, lastFraction) = (phase, fraction)
        case let .stageFinished(name, result, skipped):
            finishedStages += 1
            let seconds = Date().timeIntervalSince(startTimes.removeValue(forKey: name) ?? stageStarted)
            if !skipped {
                trainedStages += 1
                trainingSeconds += seconds
            }
            let prefix = isTerminal ? "\r\u{1B}[K" : ""
            say(prefix + "[\(finishedStages)/\(totalStages)] \(name): " + (skipped ? "done before, \(result)" : result
                + String(format: " (%.0f s)", seconds)))
        }
    }

    /// Time left: the mean time of stages trained so far times the stages left, less the current stage's progress.
    private func eta(within progress: TrainingProgress) -> Double {
        let elapsed = Date().timeIntervalSince(stageStarted)
        let fraction = Double(progress.iteration) / Double(max(progress.totalIterations, 1))
        let perStage = trainedStages > 0 ? trainingSeconds / Double(trainedStages) : (fraction > 0 ? elapsed / fraction : 0)
        return max(0, perStage * Double(totalStages - finishedStages) - elapsed)
    }

    private func say(_ line: String) { status(line) }
}
