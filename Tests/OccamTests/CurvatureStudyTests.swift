import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

@Suite("occam curvature's study and report")
struct CurvatureStudyTests {
    @Test func everyQuantityAgreesWithTheDenseSpectrumAndARerunMeasuresNothing() throws {
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 5, hidden: 6, classes: 3), samples: 30, batchSize: 7)
        let configuration = CurvatureConfiguration(
            checkpoint: "/checkpoints/tiny.safetensors", checkpointDigest: "0123456789abcdef", model: "mlp", dataset: .fashionMNIST,
            samples: 30, operatorKind: .hessian, top: 3, bottom: 2, tolerance: 1e-10, traceProbes: 60, densityProbes: 2,
            densitySteps: 12, dense: true, batchSize: 7, seed: 4)
        try configuration.validate()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("occam-curvature-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = try CurvatureStudy(configuration: configuration, risk: risk, directory: directory)
        var events: [CurvatureProgress] = []
        try study.run { events.append($0) }
        #expect(!events.isEmpty)

        let summary = try RunStore.readJSON(CurvatureSummary.self, from: directory.appendingPathComponent("curvature.json"))
        let exact = try denseMatrix(of: LossCurvature(.hessian, of: risk)).symmetricEigendecomposition().values.scalars
        let spectrum = try #require(summary.spectrum).eigenvalues
        #expect(maximumRelativeDifference(spectrum, exact) < 1e-10)
        let eigenvalues = try #require(summary.eigenvalues)
        let scale = exact.map(abs).max()!
        for (i, pair) in eigenvalues.largest.enumerated() { #expect(abs(pair.value - exact[exact.count - 1 - i]) < 1e-8 * scale) }
        for (i, pair) in eigenvalues.smallest.enumerated() { #expect(abs(pair.value - exact[i]) < 1e-8 * scale) }
        #expect(eigenvalues.largest.allSatisfy { $0.residual < 1e-8 * scale })
        #expect(eigenvalues.products == eigenvalues.iterations)
        let trace = try #require(summary.trace)
        for estimate in [trace.hutchinson, trace.hutchPlusPlus] {
            #expect(abs(estimate.value - exact.reduce(0, +)) < 3 * (estimate.standardError ?? 0) + 1e-9)
        }
        let threshold = try #require(summary.indexThreshold)
        #expect(threshold < 1e-12 * scale)
        #expect(summary.index == Double(exact.filter { $0 < -threshold }.count) / Double(exact.count))
        #expect(summary.index! > 0)
        #expect(summary.point.dimension == risk.subspace.dimension)
        #expect(abs(summary.point.loss - risk.valueAndGradient().loss) < 1e-14)

        // The eigenvectors file holds each vector in the parameters' shapes: H x = λ x.
        let vectors = try SafeTensorsFile.read(from: directory.appendingPathComponent("eigenvectors.safetensors"))
        let top = try risk.subspace.blocks.map { try vectors.tensor(named: "largest.0.\($0.name)", as: Double.self) }
        let x = risk.subspace.flatten(blockTensors: top)
        var residual = LossCurvature(.hessian, of: risk).apply(x)
        addScaled(x, -eigenvalues.largest[0].value, to: &residual)
        #expect(norm(residual) < 1e-8 * scale)

        let csv = try String(contentsOf: directory.appendingPathComponent("eigenvalues.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 3 + 2 + exact.count)
        for name in ["density.svg", "index.html", "point.json", "trace.json", "density.json", "spectrum.json"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("agree within 3 combined standard errors") || html.contains("more probes are needed"))

        // A second run finds every stage on disk; the report rebuilds byte for byte.
        var again: [CurvatureProgress] = []
        try study.run { again.append($0) }
        #expect(again.allSatisfy { if case .skipped = $0 { true } else { false } })
        #expect(again.count == 5)
        try CurvatureReport(directory: directory).build()
        #expect(try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8) == html)
    }

    @Test func zeroEigenvaluesAreNotCountedAsNegativeAndLowRankOperatorsReturnWhatTheyHave() throws {
        // Least squares with fewer samples than features: H = (2/N) XᵀX has rank 4 of 12, eight zero eigenvalues
        // that come out as ± rounding, and no negative one.
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.linearModel(features: 12, outputs: 1), samples: 4, loss: .meanSquaredError)
        let configuration = CurvatureConfiguration(
            checkpoint: "/checkpoints/linear.safetensors", checkpointDigest: "1", model: "linear", dataset: .fashionMNIST,
            samples: 4, operatorKind: .hessian, top: 8, bottom: 0, densityProbes: 2, densitySteps: 12, dense: true)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("occam-curvature-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        try CurvatureStudy(configuration: configuration, risk: risk, directory: directory).run()
        let summary = try RunStore.readJSON(CurvatureSummary.self, from: directory.appendingPathComponent("curvature.json"))
        #expect(summary.index == 0)
        let density = try #require(summary.density).density
        #expect(density.fraction(below: -summary.indexThreshold!).value == 0)
        // Eight pairs asked of a rank-4 operator: the Krylov space is invariant after at most 5 steps, and
        // Lanczos returns the pairs it has (the four non-zero eigenvalues first), converged.
        let eigenvalues = try #require(summary.eigenvalues)
        #expect(eigenvalues.converged)
        #expect(eigenvalues.iterations <= 5)
        let exact = try #require(summary.spectrum).eigenvalues.reversed().prefix(4)
        for (pair, value) in zip(eigenvalues.largest, exact) { #expect(abs(pair.value - value) < 1e-10 * exact.first!) }
    }

    @Test func impossibleConfigurationsAreRefusedWithTheOptionNamed() throws {
        func configuration(_ change: (inout CurvatureConfiguration) -> Void) -> CurvatureConfiguration {
            var c = CurvatureConfiguration(checkpoint: "/c", checkpointDigest: "0", model: "mlp", dataset: .fashionMNIST)
            change(&c)
            return c
        }
        let cases: [(CurvatureConfiguration, String)] = [
            (configuration { $0.samples = 0 }, "--samples"),
            (configuration { $0.samples = 70_000 }, "--samples"),
            (configuration { $0.top = 0; $0.bottom = 0 }, "nothing to measure"),
            (configuration { $0.top = -1 }, "--top"),
            (configuration { $0.tolerance = .nan }, "--tolerance"),
            (configuration { $0.tolerance = 0 }, "--tolerance"),
            (configuration { $0.traceProbes = 1 }, "--trace-probes"),
            (configuration { $0.densitySteps = 1 }, "--density-steps"),
            (configuration { $0.batchSize = 0 }, "--batch-size"),
            (configuration { $0.maxIterations = 0 }, "--max-iterations"),
            (configuration { $0.maxIterations = 3 }, "--max-iterations"),
            (configuration { $0.traceProbes = 5 }, "--trace-probes"),
        ]
        for (bad, option) in cases {
            #expect {
                try bad.validate()
            } throws: { error in
                "\(error)".contains(option)
            }
        }
        #expect(throws: ExperimentError.self) { try configuration { $0.dense = true }.validate(dimension: 20_000) }
        #expect(throws: ExperimentError.self) { try configuration { $0.top = 8; $0.bottom = 3 }.validate(dimension: 10) }
    }
}
