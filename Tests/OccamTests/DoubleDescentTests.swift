import Foundation
import OccamData
import OccamNN
import OccamTensor
import Synchronization
import Testing

@testable import OccamExperiments

@Suite("Double descent")
struct DoubleDescentTests {
    static func rows(_ tensor: Tensor<Double>) -> [[Double]] {
        let columns = tensor.shape[1]
        return (0..<tensor.shape[0]).map { Array(tensor.scalars[($0 * columns)..<(($0 + 1) * columns)]) }
    }

    // MARK: Random features

    @Test(arguments: RandomFeatureKind.allCases)
    func featuresMatchTheirDefinitionAndNestAcrossCounts(_ kind: RandomFeatureKind) {
        var random = RandomGenerator(seed: 5)
        let inputs = Tensor<Double>.randomUniform([7, 5], using: &random)
        let root = RandomGenerator(seed: 11)
        let map = RandomFeatureMap<Double>(kind: kind, featureCount: 9, inputCount: 5, bandwidth: 2, random: root)
        let features = Self.rows(map.features(inputs)), directions = Self.rows(map.directions)
        for (i, x) in Self.rows(inputs).enumerated() {
            for j in 0..<9 {
                let projection = zip(directions[j], x).map(*).reduce(0, +)
                let expected = kind == .fourier
                    ? (2.0 / 9).squareRoot() * Foundation.cos(projection + map.phases.scalars[j])
                    : (2.0 / 9).squareRoot() * max(0, projection)
                #expect(abs(features[i][j] - expected) < 1e-12)
            }
        }
        #expect(kind == .relu ? map.phases.scalars.allSatisfy { $0 == 0 } : map.phases.scalars.allSatisfy { (0..<(2 * Double.pi)).contains($0) })
        // Fewer features of the same seed are the first ones of more.
        let smaller = RandomFeatureMap<Double>(kind: kind, featureCount: 4, inputCount: 5, bandwidth: 2, random: root)
        #expect(smaller.directions.scalars == Array(map.directions.scalars[0..<20]) && smaller.phases.scalars == Array(map.phases.scalars[0..<4]))
    }

