import ArgumentParser
import OccamTensor

@main
struct Occam: ParsableCommand {
    /// Sets the process up before any thread starts, then parses and runs the command.
    static func main() {
        keepFreedMemoryForReuse()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "occam",
        abstract: "Experiments on why over-parameterized networks generalize.",
        discussion: """
            Each subcommand runs one experiment and writes its results (JSON, JSONL, CSV, SVG, index.html) under --out.
            Start with `occam doctor` to check the set-up.
            """,
        version: occamVersionText,
        subcommands: [
            TrainCommand.self, EvalCommand.self, CurvatureCommand.self, EvidenceCommand.self, FlatnessCommand.self, CriticalPeriodCommand.self, LotteryCommand.self, EarlyPhaseCommand.self, ConnectivityCommand.self, KernelCommand.self, RandomizeCommand.self, MemorizeCommand.self, DoubleDescentCommand.self, ReportCommand.self, RerunCommand.self, MinNormCommand.self, ModelsCommand.self, SaddlesCommand.self, SimplicityCommand.self, DistillCommand.self, ReproduceCommand.self,
            BenchCommand.self, DoctorCommand.self,
        ]
    )
}

/// Floating-point precision of an experiment.
enum Precision: String, ExpressibleByArgument, CaseIterable {
    case float32, float64
}
