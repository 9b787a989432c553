import Foundation

/// What a lottery report keeps of one network's curvature.json (`SweepCurvature`, over the surviving weights):
/// a few numbers per stage for stages.csv and the plots.
public struct LotteryStageCurvature: Codable, Sendable {
    /// The coordinates measured: the surviving (unpruned) entries of the selected parameters.
    public var measuredCoordinates: Int
    public var topEigenvalue: Double?
    public var trace: Double?
    /// N_eff at z = 1 of the mean loss's top eigenvalues.
    public var effectiveDimensionality: Double
    /// The Laplace evidence at MacKay's δ (nats).
    public var logEvidence: Double?
    public var lanczosConverged: Bool

    /// The measurement in `stage`/curvature.json; nil when there is none.
    init?(measuredIn stage: URL) throws {
        let url = stage.appendingPathComponent(SweepCurvature.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let c = try RunStore.readJSON(NetworkCurvature.self, from: url)
        (measuredCoordinates, topEigenvalue, trace) = (c.dimension, c.topEigenvalue, c.trace)
        (effectiveDimensionality, logEvidence, lanczosConverged) = (c.effectiveDimensionality, c.evidence?.logEvidence, c.converged)
    }

    /// The columns stages.csv gains, one row per stage (empty where a stage was not measured).
    static func columns(_ stages: [LotteryStageCurvature?]) -> CSVTable {
        CSVTable(
            header: ["measured_coordinates", "top_eigenvalue", "trace", "neff", "log_evidence", "lanczos_converged"],
            rows: stages.map { c in
                guard let c else { return Array(repeating: "", count: 6) }
                return ["\(c.measuredCoordinates)", exact(c.topEigenvalue), exact(c.trace), exact(c.effectiveDimensionality),
                        exact(c.logEvidence), "\(c.lanczosConverged)"]
            })
    }
}

/// One network's curvature at one pruning level over the replicates measured.
public struct LotteryLevelCurvature: Codable, Sendable {
    public var topEigenvalue: Spread
    public var trace: Spread
    public var effectiveDimensionality: Spread
    public var logEvidence: Spread

    /// Nil when no replicate was measured.
    init?(_ stages: [LotteryStageCurvature]) {
        guard !stages.isEmpty else { return nil }
        topEigenvalue = Spread(stages.compactMap(\.topEigenvalue))
        trace = Spread(stages.compactMap(\.trace))
        effectiveDimensionality = Spread(stages.map(\.effectiveDimensionality))
        logEvidence = Spread(stages.compactMap(\.logEvidence))
    }

    /// The columns lottery.csv gains, one row per level and network.
    static func columns(_ levels: [LotteryLevelCurvature?]) -> CSVTable {
        let measures: [(String, KeyPath<LotteryLevelCurvature, Spread>)] = [
            ("top_eigenvalue", \.topEigenvalue), ("trace", \.trace), ("neff", \.effectiveDimensionality), ("log_evidence", \.logEvidence),
        ]
        return CSVTable(
            header: measures.flatMap { ["\($0.0)_mean", "\($0.0)_std"] },
            rows: levels.map { c in
                measures.flatMap { _, measure in [exact(c?[keyPath: measure].mean), exact(c?[keyPath: measure].standardDeviation)] }
            })
    }
}

extension LotteryReport {
    /// The curvature measures a report plots: (file, title, axis label, value).
    static var curvatureMeasures: [(file: String, title: String, axis: String, value: KeyPath<LotteryLevelCurvature, Spread>)] { [
        ("sharpness.svg", "Largest eigenvalue of the GGN over the surviving weights", "largest eigenvalue (log scale)", \.topEigenvalue),
        ("effective-dimensionality.svg", "Effective dimensionality N_eff (z = 1) over the surviving weights", "N_eff", \.effectiveDimensionality),
        ("evidence.svg", "Laplace evidence at MacKay's prior precision", "log evidence (nats)", \.logEvidence),
    ] }

    /// sharpness.svg, effective-dimensionality.svg and evidence.svg against weights remaining, per network.
    static func curvaturePlots(_ summaries: [LotteryLevelSummary]) -> [(file: String, plot: LinePlot)] {
        let remaining = PlotAxis("weights remaining (%, log scale)", scale: .logarithmic, reversed: true)
        return curvatureMeasures.map { file, title, axis, value in
            let series = LotteryNetwork.allCases.compactMap { network -> PlotSeries? in
                let rows = summaries.filter { ($0.network == network || ($0.level == 0 && network != .ticket)) && $0.curvature != nil }
                guard rows.contains(where: { $0.network == network }) else { return nil }
                return PlotSeries(network.displayName, points: rows.map { row in
                    let spread = row.curvature![keyPath: value]
                    return PlotPoint(x: row.weightsRemaining, y: spread.mean, error: spread.errorBar)
                }, dashed: network != .ticket, color: network.color)
            }
            let y = value == \.topEigenvalue ? PlotAxis(axis, scale: .logarithmic) : PlotAxis(axis)
            return (file, LinePlot(title: title, x: remaining, y: y, series: series))
        }
    }