    @Test func fourierFeaturesApproximateTheGaussianKernel() {
        // Rahimi and Recht: E⟨φ(x), φ(y)⟩ = exp(-‖x - y‖²/(2σ²)); the error shrinks like 1/sqrt(N).
        var random = RandomGenerator(seed: 2)
        let inputs = Tensor<Double>.randomUniform([4, 6], using: &random)
        let map = RandomFeatureMap<Double>(kind: .fourier, featureCount: 40_000, inputCount: 6, bandwidth: 0.8, random: RandomGenerator(seed: 3))
        let features = map.features(inputs)
        let gram = Self.rows(Tensor.matmul(features, features, transposeB: true)), x = Self.rows(inputs)
        for i in 0..<4 {
            for j in 0..<4 {
                let distance = zip(x[i], x[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                #expect(abs(gram[i][j] - Foundation.exp(-distance / (2 * 0.64))) < 0.02, "entry \(i), \(j)")
            }
        }
    }

    @Test func blockedPredictionsEqualOneProduct() {
        var random = RandomGenerator(seed: 8)
        let inputs = Tensor<Double>.randomUniform([23, 5], using: &random)
        let coefficients = Tensor<Double>.randomNormal([12, 3], using: &random)
        let map = RandomFeatureMap<Double>(kind: .fourier, featureCount: 12, inputCount: 5, bandwidth: 1, random: RandomGenerator(seed: 1))
        let whole = Tensor.matmul(map.features(inputs), coefficients)
        for blockRows in [1, 7, 23, 100] {
            #expect(map.predictions(inputs, coefficients: coefficients, blockRows: blockRows).isClose(to: whole, relativeTolerance: 1e-12, absoluteTolerance: 1e-12))
        }
    }

    /// Blobs as 1 x 3 x 3 images: 120 training and 50 test images of 3 classes.
    static func blobImages() -> (train: LabeledImages<Double>, test: LabeledImages<Double>) {
        let blobs = SyntheticClassification.gaussianBlobs(count: 170, classCount: 3, dimensions: 9, separation: 2, seed: 6, as: Double.self).data
        func images(_ range: Range<Int>) -> LabeledImages<Double> {
            let part = blobs.subset(Array(range))
            return LabeledImages(images: part.images, labels: part.labels, height: 3, width: 3, classCount: 3)
        }
        return (images(0..<120), images(120..<170))
    }

    /// The coefficients of least norm among least-squares minimizers, without an SVD: through the normal
    /// equations of the smaller Gram matrix (both are full rank here), by Cholesky.
    static func normalEquationSolution(_ features: Tensor<Double>, _ targets: Tensor<Double>) throws -> Tensor<Double> {
        let (n, N) = (features.shape[0], features.shape[1])
        if N >= n {
            let gram = Tensor.matmul(features, features, transposeB: true)  // Φ Φᵀ, [n, n]
            return Tensor.matmul(features, try gram.choleskyFactor().choleskySolve(targets), transposeA: true)
        }
        let gram = Tensor.matmul(features, features, transposeA: true)  // Φᵀ Φ, [N, N]
        return try gram.choleskyFactor().choleskySolve(Tensor.matmul(features, targets, transposeA: true))
    }

    /// Two points at a time give the files of one at a time, byte for byte (timings aside), in the same order.
    @Test func featurePointsSideBySideGiveTheSameResults() throws {
        let root = try makeTemporaryDirectory("double-descent-features-jobs")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = DoubleDescentFeaturesConfiguration()
        configuration.bandwidth = 2
        configuration.trainSizes = [20, 40]
        configuration.featureCounts = [10, 40, 200]
        configuration.replicates = 2
        let (train, test) = Self.blobImages()
        var results: [[String: String]] = []
        for jobs in [1, 2] {
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent("jobs-\(jobs)"))
            var study = DoubleDescentFeaturesStudy(configuration: configuration, directory: directory, train: train, test: test)
            study.jobs = jobs
            #expect(try study.run().map(\.point) == configuration.points)
            try DoubleDescentFeaturesReport(directory: directory).build()
            results.append(try comparableResults(of: directory))
        }
        #expect(results[0].keys.sorted() == results[1].keys.sorted() && results[0].keys.count(where: { $0.contains("/N-") }) == 6)
        for (path, contents) in results[0] { #expect(results[1][path] == contents, "\(path) differs with two jobs") }
    }

    @Test func studyFitsAgreeWithTheNormalEquationsAndResume() throws {
        let root = try makeTemporaryDirectory("double-descent-features")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = DoubleDescentFeaturesConfiguration()
        configuration.bandwidth = 2
        configuration.trainSizes = [40]
        configuration.featureCounts = [10, 40, 200]
        configuration.replicates = 2
        let (train, test) = Self.blobImages()
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = DoubleDescentFeaturesStudy(configuration: configuration, directory: directory, train: train, test: test)
        let records = try study.run()
        #expect(records.map(\.point) == configuration.points)

        // Every fit against an independent solve of the same features.
        let indices = study.trainingIndices(size: 40)
        let points = train.subset(indices), targets = Tensor<Double>.oneHot(points.labels, classes: 3)
        let testTargets = Tensor<Double>.oneHot(test.labels, classes: 3)
        for record in records {
            var ensemble = Tensor<Double>(zeros: [50, 3])
            for fit in record.fits {
                let map = study.featureMap(replicate: fit.replicate, featureCount: record.point.featureCount)
                let features = map.features(points.images)
                let coefficients = try Self.normalEquationSolution(features, targets)
                let trainPredictions = Tensor.matmul(features, coefficients), testPredictions = Tensor.matmul(map.features(test.images), coefficients)
                ensemble += testPredictions * 0.5
                let tolerance = 1e-6 * max(1, fit.coefficientNorm)
                #expect(abs(fit.coefficientNorm - coefficients.norm()) < tolerance, "\(record.point.name)")
                #expect(abs(fit.testSquaredLoss - (testPredictions - testTargets).squared().sum().scalar / 50) < 1e-6 * max(1, fit.testSquaredLoss))
                #expect(abs(fit.trainSquaredLoss - (trainPredictions - targets).squared().sum().scalar / 40) < 1e-8)
                #expect(fit.testError == classificationError(testPredictions, labels: test.labels))
                #expect(fit.rank == min(40, record.point.featureCount))
                #expect(fit.cutoff == Double(max(40, record.point.featureCount)) * Double.ulpOfOne)
                if record.point.featureCount >= 40 { #expect(fit.trainError == 0 && fit.trainSquaredLoss < 1e-12) }
            }
            #expect(record.ensembleTestError == classificationError(ensemble, labels: test.labels))
            #expect(abs(record.ensembleTestSquaredLoss - (ensemble - testTargets).squared().sum().scalar / 50) < 1e-6 * max(1, record.ensembleTestSquaredLoss))
        }
        // Replicates are different draws.
        #expect(records[0].fits[0].coefficientNorm != records[0].fits[1].coefficientNorm)
        #expect(try RunStore.readJSON([Int].self, from: directory.appendingPathComponent("n-40/training-indices.json")) == indices)

        try DoubleDescentFeaturesReport(directory: directory).build()
        let before = try contentsOfFiles(under: directory)
        for name in ["double-descent.csv", "fits.csv", "test-error.svg", "squared-loss.svg", "norm.svg", "index.html"] { #expect(before["/" + name] != nil) }
        #expect(String(decoding: before["/test-error.svg"]!, as: UTF8.self).contains("N = n = 40"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("n-40/N-40.json"))
        var skipped = 0, fitted: [String] = []
        try study.run { event in
            if case let .stageFinished(name, _, wasSkipped) = event { if wasSkipped { skipped += 1 } else { fitted.append(name) } }
        }
        #expect(skipped == 2 && fitted == ["n = 40, N = 40"])
        try DoubleDescentFeaturesReport(directory: directory).build()
        let after = try contentsOfFiles(under: directory)
        for (name, data) in before where name.hasSuffix(".svg") || name.hasSuffix("training-indices.json") {
            #expect(after[name] == data, "\(name) changed")
        }
    }

    @Test func sampleWiseSweepPutsTrainingImagesOnTheAxis() throws {
        let root = try makeTemporaryDirectory("double-descent-sample-wise")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = DoubleDescentFeaturesConfiguration()
        configuration.trainSizes = [20, 60]
        configuration.featureCounts = [30]
        configuration.replicates = 1
        #expect(!configuration.isModelWise && configuration.label.contains("sample-wise"))
        let (train, test) = Self.blobImages()
        let directory = try RunStore.open(configuration, precision: "float32", under: root)
        let records = try DoubleDescentFeaturesStudy<Float>(
            configuration: configuration, directory: directory,
            train: LabeledImages(images: Tensor<Float>(shape: train.images.shape, scalars: train.images.scalars.map(Float.init)), labels: train.labels, height: 3, width: 3, classCount: 3),
            test: LabeledImages(images: Tensor<Float>(shape: test.images.shape, scalars: test.images.scalars.map(Float.init)), labels: test.labels, height: 3, width: 3, classCount: 3)
        ).run()
        #expect(records.map(\.point.trainSize) == [20, 60] && records.allSatisfy { $0.precision == "float32" })
        // NumPy's default cutoff in the study's own precision.
        #expect(records.map { $0.fits[0].cutoff } == [30, 60].map { Double(Float($0) * Float.ulpOfOne) })
        #expect(records[0].fits[0].trainError == 0 && records[1].fits[0].rank == 30)
        let nested = try RunStore.readJSON([Int].self, from: directory.appendingPathComponent("n-20/training-indices.json"))
        #expect(Set(nested).isSubset(of: Set(try RunStore.readJSON([Int].self, from: directory.appendingPathComponent("n-60/training-indices.json")))))
        try DoubleDescentFeaturesReport(directory: directory).build()
        let svg = try String(contentsOf: directory.appendingPathComponent("test-error.svg"), encoding: .utf8)
        #expect(svg.contains("training images n") && svg.contains("n = N = 30"))
    }

    @Test func aStatedCutoffTruncatesLikeAnEigensolverWould() throws {
        let root = try makeTemporaryDirectory("double-descent-cutoff")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = DoubleDescentFeaturesConfiguration()
        configuration.bandwidth = 2
        configuration.trainSizes = [40]
        configuration.featureCounts = [40]
        configuration.replicates = 1
        configuration.cutoff = 0.02
        let (train, test) = Self.blobImages()
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = DoubleDescentFeaturesStudy(configuration: configuration, directory: directory, train: train, test: test)
        let fit = try study.run()[0].fits[0]
        // Independently: Φ Φᵀ = U diag(s²) Uᵀ; keep s > 0.02 s_max; A = Φᵀ U_k diag(1/s²) U_kᵀ Y.
        let points = train.subset(study.trainingIndices(size: 40))
        let features = study.featureMap(replicate: 0, featureCount: 40).features(points.images)
        let eigen = try Tensor.matmul(features, features, transposeB: true).symmetricEigendecomposition()
        let largest = eigen.values.scalars.max()!
        let kept = eigen.values.scalars.indices.filter { eigen.values.scalars[$0] > 0.02 * 0.02 * largest }
        #expect(kept.count < 40 && fit.rank == kept.count && fit.cutoff == 0.02)
        let vectors = eigen.vectors.gathering(kept, alongAxis: 1)
        let inverse = Tensor(kept.map { 1 / eigen.values.scalars[$0] })
        let targets = Tensor<Double>.oneHot(points.labels, classes: 3)
        let coefficients = Tensor.matmul(features, Tensor.matmul(vectors * inverse, Tensor.matmul(vectors, targets, transposeA: true)), transposeA: true)
        #expect(abs(fit.coefficientNorm - coefficients.norm()) < 1e-6 * coefficients.norm())
        let trainPredictions = Tensor.matmul(features, coefficients)
        #expect(abs(fit.trainSquaredLoss - (trainPredictions - targets).squared().sum().scalar / 40) < 1e-8 && fit.trainSquaredLoss > 1e-6)
    }

    @Test func featuresConfigurationRefusesImpossibleSweeps() {
        func message(_ change: (inout DoubleDescentFeaturesConfiguration) -> Void) -> String {
            var configuration = DoubleDescentFeaturesConfiguration()
            change(&configuration)
            do { try configuration.validate(trainCount: 500) } catch { return String(describing: error) }
            return ""
        }
        #expect(message { _ in } .contains("--train-sizes"))  // 1,000 of 500 images
        #expect(message { $0.trainSizes = [100]; $0.featureCounts = [10, 10] }.contains("listed twice"))
        #expect(message { $0.trainSizes = [100]; $0.cutoff = 1 }.contains("--cutoff"))
        #expect(message { $0.trainSizes = [100]; $0.replicates = 0 }.contains("--replicates"))
        #expect(message { $0.trainSizes = [100] } == "")
        #expect(DoubleDescentFeaturesConfiguration().points.count == 17)
    }

    // MARK: Networks

    @Test func logSpacedEvaluationsFallWhereTheyShould() throws {
        #expect(TrainingConfiguration.logSpacedIterations(perDecade: 8, through: 100) == [1, 2, 3, 4, 6, 7, 10, 13, 18, 24, 32, 42, 56, 75, 100])
        #expect(TrainingConfiguration.logSpacedIterations(perDecade: 1, through: 250) == [1, 10, 100, 250])
        var configuration = blobTraining(steps: 45)
        configuration.evaluationsPerDecade = 4
        let data = blobData(configuration)(3)
        let directory = try makeTemporaryDirectory("log-spaced")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Trainer(configuration: configuration, data: data, directory: directory).run()
        let steps = try RunStore.readJSONLines(EvaluationRecord.self, from: directory.appendingPathComponent("metrics.jsonl"))
            .filter { $0.split == "test" }.map(\.step)
        #expect(steps == [0, 1, 2, 3, 6, 10, 18, 32, 45])
    }

    @Test func aRunResumesFromItsLatestPeriodicCheckpointToTheSameResult() throws {
        var configuration = blobTraining(steps: 40)
        configuration.evaluationsPerDecade = 5
        let data = blobData(configuration)(3)
        let root = try makeTemporaryDirectory("periodic-checkpoints")
        defer { try? FileManager.default.removeItem(at: root) }
        let whole = root.appendingPathComponent("whole"), interrupted = root.appendingPathComponent("interrupted")
        try FileManager.default.createDirectory(at: whole, withIntermediateDirectories: true)
        var trainer = try Trainer(configuration: configuration, data: data, directory: whole)
        trainer.resumeCheckpointEvery = 15
        var checkpointsSeen: [[String]] = []
        try trainer.run { progress in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: whole.path))?.filter { $0.hasPrefix("checkpoint-") }.sorted() ?? []
            checkpointsSeen.append(names)
            // What an interruption after iteration 30 leaves on disk.
            if progress.iteration == 30 { try? FileManager.default.copyItem(at: whole, to: interrupted) }
        }
        // Only the latest periodic checkpoint is kept, and none once the run has finished.
        #expect(checkpointsSeen[14] == ["checkpoint-15it.safetensors"] && checkpointsSeen[29] == ["checkpoint-30it.safetensors"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: whole.path).filter { $0.hasPrefix("checkpoint-") } == ["checkpoint-40it.safetensors"])

        var resumed = try Trainer(configuration: configuration, data: data, directory: interrupted)
        resumed.resumeCheckpointEvery = 15
        let summary = try resumed.run().summary
        #expect(summary.resumedFrom == 30)
        for name in ["metrics.jsonl", "final.safetensors", "checkpoint-40it.safetensors"] {
            #expect(try Data(contentsOf: whole.appendingPathComponent(name)) == Data(contentsOf: interrupted.appendingPathComponent(name)), "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("checkpoint-30it.safetensors").path))
        configuration.evaluationsPerDecade = 0
        #expect(throws: TrainingError.self) { try Trainer(configuration: configuration, data: data, directory: nil).run() }
    }

    @Test func splitsWithTheSameImagesShareAForwardPassAndKeepTheirOrder() throws {
        let configuration = blobTraining(steps: 20)
        let data = blobData(configuration)(3)
        var trainer = try Trainer(configuration: configuration, data: data, directory: nil)
        let test = data.test
        let corrupted = LabeledImages(
            images: test.images, labels: test.labels.map { ($0 + 1) % 3 }, channels: test.channels, height: test.height, width: test.width,
            classCount: 3)
        trainer.extraEvaluationSplits = [("train", data.train), ("test-corrupted", corrupted)]
        let state = try trainer.run().checkpoint
        let records = trainer.evaluate(state, iteration: 20, perEpoch: 10)
        #expect(records.map(\.split) == ["validation", "test", "train", "test-corrupted"])
        // Each against cross-entropy and accuracy computed here from the logits.
        let splits = [data.validation, data.test, data.train, corrupted]
        for (record, split) in zip(records, splits) {
            let logits = Self.rows(trainer.model.logits(split.images, parameters: state.parameters, buffers: state.buffers))
            var loss = 0.0, correct = 0.0
            for (row, label) in zip(logits, split.labels) {
                let top = row.max()!
                loss += top + Foundation.log(row.map { Foundation.exp($0 - top) }.reduce(0, +)) - row[label]
                correct += row.firstIndex(of: top) == label ? 1 : 0
            }
            #expect(abs(record.loss - loss / Double(split.count)) < 1e-9 && abs(record.accuracy - correct / Double(split.count)) < 1e-12, "\(record.split)")
        }
    }

    static func blobSweep(replicates: Int = 2) -> DoubleDescentNetworksConfiguration {
        var training = blobTraining(steps: 40)
        training.widths = [4]
        training.validationCount = 0
        training.evaluationsPerDecade = 6
        var configuration = DoubleDescentNetworksConfiguration(training: training, widths: [2, 16, 64])
        configuration.labelNoise = 0.3
        configuration.replicates = replicates
        return configuration
    }

    @Test func widthSweepIsTheSameOnOneOrTwoThreadsAndResumes() throws {
        let root = try makeTemporaryDirectory("double-descent-networks")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = Self.blobSweep()
        var results: [[String: Data]] = []
        for jobs in [1, 2] {
            let directory = root.appendingPathComponent("jobs-\(jobs)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try ResultFiles.writeJSON(
                StoredConfiguration(experiment: DoubleDescentNetworksConfiguration.experimentName, precision: "float64", configuration: configuration),
                to: directory.appendingPathComponent("config.json"))
            var study = DoubleDescentNetworksStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
            study.jobs = jobs
            let summaries = try study.run()
            #expect(summaries.count == 6 && summaries.allSatisfy { $0.iterations == 40 })
            results.append(try contentsOfFiles(under: directory).filter { $0.key.hasSuffix("metrics.jsonl") || $0.key.hasSuffix("final.safetensors") })
        }
        #expect(results[0].count == 12 && results[0] == results[1])

        // Every evaluation measures the noisy training split, the clean test split and the corrupted test split.
        let directory = root.appendingPathComponent("jobs-2")
        let metrics = try RunStore.readJSONLines(EvaluationRecord.self, from: directory.appendingPathComponent("replicate-1/width-16/metrics.jsonl"))
        #expect(Set(metrics.map(\.split)) == ["train", "test", "test-corrupted", "train-batches"])
        #expect(metrics.filter { $0.split == "test" }.map(\.step) == [0] + TrainingConfiguration.logSpacedIterations(perDecade: 6, through: 40))

        let summaries = try DoubleDescentNetworksReport(directory: directory).build()
        #expect(summaries.map(\.width) == [2, 16, 64] && summaries.allSatisfy { $0.runs == 2 })
        // mlp 6-H-3: 6H + H + 3H + 3 parameters.
        #expect(summaries.map(\.parameters) == [2, 16, 64].map { 10 * $0 + 3 })
        let sweep = try RunStore.readJSON(NetworkSweepSummary.self, from: directory.appendingPathComponent("summary.json"))
        #expect(sweep.widths.map(\.width) == [2, 16, 64])
        #expect(sweep.widthFittingToTenPercent == DoubleDescentNetworksReport.interpolationThreshold(summaries)?.width)
        for name in ["runs.csv", "networks.csv", "curves.csv", "summary.json", "test-error.svg", "epoch-wise-test.svg", "epoch-wise-train.svg", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let before = try contentsOfFiles(under: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("replicate-0/width-64/summary.json"))
        var trained: [String] = []
        var study = DoubleDescentNetworksStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.jobs = 2
        try study.run { event in if case let .stageFinished(name, _, skipped) = event, !skipped { trained.append(name) } }
        #expect(trained == ["replicate 0 · width 64"])
        try DoubleDescentNetworksReport(directory: directory).build()
        let after = try contentsOfFiles(under: directory)
        for name in ["/networks.csv", "/curves.csv", "/test-error.svg", "/epoch-wise-test.svg"] { #expect(after[name] == before[name], "\(name)") }
    }

    @Test func thresholdsAreReadFromTheSummaries() {
        func summary(_ width: Int, parameters: Int, train: Double) -> NetworkWidthSummary {
            NetworkWidthSummary(width: width, parameters: parameters, runs: 1, trainError: Spread([train]), testError: Spread([20]),
                                corruptedTestError: Spread([30]), bestTestError: Spread([18]))
        }
        let sweep = [summary(4, parameters: 1_000, train: 40), summary(16, parameters: 4_000, train: 12), summary(64, parameters: 16_000, train: 3),
                     summary(256, parameters: 64_000, train: 0)]
        #expect(DoubleDescentNetworksReport.interpolationThreshold(sweep)?.width == 64)
        #expect(DoubleDescentNetworksReport.classicalMinimumAndPeak(sweep) == nil)  // every test error is 20%: no U
        var u = sweep
        u[0].testError = Spread([50]); u[1].testError = Spread([25]); u[2].testError = Spread([31]); u[3].testError = Spread([22])
        #expect(DoubleDescentNetworksReport.classicalMinimumAndPeak(u).map { [$0.minimum.width, $0.peak.width] } == [16, 64])
        // 8,000 parameters lie halfway (in logs) between widths 16 and 64: width 32.
        #expect(abs(DoubleDescentNetworksReport.width(atParameters: 8_000, sweep)! - 32) < 1e-9)
        #expect(DoubleDescentNetworksReport.width(atParameters: 100_000, sweep) == nil)
    }

    @Test func networksConfigurationRefusesWhatItCannotSweep() {
        func message(_ change: (inout DoubleDescentNetworksConfiguration) -> Void) -> String {
            var configuration = DoubleDescentNetworksConfiguration()
            change(&configuration)
            do { try configuration.validate() } catch { return String(describing: error) }
            return ""
        }
        #expect(message { _ in } == "")
        #expect(message { $0.training.model = "lenet-5" }.contains("no single width"))
        #expect(message { $0.widths = [4, 4] }.contains("listed twice"))
        #expect(message { $0.labelNoise = 1 }.contains("--label-noise"))
        var mcnn = DoubleDescentNetworksConfiguration()
        mcnn.training.model = "mcnn"
        #expect(mcnn.training(width: 6, replicate: 2).width == 6 && mcnn.training(width: 6, replicate: 2).seed == 2)
        #expect(DoubleDescentNetworksConfiguration().training(width: 48, replicate: 0).widths == [48])
    }

    // MARK: Support

    @Test func concurrentJobsRunEachOnceAndStopAtTheFirstError() throws {
        struct Failure: Error {}
        let seen = Mutex<[Int]>([])
        try runConcurrently(count: 50, threads: 3) { index in seen.withLock { $0.append(index) } }
        #expect(seen.withLock { $0.sorted() } == Array(0..<50))
        let started = Mutex<Int>(0)
        #expect(throws: Failure.self) {
            try runConcurrently(count: 1_000, threads: 2) { index in
                started.withLock { $0 += 1 }
                if index == 0 { throw Failure() }
                usleep(2_000)
            }
        }
        // The other thread finishes the job it holds and perhaps a few more, never the 999 left (2 s).
        #expect(started.withLock { $0 } < 100)
        // Threads are joined before it returns: many short calls in a row.
        for _ in 0..<2_000 { try runConcurrently(count: 3, threads: 2) { _ in } }
    }

    @Test func verticalLinesAreDrawnAndWidenTheAxis() {
        let plot = LinePlot(
            title: "t", x: PlotAxis("x", scale: .logarithmic), y: PlotAxis("y"),
            series: [PlotSeries("s", points: [PlotPoint(x: 10, y: 1), PlotPoint(x: 100, y: 2)])],
            verticalLines: [PlotVerticalLine(x: 1_000, label: "N = n")])
        #expect(plot.domains.x.upperBound >= 1_000 && plot.svg().contains(">N = n</text>") && plot.svg().contains("stroke-dasharray=\"3 3\""))
    }
}
