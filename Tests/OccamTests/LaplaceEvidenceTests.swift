import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

/// Bayesian linear regression y = X w + ε, ε ~ N(0, σ² I), w ~ N(0, δ⁻¹ I): the evidence in closed form,
/// y ~ N(0, σ² I + X Xᵀ / δ), and the Laplace approximation's ingredients (exact here: the posterior is Gaussian).
private struct BayesianLinearRegression {
    var x: Tensor<Double>  // [n, d]
    var y: [Double]
    var sigma: Double
    var n: Int { x.shape[0] }
    var d: Int { x.shape[1] }

    init(samples n: Int, features d: Int, sigma: Double, seed: UInt64) {
        var inputs = Inputs(seed: seed)
        x = inputs.normal([n, d])
        let w = inputs.normal([d, 1])
        let noise = inputs.normal([n, 1]) * sigma
        y = (Tensor.matmul(x, w) + noise).scalars
        self.sigma = sigma
    }

    /// log N(y; 0, σ² I + X Xᵀ / δ) by a Cholesky factor of the n x n covariance.
    func exactLogEvidence(_ delta: Double) throws -> Double {
        let covariance = Tensor<Double>.identity(n) * (sigma * sigma) + Tensor.matmul(x, x, transposeB: true) * (1 / delta)
        let factor = try covariance.choleskyFactor()
        let logDeterminant = 2 * (0..<n).reduce(0.0) { $0 + log(factor[$1, $1]) }
        let solved = try factor.choleskySolve(Tensor(shape: [n], scalars: y)).scalars
        let quadratic = zip(y, solved).reduce(0.0) { $0 + $1.0 * $1.1 }
        return -0.5 * Double(n) * log(2 * .pi) - 0.5 * logDeterminant - 0.5 * quadratic
    }

    /// The Hessian of the negative log-likelihood, Xᵀ X / σ².
    var hessian: Tensor<Double> { Tensor.matmul(x, x, transposeA: true) * (1 / (sigma * sigma)) }

    /// The posterior mode (XᵀX/σ² + δ I)⁻¹ Xᵀ y / σ².
    func posteriorMode(_ delta: Double) throws -> [Double] {
        let precision = hessian + Tensor<Double>.identity(d) * delta
        let right = Tensor.matmul(x, Tensor(shape: [n, 1], scalars: y), transposeA: true) * (1 / (sigma * sigma))
        return try precision.choleskyFactor().choleskySolve(right).scalars
    }

    /// log p(y | X, w) = -n/2 log(2πσ²) - ‖y - X w‖² / (2σ²).
    func logLikelihood(_ w: [Double]) -> Double {
        let residual = zip(y, Tensor.matmul(x, Tensor(shape: [d, 1], scalars: w)).scalars).map { $0 - $1 }
        return -0.5 * Double(n) * log(2 * .pi * sigma * sigma) - residual.reduce(0) { $0 + $1 * $1 } / (2 * sigma * sigma)
    }

    func laplace(_ delta: Double) throws -> LaplaceEvidence {
        let w = try posteriorMode(delta)
        return LaplaceEvidence(
            logLikelihood: logLikelihood(w), eigenvalues: try hessian.symmetricEigendecomposition().values.scalars,
            squaredNorm: w.reduce(0) { $0 + $1 * $1 }, dimension: d, priorPrecision: delta)
    }
}

@Suite("Laplace evidence, MacKay's fixed point and effective dimensionality")
struct LaplaceEvidenceTests {
    @Test(arguments: [(12, 5), (6, 9), (40, 3)])
    func laplaceEvidenceOfBayesianLinearRegressionIsTheClosedForm(shape: (Int, Int)) throws {
        let regression = BayesianLinearRegression(samples: shape.0, features: shape.1, sigma: 0.7, seed: UInt64(shape.0 * 100 + shape.1))
        for delta in [0.01, 0.5, 3.0, 200.0] {
            let laplace = try regression.laplace(delta)
            let exact = try regression.exactLogEvidence(delta)
            #expect(abs(laplace.logEvidence - exact) < 1e-10 * max(1, abs(exact)), "δ = \(delta): \(laplace.logEvidence) vs \(exact)")
            #expect(abs(laplace.logLikelihood + laplace.occamFactor + laplace.priorTerm - laplace.logEvidence) < 1e-12 * abs(exact))
            #expect(laplace.occamFactor <= 0 && laplace.priorTerm <= 0)
        }
    }

