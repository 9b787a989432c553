import Foundation
@testable import OccamExperiments
import OccamNN
import OccamTensor
import Testing

@Suite struct EarlyPhaseTests {
    /// A fully connected [4, 5] layer and a convolution kernel [3, 2, 2, 2] with a bias, random values, and a mask
    /// keeping about half of each weight tensor.
    static func layers() throws -> (rewound: ParameterSet<Double>, fresh: ParameterSet<Double>, mask: PruningMask<Double>) {
        var random = RandomGenerator(seed: 11)
        func tensor(_ shape: [Int]) -> Tensor<Double> { Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in random.nextNormal() }) }
        let rewound = ParameterSet([("fc.weight", tensor([4, 5])), ("fc.bias", tensor([4])), ("conv.weight", tensor([3, 2, 2, 2]))])
        let fresh = ParameterSet([("fc.weight", tensor([4, 5])), ("fc.bias", tensor([4])), ("conv.weight", tensor([3, 2, 2, 2]))])
        let mask = try PruningMask(ParameterSet(["fc.weight", "conv.weight"].map { name in
            (name, Tensor(shape: rewound[name]!.shape, scalars: rewound[name]!.scalars.map { _ in random.nextUniform() < 0.5 ? 0 : 1 }))
        }))
        return (rewound, fresh, mask)
    }

    static func apply(_ perturbation: WeightPerturbation, seed: UInt64 = 2) throws -> (ParameterSet<Double>, ParameterSet<Double>, ParameterSet<Double>, PruningMask<Double>) {
        let (rewound, fresh, mask) = try layers()
        var random = RandomGenerator(seed: seed)
        return (perturbation.apply(rewound: rewound, fresh: fresh, mask: mask, random: &random), rewound, fresh, mask)
    }

    /// The (result, rewound, fresh, mask) values of every kept weight, per masked tensor.
    static func keptValues(_ result: ParameterSet<Double>, _ other: ParameterSet<Double>, mask: PruningMask<Double>, name: String) -> [(Double, Double)] {
        zip(zip(result[name]!.scalars, other[name]!.scalars), mask[name]!.scalars).compactMap { $1 != 0 ? $0 : nil }
    }

    @Test func everyPerturbationKeepsTheMasksZerosExactlyAndTheBiasesAsTheyAre() throws {
        for perturbation in WeightPerturbation.allCases {
            let (result, rewound, fresh, mask) = try Self.apply(perturbation)
            for (name, keep) in mask.masks.entries {
                for (value, kept) in zip(result[name]!.scalars, keep.scalars) where kept == 0 {
                    #expect(value == 0 && value.sign == .plus, "\(perturbation) \(name)")
                }
            }
            #expect(result["fc.bias"] == (perturbation == .freshInitialization ? fresh : rewound)["fc.bias"], "\(perturbation)")
        }
    }

    @Test func ticketIsTheRewoundWeightsAndFreshInitTheFreshDraw() throws {
        let (ticket, rewound, fresh, mask) = try Self.apply(.ticket)
        var expected = rewound
        mask.apply(to: &expected)
        #expect(ticket == expected)
        let (reinitialized, _, _, _) = try Self.apply(.freshInitialization)
        var expectedFresh = fresh
        mask.apply(to: &expectedFresh)
        #expect(reinitialized == expectedFresh)
    }

    @Test func signsKeptHasTheRewoundSignsAndTheFreshMagnitudes() throws {
        let (result, rewound, fresh, mask) = try Self.apply(.signsKept)
        for name in mask.masks.names {
            for (value, original) in Self.keptValues(result, rewound, mask: mask, name: name) { #expect(value.sign == original.sign) }
            for (value, draw) in Self.keptValues(result, fresh, mask: mask, name: name) { #expect(abs(value) == abs(draw)) }
        }
    }

    @Test func magnitudesKeptHasTheRewoundMagnitudesAndBothSignsAboutEquallyOften() throws {
        let (result, rewound, _, mask) = try Self.apply(.magnitudesKept)
        var flipped = 0, total = 0
        for name in mask.masks.names {
            for (value, original) in Self.keptValues(result, rewound, mask: mask, name: name) {
                #expect(abs(value) == abs(original))
                if value.sign != original.sign { flipped += 1 }
                total += 1
            }
        }
        #expect(flipped > 0 && flipped < total)
        // Over many draws the fraction of flipped signs is near 1/2 (binomial: 4000 coins, sd 0.008).
        var random = RandomGenerator(seed: 5)
        let weights = ParameterSet([("w", Tensor<Double>(shape: [4000], scalars: (0..<4000).map { Double($0 + 1) }))])
        let all = PruningMask(keepingAllOf: weights)
        let many = WeightPerturbation.magnitudesKept.apply(rewound: weights, fresh: weights, mask: all, random: &random)
        let negative = Double(many["w"]!.scalars.count { $0 < 0 }) / 4000
        #expect(abs(negative - 0.5) < 0.04)
    }

    @Test func permutedIsAPermutationOfEachLayersKeptWeightsAmongItsKeptPositions() throws {
        let (result, rewound, _, mask) = try Self.apply(.permuted)
        var moved = false
        for name in mask.masks.names {
            let pairs = Self.keptValues(result, rewound, mask: mask, name: name)
            #expect(pairs.map(\.0).sorted() == pairs.map(\.1).sorted(), "\(name): the same values")
            if pairs.contains(where: { $0.0 != $0.1 }) { moved = true }
        }
        #expect(moved)
        // Other seeds give other orders.
        #expect(try Self.apply(.permuted, seed: 3).0 != result)
    }

    /// Brute force: the supremum and integral of |F_a - F_b| evaluated at every point and between neighbours.
    static func bruteForce(_ a: [Double], _ b: [Double]) -> (ks: Double, wasserstein: Double) {
        func cdf(_ values: [Double], _ x: Double) -> Double { Double(values.count { $0 <= x }) / Double(values.count) }
        let points = Set(a + b).sorted()
        let ks = points.map { abs(cdf(a, $0) - cdf(b, $0)) }.max()!
        let area = zip(points, points.dropFirst()).reduce(0) { $0 + abs(cdf(a, $1.0) - cdf(b, $1.0)) * ($1.1 - $1.0) }
        return (ks, area)
    }

    @Test func distancesMatchBruteForceAndClosedForms() {
        var random = RandomGenerator(seed: 9)
        for (n, m) in [(7, 7), (13, 5), (40, 61)] {
            // Rounded values, so that ties occur within and between the samples.
            let a = (0..<n).map { _ in (random.nextNormal() * 4).rounded() / 4 }, b = (0..<m).map { _ in (random.nextNormal() * 3 + 0.5).rounded() / 4 }
            let (ks, wasserstein) = WeightDistribution.distances(a, b)
            let expected = Self.bruteForce(a, b)
            #expect(abs(ks - expected.ks) < 1e-12 && abs(wasserstein - expected.wasserstein) < 1e-12, "\(n), \(m)")
        }
        // A shift by c moves every quantile by c: W1 = |c|; KS = 1 once c exceeds the sample's range.
        let a = (0..<50).map { _ in random.nextUniform() }
        let shifted = WeightDistribution.distances(a, a.map { $0 + 3 })
        #expect(abs(shifted.wasserstein - 3) < 1e-12 && shifted.ks == 1)
        // Equal sizes: W1 is the mean distance between sorted values.
        let b = (0..<50).map { _ in random.nextNormal() }
        let sortedMean = zip(a.sorted(), b.sorted()).reduce(0) { $0 + abs($1.0 - $1.1) } / 50
        #expect(abs(WeightDistribution.distances(a, b).wasserstein - sortedMean) < 1e-12)
        #expect(WeightDistribution.distances(a, a.shuffled(using: &random)) == (0, 0))
    }

    @Test func layerStatisticsFollowTheirDefinitions() {
        var random = RandomGenerator(seed: 4)
        let initial = (0..<200).map { _ in random.nextNormal() * 0.1 }
        let final = initial.map { 3 * $0 + 1 }
        // Rewound = initial: nothing moved, correlation with an affine image of it is 1.
        let same = WeightDistribution.layerStatistics(replicate: 0, iteration: 0, layer: "w", initial: initial, rewound: initial, final: final)
        #expect(same.ksFromInitialization == 0 && same.wassersteinFromInitialization == 0 && same.relativeDistanceFromInitialization == 0)
        #expect(abs(same.correlationWithFinal - 1) < 1e-12)
        // Rewound = -initial: the distance is 2 |W_0| / |W_0|, and the correlation with the final weights is -1.
        let negated = WeightDistribution.layerStatistics(
            replicate: 0, iteration: 5, layer: "w", initial: initial, rewound: initial.map { -$0 }, final: final)
        #expect(abs(negated.relativeDistanceFromInitialization - 2) < 1e-12 && abs(negated.correlationWithFinal + 1) < 1e-12)
        // Rewound = initial + 0.05: W1 is 0.05 divided by the initial standard deviation.
        let mean = initial.reduce(0, +) / 200
        let sd = (initial.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 200).squareRoot()
        let shifted = WeightDistribution.layerStatistics(
            replicate: 0, iteration: 5, layer: "w", initial: initial, rewound: initial.map { $0 + 0.05 }, final: final)
        #expect(abs(shifted.wassersteinFromInitialization - 0.05 / sd) < 1e-9)
    }

    static func blobStudy() -> EarlyPhaseConfiguration {
        var training = blobTraining(steps: 30)
        training.validationCount = 0
        var configuration = EarlyPhaseConfiguration(training: training)
        configuration.rewindIterations = [0, 10]
        configuration.levels = 2
        configuration.rates = PruningRates(rate: 0.5, outputRate: 0.2)
        configuration.replicates = 2
        return configuration
    }

    @Test func impossibleConfigurationsAreRefusedNamingTheOption() throws {
        func message(_ change: (inout EarlyPhaseConfiguration) -> Void) -> String {
            var configuration = Self.blobStudy()
            change(&configuration)
            do { try configuration.validate() } catch { return "\(error)" }
            return ""
        }
        #expect(message { $0.rewindIterations = [] }.contains("--rewind-iterations"))
        #expect(message { $0.rewindIterations = [10, 0] }.contains("ascending"))
        #expect(message { $0.rewindIterations = [0, 0] }.contains("twice"))
        #expect(message { $0.perturbations = [.permuted] }.contains("must include ticket"))
        #expect(message { $0.levels = 0 }.contains("--levels"))
        #expect(message { $0.replicates = 0 }.contains("--replicates"))
        #expect(message { _ in } == "")
        var late = Self.blobStudy()
        late.rewindIterations = [0, 30]
        let train = blobData(late.training)(late.training.seed).train
        let model: Model<Double> = try late.training.buildModel(inputShape: train.imageShape, classes: train.classCount)
        #expect(throws: ExperimentError.self) { try late.validate(model: model, trainCount: train.count) }
        late.rewindIterations = [0, 29]
        try late.validate(model: model, trainCount: train.count)
    }

    @Test func tinyStudyTrainsResumesAndReportsPairedChanges() throws {
        let configuration = Self.blobStudy()
        let root = try makeTemporaryDirectory("early-phase")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = EarlyPhaseStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.jobs = 2
        var trained: [String] = []
        try study.run { event in if case .stageFinished(let name, _, false) = event { trained.append(name) } }
        #expect(trained.count == configuration.trainingRunCount)
        let summary = try EarlyPhaseReport(directory: directory).build()
        #expect(summary.accuracy.count == 2 * WeightPerturbation.allCases.count)
        for row in summary.accuracy {
            #expect(row.testAccuracy.count == 2)
            if row.perturbation == .ticket { #expect(row.changeFromTicket.mean == 0) }
        }
        // The paired change is the mean over replicates of each replicate's difference, read from runs.csv.
        let runs = try String(contentsOf: directory.appendingPathComponent("runs.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        func accuracy(_ replicate: Int, _ k: Int, _ p: WeightPerturbation) -> Double {
            Double(runs.first { $0[0] == "\(replicate)" && $0[1] == "\(k)" && $0[2] == p.rawValue }![3])!
        }
        let permuted = summary.accuracy.first { $0.rewindIteration == 10 && $0.perturbation == .permuted }!
        let expected = ((accuracy(0, 10, .permuted) - accuracy(0, 10, .ticket)) + (accuracy(1, 10, .permuted) - accuracy(1, 10, .ticket))) / 2
        #expect(abs(permuted.changeFromTicket.mean - expected) < 1e-9)
        // Weight statistics: k = 0 is the initialization itself.
        #expect(summary.weightStatistics.filter { $0.rewindIteration == 0 }.allSatisfy { $0.ksFromInitialization.mean == 0 })
        #expect(summary.weightStatistics.filter { $0.rewindIteration == 10 }.allSatisfy { $0.ksFromInitialization.mean > 0 })
        #expect(!summary.finding.isEmpty && summary.finding.contains("paired"))
        for name in ["index.html", "accuracy.csv", "weight-statistics.csv", "accuracy-vs-k.svg", "change-vs-k.svg", "weight-distance.svg", "weight-correlation.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }

        // Remove one perturbation run and the report: the study trains only that run again, with the same result.
        let before = try Data(contentsOf: directory.appendingPathComponent("accuracy.csv"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("replicate-1/k-10/signs-kept"))
        trained = []
        var skipped = 0
        try study.run { event in
            if case .stageFinished(let name, _, let wasSkipped) = event { if wasSkipped { skipped += 1 } else { trained.append(name) } }
        }
        #expect(trained == [EarlyPhaseRun(replicate: 1, rewindIteration: 10, perturbation: .signsKept).name])
        #expect(skipped == configuration.trainingRunCount - 1)
        try EarlyPhaseReport(directory: directory).build()
        #expect(try Data(contentsOf: directory.appendingPathComponent("accuracy.csv")) == before)
    }
}
