import Foundation
import OccamData
import OccamNN
@testable import OccamExperiments
import Testing

/// Lottery summaries of a dense network and tickets at two levels, each with the given test accuracies and
/// early-stopping iterations over replicates.
private func lotterySummaries(
    dense: [Double], tickets: [[Double]], denseStops: [Double] = [], ticketStops: [[Double]] = []
) -> [LotteryLevelSummary] {
    func summary(_ level: Int, _ accuracy: [Double], _ stops: [Double]) -> LotteryLevelSummary {
        LotteryLevelSummary(
            level: level, network: .ticket, replicates: accuracy.count, weightsRemaining: 100 * pow(0.8, Double(level)),
            finalTestAccuracy: Spread(accuracy), earlyStoppingIteration: Spread(stops), earlyStoppingTestAccuracy: Spread(accuracy))
    }
    return [summary(0, dense, denseStops)]
        + tickets.enumerated().map { summary($0.offset + 1, $0.element, ticketStops.indices.contains($0.offset) ? ticketStops[$0.offset] : []) }
}

@Suite("Reports say what the data says: comparisons over replicates, full-precision files, pages that fit")
struct ReportStatementTests {
    @Test func welchsTestAgreesWithSciPy() {
        // scipy.stats.ttest_ind(a, b, equal_var=False): t = -3.6742, df = 4.0, p = 0.0213.
        let lower = GroupComparison(Spread([1, 2, 3]), against: Spread([4, 5, 6]))
        #expect(lower.verdict == .lower)
        #expect(abs(lower.t! + 3.6742346141747673) < 1e-12 && abs(lower.degreesOfFreedom! - 4) < 1e-12)
        // t = 4.3305, df = 3.7231, p = 0.0144: higher.
        let higher = GroupComparison(Spread([88.1, 88.9, 88.6]), against: Spread([87.0, 87.6, 87.2]))
        #expect(higher.verdict == .higher)
        #expect(abs(higher.t! - 4.33050190546627) < 1e-9 && abs(higher.degreesOfFreedom! - 3.723076923076881) < 1e-9)
        // t = 0.8868, df = 2.2062, p = 0.46: within the noise.
        #expect(GroupComparison(Spread([88.1, 88.9, 88.6]), against: Spread([87.0, 89.6, 86.2])).verdict == .indistinguishable)
        // scipy.stats.t.ppf(0.975, df) at tabulated and in-between degrees of freedom.
        for (df, quantile) in [(1.0, 12.706204736174694), (4, 2.7764451051977934), (7, 2.364624251592784), (30, 2.0422724563012378),
                               (3.7230769, 2.8616), (1e9, 1.959963986912325)] {
            #expect(abs(GroupComparison.criticalT(degrees: df) / quantile - 1) < 0.005, "df \(df)")
        }
    }

    @Test func oneReplicateIsTooFewToTellWhateverTheMeans() throws {
        #expect(GroupComparison(Spread([95]), against: Spread([10])).verdict == .tooFewReplicates)
        #expect(GroupComparison(Spread([95, 96]), against: Spread([10])).verdict == .tooFewReplicates)
        #expect(GroupComparison(Spread([0.1]), against: 2).verdict == .tooFewReplicates)
        // Against a threshold: a one-sample t-test (t = -10.6, 3 df).
        #expect(GroupComparison(Spread([0.5, 0.7, 0.6, 0.4]), against: 2).verdict == .lower)
        // The spread of one value is undefined: null in JSON, "n = 1" in text, no error bar.
        let single = Spread([87.28])
        #expect(single.standardDeviation.isNaN && single.errorBar == nil)
        #expect(String(decoding: try JSONEncoder().encode(single), as: UTF8.self).contains("\"standardDeviation\":null"))
        #expect(single.text(unit: "%") == "87.28% (n = 1)" && Spread([1, 2, 3]).text(digits: 1) == "2.0 ± 1.0 (n = 3)")
    }

    @Test func theLotteryHeadlineFollowsTheReplicates() {
        // The demo's case: one replicate, tickets a little below at level 1 and above from level 2.
        let single = LotteryReport.accuracyFindings(lotterySummaries(dense: [87.30], tickets: [[87.26], [88.1]]))
        #expect(single.contains("too few replicates to tell (n = 1)"))
        #expect(single.contains("above the dense network at 1 of 2 levels") && single.contains("below the dense network at 1"))
        #expect(single.contains("-0.04 to +0.80 pp"))
        #expect(!single.contains("below the dense mean minus one standard deviation"))
        // Clear separation over three replicates: the sentence says which is higher, level by level.
        let separated = LotteryReport.accuracyFindings(
            lotterySummaries(dense: [87.0, 87.6, 87.2], tickets: [[88.1, 88.9, 88.6], [86.0, 86.2, 85.9]]))
        #expect(separated.contains("above the dense network at 80.0%, below the dense network at 64.0%"))
        #expect(separated.contains("87.27 ± 0.31% (n = 3)"))
        // Within the noise.
        let noisy = LotteryReport.accuracyFindings(lotterySummaries(dense: [87.0, 89.6, 86.2], tickets: [[88.1, 88.9, 88.6], [88.1, 88.9, 88.6]]))
        #expect(noisy.contains("not distinguishable from the dense network from 80.0% to 64.0%"))
    }

