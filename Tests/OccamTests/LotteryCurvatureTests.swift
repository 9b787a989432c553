import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

/// Two pruning levels with both controls, 2 replicates, every network's curvature over its surviving weights.
private func curvatureLotteryConfiguration(curvature: Bool = true) -> LotteryConfiguration {
    var configuration = LotteryConfiguration(training: blobTraining())
    configuration.levels = 2
    configuration.rates = PruningRates(rate: 0.4, outputRate: 0.2)
    configuration.replicates = 2
    if curvature {
        var sweep = SweepCurvature()
        (sweep.samples, sweep.options.top, sweep.options.traceProducts, sweep.options.tolerance) = (60, 6, 9, 1e-10)
        configuration.curvature = sweep
    }
    return configuration
}

@Suite("occam lottery --curvature: tickets' and controls' curvature over their surviving weights")
struct LotteryCurvatureTests {
    @Test func eachNetworksEigenvaluesAreThoseOfTheFullGGNRestrictedToItsSurvivingWeights() throws {
        let configuration = curvatureLotteryConfiguration()
        let root = try makeTemporaryDirectory("lottery-curvature")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let data = blobData(configuration.training)
        try LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: data).run()
        for replicate in 0..<2 {
            let train = try data(configuration.seed(ofReplicate: replicate)).train
            let images = train.subset(Array(0..<60))
            for level in 0...2 {
                for network in configuration.networks(atLevel: level) {
                    let stage = directory.appendingPathComponent("replicate-\(replicate)/level-\(level)/\(network.rawValue)")
                    let stored = try RunStore.readJSON(NetworkCurvature.self, from: stage.appendingPathComponent(SweepCurvature.fileName))
                    let final = try TrainingCheckpoint<Double>.read(from: stage.appendingPathComponent("final.safetensors"))
                    // The dense GGN over every weight (no mask), then the rows and columns of the surviving weights.
                    let model: Model<Double> = try configuration.training.buildModel(inputShape: images.imageShape, classes: images.classCount)
                    let full = EmpiricalRisk(
                        model: model, parameters: final.parameters, buffers: final.buffers, inputs: images.images, labels: images.labels,
                        loss: configuration.training.loss, subspace: try ParameterSubspace(of: final.parameters, selection: .weights))
                    let matrix = denseMatrix(of: LossCurvature(.ggn, of: full))
                    let kept = full.subspace.blocks.flatMap { block -> [Int] in
                        let mask = final.mask?[block.name]
                        return (0..<block.count).filter { mask == nil || mask!.scalars[$0] != 0 }.map { block.offset + $0 }
                    }
                    #expect(stored.dimension == kept.count)
                    #expect(stored.dimension == (final.mask?.counts.reduce(0) { $0 + $1.kept } ?? full.subspace.dimension))
                    var restricted = Tensor<Double>(zeros: [kept.count, kept.count])
                    for (i, a) in kept.enumerated() { for (j, b) in kept.enumerated() { restricted[i, j] = matrix[a, b] } }
                    let expected = try restricted.symmetricEigendecomposition().values.scalars.reversed().prefix(6)
                    #expect(stored.eigenvalues.count == 6)
                    for (measured, exact) in zip(stored.eigenvalues, expected) {
                        #expect(abs(measured - exact) <= 1e-8 * expected.first!, "r\(replicate) level \(level) \(network): \(measured) vs \(exact)")
                    }
                    #expect(stored.samples == 60)
                }
            }
        }
    }

    @Test func theReportShowsCurvatureBesideAccuracyAndALostMeasurementAloneIsRedone() throws {
        let configuration = curvatureLotteryConfiguration()
        let root = try makeTemporaryDirectory("lottery-curvature-report")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = LotteryTicketStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        try study.run()
        let summaries = try LotteryReport(directory: directory).build()
        #expect(summaries.count == 1 + 2 * 3)
        for summary in summaries {
            let curvature = try #require(summary.curvature)
            #expect(curvature.effectiveDimensionality.count == 2 && curvature.topEigenvalue.mean > 0)
        }
        let levels = try String(contentsOf: directory.appendingPathComponent("lottery.csv"), encoding: .utf8).split(separator: "\n")
        #expect(levels[0].hasSuffix("top_eigenvalue_mean,top_eigenvalue_std,trace_mean,trace_std,neff_mean,neff_std,log_evidence_mean,log_evidence_std"))
        let stages = try String(contentsOf: directory.appendingPathComponent("stages.csv"), encoding: .utf8).split(separator: "\n")
        #expect(stages.count == 1 + 2 * 7 && stages[0].contains("measured_coordinates,top_eigenvalue,trace,neff,log_evidence"))
        for name in ["sharpness.svg", "effective-dimensionality.svg", "evidence.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("Curvature of tickets and controls") && html.contains("against the random reinitialization at the same level"))

        let lost = directory.appendingPathComponent("replicate-1/level-2/random-pruning").appendingPathComponent(SweepCurvature.fileName)
        let before = try RunStore.readJSON(NetworkCurvature.self, from: lost)
        try FileManager.default.removeItem(at: lost)
        var done: [String] = []
        try study.run { event in if case .stageFinished(let name, _, false) = event { done.append(name) } }
        #expect(done == ["replicate 1 · level 2 · random pruning · curvature"])
        #expect(try RunStore.readJSON(NetworkCurvature.self, from: lost).eigenvalues == before.eigenvalues)
    }

    @Test func withoutCurvatureNothingChangesAndImpossibleSampleCountsAreRefused() throws {
        let plain = curvatureLotteryConfiguration(curvature: false)
        #expect(!String(decoding: try RunStore.canonicalJSON(plain), as: UTF8.self).contains("curvature"))
        #expect(plain.stageCount == plain.trainingRunCount)
        var tooMany = curvatureLotteryConfiguration()
        tooMany.curvature!.samples = 161
        let model: Model<Double> = try tooMany.training.buildModel(inputShape: [1, 1, 6], classes: 3)
        #expect(tooMany.stageCount == 2 * tooMany.trainingRunCount)
        #expect(throws: ExperimentError.self) { try tooMany.validate(model: model, trainCount: 160) }
        tooMany.curvature!.samples = 160
        try tooMany.validate(model: model, trainCount: 160)
    }
}
