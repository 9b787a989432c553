import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

@Suite("occam double-descent networks --curvature")
struct SweepCurvatureTests {
    /// A blob sweep at widths 2 and 8, 2 replicates, measured with a small Lanczos when `curvature`.
    static func configuration(curvature: Bool) -> DoubleDescentNetworksConfiguration {
        var training = blobTraining(steps: 30)
        training.widths = [4]
        training.validationCount = 0
        training.evaluationsPerDecade = 4
        var c = DoubleDescentNetworksConfiguration(training: training, widths: [2, 8])
        c.labelNoise = 0.2
        c.replicates = 2
        if curvature {
            var sweep = SweepCurvature()
            (sweep.samples, sweep.options.top, sweep.options.traceProducts, sweep.options.tolerance) = (80, 6, 9, 1e-8)
            c.curvature = sweep
        }
        return c
    }

    @Test func everyFinalNetworkIsMeasuredAsNetworkCurvatureMeasuresItAndAnInterruptedSweepResumesPerNetwork() throws {
        let configuration = Self.configuration(curvature: true)
        try configuration.validate()
        let root = try makeTemporaryDirectory("sweep-curvature")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let data = blobData(configuration.training)
        var study = DoubleDescentNetworksStudy<Double>(configuration: configuration, directory: directory, data: data)
        study.jobs = 2
        try study.run()
        let sweep = try #require(configuration.curvature)
        for run in configuration.runs {
            let runDirectory = directory.appendingPathComponent(run.path)
            let stored = try RunStore.readJSON(NetworkCurvature.self, from: runDirectory.appendingPathComponent(SweepCurvature.fileName))
            // The same measurement, made here on the final checkpoint and the run's own noisy training images.
            let final = try TrainingCheckpoint<Double>.read(from: runDirectory.appendingPathComponent("final.safetensors"))
            let seed = configuration.seed(ofReplicate: run.replicate)
            let noisy = configuration.condition.apply(to: try data(seed), seed: seed).0
            let direct = try sweep.measure(
                configuration.training(width: run.width, replicate: run.replicate), parameters: final.parameters, buffers: final.buffers,
                train: noisy.train)
            #expect(stored.eigenvalues == direct.eigenvalues)
            #expect(stored.evidence == direct.evidence)
            #expect(stored.samples == 80)
            // Weights only: the biases are not measured.
            #expect(stored.dimension == final.parameters.entries.filter { $0.name.hasSuffix(".weight") }.reduce(0) { $0 + $1.tensor.count })
        }
        let summaries = try DoubleDescentNetworksReport(directory: directory).build()
        #expect(summaries.count == 2)
        let csv = try String(contentsOf: directory.appendingPathComponent("curvature.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 4)
        for name in ["effective-dimensionality.svg", "evidence.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("Spearman rank correlation"))

        // One measurement lost: only it is made again, to the same numbers; the trainings are read back.
        let lost = directory.appendingPathComponent(configuration.runs[3].path).appendingPathComponent(SweepCurvature.fileName)
        let before = try RunStore.readJSON(NetworkCurvature.self, from: lost)
        try FileManager.default.removeItem(at: lost)
        var events: [StudyEvent] = []
        study.jobs = 1
        try study.run { events.append($0) }
        let done = events.compactMap { event -> String? in if case .stageFinished(let name, _, false) = event { name } else { nil } }
        #expect(done == ["\(configuration.runs[3].name) · curvature"])
        #expect(try RunStore.readJSON(NetworkCurvature.self, from: lost).eigenvalues == before.eigenvalues)
    }

    @Test func aSweepWithoutCurvatureKeepsItsRunDirectoryName() throws {
        let plain = Self.configuration(curvature: false)
        let json = String(decoding: try RunStore.canonicalJSON(plain), as: UTF8.self)
        #expect(!json.contains("curvature"))
        #expect(try RunStore.directoryName(for: plain, precision: "float32") != RunStore.directoryName(for: Self.configuration(curvature: true), precision: "float32"))
        var tooMany = Self.configuration(curvature: true)
        tooMany.curvature!.samples = 70_000
        #expect { try tooMany.validate() } throws: { "\($0)".contains("--curvature-samples") }
    }

    @Test func spearmanRankCorrelationMatchesHandComputedValues() {
        #expect(spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        // Ranks x: 1 2 3 4 5, y: 2 1 4 3 5: d² = 1+1+1+1+0 = 4, ρ = 1 - 6·4/(5·24) = 0.8.
        #expect(abs(spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50])! - 0.8) < 1e-12)
        // Ties get average ranks: x ranks 1.5 1.5 3, y ranks 1 2 3; Pearson of the ranks is √3/2.
        #expect(abs(spearman([7, 7, 9], [1, 2, 3])! - 3.0.squareRoot() / 2) < 1e-12)
        // Undefined with a constant side or fewer than 3 pairs.
        #expect(spearman([1, 2, 3], [5, 5, 5]) == nil && spearman([1, 2], [3, 4]) == nil)
    }
}
