import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor
import Testing

@Suite("Linear mode connectivity: paths, barriers, copies and subnetworks")
struct ConnectivityTests {
    @Test func theBarrierIsThePathMaximumAboveTheMeanOfItsEnds() {
        #expect(abs(InterpolationPath.barrier([0.10, 0.30, 0.25, 0.20]) - 0.15) < 1e-15)
        #expect(abs(InterpolationPath.barrier([0.2, 0.1, 0.05]) - 0.075) < 1e-15)
        #expect(InterpolationPath.barrier([0.1, 0.05, 0.1]) == 0)
        #expect(InterpolationPath.alphas(count: 5) == [0, 0.25, 0.5, 0.75, 1])
    }

    @Test func thePathStartsAndEndsAtTheTwoNetworksAndInterpolatesLinearly() throws {
        let configuration = blobTraining()
        let data = blobData(configuration)(3)
        let model: Model<Double> = try configuration.buildModel(inputShape: data.train.imageShape, classes: 3)
        var random = RandomGenerator(seed: 1)
        let a = model.initialParameters(using: &random), b = model.initialParameters(using: &random)
        let middle = InterpolationPath.interpolate(a, b, alpha: 0.25)
        for name in a.names {
            let expected = a[name]!.scalars.indices.map { 0.75 * a[name]!.scalars[$0] + 0.25 * b[name]!.scalars[$0] }
            #expect(zip(middle[name]!.scalars, expected).allSatisfy { abs($0 - $1) < 1e-15 })
        }
        let none = ParameterSet<Double>()
        let path = InterpolationPath.evaluate(
            model: model, from: (a, none), to: (b, none), points: 5, train: data.train, test: data.test, loss: .crossEntropy)
        for (point, ends) in [(path.points[0], a), (path.points[4], b)] {
            let train = model.evaluate(parameters: ends, buffers: none, inputs: data.train.images, labels: data.train.labels, loss: .crossEntropy)
            let test = model.evaluate(parameters: ends, buffers: none, inputs: data.test.images, labels: data.test.labels, loss: .crossEntropy)
            #expect(point.trainError == 1 - train.accuracy && point.testError == 1 - test.accuracy && point.testLoss == test.loss)
        }
        let third = model.evaluate(parameters: InterpolationPath.interpolate(a, b, alpha: 0.5), buffers: none,
                                   inputs: data.test.images, labels: data.test.labels, loss: .crossEntropy)
        #expect(path.points[2].testError == 1 - third.accuracy)
    }

    /// Blob training split at iterations 0 and 8, with the different-initialization pair; 5 points per path.
    static func twoSpawnsAndDifferentInit() -> ConnectivityConfiguration {
        var configuration = ConnectivityConfiguration(training: blobTraining())
        configuration.spawnSteps = [TrainingDuration(iterations: 0), TrainingDuration(iterations: 8)]
        configuration.points = 5
        configuration.differentInit = true
        return configuration
    }

    @Test func copiesSplitFromTheParentAndTheReportSummarizesTheirBarriers() throws {
        let root = try makeTemporaryDirectory("connectivity")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = Self.twoSpawnsAndDifferentInit()
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = LinearModeConnectivity<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        let records = try study.run()
        #expect(records.map(\.spawnStep) == [0, 8, nil])
        #expect(records.allSatisfy { $0.path.points.count == 5 && $0.testBarrier >= 0 && $0.trainBarrier >= 0 })

        let spawn = directory.appendingPathComponent("replicate-0/spawn-8it")
        let a = try TrainingCheckpoint<Double>.read(from: spawn.appendingPathComponent("copy-a/final.safetensors"))
        let b = try TrainingCheckpoint<Double>.read(from: spawn.appendingPathComponent("copy-b/final.safetensors"))
        #expect(a.configuration.seed != b.configuration.seed && a.configuration.dataSeed == 3 && b.configuration.dataSeed == 3)
        #expect(a.parameters != b.parameters)
        // Both copies continue the parent's state at iteration 8 with their own data order.
        let parent = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent("replicate-0/parent/checkpoint-8it.safetensors"))
        var trainer = try Trainer(configuration: a.configuration, data: blobData(configuration.training)(3), directory: nil)
        (trainer.initialParameters, trainer.startIteration) = (parent.parameters, 8)
        #expect(try trainer.run().checkpoint.parameters == a.parameters)