    @Test func theEarlyStoppingCaptionIsComputed() {
        let earlier = LotteryReport.earlyStoppingFindings(lotterySummaries(
            dense: [1, 2, 3], tickets: [[1, 2, 3], [1, 2, 3]], denseStops: [5600, 5800, 5700], ticketStops: [[4100, 4300, 4200], [5700, 5600, 5800]]))
        #expect(earlier.contains("earlier than the dense network at 80.0%, not distinguishable from the dense network at 64.0%"))
        let later = LotteryReport.earlyStoppingFindings(lotterySummaries(
            dense: [1, 2, 3], tickets: [[1, 2, 3]], denseStops: [4000, 4100, 4200], ticketStops: [[5600, 5800, 5700]]))
        #expect(later.contains("later than the dense network at 80.0%") && !later.contains("earlier than the dense network at"))
        let single = LotteryReport.earlyStoppingFindings(lotterySummaries(dense: [1], tickets: [[1]], denseStops: [5000], ticketStops: [[4000]]))
        #expect(single.contains("too few replicates to tell (n = 1); as measured, earlier than the dense network at 1 of 1 levels"))
        let same = LotteryReport.earlyStoppingFindings(lotterySummaries(dense: [1], tickets: [[1], [1]], denseStops: [200], ticketStops: [[200], [200]]))
        #expect(same.contains("too few replicates to tell (n = 1); as measured, equal at all 2 levels."))
    }

    @Test func aThresholdLineShowsWithOneCategoryAndRoleColoursAreFixed() {
        let plot = LinePlot(
            title: "barrier", x: PlotAxis("spawn step", categories: ["0it"]), y: PlotAxis("barrier (pp)"),
            series: [PlotSeries("test error barrier", points: [PlotPoint(x: 0, y: 0.5)], color: SeriesColor.test),
                     PlotSeries("train error barrier", points: [PlotPoint(x: 0, y: 0.3)], color: SeriesColor.train)],
            horizontalLines: [PlotHorizontalLine(y: 2, label: "stability threshold (2 pp)")])
        let svg = plot.svg()
        // The line spans the frame at y = 2, which the y range includes although no point is that high.
        let y = plot.position(0, 2).y
        #expect(plot.domains.y.contains(2) && y > plot.frame.top && y < plot.frame.bottom)
        let yText = String(format: "%.1f", y)
        #expect(svg.contains("x1=\"78.0\" y1=\"\(yText)\" x2=\"560.0\" y2=\"\(yText)\" stroke=\"#777\" stroke-width=\"1.2\" stroke-dasharray=\"3 3\""))
        #expect(svg.contains("stability threshold (2 pp)"))
        // Fixed colours, whatever the series' position; a series without one takes the palette's.
        let swapped = LinePlot(title: "t", x: PlotAxis("x"), y: PlotAxis("y"), series: [
            PlotSeries("train", points: [PlotPoint(x: 0, y: 1)], color: SeriesColor.train), PlotSeries("other", points: [PlotPoint(x: 1, y: 1)])])
        #expect(swapped.color(ofSeries: 0) == SeriesColor.train && swapped.color(ofSeries: 1) == LinePlot.palette[1])
        #expect(LotteryNetwork.randomPruning.color == SeriesColor.randomPruning)
        #expect(SeriesColor.ramp(0, of: 5) == "#440154" && SeriesColor.ramp(4, of: 5) == "#b5de2b")
        // Points on a fixed range's edge are drawn whole: the clip path reaches past the frame.
        let edge = LinePlot(title: "t", x: PlotAxis("α", range: 0...1), y: PlotAxis("y"), series: [PlotSeries("s", points: [PlotPoint(x: 0, y: 1, error: 0.5)])])
        #expect(edge.svg().contains("<clipPath id=\"frame\"><rect x=\"72.0\""))
    }

