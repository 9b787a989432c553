import Foundation
import OccamData

/// A training run's config.json: the configuration's own keys (so the file decodes as a
/// `TrainingConfiguration`), plus the precision it ran in and what produced it (`Provenance`: Occam's
/// version and commit, the command line) under "precision" and "occam".
public struct TrainingRunFile: Codable, Sendable {
    public var configuration: TrainingConfiguration
    /// "float32" or "float64".
    public var precision: String?
    public var occam: Provenance?

    public init(configuration: TrainingConfiguration, precision: String, occam: Provenance? = .current) {
        (self.configuration, self.precision, self.occam) = (configuration, precision, occam)
    }

    private enum CodingKeys: String, CodingKey { case precision, occam }

    public func encode(to encoder: any Encoder) throws {
        try configuration.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(precision, forKey: .precision)
        try container.encodeIfPresent(occam, forKey: .occam)
    }

    public init(from decoder: any Decoder) throws {
        configuration = try TrainingConfiguration(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        precision = try container.decodeIfPresent(String.self, forKey: .precision)
        occam = try container.decodeIfPresent(Provenance.self, forKey: .occam)
    }
}
