import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct EarlyPhaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "early-phase",
        abstract: "The early phase of training (Frankle, Schwab & Morcos 2020): a ticket rewound to iteration k against its perturbations.",
        discussion: """
            Per replicate: trains the dense network for --steps, saving its weights at every --rewind-iterations k; \
            makes the mask by --levels rounds of magnitude pruning (--prune-rate per round, --output-prune-rate for the \
            output layer; each round after the first retrains the ticket from the initialization). For every k, each of \
            --perturbations trains under the mask from iteration k to the end, on the dense run's data order: ticket \
            (the weights at k), signs-kept (signs at k, magnitudes of a fresh draw from the initializer), \
            magnitudes-kept (magnitudes at k, random signs), permuted (each layer's kept weights at k shuffled among its \
            kept positions) and fresh-init (a new initialization). Changes are paired with the same replicate's ticket. \
            Also measured per layer: how far the weights at k are from their initial distribution (two-sample KS \
            statistic, Wasserstein-1 distance) and their correlation with the dense run's final weights.

            Defaults (minutes on 2 cores): LeNet-300-100 on all of Fashion-MNIST, Adam 1.2e-3, batch 60, 5000 iterations, \
            k = 0,100,500,2000, 2 rounds of 70% (35% for the output layer), 3 replicates. A convolutional model: \
            --model lenet-5 (or conv-2; see occam models).

            Runs are independent: --jobs N trains N at once (default: one per core), each on single-threaded BLAS, so \
            results do not depend on --jobs. Results: OUT/early-phase-<model>-<dataset>-<hash>/ with replicate-<r>/dense, \
            imp-level-<l>, k-<k>/<perturbation> per run, runs.csv, accuracy.csv, weight-statistics.csv, \
            weight-statistics-summary.csv, summary.json, SVG plots and index.html. Running the same command again skips \
            finished runs and resumes unfinished ones.
            """)

    @OptionGroup var training: TrainingOptions<EarlyPhaseRecipe>
    @Option(help: "Training length of the dense run; every perturbation run trains from k to this point.") var steps = "5000it"
    @Option(help: "Evaluate on the test set this often.") var evalEvery = "1000it"
    @Option(help: "The iterations k the ticket is rewound to, ascending, comma-separated.")
    var rewindIterations = EarlyPhaseConfiguration.defaultRewindIterations.map(String.init).joined(separator: ",")
    @Option(help: "Starting points trained at every k, comma-separated (ticket, signs-kept, magnitudes-kept, permuted, fresh-init); ticket is required.")
    var perturbations = WeightPerturbation.allCases.map(\.rawValue).joined(separator: ",")
    @Option(parsing: .unconditional, help: "Rounds of magnitude pruning that make the mask.") var levels = 2
    @Option(help: "Pruning strategy: layer-wise or global.") var strategy: PruningStrategy = .layerWise
    @Option(parsing: .unconditional, help: "Fraction of each layer's remaining weights pruned per round.") var pruneRate = 0.7
    @Option(parsing: .unconditional, help: "Fraction for the output layer (layer-wise).") var outputPruneRate = 0.35
    @Option(parsing: .unconditional, help: "Fraction for convolution kernels (layer-wise; default: --prune-rate).") var convPruneRate: Double?
    @Option(help: "Prunable (and perturbed) parameters: weights, all, or names (fc1.weight,fc2.weight).") var prunable = "weights"
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 3
    @Option(parsing: .unconditional, help: "Runs trained at once (default: one per core).") var jobs: Int?
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func studyConfiguration() throws -> EarlyPhaseConfiguration {
        var c = EarlyPhaseConfiguration(
            training: try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed, defaults: EarlyPhaseConfiguration.defaultTraining))
        let ks = rewindIterations.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard ks.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--rewind-iterations must be whole numbers of iterations, comma-separated (got \"\(rewindIterations)\").")
        }
        c.rewindIterations = ks.map { $0! }
        c.perturbations = try perturbations.split(separator: ",").map { name in
            guard let perturbation = WeightPerturbation(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--perturbations takes \(WeightPerturbation.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(name)\".")
            }
            return perturbation
        }
        c.levels = levels
        c.strategy = strategy
        c.rates = PruningRates(rate: pruneRate, outputRate: outputPruneRate, convolutionRate: convPruneRate)
        c.prunable = prunable
        c.replicates = replicates
        // A cosine schedule spans the run: its length from the images the network trains on.
        c.training = c.training.withScheduleLength(trainCount: c.training.expectedTrainCount)
        do { try c.validate() } catch let error as ExperimentError { throw ValidationError(error.description) }
        return c
    }

    func validate() throws {
        _ = try studyConfiguration()
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
        let configuration = try studyConfiguration()
        let first = try PreparedData<Scalar>(configuration.training.data, seed: configuration.seed(ofReplicate: 0), directory: training.dataDirectory)
        do {
            try configuration.validate(
                model: configuration.training.buildModel(inputShape: first.train.imageShape, classes: first.train.classCount, as: Scalar.self),
                trainCount: first.train.count)
        } catch let error as ExperimentError { throw ValidationError(error.description) }
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let jobs = jobCount(self.jobs)
        let runs = configuration.trainingRunCount
        if !quiet && cluster.unit == nil {
            let t = configuration.training
            status("Early phase: \(t.model) on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) images, \(t.steps), k = \(configuration.rewindIterations.map(String.init).joined(separator: ", ")), \(configuration.perturbations.count) starting points, \(counted(configuration.replicates, "replicate")): \(counted(runs, "training run")), \(jobs) at a time")
            status("Run directory: \(directory.path)")
        }
        var study = EarlyPhaseStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            seed == configuration.seed(ofReplicate: 0)
                ? first : try PreparedData<Scalar>(configuration.training.data, seed: seed, directory: training.dataDirectory)
        }
        study.jobs = jobs
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        if try cluster.handle(study, stages: runs, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: runs, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summary = try EarlyPhaseReport(directory: directory).build()
        print("\n     k  starting point                          runs  final test accuracy (%)  change from ticket (pp)")
        for row in summary.accuracy {
            let change = row.perturbation == .ticket ? "-" : (String(format: "%+6.2f", row.changeFromTicket.mean)
                + (row.changeFromTicket.errorBar.map { String(format: " ± %5.2f", $0) } ?? " (n=1)"))
            print(String(format: "%6d  ", row.rewindIteration) + row.perturbation.displayName.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(format: "  %4d  ", row.testAccuracy.count) + row.testAccuracy.text(unit: "%").padding(toLength: 23, withPad: " ", startingAt: 0)
                + "  " + change)
        }
        print(summary.finding)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
