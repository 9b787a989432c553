import Foundation
import OccamTensor

/// A spectral density estimated by stochastic Lanczos quadrature (Lin, Saad & Yang 2016; Ghorbani, Krishnan
/// & Xiao 2019): for each random unit probe v, m Lanczos steps give a tridiagonal T; its eigenvalues are
/// quadrature nodes and the squared FIRST components of its eigenvectors their weights, so that
/// Σ_j w_j g(θ_j) ≈ vᵀ g(A) v and, averaged over probes, trace(g(A)) / n.
public struct SpectralDensity: Sendable, Codable {
    /// One probe's quadrature: nodes (ascending) and weights summing to 1.
    public struct Quadrature: Sendable, Codable {
        public var nodes: [Double]
        public var weights: [Double]
        public init(nodes: [Double], weights: [Double]) { (self.nodes, self.weights) = (nodes, weights) }
    }

    public var probes: [Quadrature]
    /// The operator's dimension n.
    public var dimension: Int

    /// A density from quadratures already computed.
    public init(probes: [Quadrature], dimension: Int) { (self.probes, self.dimension) = (probes, dimension) }

    /// The density of `op` from `probeCount` Rademacher probes with `steps` Lanczos steps each (full
    /// re-orthogonalization; at most n steps).
    /// - Throws: `LinearAlgebraError` if LAPACK fails on a tridiagonal matrix.
    public init(of op: some SymmetricOperator, probes probeCount: Int, steps: Int, seed: UInt64 = 0,
                progress: (Int) -> Void = { _ in }) throws {
        precondition(probeCount >= 1 && steps >= 1, "SpectralDensity: \(probeCount) probes of \(steps) steps")
        let n = op.dimension
        var random = RandomGenerator(seed: seed).stream("slq probes")
        var quadratures: [Quadrature] = []
        var products = 0
        for _ in 0..<probeCount {
            var q = scaled(TraceEstimation.rademacher(n, &random), by: 1 / Double(n).squareRoot())
            var basis = KrylovBasis(dimension: n)
            var alphas: [Double] = [], betas: [Double] = []
            while basis.count < min(steps, n) {
                basis.append(q)
                var w = op.apply(q)
                products += 1
                progress(products)
                alphas.append(dot(q, w))
                basis.orthogonalize(&w)
                let beta = norm(w)
                if beta <= 1e-12 * max(alphas.map(abs).max() ?? 0, 1e-300) || basis.count == min(steps, n) { break }
                betas.append(beta)
                q = scaled(w, by: 1 / beta)
            }
            let ritz = try Lanczos.ritzPairs(alphas: alphas, betas: Array(betas.prefix(alphas.count - 1)), lastBeta: 0)
            let weights = (0..<alphas.count).map { ritz.vectors[0, $0] * ritz.vectors[0, $0] }
            quadratures.append(Quadrature(nodes: ritz.values, weights: weights))
        }
        (self.probes, self.dimension) = (quadratures, n)
    }

    /// Σ_j w_j θ_j^k averaged over probes: an estimate of trace(A^k) / n (exact in expectation for k < 2m).
    public func moment(_ k: Int) -> Double {
        probes.reduce(0.0) { sum, probe in
            sum + zip(probe.nodes, probe.weights).reduce(0.0) { $0 + $1.1 * Foundation.pow($1.0, Double(k)) }
        } / Double(probes.count)
    }

    /// The magnitude below which an eigenvalue of an n x n operator computed with machine epsilon `epsilon`
    /// and largest |eigenvalue| `scale` cannot be told from zero: 10 √n ε scale. A network's many zero
    /// eigenvalues come out of any solver as ± rounding; counting those below 0 as negative would report half
    /// of them as an index.
    public static func roundingThreshold(dimension: Int, scale: Double, epsilon: Double) -> Double {
        10 * Double(dimension).squareRoot() * epsilon * scale
    }

    /// The estimated fraction of eigenvalues below `threshold` (the index for threshold 0), with the spread
    /// over probes as standard error.
    public func fraction(below threshold: Double) -> (value: Double, standardError: Double?) {
        let perProbe = probes.map { probe in zip(probe.nodes, probe.weights).filter { $0.0 < threshold }.reduce(0.0) { $0 + $1.1 } }
        let (mean, error) = TraceEstimation.meanAndStandardError(perProbe)
        return (mean, error)
    }

    /// The density smoothed by a Gaussian of standard deviation `width` at each of `grid`'s points
    /// (integrates to 1 over the line).
    public func smoothed(on grid: [Double], width: Double) -> [Double] {
        precondition(width > 0, "SpectralDensity.smoothed: width \(width)")
        let normalizer = 1 / (width * (2 * Double.pi).squareRoot() * Double(probes.count))
        return grid.map { t in
            var sum = 0.0
            for probe in probes {
                for (node, weight) in zip(probe.nodes, probe.weights) {
                    let z = (t - node) / width
                    sum += weight * Foundation.exp(-0.5 * z * z)
                }
            }
            return sum * normalizer
        }
    }

    /// All nodes of all probes: the range a plot should cover.
    public var nodeRange: ClosedRange<Double> {
        let nodes = probes.flatMap(\.nodes)
        return (nodes.min() ?? 0)...(nodes.max() ?? 0)
    }
}
