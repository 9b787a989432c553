import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

/// Keskar et al.'s MLP at CPU scale: `occam flatness`.
enum FlatnessRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { FlatnessConfiguration.defaultTraining }
}

extension LearningRateScaling: ExpressibleByArgument {}

struct FlatnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flatness",
        abstract: "Sharp against flat minima: small and large batches (Keskar et al. 2017), and Dinh et al.'s rescaling (2017).",
        discussion: """
            For each of --replicates, the same initial network trains at each of --batch-sizes for the same --steps \
            (epochs), the learning rate --lr at the smallest batch size and scaled by --lr-scaling (sqrt: lr x \
            sqrt(B / B_min), the rule for Adam; linear: lr x B / B_min, the rule for SGD; none: Keskar et al.'s same \
            Adam settings). On the first --curvature-samples training images it measures the largest eigenvalues \
            (Lanczos, --top), the trace (Hutch++), N_eff (z = --neff-scale) and the Laplace evidence (as occam \
            evidence), with train and test error on the whole sets. Then, for each of --alphas, the first hidden \
            layer (weights and biases) is multiplied by alpha and the next layer's weights by 1/alpha: the ReLU \
            network computes the same function (checked on the test set) while its curvature changes; the report \
            says which measures moved and which did not.

            Defaults (CPU scale): mlp 784-128-10 on 4,096 Fashion-MNIST images, Adam 1e-3 at batch 64 and 8e-3 at \
            batch 4096 (the whole training set), 50 epochs, 3 replicates, GGN, alphas 0.1 and 10. Keskar et al.'s sizes: \
            --train-size 60000 --validation-count 0 --batch-sizes 256,6000 --steps 100ep.

            Results: OUT/flatness-<model>-<dataset>-<hash>/ with replicate-<r>/batch-<B>/ per network (a training run \
            and network.json), networks.csv, batch-sizes.csv, rescaling.csv, summary.json, sharpness.svg, errors.svg, \
            rescaling.svg and index.html. Running the same command again skips finished networks.
            """)

    @OptionGroup var training: TrainingOptions<FlatnessRecipe>
    @Option(help: "Training length of every network, the same for every batch size (\"50ep\").") var steps = "50ep"
    @Option(help: "Evaluate validation and test this often.") var evalEvery = "10ep"
    @Option(help: "Batch sizes to compare, comma-separated.") var batchSizes = "64,4096"
    @Option(help: "How the learning rate follows the batch size: none, sqrt or linear.") var lrScaling: LearningRateScaling = .sqrt
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 3
    @Option(parsing: .unconditional, help: "Training images (the first of each network's training set) that define the measured loss.")
    var curvatureSamples = 1000
    @Option(help: "Parameters measured: all, weights (matrices, as Maddox et al.), or names.") var parameters = "all"
    @Option(help: "Dinh et al.'s rescaling factors, comma-separated, or none.") var alphas = "0.1,10"
    @OptionGroup var curvature: CurvatureSummaryOptionGroup
    @Option(parsing: .unconditional, help: "Networks trained and measured at once (default: one per core).") var jobs: Int?
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func flatnessConfiguration() throws -> FlatnessConfiguration {
        guard training.batchSize == nil else {
            throw ValidationError("--batch-size is not used by this command: give the batch sizes to compare with --batch-sizes.")
        }
        let recipe = try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed, defaults: FlatnessConfiguration.defaultTraining)
        let sizes = try batchSizes.split(separator: ",").map { text in
            guard let size = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--batch-sizes takes whole numbers separated by commas; got \"\(text)\".")
            }
            return size
        }
        var c = FlatnessConfiguration(training: recipe, batchSizes: sizes)
        c.learningRateScaling = lrScaling
        c.replicates = replicates
        c.curvatureSamples = curvatureSamples
        c.parameters = ParameterSelection(parsing: parameters)
        c.curvature = curvature.options(seed: seed)
        c.alphas = try alphas == "none" ? [] : alphas.split(separator: ",").map { text in
            guard let alpha = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--alphas takes positive numbers separated by commas, or none; got \"\(text)\".")
            }
            return alpha
        }
        try c.validate()
        return c
    }

    func validate() throws {
        _ = try flatnessConfiguration()
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
        let configuration = try flatnessConfiguration()
        let data = configuration.training.data
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let jobs = jobCount(self.jobs)
        var study = FlatnessStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            try PreparedData<Scalar>(data, seed: seed, directory: training.dataDirectory)
        }
        study.jobs = jobs
        study.logTrainingEvery = try training.logTrainingEvery()
        if try cluster.handle(study, stages: study.stageCount, quiet: quiet) { return }
        if !quiet {
            let t = configuration.training
            status("Flatness: \(t.model) on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) images, batch sizes \(configuration.batchSizes.map(String.init).joined(separator: ", ")), \(t.steps) each, \(configuration.replicates) replicates, rescaled by \(configuration.alphas.map { String(format: "%g", $0) }.joined(separator: ", ")): \(configuration.runs.count) networks, \(jobs) at a time")
            status("Run directory: \(directory.path)")
        }
        let reporter = StudyReporter(totalStages: study.stageCount, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summary = try FlatnessReport(directory: directory).build()
        print("\n batch  lr        train error (%)   test error (%)    largest eigenvalue     trace                  N_eff            log evidence (nats)")
        for g in summary.batchSizes {
            func cell(_ s: Spread, _ format: String, _ width: Int) -> String { spreadCell(s, format).padding(toLength: width, withPad: " ", startingAt: 0) }
            print(String(format: "%6d  %-8.3g  ", g.batchSize, g.learningRate) + cell(g.trainError, "%.2f", 18) + cell(g.testError, "%.2f", 18)
                + cell(g.topEigenvalue, "%.4g", 23) + cell(g.trace, "%.4g", 23) + cell(g.effectiveDimensionality, "%.3g", 17) + cell(g.logEvidence, "%.1f", 20))
        }
        if summary.rescaledNetworks > 0 {
            print("\nrescaling (\(summary.rescaledNetworks) rescaled networks): \(summary.changedPredictions) test predictions changed, largest relative logit change \(String(format: "%.2g", summary.largestRelativeLogitChange ?? .nan))")
            for effect in summary.rescaling {
                print("  \(effect.measure.padding(toLength: 34, withPad: " ", startingAt: 0)) \(effect.changed ? "changed  " : "unchanged") ratio \(String(format: "%.4g", effect.smallestRatio)) to \(String(format: "%.4g", effect.largestRatio))")
            }
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
