import Foundation
import OccamAnalysis
import OccamData
import OccamTensor

/// Measures a checkpoint's curvature summary (`NetworkCurvature`) into measurement.json, skipped when that
/// file exists; the report then computes the evidence, its parts and each direction's Occam factor from it.
public struct EvidenceStudy<Scalar: TensorScalar> {
    public let configuration: EvidenceConfiguration
    public let risk: EmpiricalRisk<Scalar>
    public let directory: URL

    /// - Throws: `ExperimentError` for options the measured subspace cannot meet.
    public init(configuration: EvidenceConfiguration, risk: EmpiricalRisk<Scalar>, directory: URL) throws {
        try configuration.validate()
        try configuration.curvature.validate(dimension: risk.subspace.dimension)
        (self.configuration, self.risk, self.directory) = (configuration, risk, directory)
    }

    /// Measures unless measurement.json exists, then builds the report.
    @discardableResult
    public func run(progress: @escaping (CurvatureProgress) -> Void = { _ in }) throws -> EvidenceSummary {
        let url = directory.appendingPathComponent(EvidenceReport.measurementFile)
        if FileManager.default.fileExists(atPath: url.path) {
            progress(.skipped(stage: "measurement"))
        } else {
            let measurement = try NetworkCurvature.measure(risk, options: configuration.curvature, progress: progress)
            try ResultFiles.writeJSON(measurement, to: url)
        }
        return try EvidenceReport(directory: directory).build()
    }
}
