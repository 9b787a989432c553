import Foundation
import OccamData
import OccamNN

/// One finished perturbation run: a line of runs.csv.
public struct EarlyPhaseRecord: Codable, Sendable, Equatable {
    public var run: EarlyPhaseRun
    /// Final test accuracy (%).
    public var testAccuracy: Double?
    public var testLoss: Double?
    public var wallSeconds: Double
}

/// One perturbation at one k over replicates: a line of accuracy.csv.
public struct EarlyPhaseSummaryRow: Codable, Sendable {
    public var rewindIteration: Int
    public var perturbation: WeightPerturbation
    /// Final test accuracy (%).
    public var testAccuracy: Spread
    /// Final test accuracy minus the same replicate's ticket at the same k (percentage points; paired).
    public var changeFromTicket: Spread
}

/// One layer at one k over replicates: a line of weight-statistics-summary.csv.
public struct WeightStatisticsSummaryRow: Codable, Sendable {
    public var rewindIteration: Int
    public var layer: String
    public var ksFromInitialization: Spread
    public var wassersteinFromInitialization: Spread
    public var relativeDistanceFromInitialization: Spread
    public var correlationWithFinal: Spread
}

/// summary.json of an early-phase study.
public struct EarlyPhaseSummary: Codable, Sendable {
    /// Percent of prunable weights the mask keeps (mean over replicates).
    public var weightsRemaining: Double?
    public var accuracy: [EarlyPhaseSummaryRow]
    public var weightStatistics: [WeightStatisticsSummaryRow]
    /// The report's findings, computed from the numbers.
    public var finding: String
}

