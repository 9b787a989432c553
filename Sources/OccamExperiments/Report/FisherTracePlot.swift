import Foundation
import OccamNN

/// fisher.svg of a training run: the Fisher trace (labels drawn from the model) and the empirical Fisher's
/// trace over training, from the "fisher" records of its metrics.jsonl, with standard errors as error bars
/// (Achille et al.'s Fig. 3 shape: a rise early in training, then a fall).
public enum FisherTracePlot {
    /// Writes `directory`/fisher.svg when metrics.jsonl has "fisher" records; returns whether it did.
    @discardableResult
    public static func write(in directory: URL) throws -> Bool {
        let metrics = directory.appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metrics.path) else { return false }
        let records = try RunStore.readJSONLines(EvaluationRecord.self, from: metrics).filter { $0.split == "fisher" }
        guard !records.isEmpty else { return false }
        func series(_ name: String, _ key: String, color: String) -> PlotSeries {
            PlotSeries(name, points: records.compactMap { record in
                record.values?[key].map { PlotPoint(x: record.epoch, y: $0, error: record.values?[key + "_se"]) }
            }, color: color)
        }
        let samples = records.first?.values?["samples"].map { Int($0) } ?? 0
        try LinePlot(
            title: "Trace of the Fisher information during training (\(samples) training images)",
            x: PlotAxis("epoch"), y: PlotAxis("trace (log scale)", scale: .logarithmic),
            series: [series("Fisher (model's labels)", "fisher_trace", color: SeriesColor.test),
                     series("empirical Fisher (true labels)", "empirical_fisher_trace", color: SeriesColor.train)]
        ).write(to: directory.appendingPathComponent("fisher.svg"))
        return true
    }
}
