import Foundation

/// Early stopping against width (Nakkiran et al. 2020, Fig. 2): each width's test error over the (width, epoch)
/// plane, and each run's test error at the step it would have stopped at, against width: does stopping early
/// flatten the peak that the final errors show?
struct NetworksEarlyStopping {
    /// What chose a run's stopping step.
    enum Selection: String {
        /// The lowest error on the run's validation split (images held out of training; the label noise corrupts only the training split, so its labels are clean).
        case validation
        /// The lowest clean test error: an oracle, used when the sweep has no validation split.
        case test
    }

    /// One width over its replicates (errors and epochs in %, epochs).
    struct Row {
        var width: Int
        var finalError: Spread
        var stoppedError: Spread
        var stoppedEpoch: Spread
    }

    var selection: Selection
    var rows: [Row]
    /// The widths (ascending) and, bottom to top, the steps every replicate of a width evaluated, with their epochs.
    var widths: [Int]
    var steps: [(step: Int, epoch: Double)]
    /// Mean clean test error (%) over replicates, `[steps.count][widths.count]`.
    var meanTestError: [[Double?]]

    init(records: [NetworkWidthRecord]) {
        selection = records.contains { $0.curve.contains { $0.split == "validation" } } ? .validation : .test
        widths = Set(records.map(\.run.width)).sorted()
        let byWidth = Dictionary(grouping: records, by: \.run.width)
        var epochs: [Int: Double] = [:]
        var means: [Int: [Int: Double]] = [:]  // step -> width -> mean error (%)
        for (width, runs) in byWidth {
            let tests = runs.map { $0.curve.filter { $0.split == "test" && $0.step > 0 } }
            for (step, evaluations) in Dictionary(grouping: tests.joined(), by: \.step) where evaluations.count == runs.count {
                epochs[step] = evaluations[0].epoch
                means[step, default: [:]][width] = 100 * (1 - evaluations.map(\.accuracy).reduce(0, +) / Double(runs.count))
            }
        }
        let steps = epochs.keys.sorted().map { (step: $0, epoch: epochs[$0]!) }, widths = widths, selection = selection
        self.steps = steps
        meanTestError = steps.map { step in widths.map { means[step.step]?[$0] } }
        rows = widths.map { width in
            let runs = byWidth[width]!
            let stopped = runs.compactMap { Self.stoppingPoint(of: $0, selection: selection) }
            return Row(width: width, finalError: Spread(runs.compactMap(\.testError).map { 100 * $0 }),
                       stoppedError: Spread(stopped.map { 100 * $0.testError }), stoppedEpoch: Spread(stopped.map(\.epoch)))
        }
    }

    /// The run's evaluation with the lowest `selection` error (the earliest of equals), and its clean test error there.
    static func stoppingPoint(of record: NetworkWidthRecord, selection: Selection) -> (epoch: Double, testError: Double)? {
        let chooser = record.curve.filter { $0.split == selection.rawValue }
        guard let best = chooser.max(by: { $0.accuracy < $1.accuracy || ($0.accuracy == $1.accuracy && $0.step > $1.step) }),
            let test = record.curve.first(where: { $0.split == "test" && $0.step == best.step })
        else { return nil }
        return (test.epoch, 1 - test.accuracy)
    }

    var selectionText: String {
        switch selection {
        case .validation: "the evaluation with the lowest validation error (--validation-count images held out of training, with clean labels: the label noise corrupts only the training split)"
        case .test: "the evaluation with the lowest clean test error — an oracle, since this sweep has no validation split (--validation-count), so it bounds what early stopping could reach from below"
        }
    }

    /// The heat map's colours span the errors from epoch 1 on, so that the first epoch's high errors (drawn in
    /// the top colour) do not squeeze the band where widths differ.
    var heatMap: HeatMap {
        let settled = zip(steps, meanTestError).filter { $0.0.epoch >= 1 }.flatMap { $0.1.compactMap { $0 } }
        return HeatMap(
            title: "Test error over width and training time", xLabel: "width", yLabel: "epoch (log-spaced evaluations)",
            columns: widths.map(String.init), rows: steps.map { tickLabel(Double(String(format: "%.2g", $0.epoch))!) }, values: meanTestError,
            valueLabel: "test error (%)", range: settled.min().flatMap { low in settled.max().map { low < $0 ? low...$0 : nil } } ?? nil)
    }

    var table: CSVTable {
        CSVTable(
            header: ["width", "runs", "final_test_error_percent", "final_test_error_sd", "stopped_test_error_percent", "stopped_test_error_sd",
                     "stopping_epoch_mean", "stopped_by"],
            rows: rows.map { r in
                ["\(r.width)", "\(r.finalError.count)", exact(r.finalError.mean), exact(r.finalError.standardDeviation), exact(r.stoppedError.mean),
                 exact(r.stoppedError.standardDeviation), exact(r.stoppedEpoch.mean), selection.rawValue]
            })
    }

    var plot: LinePlot {
        func series(_ name: String, dashed: Bool, color: String, _ value: (Row) -> Spread) -> PlotSeries {
            PlotSeries(name, points: rows.map { PlotPoint(x: Double($0.width), y: value($0).mean, error: value($0).errorBar) }, dashed: dashed, color: color)
        }
        return LinePlot(
            title: "Test error at the end and at the early-stopping epoch", x: PlotAxis("width (log scale)", scale: .logarithmic),
            y: PlotAxis("test error (%)"),
            series: [series("final", dashed: false, color: SeriesColor.test, \.finalError),
                     series("early-stopped (\(selection == .validation ? "validation" : "test oracle"))", dashed: true, color: SeriesColor.bestTest, \.stoppedError)])
    }

    /// The peak over the classical minimum (widths from the final errors) at the end and when stopped early.
    func sentences(minimum: Int?, peak: Int?) -> [String] {
        guard let minimum, let peak, let low = rows.first(where: { $0.width == minimum }), let high = rows.first(where: { $0.width == peak }) else {
            guard let first = rows.first, let last = rows.last else { return [] }
            return [String(format: "Early-stopped test error: %@ at width %d, %@ at width %d.", first.stoppedError.text(digits: 1, unit: "%"), first.width,
                           last.stoppedError.text(digits: 1, unit: "%"), last.width)]
        }
        var text = String(format: "Stopped early, the test error is %@ at the peak width %d (final %@) and %@ at the classical minimum, width %d (final %@); it rises %.1f points there instead of %.1f. ",
                          high.stoppedError.text(digits: 1, unit: "%"), peak, high.finalError.text(digits: 1, unit: "%"),
                          low.stoppedError.text(digits: 1, unit: "%"), minimum, low.finalError.text(digits: 1, unit: "%"),
                          high.stoppedError.mean - low.stoppedError.mean, high.finalError.mean - low.finalError.mean)
        switch GroupComparison(high.stoppedError, against: low.stoppedError).verdict {
        case .higher: text += "The early-stopped peak is still above the minimum beyond the noise (\(GroupComparison.method))."
        case .indistinguishable: text += "The early-stopped errors at the two widths are not distinguishable over the replicates (\(GroupComparison.method)): early stopping flattens the peak."
        case .lower: text += "Stopped early, the peak width is below the classical minimum beyond the noise (\(GroupComparison.method)): early stopping removes the peak."
        case .tooFewReplicates: text += "Too few replicates to tell whether the early-stopped peak is real (n = \(min(high.stoppedError.count, low.stoppedError.count)))."
        }
        return [text]
    }
}
