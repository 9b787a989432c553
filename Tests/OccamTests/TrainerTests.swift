import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

/// A small run on Gaussian blobs: an MLP with one hidden layer of 16, Adam, 40 iterations.
private func blobRun(steps: Int = 40, optimizer: OptimizerConfiguration.Kind = .adam) -> (TrainingConfiguration, PreparedData<Double>) {
    var configuration = TrainingConfiguration()
    configuration.model = "mlp"
    configuration.widths = [16]
    configuration.validationCount = 40
    configuration.steps = TrainingDuration(iterations: steps)
    configuration.batchSize = 16
    configuration.optimizer = OptimizerConfiguration(kind: optimizer, learningRate: 0.01, momentum: optimizer == .sgd ? 0.9 : 0)
    configuration.evaluateEvery = TrainingDuration(iterations: 10)
    configuration.checkpoints = [TrainingDuration(iterations: 12)]
    configuration.seed = 5
    // One draw of blobs (the centres depend on the seed), split into training and test points.
    let blobs = SyntheticClassification.gaussianBlobs(count: 290, classCount: 3, dimensions: 6, separation: 3, seed: 1, as: Double.self).data
    let train = blobs.subset(Array(0..<200)), test = blobs.subset(Array(200..<290))
    let data = PreparedData(fullTrain: train, test: test, configuration: configuration.data, seed: configuration.seed)
    return (configuration, data)
}

private func temporaryDirectory() throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-trainer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A run killed after its configured checkpoint, resumed: trains to the end in `directory`, deletes what the killed run
/// would not have written (the final and last checkpoints, the summary; metrics of a longer, cut-short run remain),
/// and runs the same command again.
private func resumedAfterItsCheckpoint<Scalar>(
    _ configuration: TrainingConfiguration, _ data: PreparedData<Scalar>, in directory: URL
) throws -> (summary: TrainingSummary, checkpoint: TrainingCheckpoint<Scalar>) {
    _ = try Trainer(configuration: configuration, data: data, directory: directory).run()
    let last = configuration.steps.iterations(perEpoch: 1)
    for name in ["final.safetensors", "checkpoint-\(last)it.safetensors", "summary.json"] {
        try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
    }
    return try Trainer(configuration: configuration, data: data, directory: directory).run()
}

