import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor
import Testing

private struct Interrupted: Error {}

/// Two pruning levels with both controls, rewinding to iteration 4 of the dense run (also ReproduceTests's tiny lottery run).
func lotteryConfiguration() -> LotteryConfiguration {
    var configuration = LotteryConfiguration(training: blobTraining())
    configuration.levels = 2
    configuration.rates = PruningRates(rate: 0.4, outputRate: 0.2)
    configuration.rewind = TrainingDuration(iterations: 4)
    return configuration
}

func runLotteryStudy(_ configuration: LotteryConfiguration, in root: URL, events: (StudyEvent) throws -> Void = { _ in }) throws -> URL {
    let directory = try RunStore.open(configuration, precision: "float64", under: root)
    try LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training)).run(events: events)
    return directory
}

@Suite("Lottery study: masks, rewinding, controls, resumption and the report")
struct LotteryStudyTests {
    @Test func everyCheckpointKeepsPrunedWeightsAtZeroWithTheConfiguredSparsity() throws {
        let root = try makeTemporaryDirectory("lottery")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = lotteryConfiguration()
        let directory = try runLotteryStudy(configuration, in: root)
        func stage(_ level: Int, _ network: LotteryNetwork) -> URL {
            directory.appendingPathComponent("replicate-0/level-\(level)/\(network.rawValue)")
        }
        func final(_ level: Int, _ network: LotteryNetwork) throws -> TrainingCheckpoint<Double> {
            try TrainingCheckpoint<Double>.read(from: stage(level, network).appendingPathComponent("final.safetensors"))
        }
        var previous = try final(0, .ticket)
        #expect(previous.mask == nil)
        // The rewind point is the dense run's checkpoint at iteration 4.
        let rewound = try TrainingCheckpoint<Double>.read(from: stage(0, .ticket).appendingPathComponent("checkpoint-4it.safetensors"))
        var expectedKept = ["fc1.weight": 16 * 6, "fc2.weight": 8 * 16, "fc3.weight": 3 * 8]
        for level in 1...2 {
            let ticket = try final(level, .ticket)
            let mask = try #require(ticket.mask)
            // The ticket's mask is the magnitude pruning of the previous ticket's trained weights.
            let before = previous.mask ?? PruningMask(keepingAllOf: ParameterSet(mask.masks.names.map { ($0, previous.parameters[$0]!) }))
            #expect(mask == before.prunedByMagnitude(of: previous.parameters, strategy: .layerWise, rates: configuration.rates))
            for name in mask.masks.names {
                expectedKept[name]! -= Int(((name == "fc3.weight" ? 0.2 : 0.4) * Double(expectedKept[name]!)).rounded())
            }
            #expect(Dictionary(uniqueKeysWithValues: mask.counts.map { ($0.name, $0.kept) }) == expectedKept)
            let info = try JSONDecoder().decode(LotteryStageInfo.self, from: Data(contentsOf: stage(level, .ticket).appendingPathComponent("pruning.json")))
            #expect(info.layers == mask.counts && info.startIteration == 4)
            // The first evaluation is of the rewound weights, at iteration 4.
            let curve = try String(contentsOf: stage(level, .ticket).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            #expect(try JSONDecoder().decode(EvaluationRecord.self, from: Data(curve.split(separator: "\n")[0].utf8)).step == 4)

            let reinit = try final(level, .randomReinitialization), randomlyPruned = try final(level, .randomPruning)
            #expect(reinit.mask == mask)
            #expect(randomlyPruned.mask?.counts == mask.counts && randomlyPruned.mask != mask)
            for checkpoint in [ticket, reinit, randomlyPruned] {
                #expect(checkpoint.iteration == 30)
                for (name, tensor) in checkpoint.mask!.masks.entries {
                    let values = checkpoint.parameters[name]!.scalars
                    #expect(tensor.scalars.indices.allSatisfy { tensor.scalars[$0] != 0 || values[$0].bitPattern == 0 }, "\(name) at level \(level)")
                }
            }
            // Retraining the ticket from the rewound weights in memory reproduces the saved one exactly.
            var trainer = try Trainer(configuration: configuration.trainingConfiguration(replicate: 0, level: level),
                                      data: blobData(configuration.training)(configuration.seed(ofReplicate: 0)), directory: nil)
            (trainer.mask, trainer.initialParameters, trainer.initialBuffers, trainer.startIteration) = (mask, rewound.parameters, rewound.buffers, 4)
            #expect(try trainer.run().checkpoint.parameters == ticket.parameters)
            previous = ticket
        }
    }

    /// Two stages at a time (a level's controls beside the next ticket) give the files of one at a time, byte for
    /// byte (wall-clock fields aside), and every stage of both.
    @Test func stagesSideBySideGiveTheSameResults() throws {
        let root = try makeTemporaryDirectory("lottery-jobs")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = lotteryConfiguration()
        var directories: [URL] = []
        for jobs in [1, 2] {
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent("jobs-\(jobs)"))
            var study = LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
            study.jobs = jobs
            var concurrent = false
            try study.run { event in if case .concurrentTraining = event { concurrent = true } }
            #expect(concurrent == (jobs > 1), "jobs \(jobs): progress \(concurrent ? "named" : "plain")")
            directories.append(directory)
        }
        let one = try comparableResults(of: directories[0]), two = try comparableResults(of: directories[1])
        #expect(one.keys.sorted() == two.keys.sorted() && one.keys.count(where: { $0.hasSuffix("final.safetensors") }) == 7)
        for (path, contents) in one { #expect(two[path] == contents, "\(path) differs with two jobs") }
    }

    @Test func anInterruptedStudyResumesToTheSameResults() throws {
        let root = try makeTemporaryDirectory("lottery-resume"), other = try makeTemporaryDirectory("lottery-straight")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: other) }
        let configuration = lotteryConfiguration()
        let straight = try runLotteryStudy(configuration, in: other)

