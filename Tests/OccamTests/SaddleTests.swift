import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis
@testable import OccamExperiments

/// f(x) = ½ xᵀ A x + bᵀ x: gradient A x + b, Hessian A everywhere.
struct QuadraticFunction: TwiceDifferentiableFunction {
    var a: Tensor<Double>
    var b: [Double]
    var dimension: Int { b.count }
    func valueAndGradient(at x: [Double]) -> (value: Double, gradient: [Double]) {
        let ax = Tensor.matmul(a, Tensor(shape: [dimension, 1], scalars: x)).scalars
        let value = 0.5 * zip(x, ax).reduce(0) { $0 + $1.0 * $1.1 } + zip(b, x).reduce(0) { $0 + $1.0 * $1.1 }
        return (value, zip(ax, b).map { $0 + $1 })
    }
    func hessianOperator(at x: [Double]) -> any SymmetricOperator { DenseSymmetricOperator(a) }
}

/// f(x, y) = x²/2 - y²/2 + y⁴/4: a saddle at the origin (H = diag(1, -1)) between two minima at (0, ±1)
/// (H = diag(1, 2), f = -1/4).
struct SaddleFunction: TwiceDifferentiableFunction {
    var dimension: Int { 2 }
    func valueAndGradient(at p: [Double]) -> (value: Double, gradient: [Double]) {
        let (x, y) = (p[0], p[1])
        return (x * x / 2 - y * y / 2 + y * y * y * y / 4, [x, -y + y * y * y])
    }
    func hessianOperator(at p: [Double]) -> any SymmetricOperator {
        DenseSymmetricOperator(Tensor(shape: [2, 2], scalars: [1, 0, 0, -1 + 3 * p[1] * p[1]]))
    }
}

/// A tanh MLP d-h-k (smooth, so its Hessian is continuous) with its risk on n random samples.
func tanhNetworkFunction(features d: Int, hidden h: Int, classes k: Int, samples n: Int, seed: UInt64 = 3) throws -> RiskFunction<Double> {
    let model = Model<Double>(name: "mlp", inputShape: [1, 1, d], classes: k, takesImages: false, network: Sequential([
        ("fc1", Dense<Double>(inputs: d, outputs: h)), ("act1", Activation<Double>(.tanh)), ("fc2", Dense<Double>(inputs: h, outputs: k)),
    ]))
    var random = RandomGenerator(seed: seed)
    let parameters = model.initialParameters(using: &random)
    let inputs = Tensor<Double>.randomNormal([n, d], using: &random)
    let labels = (0..<n).map { ($0 * 5 + 1) % k }
    return RiskFunction(EmpiricalRisk(
        model: model, parameters: parameters, buffers: model.initialBuffers(), inputs: inputs, labels: labels, loss: .crossEntropy,
        subspace: try ParameterSubspace(of: parameters, selection: .all, mask: nil)))
}

@Suite("Saddle points: Newton steps, critical-point search, saddle-free Newton, the saddles study")
struct SaddleTests {
    /// |H| from the SVD (H = U S Vᵀ, so |H| = (HᵀH)^½ = V S Vᵀ), not from the symmetric eigensolver.
    func absoluteValue(_ h: Tensor<Double>) throws -> Tensor<Double> {
        let svd = try h.singularValueDecomposition()
        let n = h.shape[0]
        return Tensor.matmul(svd.vt * svd.singularValues.reshaped(to: [n, 1]), svd.vt, transposeA: true)
    }

