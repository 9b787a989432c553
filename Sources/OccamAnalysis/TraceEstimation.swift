import OccamTensor

/// A stochastic estimate of a trace with its standard error.
public struct TraceEstimate: Sendable, Codable, Equatable {
    public var value: Double
    /// The standard error of `value` (the sample standard deviation of the random part over √probes);
    /// nil with fewer than two probes.
    public var standardError: Double?
    /// Operator products used.
    public var products: Int
    public var method: String
}

/// Hutchinson's trace estimator and Hutch++ (Meyer, Musco, Musco & Woodruff 2021).
public enum TraceEstimation {
    /// A vector of independent ±1 entries.
    static func rademacher(_ n: Int, _ random: inout RandomGenerator) -> [Double] {
        (0..<n).map { _ in random.next() & 1 == 0 ? -1 : 1 }
    }

    /// trace(A) ≈ mean of zᵀ A z over `probes` Rademacher vectors z (unbiased), with its standard error.
    public static func hutchinson(of op: some SymmetricOperator, probes: Int, seed: UInt64 = 0) -> TraceEstimate {
        precondition(probes >= 1, "hutchinson: \(probes) probes")
        var random = RandomGenerator(seed: seed).stream("hutchinson probes")
        let samples = (0..<probes).map { _ in
            let z = rademacher(op.dimension, &random)
            return dot(z, op.apply(z))
        }
        let (mean, error) = meanAndStandardError(samples)
        return TraceEstimate(value: mean, standardError: error, products: probes, method: "hutchinson")
    }

    /// Hutch++ with `products` operator products (a multiple of 3 is used): the trace of A on the span of
    /// A S (S: products/3 Rademacher vectors) exactly, plus Hutchinson on the rest. Far smaller variance than
    /// Hutchinson when a few eigenvalues dominate, as in network Hessians. The standard error covers the
    /// Hutchinson part.
    public static func hutchPlusPlus(of op: some SymmetricOperator, products: Int, seed: UInt64 = 0) -> TraceEstimate {
        let k = max(1, products / 3)
        let n = op.dimension
        var random = RandomGenerator(seed: seed).stream("hutch++ probes")
        var basis = KrylovBasis(dimension: n)
        for _ in 0..<k {
            var y = op.apply(rademacher(n, &random))
            basis.orthogonalize(&y)
            let length = norm(y)
            if length > 1e-12 * Double(n).squareRoot() { basis.append(scaled(y, by: 1 / length)) }
        }
        let projected = (0..<basis.count).reduce(0.0) { sum, i in
            let q = basis[i]
            return sum + dot(q, op.apply(q))
        }
        let samples = (0..<k).map { _ in
            var g = rademacher(n, &random)
            basis.orthogonalize(&g)
            return dot(g, op.apply(g))
        }
        let (mean, error) = meanAndStandardError(samples)
        return TraceEstimate(value: projected + mean, standardError: error, products: k + basis.count + k, method: "hutch++")
    }

    /// The mean and, for two or more values, the standard error of the mean.
    static func meanAndStandardError(_ values: [Double]) -> (Double, Double?) {
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count >= 2 else { return (mean, nil) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, (variance / Double(values.count)).squareRoot())
    }
}
