import Foundation
import OccamData
import OccamNN

/// One finished run of a critical-period study: a line of runs.csv.
public struct CriticalPeriodRecord: Codable, Sendable, Equatable {
    public var run: CriticalPeriodRun
    public var epochs: Double
    /// Final test accuracy and loss.
    public var testAccuracy: Double?
    public var testLoss: Double?
    /// The highest test accuracy at any evaluation.
    public var bestTestAccuracy: Double?

    /// Whether the run ever learned: its best test accuracy reached twice chance (20% for 10 classes). A run
    /// that did not (its ReLUs died in the first steps, leaving a constant prediction) says nothing about a
    /// deficit, and pairing it would move a condition's mean by tens of points.
    func learned(classes: Int) -> Bool { (bestTestAccuracy ?? 0) >= 2 / Double(classes) }
    /// The "fisher" records of the run's metrics.jsonl (the probe), in order.
    public var fisher: [EvaluationRecord]

    /// The Fisher traces (labels drawn from the model) measured, with their epochs, in order.
    var fisherTraces: [(epoch: Double, trace: Double)] {
        fisher.compactMap { record in record.values?["fisher_trace"].map { (record.epoch, $0) } }
    }

    /// The largest Fisher trace measured, and its epoch.
    public var peakFisher: (trace: Double, epoch: Double)? {
        fisherTraces.max { $0.trace < $1.trace }.map { ($0.trace, $0.epoch) }
    }

    /// The Fisher trace's course: at the start, its largest value in the first `earlyEpochs` epochs (the early
    /// peak) and that epoch, its smallest value after the peak, and its last value. nil without measurements.
    func fisherCourse(earlyEpochs: Double) -> (initial: Double, earlyPeak: Double, earlyPeakEpoch: Double, lowAfterPeak: Double, final: Double)? {
        let traces = fisherTraces
        guard let first = traces.first, let last = traces.last,
            let peak = traces.filter({ $0.epoch <= earlyEpochs }).max(by: { $0.trace < $1.trace })
        else { return nil }
        let low = traces.filter { $0.epoch >= peak.epoch }.map(\.trace).min() ?? peak.trace
        return (first.trace, peak.trace, peak.epoch, low, last.trace)
    }
}

/// One deficit (onset, length) over replicates: a line of lengths.csv or windows.csv.
public struct DeficitSummary: Codable, Sendable {
    public var onset: Int
    public var length: Int
    public var runs: Int
    /// Final test accuracy (%).
    public var testAccuracy: Spread
    /// Final test accuracy minus that of the same replicate's run without a deficit (percentage points).
    public var changeFromReference: Spread
    /// The largest Fisher trace of each run.
    public var peakFisherTrace: Spread
    /// The epoch of that largest trace.
    public var peakFisherEpoch: Spread
    /// The Fisher trace at the start, at its largest in the first third of the run (and that epoch), at its
    /// smallest after that, and at the end (`CriticalPeriodRecord.fisherCourse`).
    public var initialFisherTrace: Spread
    public var earlyPeakFisherTrace: Spread
    public var earlyPeakFisherEpoch: Spread
    public var lowestFisherTraceAfterPeak: Spread
    public var finalFisherTrace: Spread
}

/// summary.json of a critical-period study.
public struct CriticalPeriodSummary: Codable, Sendable {
    public var deficit: String
    /// "continued from the start of training" or "restarted when the deficit ends".
    public var schedule: String
    /// Every deficit of both sweeps, the reference (length 0) first, over the runs that learned.
    public var deficits: [DeficitSummary]
    /// The runs left out because they never learned (`CriticalPeriodRecord.learned`), by name.
    public var runsThatNeverLearned: [String]
    /// The report's findings, computed from the numbers.
    public var finding: String
}

