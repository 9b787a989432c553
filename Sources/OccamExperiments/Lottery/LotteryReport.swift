import Foundation
import OccamData
import OccamNN

/// One finished stage of a lottery study: a line of the study's metrics.jsonl.
public struct LotteryStageRecord: Codable, Sendable {
    public var replicate: Int
    public var level: Int
    public var network: LotteryNetwork
    /// Percent of prunable weights kept.
    public var weightsRemaining: Double
    /// Percent kept per prunable tensor.
    public var layerWeightsRemaining: [String: Double]
    public var iterations: Int
    public var finalTestAccuracy: Double?
    public var finalValidationAccuracy: Double?
    public var earlyStoppingIteration: Int?
    public var earlyStoppingTestAccuracy: Double?
    public var wallSeconds: Double
    /// The part of `wallSeconds` spent evaluating validation and test (nil for runs from before it was measured).
    public var evaluationSeconds: Double?
    /// The network's curvature over its surviving weights (curvature.json, `occam lottery --curvature`); nil when
    /// not measured.
    public var curvature: LotteryStageCurvature?
}

/// Mean and spread over replicates of one network at one level: a row of lottery.csv and summary.json.
public struct LotteryLevelSummary: Codable, Sendable {
    public var level: Int
    public var network: LotteryNetwork
    public var replicates: Int
    /// Percent of prunable weights kept (mean over replicates; equal for layer-wise pruning).
    public var weightsRemaining: Double
    public var finalTestAccuracy: Spread
    public var earlyStoppingIteration: Spread
    public var earlyStoppingTestAccuracy: Spread
    /// Over the replicates whose network was measured (`--curvature`); nil when none was.
    public var curvature: LotteryLevelCurvature?
}

