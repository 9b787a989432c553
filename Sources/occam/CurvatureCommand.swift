import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct CurvatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curvature",
        abstract: "Eigenvalues, trace and spectral density of a checkpoint's Hessian, Gauss-Newton or Fisher matrix.",
        discussion: """
            Measures the curvature of the mean loss over the first --samples images of a split (file order, so \
            another tool can rebuild the same loss) at the checkpoint's weights, in evaluation mode. Works on any \
            checkpoint occam writes (a pruning mask in it restricts the measurement to the surviving weights) and \
            on a PyTorch state dict saved with safetensors' save_file (give --model; its images are the raw pixels in \
            [0, 1], since such a file does not say whether its model was trained on normalized ones).

            Writes point.json (loss, accuracy, gradient norm), eigenvalues.json and eigenvectors.safetensors \
            (Lanczos with full re-orthogonalization), trace.json (Hutchinson and Hutch++ with standard errors), \
            density.json (stochastic Lanczos quadrature), spectrum.json (--dense), then curvature.json, \
            eigenvalues.csv, density.svg and index.html, under OUT/curvature-<model>-<operator>-<hash>. Running \
            the same command again finds the finished measurements.
            """)

    @Option(help: "The checkpoint (.safetensors) to measure.")
    var checkpoint: String

    @Option(help: "Model name, for files without occam's metadata (see `occam models`).")
    var model: String?

    @Option(help: "Hidden widths of an mlp, comma-separated (with --model mlp).")
    var widths: String?

    @Option(parsing: .unconditional, help: "Width of an mcnn or resnet-20 (with --model).")
    var width: Int?

    @Option(help: "Data set (default: the checkpoint's, else fashion-mnist).")
    var dataset: DataSetName?

    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).")
    var dataDir: String?

    @Option(help: "Split whose first images define the loss: train or test.")
    var split: DataSplit = .train

    @Option(parsing: .unconditional, help: "How many images, from the start of the split's file.")
    var samples = 1000

    @Option(name: .customLong("operator"), help: "hessian, ggn, fisher, fisher-mc or empirical-fisher.")
    var operatorKind: CurvatureKind = .hessian

    @Option(help: "Parameters to vary: all, weights (matrices and kernels, not biases or BatchNorm), or names (fc1.weight,fc2.weight).")
    var parameters = "all"

    @Flag(help: "Measure pruned weights too (by default a checkpoint's pruning mask excludes them).")
    var ignoreMask = false

    @Option(parsing: .unconditional, help: "How many of the largest eigenvalues (Lanczos).")
    var top = 10

    @Option(parsing: .unconditional, help: "How many of the smallest (most negative) eigenvalues.")
    var bottom = 0

    @Option(parsing: .unconditional, help: "Lanczos stops when each requested pair's residual is at most this times the largest |eigenvalue|.")
    var tolerance = 1e-6

    @Option(parsing: .unconditional, help: "At most this many Lanczos steps (default: max(300, 4 x requested pairs)).")
    var maxIterations: Int?

    @Flag(help: "Estimate the trace (Hutchinson and Hutch++).")
    var trace = false

    @Option(parsing: .unconditional, help: "Operator products for each trace estimate.")
    var traceProbes = 30

    @Flag(help: "Estimate the spectral density by stochastic Lanczos quadrature.")
    var density = false

    @Option(parsing: .unconditional, help: "Random probes for the density.")
    var densityProbes = 3

    @Option(parsing: .unconditional, help: "Lanczos steps per density probe.")
    var densitySteps = 80

    @Flag(help: "Build the dense matrix and compute every eigenvalue (LAPACK syevd); up to 10,000 coordinates.")
    var dense = false

    @Option(parsing: .unconditional, help: "Images per batch in each operator product (changes nothing but speed and memory).")
    var batchSize = 1000

    @Option(parsing: .unconditional, help: "Seed for the Lanczos start, every probe vector and the Monte-Carlo Fisher's labels.")
    var seed: UInt64 = 0

    @Option(help: "float32 or float64 (default: the checkpoint's).")
    var precision: Precision?

    @Option(help: "Root directory of runs.")
    var out = "runs"

    @Flag(help: "No progress line.")
    var quiet = false

    /// The configuration of this command line for `training`'s model and data.
    private func configuration(checkpointPath: String, digest: String, training: TrainingConfiguration, usesMask: Bool) -> CurvatureConfiguration {
        CurvatureConfiguration(
            checkpoint: checkpointPath, checkpointDigest: digest, model: training.model, dataset: training.dataset, split: split,
            samples: samples, normalize: training.normalize, operatorKind: operatorKind, parameters: ParameterSelection(parsing: parameters),
            usesMask: usesMask, top: top, bottom: bottom, tolerance: tolerance, maxIterations: maxIterations,
            traceProbes: trace ? traceProbes : 0, densityProbes: density ? densityProbes : 0, densitySteps: densitySteps, dense: dense,
            batchSize: batchSize, seed: seed)
    }

    /// Checks the options before the checkpoint is read (the data set's size with the default data set).
    func validate() throws {
        var training = TrainingConfiguration()
        training.dataset = dataset ?? .fashionMNIST
        try configuration(checkpointPath: checkpoint, digest: "", training: training, usesMask: false).validate()
        if let widths { _ = try parseWidths(widths) }
        guard !density || densityProbes >= 1 else { throw ValidationError("--density-probes must be at least 1 with --density.") }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        let url = URL(fileURLWithPath: checkpoint)
        let file = try SafeTensorsFile.read(from: url)
        let stored = file.metadata["occam.precision"] ?? (file.entries.contains { $0.tensor.dtype == .float64 } ? "float64" : "float32")
        switch precision?.rawValue ?? stored {
        case "float64": try measure(Double.self, file: file, url: url)
        default: try measure(Float.self, file: file, url: url)
        }
    }

    /// The model, weights, buffers, mask and data settings of the checkpoint, in `Scalar`.
    private func load<Scalar: TensorScalar>(_: Scalar.Type, file: SafeTensorsFile, url: URL) throws -> LoadedCheckpoint<Scalar> {
        try loadCheckpoint(Scalar.self, file: file, url: url, model: model, widths: widths, width: width, dataset: dataset)
    }

    private func measure<Scalar: TensorScalar>(_: Scalar.Type, file: SafeTensorsFile, url: URL) throws {
        let saved = try load(Scalar.self, file: file, url: url)
        var training = saved.training
        if let dataset {
            guard dataset.imageShape == training.dataset.imageShape, dataset.classCount == training.dataset.classCount else {
                throw ValidationError("The checkpoint's model takes \(training.dataset) images; \(dataset) images have another shape or class count.")
            }
            training.dataset = dataset
        }
        let configuration = self.configuration(
            checkpointPath: url.standardizedFileURL.path, digest: RunStore.hash(try Data(contentsOf: url)), training: training,
            usesMask: !ignoreMask && saved.mask != nil)
        try configuration.validate()

        let directory = dataDir.map { URL(fileURLWithPath: $0) }
        let images: LabeledImages<Scalar> = try measurementImages(training, split: split, samples: samples, dataDirectory: directory)
        let model: Model<Scalar> = try training.buildModel(inputShape: images.imageShape, classes: images.classCount)
        let subspace = try ParameterSubspace(
            of: saved.parameters, selection: configuration.parameters, mask: configuration.usesMask ? saved.mask : nil)
        let risk = EmpiricalRisk(
            model: model, parameters: saved.parameters, buffers: saved.buffers, inputs: images.images, labels: images.labels,
            loss: training.loss, subspace: subspace, batchSize: batchSize)
        try configuration.validate(dimension: subspace.dimension)  // before a run directory is made
        let runDirectory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out))
        let study = try CurvatureStudy(configuration: configuration, risk: risk, directory: runDirectory)
        status("curvature: \(operatorKind.rawValue) of \(training.model) over \(subspace.dimension) coordinates, on the first \(samples) \(split) images of \(training.dataset.displayName), \(Scalar.precisionName)")
        var line = CurvatureProgressLine(quiet: quiet)
        try study.run { line.show($0) }
        line.finish()
        try printSummary(try RunStore.readJSON(CurvatureSummary.self, from: runDirectory.appendingPathComponent("curvature.json")), runDirectory)
    }

    private func printSummary(_ summary: CurvatureSummary, _ directory: URL) throws {
        let point = summary.point
        print("loss \(String(format: "%.6g", point.loss)), accuracy \(String(format: "%.2f", 100 * point.accuracy))%, gradient norm \(String(format: "%.4g", point.gradientNorm)), \(point.dimension) coordinates")
        if let eigenvalues = summary.eigenvalues {
            print("largest eigenvalues: " + eigenvalues.largest.map { String(format: "%.6g", $0.value) }.joined(separator: " "))
            if !eigenvalues.smallest.isEmpty {
                print("smallest eigenvalues: " + eigenvalues.smallest.map { String(format: "%.6g", $0.value) }.joined(separator: " "))
            }
            print("lanczos: \(eigenvalues.iterations) steps, \(eigenvalues.converged ? "converged" : "NOT converged"), largest residual \(String(format: "%.2g", (eigenvalues.largest + eigenvalues.smallest).map(\.residual).max() ?? 0)), \(String(format: "%.3g", eigenvalues.secondsPerProduct)) s per product")
        }
        if let trace = summary.trace {
            print("trace: Hutchinson \(String(format: "%.6g", trace.hutchinson.value)) ± \(String(format: "%.2g", trace.hutchinson.standardError ?? .nan)), Hutch++ \(String(format: "%.6g", trace.hutchPlusPlus.value)) ± \(String(format: "%.2g", trace.hutchPlusPlus.standardError ?? .nan))")
        }
        if let index = summary.index, let method = summary.indexMethod {
            print("negative eigenvalues: \(String(format: "%.3f", 100 * index))%" + (summary.indexStandardError.map { " ± \(String(format: "%.3f", 100 * $0))" } ?? "") + " (\(method))")
        }
        print("report: \(directory.appendingPathComponent("index.html").path)")
    }
}

