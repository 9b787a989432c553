import Foundation

/// The ensembles of a width sweep (`ensemble/width-<w>.json`) beside its single networks: ensemble.csv, the
/// ensemble's series on test-error.svg, and sentences computed from the numbers.
struct NetworksEnsembleReport {
    /// One width: the ensemble's test error (%) and its replicates' own (%).
    struct Row {
        var width: Int
        var ensembleError: Double
        var singleErrors: Spread
        /// The single networks against the ensemble's error: `.higher` when ensembling helps beyond the noise.
        var comparison: GroupComparison { GroupComparison(singleErrors, against: ensembleError) }
    }

    var rows: [Row]

    /// The ensemble records under `directory` for `widths` (ascending); widths without a record are left out.
    init(directory: URL, widths: [Int]) {
        rows = widths.sorted().compactMap { width in
            (try? RunStore.readJSON(NetworkEnsembleRecord.self, from: directory.appendingPathComponent(NetworkEnsembleRecord.path(width: width))))
                .map { Row(width: width, ensembleError: 100 * $0.testError, singleErrors: Spread($0.memberTestErrors.map { 100 * $0 })) }
        }
    }

    init(rows: [Row]) { self.rows = rows }

    var table: CSVTable {
        CSVTable(
            header: ["width", "replicates", "ensemble_test_error_percent", "single_test_error_percent", "single_test_error_sd",
                     "single_minus_ensemble_percent", "verdict"],
            rows: rows.map { r in
                ["\(r.width)", "\(r.singleErrors.count)", exact(r.ensembleError), exact(r.singleErrors.mean), exact(r.singleErrors.standardDeviation),
                 exact(r.singleErrors.mean - r.ensembleError), Self.verdictName(r.comparison.verdict)]
            })
    }

    static func verdictName(_ verdict: GroupComparison.Verdict) -> String {
        switch verdict {
        case .higher: "ensemble lower"
        case .lower: "ensemble higher"
        case .indistinguishable: "within the noise"
        case .tooFewReplicates: "too few replicates"
        }
    }

    /// The ensemble's test error against width, for test-error.svg.
    func series(replicates: Int) -> PlotSeries {
        PlotSeries("test, ensemble of \(replicates) (mean softmax)", points: rows.map { PlotPoint(x: Double($0.width), y: $0.ensembleError) },
                   color: SeriesColor.ensemble)
    }

    /// The share of the single networks' peak over the classical minimum that the ensemble removes:
    /// (single rise - ensemble rise) / single rise, where a rise is the test error at `peak` minus that at
    /// `minimum` (widths from the single networks' curve). 1: the ensemble has no peak; 0: the same peak;
    /// nil when either width has no ensemble or the single networks do not rise.
    func fractionOfPeakRemoved(minimum: Int, peak: Int) -> Double? {
        guard let low = rows.first(where: { $0.width == minimum }), let high = rows.first(where: { $0.width == peak }) else { return nil }
        let singleRise = high.singleErrors.mean - low.singleErrors.mean, ensembleRise = high.ensembleError - low.ensembleError
        return singleRise > 0 ? (singleRise - ensembleRise) / singleRise : nil
    }

    /// What the numbers say: where the ensemble beats its members beyond the noise, and how much of the peak
    /// over the classical minimum (widths from the single networks' curve) it removes.
    func sentences(minimum: Int?, peak: Int?) -> [String] {
        guard !rows.isEmpty else { return [] }
        var sentences: [String] = []
        let better = rows.filter { $0.comparison.verdict == .higher }.map(\.width)
        if rows.allSatisfy({ $0.comparison.verdict == .tooFewReplicates }) {
            sentences.append("Too few replicates to tell whether the ensemble beats its members (n = \(rows.map(\.singleErrors.count).min() ?? 0)).")
        } else {
            sentences.append("The ensemble's test error is below its members' beyond the noise (\(GroupComparison.method)) at \(better.count) of \(rows.count) widths"
                + (better.isEmpty ? "." : " (\(better.map(String.init).joined(separator: ", "))).")
                + String(format: " It is %.1f to %.1f points lower than the mean single network.",
                         rows.map { $0.singleErrors.mean - $0.ensembleError }.min()!, rows.map { $0.singleErrors.mean - $0.ensembleError }.max()!))
        }
        if let minimum, let peak, let low = rows.first(where: { $0.width == minimum }), let high = rows.first(where: { $0.width == peak }) {
            let singleRise = high.singleErrors.mean - low.singleErrors.mean, ensembleRise = high.ensembleError - low.ensembleError
            var text = String(format: "At the peak (width %d) the ensemble errs on %.1f%% of the test images against %@ for single networks; at the classical minimum (width %d) %.1f%% against %@. ",
                              peak, high.ensembleError, high.singleErrors.text(digits: 1, unit: "%"), minimum, low.ensembleError, low.singleErrors.text(digits: 1, unit: "%"))
            if let removed = fractionOfPeakRemoved(minimum: minimum, peak: peak) {
                text += String(format: "The peak rises %.1f points above the minimum for single networks and %.1f for the ensemble: ensembling removes %.0f%% of it",
                               singleRise, ensembleRise, 100 * removed)
                text += high.comparison.verdict == .tooFewReplicates ? " (too few replicates to tell whether the difference at the peak is real)." : "."
            }
            sentences.append(text)
        }
        return sentences
    }
}