    @Test func macKayPrecisionIsWhereTheEvidenceAtAFixedPointIsLargest() throws {
        var random = RandomGenerator(seed: 11)
        let eigenvalues = (0..<30).map { _ in exp(4 * random.nextNormal()) } + [0, 0, -1e-3]
        let squaredNorm = 7.5
        func evidence(_ delta: Double) -> Double {
            LaplaceEvidence(logLikelihood: -3, eigenvalues: eigenvalues, squaredNorm: squaredNorm, dimension: 40, priorPrecision: delta).logEvidence
        }
        let delta = try #require(LaplaceEvidence.macKayPrecision(eigenvalues: eigenvalues, squaredNorm: squaredNorm))
        let gamma = LaplaceEvidence.effectiveDimensionality(eigenvalues, scale: delta)
        #expect(abs(delta - gamma / squaredNorm) < 1e-12 * delta)
        // Stationary (central difference in log δ) and a maximum.
        let h = 1e-4
        let slope = (evidence(delta * exp(h)) - evidence(delta * exp(-h))) / (2 * h)
        #expect(abs(slope) < 1e-6 * gamma)
        for factor in [0.5, 0.9, 0.999, 1.001, 1.1, 2] { #expect(evidence(delta * factor) < evidence(delta)) }
        // MacKay's plain iteration δ ← γ(δ)/‖θ‖² from δ = 1 converges to the same point here.
        var iterate = 1.0
        for _ in 0..<500 { iterate = LaplaceEvidence.effectiveDimensionality(eigenvalues, scale: iterate) / squaredNorm }
        #expect(abs(iterate - delta) < 1e-9 * delta)
        #expect(LaplaceEvidence.macKayPrecision(eigenvalues: [0, -1], squaredNorm: 1) == nil)
        #expect(LaplaceEvidence.macKayPrecision(eigenvalues: [1], squaredNorm: 0) == nil)
    }

    @Test func alternatingMacKayUpdatesOnRegressionFindTheMaximumOfTheExactEvidence() throws {
        let regression = BayesianLinearRegression(samples: 25, features: 8, sigma: 0.5, seed: 3)
        let eigenvalues = try regression.hessian.symmetricEigendecomposition().values.scalars
        var delta = 1.0
        for _ in 0..<200 {
            let w = try regression.posteriorMode(delta)
            delta = try #require(LaplaceEvidence.macKayPrecision(eigenvalues: eigenvalues, squaredNorm: w.reduce(0) { $0 + $1 * $1 }))
        }
        // Golden-section search of the closed-form evidence over log δ.
        var (low, high) = (log(1e-4), log(1e4))
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<200 {
            let a = high - ratio * (high - low), b = low + ratio * (high - low)
            if try regression.exactLogEvidence(exp(a)) > regression.exactLogEvidence(exp(b)) { high = b } else { low = a }
        }
        let best = exp((low + high) / 2)
        #expect(abs(log(delta / best)) < 1e-5, "MacKay \(delta), golden section \(best)")
    }

    @Test func effectiveDimensionalityIsTheTraceOfHOverHPlusZ() throws {
        var inputs = Inputs(seed: 9)
        let a = inputs.normal([6, 10])
        let h = Tensor.matmul(a, a, transposeA: true)  // [10, 10], rank 6, PSD
        let eigenvalues = try h.symmetricEigendecomposition().values.scalars
        for z in [0.1, 1.0, 30.0] {
            // trace(H (H + z I)⁻¹) by solving (H + z I) X = H.
            let solved = try (h + Tensor<Double>.identity(10) * z).choleskyFactor().choleskySolve(h)
            let trace = (0..<10).reduce(0.0) { $0 + solved[$1, $1] }
            #expect(abs(LaplaceEvidence.effectiveDimensionality(eigenvalues, scale: z) - trace) < 1e-10 * 10)
        }
    }

    @Test func topEigenvaluesWithKEqualToTheDimensionGiveTheDenseResultAndFewerGiveABoundedUpperBound() throws {
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 5, hidden: 6, classes: 3), samples: 30, batchSize: 7)
        var options = CurvatureSummaryOptions()
        (options.operatorKind, options.dense, options.traceProducts) = (.ggn, true, 0)
        let dense = try NetworkCurvature.measure(risk, options: options)
        options.dense = false
        (options.top, options.tolerance) = (risk.subspace.dimension, 1e-10)
        let all = try NetworkCurvature.measure(risk, options: options)
        let e1 = try #require(dense.evidence), e2 = try #require(all.evidence)
        #expect(abs(e1.logEvidence - e2.logEvidence) < 1e-8 * abs(e1.logEvidence))
        #expect(abs(e1.effectiveDimensionality - e2.effectiveDimensionality) < 1e-8 * e1.effectiveDimensionality)
        #expect(abs(dense.effectiveDimensionality - all.effectiveDimensionality) < 1e-8 * dense.effectiveDimensionality)
        let (delta1, delta2) = (try #require(dense.macKayPrecision), try #require(all.macKayPrecision))
        #expect(abs(delta1 - delta2) < 1e-8 * delta1)
        // The fit: the mean cross-entropy times N.
        #expect(abs(dense.logLikelihood + Double(risk.count) * risk.valueAndGradient().loss) < 1e-10)
        // The dense trace is exact; the evidence's eigenvalues are N times the mean loss's.
        let exact = try denseMatrix(of: LossCurvature(.ggn, of: risk)).symmetricEigendecomposition().values.scalars
        let exactTrace: Double = exact.reduce(0, +)
        let denseTrace = try #require(dense.trace)
        #expect(abs(denseTrace - exactTrace) < 1e-10 * exactTrace)

        // Five eigenvalues only, at the dense run's δ: the evidence can only be higher, by at most the report's bound.
        options.top = 5
        options.priorPrecision = dense.macKayPrecision
        let five = try NetworkCurvature.measure(risk, options: options)
        let delta = dense.macKayPrecision!
        let topFive = try #require(five.evidence), full = dense.evidence(priorPrecision: delta)
        #expect(topFive.logEvidence >= full.logEvidence - 1e-12)
        let bound = Double(risk.subspace.dimension - 5) * 0.5 * log1p(five.logLikelihoodEigenvalues.last! / delta)
        #expect(topFive.logEvidence - full.logEvidence <= bound + 1e-9)
    }

