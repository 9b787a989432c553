import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis

@Suite("The Fisher trace during training")
struct FisherTraceTests {
    @Test func theEstimateMatchesTheExactTraceWithinItsStandardError() throws {
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 5, classes: 3), samples: 40, batchSize: 16)
        // Exact: the trace of the dense Fisher, built from Gauss-Newton products (no per-sample gradient).
        let fisher = denseMatrix(of: LossCurvature(.fisher, of: risk))
        let exact = TestMatrices.trace(fisher)
        let empirical = denseMatrix(of: LossCurvature(.empiricalFisher, of: risk))
        let exactEmpirical = TestMatrices.trace(empirical)

        var random = RandomGenerator(seed: 3)
        let single = FisherTrace.estimate(risk, batchSize: 16, random: &random)
        let error = try #require(single.traceStandardError)
        #expect(abs(single.trace - exact) < 3 * error, "\(single.trace) ± \(error) against \(exact)")
        // The empirical Fisher's trace uses the true labels: no randomness, so it is exact.
        #expect(abs(single.empiricalTrace - exactEmpirical) < 1e-12 * exactEmpirical)
        // Averaged over many label draws, the estimate converges on the exact trace (unbiased).
        let draws = (0..<200).map { _ in FisherTrace.estimate(risk, batchSize: 16, random: &random).trace }
        let (mean, meanError) = TraceEstimation.meanAndStandardError(draws)
        #expect(abs(mean - exact) < 3 * meanError!, "\(mean) ± \(meanError!) against \(exact)")

        // The batch gradient norm: the mean over the mini-batches (16, 16, 8) of their gradients' norms.
        let norms = [0..<16, 16..<32, 32..<40].map { batch in
            let sub = EmpiricalRisk(
                model: risk.model, parameters: risk.parameters, buffers: risk.buffers,
                inputs: risk.inputs.slice(batch, alongAxis: 0), labels: Array(risk.labels[batch]), loss: risk.loss, subspace: risk.subspace)
            return norm(sub.valueAndGradient().gradient)
        }
        #expect(abs(single.batchGradientNorm - norms.reduce(0, +) / 3) < 1e-12)
        #expect(abs(single.loss - risk.valueAndGradient().loss) < 1e-13)
        #expect(single.samples == 40)
    }

    @Test func aTrainingRunLogsTheProbeAndAResumedRunLogsTheSameBits() throws {
        var configuration = TrainingConfiguration()
        configuration.model = "mlp"
        configuration.widths = [8]
        configuration.validationCount = 20
        configuration.steps = TrainingDuration(iterations: 30)
        configuration.batchSize = 10
        configuration.evaluateEvery = TrainingDuration(iterations: 10)
        configuration.checkpoints = [TrainingDuration(iterations: 12)]
        let blobs = SyntheticClassification.gaussianBlobs(count: 150, classCount: 3, dimensions: 5, separation: 3, seed: 2, as: Double.self).data
        let data = PreparedData(fullTrain: blobs.subset(Array(0..<120)), test: blobs.subset(Array(120..<150)), configuration: configuration.data, seed: 1)
        func run(_ directory: URL) throws -> String {
            var trainer = try Trainer(configuration: configuration, data: data, directory: directory)
            trainer.probes = [FisherTrace.probe(every: TrainingDuration(iterations: 7), samples: 25, seed: 9)]
            _ = try trainer.run()
            return try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        }
        let straight = FileManager.default.temporaryDirectory.appendingPathComponent("occam-fisher-\(UUID().uuidString)")
        let interrupted = FileManager.default.temporaryDirectory.appendingPathComponent("occam-fisher-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: interrupted) }
        for directory in [straight, interrupted] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        let metrics = try run(straight)
        let records = try MetricsLines.records(metrics).filter { $0.split == "fisher" }
        #expect(records.map(\.step) == [0, 7, 14, 21, 28, 30])
        #expect(records.allSatisfy { ($0.values?["fisher_trace"] ?? 0) > 0 && $0.values?["fisher_trace_se"] != nil && $0.values?["samples"] == 25 })
        // Cut short after the checkpoint at 12: the resumed run logs the probe exactly as the straight one.
        _ = try run(interrupted)
        for name in ["final.safetensors", "checkpoint-30it.safetensors", "summary.json"] {
            try FileManager.default.removeItem(at: interrupted.appendingPathComponent(name))
        }
        #expect(try run(interrupted) == metrics)
    }
}

/// The records of a metrics.jsonl text.
enum MetricsLines {
    static func records(_ text: String) throws -> [EvaluationRecord] {
        try text.split(separator: "\n").map { try JSONDecoder().decode(EvaluationRecord.self, from: Data($0.utf8)) }
    }
}
