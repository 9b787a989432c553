import Foundation
import OccamAnalysis
import OccamData

/// One batch size over replicates: a line of batch-sizes.csv.
public struct BatchSizeSummary: Codable, Sendable {
    public var batchSize: Int
    public var learningRate: Double
    public var networks: Int
    public var trainError: Spread
    public var testError: Spread
    public var topEigenvalue: Spread
    public var trace: Spread
    public var effectiveDimensionality: Spread
    public var logEvidence: Spread
    public var occamFactor: Spread
}

/// How much one measure moved under Dinh et al.'s rescaling, over every network and α.
public struct RescalingEffect: Codable, Sendable {
    public var measure: String
    /// The smallest and largest ratio after / before (for signed measures such as the evidence, the largest
    /// relative change |after - before| / |before| is what decides).
    public var smallestRatio: Double
    public var largestRatio: Double
    public var largestRelativeChange: Double
    /// Whether the largest relative change exceeds `FlatnessReport.changeThreshold`.
    public var changed: Bool
}

/// summary.json of a flatness study.
public struct FlatnessSummary: Codable, Sendable {
    public var batchSizes: [BatchSizeSummary]
    public var rescaling: [RescalingEffect]
    /// Over every rescaled network: the largest logit change relative to the largest logit, and the test
    /// predictions that changed.
    public var largestRelativeLogitChange: Double?
    public var changedPredictions: Int
    public var rescaledNetworks: Int
}

/// Builds a flatness study's results from its networks' files alone: networks.csv, batch-sizes.csv,
/// rescaling.csv, summary.json, sharpness.svg, errors.svg, rescaling.svg and index.html.
public struct FlatnessReport {
    public var directory: URL
    /// Relative changes below this count as unchanged: rounding in float32 and Lanczos's tolerance.
    public static let changeThreshold = 1e-3

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The measured networks, in the configuration's order.
    func networks(_ configuration: FlatnessConfiguration) throws -> [FlatnessNetwork] {
        try configuration.runs.compactMap { run in
            let url = directory.appendingPathComponent(run.path).appendingPathComponent("network.json")
            return FileManager.default.fileExists(atPath: url.path) ? try RunStore.readJSON(FlatnessNetwork.self, from: url) : nil
        }
    }

