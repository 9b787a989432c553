import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamExperiments

@Suite("Fitting random labels")
struct RandomizeTests {
    @Test func conditionsParseAndPrintAsOnTheCommandLine() throws {
        for text in ["true-labels", "corrupt:0.4", "corrupt-incorrect:0.15", "random-labels", "shuffled-pixels", "random-pixels", "gaussian", "corrupt:1", "corrupt:0"] {
            let condition = try #require(RandomizationCondition(text))
            #expect(condition.description == text)
            let decoded = try JSONDecoder().decode(RandomizationCondition.self, from: try JSONEncoder().encode(condition))
            #expect(decoded == condition)
        }
        for bad in ["corrupt", "corrupt:1.5", "corrupt:-0.1", "random-labels:0.3", "noise", "corrupt:x"] {
            #expect(RandomizationCondition(bad) == nil, "\(bad)")
        }
        #expect(RandomizationCondition("corrupt:0.4")?.labelCorruption == 0.4 && RandomizationCondition("random-labels")?.labelCorruption == 1)
        #expect(RandomizationCondition("corrupt-incorrect:0.4")?.labelCorruption == nil)
    }

    /// Blobs with many examples, for label statistics: 10 classes.
    static func manyBlobs(count: Int = 20_000) -> PreparedData<Double> {
        let blobs = SyntheticClassification.gaussianBlobs(count: count + 1_000, classCount: 10, dimensions: 4, separation: 3, seed: 4, as: Double.self).data
        return PreparedData(
            fullTrain: blobs.subset(Array(0..<count)), test: blobs.subset(Array(count..<(count + 1_000))),
            configuration: DataConfiguration(validationCount: 0, normalizes: false), seed: 0)
    }

    @Test func labelCorruptionFollowsBothDefinitions() throws {
        let data = Self.manyBlobs()
        func changedFraction(_ text: String, seed: UInt64 = 1) -> (train: Double, test: Double, labels: [Int]) {
            let (result, corruptedTest) = RandomizationCondition(text)!.apply(to: data, seed: seed)
            #expect(result.train.images == data.train.images && result.test.labels == data.test.labels)
            let train = zip(result.train.labels, data.train.labels).filter { $0 != $1 }.count
            let test = zip(corruptedTest!.labels, data.test.labels).filter { $0 != $1 }.count
            return (Double(train) / Double(data.train.count), Double(test) / Double(data.test.count), result.train.labels)
        }
        // Zhang: a uniformly random class, so 0.9 p of the labels change with 10 classes.
        let zhang = changedFraction("corrupt:0.5")
        #expect(abs(zhang.train - 0.45) < 0.015 && abs(zhang.test - 0.45) < 0.05)
        // Nakkiran: always another class, so p of them change.
        #expect(abs(changedFraction("corrupt-incorrect:0.5").train - 0.5) < 0.015)
        #expect(abs(changedFraction("random-labels").train - 0.9) < 0.015)
        #expect(changedFraction("corrupt:0").train == 0)
        let uniform = Dictionary(grouping: changedFraction("random-labels").labels, by: { $0 }).mapValues { Double($0.count) / 20_000 }
        #expect(uniform.count == 10 && uniform.values.allSatisfy { abs($0 - 0.1) < 0.01 })
        // Seeded: the same seed gives the same labels, another seed others.
        #expect(changedFraction("corrupt:0.5").labels == zhang.labels && changedFraction("corrupt:0.5", seed: 2).labels != zhang.labels)
    }

