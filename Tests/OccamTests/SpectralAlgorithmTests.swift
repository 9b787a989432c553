import Foundation
import OccamTensor
import Testing

@testable import OccamAnalysis

/// Random symmetric test matrices with known spectra.
enum TestMatrices {
    /// (G + Gᵀ)/2 for a standard normal G: eigenvalues of both signs (Wigner).
    static func symmetric(_ n: Int, seed: UInt64) -> Tensor<Double> {
        var random = RandomGenerator(seed: seed)
        let g = Tensor<Double>.randomNormal([n, n], using: &random)
        return (g + g.transposed()) * 0.5
    }

    /// XᵀX / m for X of shape [m, n]: positive semi-definite, rank min(m, n) (Wishart).
    static func wishart(_ n: Int, samples m: Int, seed: UInt64) -> Tensor<Double> {
        var random = RandomGenerator(seed: seed)
        let x = Tensor<Double>.randomNormal([m, n], using: &random)
        return Tensor.matmul(x, x, transposeA: true) / Double(m)
    }

    /// U diag(values) Uᵀ for a random orthogonal U (eigenvectors of a random symmetric matrix).
    static func withSpectrum(_ values: [Double], seed: UInt64) throws -> Tensor<Double> {
        let n = values.count
        let u = try symmetric(n, seed: seed).symmetricEigendecomposition().vectors
        return Tensor.matmul(u * Tensor(values).reshaped(to: [1, n]), u, transposeB: true)
    }

    static func trace(_ a: Tensor<Double>) -> Double { (0..<a.shape[0]).reduce(0) { $0 + a[$1, $1] } }
}

@Suite("Lanczos, Hutchinson and stochastic Lanczos quadrature against a dense eigensolver")
struct SpectralAlgorithmTests {
    @Test(arguments: [("symmetric", 0), ("wishart", 1)])
    func lanczosFindsBothEndsOfTheSpectrum(kind: String, seed: Int) throws {
        let n = 120
        let matrix = kind == "symmetric" ? TestMatrices.symmetric(n, seed: UInt64(seed)) : TestMatrices.wishart(n, samples: 200, seed: UInt64(seed))
        let exact = try matrix.symmetricEigendecomposition().values.scalars  // ascending
        let op = DenseSymmetricOperator(matrix)
        let result = try Lanczos.extremeEigenpairs(of: op, largest: 5, smallest: 4, tolerance: 1e-10, seed: 3)
        #expect(result.converged)
        #expect(result.iterations < n)
        let scale = exact.map(abs).max()!
        for (i, pair) in result.largest.enumerated() {
            #expect(abs(pair.value - exact[n - 1 - i]) < 1e-8 * scale, "largest \(i): \(pair.value) vs \(exact[n - 1 - i])")
        }
        for (i, pair) in result.smallest.enumerated() {
            #expect(abs(pair.value - exact[i]) < 1e-8 * scale, "smallest \(i): \(pair.value) vs \(exact[i])")
        }
        // Each eigenvector is a unit vector whose true residual ‖A x - θ x‖ is what Lanczos reported.
        for pair in result.largest + result.smallest {
            var residual = op.apply(pair.vector)
            addScaled(pair.vector, -pair.value, to: &residual)
            #expect(abs(norm(pair.vector) - 1) < 1e-10)
            #expect(norm(residual) < 1e-9 * scale)
            #expect(abs(norm(residual) - pair.residual) < 1e-9 * scale)
        }
    }

    @Test func lanczosOnATinyOperatorStopsAtAnInvariantSpace() throws {
        let matrix = Tensor<Double>(rows: [[2, 1, 0], [1, 2, 0], [0, 0, -1]])
        let result = try Lanczos.extremeEigenpairs(of: DenseSymmetricOperator(matrix), largest: 1, smallest: 1)
        #expect(result.converged)
        #expect(result.iterations <= 3)
        #expect(abs(result.largest[0].value - 3) < 1e-12)
        #expect(abs(result.smallest[0].value + 1) < 1e-12)
    }

    @Test func hutchinsonAndHutchPlusPlusAreWithinThreeStandardErrors() throws {
        // A few large eigenvalues over a flat bulk, as in network Hessians.
        let matrix = try TestMatrices.withSpectrum((0..<200).map { $0 < 8 ? 100 / Double($0 + 1) : 0.5 }, seed: 4)
        let exact = TestMatrices.trace(matrix)
        let op = DenseSymmetricOperator(matrix)
        let plain = TraceEstimation.hutchinson(of: op, probes: 60, seed: 1)
        let plus = TraceEstimation.hutchPlusPlus(of: op, products: 60, seed: 1)
        #expect(plain.products == 60)
        for estimate in [plain, plus] {
            let error = try! #require(estimate.standardError)
            #expect(abs(estimate.value - exact) < 3 * error, "\(estimate.method): \(estimate.value) ± \(error) vs \(exact)")
        }
        // Hutch++'s 20-dimensional sketch takes the large eigenvalues out of the random part.
        #expect(plus.standardError! < plain.standardError!)
    }

    @Test func quadratureWeightsSumToOneAndReproduceTheProbesMoments() throws {
        let n = 60
        let matrix = TestMatrices.symmetric(n, seed: 8)
        let op = DenseSymmetricOperator(matrix)
        let steps = 12
        let density = try SpectralDensity(of: op, probes: 3, steps: steps, seed: 2)
        // Regenerate the probes: m Lanczos steps integrate polynomials of degree < 2m exactly, so each probe's
        // quadrature gives vᵀ A^k v for k up to 2m - 1.
        var random = RandomGenerator(seed: 2).stream("slq probes")
        for probe in density.probes {
            #expect(abs(probe.weights.reduce(0, +) - 1) < 1e-12)
            #expect(probe.nodes.count == steps)
            var v = scaled(TraceEstimation.rademacher(n, &random), by: 1 / Double(n).squareRoot())
            var power = v
            for k in 1...6 {
                power = op.apply(power)
                let expected = dot(v, power)
                let quadrature = zip(probe.nodes, probe.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(k)) }
                #expect(abs(quadrature - expected) < 1e-9 * max(1, abs(expected)), "k = \(k)")
            }
            v = []
        }
        // Averaged over many probes the moments estimate trace(A^k) / n.
        let many = try SpectralDensity(of: op, probes: 200, steps: 8, seed: 5)
        let second = TestMatrices.trace(Tensor.matmul(matrix, matrix)) / Double(n)
        #expect(abs(many.moment(2) - second) < 0.1 * second)
        #expect(abs(many.moment(1) - TestMatrices.trace(matrix) / Double(n)) < 0.1)
        // The smoothed density integrates to 1.
        let grid = Array(stride(from: -30.0, through: 30.0, by: 0.01))
        let integral = many.smoothed(on: grid, width: 0.5).reduce(0, +) * 0.01
        #expect(abs(integral - 1) < 1e-6)
        // Half of a Wigner matrix's eigenvalues are negative.
        let index = many.fraction(below: 0)
        #expect(abs(index.value - 0.5) < 0.1)
    }

    @Test func denseMaterializationRebuildsTheMatrix() {
        let matrix = TestMatrices.symmetric(7, seed: 1)
        #expect(maximumDifference(denseMatrix(of: DenseSymmetricOperator(matrix)), matrix) < 1e-14)
    }
}