    @discardableResult
    public func build() throws -> FlatnessSummary {
        let configuration = try RunStore.readConfiguration(FlatnessConfiguration.self, in: directory).configuration
        let networks = try networks(configuration)
        let groups = configuration.batchSizes.map { batchSize in
            let members = networks.filter { $0.run.batchSize == batchSize }
            func spread(_ value: (FlatnessNetwork) -> Double?) -> Spread { Spread(members.compactMap(value)) }
            return BatchSizeSummary(
                batchSize: batchSize, learningRate: configuration.learningRate(batchSize: batchSize), networks: members.count,
                trainError: spread { 100 * $0.trainError }, testError: spread { 100 * $0.testError },
                topEigenvalue: spread { $0.curvature.topEigenvalue }, trace: spread { $0.curvature.trace },
                effectiveDimensionality: spread { $0.curvature.effectiveDimensionality },
                logEvidence: spread { $0.curvature.evidence?.logEvidence }, occamFactor: spread { $0.curvature.evidence?.occamFactor })
        }
        let rescaled = networks.flatMap { network in network.rescaled.map { (network, $0) } }
        let effects = Self.measures.map { measure in
            let pairs = rescaled.compactMap { network, r -> (Double, Double)? in
                guard let before = measure.value(network.curvature), let after = measure.value(r.curvature) else { return nil }
                return (before, after)
            }
            let ratios = pairs.map { $0.1 / $0.0 }
            let change = pairs.map { abs($0.1 - $0.0) / max(abs($0.0), 1e-300) }.max() ?? 0
            return RescalingEffect(
                measure: measure.name, smallestRatio: ratios.min() ?? .nan, largestRatio: ratios.max() ?? .nan, largestRelativeChange: change,
                changed: change > Self.changeThreshold)
        }
        let summary = FlatnessSummary(
            batchSizes: groups, rescaling: effects,
            largestRelativeLogitChange: rescaled.map { $0.1.largestLogitDifference / max($0.1.logitScale, 1e-300) }.max(),
            changedPredictions: rescaled.reduce(0) { $0 + $1.1.changedPredictions }, rescaledNetworks: rescaled.count)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))
        let tables = try writeTables(networks, groups: groups, rescaled: rescaled)
        try writePlots(configuration, groups: groups, rescaled: rescaled)
        try report(configuration, summary: summary, networks: networks, tables: tables).write(in: directory)
        return summary
    }

    /// A measure of a curvature summary, by name.
    struct Measure: Sendable {
        var name: String
        var value: @Sendable (NetworkCurvature) -> Double?
    }

    /// Measures whose sign is not fixed (log densities): their change is told in percent, not as a factor.
    static let signedMeasures: Set<String> = ["Occam factor", "log evidence"]

    /// The measures compared before and after rescaling.
    static let measures: [Measure] = [
        Measure(name: "loss on the curvature images") { $0.loss },
        Measure(name: "accuracy on the curvature images") { $0.accuracy },
        Measure(name: "largest eigenvalue") { $0.topEigenvalue },
        Measure(name: "trace") { $0.trace },
        Measure(name: "N_eff") { $0.effectiveDimensionality },
        Measure(name: "squared norm ‖θ‖²") { $0.squaredNorm },
        Measure(name: "MacKay's δ") { $0.macKayPrecision },
        Measure(name: "Occam factor") { $0.evidence?.occamFactor },
        Measure(name: "log evidence") { $0.evidence?.logEvidence },
    ]

    private func writeTables(
        _ networks: [FlatnessNetwork], groups: [BatchSizeSummary], rescaled: [(FlatnessNetwork, RescaledNetwork)]
    ) throws -> (groups: CSVTable, rescaling: CSVTable) {
        var perNetwork = CSVTable(header: [
            "replicate", "batch_size", "learning_rate", "iterations", "train_error_percent", "test_error_percent", "test_loss", "top_eigenvalue",
            "trace", "trace_standard_error", "neff", "mackay_delta", "log_evidence", "log_likelihood", "occam_factor", "prior_term", "gamma",
            "gradient_norm", "squared_norm", "lanczos_converged",
        ])
        for n in networks {
            let c = n.curvature, e = c.evidence
            perNetwork.rows.append([
                "\(n.run.replicate)", "\(n.run.batchSize)", exact(n.learningRate), "\(n.iterations)", exact(100 * n.trainError), exact(100 * n.testError),
                exact(n.testLoss), exact(c.topEigenvalue), exact(c.trace), exact(c.traceStandardError), exact(c.effectiveDimensionality),
                exact(c.macKayPrecision), exact(e?.logEvidence), exact(e?.logLikelihood), exact(e?.occamFactor), exact(e?.priorTerm),
                exact(e?.effectiveDimensionality), exact(c.gradientNorm), exact(c.squaredNorm), "\(c.converged)",
            ])
        }
        try perNetwork.write(to: file("networks.csv"))
        var table = CSVTable(header: [
            "batch_size", "learning_rate", "networks", "train_error_percent", "train_error_std", "test_error_percent", "test_error_std",
            "top_eigenvalue", "top_eigenvalue_std", "trace", "trace_std", "neff", "neff_std", "log_evidence", "log_evidence_std",
        ])
        for g in groups {
            func cells(_ s: Spread) -> [String] { [exact(s.mean), exact(s.errorBar)] }
            table.rows.append(
                ["\(g.batchSize)", exact(g.learningRate), "\(g.networks)"] + cells(g.trainError) + cells(g.testError) + cells(g.topEigenvalue)
                    + cells(g.trace) + cells(g.effectiveDimensionality) + cells(g.logEvidence))
        }
        try table.write(to: file("batch-sizes.csv"))
        var rescaling = CSVTable(header: [
            "replicate", "batch_size", "alpha", "relative_logit_change", "changed_predictions", "top_eigenvalue_before", "top_eigenvalue_after",
            "trace_before", "trace_after", "neff_before", "neff_after", "log_evidence_before", "log_evidence_after", "loss_before", "loss_after",
        ])
        for (n, r) in rescaled {
            let (b, a) = (n.curvature, r.curvature)
            rescaling.rows.append([
                "\(n.run.replicate)", "\(n.run.batchSize)", exact(r.alpha), exact(r.largestLogitDifference / max(r.logitScale, 1e-300)),
                "\(r.changedPredictions)", exact(b.topEigenvalue), exact(a.topEigenvalue), exact(b.trace), exact(a.trace),
                exact(b.effectiveDimensionality), exact(a.effectiveDimensionality), exact(b.evidence?.logEvidence), exact(a.evidence?.logEvidence),
                exact(b.loss), exact(a.loss),
            ])
        }
        try rescaling.write(to: file("rescaling.csv"))
        return (table, rescaling)
    }

    private func writePlots(_ configuration: FlatnessConfiguration, groups: [BatchSizeSummary], rescaled: [(FlatnessNetwork, RescaledNetwork)]) throws {
        func series(_ name: String, _ value: (BatchSizeSummary) -> Spread, color: String? = nil) -> PlotSeries {
            PlotSeries(name, points: groups.compactMap { g in
                let s = value(g)
                return s.count > 0 && s.mean.isFinite ? PlotPoint(x: Double(g.batchSize), y: s.mean, error: s.errorBar) : nil
            }, color: color)
        }
        try LinePlot(
            title: "Sharpness against batch size (\(configuration.curvature.operatorKind.displayName))",
            x: PlotAxis("batch size", scale: .logarithmic), y: PlotAxis("eigenvalue / trace of the mean loss's curvature", scale: .logarithmic),
            series: [series("largest eigenvalue", \.topEigenvalue), series("trace", \.trace)]
        ).write(to: file("sharpness.svg"))
        try LinePlot(
            title: "Errors against batch size", x: PlotAxis("batch size", scale: .logarithmic), y: PlotAxis("error (%)"),
            series: [series("train", \.trainError, color: SeriesColor.train), series("test", \.testError, color: SeriesColor.test)]
        ).write(to: file("errors.svg"))
        // Each rescaled measure over its value before, per α (means over networks), on log scales.
        let alphas = configuration.alphas.sorted()
        func ratios(_ name: String, _ value: @escaping (NetworkCurvature) -> Double?) -> PlotSeries {
            PlotSeries(name, points: ([1.0] + alphas).sorted().compactMap { alpha in
                if alpha == 1 { return PlotPoint(x: 1, y: 1) }
                let values = rescaled.filter { $0.1.alpha == alpha }.compactMap { n, r -> Double? in
                    guard let before = value(n.curvature), let after = value(r.curvature), before > 0 else { return nil }
                    return after / before
                }
                return values.isEmpty ? nil : PlotPoint(x: alpha, y: values.reduce(0, +) / Double(values.count))
            })
        }
        if !alphas.isEmpty {
            try LinePlot(
                title: "Dinh et al.'s rescaling: measure after / before (mean over networks)", x: PlotAxis("α", scale: .logarithmic),
                y: PlotAxis("ratio after / before", scale: .logarithmic),
                series: [
                    ratios("largest eigenvalue", \.topEigenvalue), ratios("trace", \.trace), ratios("N_eff", \.effectiveDimensionality),
                    ratios("loss", \.loss),
                ]
            ).write(to: file("rescaling.svg"))
        }
    }

    private func report(
        _ configuration: FlatnessConfiguration, summary: FlatnessSummary, networks: [FlatnessNetwork], tables: (groups: CSVTable, rescaling: CSVTable)
    ) throws -> HTMLReport {
        let t = configuration.training
        let introduction = """
            Keskar et al. (2017): the same network trained with small and large batches for the same number of epochs; large batches are said to reach sharper minima that generalize worse. \
            Here \(t.model) \(t.model == "mlp" ? t.widths.map(String.init).joined(separator: "x") : "") on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) images, \(t.optimizer.kind.rawValue) for \(t.steps) at batch sizes \(configuration.batchSizes.map(String.init).joined(separator: ", ")) \
            (learning rate \(String(format: "%g", t.optimizer.learningRate)) at the smallest, scaled by the \(configuration.learningRateScaling.rawValue) rule), \(configuration.replicates) replicates (each batch size trains the same initial network of its replicate). \
            Curvature: the \(configuration.curvature.operatorKind.displayName) of the mean loss on the first \(configuration.curvatureSamples) training images over \(configuration.parameters) parameters, its \(configuration.curvature.top) largest eigenvalues by Lanczos, the trace by Hutch++, N_eff at z = \(significant(configuration.curvature.effectiveDimensionalityScale)), and the Laplace evidence at MacKay's δ (see occam evidence). \
            Dinh et al. (2017): multiplying \(FlatnessConfiguration.rescaledLayers.first) by α and \(FlatnessConfiguration.rescaledLayers.second)'s weights by 1/α leaves the function unchanged, so a measure of flatness that moves under it cannot by itself explain generalization.
            """
        var sections: [HTMLReport.Section] = [
            .init(title: "Sharp against flat", text: keskarText(summary, configuration: configuration), image: "sharpness.svg",
                  table: tables.groups, links: [("batch-sizes.csv", "batch-sizes.csv"), ("networks.csv", "networks.csv"), ("summary.json", "summary.json")]),
            .init(title: "Errors", text: "Train error over the whole training set, test error over the whole test set, per batch size (mean ± sd over replicates).",
                  image: "errors.svg"),
        ]
        if summary.rescaledNetworks > 0 {
            sections.append(.init(
                title: "Dinh et al.'s rescaling", text: dinhText(summary, configuration: configuration), image: "rescaling.svg",
                table: tables.rescaling.rows.count <= 30 ? tables.rescaling : nil, links: [("rescaling.csv", "rescaling.csv")]))
        }
        return HTMLReport(
            title: "Flatness: small against large batches, and rescaling", introduction: introduction, sections: sections,
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: networks.map { ($0.run.name, $0.run.path) })
    }

    /// The comparison of the largest batch size with the smallest, measure by measure, judged over replicates.
    func keskarText(_ summary: FlatnessSummary, configuration: FlatnessConfiguration) -> String {
        guard let small = summary.batchSizes.first(where: { $0.batchSize == configuration.batchSizes.min() }),
              let large = summary.batchSizes.first(where: { $0.batchSize == configuration.batchSizes.max() }),
              small.networks > 0, large.networks > 0
        else { return "Not every batch size has a measured network yet." }
        func compare(_ name: String, _ value: (BatchSizeSummary) -> Spread, digits: Int, unit: String = "") -> String {
            let comparison = GroupComparison(value(large), against: value(small))
            let verdict = switch comparison.verdict {
            case .higher: "higher"
            case .lower: "lower"
            case .indistinguishable: "not distinguishable"
            case .tooFewReplicates: "too few replicates to tell"
            }
            return "\(name): \(value(large).text(digits: digits, unit: unit)) against \(value(small).text(digits: digits, unit: unit)) (\(verdict))"
        }
        var text = "Batch \(large.batchSize) against batch \(small.batchSize), \(GroupComparison.method): "
        text += [
            compare("largest eigenvalue", \.topEigenvalue, digits: 4), compare("trace", \.trace, digits: 3),
            compare("N_eff", \.effectiveDimensionality, digits: 2), compare("log evidence", \.logEvidence, digits: 1, unit: " nats"),
            compare("train error", \.trainError, digits: 2, unit: "%"), compare("test error", \.testError, digits: 2, unit: "%"),
        ].joined(separator: "; ") + "."
        let sharper = GroupComparison(large.topEigenvalue, against: small.topEigenvalue).verdict
        let worse = GroupComparison(large.testError, against: small.testError).verdict
        switch (sharper, worse) {
        case (.higher, .higher): text += " As Keskar et al. report, the large batch reached a sharper point that generalizes worse."
        case (.tooFewReplicates, _), (_, .tooFewReplicates): text += " Whether the large batch is sharper and generalizes worse needs more replicates to tell."
        case (.higher, _): text += " The large batch's point is sharper, but its test error is not higher beyond the noise."
        case (.lower, _): text += " The large batch's point is flatter (a smaller largest eigenvalue) beyond the noise, the opposite of Keskar et al.'s finding."
        case (_, .higher): text += " The large batch generalizes worse, but its point is not sharper beyond the noise."
        default: text += " Neither a sharper point nor a higher test error at the large batch shows beyond the noise."
        }
        if large.trainError.mean > small.trainError.mean + 1 {
            text += " Note that the large batch did not fit the training set as well (train error \(large.trainError.text(unit: "%")) against \(small.trainError.text(unit: "%"))): part of any difference is under-training, not the width of the minimum."
        }
        return text
    }

    func dinhText(_ summary: FlatnessSummary, configuration: FlatnessConfiguration) -> String {
        let alphas = configuration.alphas.map { String(format: "%g", $0) }.joined(separator: ", ")
        var text = "Each of the \(summary.rescaledNetworks / max(configuration.alphas.count, 1)) networks rescaled with α = \(alphas): "
        let logit = summary.largestRelativeLogitChange ?? .nan
        text += summary.changedPredictions == 0
            ? "no test prediction changed, and the largest logit moved by \(significant(logit)) of the largest logit (rounding), so the rescaled networks compute the same function."
            : "\(summary.changedPredictions) test predictions changed (largest logit change \(significant(logit)) of the largest logit): rounding moved some near-ties."
        let changed = summary.rescaling.filter(\.changed), unchanged = summary.rescaling.filter { !$0.changed }
        if !changed.isEmpty {
            text += " Changed by more than \(String(format: "%g", 100 * Self.changeThreshold))%: " + changed.map { effect in
                !Self.signedMeasures.contains(effect.measure) && effect.smallestRatio > 0 && effect.largestRatio > 0
                    ? "\(effect.measure) (by a factor \(significant(effect.smallestRatio)) to \(significant(effect.largestRatio)))"
                    : "\(effect.measure) (by up to \(String(format: "%.1f", 100 * effect.largestRelativeChange))%)"
            }.joined(separator: ", ") + "."
        }
        if !unchanged.isEmpty {
            text += " Unchanged within \(String(format: "%g", 100 * Self.changeThreshold))%: " + unchanged.map { "\($0.measure) (largest change \(significant(100 * $0.largestRelativeChange))%)" }.joined(separator: ", ") + "."
        }
        if let top = summary.rescaling.first(where: { $0.measure == "largest eigenvalue" }), top.largestRatio > 0, top.smallestRatio > 0 {
            let factor = max(top.largestRatio, 1 / top.smallestRatio)
            text += " The rescaling moved the largest eigenvalue by up to a factor \(significant(factor)) (\(String(format: "%.1f", log10(factor))) orders of magnitude) while the network's predictions stayed the same."
        }
        return text
    }
}
