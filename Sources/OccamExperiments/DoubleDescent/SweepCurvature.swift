import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// The curvature a width sweep measures on each final network (Maddox, Benton & Wilson 2020, Fig. 2): the
/// `NetworkCurvature` summary of the loss on the first `samples` images of the network's training set (the
/// labels it trained on), over `parameters` (weights only, as Maddox et al.), with the top
/// `options.top` eigenvalues (100), N_eff at z = 1, the trace and the Laplace evidence at MacKay's δ.
public struct SweepCurvature: Codable, Sendable, Hashable {
    public var samples = 1000
    public var parameters: ParameterSelection = .weights
    public var options: CurvatureSummaryOptions

    public init() {
        options = CurvatureSummaryOptions()
        options.top = 100
    }

    /// The file beside each run's training files.
    public static let fileName = "curvature.json"

    /// - Parameter trainCount: the images each network trains on.
    func validate(trainCount: Int) throws {
        try ExperimentError.require(
            samples >= 1 && samples <= trainCount, "--curvature-samples must be between 1 and the \(trainCount) training images")
        try ExperimentError.require(options.top >= 1 || options.dense, "--curvature-top must be at least 1")
        try options.validate()
    }

    /// Measures the final network of a run (`parameters`, `buffers` of `training`'s model) on `train`'s first
    /// images; under `mask` only the surviving weights are coordinates (a pruned network's subspace).
    func measure<Scalar: TensorScalar>(
        _ training: TrainingConfiguration, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, mask: PruningMask<Scalar>? = nil,
        train: LabeledImages<Scalar>, progress: @escaping (CurvatureProgress) -> Void = { _ in }
    ) throws -> NetworkCurvature {
        let images = train.subset(Array(0..<min(samples, train.count)))
        let model: Model<Scalar> = try training.buildModel(inputShape: images.imageShape, classes: images.classCount)
        let risk = EmpiricalRisk(
            model: model, parameters: parameters, buffers: buffers, inputs: images.images, labels: images.labels, loss: training.loss,
            subspace: try ParameterSubspace(of: parameters, selection: self.parameters, mask: mask), batchSize: 1000)
        return try NetworkCurvature.measure(risk, options: options, progress: progress)
    }

    /// Writes `directory`/curvature.json, the measurement of a run's final network, unless it exists: a stage of
    /// its own in the progress output, named `name`.
    func measureStage<Scalar: TensorScalar>(
        name: String, in directory: URL, training: TrainingConfiguration, final: TrainingCheckpoint<Scalar>, mask: PruningMask<Scalar>? = nil,
        train: LabeledImages<Scalar>, events: (StudyEvent) throws -> Void
    ) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        if FileManager.default.fileExists(atPath: url.path) {
            try events(.stageFinished(name: name, result: "measured", skipped: true))
            return
        }
        try events(.stageStarted(name: name, detail: "top \(options.top) eigenvalues of the \(options.operatorKind.rawValue), trace, evidence"))
        let measurement = try withoutActuallyEscaping(events) { events in
            nonisolated(unsafe) let send = events
            let dimension = try ParameterSubspace(of: final.parameters, selection: parameters, mask: mask).dimension
            return try measure(training, parameters: final.parameters, buffers: final.buffers, mask: mask, train: train) { progress in
                if let event = progress.studyEvent(options: options, dimension: dimension) { try? send(event) }
            }
        }
        try ResultFiles.writeJSON(measurement, to: url)
        try events(.stageFinished(
            name: name,
            result: String(format: "N_eff %.4g, largest eigenvalue %.4g, log evidence %.6g", measurement.effectiveDimensionality,
                           measurement.topEigenvalue ?? .nan, measurement.evidence?.logEvidence ?? .nan),
            skipped: false))
    }
}

/// The curvature part of a width sweep's report: curvature.csv, effective-dimensionality.svg, evidence.svg and
/// their section, from the runs' curvature.json files alone.
struct SweepCurvatureReport {
    var directory: URL

    /// One width over its replicates.
    struct Width {
        var width: Int
        var parameters: Int
        var dimension: Int
        var testError: Spread
        var effectiveDimensionality: Spread
        var topEigenvalue: Spread
        var trace: Spread
        var logEvidence: Spread
    }

    /// The finished runs whose final network has been measured (a curvature.json), with that measurement.
    func measured(_ records: [NetworkWidthRecord]) throws -> [(record: NetworkWidthRecord, curvature: NetworkCurvature)] {
        try records.compactMap { record in
            let url = directory.appendingPathComponent(record.run.path).appendingPathComponent(SweepCurvature.fileName)
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            return (record, try RunStore.readJSON(NetworkCurvature.self, from: url))
        }
    }