    @Test func stepsMatchDenseSolvesWithTheAbsoluteAndSquaredHessian() throws {
        let n = 9
        let h = TestMatrices.symmetric(n, seed: 11)
        var random = RandomGenerator(seed: 12)
        let g = (0..<n).map { _ in random.nextNormal() }
        let gColumn = Tensor(shape: [n, 1], scalars: g)
        let steps = try NewtonSteps(hessian: h, gradient: g)
        let identity = Tensor<Double>.identity(n)
        let λ = 0.3

        // Saddle-free Newton: (|H| + λ I) s = -g, by Cholesky.
        let free = try (try absoluteValue(h) + identity * λ).choleskyFactor().choleskySolve(gColumn).scalars.map { -$0 }
        #expect(maximumRelativeDifference(steps.saddleFreeNewton(damping: λ), free) < 1e-10)
        // Damped Newton: s = -H (H² + λ² I)⁻¹ g; with λ = 0 it is -H⁻¹ g (H is invertible).
        let squared = Tensor.matmul(h, h)
        let solved = try (squared + identity * (λ * λ)).choleskyFactor().choleskySolve(gColumn)
        let newton = Tensor.matmul(h, solved).scalars.map { -$0 }
        #expect(maximumRelativeDifference(steps.dampedNewton(damping: λ), newton) < 1e-10)
        let inverse = try h.pseudoInverse()
        let plain = Tensor.matmul(inverse, gColumn).scalars.map { -$0 }
        #expect(maximumRelativeDifference(steps.dampedNewton(damping: 0), plain) < 1e-9)
        // Levenberg-Marquardt on ½‖g‖²: -(H² + μ I)⁻¹ H g.
        let lm = try (squared + identity * λ).choleskyFactor().choleskySolve(Tensor.matmul(h, gColumn)).scalars.map { -$0 }
        #expect(maximumRelativeDifference(steps.gradientNormStep(damping: λ), lm) < 1e-10)
        // Saddle-free Newton descends: gᵀ s < 0 whatever the signs of H's eigenvalues; Newton need not.
        #expect(zip(g, steps.saddleFreeNewton(damping: λ)).reduce(0) { $0 + $1.0 * $1.1 } < 0)
    }

    @Test func krylovSaddleFreeNewtonInTheFullSpaceIsTheExactStep() throws {
        let n = 12
        var random = RandomGenerator(seed: 13)
        let f = QuadraticFunction(a: TestMatrices.symmetric(n, seed: 14), b: (0..<n).map { _ in random.nextNormal() })
        let x = (0..<n).map { _ in random.nextNormal() }
        let exact = try SecondOrderOptimizer(method: .saddleFreeNewton, damping: 0.1).step(f, at: x)
        let krylov = try SecondOrderOptimizer(method: .saddleFreeNewton, damping: 0.1, krylovDimension: n).step(f, at: x)
        #expect(maximumRelativeDifference(exact.point, krylov.point) < 1e-8)
        let spectrum = try f.a.symmetricEigendecomposition().values.scalars
        #expect(abs(exact.smallestEigenvalue - spectrum[0]) < 1e-12)
        // A smaller subspace still descends on the quadratic model, and its smallest Ritz value bounds λ_min from above.
        let small = try SecondOrderOptimizer(method: .saddleFreeNewton, damping: 0.1, krylovDimension: 4).step(f, at: x)
        let g = f.valueAndGradient(at: x).gradient
        #expect(zip(g, zip(small.point, x).map { $0 - $1 }).reduce(0) { $0 + $1.0 * $1.1 } < 0)
        #expect(small.smallestEigenvalue >= spectrum[0] - 1e-12)
    }

    @Test func newtonConvergesToTheSaddleAndSaddleFreeNewtonLeavesIt() throws {
        let f = SaddleFunction()
        for method in SecondOrderMethod.allCases {
            let optimizer = SecondOrderOptimizer(method: method, damping: 1e-8, maxStepNorm: 0.5)
            var x = [0.3, 0.2]
            for _ in 0..<30 { x = try optimizer.step(f, at: x).point }
            switch method {
            case .dampedNewton:
                #expect(abs(x[0]) < 1e-10 && abs(x[1]) < 1e-10, "Newton ended at \(x)")
            case .saddleFreeNewton:
                #expect(abs(x[0]) < 1e-10 && abs(abs(x[1]) - 1) < 1e-10, "saddle-free Newton ended at \(x)")
                #expect(abs(f.value(at: x) + 0.25) < 1e-12)
            }
        }
        // The critical-point search finds the saddle too, and reads its index: one of two eigenvalues negative.
        let found = try CriticalPointSearch(gradientTolerance: 1e-12, maxIterations: 50).search(f, from: [0.3, 0.2])
        #expect(found.kind == .critical)
        #expect(abs(found.point[0]) < 1e-10 && abs(found.point[1]) < 1e-10)
        #expect(HessianIndex(eigenvalues: found.eigenvalues, threshold: found.zeroThreshold).index == 0.5)
    }

