import Foundation
@testable import OccamNN
import Testing

@testable import OccamExperiments

@Suite("Early stopping against width: the (width, epoch) plane and the early-stopped errors")
struct EarlyStoppingAgainstWidthTests {
    /// Whether two lists of percentages agree to rounding (errors are stored as accuracies).
    static func close(_ a: [Double?], _ b: [Double?]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x == nil ? y == nil : y.map { abs($0 - x!) < 1e-9 } ?? false }
    }

    /// A run whose test (and, when given, validation) errors in % are `test[i]` at step `10 * (i + 1)`, 10 steps an epoch.
    static func record(replicate: Int, width: Int, test: [Double], validation: [Double]? = nil) -> NetworkWidthRecord {
        func evaluations(_ split: String, _ errors: [Double]) -> [EvaluationRecord] {
            errors.enumerated().map { EvaluationRecord(step: 10 * ($0 + 1), epoch: Double($0 + 1), split: split, loss: 0, accuracy: 1 - $1 / 100) }
        }
        return NetworkWidthRecord(
            run: NetworkWidthRun(replicate: replicate, width: width), parameters: 10 * width, iterations: 10 * test.count, trainError: 0,
            testError: test.last! / 100, corruptedTestError: nil, bestTestError: test.min()! / 100, bestTestStep: nil,
            curve: evaluations("test", test) + (validation.map { evaluations("validation", $0) } ?? []))
    }

    @Test func withoutAValidationSplitTheOracleStopsAtTheLowestTestError() throws {
        let records = [Self.record(replicate: 0, width: 4, test: [40, 30, 35]), Self.record(replicate: 1, width: 4, test: [50, 32, 20]),
                       Self.record(replicate: 0, width: 16, test: [30, 20, 25, 26]), Self.record(replicate: 1, width: 16, test: [30, 22, 24])]
        let early = NetworksEarlyStopping(records: records)
        #expect(early.selection == .test && early.widths == [4, 16])
        #expect(Self.close(early.rows.map(\.stoppedError.mean), [25, 21]) && early.rows.map(\.stoppedEpoch.mean) == [2.5, 2])
        #expect(Self.close(early.rows.map(\.finalError.mean), [27.5, 25]))
        // Step 40 was evaluated by one width-16 replicate only: not in the plane.
        #expect(early.steps.map(\.step) == [10, 20, 30])
        #expect(Self.close(early.meanTestError.flatMap { $0 }, [45, 30, 31, 21, 27.5, 24.5]))
    }

    @Test func aValidationSplitChoosesTheStepAndTheTestErrorIsReadThere() {
        // Validation is lowest at step 10, where the test error is 40 (not the test minimum, 30).
        let early = NetworksEarlyStopping(records: [Self.record(replicate: 0, width: 8, test: [40, 30, 35], validation: [20, 25, 25])])
        #expect(early.selection == .validation)
        #expect(Self.close([early.rows[0].stoppedError.mean], [40]) && early.rows[0].stoppedEpoch.mean == 1)
        #expect(early.sentences(minimum: nil, peak: nil) == ["Early-stopped test error: 40.0% (n = 1) at width 8, 40.0% (n = 1) at width 8."])
    }

    @Test func sentencesSayWhetherStoppingEarlyFlattensThePeak() {
        // Final errors peak at width 16 (35% against 25%); stopped early both are about 20%.
        let records = (0..<3).flatMap { r in
            [Self.record(replicate: r, width: 4, test: [20 + Double(r), 25]), Self.record(replicate: r, width: 16, test: [21 - Double(r), 35])]
        }
        let text = NetworksEarlyStopping(records: records).sentences(minimum: 4, peak: 16)[0]
        #expect(text.contains("it rises -1.0 points there instead of 10.0"))
        #expect(text.contains("not distinguishable over the replicates") && text.contains("early stopping flattens the peak"))
    }

    @Test func heatMapColoursSpanTheScaleAndHaveALegend() {
        let map = HeatMap(title: "t", xLabel: "width", yLabel: "epoch", columns: ["4", "16"], rows: ["1", "2"], values: [[10, nil], [30, 20]],
                          valueLabel: "test error (%)")
        let svg = map.svg()
        #expect(map.scaleRange == 10...30)
        #expect(svg.components(separatedBy: "<title>").count - 1 == 3)  // three measured cells, the missing one blank
        #expect(svg.contains("fill=\"\(SeriesColor.scale(0))\"><title>4, 1: 10</title>"))
        #expect(svg.contains("fill=\"\(SeriesColor.scale(1))\"><title>4, 2: 30</title>"))
        #expect(svg.contains("fill=\"\(SeriesColor.scale(0.5))\"><title>16, 2: 20</title>"))
        #expect(svg.contains(">test error (%)</text>") && svg.contains(">30</text>") && svg.contains(">15</text>"))
        // A narrower range draws what lies beyond it in the end colours and says so on the legend.
        var clipped = map
        clipped.range = 15...25
        #expect(clipped.svg().contains("fill=\"\(SeriesColor.scale(1))\"><title>4, 2: 30</title>") && clipped.svg().contains(">≥ 25</text>")
            && clipped.svg().contains(">≤ 15</text>"))
        #expect(SeriesColor.scale(0) == SeriesColor.ramp(0, of: 5) && SeriesColor.scale(1) == SeriesColor.ramp(4, of: 5))
    }
}
