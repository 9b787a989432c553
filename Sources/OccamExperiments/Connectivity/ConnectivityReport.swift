import Foundation
import OccamData

/// Barriers over replicates for one spawn step (or the different-initialization control): summary.json.
public struct BarrierSummary: Codable, Sendable {
    /// nil for the different-initialization control.
    public var spawnStep: Int?
    /// Percentage points.
    public var testBarrier: Spread
    public var trainBarrier: Spread
    /// Test error (%) of the two ends, pooled over replicates.
    public var endpointTestError: Spread
}

/// One point of one path: a line of a connectivity run's metrics.jsonl.
struct PathPointRecord: Codable {
    var replicate: Int
    var spawnStep: Int?
    var alpha: Double
    var trainLoss: Double
    var trainError: Double
    var testLoss: Double
    var testError: Double
}

/// Builds a connectivity run's results from its path.json files alone: metrics.jsonl, summary.json,
/// barriers.csv, path.csv, the SVG plots and index.html.
public struct ConnectivityReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// Every path.json under the run directory, by replicate and spawn step (the control last).
    func records() throws -> [PathRecord] {
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.lastPathComponent == "path.json" } ?? []
        return try files.map { try RunStore.readJSON(PathRecord.self, from: $0) }
            .sorted { ($0.replicate, $0.spawnStep ?? .max) < ($1.replicate, $1.spawnStep ?? .max) }
    }

    @discardableResult
    public func build() throws -> [BarrierSummary] {
        let stored = try RunStore.readConfiguration(ConnectivityConfiguration.self, in: directory)
        let records = try records()
        let groups = Dictionary(grouping: records, by: \.spawnStep)
        let keys = groups.keys.sorted { ($0 ?? .max) < ($1 ?? .max) }
        let summaries = keys.map { key in
            let group = groups[key]!
            return BarrierSummary(
                spawnStep: key, testBarrier: Spread(group.map { 100 * $0.testBarrier }),
                trainBarrier: Spread(group.map { 100 * $0.trainBarrier }),
                endpointTestError: Spread(group.flatMap { [100 * $0.path.points.first!.testError, 100 * $0.path.points.last!.testError] }))
        }
        let points = records.flatMap { record in
            record.path.points.map {
                PathPointRecord(replicate: record.replicate, spawnStep: record.spawnStep, alpha: $0.alpha, trainLoss: $0.trainLoss,
                                trainError: $0.trainError, testLoss: $0.testLoss, testError: $0.testError)
            }
        }
        try ResultFiles.writeJSONLines(points, to: file("metrics.jsonl"))
        try ResultFiles.writeJSON(summaries, to: file("summary.json"))
        let barrierTable = CSVTable(
            header: ["spawn", "replicates", "test_barrier_mean_pp", "test_barrier_std_pp", "train_barrier_mean_pp", "train_barrier_std_pp", "endpoint_test_error_mean_percent"],
            rows: summaries.map { s in
                [Self.name(s.spawnStep), "\(s.testBarrier.count)", exact(s.testBarrier.mean), exact(s.testBarrier.standardDeviation),
                 exact(s.trainBarrier.mean), exact(s.trainBarrier.standardDeviation), exact(s.endpointTestError.mean)]
            })
        try barrierTable.write(to: file("barriers.csv"))
        try CSVTable(
            header: ["replicate", "spawn", "alpha", "train_error_percent", "test_error_percent", "train_loss", "test_loss"],
            rows: points.map { p in
                ["\(p.replicate)", Self.name(p.spawnStep), exact(p.alpha), exact(100 * p.trainError),
                 exact(100 * p.testError), exact(p.trainLoss), exact(p.testLoss)]
            }).write(to: file("path.csv"))
        for (split, error) in [("test", \PathPoint.testError), ("train", \PathPoint.trainError)] {
            try LinePlot(
                title: "\(split.prefix(1).uppercased() + split.dropFirst()) error along the linear path between two copies",
                x: PlotAxis("interpolation α (0: copy A, 1: copy B)", range: 0...1), y: PlotAxis("\(split) error (%)"),
                series: keys.map { key in
                    let paths = groups[key]!.map(\.path)
                    let count = paths.map(\.points.count).min() ?? 0
                    let spawnIndex = keys.compactMap { $0 }.firstIndex(of: key ?? -1)
                    return PlotSeries(key == nil ? "different init" : "spawn at \(key!)it", points: (0..<count).map { i in
                        let spread = Spread(paths.map { 100 * $0.points[i][keyPath: error] })
                        return PlotPoint(x: paths[0].points[i].alpha, y: spread.mean, error: spread.errorBar)
                    }, dashed: key == nil,
                    color: spawnIndex.map { SeriesColor.ramp($0, of: keys.compactMap { $0 }.count) } ?? SeriesColor.control)
                }
            ).write(to: file("path-\(split)-error.svg"))
        }
        // Spawn steps evenly spaced (they are usually spread over orders of magnitude, and include 0).
        let spawned = summaries.filter { $0.spawnStep != nil }
        func barrierPoints(_ value: (BarrierSummary) -> Spread) -> [PlotPoint] {
            spawned.enumerated().map { PlotPoint(x: Double($0.offset), y: value($0.element).mean, error: value($0.element).errorBar) }
        }
        try LinePlot(
            title: "Error barrier against the spawn step",
            x: PlotAxis("spawn step (training iteration; evenly spaced)", categories: spawned.map { Self.name($0.spawnStep) }),
            y: PlotAxis("error barrier (percentage points)"),
            series: [
                PlotSeries("test error barrier", points: barrierPoints(\.testBarrier), color: SeriesColor.test),
                PlotSeries("train error barrier", points: barrierPoints(\.trainBarrier), color: SeriesColor.train),
            ],
            horizontalLines: [PlotHorizontalLine(y: Self.stabilityThreshold, label: "stability threshold (2 pp)")]
        ).write(to: file("barrier.svg"))
        try report(stored.configuration, summaries: summaries, table: barrierTable, records: records).write(in: directory)
        return summaries
    }

    /// Frankle et al.'s threshold: a network is stable when its test error barrier is below 2 percentage points.
    static let stabilityThreshold = 2.0

    /// One spawn step's (or the control's) barrier against the 2 pp threshold, judged over replicates.
    static func finding(_ s: BarrierSummary) -> String {
        let name = s.spawnStep.map { "Spawned at \($0)it" } ?? "Different initializations"
        let verdict: String
        switch GroupComparison(s.testBarrier, against: stabilityThreshold).verdict {
        case .lower: verdict = "stable (below 2 pp)"
        case .higher: verdict = "unstable (above 2 pp)"
        case .indistinguishable: verdict = "not distinguishable from the 2 pp threshold"
        case .tooFewReplicates:
            verdict = "too few replicates to tell whether it is below 2 pp (as measured, \(s.testBarrier.mean < stabilityThreshold ? "below" : "at or above") it)"
        }
        return "\(name): test error barrier \(s.testBarrier.text(unit: " pp")), train \(s.trainBarrier.text(unit: " pp")): \(verdict)."
    }

    /// "500it", or "different-init" for the control.
    public static func name(_ spawnStep: Int?) -> String { spawnStep.map { "\($0)it" } ?? "different-init" }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Every directory under the run that holds a trained copy or a path (its own summary.json or path.json),
    /// relative to the run, sorted.
    func runDirectories() -> [(label: String, path: String)] {
        let base = directory.standardizedFileURL.path
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
            .filter { $0.lastPathComponent == "summary.json" || $0.lastPathComponent == "path.json" } ?? []
        let paths = Set(files.map { $0.deletingLastPathComponent().standardizedFileURL.path }).filter { $0.count > base.count + 1 }
            .map { String($0.dropFirst(base.count + 1)) }.sorted()
        return paths.map { (label: $0, path: $0) }
    }

    private func report(_ configuration: ConnectivityConfiguration, summaries: [BarrierSummary], table: CSVTable, records: [PathRecord]) throws -> HTMLReport {
        let training = configuration.training
        let network = configuration.subnetwork.map { "the level-\($0.level) ticket of \($0.run)" } ?? "the dense network"
        var findings = summaries.map(Self.finding).joined(separator: " ")
        if summaries.contains(where: { $0.testBarrier.count > 1 }) { findings += " Judged by a one-sample t-test, two-sided, 5% level, over replicates." }
        if summaries.isEmpty { findings = "No pair has finished yet; run the same command again." }
        let errorBars = configuration.replicates > 1 ? " Error bars: one standard deviation over \(configuration.replicates) replicates." : ""
        return HTMLReport(
            title: "Linear mode connectivity: \(training.model) on \(training.dataset.displayName)",
            introduction: """
                Instability analysis (Frankle et al., ICML 2020) of \(network): from the state at each spawn step, two copies train \
                to \(training.steps) with different data orders; the network (1 - α)·A + α·B is evaluated at \(configuration.points) \
                evenly spaced α. The error barrier is the highest error on the path minus the mean error of its two ends; a network \
                is stable when the barrier is under 2 percentage points.\(configuration.differentInit ? " The different-initialization control trains the two copies from different initial weights." : "") \
                Training error is measured on \(configuration.trainEvaluationSize.map { "a seeded subset of \($0)" } ?? "all") training images.

                \(findings)
                """,
            sections: [
                .init(title: "Test error along the path", text: "One curve per spawn step (mean over replicates); a flat curve means the two copies lie in one linearly connected basin.\(errorBars)",
                      image: "path-test-error.svg", links: [("path.csv", "path.csv"), ("metrics.jsonl", "metrics.jsonl")]),
                .init(title: "Training error along the path", text: "The same paths on the training images.\(errorBars)", image: "path-train-error.svg"),
                .init(title: "Error barrier against the spawn step", text: "How stability sets in as the copies split later in training; the dashed line marks the 2-point threshold. The different-initialization control's barrier (when run) is in the table below and in the path plots.\(errorBars)",
                      image: "barrier.svg", table: table, links: [("barriers.csv", "barriers.csv"), ("summary.json", "summary.json")]),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: runDirectories())
    }
}
