import Foundation
import OccamAnalysis
@testable import OccamData
@testable import OccamExperiments
import OccamNN
import OccamTensor
import Testing

@Suite struct CriticalPeriodTests {
    /// `rows` (each a list of `width` pixels) as one [1, height * width] image.
    static func image(_ rows: [[Double]]) -> Tensor<Double> { Tensor(shape: [1, rows.count * rows[0].count], scalars: rows.flatMap { $0 }) }

    @Test func blurAveragesBlocksAndInterpolatesBilinearly() {
        // 4x4, factor 2: block means m = [[1, 3], [5, 7]] (each block's four pixels average to its mean).
        let input = Self.image([[0, 2, 2, 4], [2, 0, 4, 2], [4, 6, 8, 6], [6, 4, 6, 8]])
        let blur = InputDeficit(kind: .blur, blurFactor: 2, endEpoch: 1)
        let output = blur.applied(to: input, channels: 1, height: 4, width: 4).scalars
        // Half-pixel centres: fine pixels 0..3 sit at coarse -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1),
        // so along each axis the weights of the second block are 0, 1/4, 3/4, 1.
        let weights = [0.0, 0.25, 0.75, 1.0]
        let m = [[1.0, 3.0], [5.0, 7.0]]
        for row in 0..<4 {
            for column in 0..<4 {
                let (wr, wc) = (weights[row], weights[column])
                let expected = (1 - wr) * ((1 - wc) * m[0][0] + wc * m[0][1]) + wr * ((1 - wc) * m[1][0] + wc * m[1][1])
                #expect(abs(output[row * 4 + column] - expected) < 1e-12, "pixel (\(row), \(column))")
            }
        }
    }