    @Test func theIndexOfAKnownQuadraticCountsItsNegativeEigenvalues() throws {
        let spectrum = [-3.0, -1, -0.25, 0, 0.5, 2, 4, 7]
        let a = try TestMatrices.withSpectrum(spectrum, seed: 15)
        var random = RandomGenerator(seed: 16)
        let n = spectrum.count
        // b in the range of A, so a critical point exists although A is singular.
        let b = Tensor.matmul(a, Tensor(shape: [n, 1], scalars: (0..<n).map { _ in random.nextNormal() })).scalars
        let f = QuadraticFunction(a: a, b: b)
        let result = try CriticalPointSearch(gradientTolerance: 1e-10, maxIterations: 50, zeroTolerance: 1e-8)
            .search(f, from: (0..<n).map { _ in random.nextNormal() })
        #expect(result.kind == .critical)
        #expect(norm(f.valueAndGradient(at: result.point).gradient) <= 1e-10)
        let index = HessianIndex(eigenvalues: result.eigenvalues, threshold: result.zeroThreshold)
        #expect((index.negative, index.zero, index.positive) == (3, 1, 4))
        #expect(index.index == 3.0 / 8)
        #expect(maximumRelativeDifference(result.eigenvalues, spectrum) < 1e-12)
    }

    @Test func theSearchReachesTheToleranceOnATinyNetwork() throws {
        // From the initialization with the output layer shrunk 10x: near the saddle where the outputs are nearly
        // uniform (where a freshly initialized 10-class network starts), which is not degenerate.
        let f = try tanhNetworkFunction(features: 3, hidden: 4, classes: 3, samples: 200)
        var shrunk = f.base.parameters
        shrunk["fc2.weight"] = shrunk["fc2.weight"]! * 0.1
        let start = f.base.subspace.flatten(shrunk)
        let tolerance = 1e-9
        let result = try CriticalPointSearch(gradientTolerance: tolerance, maxIterations: 100).search(f, from: start)
        #expect(result.kind == .critical, "stopped at |g| = \(result.gradientNorm)")
        // Independently: the gradient recomputed at the point, and central differences of f along random directions.
        #expect(norm(f.valueAndGradient(at: result.point).gradient) <= tolerance)
        var random = RandomGenerator(seed: 17)
        for _ in 0..<3 {
            var d = (0..<f.dimension).map { _ in random.nextNormal() }
            d = scaled(d, by: 1 / norm(d))
            let h = 1e-4
            var plus = result.point, minus = result.point
            addScaled(d, h, to: &plus)
            addScaled(d, -h, to: &minus)
            #expect(abs((f.value(at: plus) - f.value(at: minus)) / (2 * h)) < 1e-7)
        }
        let dense = try f.hessian(at: result.point).symmetricEigendecomposition().values.scalars
        #expect(maximumRelativeDifference(result.eigenvalues, dense) < 1e-12)
    }

    @Test func aGradientInTheHessiansKernelIsLabelledGradientFlatNotCritical() throws {
        // f(x, y) = x²/2 + 0.01 y: H = diag(1, 0) and ∇f = (x, 0.01) never vanishes; the y part of the gradient lies in
        // H's kernel, where no Newton-type step can lower it.
        let f = QuadraticFunction(a: Tensor(shape: [2, 2], scalars: [1, 0, 0, 0]), b: [0, 0.01])
        let result = try CriticalPointSearch(gradientTolerance: 1e-8, maxIterations: 30).search(f, from: [0.7, -2])
        #expect(result.kind == .gradientFlat)
        #expect(abs(result.gradientNorm - 0.01) < 1e-9)
        #expect(abs(result.flatGradientShare - 1) < 1e-9)
        // With b outside the kernel instead, the same search finds the critical point.
        let g = QuadraticFunction(a: Tensor(shape: [2, 2], scalars: [1, 0, 0, 0]), b: [0.01, 0])
        #expect(try CriticalPointSearch(gradientTolerance: 1e-8, maxIterations: 30).search(g, from: [0.7, -2]).kind == .critical)
    }

