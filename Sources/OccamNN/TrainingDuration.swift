import Foundation

/// A point in training written as OpenLTH writes it: "500it" (iterations, i.e. batches) or "2ep" (epochs).
public struct TrainingDuration: Codable, Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    public enum Unit: String, Codable, Sendable { case iterations = "it", epochs = "ep" }
    public var amount: Int
    public var unit: Unit

    public init(iterations: Int) { (amount, unit) = (iterations, .iterations) }
    public init(epochs: Int) { (amount, unit) = (epochs, .epochs) }

    /// Parses "500it" or "2ep"; nil for anything else.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in [Unit.iterations, .epochs] where trimmed.hasSuffix(unit.rawValue) {
            guard let amount = Int(trimmed.dropLast(unit.rawValue.count)), amount >= 0 else { return nil }
            (self.amount, self.unit) = (amount, unit)
            return
        }
        return nil
    }

    public var description: String { "\(amount)\(unit.rawValue)" }

    /// The number of iterations, with `iterationsPerEpoch` batches in an epoch.
    public func iterations(perEpoch iterationsPerEpoch: Int) -> Int {
        guard unit == .epochs else { return amount }
        // Saturates instead of trapping; `TrainingConfiguration.validate` refuses such lengths first.
        let (product, overflow) = amount.multipliedReportingOverflow(by: iterationsPerEpoch)
        return overflow ? Int.max : product
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = TrainingDuration(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not like 500it or 2ep"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
