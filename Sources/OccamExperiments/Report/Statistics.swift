/// Mean and sample standard deviation of replicate measurements.
public struct Spread: Codable, Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator); 0 for a single value.
    public var standardDeviation: Double
    public var count: Int

    /// The spread of `values`; NaN mean for none.
    public init(_ values: [Double]) {
        count = values.count
        let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        self.mean = mean
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        standardDeviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
    }
}
