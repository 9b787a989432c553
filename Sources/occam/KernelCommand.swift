import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamTensor

extension KernelFunction.Kind: ExpressibleByArgument {}
extension KernelFeatures: ExpressibleByArgument {}

struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Exact kernel interpolation of the training labels, with no regularization (Zhang et al. 2017, Sec. 5).",
        discussion: """
            For each training-set size n (a seeded subset; smaller subsets lie inside larger ones) solves K A = Y for \
            one-hot labels Y by a blocked in-place Cholesky factorization of the n x n kernel matrix, and predicts the \
            test images with k(x, X) A. Reports test error, the RKHS norm sqrt(trace(Aᵀ K A)) and the training residual \
            ‖K A - Y‖ / ‖Y‖ (K built again from the data). Also fits each --ridge λ ((K + λI) A = Y) and, unless \
            --no-random-labels, interpolates uniformly random labels to compare norms.

            Kernels (σ = --bandwidth): gaussian exp(-‖x-y‖²/(2σ²)), laplacian exp(-‖x-y‖/σ), polynomial \
            (1 + x·y/σ²)^degree, linear x·y. Inputs: pixels in [0, 1], or --features gabor (4 orientations x \
            wavelengths 4 and 8 px, 11 x 11 quadrature pairs, local energy, 4 x 4 mean pooling: 392 features, scaled so \
            their mean squared norm equals the pixels').

            Memory: the kernel matrix takes n² x 4 bytes in float32 (14.4 GB for all 60,000 Fashion-MNIST images) and \
            twice that in float64. When K is numerically not positive definite it is rebuilt with a small diagonal \
            jitter, which is reported. Results: OUT/kernel-<kernel>-<features>-<dataset>-<hash>/ with result.json per \
            fit, kernel.csv, test-error.svg, rkhs-norm.svg and index.html. Running the same command again skips \
            finished fits.
            """)

    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: DataSetName = .fashionMNIST
    @Option(help: "gaussian, laplacian, polynomial or linear.") var kernel: KernelFunction.Kind = .gaussian
    @Option(parsing: .unconditional, help: "The bandwidth σ.") var bandwidth = 5.0
    @Option(parsing: .unconditional, help: "The polynomial kernel's degree.") var degree = 2
    @Option(help: "pixels or gabor.") var features: KernelFeatures = .pixels
    @Option(help: "Training-set sizes, comma-separated (up to 60000 for the MNIST family).") var trainSizes = "1000,2000,5000,10000"
    @Option(help: "Ridges λ to fit besides exact interpolation, comma-separated; 0 for none.") var ridge = "0.1"
    @Flag(inversion: .prefixedNo, help: "Also interpolate uniformly random labels.") var randomLabels = true
    @Option(help: "float32, or float64 (twice the memory).") var precision: Precision = .float32
    @Option(parsing: .unconditional, help: "Seed of the training subsets and the random labels.") var seed: UInt64 = 0
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func kernelConfiguration() throws -> KernelConfiguration {
        var c = KernelConfiguration()
        c.dataset = dataset
        c.function = KernelFunction(kind: kernel, bandwidth: bandwidth, degree: degree)
        c.features = features
        c.trainSizes = try parsePositiveIntegers(trainSizes, option: "--train-sizes", example: "1000,2000,5000")
        c.ridges = try ridge.split(separator: ",").compactMap {
            guard let value = Double($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--ridge: \"\($0)\" is not a number.") }
            return value == 0 ? nil : value
        }
        c.randomLabels = randomLabels
        c.seed = seed
        try c.validate(trainCount: 60_000)
        return c
    }

    func validate() throws { _ = try kernelConfiguration() }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try kernelConfiguration()
        let (train, test): (LabeledImages<Scalar>, LabeledImages<Scalar>) = try loadTrainingAndTestSets(configuration.dataset, dataDir: dataDir)
        try configuration.validate(trainCount: train.count)
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let study = KernelStudy<Scalar>(configuration: configuration, directory: directory, train: train, test: test)
        if try cluster.handle(study, stages: configuration.fits.count, quiet: quiet) { return }
        if !quiet {
            status("Kernel interpolation: \(configuration.function) on \(configuration.features.rawValue) of \(configuration.dataset.displayName), n = \(configuration.trainSizes.map(String.init).joined(separator: ", ")), \(Scalar.precisionName)")
            status("Run directory: \(directory.path)")
        }
        let reporter = StudyReporter(totalStages: configuration.fits.count, quiet: quiet)
        try study.run { reporter.handle($0) }
        let records = try KernelReport(directory: directory).build()
        print("\n     n  labels  ridge    test error  train error  residual   RKHS norm  jitter   seconds (build+factor+predict)  peak memory")
        for r in records {
            // Text columns padded here: String(format:) ignores the width of %@ on Linux.
            print(String(format: "%6d  ", r.fit.trainSize) + r.fit.labels.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                + (r.fit.ridge == 0 ? "0" : "\(r.fit.ridge)").padding(toLength: 9, withPad: " ", startingAt: 0)
                + String(format: "%8.2f%%  %9.2f%%  %9.1e  %9.1f  %7.1e  %6.0f + %5.0f + %5.0f  %.1f GB",
                         100 * r.testError, 100 * r.trainError, r.residualRelative, r.rkhsNorm, r.jitter, r.timings.build, r.timings.factor,
                         r.predictSeconds, Double(r.peakResidentBytes) / 1e9))
        }
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}