@Suite("Training: learning, checkpoints and bit-identical resumption")
struct TrainerTests {
    @Test(arguments: [OptimizerConfiguration.Kind.adam, .sgd])
    func resumingFromACheckpointIsBitIdenticalToAnUninterruptedRun(_ optimizer: OptimizerConfiguration.Kind) throws {
        let (configuration, data) = blobRun(optimizer: optimizer)
        let straight = try temporaryDirectory(), interrupted = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: interrupted) }

        let uninterrupted = try Trainer(configuration: configuration, data: data, directory: straight).run().checkpoint
        // Simulate a run killed after its checkpoint at iteration 12: only that checkpoint and the metrics of
        // a longer, cut-short run remain.
        let (summary, resumed) = try resumedAfterItsCheckpoint(configuration, data, in: interrupted)

        #expect(summary.resumedFrom == 12)
        #expect(resumed.iteration == 40)
        #expect(resumed.parameters == uninterrupted.parameters)
        #expect(resumed.optimizerState == uninterrupted.optimizerState)
        let metrics = { (directory: URL) in try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8) }
        #expect(try metrics(interrupted) == metrics(straight))
        let saved = try TrainingCheckpoint<Double>.read(from: interrupted.appendingPathComponent("final.safetensors"))
        #expect(saved.parameters == uninterrupted.parameters)
    }

    /// LeNet-5 takes its batches in two halves side by side (`Model.splitsBatchInHalves`): a resumed run still
    /// writes the same bits, and so does a run whose halves ran one after the other on one thread (as on one core, or
    /// when the second core is busy). Float, 16x16 images and batch 60: its products are large enough to be split.
    @Test func lenet5ResumesBitIdenticallyAndDoesNotDependOnTheSecondCore() throws {
        var (configuration, _) = blobRun(steps: 16, optimizer: .sgd)
        configuration.model = "lenet-5"
        configuration.batchSize = 60
        configuration.checkpoints = [TrainingDuration(iterations: 6)]
        configuration.evaluateEvery = TrainingDuration(iterations: 8)
        let blobs = SyntheticClassification.gaussianBlobs(count: 290, classCount: 3, dimensions: 256, separation: 3, seed: 1, as: Float.self).data
        func images(_ range: Range<Int>) -> LabeledImages<Float> {
            let part = blobs.subset(Array(range))
            return LabeledImages(images: part.images, labels: part.labels, channels: 1, height: 16, width: 16, classCount: 3)
        }
        let data = PreparedData(fullTrain: images(0..<200), test: images(200..<290), configuration: configuration.data, seed: configuration.seed)
        #expect(try configuration.buildModel(inputShape: [1, 16, 16], classes: 3, as: Float.self).splitsBatchInHalves(60))
        let straight = try temporaryDirectory(), interrupted = try temporaryDirectory(), oneThread = try temporaryDirectory()
        defer { for url in [straight, interrupted, oneThread] { try? FileManager.default.removeItem(at: url) } }

        let uninterrupted = try Trainer(configuration: configuration, data: data, directory: straight).run().checkpoint
        let (summary, resumed) = try resumedAfterItsCheckpoint(configuration, data, in: interrupted)
        #expect(summary.resumedFrom == 6)
        #expect(resumed.parameters == uninterrupted.parameters)

        let inTurn = try CoreSharing.$confinesThisThread.withValue(true) {
            try Trainer(configuration: configuration, data: data, directory: oneThread).run().checkpoint
        }
        #expect(inTurn.parameters == uninterrupted.parameters)
        let metrics = { (directory: URL) in try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8) }
        #expect(try metrics(oneThread) == metrics(straight))
    }

    @Test func trainingLearnsAndReportsEarlyStopping() throws {
        var (configuration, data) = blobRun(steps: 150)
        configuration.checkpoints = []
        let summary = try Trainer(configuration: configuration, data: data, directory: nil).run().summary
        #expect((summary.finalTest?.accuracy ?? 0) > 0.9)
        #expect(summary.earlyStoppingIteration != nil)
        #expect(summary.earlyStoppingTestAccuracy != nil)
    }

    @Test func checkpointsUsePyTorchNamesAndKeepPrunedWeightsExactlyZero() throws {
        let (configuration, data) = blobRun()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var trainer = try Trainer(configuration: configuration, data: data, directory: directory)
        var random = RandomGenerator(seed: 3)
        let keep = Tensor<Double>.randomBernoulli([16, 6], probability: 0.5, using: &random)
        trainer.mask = try PruningMask(ParameterSet([("fc1.weight", keep)]))
        _ = try trainer.run()

        for name in ["checkpoint-12it.safetensors", "final.safetensors"] {
            let file = try SafeTensorsFile.read(from: directory.appendingPathComponent(name))
            #expect(file.metadata["format"] == "pt")
            let weight = try file.tensor(named: "fc1.weight", as: Double.self)
            #expect(weight.shape == [16, 6])
            #expect(try file.tensor(named: "fc2.weight", as: Double.self).shape == [3, 16])
            #expect(try file.tensor(named: "mask.fc1.weight", as: Double.self) == keep)
            let moment = try file.tensor(named: "optimizer.exp_avg.fc1.weight", as: Double.self)
            for i in 0..<keep.count where keep.scalars[i] == 0 {
                #expect(weight.scalars[i].bitPattern == 0 && moment.scalars[i].bitPattern == 0)
            }
            #expect(weight.scalars.enumerated().contains { keep.scalars[$0.offset] == 1 && $0.element != 0 })
        }
    }

    @Test func resumingWithAnotherConfigurationIsRefused() throws {
        let (configuration, data) = blobRun(steps: 12)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Trainer(configuration: configuration, data: data, directory: directory).run()
        var other = configuration
        other.optimizer.learningRate = 0.02
        #expect(throws: TrainingError.self) { try Trainer(configuration: other, data: data, directory: directory).run() }
    }

    @Test func durationsParseAsOpenLTHWritesThem() {
        #expect(TrainingDuration("500it") == TrainingDuration(iterations: 500))
        #expect(TrainingDuration("2ep")?.iterations(perEpoch: 917) == 1834)
        #expect(TrainingDuration("2 epochs") == nil)
        #expect(TrainingDuration("-1it") == nil)
    }
}
