import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct ConnectivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectivity",
        abstract: "Linear mode connectivity: train two copies from one state with different data orders and measure the error barrier between them.",
        discussion: """
            For each --spawn-step k, a parent trained from initialization to k is copied twice; the copies train to \
            --steps with different data orders (and a fresh optimizer), and the network (1 - α)·A + α·B is evaluated \
            at --points evenly spaced α on the training and test sets. Error barrier = the highest error on the path \
            minus the mean of its ends (Frankle et al. 2020: stable when under 2 percentage points). \
            --different-init also trains two copies from different initializations (the positive control).

            With --lottery RUN_DIR --level L, the network is that lottery run's level-L ticket (its mask, trained from \
            its rewind point; every copy keeps the mask). Model, data, optimizer, length and precision then come from the \
            lottery run (of the options here only --eval-every, --data-dir and the seed, which must match, are used), \
            and the spawn step defaults to the lottery's rewind point.

            Defaults: LeNet-300-100 on Fashion-MNIST, Adam 1.2e-3, batch 60, 6000it (the paper: 24,000 on MNIST). \
            Results: OUT/connectivity-<model>-<dataset>-<hash>/ with path.json per pair, metrics.jsonl, summary.json, \
            barriers.csv, path.csv, SVG plots and index.html. Running the same command again skips finished work. \
            Once the parent is trained the copies are independent: --jobs N trains N at once (default: one per core), \
            each on single-threaded BLAS, so results do not depend on --jobs.
            """)

    @OptionGroup var training: TrainingOptions<LeNetRecipe>
    @Option(help: "Training length of every copy: iterations (\"6000it\") or epochs.") var steps = "6000it"
    @Option(help: "Evaluate on validation and test this often during training.") var evalEvery = "1000it"
    @Option(help: "Spawn steps, comma-separated (0it,100it,500it,2000it); default 0it, or the lottery run's rewind point.")
    var spawnStep: String?
    @Option(parsing: .unconditional, help: "Points on the path, ends included.") var points = 30
    @Flag(help: "Also train two copies from different initializations (positive control).") var differentInit = false
    @Option(parsing: .unconditional, help: "Measure training error on a seeded subset of this many images (default: all).") var trainEvalSize: Int?
    @Option(help: "A lottery run directory whose ticket to analyse (with --level).") var lottery: String?
    @Option(parsing: .unconditional, help: "The lottery level whose ticket to analyse.") var level: Int?
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 1
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Copies trained at once (default: one per core).") var jobs: Int?
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func connectivityConfiguration() throws -> (ConnectivityConfiguration, precision: Precision) {
        var trainingConfiguration = try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed)
        var precision = training.precision
        var defaultSpawn = "0it"
        var subnetwork: LotterySubnetwork?
        if let lottery {
            guard let level else { throw ValidationError("--lottery needs --level (the pruning level whose ticket to analyse).") }
            let directory = URL(fileURLWithPath: lottery)
            let stored = try RunStore.readConfiguration(LotteryConfiguration.self, in: directory)
            let evaluateEvery = trainingConfiguration.evaluateEvery
            trainingConfiguration = stored.configuration.training
            trainingConfiguration.evaluateEvery = evaluateEvery
            trainingConfiguration.seed = seed
            trainingConfiguration.checkpoints = []
            guard seed == stored.configuration.training.seed else {
                throw ValidationError("--seed must be the lottery run's first seed (\(stored.configuration.training.seed)) to reuse its tickets.")
            }
            precision = stored.precision == "float64" ? .float64 : .float32
            defaultSpawn = stored.configuration.rewind.description
            subnetwork = LotterySubnetwork(run: directory.standardizedFileURL.lastPathComponent, level: level)
        } else if level != nil {
            throw ValidationError("--level needs --lottery RUN_DIR.")
        }
        var c = ConnectivityConfiguration(training: trainingConfiguration)
        c.spawnSteps = try (spawnStep ?? defaultSpawn).split(separator: ",").map { try parseDuration(String($0), option: "--spawn-step") }
        c.points = points
        c.differentInit = differentInit
        c.replicates = replicates
        c.subnetwork = subnetwork
        c.trainEvaluationSize = trainEvalSize
        // A cosine schedule spans the run: its length from the images the network trains on.
        c.training = c.training.withScheduleLength(trainCount: c.training.expectedTrainCount)
        try c.validate()
        return (c, precision)
    }

    func validate() throws {
        try validateJobs(jobs)
        _ = try connectivityConfiguration()
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch try connectivityConfiguration().precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try connectivityConfiguration().0
        let first = try PreparedData<Scalar>(configuration.training.data, seed: configuration.seed(ofReplicate: 0), directory: training.dataDirectory)
        try configuration.validate(trainCount: first.train.count)
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let pairs = configuration.spawnSteps.count + (configuration.differentInit ? 1 : 0)
        let perEpoch = configuration.training.iterationsPerEpoch(trainCount: first.train.count)
        let start = try lottery.map {
            try RunStore.readConfiguration(LotteryConfiguration.self, in: URL(fileURLWithPath: $0)).configuration.rewind.iterations(perEpoch: perEpoch)
        } ?? 0
        let parent = configuration.spawnSteps.contains { $0.iterations(perEpoch: perEpoch) > start } ? 1 : 0
        let stages = configuration.replicates * (3 * pairs + parent)
        if !quiet && cluster.unit == nil {
            status("Connectivity: \(configuration.training.model) on \(configuration.training.dataset.displayName), spawn steps \(configuration.spawnSteps.map(\.description).joined(separator: ", "))\(configuration.differentInit ? " and different initializations" : ""), \(counted(configuration.replicates, "replicate"))")
            status("Run directory: \(directory.path)")
        }
        var study = LinearModeConnectivity<Scalar>(
            configuration: configuration, directory: directory, lotteryDirectory: lottery.map { URL(fileURLWithPath: $0) }
        ) { seed in
            seed == configuration.seed(ofReplicate: 0)
                ? first : try PreparedData<Scalar>(configuration.training.data, seed: seed, directory: training.dataDirectory)
        }
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        study.jobs = jobCount(jobs)
        if try cluster.handle(study, stages: stages, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: stages, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summaries = try ConnectivityReport(directory: directory).build()
        print("\nspawn            test barrier (pp)   train barrier (pp)   endpoint test error (%)")
        for s in summaries {
            print(ConnectivityReport.name(s.spawnStep).padding(toLength: 17, withPad: " ", startingAt: 0)
                + spreadCell(s.testBarrier, "%6.2f").padding(toLength: 20, withPad: " ", startingAt: 0)
                + spreadCell(s.trainBarrier, "%6.2f").padding(toLength: 21, withPad: " ", startingAt: 0)
                + String(format: "%6.2f", s.endpointTestError.mean))
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