/// Builds a lottery study's results from its stage directories alone: metrics.jsonl (one record per
/// stage), summary.json, lottery.csv, stages.csv, curves.csv, the SVG plots and index.html.
public struct LotteryReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// Reads what the stages wrote and (re)writes every study-level file. Unfinished stages are left out.
    /// - Returns: the per-level summaries.
    @discardableResult
    public func build() throws -> [LotteryLevelSummary] {
        let stored = try RunStore.readConfiguration(LotteryConfiguration.self, in: directory)
        let configuration = stored.configuration
        var records: [LotteryStageRecord] = []
        var curves: [(record: LotteryStageRecord, points: [EvaluationRecord])] = []
        for replicate in 0..<configuration.replicates {
            for level in 0...configuration.levels {
                for network in configuration.networks(atLevel: level) {
                    let stage = directory.appendingPathComponent("replicate-\(replicate)/level-\(level)/\(network.rawValue)")
                    guard RunStore.isComplete(stage) else { continue }
                    let info = try RunStore.readJSON(LotteryStageInfo.self, from: stage.appendingPathComponent("pruning.json"))
                    let summary = try RunStore.readJSON(TrainingSummary.self, from: stage.appendingPathComponent("summary.json"))
                    let record = LotteryStageRecord(
                        replicate: replicate, level: level, network: network, weightsRemaining: 100 * info.weightsRemaining,
                        layerWeightsRemaining: Dictionary(uniqueKeysWithValues: info.layers.map { ($0.name, 100 * $0.density) }),
                        iterations: summary.iterations, finalTestAccuracy: summary.finalTest?.accuracy,
                        finalValidationAccuracy: summary.finalValidation?.accuracy,
                        earlyStoppingIteration: summary.earlyStoppingIteration,
                        earlyStoppingTestAccuracy: summary.earlyStoppingTestAccuracy, wallSeconds: summary.wallSeconds,
                        evaluationSeconds: summary.evaluationSeconds, curvature: try LotteryStageCurvature(measuredIn: stage))
                    records.append(record)
                    curves.append((record, try RunStore.readJSONLines(EvaluationRecord.self, from: stage.appendingPathComponent("metrics.jsonl"))))
                }
            }
        }
        let summaries = Self.summarize(records)
        try ResultFiles.writeJSONLines(records, to: file("metrics.jsonl"))
        try ResultFiles.writeJSON(summaries, to: file("summary.json"))
        let levelTable = Self.levelTable(summaries)
        try levelTable.write(to: file("lottery.csv"))
        try Self.stageTable(records).write(to: file("stages.csv"))
        try Self.curveTable(curves).write(to: file("curves.csv"))
        try plots(summaries: summaries, curves: curves, configuration: configuration).forEach { try $0.plot.write(to: file($0.file)) }
        if summaries.contains(where: { $0.curvature != nil }) {
            try Self.curvaturePlots(summaries).forEach { try $0.plot.write(to: file($0.file)) }
        }
        try report(configuration: configuration, summaries: summaries, levelTable: levelTable, records: records).write(in: directory)
        return summaries
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Groups records by level and network, in level order.
    static func summarize(_ records: [LotteryStageRecord]) -> [LotteryLevelSummary] {
        let groups = Dictionary(grouping: records) { "\($0.level) \($0.network.rawValue)" }.values
            .sorted { ($0[0].level, $0[0].network) < ($1[0].level, $1[0].network) }
        return groups.map { group in
            LotteryLevelSummary(
                level: group[0].level, network: group[0].network, replicates: group.count,
                weightsRemaining: Spread(group.map(\.weightsRemaining)).mean,
                finalTestAccuracy: Spread(group.compactMap { $0.finalTestAccuracy.map { 100 * $0 } }),
                earlyStoppingIteration: Spread(group.compactMap { $0.earlyStoppingIteration.map(Double.init) }),
                earlyStoppingTestAccuracy: Spread(group.compactMap { $0.earlyStoppingTestAccuracy.map { 100 * $0 } }),
                curvature: LotteryLevelCurvature(group.compactMap(\.curvature)))
        }
    }

    static func levelTable(_ summaries: [LotteryLevelSummary]) -> CSVTable {
        let table = CSVTable(
            header: ["level", "network", "weights_remaining_percent", "replicates", "test_accuracy_mean", "test_accuracy_std",
                     "early_stop_iteration_mean", "early_stop_iteration_std", "early_stop_test_accuracy_mean", "early_stop_test_accuracy_std"],
            rows: summaries.map { s in
                ["\(s.level)", s.network.rawValue, exact(s.weightsRemaining), "\(s.replicates)",
                 exact(s.finalTestAccuracy.mean), exact(s.finalTestAccuracy.standardDeviation),
                 exact(s.earlyStoppingIteration.mean), exact(s.earlyStoppingIteration.standardDeviation),
                 exact(s.earlyStoppingTestAccuracy.mean), exact(s.earlyStoppingTestAccuracy.standardDeviation)]
            })
        return summaries.contains(where: { $0.curvature != nil }) ? table.appending(LotteryLevelCurvature.columns(summaries.map(\.curvature))) : table
    }

    static func stageTable(_ records: [LotteryStageRecord]) -> CSVTable {
        let layers = records.first.map { $0.layerWeightsRemaining.keys.sorted() } ?? []
        let table = CSVTable(
            header: ["replicate", "level", "network", "weights_remaining_percent"] + layers.map { "\($0)_remaining_percent" }
                + ["end_iteration", "test_accuracy", "validation_accuracy", "early_stop_iteration", "early_stop_test_accuracy", "wall_seconds",
                   "evaluation_seconds"],
            rows: records.map { r in
                ["\(r.replicate)", "\(r.level)", r.network.rawValue, exact(r.weightsRemaining)]
                    + layers.map { exact(r.layerWeightsRemaining[$0]) }
                    + ["\(r.iterations)", exact(r.finalTestAccuracy.map { 100 * $0 }),
                       exact(r.finalValidationAccuracy.map { 100 * $0 }),
                       r.earlyStoppingIteration.map(String.init) ?? "", exact(r.earlyStoppingTestAccuracy.map { 100 * $0 }),
                       exact(r.wallSeconds), exact(r.evaluationSeconds)]
            })
        return records.contains(where: { $0.curvature != nil }) ? table.appending(LotteryStageCurvature.columns(records.map(\.curvature))) : table
    }

    static func curveTable(_ curves: [(record: LotteryStageRecord, points: [EvaluationRecord])]) -> CSVTable {
        CSVTable(
            header: ["replicate", "level", "network", "weights_remaining_percent", "iteration", "split", "loss", "accuracy"],
            rows: curves.flatMap { record, points in
                points.map { p in
                    ["\(record.replicate)", "\(record.level)", record.network.rawValue, exact(record.weightsRemaining),
                     "\(p.step)", p.split, exact(p.loss), exact(100 * p.accuracy)]
                }
            })
    }

    /// The figures: accuracy and early stopping against weights remaining, and training curves per network.
    func plots(
        summaries: [LotteryLevelSummary], curves: [(record: LotteryStageRecord, points: [EvaluationRecord])],
        configuration: LotteryConfiguration
    ) -> [(file: String, plot: LinePlot)] {
        let remaining = PlotAxis("weights remaining (%, log scale)", scale: .logarithmic, reversed: true)
        func byNetwork(_ value: (LotteryLevelSummary) -> Spread) -> [PlotSeries] {
            LotteryNetwork.allCases.compactMap { network in
                let rows = summaries.filter { $0.network == network || ($0.level == 0 && network != .ticket) }
                guard rows.contains(where: { $0.network == network }) else { return nil }
                return PlotSeries(network.displayName, points: rows.map {
                    PlotPoint(x: $0.weightsRemaining, y: value($0).mean, error: value($0).errorBar)
                }, dashed: network != .ticket, color: network.color)
            }
        }
        var plots: [(String, LinePlot)] = [
            ("test-accuracy.svg", LinePlot(
                title: "Test accuracy at the end of training", x: remaining, y: PlotAxis("test accuracy (%)"),
                series: byNetwork(\.finalTestAccuracy))),
            ("early-stopping-accuracy.svg", LinePlot(
                title: "Test accuracy at the early-stopping iteration", x: remaining, y: PlotAxis("test accuracy (%)"),
                series: byNetwork(\.earlyStoppingTestAccuracy))),
            ("early-stopping-iteration.svg", LinePlot(
                title: "Early-stopping iteration (minimum validation loss)", x: remaining, y: PlotAxis("iteration"),
                series: byNetwork(\.earlyStoppingIteration))),
        ]
        for network in LotteryNetwork.allCases where curves.contains(where: { $0.record.network == network }) {
            let levels = Self.shownLevels(Set(curves.filter { $0.record.network == network }.map(\.record.level)).sorted())
            let series = levels.enumerated().map { index, level in
                let runs = curves.filter { $0.record.level == level && ($0.record.network == network || level == 0) }
                // From the first evaluation after the start: the untrained start would squash the scale.
                let steps = Set(runs.flatMap { $0.points.filter { $0.split == "test" }.map(\.step) }).sorted().dropFirst()
                let points = steps.map { step in
                    let spread = Spread(runs.compactMap { run in run.points.first { $0.split == "test" && $0.step == step }.map { 100 * $0.accuracy } })
                    return PlotPoint(x: Double(step), y: spread.mean)
                }
                return PlotSeries(String(format: "%.1f%%", runs[0].record.weightsRemaining), points: points, markers: false,
                                  color: SeriesColor.ramp(index, of: levels.count))
            }
            plots.append(("curves-\(network.rawValue).svg", LinePlot(
                title: "Test accuracy during training: \(network.displayName)", x: PlotAxis("training iteration"),
                y: PlotAxis("test accuracy (%)"), series: series)))
        }
        return plots
    }

    /// At most eight levels, spread evenly from the first to the last, so the curves stay distinguishable.
    static func shownLevels(_ levels: [Int]) -> [Int] {
        guard levels.count > 8 else { return levels }
        return (0..<8).map { levels[Int((Double($0) * Double(levels.count - 1) / 7).rounded())] }
    }

    /// How `network`'s groups at every pruning level compare with the dense network's, in words, judged over
    /// replicates (`GroupComparison`): "above the dense network from 51.3% to 13.5% of weights remaining, ...",
    /// or, with one replicate, "too few replicates to tell (n = 1); as measured, ...".
    static func comparisonWithDense(
        _ summaries: [LotteryLevelSummary], network: LotteryNetwork, value: (LotteryLevelSummary) -> Spread,
        higher: String, lower: String, unit: String, digits: Int
    ) -> String? {
        guard let dense = summaries.first(where: { $0.level == 0 }) else { return nil }
        let rows = summaries.filter { $0.network == network && $0.level > 0 }
        guard !rows.isEmpty else { return nil }
        return GroupComparison.describe(
            rows.map { (label: String(format: "%.1f%%", $0.weightsRemaining), group: value($0)) }, against: value(dense),
            higher: higher, lower: lower, same: "not distinguishable from the dense network", itemName: "levels", unit: unit, digits: digits)
    }

    /// The introduction's findings: the dense accuracy, and each network's accuracy against it.
    static func accuracyFindings(_ summaries: [LotteryLevelSummary]) -> String {
        guard let dense = summaries.first(where: { $0.level == 0 }) else { return "" }
        var findings = "Dense network: \(dense.finalTestAccuracy.text(unit: "%")) test accuracy."
        for network in LotteryNetwork.allCases {
            guard let comparison = comparisonWithDense(
                summaries, network: network, value: \.finalTestAccuracy, higher: "above the dense network", lower: "below the dense network",
                unit: "pp", digits: 2)
            else { continue }
            findings += " \(network.displayName.prefix(1).uppercased() + network.displayName.dropFirst()), by weights remaining: \(comparison)."
        }
        return findings
    }

    /// The early-stopping section's text: each network's early-stopping iteration against the dense network's.
    static func earlyStoppingFindings(_ summaries: [LotteryLevelSummary]) -> String {
        guard let dense = summaries.first(where: { $0.level == 0 }), dense.earlyStoppingIteration.count > 0 else {
            return "No early-stopping iteration was measured (it needs a validation split)."
        }
        var text = "The iteration of minimum validation loss; Frankle & Carbin found that winning tickets reach it earlier than the dense network until they are pruned too far. Here the dense network stops at \(dense.earlyStoppingIteration.text(digits: 0, unit: "it"))."
        for network in LotteryNetwork.allCases {
            guard let comparison = comparisonWithDense(
                summaries, network: network, value: \.earlyStoppingIteration, higher: "later than the dense network",
                lower: "earlier than the dense network", unit: "it", digits: 0)
            else { continue }
            text += " \(network.displayName.prefix(1).uppercased() + network.displayName.dropFirst()), by weights remaining: \(comparison)."
        }
        return text
    }

    /// How much of the runs' training time went to evaluation, over the runs that measured it ("" when none did).
    static func evaluationShare(_ records: [LotteryStageRecord]) -> String {
        let measured = records.filter { $0.evaluationSeconds != nil && $0.wallSeconds > 0 }
        guard !measured.isEmpty else { return "" }
        let evaluation = measured.reduce(0) { $0 + $1.evaluationSeconds! }, wall = measured.reduce(0) { $0 + $1.wallSeconds }
        return String(
            format: " Evaluating took %.0f of the %.0f s these %d runs trained (%.0f%%).", evaluation, wall, measured.count,
            100 * evaluation / wall)
    }

    private func report(
        configuration: LotteryConfiguration, summaries: [LotteryLevelSummary], levelTable: CSVTable, records: [LotteryStageRecord]
    ) throws -> HTMLReport {
        let training = configuration.training
        let stored = try HTMLReport.configurationText(in: directory)
        let expected = configuration.trainingRunCount
        let findings = Self.accuracyFindings(summaries)
        let judged = summaries.contains { $0.replicates > 1 } ? " Differences are judged by \(GroupComparison.method)." : ""
        let introduction = """
            Iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020) of \(training.model) on \
            \(training.dataset.displayName): train for \(training.steps), prune \(configuration.strategy.rawValue) \
            (\(Int((100 * configuration.rates.rate).rounded()))% of the remaining weights per round\(configuration.strategy == .layerWise ? ", \(Int((100 * (configuration.rates.outputRate ?? configuration.rates.rate)).rounded()))% for the output layer" : "")), \
            rewind the survivors to their values at \(configuration.rewind), retrain; \(configuration.levels) rounds, \
            \(configuration.replicates == 1 ? "1 replicate (seed \(training.seed))" : "\(configuration.replicates) replicates (seeds \(training.seed) to \(training.seed + UInt64(configuration.replicates - 1)))"). Controls at every level: \(configuration.controls.isEmpty ? "none" : configuration.controls.map(\.displayName).joined(separator: " and ")). \
            Evaluation every \(training.evaluateEvery) on \(training.validationCount) held-out validation images and the test set.

            \(records.count) of \(expected) training runs finished.\(records.count < expected ? " Run the same command again to finish the rest." : "") \(findings)\(judged)\(Self.evaluationShare(records))
            """
        let errorBars = configuration.replicates > 1 ? " Error bars: one standard deviation over replicates." : ""
        return HTMLReport(
            title: "Lottery tickets: \(training.model) on \(training.dataset.displayName)",
            introduction: introduction,
            sections: [
                .init(title: "Test accuracy against weights remaining",
                      text: "Test accuracy at the end of training for each pruning level, sparsest to the right (log scale). A winning ticket keeps the dense accuracy as it is pruned; the controls show what the mask alone (random reinitialization) and the sparsity alone (random pruning) achieve.\(errorBars)",
                      image: "test-accuracy.svg", table: levelTable, links: [("lottery.csv", "lottery.csv"), ("summary.json", "summary.json")]),
                .init(title: "Test accuracy at early stopping",
                      text: "Test accuracy at the iteration of minimum validation loss, as in Frankle & Carbin's figures.\(errorBars)",
                      image: "early-stopping-accuracy.svg"),
                .init(title: "Early-stopping iteration",
                      text: Self.earlyStoppingFindings(summaries) + errorBars,
                      image: "early-stopping-iteration.svg", links: [("stages.csv (per run, with per-layer sparsity)", "stages.csv"), ("metrics.jsonl", "metrics.jsonl")]),
            ] + [Self.curvatureSection(summaries, configuration: configuration)].compactMap { $0 } + LotteryNetwork.allCases.filter { network in records.contains { $0.network == network } }.map { network in
                .init(title: "Training curves: \(network.displayName)",
                      text: "Test accuracy during training at each level, from the first evaluation after the start (legend: weights remaining; at most eight levels shown; mean over replicates). Every evaluation of every run is in curves.csv.",
                      image: "curves-\(network.rawValue).svg", links: [("curves.csv", "curves.csv")])
            },
            configurationJSON: stored,
            runs: records.map { r in
                (label: "r\(r.replicate) level \(r.level) \(r.network.rawValue)", path: "replicate-\(r.replicate)/level-\(r.level)/\(r.network.rawValue)")
            })
    }
}

extension LotteryNetwork {
    /// Its colour in every figure (the dense network is the ticket's level 0).
    var color: String {
        switch self {
        case .ticket: SeriesColor.ticket
        case .randomReinitialization: SeriesColor.randomReinitialization
        case .randomPruning: SeriesColor.randomPruning
        }
    }
}