    @Test func evidenceStudyWritesItsReportAndARerunMeasuresNothing() throws {
        var fixtures = CurvatureFixtures()
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 5, classes: 3), samples: 20, batchSize: 6)
        var options = CurvatureSummaryOptions()
        (options.top, options.traceProducts, options.tolerance) = (6, 12, 1e-8)
        let configuration = EvidenceConfiguration(
            checkpoint: "/checkpoints/tiny.safetensors", checkpointDigest: "abc", model: "mlp", dataset: .fashionMNIST, samples: 20,
            curvature: options, batchSize: 6)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("occam-evidence-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = try EvidenceStudy(configuration: configuration, risk: risk, directory: directory)
        let summary = try study.run()
        let evidence = try #require(summary.evidence)
        #expect(summary.priorPrecisionSource == "MacKay's fixed point")
        #expect(summary.unmeasuredDirections == risk.subspace.dimension - 6)
        for name in ["summary.json", "contributions.csv", "occam-factor.svg", "evidence-vs-precision.svg", "index.html", "measurement.json"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let csv = try String(contentsOf: directory.appendingPathComponent("contributions.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 6)
        let lastCumulative = try #require(Double(csv.last!.split(separator: ",")[4]))
        #expect(abs(lastCumulative - evidence.occamFactor) < 1e-12 * abs(evidence.occamFactor))
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("unmeasured directions"))

        var again: [CurvatureProgress] = []
        try study.run { again.append($0) }
        #expect(again.count == 1)
        #expect(again.allSatisfy { if case .skipped = $0 { true } else { false } })
        try EvidenceReport(directory: directory).build()
        #expect(try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8) == html)
    }

    @Test func impossibleOptionsAreRefusedWithTheOptionNamed() {
        func options(_ change: (inout CurvatureSummaryOptions) -> Void) -> CurvatureSummaryOptions {
            var o = CurvatureSummaryOptions()
            change(&o)
            return o
        }
        let cases: [(CurvatureSummaryOptions, String)] = [
            (options { $0.top = 0 }, "--top"),
            (options { $0.tolerance = 2 }, "--tolerance"),
            (options { $0.maxIterations = 3 }, "--max-iterations"),
            (options { $0.traceProducts = 4 }, "--trace-products"),
            (options { $0.effectiveDimensionalityScale = 0 }, "--neff-scale"),
            (options { $0.priorPrecision = -1 }, "--prior-precision"),
        ]
        for (bad, option) in cases {
            #expect { try bad.validate() } throws: { "\($0)".contains(option) }
        }
        #expect(throws: ExperimentError.self) { try options { $0.dense = true }.validate(dimension: 20_000) }
    }
}
