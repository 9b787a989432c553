import Foundation

/// How far one layer's weights at iteration k have moved from their initialization, and how much they already
/// resemble the trained weights: a line of weight-statistics.csv.
public struct LayerWeightStatistics: Codable, Sendable, Equatable {
    public var replicate: Int
    /// The iteration k of the dense run.
    public var iteration: Int
    /// The parameter's name ("fc1.weight").
    public var layer: String
    /// The two-sample Kolmogorov–Smirnov statistic between the layer's values at initialization and at k.
    public var ksFromInitialization: Double
    /// The Wasserstein-1 distance between those two empirical distributions, divided by the initial values'
    /// standard deviation (so layers of different scales compare).
    public var wassersteinFromInitialization: Double
    /// |W_k − W_0| / |W_0| (Frobenius norms): how far the weights themselves moved, not only their distribution.
    public var relativeDistanceFromInitialization: Double
    /// Pearson's correlation of W_k with the dense run's final weights, element by element.
    public var correlationWithFinal: Double
}

/// Distances between empirical distributions and correlations of weight vectors.
public enum WeightDistribution {
    /// The two-sample Kolmogorov–Smirnov statistic sup_x |F_a(x) − F_b(x)| and the Wasserstein-1 distance
    /// ∫ |F_a(x) − F_b(x)| dx of the empirical distribution functions of `a` and `b` (any sizes, ties allowed).
    /// Both are 0 for empty input.
    public static func distances(_ a: [Double], _ b: [Double]) -> (ks: Double, wasserstein: Double) {
        guard !a.isEmpty, !b.isEmpty else { return (0, 0) }
        let a = a.sorted(), b = b.sorted()
        var (i, j) = (0, 0)
        var (ks, area) = (0.0, 0.0)
        var previous = min(a[0], b[0])
        while i < a.count || j < b.count {
            let x = min(i < a.count ? a[i] : .infinity, j < b.count ? b[j] : .infinity)
            // Between the previous point and x both distribution functions are constant.
            area += abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)) * (x - previous)
            while i < a.count && a[i] == x { i += 1 }
            while j < b.count && b[j] == x { j += 1 }
            ks = max(ks, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
            previous = x
        }
        return (ks, area)
    }

    /// Pearson's correlation of `a` and `b` (equal lengths, precondition); nan when either is constant.
    public static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "correlation: \(a.count) and \(b.count) values")
        let n = Double(a.count)
        let meanA = a.reduce(0, +) / n, meanB = b.reduce(0, +) / n
        var (ab, aa, bb) = (0.0, 0.0, 0.0)
        for (x, y) in zip(a, b) {
            ab += (x - meanA) * (y - meanB)
            aa += (x - meanA) * (x - meanA)
            bb += (y - meanB) * (y - meanB)
        }
        return ab / (aa * bb).squareRoot()
    }

    /// The statistics of one layer: `initial`, `rewound` (at `iteration`) and `final` values, equal lengths.
    public static func layerStatistics(
        replicate: Int, iteration: Int, layer: String, initial: [Double], rewound: [Double], final: [Double]
    ) -> LayerWeightStatistics {
        let (ks, wasserstein) = distances(initial, rewound)
        let mean = initial.reduce(0, +) / Double(initial.count)
        let spread = (initial.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(initial.count)).squareRoot()
        let moved = zip(rewound, initial).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let norm = initial.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return LayerWeightStatistics(
            replicate: replicate, iteration: iteration, layer: layer, ksFromInitialization: ks,
            wassersteinFromInitialization: spread > 0 ? wasserstein / spread : wasserstein,
            relativeDistanceFromInitialization: norm > 0 ? moved / norm : moved, correlationWithFinal: correlation(rewound, final))
    }
}
