import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model; write metrics.jsonl, checkpoints (safetensors) and summary.json.",
        discussion: """
            The run's directory is OUT/<model>-<dataset>-<hash of the configuration>. Running the same command \
            again resumes from the latest checkpoint there and ends bit-identical to an uninterrupted run. \
            Checkpoints load in PyTorch: safetensors.torch.load_file(path), keeping the keys without the \
            "optimizer." and "mask." prefixes, is a state_dict with PyTorch's names and layouts.
            """)

    @OptionGroup var training: TrainingOptions<LeNetRecipe>
    @Option(help: "Training length: iterations (\"50000it\") or epochs (\"40ep\").") var steps = "50000it"
    @Option(help: "Evaluate on validation and test this often (iterations or epochs).") var evalEvery = "1ep"
    @Option(help: "Also save checkpoints at these points, comma-separated (e.g. 500it,2ep).") var checkpointAt = ""
    @Option(parsing: .unconditional, help: "Seed for initialization, data order, augmentation and dropout.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Start over even if the run's directory holds checkpoints.") var restart = false
    @Flag(help: "Print only the summary.") var quiet = false

    func configuration() throws -> TrainingConfiguration {
        var c = try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed)
        c.checkpoints = try checkpointAt.split(separator: ",").map { try parseDuration(String($0), option: "--checkpoint-at") }
        return c
    }

    func validate() throws { _ = try configuration() }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try train(Float.self)
        case .float64: try train(Double.self)
        }
    }

    private func train<Scalar: TensorScalar>(_: Scalar.Type) throws {
        var configuration = try configuration()
        let data = try PreparedData<Scalar>(configuration.data, seed: configuration.dataSplitSeed, directory: training.dataDirectory)
        configuration = configuration.withScheduleLength(trainCount: data.train.count)
        let directory = URL(fileURLWithPath: out).appendingPathComponent(try runName(configuration, precision: Scalar.precisionName))
        try ResultFiles.prepareDirectory(directory)
        try RunDirectoryLock.holdForProcess(directory)
        var trainer = try Trainer(configuration: configuration, data: data, directory: directory)
        trainer.logTrainingEvery = try training.logTrainingEvery()
        trainer.probes = try training.probes()
        let reporter = ProgressReporter(quiet: quiet)
        if !quiet {
            status("Training \(configuration.model) on \(configuration.dataset.displayName) (\(data.train.count) train, \(data.validation.count) validation, \(data.test.count) test images) in \(Scalar.precisionName)")
            status("Run directory: \(directory.path)")
        }
        let (summary, _) = try trainer.run(resume: !restart) { reporter.report($0) }
        reporter.finish()
        if try FisherTracePlot.write(in: directory) { status("Fisher trace plot: \(directory.appendingPathComponent("fisher.svg").path)") }
        printSummary(summary, directory: directory)
        if let divergence = summary.divergence { throw TrainingError.diverged(divergence, directory: directory) }
    }

    private func printSummary(_ summary: TrainingSummary, directory: URL) {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
        func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
        let rows = [
            ("iterations", "\(summary.iterations) (\(String(format: "%.2f", summary.epochs)) epochs)"),
            ("validation loss / accuracy", "\(number(summary.finalValidation?.loss)) / \(percent(summary.finalValidation?.accuracy))"),
            ("test loss / accuracy", "\(number(summary.finalTest?.loss)) / \(percent(summary.finalTest?.accuracy))"),
            ("early-stopping iteration", summary.earlyStoppingIteration.map { "\($0) (test accuracy \(percent(summary.earlyStoppingTestAccuracy)))" } ?? "-"),
            ("training speed", String(format: "%.0f samples/s", summary.samplesPerSecond)),
            ("wall time", String(format: "%.1f s%@%@", summary.wallSeconds,
                                 summary.evaluationSeconds.map { String(format: ", %.1f s of it evaluating", $0) } ?? "",
                                 summary.resumedFrom > 0 ? " (resumed at \(summary.resumedFrom)it)" : "")),
            ("results", directory.path),
        ]
        for (name, value) in rows { print(name.padding(toLength: 28, withPad: " ", startingAt: 0) + value) }
    }
}

/// "OUT-relative" run name: model, data set and 8 hex digits of the configuration's hash.
func runName(_ configuration: TrainingConfiguration, precision: String) throws -> String {
    let hash = RunStore.hash(try configuration.canonicalJSON() + Data(precision.utf8))
    return "\(configuration.model)-\(configuration.dataset.rawValue)-\(hash.suffix(8))"
}

func parseDuration(_ text: String, option: String) throws -> TrainingDuration {
    guard let duration = TrainingDuration(text) else {
        throw ValidationError("\(option) must be a count of iterations or epochs, like 500it or 2ep (got \"\(text)\").")
    }
    return duration
}

/// Parses constant, step:M1,M2:GAMMA, exponential:GAMMA, cosine[:MIN] and warmup:N:SCHEDULE.
func parseSchedule(_ text: String) throws -> LearningRateSchedule {
    let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
    let invalid = ValidationError("--schedule \"\(text)\" is not one of constant, step:M1,M2:GAMMA, exponential:GAMMA, cosine[:MIN], warmup:N:SCHEDULE.")
    switch parts.first {
    case "constant" where parts.count == 1:
        return .constant
    case "step" where parts.count == 3:
        let milestones = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard let gamma = Double(parts[2]), !milestones.isEmpty, milestones.allSatisfy({ $0 != nil }) else { throw invalid }
        let schedule = LearningRateSchedule.multiStep(milestones: milestones.map { $0! }, gamma: gamma)
        try validated(schedule)
        return schedule
    case "exponential" where parts.count == 2:
        guard let gamma = Double(parts[1]) else { throw invalid }
        try validated(.exponentialPerEpoch(gamma: gamma))
        return .exponentialPerEpoch(gamma: gamma)
    case "cosine" where parts.count <= 2:
        guard let minimum = parts.count > 1 ? Double(parts[1]) : 0 else { throw invalid }
        try validated(.cosine(totalSteps: 0, minimum: minimum))
        return .cosine(totalSteps: 0, minimum: minimum)
    case "warmup" where parts.count == 3:
        guard let steps = Int(parts[1]) else { throw invalid }
        try validated(.linearWarmup(steps: steps, then: .constant))
        return .linearWarmup(steps: steps, then: try parseSchedule(parts[2]))
    default:
        throw invalid
    }
}

/// Throws the schedule's own check (finite, positive factors) as a command-line error.
private func validated(_ schedule: LearningRateSchedule) throws {
    do { try schedule.validate() } catch let error as TrainingError {
        throw ValidationError(error.description.replacingOccurrences(of: "Impossible configuration: ", with: ""))
    }
}

extension LearningRateSchedule {
    /// This schedule with a cosine's length (written as 0 by `parseSchedule`) set to `total` iterations.
    func withCosineLength(_ total: Int) -> LearningRateSchedule {
        switch self {
        case .cosine(0, let minimum): return .cosine(totalSteps: total, minimum: minimum)
        case .linearWarmup(let steps, let then): return .linearWarmup(steps: steps, then: then.withCosineLength(total))
        default: return self
        }
    }
}

extension DataSetName: ExpressibleByArgument {}
extension Loss: ExpressibleByArgument {}