    @Test func areaDownsamplingAveragesBlocksAndKeepsTheMean() throws {
        var random = RandomGenerator(seed: 18)
        let images = LabeledImages(
            images: Tensor<Double>.randomUniform([3, 2 * 28 * 28], low: 0, high: 1, using: &random), labels: [0, 1, 2], channels: 2,
            height: 28, width: 28, classCount: 3)
        let seven = images.areaDownsampled(height: 7, width: 7)
        #expect(seven.imageShape == [2, 7, 7])
        // 28 → 7: the mean of each 4x4 block, by brute force.
        for (n, c, i, j) in [(0, 0, 0, 0), (1, 1, 3, 5), (2, 0, 6, 6)] {
            var sum = 0.0
            for r in 0..<4 { for s in 0..<4 { sum += images.images[n, c * 784 + (4 * i + r) * 28 + 4 * j + s] } }
            #expect(abs(seven.images[n, c * 49 + i * 7 + j] - sum / 16) < 1e-12)
        }
        // 28 → 10 (fractional areas): each image's mean is kept, and constant images stay constant.
        let ten = images.areaDownsampled(height: 10, width: 10)
        for n in 0..<3 {
            let before = (0..<(2 * 784)).reduce(0.0) { $0 + images.images[n, $1] } / 1568
            let after = (0..<200).reduce(0.0) { $0 + ten.images[n, $1] } / 200
            #expect(abs(before - after) < 1e-12)
        }
        let constant = LabeledImages(images: Tensor<Double>(repeating: 0.7, shape: [1, 784]), labels: [0], height: 28, width: 28, classCount: 1)
        #expect(constant.areaDownsampled(height: 10, width: 10).images.scalars.allSatisfy { abs($0 - 0.7) < 1e-12 })
    }

    @Test func principalComponentsAreWhitenedAndMatchTheSingularValues() throws {
        var random = RandomGenerator(seed: 19)
        let (n, d, k) = (50, 6, 3)
        // Correlated features: a random mixing of independent ones with different scales.
        let latent = Tensor<Double>.randomNormal([n, d], using: &random) * Tensor([3.0, 2, 1.5, 1, 0.5, 0.1]).reshaped(to: [1, d])
        let x = Tensor.matmul(latent, Tensor<Double>.randomNormal([d, d], using: &random)) + 0.3
        let images = LabeledImages(images: x, labels: Array(repeating: 0, count: n), height: 1, width: d, classCount: 1)
        let projection = try PrincipalComponentProjection(fitting: x, count: k)
        let scores = projection.projected(images).images
        #expect(scores.shape == [n, k])
        let covariance = Tensor.matmul(scores, scores, transposeA: true) / Double(n)
        #expect(maximumDifference(covariance, Tensor<Double>.identity(k)) < 1e-10)
        // The variances are the squared singular values of the centered data over n (LAPACK's SVD, not syevd).
        let centered = x - x.sum(alongAxes: [0], keepingDimensions: true) / Double(n)
        let singular = try centered.singularValueDecomposition().singularValues.scalars
        #expect(maximumRelativeDifference(projection.variances, singular.prefix(k).map { $0 * $0 / Double(n) }) < 1e-10)
        let total = singular.map { $0 * $0 }.reduce(0, +)
        #expect(abs(projection.explainedVariance - singular.prefix(k).map { $0 * $0 }.reduce(0, +) / total) < 1e-12)
    }

