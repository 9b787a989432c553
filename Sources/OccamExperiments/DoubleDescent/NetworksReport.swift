import Foundation
import OccamData
import OccamNN
import OccamTensor

/// One finished run of a width sweep: a line of runs.csv.
public struct NetworkWidthRecord: Codable, Sendable, Equatable {
    public var run: NetworkWidthRun
    public var parameters: Int
    public var iterations: Int
    /// Final errors (fractions): on the noisy training labels, the clean test labels, the corrupted test labels.
    public var trainError: Double?
    public var testError: Double?
    public var corruptedTestError: Double?
    /// The lowest clean test error at any evaluation, and its step (what early stopping could reach).
    public var bestTestError: Double?
    public var bestTestStep: Int?
    /// Every evaluation: the epoch-wise curve.
    public var curve: [EvaluationRecord]
}

/// One width over replicates: a line of networks.csv.
public struct NetworkWidthSummary: Codable, Sendable {
    public var width: Int
    public var parameters: Int
    public var runs: Int
    public var trainError: Spread
    public var testError: Spread
    public var corruptedTestError: Spread
    public var bestTestError: Spread
}

/// summary.json of a width sweep: every width, and where the thresholds fall.
public struct NetworkSweepSummary: Codable, Sendable {
    public var widths: [NetworkWidthSummary]
    /// The smallest width whose mean final training error is at most 10% (see
    /// `DoubleDescentNetworksReport.interpolationThreshold`); nil: none within the budget.
    public var widthFittingToTenPercent: Int?
    /// The width (log-interpolated) with n x classes parameters; nil: outside the sweep.
    public var widthWithSamplesTimesClassesParameters: Double?
    /// The width of the lowest mean final test error among widths narrower than `widthFittingToTenPercent`
    /// (the bottom of the classical U), and of the highest among the widths past it (the peak); nil when the
    /// sweep has no such widths.
    public var classicalMinimumWidth: Int?
    public var peakWidth: Int?
}

