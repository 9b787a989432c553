/// Mean and sample standard deviation of replicate measurements.
public struct Spread: Codable, Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator); 0 for a single value.
    public var standardDeviation: Double
    public var count: Int

    /// The spread of `values`; NaN mean for none (written as null in JSON).
    public init(_ values: [Double]) {
        count = values.count
        let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        self.mean = mean
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        standardDeviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
    }

    private enum CodingKeys: String, CodingKey { case mean, standardDeviation, count }

    /// A spread of no values is written with null mean and standard deviation (JSON has no NaN).
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
    }
}