/// Builds a critical-period study's results from its run directories alone: runs.csv, lengths.csv,
/// windows.csv, fisher.csv, summary.json, accuracy-vs-length.svg, accuracy-vs-onset.svg, fisher.svg and
/// index.html.
public struct CriticalPeriodReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The finished runs, in the configuration's order.
    func records(_ configuration: CriticalPeriodConfiguration) throws -> [CriticalPeriodRecord] {
        try configuration.runs.compactMap { run in
            let runDirectory = directory.appendingPathComponent(run.path)
            guard RunStore.isComplete(runDirectory) else { return nil }
            let summary = try RunStore.readJSON(TrainingSummary.self, from: runDirectory.appendingPathComponent("summary.json"))
            let metrics = try RunStore.readJSONLines(EvaluationRecord.self, from: runDirectory.appendingPathComponent("metrics.jsonl"))
            let tests = metrics.filter { $0.split == "test" }
            return CriticalPeriodRecord(
                run: run, epochs: summary.epochs, testAccuracy: summary.finalTest?.accuracy, testLoss: summary.finalTest?.loss,
                bestTestAccuracy: tests.map(\.accuracy).max(), fisher: metrics.filter { $0.split == "fisher" })
        }
    }

    /// Per deficit of `configuration.deficits`, over its finished replicates that learned; the change from the
    /// reference is paired by replicate (replicates without a finished reference that learned are left out of it).
    static func summaries(_ configuration: CriticalPeriodConfiguration, records: [CriticalPeriodRecord]) -> [DeficitSummary] {
        let classes = configuration.training.dataset.classCount
        let records = records.filter { $0.learned(classes: classes) }
        let reference = Dictionary(
            records.filter { $0.run.window.length == 0 }.compactMap { r in r.testAccuracy.map { (r.run.replicate, $0) } },
            uniquingKeysWith: { first, _ in first })
        return configuration.deficits.compactMap { window in
            let runs = records.filter { $0.run.window == window }
            guard !runs.isEmpty else { return nil }
            let changes = runs.compactMap { r in r.testAccuracy.flatMap { accuracy in reference[r.run.replicate].map { 100 * (accuracy - $0) } } }
            let courses = runs.compactMap { $0.fisherCourse(earlyEpochs: Double(window.end + configuration.epochsAfter) / 3) }
            return DeficitSummary(
                onset: window.onset, length: window.length, runs: runs.count,
                testAccuracy: Spread(runs.compactMap(\.testAccuracy).map { 100 * $0 }), changeFromReference: Spread(changes),
                peakFisherTrace: Spread(runs.compactMap { $0.peakFisher?.trace }), peakFisherEpoch: Spread(runs.compactMap { $0.peakFisher?.epoch }),
                initialFisherTrace: Spread(courses.map(\.initial)), earlyPeakFisherTrace: Spread(courses.map(\.earlyPeak)),
                earlyPeakFisherEpoch: Spread(courses.map(\.earlyPeakEpoch)), lowestFisherTraceAfterPeak: Spread(courses.map(\.lowAfterPeak)),
                finalFisherTrace: Spread(courses.map(\.final)))
        }
    }

    /// The sentences of the report, from the paired changes: how each length and each window compares with
    /// no deficit, and whether the Fisher trace peaks early.
    static func findings(
        _ configuration: CriticalPeriodConfiguration, summaries: [DeficitSummary], neverLearned: [CriticalPeriodRecord] = []
    ) -> String {
        let name = configuration.deficit == .blur ? "blur" : "vertical flip"
        func comparisons(_ rows: [DeficitSummary], label: (DeficitSummary) -> String) -> [(label: String, comparison: GroupComparison)] {
            rows.map { (label: label($0), comparison: GroupComparison($0.changeFromReference, against: 0)) }
        }
        var sentences: [String] = []
        let lengths = summaries.filter { $0.onset == 0 && $0.length > 0 && configuration.deficitLengths.contains($0.length) }
            .sorted { $0.length < $1.length }
        if !lengths.isEmpty {
            let text = GroupComparison.describe(
                comparisons: comparisons(lengths) { $0.length == 1 ? "1 epoch" : "\($0.length) epochs" }, higher: "higher", lower: "lower",
                same: "not distinguishable", itemName: "lengths", unit: "pp")
            let range = lengths.map { String(format: "%+.2f", $0.changeFromReference.mean) }.joined(separator: ", ")
            sentences.append(
                "Final test accuracy after an early \(name) deficit, compared with the same replicate's run without one (paired): \(text). "
                    + "Mean changes for \(lengths.map { String($0.length) }.joined(separator: ", ")) epochs: \(range) pp.")
            if lengths.count >= 2, let first = lengths.first, let last = lengths.last,
                GroupComparison(last.changeFromReference, against: 0).verdict == .lower
            {
                let grows = last.changeFromReference.mean < first.changeFromReference.mean
                sentences.append(
                    grows
                        ? "The loss grows with the deficit's length, from \(String(format: "%+.2f", first.changeFromReference.mean)) pp after \(first.length) epochs to \(String(format: "%+.2f", last.changeFromReference.mean)) pp after \(last.length)."
                        : "The loss does not grow with the deficit's length.")
            }
        }
        let windows = summaries.filter { $0.length == configuration.windowLength && configuration.windowOnsets.contains($0.onset) }
            .sorted { $0.onset < $1.onset }
        if !windows.isEmpty {
            let text = GroupComparison.describe(
                comparisons: comparisons(windows) { "onset \($0.onset)" }, higher: "higher", lower: "lower",
                same: "not distinguishable", itemName: "onsets", unit: "pp")
            sentences.append("With a \(configuration.windowLength)-epoch \(name) window, final test accuracy against no deficit: \(text).")
        }
        if let reference = summaries.first(where: { $0.length == 0 }), reference.earlyPeakFisherTrace.count > 0 {
            let r = reference, count = reference.earlyPeakFisherTrace.count
            // "94.3 ± 22" (three significant digits, the spread over replicates in two).
            func value(_ spread: Spread) -> String {
                String(format: "%.3g", spread.mean) + (spread.errorBar.map { String(format: " ± %.2g", $0) } ?? "")
            }
            sentences.append(
                "Without a deficit the Fisher trace goes from \(value(r.initialFisherTrace)) at the start to \(value(r.earlyPeakFisherTrace)) "
                    + "at its largest in the first third of training (epoch \(value(r.earlyPeakFisherEpoch))), down to "
                    + "\(value(r.lowestFisherTraceAfterPeak)) after that, and ends at \(value(r.finalFisherTrace)) after "
                    + "\(configuration.epochsAfter) epochs (\(count) replicate\(count == 1 ? "" : "s")).")
        }
        if !neverLearned.isEmpty {
            let chance = 100 / Double(configuration.training.dataset.classCount)
            let names = neverLearned.map { r in "\(r.run.name) (best \(String(format: "%.1f", 100 * (r.bestTestAccuracy ?? 0)))%)" }
            sentences.insert(
                "\(neverLearned.count) run\(neverLearned.count == 1 ? "" : "s") never reached twice chance (\(String(format: "%.0f", 2 * chance))% test "
                    + "accuracy) and \(neverLearned.count == 1 ? "is" : "are") left out of every comparison and mean: "
                    + "\(names.joined(separator: "; ")). A different seed, or a lower learning rate, would tell whether this "
                    + "setting trains reliably.",
                at: 0)
        }
        return sentences.isEmpty ? "No run has finished yet; run the same command again." : sentences.joined(separator: " ")
    }

    @discardableResult
    public func build() throws -> CriticalPeriodSummary {
        let stored = try RunStore.readConfiguration(CriticalPeriodConfiguration.self, in: directory)
        let configuration = stored.configuration
        let records = try records(configuration)
        let summaries = Self.summaries(configuration, records: records)
        let classes = configuration.training.dataset.classCount
        let neverLearned = records.filter { !$0.learned(classes: classes) }
        let finding = Self.findings(configuration, summaries: summaries, neverLearned: neverLearned)
        let schedule = configuration.restartSchedule ? "restarted when the deficit ends" : "continued from the start of training"
        let summary = CriticalPeriodSummary(
            deficit: configuration.deficit.rawValue, schedule: schedule, deficits: summaries,
            runsThatNeverLearned: neverLearned.map(\.run.name), finding: finding)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))

        try CSVTable(
            header: ["replicate", "onset", "length", "epochs", "test_accuracy_percent", "test_loss", "best_test_accuracy_percent",
                     "learned", "peak_fisher_trace", "peak_fisher_epoch"],
            rows: records.map { r in
                ["\(r.run.replicate)", "\(r.run.window.onset)", "\(r.run.window.length)", exact(r.epochs), exact(r.testAccuracy.map { 100 * $0 }),
                 exact(r.testLoss), exact(r.bestTestAccuracy.map { 100 * $0 }), "\(r.learned(classes: classes))",
                 exact(r.peakFisher?.trace), exact(r.peakFisher?.epoch)]
            }).write(to: file("runs.csv"))
        func table(_ rows: [DeficitSummary]) -> CSVTable {
            CSVTable(
                header: ["onset", "length", "runs", "test_accuracy_percent", "test_accuracy_sd", "change_from_no_deficit_pp", "change_sd",
                         "peak_fisher_trace", "peak_fisher_epoch"],
                rows: rows.map { s in
                    ["\(s.onset)", "\(s.length)", "\(s.runs)", exact(s.testAccuracy.mean), exact(s.testAccuracy.standardDeviation),
                     exact(s.changeFromReference.mean), exact(s.changeFromReference.standardDeviation), exact(s.peakFisherTrace.mean),
                     exact(s.peakFisherEpoch.mean)]
                })
        }
        let reference = summaries.filter { $0.length == 0 }
        let lengthRows = summaries.filter { $0.onset == 0 && configuration.deficitLengths.contains($0.length) }.sorted { $0.length < $1.length }
        let windowRows = reference + summaries.filter { $0.length == configuration.windowLength && configuration.windowOnsets.contains($0.onset) }
            .sorted { $0.onset < $1.onset }
        let lengthTable = table(lengthRows), windowTable = table(windowRows)
        try lengthTable.write(to: file("lengths.csv"))
        try windowTable.write(to: file("windows.csv"))
        try CSVTable(
            header: ["replicate", "onset", "length", "step", "epoch", "fisher_trace", "fisher_trace_se", "empirical_fisher_trace",
                     "empirical_fisher_trace_se", "batch_gradient_norm"],
            rows: records.flatMap { r in
                r.fisher.map { f in
                    ["\(r.run.replicate)", "\(r.run.window.onset)", "\(r.run.window.length)", "\(f.step)", exact(f.epoch),
                     exact(f.values?["fisher_trace"]), exact(f.values?["fisher_trace_se"]), exact(f.values?["empirical_fisher_trace"]),
                     exact(f.values?["empirical_fisher_trace_se"]), exact(f.values?["batch_gradient_norm"])]
                }
            }).write(to: file("fisher.csv"))

        let referenceLine = reference.first.map { [PlotHorizontalLine(y: $0.testAccuracy.mean, label: "no deficit")] } ?? []
        let name = configuration.deficit == .blur ? "blur x\(configuration.blurFactor)" : "vertical flip"
        try LinePlot(
            title: "Final test accuracy against the length of an early deficit (\(name))",
            x: PlotAxis("deficit length (epochs from the start)"), y: PlotAxis("final test accuracy (%)"),
            series: [PlotSeries(
                "mean ± sd over replicates", points: lengthRows.map { PlotPoint(x: Double($0.length), y: $0.testAccuracy.mean, error: $0.testAccuracy.errorBar) },
                color: SeriesColor.test)],
            horizontalLines: referenceLine
        ).write(to: file("accuracy-vs-length.svg"))
        let windows = windowRows.filter { $0.length > 0 }
        if !windows.isEmpty {
            try LinePlot(
                title: "Final test accuracy against the onset of a \(configuration.windowLength)-epoch deficit (\(name))",
                x: PlotAxis("deficit onset (epoch)"), y: PlotAxis("final test accuracy (%)"),
                series: [PlotSeries(
                    "mean ± sd over replicates", points: windows.map { PlotPoint(x: Double($0.onset), y: $0.testAccuracy.mean, error: $0.testAccuracy.errorBar) },
                    color: SeriesColor.test)],
                horizontalLines: referenceLine
            ).write(to: file("accuracy-vs-onset.svg"))
        }
        let hasFisher = records.contains { !$0.fisher.isEmpty }
        if hasFisher { try fisherPlot(lengthRows, records: records).write(to: file("fisher.svg")) }
        try report(configuration, records: records, finding: finding, schedule: schedule, lengthTable: lengthTable, windowTable: windows.isEmpty ? nil : windowTable, hasFisher: hasFisher)
            .write(in: directory)
        return summary
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The Fisher trace over training, mean over replicates at each measured step, for each length of the
    /// length sweep (the reference in black).
    private func fisherPlot(_ rows: [DeficitSummary], records: [CriticalPeriodRecord]) -> LinePlot {
        let series = rows.enumerated().compactMap { index, row -> PlotSeries? in
            let runs = records.filter { $0.run.window == DeficitWindow(onset: row.onset, length: row.length) }
            let perStep = Dictionary(grouping: runs.flatMap { run in
                run.fisher.compactMap { record in record.values?["fisher_trace"].map { (record.step, record.epoch, $0) } }
            }, by: \.0)
            let points = perStep.filter { $0.value.count == runs.count }.sorted { $0.key < $1.key }.map { _, values in
                PlotPoint(x: values[0].1, y: values.map(\.2).reduce(0, +) / Double(values.count))
            }
            guard !points.isEmpty else { return nil }
            let name = row.length == 0 ? "no deficit" : "deficit in epochs 0-\(row.length - 1)"
            return PlotSeries(
                name, points: points, markers: false,
                color: row.length == 0 ? SeriesColor.control : SeriesColor.ramp(index - 1, of: max(1, rows.count - 1)))
        }
        return LinePlot(
            title: "Trace of the Fisher information over training (labels drawn from the model)",
            x: PlotAxis("epoch"), y: PlotAxis("trace (log scale)", scale: .logarithmic), series: series)
    }

    private func report(
        _ configuration: CriticalPeriodConfiguration, records: [CriticalPeriodRecord], finding: String, schedule: String,
        lengthTable: CSVTable, windowTable: CSVTable?, hasFisher: Bool
    ) throws -> HTMLReport {
        let t = configuration.training
        let deficit = configuration.deficit == .blur
            ? "blurred inputs (each image averaged over \(configuration.blurFactor)x\(configuration.blurFactor) blocks and scaled back up bilinearly)"
            : "inputs flipped upside down (the paper's control, expected to leave no lasting effect)"
        let optimizer = "\(t.optimizer.kind.rawValue) lr \(t.optimizer.learningRate), momentum \(t.optimizer.momentum), weight decay \(t.optimizer.weightDecay)"
        var sections: [HTMLReport.Section] = [
            .init(title: "Final test accuracy against the deficit's length",
                  text: "A deficit in the first k epochs, then \(configuration.epochsAfter) normal epochs (k + \(configuration.epochsAfter) in all). Horizontal line: the runs without a deficit. Changes are paired with the same replicate's run without a deficit (same initialization and data order).",
                  image: "accuracy-vs-length.svg", table: lengthTable,
                  links: [("lengths.csv", "lengths.csv"), ("runs.csv (every run)", "runs.csv"), ("summary.json", "summary.json")]),
        ]
        if let windowTable {
            sections.append(.init(
                title: "Final test accuracy against the deficit's onset",
                text: "A deficit of \(configuration.windowLength) epochs starting at epoch s, then \(configuration.epochsAfter) normal epochs: a critical period shows as a loss for early onsets only.",
                image: "accuracy-vs-onset.svg", table: windowTable, links: [("windows.csv", "windows.csv")]))
        }
        if hasFisher {
            sections.append(.init(
                title: "The Fisher information over training",
                text: "Trace of the Fisher information E_x E_{y~p(y|x)} |∇ log p(y|x)|² on a fixed set of clean training images (labels drawn from the model, per-sample gradients), mean over replicates, for each length of the deficit. Every measurement with its standard error, the empirical Fisher's trace and the mini-batch gradient norm are in fisher.csv.",
                image: "fisher.svg", links: [("fisher.csv", "fisher.csv")]))
        }
        return HTMLReport(
            title: "Critical learning periods: \(t.model) on \(t.dataset.displayName)",
            introduction: """
                Achille, Rovere & Soatto (2019): a deficit early in training (blurred images) leaves a lasting loss of \
                accuracy that the same deficit later does not, and the trace of the Fisher information rises early and \
                then falls. Here \(t.model) trains on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) \
                images with \(deficit) during the deficit; evaluation always sees the test images as they are. \
                \(optimizer), learning rate x\(Self.decay(t.schedule)) per epoch, \(schedule); batch \(t.batchSize); \
                \(configuration.replicates) replicates (mean ± standard deviation; verdicts by a paired t-test against \
                no change, two-sided, 5% level).

                \(finding)
                """,
            sections: sections,
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: records.map { (label: "r\($0.run.replicate) deficit \($0.run.window.onset)+\($0.run.window.length)", path: $0.run.path) })
    }

    /// The per-epoch factor of an exponential schedule ("0.97"), or the schedule's name.
    static func decay(_ schedule: LearningRateSchedule) -> String {
        if case .exponentialPerEpoch(let gamma) = schedule { return "\(gamma)" }
        return "(\(schedule))"
    }
}
