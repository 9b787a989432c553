import Foundation

/// Mean and sample standard deviation of replicate measurements.
public struct Spread: Codable, Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator); NaN (JSON null) for fewer than two values: the
    /// spread of one value is undefined, not zero.
    public var standardDeviation: Double
    public var count: Int

    /// The spread of `values`; NaN mean for none (written as null in JSON).
    public init(_ values: [Double]) {
        count = values.count
        let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        self.mean = mean
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        standardDeviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : .nan
    }

    /// A spread from its parts (for tests and stored summaries).
    public init(mean: Double, standardDeviation: Double, count: Int) {
        (self.mean, self.standardDeviation, self.count) = (mean, count > 1 ? standardDeviation : .nan, count)
    }

    /// The standard deviation where it is defined (two or more values), else nil: what error bars take.
    public var errorBar: Double? { count > 1 && standardDeviation.isFinite ? standardDeviation : nil }

    /// "87.28 ± 0.50% (n = 3)", "87.28% (n = 1)", or "none" when there are no values.
    /// - Parameters: digits: decimals of the mean and standard deviation; unit: written after the numbers.
    public func text(digits: Int = 2, unit: String = "") -> String {
        guard count > 0, mean.isFinite else { return "none" }
        let value = String(format: "%.\(digits)f", mean)
        guard let error = errorBar else { return "\(value)\(unit) (n = \(count))" }
        return "\(value) ± \(String(format: "%.\(digits)f", error))\(unit) (n = \(count))"
    }

    private enum CodingKeys: String, CodingKey { case mean, standardDeviation, count }

    /// Undefined values (no mean for no values, no standard deviation for fewer than two) are written as null
    /// (JSON has no NaN).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mean.isFinite ? mean : nil, forKey: .mean)
        try container.encode(standardDeviation.isFinite ? standardDeviation : nil, forKey: .standardDeviation)
        try container.encode(count, forKey: .count)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mean = try container.decodeIfPresent(Double.self, forKey: .mean) ?? .nan
        standardDeviation = try container.decodeIfPresent(Double.self, forKey: .standardDeviation) ?? .nan
        count = try container.decode(Int.self, forKey: .count)
        if count < 2 { standardDeviation = .nan }
    }
}