    /// The curvature section: what was measured, each network against the dense network, the ticket against
    /// each control at the same level, and how the measures follow test accuracy. Nil when nothing was measured.
    static func curvatureSection(_ summaries: [LotteryLevelSummary], configuration: LotteryConfiguration) -> HTMLReport.Section? {
        guard let curvature = configuration.curvature, summaries.contains(where: { $0.curvature != nil }) else { return nil }
        let selection = curvature.parameters == .weights ? "weight matrices and kernels (no biases)" : "parameters \(curvature.parameters)"
        var parts = [
            "Every trained network's curvature over its surviving weights (the pruned coordinates are not coordinates of the measured loss): the \(curvature.options.operatorKind.displayName) of the mean loss on the first \(curvature.samples) training images, over the \(selection); its \(curvature.options.top) largest eigenvalues by Lanczos, the trace by Hutch++, N_eff = Σ λᵢ/(λᵢ + 1) and the Laplace evidence at MacKay's δ (see occam evidence; unmeasured eigenvalues count as zero, so a network with more than \(curvature.options.top) stiff directions has its N_eff capped near \(curvature.options.top)).",
        ]
        let measures: [(name: String, value: (LotteryLevelSummary) -> Spread, digits: Int)] = [
            ("largest eigenvalue", { $0.curvature?.topEigenvalue ?? Spread([]) }, 2),
            ("N_eff", { $0.curvature?.effectiveDimensionality ?? Spread([]) }, 2),
        ]
        for measure in measures {
            for network in LotteryNetwork.allCases {
                guard let comparison = comparisonWithDense(
                    summaries.filter { $0.curvature != nil }, network: network, value: measure.value, higher: "above the dense network",
                    lower: "below the dense network", unit: "", digits: measure.digits)
                else { continue }
                parts.append("\(measure.name.prefix(1).uppercased() + measure.name.dropFirst()) of the \(network.displayName), by weights remaining: \(comparison).")
            }
            for control in configuration.controls {
                let pairs = summaries.filter { $0.network == .ticket && $0.level > 0 }.compactMap { ticket -> (label: String, comparison: GroupComparison)? in
                    guard let other = summaries.first(where: { $0.level == ticket.level && $0.network == control }) else { return nil }
                    return (String(format: "%.1f%%", ticket.weightsRemaining), GroupComparison(measure.value(ticket), against: measure.value(other)))
                }
                guard !pairs.isEmpty else { continue }
                let text = GroupComparison.describe(
                    comparisons: pairs, higher: "above the \(control.displayName)", lower: "below the \(control.displayName)",
                    same: "not distinguishable from the \(control.displayName)", itemName: "levels", unit: "", digits: measure.digits)
                parts.append("\(measure.name.prefix(1).uppercased() + measure.name.dropFirst()) of the winning ticket against the \(control.displayName) at the same level: \(text).")
            }
        }
        let measured = summaries.filter { $0.curvature != nil && $0.finalTestAccuracy.mean.isFinite }
        if measured.count >= 3 {
            func rank(_ name: String, _ value: (LotteryLevelSummary) -> Double) -> String {
                let pairs = measured.map { (value($0), $0.finalTestAccuracy.mean) }.filter { $0.0.isFinite }
                guard pairs.count >= 3 else { return "\(name): too few values" }
                return "\(name) " + (spearman(pairs.map(\.0), pairs.map(\.1)).map { String(format: "%+.2f", $0) } ?? "undefined (one side is constant)")
            }
            parts.append("Spearman rank correlation with test accuracy over the \(measured.count) measured networks and levels (means over replicates): " + [
                rank("largest eigenvalue", { $0.curvature!.topEigenvalue.mean }), rank("trace", { $0.curvature!.trace.mean }),
                rank("N_eff", { $0.curvature!.effectiveDimensionality.mean }), rank("log evidence", { $0.curvature!.logEvidence.mean }),
                rank("weights remaining", { $0.weightsRemaining }),
            ].joined(separator: "; ") + " (+1: rises with accuracy).")
        }
        if configuration.replicates > 1 {
            let power = configuration.replicates < 4
                ? " With \(configuration.replicates) replicates the test detects only differences of many standard deviations: read \"not distinguishable\" as \"not shown\", and the plots for the trend."
                : ""
            parts.append("Judged by \(GroupComparison.method); error bars: one standard deviation.\(power)")
        }
        return .init(
            title: "Curvature of tickets and controls", text: parts.joined(separator: " "), image: "sharpness.svg",
            links: [("effective-dimensionality.svg", "effective-dimensionality.svg"), ("evidence.svg", "evidence.svg"),
                    ("lottery.csv (curvature columns)", "lottery.csv"), ("stages.csv (per network)", "stages.csv")])
    }
}