/// Builds an early-phase study's results from its run directory alone: runs.csv, accuracy.csv,
/// weight-statistics.csv, weight-statistics-summary.csv, summary.json, accuracy-vs-k.svg,
/// change-vs-k.svg, weight-distance.svg, weight-correlation.svg and index.html.
public struct EarlyPhaseReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The finished perturbation runs, in the configuration's order.
    func records(_ configuration: EarlyPhaseConfiguration) throws -> [EarlyPhaseRecord] {
        try configuration.runs.compactMap { run in
            let runDirectory = directory.appendingPathComponent(run.path)
            guard RunStore.isComplete(runDirectory) else { return nil }
            let summary = try RunStore.readJSON(TrainingSummary.self, from: runDirectory.appendingPathComponent("summary.json"))
            return EarlyPhaseRecord(
                run: run, testAccuracy: summary.finalTest.map { 100 * $0.accuracy }, testLoss: summary.finalTest?.loss,
                wallSeconds: summary.wallSeconds)
        }
    }

    /// Per k and perturbation over finished replicates; the change from the ticket is paired by replicate.
    static func summaries(_ configuration: EarlyPhaseConfiguration, records: [EarlyPhaseRecord]) -> [EarlyPhaseSummaryRow] {
        configuration.rewindIterations.flatMap { k in
            let ticket = Dictionary(
                records.filter { $0.run.rewindIteration == k && $0.run.perturbation == .ticket }.compactMap { r in r.testAccuracy.map { (r.run.replicate, $0) } },
                uniquingKeysWith: { first, _ in first })
            return configuration.perturbations.compactMap { perturbation -> EarlyPhaseSummaryRow? in
                let runs = records.filter { $0.run.rewindIteration == k && $0.run.perturbation == perturbation }
                guard !runs.isEmpty else { return nil }
                let changes = runs.compactMap { r in r.testAccuracy.flatMap { accuracy in ticket[r.run.replicate].map { accuracy - $0 } } }
                return EarlyPhaseSummaryRow(
                    rewindIteration: k, perturbation: perturbation, testAccuracy: Spread(runs.compactMap(\.testAccuracy)),
                    changeFromTicket: Spread(changes))
            }
        }
    }

    /// Per k and layer over replicates.
    static func weightSummaries(_ statistics: [LayerWeightStatistics]) -> [WeightStatisticsSummaryRow] {
        let groups = Dictionary(grouping: statistics) { "\($0.iteration) \($0.layer)" }.values
        let layerOrder = statistics.map(\.layer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return groups.sorted { ($0[0].iteration, layerOrder.firstIndex(of: $0[0].layer)!) < ($1[0].iteration, layerOrder.firstIndex(of: $1[0].layer)!) }
            .map { group in
                WeightStatisticsSummaryRow(
                    rewindIteration: group[0].iteration, layer: group[0].layer, ksFromInitialization: Spread(group.map(\.ksFromInitialization)),
                    wassersteinFromInitialization: Spread(group.map(\.wassersteinFromInitialization)),
                    relativeDistanceFromInitialization: Spread(group.map(\.relativeDistanceFromInitialization)),
                    correlationWithFinal: Spread(group.map(\.correlationWithFinal)))
            }
    }

    /// The report's sentences: each perturbation against the ticket per k (paired t-test), the ticket at each
    /// k against the ticket at the first k, and how far the weights at each k are from the initialization.
    static func findings(_ configuration: EarlyPhaseConfiguration, rows: [EarlyPhaseSummaryRow], weights: [WeightStatisticsSummaryRow]) -> String {
        var sentences: [String] = []
        for perturbation in configuration.perturbations where perturbation != .ticket {
            let perK = rows.filter { $0.perturbation == perturbation }
            guard !perK.isEmpty else { continue }
            let text = GroupComparison.describe(
                comparisons: perK.map { (label: "k = \($0.rewindIteration)", comparison: GroupComparison($0.changeFromTicket, against: 0)) },
                higher: "above the ticket", lower: "below the ticket", same: "not distinguishable from it", itemName: "rewind points", unit: "pp")
            let means = perK.map { String(format: "%+.2f", $0.changeFromTicket.mean) }.joined(separator: ", ")
            sentences.append(
                "\(perturbation.displayName.prefix(1).uppercased() + perturbation.displayName.dropFirst()), paired with the same replicate's ticket: \(text) "
                    + "(mean changes at k = \(perK.map { String($0.rewindIteration) }.joined(separator: ", ")): \(means) pp).")
        }
        let tickets = rows.filter { $0.perturbation == .ticket }
        if let first = tickets.first, tickets.count >= 2 {
            let text = GroupComparison.describe(
                tickets.dropFirst().map { (label: "k = \($0.rewindIteration)", group: $0.testAccuracy) }, against: first.testAccuracy,
                higher: "higher than at k = \(first.rewindIteration)", lower: "lower than at k = \(first.rewindIteration)",
                same: "not distinguishable from k = \(first.rewindIteration)", itemName: "rewind points", unit: "pp")
            sentences.append(
                "The ticket itself: \(first.testAccuracy.text(unit: "%")) at k = \(first.rewindIteration); rewound later, \(text).")
        }
        let byK = Dictionary(grouping: weights, by: \.rewindIteration)
        let moved = configuration.rewindIterations.filter { $0 > 0 }.compactMap { k -> String? in
            guard let layers = byK[k], !layers.isEmpty else { return nil }
            let ks = layers.map(\.ksFromInitialization.mean), correlation = layers.map(\.correlationWithFinal.mean)
            return String(format: "k = %d: KS %.3f to %.3f, correlation with the final weights %.2f to %.2f", k, ks.min()!, ks.max()!, correlation.min()!, correlation.max()!)
        }
        if let start = byK[configuration.rewindIterations[0]], configuration.rewindIterations[0] == 0, !moved.isEmpty {
            let correlation = start.map(\.correlationWithFinal.mean)
            sentences.append(
                String(format: "Weights of the dense run against their initialization, per layer (range over layers of the mean over replicates): at k = 0 the correlation with the final weights is %.2f to %.2f; ", correlation.min()!, correlation.max()!)
                    + moved.joined(separator: "; ") + ".")
        }
        return sentences.isEmpty ? "No run has finished yet; run the same command again." : sentences.joined(separator: " ")
    }

    @discardableResult
    public func build() throws -> EarlyPhaseSummary {
        let configuration = try RunStore.readConfiguration(EarlyPhaseConfiguration.self, in: directory).configuration
        let records = try records(configuration)
        let rows = Self.summaries(configuration, records: records)
        var statistics: [LayerWeightStatistics] = []
        var densities: [Double] = []
        for replicate in 0..<configuration.replicates {
            let folder = directory.appendingPathComponent("replicate-\(replicate)")
            let statisticsFile = folder.appendingPathComponent("weight-statistics.json")
            if FileManager.default.fileExists(atPath: statisticsFile.path) {
                statistics += try RunStore.readJSON([LayerWeightStatistics].self, from: statisticsFile)
            }
            let maskFile = folder.appendingPathComponent("mask.json")
            if FileManager.default.fileExists(atPath: maskFile.path) {
                let counts = try RunStore.readJSON([MaskedTensorCount].self, from: maskFile)
                densities.append(100 * Double(counts.reduce(0) { $0 + $1.kept }) / Double(max(1, counts.reduce(0) { $0 + $1.total })))
            }
        }
        let weights = Self.weightSummaries(statistics)
        let finding = Self.findings(configuration, rows: rows, weights: weights)
        let summary = EarlyPhaseSummary(
            weightsRemaining: densities.isEmpty ? nil : Spread(densities).mean, accuracy: rows, weightStatistics: weights, finding: finding)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))

        try CSVTable(
            header: ["replicate", "rewind_iteration", "perturbation", "test_accuracy_percent", "test_loss", "wall_seconds"],
            rows: records.map { r in
                ["\(r.run.replicate)", "\(r.run.rewindIteration)", r.run.perturbation.rawValue, exact(r.testAccuracy), exact(r.testLoss), exact(r.wallSeconds)]
            }).write(to: file("runs.csv"))
        let accuracyTable = CSVTable(
            header: ["rewind_iteration", "perturbation", "replicates", "test_accuracy_percent", "test_accuracy_sd", "change_from_ticket_pp", "change_sd"],
            rows: rows.map { r in
                ["\(r.rewindIteration)", r.perturbation.rawValue, "\(r.testAccuracy.count)", exact(r.testAccuracy.mean), exact(r.testAccuracy.standardDeviation),
                 exact(r.changeFromTicket.mean), exact(r.changeFromTicket.standardDeviation)]
            })
        try accuracyTable.write(to: file("accuracy.csv"))
        try CSVTable(
            header: ["replicate", "rewind_iteration", "layer", "ks_from_initialization", "wasserstein_from_initialization_per_sd",
                     "relative_distance_from_initialization", "correlation_with_final"],
            rows: statistics.map { s in
                ["\(s.replicate)", "\(s.iteration)", s.layer, exact(s.ksFromInitialization), exact(s.wassersteinFromInitialization),
                 exact(s.relativeDistanceFromInitialization), exact(s.correlationWithFinal)]
            }).write(to: file("weight-statistics.csv"))
        let weightTable = CSVTable(
            header: ["rewind_iteration", "layer", "replicates", "ks_mean", "ks_sd", "wasserstein_per_sd_mean", "wasserstein_per_sd_sd",
                     "relative_distance_mean", "correlation_with_final_mean", "correlation_with_final_sd"],
            rows: weights.map { w in
                ["\(w.rewindIteration)", w.layer, "\(w.ksFromInitialization.count)", exact(w.ksFromInitialization.mean), exact(w.ksFromInitialization.standardDeviation),
                 exact(w.wassersteinFromInitialization.mean), exact(w.wassersteinFromInitialization.standardDeviation),
                 exact(w.relativeDistanceFromInitialization.mean), exact(w.correlationWithFinal.mean), exact(w.correlationWithFinal.standardDeviation)]
            })
        try weightTable.write(to: file("weight-statistics-summary.csv"))
        try plots(configuration, rows: rows, weights: weights).forEach { try $0.plot.write(to: file($0.name)) }
        try report(configuration, records: records, finding: finding, weightsRemaining: summary.weightsRemaining, accuracyTable: accuracyTable,
                   weightTable: weightTable).write(in: directory)
        return summary
    }

    /// The four figures: accuracy and paired change against k per perturbation, and the weight statistics
    /// against k per layer. k is drawn as a category (its values are usually far from evenly spaced).
    private func plots(_ configuration: EarlyPhaseConfiguration, rows: [EarlyPhaseSummaryRow], weights: [WeightStatisticsSummaryRow])
        -> [(name: String, plot: LinePlot)]
    {
        let ks = configuration.rewindIterations
        let axis = PlotAxis("rewind iteration k", categories: ks.map(String.init))
        func position(_ k: Int) -> Double { Double(ks.firstIndex(of: k)!) }
        func perturbationSeries(_ value: (EarlyPhaseSummaryRow) -> Spread) -> [PlotSeries] {
            configuration.perturbations.enumerated().map { index, perturbation in
                PlotSeries(
                    perturbation.displayName,
                    points: rows.filter { $0.perturbation == perturbation && value($0).count > 0 }.map {
                        PlotPoint(x: position($0.rewindIteration), y: value($0).mean, error: value($0).errorBar)
                    }, color: LinePlot.palette[index % LinePlot.palette.count])
            }
        }
        let layers = weights.map(\.layer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        func layerSeries(_ value: (WeightStatisticsSummaryRow) -> Spread) -> [PlotSeries] {
            layers.map { layer in
                PlotSeries(layer, points: weights.filter { $0.layer == layer }.map {
                    PlotPoint(x: position($0.rewindIteration), y: value($0).mean, error: value($0).errorBar)
                })
            }
        }
        return [
            ("accuracy-vs-k.svg", LinePlot(
                title: "Final test accuracy against the rewind iteration, per starting point", x: axis, y: PlotAxis("final test accuracy (%)"),
                series: perturbationSeries(\.testAccuracy))),
            ("change-vs-k.svg", LinePlot(
                title: "Change from the same replicate's ticket (paired)", x: axis, y: PlotAxis("test accuracy minus the ticket's (pp)"),
                series: perturbationSeries(\.changeFromTicket).filter { $0.name != WeightPerturbation.ticket.displayName },
                horizontalLines: [PlotHorizontalLine(y: 0, label: "ticket")])),
            ("weight-distance.svg", LinePlot(
                title: "Distance of the weights at k from their initial distribution (KS statistic)", x: axis,
                y: PlotAxis("two-sample KS statistic"), series: layerSeries(\.ksFromInitialization))),
            ("weight-correlation.svg", LinePlot(
                title: "Correlation of the weights at k with the dense run's final weights", x: axis,
                y: PlotAxis("Pearson correlation"), series: layerSeries(\.correlationWithFinal))),
        ]
    }

    private func report(
        _ configuration: EarlyPhaseConfiguration, records: [EarlyPhaseRecord], finding: String, weightsRemaining: Double?,
        accuracyTable: CSVTable, weightTable: CSVTable
    ) throws -> HTMLReport {
        let t = configuration.training
        let expected = configuration.runs.count
        let remaining = weightsRemaining.map { String(format: "%.1f%%", $0) } ?? "(not yet pruned)"
        let errorBars = configuration.replicates > 1 ? " Error bars: one standard deviation over replicates." : ""
        return HTMLReport(
            title: "The early phase of training: \(t.model) on \(t.dataset.displayName)",
            introduction: """
                Frankle, Schwab & Morcos (2020): a ticket rewound to iteration k of the dense run trains to full accuracy \
                for k beyond a few hundred iterations, while reinitializing its weights with their signs kept, or \
                permuting them within each layer, loses accuracy: the early phase makes the weights depend on each \
                other. Here \(t.model) trains on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) \
                training images for \(t.steps) (\(t.optimizer.kind.rawValue), learning rate \(t.optimizer.learningRate), batch \(t.batchSize)); \
                the mask comes from \(configuration.levels) round\(configuration.levels == 1 ? "" : "s") of \(configuration.strategy.rawValue) \
                magnitude pruning (\(remaining) of the prunable weights remain). For each k of \
                \(configuration.rewindIterations.map(String.init).joined(separator: ", ")) every starting point trains \
                from iteration k to the end on the dense run's data order; \(configuration.replicates) replicate\(configuration.replicates == 1 ? "" : "s") \
                (mean ± standard deviation; verdicts by a paired t-test against no change, two-sided, 5% level).

                \(records.count) of \(expected) perturbation runs finished.\(records.count < expected ? " Run the same command again to finish the rest." : "") \(finding)
                """,
            sections: [
                .init(title: "Final test accuracy against the rewind iteration",
                      text: "Every starting point made from the weights at iteration k, trained from k to the end under the ticket's mask.\(errorBars)",
                      image: "accuracy-vs-k.svg", table: accuracyTable,
                      links: [("accuracy.csv", "accuracy.csv"), ("runs.csv (every run)", "runs.csv"), ("summary.json", "summary.json")]),
                .init(title: "Change from the ticket",
                      text: "Each run's final test accuracy minus that of the same replicate's ticket at the same k (same mask and data order).\(errorBars)",
                      image: "change-vs-k.svg"),
                .init(title: "How far the weights at k are from their initial distribution",
                      text: "Per prunable layer of the dense run, the two-sample Kolmogorov–Smirnov statistic between the values at initialization and at k (0: the same distribution). The Wasserstein-1 distance in units of the initial standard deviation and the relative distance |W_k − W_0| / |W_0| are in the table.\(errorBars)",
                      image: "weight-distance.svg", table: weightTable,
                      links: [("weight-statistics-summary.csv", "weight-statistics-summary.csv"), ("weight-statistics.csv (per replicate)", "weight-statistics.csv")]),
                .init(title: "Correlation with the final weights",
                      text: "Per layer, Pearson's correlation of the weights at k with the dense run's weights at the end of training.\(errorBars)",
                      image: "weight-correlation.svg"),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: records.map { (label: "r\($0.run.replicate) k=\($0.run.rewindIteration) \($0.run.perturbation.rawValue)", path: $0.run.path) })
    }
}
