import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct EvidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "The Laplace evidence of a checkpoint: fit, Occam factor and prior term, MacKay's gamma and the effective dimensionality.",
        discussion: """
            log p(D) ~ log p(D | theta*) - 1/2 sum_i log(1 + N lambda_i / delta) - delta/2 |theta*|^2, with D the first \
            --samples images of --split, lambda_i the eigenvalues of the mean loss's curvature (--operator ggn by default; \
            N lambda_i those of the negative log-likelihood) at the checkpoint's weights, and a Gaussian prior N(0, I/delta) \
            over the --parameters. No constant is left out: the prior's normalization cancels the Gaussian integral's \
            2 pi. The --top largest eigenvalues come from Lanczos (the rest count as zero; the report bounds what they \
            could add), or all of them with --dense. delta is --prior-precision, or MacKay's fixed point \
            delta = gamma / |theta*|^2 with gamma = sum N lambda_i / (N lambda_i + delta), where the evidence is largest.

            Writes measurement.json (loss, gradient, eigenvalues, trace, N_eff), then summary.json, contributions.csv \
            (each direction's Occam factor), occam-factor.svg, evidence-vs-precision.svg and index.html under \
            OUT/evidence-<model>-<operator>-<hash>. Running the same command again finds the measurement.
            """)

    @Option(help: "The checkpoint (.safetensors) to measure.") var checkpoint: String
    @Option(help: "Model name, for files without occam's metadata (see `occam models`).") var model: String?
    @Option(help: "Hidden widths of an mlp, comma-separated (with --model mlp).") var widths: String?
    @Option(parsing: .unconditional, help: "Width of an mcnn or resnet-20 (with --model).") var width: Int?
    @Option(help: "Data set (default: the checkpoint's, else fashion-mnist).") var dataset: DataSetName?
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Split whose first images are the data D: train or test.") var split: DataSplit = .train
    @Option(parsing: .unconditional, help: "How many images, from the start of the split's file.") var samples = 1000
    @Option(help: "Parameters the prior covers: all, weights (matrices and kernels), or names (fc1.weight,fc2.weight).")
    var parameters = "all"
    @Flag(help: "Measure pruned weights too (by default a checkpoint's pruning mask excludes them).") var ignoreMask = false
    @OptionGroup var curvature: CurvatureSummaryOptionGroup
    @Option(parsing: .unconditional, help: "Images per batch in each operator product (changes nothing but speed and memory).")
    var batchSize = 1000
    @Option(parsing: .unconditional, help: "Seed for the Lanczos start and the trace's probes.") var seed: UInt64 = 0
    @Option(help: "float32 or float64 (default: the checkpoint's).") var precision: Precision?
    @Option(help: "Root directory of runs.") var out = "runs"
    @Flag(help: "No progress line.") var quiet = false

    private func configuration(checkpointPath: String, digest: String, training: TrainingConfiguration, usesMask: Bool) -> EvidenceConfiguration {
        EvidenceConfiguration(
            checkpoint: checkpointPath, checkpointDigest: digest, model: training.model, dataset: training.dataset, split: split,
            samples: samples, normalize: training.normalize, parameters: ParameterSelection(parsing: parameters), usesMask: usesMask,
            curvature: curvature.options(seed: seed), batchSize: batchSize)
    }

    func validate() throws {
        var training = TrainingConfiguration()
        training.dataset = dataset ?? .fashionMNIST
        try configuration(checkpointPath: checkpoint, digest: "", training: training, usesMask: false).validate()
        if let widths { _ = try parseWidths(widths) }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        let url = URL(fileURLWithPath: checkpoint)
        let file = try SafeTensorsFile.read(from: url)
        switch precision?.rawValue ?? storedPrecision(of: file) {
        case "float64": try measure(Double.self, file: file, url: url)
        default: try measure(Float.self, file: file, url: url)
        }
    }

    private func measure<Scalar: TensorScalar>(_: Scalar.Type, file: SafeTensorsFile, url: URL) throws {
        let saved: LoadedCheckpoint<Scalar> = try loadCheckpoint(
            Scalar.self, file: file, url: url, model: model, widths: widths, width: width, dataset: dataset)
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
        let images: LabeledImages<Scalar> = try measurementImages(
            training, split: split, samples: samples, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        let model: Model<Scalar> = try training.buildModel(inputShape: images.imageShape, classes: images.classCount)
        let subspace = try ParameterSubspace(
            of: saved.parameters, selection: configuration.parameters, mask: configuration.usesMask ? saved.mask : nil)
        let risk = EmpiricalRisk(
            model: model, parameters: saved.parameters, buffers: saved.buffers, inputs: images.images, labels: images.labels,
            loss: training.loss, subspace: subspace, batchSize: batchSize)
        try configuration.curvature.validate(dimension: subspace.dimension)  // before a run directory is made
        let runDirectory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out))
        let study = try EvidenceStudy(configuration: configuration, risk: risk, directory: runDirectory)
        if !quiet {
            status("evidence: \(curvature.operatorKind.rawValue) of \(training.model) over \(subspace.dimension) coordinates, on the first \(samples) \(split) images of \(training.dataset.displayName), \(Scalar.precisionName)")
        }
        var line = CurvatureProgressLine(quiet: quiet)
        let summary = try study.run { line.show($0) }
        line.finish()
        printSummary(summary, runDirectory)
    }

    private func printSummary(_ summary: EvidenceSummary, _ directory: URL) {
        let m = summary.measurement
        print("loss \(String(format: "%.6g", m.loss)), accuracy \(String(format: "%.2f", 100 * m.accuracy))%, gradient norm \(String(format: "%.4g", m.gradientNorm)), \(m.dimension) coordinates, |theta|^2 \(String(format: "%.6g", m.squaredNorm))")
        print("eigenvalues (\(m.eigenvalueMethod), \(m.eigenvalues.count)): largest \(String(format: "%.6g", m.topEigenvalue ?? .nan))"
            + (m.trace.map { ", trace \(String(format: "%.6g", $0))" + (m.traceStandardError.map { " ± \(String(format: "%.2g", $0))" } ?? "") } ?? "")
            + ", N_eff(z = \(String(format: "%g", m.effectiveDimensionalityScale))) \(String(format: "%.4g", m.effectiveDimensionality))")
        if let e = summary.evidence {
            print("delta \(String(format: "%.6g", e.priorPrecision)) (\(summary.priorPrecisionSource)), gamma = N_eff(delta) \(String(format: "%.4g", e.effectiveDimensionality))")
            print("log evidence \(String(format: "%.6g", e.logEvidence)) nats = fit \(String(format: "%.6g", e.logLikelihood)) + Occam factor \(String(format: "%.6g", e.occamFactor)) + prior term \(String(format: "%.6g", e.priorTerm))")
        } else {
            print("no evidence: no eigenvalue is positive and no --prior-precision was given")
        }
        print("report: \(directory.appendingPathComponent("index.html").path)")
    }
}
