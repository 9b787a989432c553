import Foundation
import OccamData
@testable import OccamExperiments
import OccamNN
import Testing

@Suite("metrics.jsonl keeps the training loss and learning rate")
struct TrainingLogTests {
    @Test func trainingBatchesAreLoggedAtTheIntervalAndSurviveResumption() throws {
        var configuration = blobTraining(steps: 30)
        configuration.schedule = .multiStep(milestones: [15], gamma: 0.1)
        configuration.checkpoints = [TrainingDuration(iterations: 15)]
        let data = blobData(configuration)(3)
        let root = try makeTemporaryDirectory("training-log")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), resumed = root.appendingPathComponent("resumed")
        for directory in [straight, resumed] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }

        // Evaluations every 10 iterations reset the progress line's mean too: at 10, 20 and 30 it is the mean
        // of the same batches, summed in the same order.
        var trainer = try Trainer(configuration: configuration, data: data, directory: straight)
        trainer.logTrainingEvery = TrainingDuration(iterations: 10)
        var progressMeans: [Int: Double] = [:]
        try trainer.run { if $0.iteration % 10 == 0 { progressMeans[$0.iteration] = $0.trainingLoss } }
        let records = try RunStore.readJSONLines(EvaluationRecord.self, from: straight.appendingPathComponent("metrics.jsonl"))
        let logged = records.filter { $0.split == "train-batches" }
        #expect(logged.map(\.step) == [10, 20, 30] && logged.allSatisfy { $0.batches == 10 })
        #expect(logged.map(\.loss) == [10, 20, 30].map { progressMeans[$0]! })
        #expect(logged.map(\.learningRate) == [0.01, 0.001, 0.001].map { Optional($0) })
        #expect(records.filter { $0.split == "test" }.allSatisfy { $0.learningRate == nil && $0.batches == nil })

        // Stopped after the checkpoint at 15 (mid-window): the resumed run logs the same means to the last bit.
        var first = try Trainer(configuration: configuration, data: data, directory: resumed)
        first.logTrainingEvery = TrainingDuration(iterations: 10)
        try first.run()
        for name in ["final.safetensors", "checkpoint-30it.safetensors", "summary.json"] {
            try FileManager.default.removeItem(at: resumed.appendingPathComponent(name))
        }
        let window = try TrainingCheckpoint<Double>.read(from: resumed.appendingPathComponent("checkpoint-15it.safetensors")).trainingWindow
        #expect(window?.batches == 5)
        var second = try Trainer(configuration: configuration, data: data, directory: resumed)
        second.logTrainingEvery = TrainingDuration(iterations: 10)
        #expect(try second.run().summary.resumedFrom == 15)
        #expect(try Data(contentsOf: resumed.appendingPathComponent("metrics.jsonl")) == Data(contentsOf: straight.appendingPathComponent("metrics.jsonl")))
    }

    @Test func studiesPassTheIntervalToEveryRun() throws {
        let root = try makeTemporaryDirectory("training-log-study")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = LotteryConfiguration(training: blobTraining(steps: 30))
        configuration.levels = 1
        configuration.controls = []
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.logTrainingEvery = TrainingDuration(iterations: 15)
        try study.run()
        for stage in ["replicate-0/level-0/ticket", "replicate-0/level-1/ticket"] {
            let records = try RunStore.readJSONLines(EvaluationRecord.self, from: directory.appendingPathComponent(stage).appendingPathComponent("metrics.jsonl"))
            #expect(records.filter { $0.split == "train-batches" }.map(\.step) == [15, 30], "\(stage)")
        }
    }
}
