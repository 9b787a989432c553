import Foundation

/// Pearson's chi-square test of observed counts against expected probabilities.
public struct ChiSquareTest: Codable, Sendable, Equatable {
    public var statistic: Double
    public var degreesOfFreedom: Int
    /// P(χ² ≥ statistic) for a chi-square variable with `degreesOfFreedom`.
    public var pValue: Double

    /// Tests `observed` counts against `probabilities` (summing to 1, all positive); degrees of freedom:
    /// categories - 1.
    public init(observed: [Double], probabilities: [Double]) {
        precondition(observed.count == probabilities.count && observed.count >= 2, "ChiSquareTest: \(observed.count) counts for \(probabilities.count) probabilities")
        let total = observed.reduce(0, +)
        statistic = zip(observed, probabilities).reduce(0) { sum, pair in
            let expected = total * pair.1
            return sum + (pair.0 - expected) * (pair.0 - expected) / expected
        }
        degreesOfFreedom = observed.count - 1
        pValue = Self.survival(statistic, degreesOfFreedom: degreesOfFreedom)
    }

    /// P(χ²_k ≥ x) = Q(k/2, x/2), the regularized upper incomplete gamma function.
    public static func survival(_ x: Double, degreesOfFreedom k: Int) -> Double {
        precondition(k >= 1, "ChiSquareTest.survival: degrees of freedom \(k) < 1")
        return x <= 0 ? 1 : regularizedUpperGamma(Double(k) / 2, x / 2)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a): by the series of P(a, x) for x < a + 1, else by the continued fraction of Q
    /// (modified Lentz), both to relative precision 1e-15.
    static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        let logPrefactor = a * Foundation.log(x) - x - Foundation.lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * Foundation.exp(logPrefactor))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return Foundation.exp(logPrefactor) * h
    }
}

/// A least-squares line y = intercept + slope x, with the slope's standard error.
public struct LineFit: Codable, Sendable, Equatable {
    public var slope: Double
    public var intercept: Double
    /// NaN (null) for fewer than three points.
    public var slopeStandardError: Double
    public var points: Int

    public init?(x: [Double], y: [Double]) {
        let n = Double(x.count)
        guard x.count >= 2, x.count == y.count else { return nil }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        guard sxx > 0 else { return nil }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxy / sxx, intercept = my - slope * mx
        (self.slope, self.intercept) = (slope, intercept)
        let residual = zip(x, y).reduce(0) { $0 + pow($1.1 - (intercept + slope * $1.0), 2) }
        slopeStandardError = x.count > 2 ? (residual / (n - 2) / sxx).squareRoot() : .nan
        points = x.count
    }

    private enum CodingKeys: String, CodingKey { case slope, intercept, slopeStandardError, points }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(slope, forKey: .slope)
        try container.encode(intercept, forKey: .intercept)
        try container.encode(slopeStandardError.isFinite ? slopeStandardError : nil, forKey: .slopeStandardError)
        try container.encode(points, forKey: .points)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        slope = try container.decode(Double.self, forKey: .slope)
        intercept = try container.decode(Double.self, forKey: .intercept)
        slopeStandardError = try container.decodeIfPresent(Double.self, forKey: .slopeStandardError) ?? .nan
        points = try container.decode(Int.self, forKey: .points)
    }
}
