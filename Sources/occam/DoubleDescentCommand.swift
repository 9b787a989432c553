import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamTensor

extension RandomFeatureKind: ExpressibleByArgument {}

struct DoubleDescentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "double-descent",
        abstract: "Double descent (Belkin et al. 2019; Nakkiran et al. 2020): with random features, or with networks of growing width.",
        subcommands: [DoubleDescentFeaturesCommand.self, DoubleDescentNetworksCommand.self])
}

struct DoubleDescentFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Minimum-norm least squares on random features: the test error peaks where N features meet n images.",
        discussion: """
            Belkin et al. (2019), Figure 2, at CPU scale. Features φ_j(x) = sqrt(2/N) cos(⟨v_j, x⟩ + b_j) with \
            v_j ~ N(0, σ⁻² I), b_j ~ U[0, 2π) (--map fourier), or sqrt(2/N) max(0, ⟨v_j, x⟩) (--map relu), on pixels in \
            [0, 1]. The coefficients A minimize ‖φ(X) A - Y‖ for one-hot Y, and among the minimizers have the least \
            norm: they come from the SVD of φ(X), with singular values at or below --cutoff times the largest counted \
            as zero (default: max(n, N) x the machine epsilon of --precision, NumPy's lstsq). The cutoff decides how high the peak at \
            N = n gets, so it is recorded.

            Model-wise (default): n = --train-sizes 1000, N = --feature-counts 50 ... 10000 (17 values). \
            --sample-wise: N = 1000 and n = 100 ... 10000 instead. Each point is --replicates feature draws; the \
            report also shows the error of their averaged predictions. Results: \
            OUT/double-descent-features-<map>-<sweep>-<dataset>-<hash>/ with n-<n>/N-<N>.json per point, \
            double-descent.csv, fits.csv, test-error.svg, squared-loss.svg, norm.svg and index.html. Running the same \
            command again skips finished points. --jobs N fits N points at once (default: one per core), each on \
            single-threaded BLAS, so results do not depend on --jobs.
            """)

    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: DataSetName = .fashionMNIST
    @Option(help: "fourier or relu.") var map: RandomFeatureKind = .fourier
    @Option(parsing: .unconditional, help: "The bandwidth σ of the directions v ~ N(0, σ⁻² I).") var bandwidth = 5.0
    @Flag(help: "Sweep the training-set size at N = 1000 instead of the feature count at n = 1000.") var sampleWise = false
    @Option(help: "Training-set sizes n, comma-separated (default 1000; sample-wise 100,...,10000).") var trainSizes: String?
    @Option(help: "Feature counts N, comma-separated (default 50,...,10000; sample-wise 1000).") var featureCounts: String?
    @Option(parsing: .unconditional, help: "Feature draws per point.") var replicates = 3
    @Option(parsing: .unconditional, help: "Relative SVD cutoff (default: max(n, N) x the machine epsilon of --precision).") var cutoff: Double?
    @Option(help: "float64, or float32.") var precision: Precision = .float64
    @Option(parsing: .unconditional, help: "Seed of the training subsets and the feature draws.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Points fitted at once (default: one per core; fewer when they would not fit in memory together).") var jobs: Int?
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func featuresConfiguration() throws -> DoubleDescentFeaturesConfiguration {
        var c = DoubleDescentFeaturesConfiguration()
        c.dataset = dataset
        c.map = map
        c.bandwidth = bandwidth
        if sampleWise {
            c.trainSizes = DoubleDescentFeaturesConfiguration.sampleWiseTrainSizes
            c.featureCounts = [1_000]
        }
        if let trainSizes { c.trainSizes = try parsePositiveIntegers(trainSizes, option: "--train-sizes", example: "1000") }
        if let featureCounts { c.featureCounts = try parsePositiveIntegers(featureCounts, option: "--feature-counts", example: "100,1000,10000") }
        if sampleWise && c.featureCounts.count > 1 {
            throw ValidationError("--sample-wise sweeps n at one feature count; give one --feature-counts value (or drop --sample-wise for a sweep over N).")
        }
        c.replicates = replicates
        c.cutoff = cutoff
        c.seed = seed
        try c.validate(trainCount: dataset.count(.train))
        return c
    }

    func validate() throws {
        _ = try featuresConfiguration()
        try validateJobs(jobs)
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try featuresConfiguration()
        let (train, test): (LabeledImages<Scalar>, LabeledImages<Scalar>) = try loadTrainingAndTestSets(configuration.dataset, dataDir: dataDir)
        try configuration.validate(trainCount: train.count)
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        var study = DoubleDescentFeaturesStudy<Scalar>(configuration: configuration, directory: directory, train: train, test: test)
        study.jobs = jobCount(jobs)
        if try cluster.handle(study, stages: configuration.points.count, quiet: quiet) { return }
        if !quiet {
            let list: ([Int]) -> String = { $0.map(String.init).joined(separator: ", ") }
            status("Double descent with \(configuration.map.rawValue) random features on \(configuration.dataset.displayName): n = \(list(configuration.trainSizes)), N = \(list(configuration.featureCounts)), \(configuration.replicates) draws each, \(Scalar.precisionName)")
            status("Run directory: \(directory.path)")
        }
        let reporter = StudyReporter(totalStages: configuration.points.count, quiet: quiet)
        try study.run { reporter.handle($0) }
        let records = try DoubleDescentFeaturesReport(directory: directory).build()
        print("\n     n       N   test error (± sd)   train error   test sq. loss     ‖A‖       averaged   rank   smallest σ kept")
        for r in records {
            let sd = r.testError.errorBar.map { String(format: "(± %5.2f)", 100 * $0) } ?? "(n = 1)  "
            print(String(format: "%6d  %6d   %7.2f%% ", r.point.trainSize, r.point.featureCount, 100 * r.testError.mean) + sd
                + String(format: "   %8.2f%%   %12.4g  %10.4g   %7.2f%%  %5d   %.3g",
                         100 * r.trainError.mean, r.testSquaredLoss.mean, r.coefficientNorm.mean, 100 * r.ensembleTestError,
                         r.fits.map(\.rank).min() ?? 0, r.fits.map(\.smallestKeptSingularValue).min() ?? 0))
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