    @Test func htmlTablesFitThePageWithTitlesInWordsAndRoundedNumbers() {
        #expect(HTMLReport.columnTitle("weights_remaining_percent") == "weights remaining (%)")
        #expect(HTMLReport.columnTitle("test_barrier_std_pp") == "test barrier sd (pp)" && HTMLReport.columnTitle("build_s") == "build (s)")
        #expect(HTMLReport.displayed("88.55123456") == "88.55" && HTMLReport.displayed("4.8e-06") == "4.8e-06")
        #expect(HTMLReport.displayed("5000.0") == "5000" && HTMLReport.displayed("12345.678") == "12346" && HTMLReport.displayed("ticket") == "ticket")
        let report = HTMLReport(
            title: "t", introduction: "i",
            sections: [.init(title: "s", text: "x", table: CSVTable(header: ["test_accuracy_mean"], rows: [["88.55123456"]]))],
            configurationJSON: "{\n  \"a\" : 1\n}", runs: [(label: "r0 level 1 ticket", path: "replicate-0/level-1/ticket")])
        let html = report.html
        #expect(html.contains("<div class=\"table\"><table><tr><th>test accuracy mean</th></tr>\n<tr><td>88.55</td></tr>"))
        #expect(html.contains(".table { max-width: 100%; overflow-x: auto;"))
        #expect(html.contains("<a href=\"replicate-0/level-1/ticket/\">r0 level 1 ticket</a>"))
        #expect(html.contains("<pre>{\n  &quot;a&quot; : 1\n}</pre>"))
    }

    @Test func csvFilesKeepFullPrecision() throws {
        for value in [4.8e-06, 88.55123456789012, 1.0 / 3, 123456789.123, -2.5e-300] {
            #expect(Double(exact(value)) == value)
        }
        #expect(exact(.nan) == "" && exact(nil) == "")
    }

    @Test func aOneReplicateLotteryReportSaysTooFewAndLinksEveryRun() throws {
        let root = try makeTemporaryDirectory("lottery-statements")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = LotteryConfiguration(training: blobTraining())
        configuration.levels = 1
        configuration.controls = [.randomPruning]
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        try LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training)).run()
        let summaries = try LotteryReport(directory: directory).build()
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("too few replicates to tell (n = 1)"))
        #expect(!html.contains("± 0.00") && !html.contains("nan"))
        for path in ["replicate-0/level-0/ticket/", "replicate-0/level-1/ticket/", "replicate-0/level-1/random-pruning/"] {
            #expect(html.contains("href=\"\(path)\""), "\(path)")
        }
        // lottery.csv holds the same numbers as summary.json, to the last digit; an undefined spread is empty.
        let lines = try String(contentsOf: directory.appendingPathComponent("lottery.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let dense = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(Double(dense[header.firstIndex(of: "test_accuracy_mean")!]) == summaries[0].finalTestAccuracy.mean)
        #expect(dense[header.firstIndex(of: "test_accuracy_std")!] == "")
        let json = try String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(json.contains("\"standardDeviation\" : null"))
        // The random-pruning control has its colour in every figure, wherever it stands among the series.
        for figure in ["test-accuracy.svg", "early-stopping-iteration.svg"] {
            #expect(try String(contentsOf: directory.appendingPathComponent(figure), encoding: .utf8).contains(SeriesColor.randomPruning), "\(figure)")
        }
    }

    @Test func randomizeLeavesOutWhatWasNotMeasuredAndSaysWhy() throws {
        let root = try makeTemporaryDirectory("randomize-statements")
        defer { try? FileManager.default.removeItem(at: root) }
        // Three steps cannot fit corrupted labels: no run fits, no regularizers were asked for.
        var configuration = RandomizeTests.blobStudy(replicates: 1)
        configuration.training.steps = TrainingDuration(iterations: 3)
        configuration.training.stopAtTrainingAccuracy = 1
        configuration.regularizers = []
        configuration.conditions = ["true-labels", "corrupt:0.5"].map { RandomizationCondition($0)! }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        try RandomizeStudy(configuration: configuration, directory: directory, data: blobData(configuration.training)).run()
        let summaries = try RandomizeReport(directory: directory).build()
        #expect(summaries.allSatisfy { $0.fitted == 0 })
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("slowdown.svg").path))
        #expect(!html.contains("slowdown.svg") && html.contains("No slowdown plot (Figure 1b): no true-label run fit its training set"))
        #expect(!html.contains("Table 1"))
        #expect(RandomizeReport.whyNoSlowdown(summaries.filter { $0.condition.kind != .trueLabels }).contains("the true-label condition was not run"))
        // One replicate: the comparison with the true labels is not claimed.
        let ratio = RandomizeConditionSummary(
            condition: RandomizationCondition("random-labels")!, runs: 1, fitted: 1, stepsToFit: Spread([1300]), slowdown: Spread([1.4]),
            trainAccuracy: Spread([100]), testError: Spread([90]), corruptedTestError: Spread([]))
        #expect(RandomizeReport.finding(ratio).contains("too few replicates to tell whether it is slower"))
        var three = ratio
        three.slowdown = Spread([1.3, 1.4, 1.5])
        #expect(RandomizeReport.finding(three).contains("1.40 ± 0.10x the true labels' steps (n = 3): slower"))
    }
}
