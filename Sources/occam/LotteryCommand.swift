import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct LotteryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lottery",
        abstract: "Lottery tickets: iterative magnitude pruning with rewinding, with random controls at every level.",
        discussion: """
            Trains the dense network, then for each level prunes the previous ticket's smallest weights, rewinds the \
            survivors to --rewind (0it: their initial values, Frankle & Carbin 2019; a later step: Frankle et al. 2020) \
            and retrains; random reinitialization (same mask, new weights) and random pruning (random mask of the same \
            per-layer sparsity, rewound weights) train beside each ticket. Pruned weights are exactly zero.

            The defaults are Frankle & Carbin's LeNet-300-100 recipe (Adam 1.2e-3, batch 60, 5,000 validation images, \
            layer-wise pruning of 20% per round and 10% for the output layer, 15 rounds) on Fashion-MNIST, except the \
            length: --steps 6000it instead of the paper's 50000it, which suits a CPU (early stopping comes at 2.5-7.5K \
            iterations on this scale). Use --steps 50000it for the paper's protocol.

            Results go to OUT/lottery-<model>-<dataset>-<hash of the configuration>/: one directory per replicate, \
            level and network (metrics.jsonl, summary.json, final.safetensors with the mask, pruning.json), and for \
            the study metrics.jsonl, summary.json, lottery.csv, stages.csv, curves.csv, SVG plots and index.html. \
            Running the same command again skips every finished training run, so an interrupted study continues.

            --curvature also measures every trained network over its surviving weights (the mask's pruned coordinates \
            excluded): the top --curvature-top 100 eigenvalues of the generalized Gauss-Newton matrix on the first \
            --curvature-samples training images, the trace, N_eff (z = 1) and the Laplace evidence at MacKay's \
            precision, into each network's curvature.json, and adds curvature.csv and sharpness plots to the report.

            A level's controls need only its ticket's mask, so they train beside the next level's ticket: --jobs N \
            trains N at once (default: one per core), each on single-threaded BLAS, so results do not depend on --jobs.

            Every option that changes results is part of the directory's hash: a study with more --levels or \
            --replicates is a new directory.
            """)

    @OptionGroup var training: TrainingOptions<LeNetRecipe>
    @Option(help: "Training length of every network: iterations (\"6000it\") or epochs (\"5ep\").") var steps = "6000it"
    @Option(help: "Evaluate on validation and test this often (sets the early-stopping resolution).") var evalEvery = "200it"
    @Option(parsing: .unconditional, help: "Pruning rounds after the dense network.") var levels = 15
    @Option(help: "Pruning strategy: layer-wise (the paper's) or global (OpenLTH's).") var strategy: PruningStrategy = .layerWise
    @Option(parsing: .unconditional, help: "Fraction of each layer's remaining weights pruned per round (of all remaining weights for global).") var pruneRate = 0.2
    @Option(parsing: .unconditional, help: "Fraction for the output layer: the last prunable layer (layer-wise).") var outputPruneRate = 0.1
    @Option(parsing: .unconditional, help: "Fraction for convolution kernels (layer-wise; default: --prune-rate).") var convPruneRate: Double?
    @Option(help: "Prunable parameters: weights (every weight matrix and kernel, no biases), all, or names (fc1.weight,fc2.weight).")
    var prunable = "weights"
    @Option(help: "Rewind point of the surviving weights: 0it (initialization) or a step of the dense run (500it, 2ep).") var rewind = "0it"
    @Option(help: "Controls at every level: random-reinit, random-pruning, both comma-separated, or none.")
    var controls = "random-reinit,random-pruning"
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 1
    @OptionGroup var curvature: SweepCurvatureOptions
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Training runs at once: a level's controls beside the next ticket (default: one per core).") var jobs: Int?
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func lotteryConfiguration() throws -> LotteryConfiguration {
        var c = LotteryConfiguration(training: try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed))
        c.levels = levels
        c.strategy = strategy
        c.rates = PruningRates(rate: pruneRate, outputRate: outputPruneRate, convolutionRate: convPruneRate)
        c.prunable = prunable
        c.rewind = try parseDuration(rewind, option: "--rewind")
        c.controls = try controls == "none" ? [] : controls.split(separator: ",").map { name in
            guard let control = LotteryNetwork(rawValue: String(name)), control != .ticket else {
                throw ValidationError("--controls takes random-reinit, random-pruning (comma-separated) or none; got \"\(name)\".")
            }
            return control
        }
        c.replicates = replicates
        c.curvature = curvature.sweepCurvature(seed: seed)
        // A cosine schedule spans the run: its length from the images the network trains on.
        c.training = c.training.withScheduleLength(trainCount: c.training.expectedTrainCount)
        try c.validate()
        return c
    }

    func validate() throws {
        try validateJobs(jobs)
        _ = try lotteryConfiguration()
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try lotteryConfiguration()
        let first = try PreparedData<Scalar>(configuration.training.data, seed: configuration.seed(ofReplicate: 0), directory: training.dataDirectory)
        try configuration.validate(
            model: configuration.training.buildModel(inputShape: first.train.imageShape, classes: first.train.classCount, as: Scalar.self),
            trainCount: first.train.count)
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let stages = configuration.stageCount
        if !quiet && cluster.unit == nil {
            status("Lottery study: \(configuration.training.model) on \(configuration.training.dataset.displayName), \(counted(configuration.levels, "pruning level")), \(counted(configuration.replicates, "replicate")), \(counted(configuration.trainingRunCount, "training run")) of \(configuration.training.steps)\(configuration.curvature == nil ? "" : ", each network's curvature measured")")
            status("Run directory: \(directory.path)")
        }
        var study = LotteryTicketStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            seed == configuration.seed(ofReplicate: 0)
                ? first : try PreparedData<Scalar>(configuration.training.data, seed: seed, directory: training.dataDirectory)
        }
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        study.jobs = jobCount(jobs)
        if try cluster.handle(study, stages: stages, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: stages, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summaries = try LotteryReport(directory: directory).build()
        printTable(summaries)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }

    private func printTable(_ summaries: [LotteryLevelSummary]) {
        let networks = LotteryNetwork.allCases.filter { network in summaries.contains { $0.network == network } }
        print("\nlevel  remaining  " + networks.map { $0.displayName.padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
        print("                   " + networks.map { _ in "test acc (early-stop it)  " }.joined())
        for level in Set(summaries.map(\.level)).sorted() {
            let rows = summaries.filter { $0.level == level }
            var line = String(format: "%5d  %8.2f%%  ", level, rows[0].weightsRemaining)
            for network in networks {
                let row = rows.first { $0.network == network } ?? (level == 0 ? rows.first : nil)
                let cell = row.map { r in
                    String(format: "%.2f", r.finalTestAccuracy.mean)
                        + (r.replicates > 1 ? String(format: "±%.2f", r.finalTestAccuracy.standardDeviation) : "")
                        + String(format: "%% (%.0f)", r.earlyStoppingIteration.mean)
                } ?? "-"
                line += cell.padding(toLength: 26, withPad: " ", startingAt: 0)
            }
            print(line)
        }
    }
}

extension PruningStrategy: ExpressibleByArgument {}

/// "1 replicate", "3 replicates".
func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