    /// The measured networks and their widths' summaries; writes curvature.csv and the plots. Nil when no run has
    /// a curvature.json yet.
    func build(
        _ configuration: DoubleDescentNetworksConfiguration, records: [NetworkWidthRecord], summaries: [NetworkWidthSummary]
    ) throws -> HTMLReport.Section? {
        let measured = try measured(records)
        guard !measured.isEmpty else { return nil }
        var table = CSVTable(header: [
            "replicate", "width", "parameters", "measured_coordinates", "test_error_percent", "train_error_percent", "neff", "top_eigenvalue",
            "trace", "mackay_delta", "log_evidence", "log_likelihood", "occam_factor", "prior_term", "gamma", "lanczos_converged",
        ])
        for (r, c) in measured {
            let e = c.evidence
            table.rows.append([
                "\(r.run.replicate)", "\(r.run.width)", "\(r.parameters)", "\(c.dimension)", exact(r.testError.map { 100 * $0 }),
                exact(r.trainError.map { 100 * $0 }), exact(c.effectiveDimensionality), exact(c.topEigenvalue), exact(c.trace),
                exact(c.macKayPrecision), exact(e?.logEvidence), exact(e?.logLikelihood), exact(e?.occamFactor), exact(e?.priorTerm),
                exact(e?.effectiveDimensionality), "\(c.converged)",
            ])
        }
        try table.write(to: directory.appendingPathComponent("curvature.csv"))
        let widths = summaries.compactMap { s -> Width? in
            let runs = measured.filter { $0.0.run.width == s.width }
            guard let first = runs.first else { return nil }
            func spread(_ value: (NetworkWidthRecord, NetworkCurvature) -> Double?) -> Spread { Spread(runs.compactMap(value)) }
            return Width(
                width: s.width, parameters: s.parameters, dimension: first.1.dimension, testError: spread { r, _ in r.testError.map { 100 * $0 } },
                effectiveDimensionality: spread { $1.effectiveDimensionality }, topEigenvalue: spread { $1.topEigenvalue },
                trace: spread { $1.trace }, logEvidence: spread { $1.evidence?.logEvidence })
        }
        try writePlots(widths)
        return .init(
            title: "Effective dimensionality and evidence against width", text: text(widths, configuration: configuration),
            image: "effective-dimensionality.svg", links: [("curvature.csv", "curvature.csv"), ("evidence.svg", "evidence.svg")])
    }

    /// effective-dimensionality.svg: N_eff, parameter count and test error against width, each over its largest
    /// value (one page, Maddox et al.'s Fig. 2 shape); evidence.svg: test error against the log evidence.
    private func writePlots(_ widths: [Width]) throws {
        func normalized(_ name: String, color: String?, dashed: Bool = false, _ value: (Width) -> Double) -> PlotSeries {
            let largest = widths.map(value).filter(\.isFinite).max() ?? 1
            return PlotSeries(
                "\(name) (max \(significant(largest)))", points: widths.map { PlotPoint(x: Double($0.width), y: value($0) / largest) },
                dashed: dashed, color: color)
        }
        try LinePlot(
            title: "N_eff, parameters and test error against width (each over its largest value)",
            x: PlotAxis("width (log scale)", scale: .logarithmic), y: PlotAxis("value / largest value", range: 0...1.05),
            series: [
                normalized("N_eff (z = 1)", color: SeriesColor.ensemble) { $0.effectiveDimensionality.mean },
                normalized("parameters", color: SeriesColor.control, dashed: true) { Double($0.parameters) },
                normalized("test error", color: SeriesColor.test) { $0.testError.mean },
            ]
        ).write(to: directory.appendingPathComponent("effective-dimensionality.svg"))
        try LinePlot(
            title: "Test error against the Laplace evidence, one point per width",
            x: PlotAxis("log evidence (nats)"), y: PlotAxis("test error (%)"),
            series: [PlotSeries("widths \(widths.first.map { String($0.width) } ?? "") to \(widths.last.map { String($0.width) } ?? "")",
                                points: widths.filter { $0.logEvidence.mean.isFinite }.map { PlotPoint(x: $0.logEvidence.mean, y: $0.testError.mean) },
                                color: SeriesColor.test)]
        ).write(to: directory.appendingPathComponent("evidence.svg"))
    }

    private func text(_ widths: [Width], configuration: DoubleDescentNetworksConfiguration) -> String {
        guard let curvature = configuration.curvature else { return "" }
        var parts = [
            "The \(curvature.options.operatorKind.displayName) of the mean loss on the first \(curvature.samples) training images (the labels trained on), over \(curvature.parameters == .weights ? "the weight matrices (no biases)" : "the parameters \(curvature.parameters)"): its \(curvature.options.top) largest eigenvalues by Lanczos, N_eff = Σ λᵢ/(λᵢ + 1), and the Laplace evidence at MacKay's δ (see occam evidence; the unmeasured eigenvalues count as zero). Means over replicates; every network is in curvature.csv, and evidence.svg plots test error against the evidence.",
        ]
        func correlation(_ name: String, _ value: (Width) -> Double) -> String {
            let pairs = widths.map { (value($0), $0.testError.mean) }.filter { $0.0.isFinite && $0.1.isFinite }
            guard pairs.count >= 3 else { return "\(name): too few widths to correlate" }
            return "\(name) " + (spearman(pairs.map(\.0), pairs.map(\.1)).map { String(format: "%+.2f", $0) } ?? "undefined (one side is constant)")
        }
        if let peak = widths.max(by: { $0.effectiveDimensionality.mean < $1.effectiveDimensionality.mean }),
           let worst = widths.max(by: { $0.testError.mean < $1.testError.mean }) {
            parts.append("N_eff is largest at width \(peak.width) (\(peak.effectiveDimensionality.text(digits: 1))); test error is highest at width \(worst.width) (\(worst.testError.text(digits: 1, unit: "%"))).")
        }
        parts.append("Spearman rank correlation with test error across the \(widths.count) widths: " + [
            correlation("N_eff", { $0.effectiveDimensionality.mean }), correlation("parameter count", { Double($0.parameters) }),
            correlation("largest eigenvalue", { $0.topEigenvalue.mean }), correlation("log evidence", { $0.logEvidence.mean }),
        ].joined(separator: "; ") + " (+1: rises with test error; -1: falls as it rises).")
        if let saturated = widths.first(where: { $0.effectiveDimensionality.mean > 0.9 * Double(curvature.options.top) }) {
            parts.append("At width \(saturated.width) N_eff is within 10% of the \(curvature.options.top) eigenvalues measured: it is limited by --curvature-top there.")
        }
        return parts.joined(separator: " ")
    }
}