        // Stop when the fourth stage starts; then cut the third stage short as a kill during training would.
        var started = 0
        #expect(throws: Interrupted.self) {
            try runLotteryStudy(configuration, in: root) { event in
                if case .stageStarted = event { started += 1; if started == 4 { throw Interrupted() } }
            }
        }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let third = directory.appendingPathComponent("replicate-0/level-1/random-reinit")
        for name in ["summary.json", "final.safetensors"] { try FileManager.default.removeItem(at: third.appendingPathComponent(name)) }

        var skipped = 0, trained = 0
        _ = try runLotteryStudy(configuration, in: root) { event in
            if case let .stageFinished(_, _, wasSkipped) = event { if wasSkipped { skipped += 1 } else { trained += 1 } }
        }
        #expect(skipped == 2 && trained == 5)
        let resumedFiles = try contentsOfFiles(under: directory), straightFiles = try contentsOfFiles(under: straight)
        #expect(resumedFiles.keys.sorted() == straightFiles.keys.sorted())
        for (path, data) in straightFiles where path.hasSuffix(".safetensors") {
            #expect(resumedFiles[path] == data, "\(path)")
        }
    }

    @Test func theReportIsRebuiltFromTheFilesAlone() throws {
        let root = try makeTemporaryDirectory("lottery-report")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = lotteryConfiguration()
        configuration.replicates = 2
        let directory = try runLotteryStudy(configuration, in: root)
        let summaries = try LotteryReport(directory: directory).build()
        #expect(summaries.count == 7)  // the dense network, then the ticket and two controls at each of 2 levels
        #expect(summaries.allSatisfy { $0.replicates == 2 })
        #expect(summaries.first { $0.level == 2 && $0.network == .ticket }.map { abs($0.weightsRemaining - 100.0 * 96 / 248) < 0.01 } == true)
        let names = ["index.html", "metrics.jsonl", "summary.json", "lottery.csv", "stages.csv", "curves.csv", "test-accuracy.svg",
                     "early-stopping-accuracy.svg", "early-stopping-iteration.svg", "curves-ticket.svg", "curves-random-reinit.svg", "curves-random-pruning.svg"]
        let built = try names.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
        for name in names { try FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        try LotteryReport(directory: directory).build()
        #expect(try names.map { try Data(contentsOf: directory.appendingPathComponent($0)) } == built)
        let records = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(records.count == 2 * (1 + 2 * 3))
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("test-accuracy.svg") && html.contains("&quot;levels&quot; : 2"))
    }

    @Test func badConfigurationsAreRefusedWithTheOptionToChange() throws {
        var configuration = lotteryConfiguration()
        configuration.prunable = "fc9.weight"
        let parameters = ParameterSet<Double>([("fc1.weight", Tensor(zeros: [2, 2]))])
        #expect(throws: LotteryError.self) { try configuration.prunableNames(of: parameters) }
        configuration = lotteryConfiguration()
        configuration.rewind = TrainingDuration(iterations: 30)
        let root = try makeTemporaryDirectory("lottery-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: ExperimentError.self) { try runLotteryStudy(configuration, in: root) }
        configuration.rewind = TrainingDuration(iterations: 0)
        configuration.rates.rate = 1
        #expect(throws: ExperimentError.self) { try configuration.validate() }
    }
}
