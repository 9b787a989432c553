import ArgumentParser
import Foundation
import OccamExperiments

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a study's tables, plots and index.html from the files in its run directory.",
        discussion: "Works on the directories of occam lottery, connectivity, kernel, randomize, double-descent and curvature; nothing is retrained or measured again.")

    @Argument(help: "The run directory (the one holding config.json).") var runDirectory: String

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory)
        switch try RunStore.experimentName(in: directory) {
        case LotteryConfiguration.experimentName: try LotteryReport(directory: directory).build()
        case ConnectivityConfiguration.experimentName: try ConnectivityReport(directory: directory).build()
        case KernelConfiguration.experimentName: try KernelReport(directory: directory).build()
        case RandomizeConfiguration.experimentName: try RandomizeReport(directory: directory).build()
        case DoubleDescentFeaturesConfiguration.experimentName: try DoubleDescentFeaturesReport(directory: directory).build()
        case DoubleDescentNetworksConfiguration.experimentName: try DoubleDescentNetworksReport(directory: directory).build()
        case CurvatureConfiguration.experimentName: try CurvatureReport(directory: directory).build()
        case let other: throw ValidationError("\(directory.path) holds a run of \"\(other)\", which has no report.")
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