/// Builds a width sweep's results from its run directories alone: runs.csv, networks.csv, curves.csv,
/// summary.json, test-error.svg (model-wise), epoch-wise-test.svg and epoch-wise-train.svg, epoch-width-test.svg (the heat map),
/// early-stopping.csv and .svg, ensemble.csv when the sweep measured ensembles, and index.html.
public struct DoubleDescentNetworksReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The finished runs, in the configuration's order.
    func records(_ configuration: DoubleDescentNetworksConfiguration, precision: String) throws -> [NetworkWidthRecord] {
        var parameters: [Int: Int] = [:]
        return try configuration.runs.compactMap { run in
            let runDirectory = directory.appendingPathComponent(run.path)
            guard RunStore.isComplete(runDirectory) else { return nil }
            let summary = try RunStore.readJSON(TrainingSummary.self, from: runDirectory.appendingPathComponent("summary.json"))
            if parameters[run.width] == nil {
                parameters[run.width] = try Self.parameterCount(of: runDirectory.appendingPathComponent("final.safetensors"), precision: precision)
            }
            let curve = try RunStore.readJSONLines(EvaluationRecord.self, from: runDirectory.appendingPathComponent("metrics.jsonl"))
            let tests = curve.filter { $0.split == "test" }
            let best = tests.max { $0.accuracy < $1.accuracy }
            func finalError(_ split: String) -> Double? { curve.last { $0.split == split }.map { 1 - $0.accuracy } }
            return NetworkWidthRecord(
                run: run, parameters: parameters[run.width]!, iterations: summary.iterations, trainError: finalError("train"),
                testError: finalError("test"), corruptedTestError: finalError("test-corrupted"), bestTestError: best.map { 1 - $0.accuracy },
                bestTestStep: best?.step, curve: curve)
        }
    }

    /// The number of trained parameters in a run's final checkpoint.
    static func parameterCount(of url: URL, precision: String) throws -> Int {
        precision == Double.precisionName
            ? try TrainingCheckpoint<Double>.read(from: url).parameters.scalarCount
            : try TrainingCheckpoint<Float>.read(from: url).parameters.scalarCount
    }

    /// Per width (ascending), over its finished replicates.
    func summaries(_ configuration: DoubleDescentNetworksConfiguration, records: [NetworkWidthRecord]) -> [NetworkWidthSummary] {
        configuration.widths.sorted().compactMap { width in
            let runs = records.filter { $0.run.width == width }
            guard let first = runs.first else { return nil }
            func spread(_ value: (NetworkWidthRecord) -> Double?) -> Spread { Spread(runs.compactMap(value).map { 100 * $0 }) }
            return NetworkWidthSummary(
                width: width, parameters: first.parameters, runs: runs.count, trainError: spread(\.trainError), testError: spread(\.testError),
                corruptedTestError: spread(\.corruptedTestError), bestTestError: spread(\.bestTestError))
        }
    }

    /// The smallest width whose mean final training error is at most 10%: where the effective model complexity
    /// (the most training images a model fits to within 10% error, Nakkiran et al.) reaches the training-set size.
    static func interpolationThreshold(_ summaries: [NetworkWidthSummary]) -> NetworkWidthSummary? {
        summaries.sorted { $0.width < $1.width }.first { $0.trainError.mean <= 10 }
    }

    /// The bottom of the classical U (the lowest test error among widths narrower than the interpolation
    /// threshold) and the highest test error among the widths past that bottom; nil when none is higher.
    static func classicalMinimumAndPeak(_ summaries: [NetworkWidthSummary]) -> (minimum: NetworkWidthSummary, peak: NetworkWidthSummary)? {
        guard let threshold = interpolationThreshold(summaries) else { return nil }
        let sorted = summaries.sorted { $0.width < $1.width }
        guard let minimum = sorted.filter({ $0.width < threshold.width }).min(by: { $0.testError.mean < $1.testError.mean }),
            let peak = sorted.filter({ $0.width > minimum.width }).max(by: { $0.testError.mean < $1.testError.mean }),
            peak.testError.mean > minimum.testError.mean
        else { return nil }
        return (minimum, peak)
    }

    /// The width (log-interpolated between swept widths) at which the parameter count reaches `target`.
    static func width(atParameters target: Int, _ summaries: [NetworkWidthSummary]) -> Double? {
        let sorted = summaries.sorted { $0.width < $1.width }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.parameters <= target && target <= b.parameters && a.parameters < b.parameters {
            let t = (log(Double(target)) - log(Double(a.parameters))) / (log(Double(b.parameters)) - log(Double(a.parameters)))
            return exp(log(Double(a.width)) + t * (log(Double(b.width)) - log(Double(a.width))))
        }
        return nil
    }

    @discardableResult
    public func build() throws -> [NetworkWidthSummary] {
        let stored = try RunStore.readConfiguration(DoubleDescentNetworksConfiguration.self, in: directory)
        let configuration = stored.configuration
        let records = try records(configuration, precision: stored.precision)
        let summaries = summaries(configuration, records: records)
        let t = configuration.training
        let trainCount = min(t.trainSize ?? .max, t.dataset.count(.train) - t.validationCount)
        let classes = configuration.training.dataset.classCount

        try CSVTable(
            header: ["replicate", "width", "parameters", "iterations", "train_error_percent", "test_error_percent", "corrupted_test_error_percent",
                     "best_test_error_percent", "best_test_step"],
            rows: records.map { r in
                ["\(r.run.replicate)", "\(r.run.width)", "\(r.parameters)", "\(r.iterations)", exact(r.trainError.map { 100 * $0 }),
                 exact(r.testError.map { 100 * $0 }), exact(r.corruptedTestError.map { 100 * $0 }),
                 exact(r.bestTestError.map { 100 * $0 }), r.bestTestStep.map(String.init) ?? ""]
            }).write(to: file("runs.csv"))
        let table = CSVTable(
            header: ["width", "parameters", "runs", "train_error_percent", "train_error_sd", "test_error_percent", "test_error_sd",
                     "corrupted_test_error_percent", "corrupted_test_error_sd", "best_test_error_percent"],
            rows: summaries.map { s in
                ["\(s.width)", "\(s.parameters)", "\(s.runs)", exact(s.trainError.mean), exact(s.trainError.standardDeviation),
                 exact(s.testError.mean), exact(s.testError.standardDeviation),
                 exact(s.corruptedTestError.mean), exact(s.corruptedTestError.standardDeviation),
                 exact(s.bestTestError.mean)]
            })
        try table.write(to: file("networks.csv"))
        try CSVTable(
            header: ["replicate", "width", "step", "epoch", "split", "loss", "error_percent"],
            rows: records.flatMap { r in
                r.curve.map { e in
                    ["\(r.run.replicate)", "\(r.run.width)", "\(e.step)", exact(e.epoch), e.split, exact(e.loss),
                     exact(100 * (1 - e.accuracy))]
                }
            }).write(to: file("curves.csv"))
        let threshold = Self.interpolationThreshold(summaries), bounds = Self.classicalMinimumAndPeak(summaries)
        let sweep = NetworkSweepSummary(
            widths: summaries, widthFittingToTenPercent: threshold?.width,
            widthWithSamplesTimesClassesParameters: Self.width(atParameters: trainCount * classes, summaries),
            classicalMinimumWidth: bounds?.minimum.width, peakWidth: bounds?.peak.width)
        try ResultFiles.writeJSON(sweep, to: file("summary.json"))

        var lines: [PlotVerticalLine] = []
        if let width = sweep.widthFittingToTenPercent {
            lines.append(PlotVerticalLine(x: Double(width), label: "train error ≤ 10%"))
        }
        if let width = sweep.widthWithSamplesTimesClassesParameters {
            lines.append(PlotVerticalLine(x: width, label: "parameters = n x classes"))
        }
        func series(_ name: String, dashed: Bool = false, color: String, _ value: (NetworkWidthSummary) -> Spread) -> PlotSeries {
            PlotSeries(name, points: summaries.map { PlotPoint(x: Double($0.width), y: value($0).mean, error: value($0).errorBar) }, dashed: dashed,
                       color: color)
        }
        let noisy = configuration.labelNoise > 0
        let ensembles = NetworksEnsembleReport(directory: directory, widths: configuration.widths)
        if !ensembles.rows.isEmpty { try ensembles.table.write(to: file("ensemble.csv")) }
        try LinePlot(
            title: "Error against width, \(formatted(100 * configuration.labelNoise, digits: 0))% label noise",
            x: PlotAxis("width (log scale)", scale: .logarithmic), y: PlotAxis("error (%)", range: 0...100),
            series: [series("test, clean labels", color: SeriesColor.test, \.testError)]
                + (noisy ? [series("test, corrupted labels", dashed: true, color: SeriesColor.corruptedTest, \.corruptedTestError)] : [])
                + [series("train (labels trained on)", dashed: true, color: SeriesColor.train, \.trainError),
                   series("test, best during training", dashed: true, color: SeriesColor.bestTest, \.bestTestError)]
                + (ensembles.rows.isEmpty ? [] : [ensembles.series(replicates: configuration.replicates)]),
            verticalLines: lines
        ).write(to: file("test-error.svg"))
        for (split, name) in [("test", "Test error (clean labels)"), ("train", "Training error (labels trained on)")] {
            try LinePlot(
                title: "\(name) over training", x: PlotAxis("epoch (log scale)", scale: .logarithmic), y: PlotAxis("error (%)", range: 0...100),
                series: curveWidths(configuration).enumerated().compactMap { index, width in
                    meanCurve(records.filter { $0.run.width == width }, split: split, width: width)
                        .map { PlotSeries($0.name, points: $0.points, markers: false, color: SeriesColor.ramp(index, of: curveWidths(configuration).count)) }
                }
            ).write(to: file("epoch-wise-\(split).svg"))
        }
        let earlyStopping = NetworksEarlyStopping(records: records)
        if !records.isEmpty {
            try earlyStopping.heatMap.write(to: file("epoch-width-test.svg"))
            try earlyStopping.plot.write(to: file("early-stopping.svg"))
            try earlyStopping.table.write(to: file("early-stopping.csv"))
        }
        var document = try report(configuration, summaries: summaries, threshold: threshold, bounds: bounds, table: table, records: records)
        if !records.isEmpty {
            document.sections.insert(.init(
                title: "Early stopping against width",
                text: "Mean clean test error over replicates at every evaluated step (rows, log-spaced) of every width (columns): Nakkiran et al.'s Fig. 2 plane. Below, each run stopped at \(earlyStopping.selectionText), against width, beside its final error. "
                    + earlyStopping.sentences(minimum: bounds?.minimum.width, peak: bounds?.peak.width).joined(separator: " "),
                image: "epoch-width-test.svg", table: earlyStopping.table, links: [("early-stopping.csv", "early-stopping.csv")]), at: 1)
            document.sections.insert(.init(title: "Early-stopped test error against width", text: "Mean ± standard deviation over replicates.", image: "early-stopping.svg"), at: 2)
        }
        if !ensembles.rows.isEmpty {
            document.sections.insert(.init(
                title: "Ensembles: the replicates' averaged predictions against width",
                text: "At each width the final networks of the \(configuration.replicates) replicates (each trained on its own subset and label noise) predict the clean test set; their softmax outputs are averaged and the class with the largest mean is the ensemble's answer. The plot above shows it (\"test, ensemble\") beside the mean single network's test error, with the interpolation threshold marked. "
                    + ensembles.sentences(minimum: bounds?.minimum.width, peak: bounds?.peak.width).joined(separator: " "),
                table: ensembles.table, links: [("ensemble.csv", "ensemble.csv")]), at: 1)
        }
        if configuration.curvature != nil,
           let section = try SweepCurvatureReport(directory: directory).build(configuration, records: records, summaries: summaries) {
            document.sections.insert(section, at: 1)
        }
        try document.write(in: directory)
        return summaries
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The widths whose curves the epoch-wise plots show: all of up to 6, else 6 spread over the sweep.
    func curveWidths(_ configuration: DoubleDescentNetworksConfiguration) -> [Int] {
        let widths = configuration.widths.sorted()
        guard widths.count > 6 else { return widths }
        return (0..<6).map { widths[Int((Double($0) * Double(widths.count - 1) / 5).rounded())] }
    }

    /// The mean over replicates of one split's error at each evaluated step (steps every replicate evaluated).
    private func meanCurve(_ runs: [NetworkWidthRecord], split: String, width: Int) -> PlotSeries? {
        guard !runs.isEmpty else { return nil }
        let perStep = Dictionary(grouping: runs.flatMap { $0.curve.filter { $0.split == split && $0.step > 0 } }, by: \.step)
        let points = perStep.filter { $0.value.count == runs.count }.sorted { $0.key < $1.key }.map { _, evaluations in
            PlotPoint(x: evaluations[0].epoch, y: 100 * (1 - evaluations.map(\.accuracy).reduce(0, +) / Double(evaluations.count)))
        }
        return PlotSeries("width \(width)", points: points, markers: false)
    }

    private func report(
        _ configuration: DoubleDescentNetworksConfiguration, summaries: [NetworkWidthSummary], threshold: NetworkWidthSummary?,
        bounds: (minimum: NetworkWidthSummary, peak: NetworkWidthSummary)?, table: CSVTable, records: [NetworkWidthRecord]
    ) throws -> HTMLReport {
        let t = configuration.training
        let model = t.model == "mlp" ? "one-hidden-layer MLP 784-H-10 (width H)" : t.model == "mcnn" ? "5-layer CNN with widths k, 2k, 4k, 8k (width k)" : "\(t.model) (width multiplier)"
        let optimizer = "\(t.optimizer.kind.rawValue) at lr \(t.optimizer.learningRate) (\(t.schedule == .constant ? "constant" : "scheduled"))"
        var findings: [String] = []
        if let (minimum, peak) = bounds, let last = summaries.last {
            findings.append(String(format: "Final test error: lowest %.1f%% at width %d before the threshold, highest %.1f%% at width %d past that, %.1f%% at width %d.",
                                   minimum.testError.mean, minimum.width, peak.testError.mean, peak.width, last.testError.mean, last.width))
            switch GroupComparison(peak.testError, against: minimum.testError).verdict {
            case .higher: findings.append("The peak is above the classical minimum beyond the noise (\(GroupComparison.method)).")
            case .indistinguishable: findings.append("The peak is not distinguishable from the classical minimum over the replicates (\(GroupComparison.method)): no clear double descent.")
            case .tooFewReplicates: findings.append("Too few replicates to tell whether the peak is real (n = \(min(peak.testError.count, minimum.testError.count))).")
            case .lower: break
            }
        } else if let first = summaries.first, let last = summaries.last {
            findings.append(String(format: "Final test error: %.1f%% at width %d, %.1f%% at width %d.", first.testError.mean, first.width,
                                   last.testError.mean, last.width))
        }
        if let threshold {
            findings.append(String(format: "Training error first falls to 10%% or less at width %d (%.1f%%; %d parameters).",
                                   threshold.width, threshold.trainError.mean, threshold.parameters))
        } else if !summaries.isEmpty {
            findings.append("No width brought the training error to 10% or less within the budget.")
        }
        return HTMLReport(
            title: "Double descent in width: \(t.model) on \(t.dataset.displayName)",
            introduction: """
                Nakkiran et al. (2020) and Belkin et al. (2019): as a network widens, test error first follows the \
                classical U, peaks near the width where the network starts to fit its training set (with label \
                noise, where it must memorize the wrong labels), then falls again. Here a \(model) trains on \
                \(t.trainSize.map { "\($0)" } ?? "all") \(t.dataset.displayName) images, \(formatted(100 * configuration.labelNoise, digits: 0))% of \
                whose labels are replaced by a random wrong class (corrupt-incorrect), for \(t.steps) with \(optimizer), batch \
                \(t.batchSize), \(t.loss.rawValue) loss; \(configuration.replicates) replicates per width (mean ± standard deviation), \
                each with its own subset, noise, initialization and data order. Errors are measured at log-spaced steps on \
                the noisy training labels, the clean test labels and test labels corrupted the same way.

                \(summaries.isEmpty ? "No run has finished yet; run the same command again." : findings.joined(separator: " "))
                """,
            sections: [
                .init(title: "Model-wise: error against width",
                      text: "Final errors. Dashed vertical lines: the smallest width whose training error is at most 10% (where the effective model complexity reaches n), and the width with as many parameters as n x classes (Belkin's threshold for squared loss).",
                      image: "test-error.svg", table: table,
                      links: [("networks.csv", "networks.csv"), ("runs.csv (every run)", "runs.csv"), ("summary.json", "summary.json")]),
                .init(title: "Epoch-wise: test error over training",
                      text: "Mean over replicates at each evaluated step, for up to six widths; every width's curves are in curves.csv.",
                      image: "epoch-wise-test.svg", links: [("curves.csv", "curves.csv")]),
                .init(title: "Training error over training", text: "The same runs on the labels they train on: a width interpolates where its curve reaches zero.",
                      image: "epoch-wise-train.svg"),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: records.map { (label: "r\($0.run.replicate) width \($0.run.width)", path: $0.run.path) })
    }
}