/// A checkpoint's contents in the precision of the measurement.
struct LoadedCheckpoint<Scalar: TensorScalar> {
    var training: TrainingConfiguration
    var parameters: ParameterSet<Scalar>
    var buffers: ParameterSet<Scalar>
    var mask: PruningMask<Scalar>?

    init(training: TrainingConfiguration, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, mask: PruningMask<Scalar>?) {
        (self.training, self.parameters, self.buffers, self.mask) = (training, parameters, buffers, mask)
    }

    init<Stored: TensorScalar>(_ checkpoint: TrainingCheckpoint<Stored>) throws {
        func converted(_ set: ParameterSet<Stored>) -> ParameterSet<Scalar> {
            ParameterSet(set.entries.map { ($0.name, $0.tensor.converted(to: Scalar.self)) })
        }
        self.init(
            training: checkpoint.configuration, parameters: converted(checkpoint.parameters), buffers: converted(checkpoint.buffers),
            mask: try checkpoint.mask.map { try PruningMask(converted($0.masks)) })
    }
}

/// The progress line on standard error: products done, time per product and ETA; redrawn in place on a
/// terminal, a plain line every 10 seconds otherwise.
struct CurvatureProgressLine {
    var quiet: Bool
    private let isTerminal = Console.isTerminal
    private var lastPrinted = Date.distantPast
    private var pending = false

    init(quiet: Bool) { self.quiet = quiet }

    mutating func show(_ event: CurvatureProgress) {
        guard !quiet else { return }
        switch event {
        case .skipped(let stage):
            finish()
            status("\(stage): already measured")
        case .products(let stage, let done, let total, let perProduct, let detail):
            let now = Date()
            guard isTerminal || now.timeIntervalSince(lastPrinted) >= 10 || done == total else { return }
            lastPrinted = now
            var text = "\(stage): \(done)\(total.map { "/\($0)" } ?? "") products, \(String(format: "%.3g", perProduct)) s each"
            if let total { text += ", ETA \(formatDuration(Double(total - done) * perProduct))" }
            if !detail.isEmpty { text += ", \(detail)" }
            if isTerminal {
                status("\r\u{1B}[K" + text, terminator: "")
                pending = true
            } else {
                status(text)
            }
        }
    }

    mutating func finish() {
        if pending { status("") }
        pending = false
    }
}

extension CurvatureKind: ExpressibleByArgument {}
extension DataSplit: ExpressibleByArgument {}