        // The control's copy A is spawn-0it's copy A (same start, same data order), trained once.
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("replicate-0/different-init/copy-a").path))
        // A second run reads everything back; a copy trained again gets its path evaluated again.
        var evaluated: [String] = []
        let again = try study.run { event in
            if case let .stageFinished(name, _, skipped) = event, name.hasSuffix("path"), !skipped { evaluated.append(name) }
        }
        #expect(again == records && evaluated.isEmpty)
        try FileManager.default.removeItem(at: spawn.appendingPathComponent("copy-b"))
        #expect(try study.run { event in
            if case let .stageFinished(name, _, skipped) = event, name.hasSuffix("path"), !skipped { evaluated.append(name) }
        } == records)
        #expect(evaluated == ["replicate 0 · spawn 8it · path"])
        let summaries = try ConnectivityReport(directory: directory).build()
        #expect(summaries.map(\.spawnStep) == [0, 8, nil])
        #expect(abs(summaries[1].testBarrier.mean - 100 * records[1].testBarrier) < 1e-12)
        for name in ["index.html", "barriers.csv", "path.csv", "metrics.jsonl", "summary.json", "path-test-error.svg", "path-train-error.svg", "barrier.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
    }

    /// Copies trained two at a time give the files of one at a time, byte for byte (wall-clock fields aside).
    @Test func copiesSideBySideGiveTheSameResults() throws {
        let root = try makeTemporaryDirectory("connectivity-jobs")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = Self.twoSpawnsAndDifferentInit()
        var results: [[String: String]] = []
        for jobs in [1, 2] {
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent("jobs-\(jobs)"))
            var study = LinearModeConnectivity<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
            study.jobs = jobs
            #expect(try study.run().map(\.spawnStep) == [0, 8, nil])
            results.append(try comparableResults(of: directory))
        }
        // The parent and five copies (the different-init pair shares spawn 0's copy A).
        #expect(results[0].keys.sorted() == results[1].keys.sorted() && results[0].keys.count(where: { $0.hasSuffix("final.safetensors") }) == 6)
        for (path, contents) in results[0] { #expect(results[1][path] == contents, "\(path) differs with two jobs") }
    }

    @Test func aLotterySubnetworkKeepsItsMaskOnBothCopies() throws {
        let root = try makeTemporaryDirectory("connectivity-ticket")
        defer { try? FileManager.default.removeItem(at: root) }
        var lottery = LotteryConfiguration(training: blobTraining())
        lottery.levels = 1
        lottery.controls = []
        lottery.rewind = TrainingDuration(iterations: 4)
        let lotteryDirectory = try RunStore.open(lottery, precision: "float64", under: root)
        try LotteryTicketStudy<Double>(configuration: lottery, directory: lotteryDirectory, data: blobData(lottery.training)).run()
        let ticketMask = try TrainingCheckpoint<Double>.read(
            from: lotteryDirectory.appendingPathComponent("replicate-0/level-1/ticket/final.safetensors")).mask

        var configuration = ConnectivityConfiguration(training: lottery.training)
        configuration.spawnSteps = [TrainingDuration(iterations: 4)]
        configuration.points = 3
        configuration.subnetwork = LotterySubnetwork(run: lotteryDirectory.lastPathComponent, level: 1)
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        _ = try LinearModeConnectivity<Double>(
            configuration: configuration, directory: directory, lotteryDirectory: lotteryDirectory, data: blobData(configuration.training)
        ).run()
        for copy in ["copy-a", "copy-b"] {
            let final = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent("replicate-0/spawn-4it/\(copy)/final.safetensors"))
            #expect(final.mask == ticketMask)
            for (name, mask) in ticketMask!.masks.entries {
                #expect(mask.scalars.indices.allSatisfy { mask.scalars[$0] != 0 || final.parameters[name]!.scalars[$0] == 0 })
            }
        }
        configuration.spawnSteps = [TrainingDuration(iterations: 2)]
        let early = try RunStore.open(configuration, precision: "float64", under: root)
        #expect(throws: ExperimentError.self) {
            try LinearModeConnectivity<Double>(configuration: configuration, directory: early, lotteryDirectory: lotteryDirectory, data: blobData(configuration.training)).run()
        }
    }
}