    @Test func theStudyWritesEveryUnitResumesAndRejectsImpossibleOptions() throws {
        var configuration = SaddlesConfiguration(
            samples: 40, imageSize: 3, components: 0, widths: [3], trajectories: 1, snapshots: [0, 40], batchSize: 10, searchIterations: 30,
            gradientTolerance: 1e-8, newtonIterations: 3, sgdIterations: 20, sgdProbes: 2)
        try configuration.validate()
        var random = RandomGenerator(seed: 20)
        let data = LabeledImages(
            images: Tensor<Double>.randomUniform([40, 9], low: 0, high: 1, using: &random), labels: (0..<40).map { $0 % 10 }, height: 3, width: 3,
            classCount: 10)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("occam-saddles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = try SaddlesStudy(configuration: configuration, data: data, directory: directory)
        try study.run(compareOptimizers: true)
        let summary = try RunStore.readJSON(SaddlesSummary.self, from: directory.appendingPathComponent("summary.json"))
        #expect(summary.points == 2 && summary.critical + summary.gradientFlat + summary.notConverged == 2)
        #expect(summary.optimizerEnds.count == 3)
        let point = try RunStore.readJSON(SaddlesPoint.self, from: directory.appendingPathComponent("points/trajectory-0-step-0.json"))
        #expect(point.eigenvalues.count == configuration.parameterCount)
        #expect(point.index.negative + point.index.zero + point.index.positive == configuration.parameterCount)
        // Step 0 of the trajectory is the initialization itself.
        #expect(point.startLoss == study.function.value(at: study.initialization(0)))
        for name in ["points.csv", "index-vs-loss.svg", "index-vs-error.svg", "spectra.svg", "compare-loss-iterations.svg", "compare-loss-time.svg", "compare-smallest-eigenvalue.svg", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8)
        var events: [SaddlesProgress] = []
        try study.run(compareOptimizers: true) { events.append($0) }
        #expect(events.filter { if case .skipped = $0 { true } else { false } }.count == 1 + 2 + 3)
        try SaddlesReport(directory: directory).build()
        #expect(try String(contentsOf: directory.appendingPathComponent("index.html"), encoding: .utf8) == html)

        configuration.widths = [200, 200]
        #expect(throws: ExperimentError.self) { try configuration.validate() }
        configuration.widths = [3]
        configuration.components = 10
        #expect(throws: ExperimentError.self) { try configuration.validate() }
    }

    /// Two units at a time give the files of one at a time, byte for byte (wall-clock fields aside).
    @Test func unitsSideBySideGiveTheSameResults() throws {
        let configuration = SaddlesConfiguration(
            samples: 40, imageSize: 3, components: 0, widths: [3], trajectories: 2, snapshots: [0, 40], batchSize: 10, searchIterations: 30,
            gradientTolerance: 1e-8, newtonIterations: 3, sgdIterations: 20, sgdProbes: 2)
        var random = RandomGenerator(seed: 21)
        let data = LabeledImages(
            images: Tensor<Double>.randomUniform([40, 9], low: 0, high: 1, using: &random), labels: (0..<40).map { $0 % 10 }, height: 3, width: 3,
            classCount: 10)
        let root = try makeTemporaryDirectory("saddles-jobs")
        defer { try? FileManager.default.removeItem(at: root) }
        var results: [[String: String]] = []
        for jobs in [1, 2] {
            let directory = try RunStore.open(configuration, precision: "float64", under: root.appendingPathComponent("jobs-\(jobs)"))
            var study = try SaddlesStudy(configuration: configuration, data: data, directory: directory)
            study.jobs = jobs
            var points = 0  // the study delivers progress events one at a time
            try study.run(compareOptimizers: true) { if case .point = $0 { points += 1 } }
            #expect(points == 4)
            results.append(try comparableResults(of: directory))
        }
        #expect(results[0].keys.sorted() == results[1].keys.sorted() && results[0].keys.count(where: { $0.hasPrefix("points/") }) == 4)
        for (path, contents) in results[0] { #expect(results[1][path] == contents, "\(path) differs with two jobs") }
    }
}