    @Test func pixelConditionsKeepOrRedrawWhatTheyShould() {
        let data = Self.manyBlobs(count: 300)
        let rows = { (t: Tensor<Double>) in (0..<t.shape[0]).map { t.slice($0..<($0 + 1), alongAxis: 0).scalars } }
        // Shuffled pixels: one permutation for every image, training and test.
        let shuffled = RandomizationCondition(.shuffledPixels).apply(to: data, seed: 3).data
        #expect(shuffled.train.labels == data.train.labels)
        let permutation = (0..<4).map { j in (0..<4).first { rows(data.train.images)[0][$0] == rows(shuffled.train.images)[0][j] }! }
        #expect(Set(permutation).count == 4 && permutation != [0, 1, 2, 3])
        for (original, changed) in zip(rows(data.train.images) + rows(data.test.images), rows(shuffled.train.images) + rows(shuffled.test.images)) {
            #expect(permutation.map { original[$0] } == changed)
        }
        // Random pixels: each image keeps its own pixels in its own order.
        let random = RandomizationCondition(.randomPixels).apply(to: data, seed: 3).data
        let pairs = Array(zip(rows(data.train.images), rows(random.train.images)))
        #expect(pairs.allSatisfy { $0.sorted() == $1.sorted() })
        let orders = Set(pairs.map { original, changed in changed.map { value in original.firstIndex(of: value)! } })
        #expect(orders.count > 20)
        // Gaussian: noise with the training pixels' mean and spread.
        let gaussian = RandomizationCondition(.gaussian).apply(to: data, seed: 3).data
        func moments(_ t: Tensor<Double>) -> (Double, Double) {
            let values = t.scalars, mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
        let (mean, deviation) = moments(data.train.images), (noiseMean, noiseDeviation) = moments(gaussian.train.images)
        #expect(abs(noiseMean - mean) < 0.1 * deviation && abs(noiseDeviation / deviation - 1) < 0.1)
        #expect(gaussian.test.images != data.test.images && gaussian.train.labels == data.train.labels)
    }

    @Test func trainerStopsWhenTheTrainingSetIsFit() throws {
        let directory = try makeTemporaryDirectory("fit")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = blobTraining(steps: 400)
        configuration.evaluateEvery = TrainingDuration(iterations: 5)
        configuration.stopAtTrainingAccuracy = 0.9
        let trainer = try Trainer(configuration: configuration, data: blobData(configuration)(3), directory: directory)
        let (summary, _) = try trainer.run()
        let metrics = try RunStore.readJSONLines(EvaluationRecord.self, from: directory.appendingPathComponent("metrics.jsonl"))
        let train = metrics.filter { $0.split == "train" }
        let fit = try #require(summary.fitIteration)
        #expect(fit < 400 && summary.iterations == fit && fit % 5 == 0)
        #expect(train.last?.step == fit && train.last!.accuracy >= 0.9 && train.dropLast().allSatisfy { $0.accuracy < 0.9 })
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("final.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoint-400it.safetensors").path))
        // A target met by the first evaluation: no training at all.
        var met = configuration
        met.stopAtTrainingAccuracy = 0
        let untrained = try Trainer(configuration: met, data: blobData(met)(3), directory: nil).run().summary
        #expect(untrained.iterations == 0 && untrained.fitIteration == 0)
        // Without a target nothing changes: no training split, the whole budget.
        configuration.stopAtTrainingAccuracy = nil
        configuration.steps = TrainingDuration(iterations: 20)
        let plain = try Trainer(configuration: configuration, data: blobData(configuration)(3), directory: nil).run().summary
        #expect(plain.fitIteration == nil && plain.iterations == 20)
    }

    static func blobStudy(replicates: Int = 2) -> RandomizeConfiguration {
        var training = blobTraining(steps: 60)
        training.validationCount = 0
        training.stopAtTrainingAccuracy = 0.95
        training.evaluateEvery = TrainingDuration(iterations: 5)
        var configuration = RandomizeConfiguration(
            training: training, conditions: ["true-labels", "corrupt:0.5", "random-labels", "gaussian"].map { RandomizationCondition($0)! })
        configuration.replicates = replicates
        configuration.regularizers = [.weightDecay, .dropout]
        configuration.evaluateCorruptedTest = true
        return configuration
    }

    /// Two runs at a time give the files of one at a time, byte for byte (wall-clock fields aside).
    @Test func runsSideBySideGiveTheSameResults() throws {
        let root = try makeTemporaryDirectory("randomize-jobs")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = Self.blobStudy(replicates: 1)
        configuration.regularizers = []
        var results: [[String: String]] = []
        for jobs in [1, 2] {
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent("jobs-\(jobs)"))
            var study = RandomizeStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
            study.jobs = jobs
            #expect(try study.run().count == 4)
            results.append(try comparableResults(of: directory))
        }
        #expect(results[0].keys.sorted() == results[1].keys.sorted() && results[0].keys.count(where: { $0.hasSuffix("final.safetensors") }) == 4)
        for (path, contents) in results[0] { #expect(results[1][path] == contents, "\(path) differs with two jobs") }
    }

    @Test func studyResumesAndReportsTheFigures() throws {
        let root = try makeTemporaryDirectory("randomize")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = Self.blobStudy()
        #expect(configuration.runs.count == 4 + 3 * 2)
        #expect(configuration.training(with: [.weightDecay, .dropout]).optimizer.weightDecay == Regularizer.weightDecayValue)
        #expect(configuration.training(with: [.dropout]).dropout == Regularizer.dropoutRate)
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = RandomizeStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
        let summaries = try study.run()
        #expect(summaries.count == 2 * 10)
        let summary = try RandomizeReport(directory: directory).build()
        #expect(summary.map(\.condition) == configuration.conditions && summary.allSatisfy { $0.runs == 2 })
        let truth = summary[0]
        #expect(truth.fitted == 2 && truth.slowdown.mean == 1)
        let table = try String(contentsOf: directory.appendingPathComponent("regularization.csv"), encoding: .utf8)
        #expect(table.split(separator: "\n").count == 1 + 4 * 2)  // none, each alone, both; true and random labels
        let runs = try String(contentsOf: directory.appendingPathComponent("runs.csv"), encoding: .utf8)
        #expect(runs.split(separator: "\n").count == 1 + 20)
        let files = try contentsOfFiles(under: directory)
        for name in ["training-loss.svg", "slowdown.svg", "test-error.svg", "index.html", "randomize.csv", "curves.csv", "summary.json"] {
            #expect(files["/" + name] != nil, "\(name)")
        }
        // Random labels are measured against the true test labels, and against corrupted ones too.
        let curves = try String(contentsOf: directory.appendingPathComponent("curves.csv"), encoding: .utf8)
        #expect(curves.contains(",test-corrupted,") && curves.contains(",train,"))

        // Delete one run as if killed: only it trains again, and the report comes out identical.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("replicate-1/corrupt-0.5"))
        var trained: [String] = []
        try study.run { event in if case let .stageFinished(name, _, skipped) = event, !skipped { trained.append(name) } }
        #expect(trained == ["replicate 1 · corrupt:0.5"])
        try RandomizeReport(directory: directory).build()
        let after = try contentsOfFiles(under: directory)
        for name in ["/randomize.csv", "/regularization.csv", "/curves.csv", "/training-loss.svg", "/slowdown.svg", "/test-error.svg"] {
            #expect(after[name] == files[name], "\(name) changed")
        }
    }

    @Test func impossibleStudiesAreRefused() {
        var configuration = Self.blobStudy()
        configuration.conditions = []
        #expect(throws: ExperimentError.self) { try configuration.validate() }
        configuration = Self.blobStudy()
        configuration.conditions.append(RandomizationCondition(.trueLabels))
        #expect(throws: ExperimentError.self) { try configuration.validate() }
        configuration = Self.blobStudy()
        configuration.training.model = "lenet-5"
        #expect(throws: ExperimentError.self) { try configuration.validate() }
    }
}

