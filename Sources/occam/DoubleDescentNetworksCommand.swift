import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct DoubleDescentNetworksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "networks",
        abstract: "Test error against network width with label noise: model-wise and epoch-wise double descent (Nakkiran et al. 2020).",
        discussion: """
            For each of --widths (mlp: one hidden layer 784-H-10, Belkin's; mcnn: Nakkiran's 5-layer CNN with widths \
            k, 2k, 4k, 8k; resnet-20: the channel multiplier) and each of --replicates, a network trains for --steps on \
            a --train-size subset whose labels are, with probability --label-noise, replaced by a random wrong class \
            (corrupt-incorrect). It is evaluated at --evaluations-per-decade log-spaced steps (1, 2, 3, 4, 6, 7, 10, \
            13, ... for 8) on the noisy training labels, the clean test labels and test labels corrupted the same way, \
            so long runs stay cheap and every width has its epoch-wise curve.

            Defaults (CPU scale): mlp on 4,000 Fashion-MNIST images, 20% label noise, widths 2 ... 512, Adam 1e-3 at a \
            constant rate, batch 128, cross-entropy, 300 epochs, 3 replicates. Nakkiran's recipe is Adam 1e-4 for 4K \
            epochs; the training options of `occam train` apply (--lr, --optimizer sgd, --loss mse, ...).

            --curvature also measures every final network (Maddox, Benton & Wilson 2020): the top --curvature-top 100 \
            eigenvalues of the generalized Gauss-Newton matrix on the first --curvature-samples training images (the \
            labels trained on), over the weights only, the trace, N_eff (z = 1) and the Laplace evidence at MacKay's prior \
            precision (as occam evidence), into each run's curvature.json (skipped when it exists), and adds curvature.csv, \
            effective-dimensionality.svg (N_eff, parameters and test error against width) and evidence.svg. Lanczos keeps \
            two vectors per step: about 2 GB per job for the width-512 MLP.

            --ensemble then averages, at each width, the softmax outputs of the replicates' final networks on the \
            clean test set (ensemble/width-<w>.json, skipped when it exists) and adds the ensemble's test error to \
            test-error.svg and ensemble.csv, with how much of the peak it removes (Nakkiran et al.: ensembling \
            lowers the variance that makes the peak).

            Runs are independent: --jobs N trains N at once (default: one per core). Every run uses single-threaded \
            BLAS, so results do not depend on --jobs; on 2 cores, two MLP runs at once finish 1.4x sooner than one at \
            a time with two BLAS threads. \
            Results: OUT/double-descent-networks-<model>-<dataset>-<hash>/ with replicate-<r>/width-<w>/ per run, \
            runs.csv, networks.csv, curves.csv, summary.json, test-error.svg, epoch-wise-test.svg, \
            epoch-wise-train.svg and index.html. Running the same command again skips finished runs.
            """)

    @OptionGroup var training: TrainingOptions<WidthSweepRecipe>
    @Option(help: "Training length of every run: iterations (\"20000it\") or epochs (\"300ep\").") var steps = "300ep"
    @Option(parsing: .unconditional, help: "Evaluations per decade of steps (log-spaced).") var evaluationsPerDecade = 8
    @Option(parsing: .unconditional, help: "Probability that a training label is replaced by a random wrong class.") var labelNoise = 0.2
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 3
    @OptionGroup var curvature: SweepCurvatureOptions
    @Flag(help: "After training, average each width's replicates' softmax outputs on the test set: the ensemble's test error beside the single networks'.")
    var ensemble = false
    @Option(parsing: .unconditional, help: "Runs trained at once (default: one per core).") var jobs: Int?
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func networksConfiguration() throws -> DoubleDescentNetworksConfiguration {
        guard training.width == nil else {
            throw ValidationError("--width is not used by this command: give the widths to sweep with --widths (mcnn's k, resnet-20's multiplier, mlp's hidden width).")
        }
        var recipe = try training.configuration(
            steps: steps, evalEvery: "1ep", seed: seed, defaults: DoubleDescentNetworksConfiguration.defaultTraining)
        recipe.evaluationsPerDecade = evaluationsPerDecade
        let widths = try (training.widths.map(parseWidths) ?? DoubleDescentNetworksConfiguration.defaultWidths).sorted()
        recipe.widths = DoubleDescentNetworksConfiguration.defaultTraining.widths
        var c = DoubleDescentNetworksConfiguration(training: recipe, widths: widths)
        c.labelNoise = labelNoise
        c.replicates = replicates
        c.curvature = curvature.sweepCurvature(seed: seed)
        try c.validate()
        return c
    }

    func validate() throws {
        _ = try networksConfiguration()
        try validateJobs(jobs)
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try networksConfiguration()
        let data = configuration.training.data
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let jobs = self.jobs ?? cores
        let runs = configuration.runs.count
        if !quiet && cluster.unit == nil {
            let t = configuration.training
            status("Double descent in width: \(t.model), widths \(configuration.widths.map(String.init).joined(separator: ", ")), \(configuration.condition) on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) images, \(t.steps) each, \(configuration.replicates) replicates: \(runs) runs, \(jobs) at a time")
            status("Run directory: \(directory.path)")
        }
        let stages = (configuration.curvature == nil ? runs : 2 * runs) + (ensemble ? configuration.widths.count : 0)
        var study = DoubleDescentNetworksStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            try PreparedData<Scalar>(data, seed: seed, directory: training.dataDirectory)
        }
        study.jobs = jobs
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        study.ensemble = ensemble
        if try cluster.handle(study, stages: stages, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: stages, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summaries = try DoubleDescentNetworksReport(directory: directory).build()
        print("\n width  parameters  runs  train error (%)   test error (%)    corrupted test (%)  best test during training (%)")
        for s in summaries {
            func spread(_ value: Spread) -> String { spreadCell(value, "%6.2f").padding(toLength: 15, withPad: " ", startingAt: 0) }
            print(String(format: "%6d  %10d  %4d  ", s.width, s.parameters, s.runs)
                + [spread(s.trainError), spread(s.testError), spread(s.corruptedTestError), spread(s.bestTestError)].joined(separator: "   "))
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
