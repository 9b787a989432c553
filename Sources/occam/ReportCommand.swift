import ArgumentParser
import Foundation
import OccamExperiments

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a study's tables, plots and index.html from the files in its run directory.",
        discussion: "Works on the directories of occam lottery, early-phase, connectivity, kernel, randomize, double-descent, curvature, evidence, flatness, critical-period, saddles, simplicity and distill; nothing is retrained or measured again.")

    @Argument(help: "The run directory (the one holding config.json).") var runDirectory: String
    @Flag(help: "Also write TensorBoard event files of every training run's metrics.jsonl to RUN_DIR/tensorboard (an occam train run directory too): tensorboard --logdir RUN_DIR/tensorboard.")
    var tensorboard = false

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory)
        if tensorboard {
            let runs = try TensorBoardExport.export(directory)
            guard !runs.isEmpty else { throw ValidationError("\(directory.path) holds no training run's metrics.jsonl to export.") }
            print("TensorBoard: \(directory.appendingPathComponent("tensorboard").path) (\(runs.count) training run\(runs.count == 1 ? "" : "s"))")
            // An occam train run has metrics but no study report.
            guard (try? RunStore.experimentName(in: directory)) != nil else { return }
        }
        switch try RunStore.experimentName(in: directory) {
        case LotteryConfiguration.experimentName: try LotteryReport(directory: directory).build()
        case EarlyPhaseConfiguration.experimentName: try EarlyPhaseReport(directory: directory).build()
        case ConnectivityConfiguration.experimentName: try ConnectivityReport(directory: directory).build()
        case KernelConfiguration.experimentName: try KernelReport(directory: directory).build()
        case RandomizeConfiguration.experimentName: try RandomizeReport(directory: directory).build()
        case DoubleDescentFeaturesConfiguration.experimentName: try DoubleDescentFeaturesReport(directory: directory).build()
        case DoubleDescentNetworksConfiguration.experimentName: try DoubleDescentNetworksReport(directory: directory).build()
        case CurvatureConfiguration.experimentName: try CurvatureReport(directory: directory).build()
        case CriticalPeriodConfiguration.experimentName: try CriticalPeriodReport(directory: directory).build()
        case EvidenceConfiguration.experimentName: try EvidenceReport(directory: directory).build()
        case FlatnessConfiguration.experimentName: try FlatnessReport(directory: directory).build()
        case SaddlesConfiguration.experimentName: try SaddlesReport(directory: directory).build()
        case SimplicityConfiguration.experimentName: try SimplicityReport(directory: directory).build()
        case DistillationConfiguration.experimentName: try DistillationReport(directory: directory).build()
        case let other: throw ValidationError("\(directory.path) holds a run of \"\(other)\", which has no report.")
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