@Suite("Memorization construction")
struct MemorizationTests {
    @Test func theNetworkFitsArbitraryLabelsExactly() throws {
        var random = RandomGenerator(seed: 11).stream("points")
        let points = Tensor<Double>.randomUniform([300, 20], using: &random)
        let targets = (0..<300).map { _ in Double(random.nextInt(below: 10)) }
        let network = try MemorizingNetwork.construct(inputs: points, targets: targets, seed: 2)
        #expect(network.weightCount == 2 * 300 + 20)
        #expect(zip(network.biases, network.biases.dropFirst()).allSatisfy { $0 < $1 })
        // Evaluated as an ordinary Dense-ReLU-Dense model, and by the formula directly.
        let outputs = network.outputs(points, inputShape: [1, 4, 5])
        let rows = (0..<300).map { points.slice($0..<($0 + 1), alongAxis: 0).scalars }
        for (i, x) in rows.enumerated() {
            let projection = zip(x, network.direction).map { $0 * $1 }.reduce(0, +)
            let direct = zip(network.biases, network.outputWeights).map { b, w in w * max(projection - b, 0) }.reduce(0, +)
            #expect(abs(direct - targets[i]) < 1e-6)
            #expect(abs(outputs[i] - targets[i]) < 1e-6)
        }
    }

    @Test func duplicatePointsWithTwoLabelsAreNamed() {
        let points = Tensor<Double>(rows: [[0, 1], [1, 0], [0, 1]])
        #expect {
            try MemorizingNetwork.construct(inputs: points, targets: [1, 2, 3], seed: 0)
        } throws: { error in
            String(describing: error).contains("points 0 and 2") || String(describing: error).contains("points 2 and 0")
        }
    }
}
