import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

@Suite("occam flatness: rescaling, study and report")
struct FlatnessTests {
    @Test func rescalingKeepsTheFunctionAndTransformsTheHessianAsTheChainRuleSays() throws {
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 5, hidden: 6, classes: 3), samples: 25, batchSize: 8)
        let alpha = 7.0
        let rescaled = ReLURescaling.rescaled(risk.parameters, first: "fc1", second: "fc2", alpha: alpha)
        let after = EmpiricalRisk(
            model: risk.model, parameters: rescaled, buffers: risk.buffers, inputs: risk.inputs, labels: risk.labels, loss: risk.loss,
            subspace: risk.subspace, batchSize: 8)
        let (difference, scale) = ReLURescaling.largestDifference(risk.logits(), after.logits())
        #expect(difference < 1e-13 * scale)
        #expect(abs(after.valueAndGradient().loss - risk.valueAndGradient().loss) < 1e-14)
        // θ' = D θ with D = α on fc1, 1/α on fc2.weight, 1 on fc2.bias, so H' = D⁻¹ H D⁻¹.
        var d = [Double](repeating: 1, count: risk.subspace.dimension)
        for block in risk.subspace.blocks {
            let factor = block.name.hasPrefix("fc1.") ? alpha : block.name == "fc2.weight" ? 1 / alpha : 1
            for i in block.offset..<(block.offset + block.count) { d[i] = factor }
        }
        for kind in [CurvatureKind.hessian, .ggn] {
            let h = denseMatrix(of: LossCurvature(kind, of: risk)), hRescaled = denseMatrix(of: LossCurvature(kind, of: after))
            let n = d.count
            var expected = Tensor<Double>(zeros: [n, n])
            for i in 0..<n { for j in 0..<n { expected[i, j] = h[i, j] / (d[i] * d[j]) } }
            let largest = expected.scalars.map(abs).max()!
            #expect(maximumDifference(hRescaled, expected) < 1e-10 * largest, "\(kind)")
            // And the largest eigenvalue really moves.
            let before = try h.symmetricEigendecomposition().values.scalars.last!
            let afterTop = try hRescaled.symmetricEigendecomposition().values.scalars.last!
            #expect(afterTop > 2 * before, "\(kind): \(before) -> \(afterTop)")
        }
    }

    private func configuration() -> FlatnessConfiguration {
        var training = blobTraining(steps: 20)
        training.widths = [8]
        var c = FlatnessConfiguration(training: training, batchSizes: [8, 160])
        c.replicates = 2
        c.curvatureSamples = 60
        c.alphas = [0.5, 4]
        c.curvature.top = 4
        c.curvature.traceProducts = 9
        c.curvature.tolerance = 1e-8
        return c
    }

    @Test func studyMeasuresEveryNetworkChecksTheRescalingAndResumesNetworkByNetwork() throws {
        let configuration = configuration()
        try configuration.validate()
        #expect(configuration.learningRate(batchSize: 160) == 0.01 * 20.0.squareRoot())
        let root = try makeTemporaryDirectory("flatness")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = FlatnessStudy<Double>(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.jobs = 2
        let networks = try study.run()
        #expect(networks.map(\.run) == configuration.runs)
        for network in networks {
            #expect(network.rescaled.map(\.alpha) == [0.5, 4])
            for r in network.rescaled {
                #expect(r.changedPredictions == 0)
                #expect(r.largestLogitDifference < 1e-12 * r.logitScale)
                #expect(abs(r.curvature.loss - network.curvature.loss) < 1e-12)
                #expect(r.curvature.topEigenvalue! > network.curvature.topEigenvalue!)
            }
            #expect(network.curvature.evidence != nil)
            #expect(network.curvature.samples == 60)
        }
        let summary = try FlatnessReport(directory: directory).build()
        let effects = Dictionary(uniqueKeysWithValues: summary.rescaling.map { ($0.measure, $0) })
        #expect(effects["loss on the curvature images"]?.changed == false)
        #expect(effects["largest eigenvalue"]?.changed == true)
        #expect(summary.batchSizes.map(\.networks) == [2, 2])
        for name in ["networks.csv", "batch-sizes.csv", "rescaling.csv", "summary.json", "sharpness.svg", "errors.svg", "rescaling.svg", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("no test prediction changed"))

        // A network whose network.json is lost is measured again from its finished training run, to the same result.
        let lost = directory.appendingPathComponent(configuration.runs[1].path).appendingPathComponent("network.json")
        let before = try Data(contentsOf: lost)
        try FileManager.default.removeItem(at: lost)
        var events: [StudyEvent] = []
        study.jobs = 1
        try study.run { events.append($0) }
        let remeasured = events.filter { if case .stageFinished(_, _, false) = $0 { true } else { false } }
        #expect(remeasured.count == 1)
        let again = try RunStore.readJSON(FlatnessNetwork.self, from: lost)
        let original = try JSONDecoder().decode(FlatnessNetwork.self, from: before)
        #expect(again.curvature.eigenvalues == original.curvature.eigenvalues)
        #expect(again.testAccuracy == original.testAccuracy)
    }

    @Test func impossibleConfigurationsAreRefusedWithTheOptionNamed() {
        func configuration(_ change: (inout FlatnessConfiguration) -> Void) -> FlatnessConfiguration {
            var c = FlatnessConfiguration()
            change(&c)
            return c
        }
        let cases: [(FlatnessConfiguration, String)] = [
            (configuration { $0.batchSizes = [64] }, "--batch-sizes"),
            (configuration { $0.batchSizes = [64, 64] }, "--batch-sizes"),
            (configuration { $0.batchSizes = [64, 10_000] }, "--batch-sizes"),
            (configuration { $0.training.model = "resnet-20" }, "--model"),
            (configuration { $0.alphas = [1] }, "--alphas"),
            (configuration { $0.alphas = [-2] }, "--alphas"),
            (configuration { $0.replicates = 0 }, "--replicates"),
            (configuration { $0.curvatureSamples = 5000 }, "--curvature-samples"),
            (configuration { $0.curvature.top = 0 }, "--top"),
            (configuration { $0.training.dropout = 0.5 }, "--dropout"),
        ]
        for (bad, option) in cases {
            #expect { try bad.validate() } throws: { "\($0)".contains(option) }
        }
    }
}