    @Test func blurKeepsConstantsAndBlockMeansOnly() {
        var random = RandomGenerator(seed: 5)
        let blur = InputDeficit(kind: .blur, blurFactor: 4, endEpoch: 1)
        // A constant image (two channels, 28x28) stays the same.
        let constant = Tensor<Double>(shape: [1, 2 * 784], scalars: [Double](repeating: 0.3, count: 784) + [Double](repeating: -1.5, count: 784))
        let blurred = blur.applied(to: constant, channels: 2, height: 28, width: 28)
        #expect(zip(blurred.scalars, constant.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
        // Changes inside a block that keep its mean change nothing; 10x10 has partial blocks of 2 at the edge.
        let noise = (0..<100).map { _ in random.nextUniform() }
        var moved = noise
        moved[0] += 0.5; moved[1] -= 0.5      // block (0, 0)
        moved[98] += 0.25; moved[99] -= 0.25  // the 2x2 corner block (2, 2)
        let a = blur.applied(to: Tensor(shape: [1, 100], scalars: noise), channels: 1, height: 10, width: 10).scalars
        let b = blur.applied(to: Tensor(shape: [1, 100], scalars: moved), channels: 1, height: 10, width: 10).scalars
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 })
        // Factor 1 is the identity.
        let identity = InputDeficit(kind: .blur, blurFactor: 1, endEpoch: 1).applied(to: Tensor(shape: [1, 100], scalars: noise), channels: 1, height: 10, width: 10)
        #expect(zip(identity.scalars, noise).allSatisfy { abs($0 - $1) < 1e-12 })
        // Partial blocks average over their own pixels: a 10-pixel axis in blocks of 4 has blocks of 4, 4 and 2.
        let weights = InputDeficit.blurWeights(size: 10, factor: 4)
        #expect(weights.coarse == 3 && weights.blockSizes == [4, 4, 2])
    }

    @Test func verticalFlipReversesRowsOfEveryChannel() {
        let input = Tensor<Double>(shape: [2, 2 * 3 * 2], scalars: (0..<24).map(Double.init))
        let flip = InputDeficit(kind: .verticalFlip, endEpoch: 1)
        let output = flip.applied(to: input, channels: 2, height: 3, width: 2).scalars
        // Image 0, channel 0 holds rows [0, 1], [2, 3], [4, 5]: flipped, [4, 5], [2, 3], [0, 1].
        #expect(Array(output[0..<6]) == [4, 5, 2, 3, 0, 1])
        #expect(Array(output[18..<24]) == [22, 23, 20, 21, 18, 19])
        #expect(flip.applied(to: flip.applied(to: input, channels: 2, height: 3, width: 2), channels: 2, height: 3, width: 2) == input)
    }

    @Test func restartedScheduleStartsAgainAtItsStep() {
        let schedule = LearningRateSchedule.restarted(atStep: 20, then: .exponentialPerEpoch(gamma: 0.5))
        let rates = [0, 9, 10, 19, 20, 29, 30].map { schedule.learningRate(base: 1, step: $0, stepsPerEpoch: 10) }
        #expect(rates == [1, 1, 0.5, 0.5, 1, 1, 0.5])
        #expect(throws: TrainingError.self) { try LearningRateSchedule.restarted(atStep: -1, then: .constant).validate() }
    }

    /// Trains `configuration` on the blobs (1x6 "images") and returns the final parameters.
    static func finalParameters(_ configuration: TrainingConfiguration) throws -> [Double] {
        let trainer = try Trainer(configuration: configuration, data: blobData(configuration)(configuration.seed), directory: nil)
        return try trainer.run().checkpoint.parameters.entries.flatMap(\.tensor.scalars)
    }

    @Test func trainerAppliesTheDeficitInItsEpochsOnly() throws {
        var plain = blobTraining()
        plain.validationCount = 0
        plain.steps = TrainingDuration(epochs: 1)
        var late = plain
        late.deficit = InputDeficit(kind: .blur, blurFactor: 2, startEpoch: 1, endEpoch: 2)
        // Inactive in the only epoch trained: the same run.
        #expect(try Self.finalParameters(late) == Self.finalParameters(plain))
        // Active in the second epoch: a different one.
        plain.steps = TrainingDuration(epochs: 2)
        late.steps = plain.steps
        #expect(try Self.finalParameters(late) != Self.finalParameters(plain))
        // A blur of factor 1 changes no input.
        var identity = plain
        identity.deficit = InputDeficit(kind: .blur, blurFactor: 1, startEpoch: 0, endEpoch: 2)
        #expect(try Self.finalParameters(identity) == Self.finalParameters(plain))
    }

    static func blobStudy() -> CriticalPeriodConfiguration {
        var training = blobTraining()
        training.validationCount = 0
        training.evaluateEvery = TrainingDuration(epochs: 1)
        var configuration = CriticalPeriodConfiguration(training: training, deficitLengths: [0, 1, 2], windowOnsets: [1, 2], windowLength: 1, epochsAfter: 2)
        configuration.blurFactor = 2
        configuration.replicates = 2
        return configuration
    }

    @Test func runsCoverBothSweepsOnceWithTheirOwnLengthAndSchedule() throws {
        var configuration = Self.blobStudy()
        // Window onset 0 of length 1 would repeat the length sweep's run; onsets 1 and 2 are new.
        configuration.windowOnsets = [0, 1, 2]
        #expect(configuration.deficits.map { [$0.onset, $0.length] } == [[0, 0], [0, 1], [0, 2], [1, 1], [2, 1]])
        #expect(configuration.runs.count == 10)
        let run = CriticalPeriodRun(replicate: 1, window: DeficitWindow(onset: 2, length: 1))
        var training = configuration.training(for: run, iterationsPerEpoch: 13)
        #expect(training.steps == TrainingDuration(epochs: 5) && training.seed == configuration.training.seed + 1)
        #expect(training.deficit == InputDeficit(kind: .blur, blurFactor: 2, startEpoch: 2, endEpoch: 3))
        #expect(training.schedule == configuration.training.schedule)
        configuration.restartSchedule = true
        training = configuration.training(for: run, iterationsPerEpoch: 13)
        #expect(training.schedule == .restarted(atStep: 39, then: configuration.training.schedule))
        let reference = configuration.training(for: CriticalPeriodRun(replicate: 0, window: DeficitWindow(onset: 0, length: 0)), iterationsPerEpoch: 13)
        #expect(reference.deficit == nil && reference.schedule == configuration.training.schedule && reference.steps == TrainingDuration(epochs: 2))
    }

    @Test func configurationRefusesWhatItCannotRun() {
        func message(_ change: (inout CriticalPeriodConfiguration) -> Void) -> String {
            var configuration = CriticalPeriodConfiguration()
            change(&configuration)
            do { try configuration.validate() } catch { return String(describing: error) }
            return ""
        }
        #expect(message { _ in } == "")
        #expect(message { $0.deficitLengths = [2, 4] }.contains("must include 0"))
        #expect(message { $0.deficitLengths = [0, 4, 4] }.contains("listed twice"))
        #expect(message { $0.epochsAfter = 0 }.contains("--epochs-after"))
        #expect(message { $0.windowLength = 0 }.contains("--window-length"))
        #expect(message { $0.blurFactor = 29 }.contains("--blur-factor"))
        #expect(message { $0.replicates = 0 }.contains("--replicates"))
    }

    @Test func studyTrainsResumesAndReportsPairedChanges() throws {
        let root = try makeTemporaryDirectory("critical-period")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = Self.blobStudy()
        try ResultFiles.writeJSON(
            StoredConfiguration(experiment: CriticalPeriodConfiguration.experimentName, precision: "float64", configuration: configuration),
            to: root.appendingPathComponent("config.json"))
        func study() -> CriticalPeriodStudy<Double> {
            var study = CriticalPeriodStudy(configuration: configuration, directory: root, data: blobData(configuration.training))
            study.jobs = 2
            study.probes = [FisherTrace.probe(every: TrainingDuration(epochs: 1), samples: 20, seed: 0)]
            return study
        }
        let summaries = try study().run()
        // Lengths 0, 1, 2 and windows at 1 and 2: 2 + 0, 2 + 1, 2 + 2, 1 + 1 + 2 and 2 + 1 + 2 epochs of 13 batches.
        #expect(summaries.map(\.iterations) == [2, 3, 4, 4, 5, 2, 3, 4, 4, 5].map { 13 * $0 })
        let summary = try CriticalPeriodReport(directory: root).build()
        #expect(summary.deficits.map { [$0.onset, $0.length, $0.runs] } == [[0, 0, 2], [0, 1, 2], [0, 2, 2], [1, 1, 2], [2, 1, 2]])
        // The change is paired: each replicate's accuracy minus its own run without a deficit.
        let runs = try String(contentsOf: root.appendingPathComponent("runs.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        func accuracy(_ replicate: Int, _ onset: Int, _ length: Int) -> Double {
            Double(runs.first { $0[0] == "\(replicate)" && $0[1] == "\(onset)" && $0[2] == "\(length)" }![4])!
        }
        let changes = [0, 1].map { accuracy($0, 0, 2) - accuracy($0, 0, 0) }
        let row = summary.deficits.first { $0.onset == 0 && $0.length == 2 }!
        #expect(abs(row.changeFromReference.mean - changes.reduce(0, +) / 2) < 1e-9)
        #expect(summary.deficits[0].changeFromReference.mean == 0 && summary.deficits[0].peakFisherTrace.count == 2)
        #expect(summary.schedule == "continued from the start of training")
        for name in ["runs.csv", "lengths.csv", "windows.csv", "fisher.csv", "summary.json", "accuracy-vs-length.svg", "accuracy-vs-onset.svg", "fisher.svg", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path), "\(name)")
        }
        // Fisher trace records at epochs 0, 1, 2 of the reference run.
        let fisher = try RunStore.readJSONLines(EvaluationRecord.self, from: root.appendingPathComponent("replicate-0/deficit-0-0/metrics.jsonl"))
            .filter { $0.split == "fisher" }
        #expect(fisher.map(\.step) == [0, 13, 26] && fisher.allSatisfy { ($0.values?["fisher_trace"] ?? 0) > 0 })

        // An interrupted study trains only what is missing.
        try FileManager.default.removeItem(at: root.appendingPathComponent("replicate-1/deficit-0-2/summary.json"))
        var trained: [String] = []
        try study().run { event in if case let .stageFinished(name, _, skipped) = event, !skipped { trained.append(name) } }
        #expect(trained == ["replicate 1 · deficit in epochs 0-1"])
    }

    @Test func findingsSayWhenReplicatesAreTooFew() {
        let configuration = Self.blobStudy()
        func row(_ onset: Int, _ length: Int, _ changes: [Double]) -> DeficitSummary {
            DeficitSummary(onset: onset, length: length, runs: changes.count, testAccuracy: Spread(changes.map { 80 + $0 }),
                           changeFromReference: Spread(changes), peakFisherTrace: Spread([10]), peakFisherEpoch: Spread([1]),
                           initialFisherTrace: Spread([2]), earlyPeakFisherTrace: Spread([10]), earlyPeakFisherEpoch: Spread([1]),
                           lowestFisherTraceAfterPeak: Spread([5]), finalFisherTrace: Spread([6]))
        }
        let one = CriticalPeriodReport.findings(configuration, summaries: [row(0, 0, [0]), row(0, 1, [-1]), row(0, 2, [-3])])
        #expect(one.contains("too few replicates to tell (n = 1)"))
        let clear = CriticalPeriodReport.findings(
            configuration, summaries: [row(0, 0, [0, 0, 0]), row(0, 1, [-1, -1.1, -0.9]), row(0, 2, [-3, -3.2, -2.9]), row(1, 1, [0.3, -0.2, 0.1])])
        #expect(clear.contains("lower from 1 epoch to 2 epochs") && clear.contains("grows with the deficit's length"))
        #expect(clear.contains("not distinguishable at onset 1"))
        #expect(clear.contains("goes from 2 at the start to 10 at its largest in the first third of training (epoch 1), down to 5 after that, and ends at 6"))
    }
    /// A run whose ReLUs died (constant prediction, 10% test accuracy) must not be paired: with it, a deficit
    /// from the start would look 73 pp better than no deficit. It is left out and named.
    @Test func runsThatNeverLearnedAreLeftOutAndNamed() {
        let configuration = Self.blobStudy()
        func record(_ replicate: Int, _ length: Int, _ accuracy: Double) -> CriticalPeriodRecord {
            CriticalPeriodRecord(
                run: CriticalPeriodRun(replicate: replicate, window: DeficitWindow(onset: 0, length: length)), epochs: 10,
                testAccuracy: accuracy, testLoss: 0.5, bestTestAccuracy: accuracy, fisher: [])
        }
        let records = [
            record(0, 0, 0.85), record(0, 2, 0.83), record(1, 0, 0.86), record(1, 2, 0.84),
            record(2, 0, 0.10), record(2, 2, 0.83),  // replicate 2 never learned without a deficit
        ]
        let summaries = CriticalPeriodReport.summaries(configuration, records: records)
        let reference = summaries.first { $0.length == 0 }!, deficit = summaries.first { $0.length == 2 }!
        #expect(reference.runs == 2 && abs(reference.testAccuracy.mean - 85.5) < 1e-9)
        #expect(deficit.changeFromReference.count == 2 && abs(deficit.changeFromReference.mean + 2) < 1e-9)
        let findings = CriticalPeriodReport.findings(
            configuration, summaries: summaries, neverLearned: records.filter { !$0.learned(classes: 10) })
        #expect(findings.hasPrefix("1 run never reached twice chance (20% test accuracy)"))
        #expect(findings.contains("replicate 2 · no deficit (best 10.0%)"))
    }
}
