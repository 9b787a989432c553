import Foundation
import OccamData
import OccamNN

/// One finished run of a randomize study: a line of runs.csv.
public struct RandomizeRunRecord: Codable, Sendable, Equatable {
    public var replicate: Int
    public var condition: RandomizationCondition
    /// "none", or the regularizers joined by "+".
    public var regularization: String
    /// The iteration at which the training set was fit; nil when the budget ran out first.
    public var fitIteration: Int?
    public var iterations: Int
    public var trainAccuracy: Double?
    /// Against the true test labels.
    public var testAccuracy: Double?
    /// Against test labels corrupted like the training labels, when evaluated.
    public var corruptedTestAccuracy: Double?
}

/// One condition over replicates: a line of randomize.csv and summary.json.
public struct RandomizeConditionSummary: Codable, Sendable {
    public var condition: RandomizationCondition
    public var runs: Int
    /// Runs that fit the training set within the budget.
    public var fitted: Int
    /// Steps to fit, over the runs that fit.
    public var stepsToFit: Spread
    /// Steps to fit over the true-label run's, per replicate (both must have fit).
    public var slowdown: Spread
    /// Percent.
    public var trainAccuracy: Spread
    public var testError: Spread
    public var corruptedTestError: Spread
}

/// Builds a randomize run's results from its files alone: runs.csv, randomize.csv, regularization.csv,
/// curves.csv, summary.json, training-loss.svg (Zhang's Figure 1a), slowdown.svg (1b), test-error.svg (1c)
/// and index.html.
public struct RandomizeReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    @discardableResult
    public func build() throws -> [RandomizeConditionSummary] {
        let configuration = try RunStore.readConfiguration(RandomizeConfiguration.self, in: directory).configuration
        var records: [RandomizeRunRecord] = []
        var curves: [(run: RandomizeRunRecord, points: [EvaluationRecord])] = []
        for replicate in 0..<configuration.replicates {
            for run in configuration.runs {
                let runDirectory = directory.appendingPathComponent("replicate-\(replicate)/\(run.path)")
                guard RunStore.isComplete(runDirectory) else { continue }
                let summary = try RunStore.readJSON(TrainingSummary.self, from: runDirectory.appendingPathComponent("summary.json"))
                let metrics = try RunStore.readJSONLines(EvaluationRecord.self, from: runDirectory.appendingPathComponent("metrics.jsonl"))
                let record = RandomizeRunRecord(
                    replicate: replicate, condition: run.condition, regularization: RandomizeConfiguration.variantName(run.regularizers),
                    fitIteration: summary.fitIteration, iterations: summary.iterations,
                    trainAccuracy: metrics.last { $0.split == "train" }?.accuracy, testAccuracy: summary.finalTest?.accuracy,
                    corruptedTestAccuracy: metrics.last { $0.split == "test-corrupted" }?.accuracy)
                records.append(record)
                curves.append((record, metrics))
            }
        }
        let plain = records.filter { $0.regularization == "none" }
        let summaries = configuration.conditions.map { summarize($0, plain) }
        try ResultFiles.writeJSON(summaries, to: file("summary.json"))
        try writeTables(records, summaries: summaries, curves: curves, configuration: configuration)
        try writePlots(summaries, curves: curves.filter { $0.run.regularization == "none" && $0.run.replicate == 0 }, configuration: configuration)
        try report(configuration, summaries: summaries, records: records).write(in: directory)
        return summaries
    }

    private func summarize(_ condition: RandomizationCondition, _ records: [RandomizeRunRecord]) -> RandomizeConditionSummary {
        let runs = records.filter { $0.condition == condition }
        let truth = Dictionary(uniqueKeysWithValues: records.filter { $0.condition.kind == .trueLabels }.map { ($0.replicate, $0.fitIteration) })
        let slowdowns = runs.compactMap { run -> Double? in
            guard let steps = run.fitIteration, let base = truth[run.replicate] ?? nil, base > 0 else { return nil }
            return Double(steps) / Double(base)
        }
        return RandomizeConditionSummary(
            condition: condition, runs: runs.count, fitted: runs.filter { $0.fitIteration != nil }.count,
            stepsToFit: Spread(runs.compactMap { $0.fitIteration.map(Double.init) }), slowdown: Spread(slowdowns),
            trainAccuracy: Spread(runs.compactMap { $0.trainAccuracy.map { 100 * $0 } }),
            testError: Spread(runs.compactMap { $0.testAccuracy.map { 100 * (1 - $0) } }),
            corruptedTestError: Spread(runs.compactMap { $0.corruptedTestAccuracy.map { 100 * (1 - $0) } }))
    }

    private func writeTables(
        _ records: [RandomizeRunRecord], summaries: [RandomizeConditionSummary],
        curves: [(run: RandomizeRunRecord, points: [EvaluationRecord])], configuration: RandomizeConfiguration
    ) throws {
        func percent(_ value: Double?) -> String { exact(value.map { 100 * $0 }) }
        try CSVTable(
            header: ["replicate", "condition", "regularization", "fit_iteration", "iterations", "train_accuracy_percent", "test_accuracy_percent", "corrupted_test_accuracy_percent"],
            rows: records.map { r in
                ["\(r.replicate)", r.condition.description, r.regularization, r.fitIteration.map(String.init) ?? "", "\(r.iterations)",
                 percent(r.trainAccuracy), percent(r.testAccuracy), percent(r.corruptedTestAccuracy)]
            }).write(to: file("runs.csv"))
        try conditionTable(summaries).write(to: file("randomize.csv"))
        try regularizationTable(records, configuration: configuration).write(to: file("regularization.csv"))
        try CSVTable(
            header: ["replicate", "condition", "regularization", "iteration", "epoch", "split", "loss", "accuracy_percent"],
            rows: curves.flatMap { run, points in
                points.map { p in
                    ["\(run.replicate)", run.condition.description, run.regularization, "\(p.step)", exact(p.epoch), p.split,
                     exact(p.loss), exact(100 * p.accuracy)]
                }
            }).write(to: file("curves.csv"))
    }

    func conditionTable(_ summaries: [RandomizeConditionSummary]) -> CSVTable {
        CSVTable(
            header: ["condition", "runs", "fitted", "steps_to_fit_mean", "steps_to_fit_std", "slowdown_mean", "slowdown_std",
                     "train_accuracy_percent", "test_error_percent_mean", "test_error_percent_std", "corrupted_test_error_percent"],
            rows: summaries.map { s in
                [s.condition.description, "\(s.runs)", "\(s.fitted)", exact(s.stepsToFit.mean), exact(s.stepsToFit.standardDeviation),
                 exact(s.slowdown.mean), exact(s.slowdown.standardDeviation), exact(s.trainAccuracy.mean),
                 exact(s.testError.mean), exact(s.testError.standardDeviation), exact(s.corruptedTestError.mean)]
            })
    }

    /// Table 1's shape: per regularization and labels, train and test accuracy over replicates.
    func regularizationTable(_ records: [RandomizeRunRecord], configuration: RandomizeConfiguration) -> CSVTable {
        let variants = ["none"] + configuration.regularizedVariants.map(RandomizeConfiguration.variantName)
        return CSVTable(
            header: ["model", "regularization", "labels", "runs", "fitted", "train_accuracy_percent", "test_accuracy_percent_mean", "test_accuracy_percent_std"],
            rows: variants.flatMap { variant in
                RandomizeConfiguration.regularizedConditions.compactMap { condition -> [String]? in
                    let runs = records.filter { $0.regularization == variant && $0.condition == condition }
                    guard !runs.isEmpty else { return nil }
                    let test = Spread(runs.compactMap { $0.testAccuracy.map { 100 * $0 } })
                    return [configuration.training.model + configuration.training.widths.map { "-\($0)" }.joined(), variant, condition.description,
                            "\(runs.count)", "\(runs.filter { $0.fitIteration != nil }.count)",
                            exact(Spread(runs.compactMap { $0.trainAccuracy.map { 100 * $0 } }).mean),
                            exact(test.mean), exact(test.standardDeviation)]
                }
            })
    }

    private func writePlots(
        _ summaries: [RandomizeConditionSummary], curves: [(run: RandomizeRunRecord, points: [EvaluationRecord])],
        configuration: RandomizeConfiguration
    ) throws {
        try LinePlot(
            title: "Training loss against steps (replicate 0)", x: PlotAxis("training steps (thousands)"),
            y: PlotAxis("training loss (cross-entropy on the whole training set)"),
            series: curves.map { run, points in
                let index = configuration.conditions.firstIndex(of: run.condition) ?? 0
                return PlotSeries(run.condition.description, points: points.filter { $0.split == "train" }.map { PlotPoint(x: Double($0.step) / 1000, y: $0.loss) },
                                  dashed: run.condition.labelCorruption == nil, markers: false,
                                  color: SeriesColor.ramp(index, of: configuration.conditions.count))
            }
        ).write(to: file("training-loss.svg"))
        func byCorruption(_ kind: RandomizationCondition.Kind, _ value: (RandomizeConditionSummary) -> Spread) -> [PlotPoint] {
            summaries.compactMap { s -> PlotPoint? in
                let p = kind == .corrupt ? s.condition.labelCorruption : (s.condition.kind == .corruptIncorrect ? s.condition.probability : nil)
                let spread = value(s)
                guard let p, spread.count > 0 else { return nil }
                return PlotPoint(x: p, y: spread.mean, error: spread.errorBar)
            }.sorted { $0.x < $1.x }
        }
        func series(_ value: @escaping (RandomizeConditionSummary) -> Spread) -> [PlotSeries] {
            [PlotSeries("any class (Zhang)", points: byCorruption(.corrupt, value), color: SeriesColor.test),
             PlotSeries("a wrong class", points: byCorruption(.corruptIncorrect, value), dashed: true, color: SeriesColor.train)].filter { !$0.points.isEmpty }
        }
        let corruption = PlotAxis("label corruption p", range: 0...1)
        let slowdown = file("slowdown.svg")
        if Self.hasSlowdown(summaries) {
            try LinePlot(
                title: "Time to fit against label corruption", x: corruption,
                y: PlotAxis("steps to fit / steps to fit true labels"), series: series(\.slowdown)
            ).write(to: slowdown)
        } else if FileManager.default.fileExists(atPath: slowdown.path) {
            try FileManager.default.removeItem(at: slowdown)  // an empty plot says nothing; the report says why
        }
        var errorSeries = series(\.testError)
        if configuration.evaluateCorruptedTest {
            errorSeries += [PlotSeries("vs corrupted test labels", points: byCorruption(.corrupt, \.corruptedTestError), dashed: true,
                                       color: SeriesColor.corruptedTest)]
        }
        try LinePlot(
            title: "Test error against label corruption", x: corruption, y: PlotAxis("test error (%)", range: 0...100),
            series: errorSeries
        ).write(to: file("test-error.svg"))
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Whether the slowdown plot has a point: a corruption level and the true labels both fit in some replicate.
    static func hasSlowdown(_ summaries: [RandomizeConditionSummary]) -> Bool {
        summaries.contains { $0.slowdown.count > 0 && ($0.condition.labelCorruption != nil || $0.condition.kind == .corruptIncorrect) }
    }

    /// Why there is no slowdown plot, from what was run and what fit.
    static func whyNoSlowdown(_ summaries: [RandomizeConditionSummary]) -> String {
        let truth = summaries.first { $0.condition.kind == .trueLabels }
        let corrupted = summaries.filter { $0.condition.labelCorruption != nil || $0.condition.kind == .corruptIncorrect }
        let reason: String
        if truth == nil {
            reason = "the true-label condition was not run, and the slowdown is measured against it"
        } else if corrupted.isEmpty {
            reason = "no label-corruption condition was run"
        } else if truth!.fitted == 0 {
            reason = "no true-label run fit its training set within the budget, so there is nothing to divide by"
        } else {
            reason = "no label-corruption run fit its training set within the budget in a replicate whose true-label run fit"
        }
        return "No slowdown plot (Figure 1b): \(reason). The table gives each condition's runs, how many fit and the training accuracy reached; a longer --steps lets more runs fit."
    }

    /// One condition's line of the introduction: how many runs fit, in how many steps, how that compares with the
    /// true labels (judged over replicates), and the test error.
    static func finding(_ s: RandomizeConditionSummary) -> String {
        let fit = s.fitted == s.runs ? "all \(s.runs) fit" : "\(s.fitted) of \(s.runs) fit"
        let steps = s.stepsToFit.count > 0 ? " in \(s.stepsToFit.text(digits: 0, unit: " steps"))" : ""
        var slow = ""
        if s.slowdown.count > 0 && s.condition.kind != .trueLabels {
            let ratio = s.slowdown.text(unit: "x the true labels' steps")
            switch GroupComparison(s.slowdown, against: 1).verdict {
            case .higher: slow = " (\(ratio): slower)"
            case .lower: slow = " (\(ratio): faster)"
            case .indistinguishable: slow = " (\(ratio): not distinguishable from the true labels)"
            case .tooFewReplicates: slow = " (\(ratio); too few replicates to tell whether it is slower)"
            }
        }
        return "\(s.condition): \(fit)\(steps)\(slow), test error \(s.testError.text(unit: "%"))."
    }

    private func report(
        _ configuration: RandomizeConfiguration, summaries: [RandomizeConditionSummary], records: [RandomizeRunRecord]
    ) throws -> HTMLReport {
        let t = configuration.training
        let fitTarget = formatted(100 * (t.stopAtTrainingAccuracy ?? 1))
        let findings = summaries.map(Self.finding).joined(separator: " ")
        let errorBars = configuration.replicates > 1 ? " Error bars: one standard deviation over \(configuration.replicates) replicates." : ""
        return HTMLReport(
            title: "Fitting random labels: \(t.model) on \(t.dataset.displayName)",
            introduction: """
                Zhang et al. (2017): a network with more parameters than training examples fits them whatever they are. Each run \
                trains \(t.model) (\(t.widths.map(String.init).joined(separator: "x")) hidden) on \(t.trainSize.map { "a seeded subset of \($0)" } ?? "all") \
                training images with \(t.optimizer.kind.rawValue) (learning rate \(formatted(t.optimizer.learningRate)), momentum \(formatted(t.optimizer.momentum)), \
                batch \(t.batchSize)) until the whole training set is classified with \(fitTarget)% accuracy, or for at most \(t.steps). \
                Label corruption p replaces each training label with a uniformly random class with probability p (so (1 - 1/classes) p of \
                the labels change); corrupt-incorrect p always picks a wrong class; shuffled pixels apply one permutation to every image, random pixels a new one per image, Gaussian \
                inputs replace the images by noise with the data's mean and variance. Test error is measured on the true test \
                labels. \(configuration.replicates) replicate(s), each with its own subset, initialization and randomization.

                \(records.isEmpty ? "No run has finished yet; run the same command again." : findings)
                """,
            sections: [
                .init(title: "Training loss (Figure 1a)", text: "The loss on the whole training set after every evaluation, replicate 0; conditions off Zhang's corruption axis (randomized inputs, wrong-class corruption) dashed.",
                      image: "training-loss.svg", links: [("curves.csv", "curves.csv")]),
                Self.hasSlowdown(summaries)
                    ? .init(title: "Slowdown (Figure 1b)", text: "Steps to fit each corruption level over the steps to fit the true labels, per replicate.\(errorBars)",
                            image: "slowdown.svg", table: conditionTable(summaries), links: [("randomize.csv", "randomize.csv"), ("runs.csv", "runs.csv")])
                    : .init(title: "Steps to fit",
                            text: Self.whyNoSlowdown(summaries),
                            table: conditionTable(summaries), links: [("randomize.csv", "randomize.csv"), ("runs.csv", "runs.csv")]),
                .init(title: "Test error (Figure 1c)", text: "Test error on the true test labels (and, when measured, on test labels corrupted in the same way) against the corruption; chance is 100 - 100/classes percent.\(errorBars)", image: "test-error.svg"),
            ] + (configuration.regularizedVariants.isEmpty ? [] : [
                .init(title: "Explicit regularization (Table 1)",
                      text: "Weight decay \(formatted(Regularizer.weightDecayValue)), dropout \(formatted(Regularizer.dropoutRate)) after the hidden layer, and augmentation (random crops with padding \(Regularizer.augmentationValue.cropPadding) and horizontal flips), alone and together, on true and random labels.",
                      table: regularizationTable(records, configuration: configuration), links: [("regularization.csv", "regularization.csv")]),
            ]),
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: records.map { r in
                let run = configuration.runs.first { $0.condition == r.condition && RandomizeConfiguration.variantName($0.regularizers) == r.regularization }
                return (label: "r\(r.replicate) \(r.condition)\(r.regularization == "none" ? "" : " + \(r.regularization)")",
                        path: "replicate-\(r.replicate)/\(run?.path ?? "")")
            })
    }
}
