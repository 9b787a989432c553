import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

extension Regularizer: ExpressibleByArgument {}

struct RandomizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "randomize",
        abstract: "Fitting random labels: train until the training set is fit, with labels or pixels randomized (Zhang et al. 2017).",
        discussion: """
            Conditions (--condition, repeatable; default: the whole sweep, true-labels, corrupt:0.2, corrupt:0.4, \
            corrupt:0.6, corrupt:0.8, random-labels, shuffled-pixels, random-pixels, gaussian):
              true-labels            the data as it is
              corrupt:P              each training label replaced with probability P by a uniformly random class (Zhang)
              corrupt-incorrect:P    each training label replaced with probability P by a random wrong class (Nakkiran)
              random-labels          every label random (corrupt:1)
              shuffled-pixels        one fixed pixel permutation for every image, training and test
              random-pixels          a new pixel permutation for each image
              gaussian               images replaced by Gaussian noise with the training pixels' mean and variance
            Every run trains until its accuracy on the whole training set reaches --fit-accuracy (checked at every \
            --eval-every) or --steps runs out, and records the steps it took. Test error is measured on the true test \
            labels (also on correspondingly corrupted test labels with --corrupt-test).

            The defaults are the CPU-scale protocol: MLP 784-512-10 on a 5,000-image subset of Fashion-MNIST, SGD 0.01 \
            with momentum 0.9, batch 128, constant rate, no regularization, pixels in [0, 1], at most 500 epochs, 3 \
            replicates. --regularizers weight-decay,dropout,augmentation also trains each alone and all together on \
            true and random labels, for a table in the shape of Zhang's Table 1 (weight decay 5e-4, dropout 0.5 after the \
            hidden layer, random crops with padding 2 and horizontal flips).

            Results: OUT/randomize-<model>-<dataset>-<hash>/ with one Trainer run per replicate and condition, and \
            runs.csv, randomize.csv, regularization.csv, curves.csv, summary.json, training-loss.svg (Fig. 1a), \
            slowdown.svg (1b), test-error.svg (1c) and index.html. Running the same command again skips finished runs. \
            Runs are independent: --jobs N trains N at once (default: one per core), each on single-threaded BLAS, so \
            results do not depend on --jobs.
            """)

    @OptionGroup var training: TrainingOptions<RandomizeRecipe>
    @Option(help: "Budget of every run: iterations (\"20000it\") or epochs (\"300ep\").") var steps = "500ep"
    @Option(help: "Evaluate (training set included) this often.") var evalEvery = "1ep"
    @Option(parsing: .unconditional, help: "Stop when the training accuracy reaches this fraction.") var fitAccuracy = 1.0
    @Option(name: .customLong("condition"), help: "A condition (repeatable; default: the whole sweep).") var conditions: [String] = []
    @Option(help: "Regularizers for the Table 1 runs, comma-separated (weight-decay, dropout, augmentation), or none.")
    var regularizers = "none"
    @Flag(help: "Also evaluate on test labels corrupted like the training labels.") var corruptTest = false
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 3
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Runs trained at once (default: one per core).") var jobs: Int?
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func randomizeConfiguration() throws -> RandomizeConfiguration {
        var trainingConfiguration = try training.configuration(
            steps: steps, evalEvery: evalEvery, seed: seed, defaults: RandomizeConfiguration.defaultTraining)
        trainingConfiguration.stopAtTrainingAccuracy = fitAccuracy
        let parsed = try conditions.map { text in
            guard let condition = RandomizationCondition(text) else {
                throw ValidationError("--condition \"\(text)\" is not a condition: use true-labels, corrupt:P, corrupt-incorrect:P (P in [0, 1]), random-labels, shuffled-pixels, random-pixels or gaussian.")
            }
            return condition
        }
        var c = RandomizeConfiguration(training: trainingConfiguration, conditions: parsed.isEmpty ? RandomizeConfiguration.sweep : parsed)
        c.replicates = replicates
        c.evaluateCorruptedTest = corruptTest
        c.regularizers = try regularizers == "none" ? [] : regularizers.split(separator: ",").map { name in
            guard let regularizer = Regularizer(rawValue: String(name)) else {
                throw ValidationError("--regularizers takes weight-decay, dropout, augmentation (comma-separated) or none; got \"\(name)\".")
            }
            return regularizer
        }
        try c.validate()
        return c
    }

    func validate() throws {
        try validateJobs(jobs)
        _ = try randomizeConfiguration()
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try randomizeConfiguration()
        let data = configuration.training.data
        let first = try PreparedData<Scalar>(data, seed: configuration.seed(ofReplicate: 0), directory: training.dataDirectory)
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let runs = configuration.replicates * configuration.runs.count
        if !quiet && cluster.unit == nil {
            let t = configuration.training
            status("Randomize: \(t.model) \(t.widths.map(String.init).joined(separator: "x")) on \(first.train.count) \(t.dataset.displayName) images, \(counted(configuration.conditions.count, "condition"))\(configuration.regularizers.isEmpty ? "" : " and \(configuration.regularizedVariants.count * 2) regularized runs"), \(counted(configuration.replicates, "replicate")): \(counted(runs, "run"))")
            status("Run directory: \(directory.path)")
        }
        var study = RandomizeStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            seed == configuration.seed(ofReplicate: 0) ? first : try PreparedData<Scalar>(data, seed: seed, directory: training.dataDirectory)
        }
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        study.jobs = jobCount(jobs)
        if try cluster.handle(study, stages: runs, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: runs, quiet: quiet)
        try study.run { reporter.handle($0) }
        let report = RandomizeReport(directory: directory)
        let summaries = try report.build()
        print("\ncondition              fitted  steps to fit       slowdown        test error (%)")
        for s in summaries {
            let spread = spreadCell
            print(s.condition.description.padding(toLength: 23, withPad: " ", startingAt: 0)
                + "\(s.fitted)/\(s.runs)".padding(toLength: 8, withPad: " ", startingAt: 0)
                + spread(s.stepsToFit, "%.0f").padding(toLength: 19, withPad: " ", startingAt: 0)
                + spread(s.slowdown, "%.2f").padding(toLength: 16, withPad: " ", startingAt: 0) + spread(s.testError, "%.2f"))
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
