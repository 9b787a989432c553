import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// The loss landscape at the checkpoint: what every curvature number should be read beside.
public struct CurvaturePoint: Codable, Sendable {
    public var loss: Double
    public var accuracy: Double
    /// ‖∇L‖ in the measured subspace: near zero at a minimum; a large value means the "curvature at a
    /// minimum" reading does not apply.
    public var gradientNorm: Double
    /// Coordinates measured, and the model's parameter count.
    public var dimension: Int
    public var parameterCount: Int
    public var parameterNames: [String]
    /// Seconds for one full-data gradient.
    public var gradientSeconds: Double
}

/// One Ritz pair's value and residual norm ‖H x - θ x‖.
public struct RitzValue: Codable, Sendable, Equatable {
    public var value: Double
    public var residual: Double
}

/// The extreme eigenvalues from Lanczos.
public struct CurvatureEigenvalues: Codable, Sendable {
    /// Descending.
    public var largest: [RitzValue]
    /// Ascending (most negative first).
    public var smallest: [RitzValue]
    public var iterations: Int
    /// Operator products: one per step (residuals are verified from the stored products).
    public var products: Int
    public var converged: Bool
    public var seconds: Double
    /// Seconds per operator product (one Hessian-vector product for the Hessian).
    public var secondsPerProduct: Double
}

/// The trace by Hutchinson and by Hutch++.
public struct CurvatureTrace: Codable, Sendable {
    public var hutchinson: TraceEstimate
    public var hutchPlusPlus: TraceEstimate
    public var seconds: Double
}

/// The spectral density by stochastic Lanczos quadrature.
public struct CurvatureDensity: Codable, Sendable {
    public var density: SpectralDensity
    public var seconds: Double
}

/// Every eigenvalue, from the dense matrix.
public struct CurvatureSpectrum: Codable, Sendable {
    /// Ascending.
    public var eigenvalues: [Double]
    public var seconds: Double
}

/// What `CurvatureStudy` reports while it works.
public enum CurvatureProgress: Sendable {
    /// `products` operator products done in `stage`, of `total` when known; `detail` says how far
    /// convergence is.
    case products(stage: String, done: Int, total: Int?, secondsPerProduct: Double, detail: String)
    /// A stage found finished on disk.
    case skipped(stage: String)
}

/// Measures one curvature operator of a checkpoint, one stage per quantity (point, eigenvalues, trace,
/// density, dense spectrum), each written to its own JSON file and skipped when that file exists; the
/// report then builds curvature.json, eigenvalues.csv, density.svg and index.html from them.
public struct CurvatureStudy<Scalar: TensorScalar> {
    public let configuration: CurvatureConfiguration
    public let risk: EmpiricalRisk<Scalar>
    public let directory: URL

    public init(configuration: CurvatureConfiguration, risk: EmpiricalRisk<Scalar>, directory: URL) throws {
        try configuration.validate(dimension: risk.subspace.dimension)
        (self.configuration, self.risk, self.directory) = (configuration, risk, directory)
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Runs every stage not yet on disk, then builds the report.
    public func run(progress: @escaping (CurvatureProgress) -> Void = { _ in }) throws {
        _ = try stage("point.json", progress) { measurePoint() }
        let op = LossCurvature(configuration.operatorKind, of: risk, seed: configuration.seed)
        if configuration.top + configuration.bottom > 0 {
            _ = try stage("eigenvalues.json", progress) { try measureEigenvalues(op, progress) }
        }
        if configuration.traceProbes > 0 {
            _ = try stage("trace.json", progress) { measureTrace(op, progress) }
        }
        if configuration.densityProbes > 0 {
            _ = try stage("density.json", progress) { try measureDensity(op, progress) }
        }
        if configuration.dense {
            _ = try stage("spectrum.json", progress) { try measureSpectrum(op, progress) }
        }
        try CurvatureReport(directory: directory).build()
    }

    /// The stage's record from `name` if it exists, else computed and written.
    private func stage<Record: Codable>(_ name: String, _ progress: @escaping (CurvatureProgress) -> Void, _ compute: () throws -> Record) throws -> Record {
        let url = file(name)
        if FileManager.default.fileExists(atPath: url.path) {
            progress(.skipped(stage: String(name.dropLast(5))))
            return try RunStore.readJSON(Record.self, from: url)
        }
        let record = try compute()
        try ResultFiles.writeJSON(record, to: url)
        return record
    }

    private func measurePoint() -> CurvaturePoint {
        let start = Date()
        let (loss, accuracy, gradient) = risk.valueAndGradient()
        return CurvaturePoint(
            loss: loss, accuracy: accuracy, gradientNorm: gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), dimension: risk.subspace.dimension,
            parameterCount: risk.parameters.scalarCount, parameterNames: risk.subspace.names,
            gradientSeconds: Date().timeIntervalSince(start))
    }

    /// An operator that reports each product to `progress` under `stage`.
    private func counted(
        _ op: LossCurvature<Scalar>, stage: String, total: Int?, _ progress: @escaping (CurvatureProgress) -> Void,
        detail: @escaping () -> String = { "" }
    ) -> CountingOperator<LossCurvature<Scalar>> {
        let start = Date()
        return CountingOperator(op) { done in
            let perProduct = Date().timeIntervalSince(start) / Double(done)
            progress(.products(stage: stage, done: done, total: total, secondsPerProduct: perProduct, detail: detail()))
        }
    }

    private func measureEigenvalues(_ op: LossCurvature<Scalar>, _ progress: @escaping (CurvatureProgress) -> Void) throws -> CurvatureEigenvalues {
        var residual: Double?
        let tolerance = configuration.tolerance
        let counting = counted(op, stage: "eigenvalues", total: nil, progress) {
            residual.map { String(format: "relative residual %.1e (target %.0e)", $0, tolerance) } ?? ""
        }
        let start = Date()
        let result = try Lanczos.extremeEigenpairs(
            of: counting, largest: configuration.top, smallest: configuration.bottom, tolerance: tolerance,
            maxIterations: configuration.maxIterations, seed: configuration.seed, verifyResiduals: true
        ) { _, worst in
            if let worst { residual = worst }
        }
        let seconds = Date().timeIntervalSince(start)
        try writeEigenvectors(result)
        return CurvatureEigenvalues(
            largest: result.largest.map { RitzValue(value: $0.value, residual: $0.residual) },
            smallest: result.smallest.map { RitzValue(value: $0.value, residual: $0.residual) },
            iterations: result.iterations, products: counting.count, converged: result.converged, seconds: seconds,
            secondsPerProduct: seconds / Double(max(counting.count, 1)))
    }

    /// eigenvectors.safetensors: "largest.<i>.<parameter>" and "smallest.<i>.<parameter>" in the parameters'
    /// own shapes (float64; zero at pruned weights and in parameters outside the selection are absent).
    private func writeEigenvectors(_ result: ExtremeEigenpairs) throws {
        var file = SafeTensorsFile(metadata: [
            "format": "pt", "occam.operator": configuration.operatorKind.rawValue,
            "occam.parameters": configuration.parameters.description,
        ])
        for (end, pairs) in [("largest", result.largest), ("smallest", result.smallest)] {
            for (i, pair) in pairs.enumerated() {
                let tensors: [Tensor<Double>] = risk.subspace.expand(pair.vector)
                file.insert(ParameterSet(zip(risk.subspace.names, tensors).map { ($0, $1) }), prefix: "\(end).\(i).")
            }
        }
        try file.write(to: self.file("eigenvectors.safetensors"))
    }

    private func measureTrace(_ op: LossCurvature<Scalar>, _ progress: @escaping (CurvatureProgress) -> Void) -> CurvatureTrace {
        let products = configuration.traceProbes
        let start = Date()
        let plain = TraceEstimation.hutchinson(
            of: counted(op, stage: "trace (Hutchinson)", total: products, progress), probes: products, seed: configuration.seed)
        let plus = TraceEstimation.hutchPlusPlus(
            of: counted(op, stage: "trace (Hutch++)", total: products, progress), products: products, seed: configuration.seed)
        return CurvatureTrace(hutchinson: plain, hutchPlusPlus: plus, seconds: Date().timeIntervalSince(start))
    }

    private func measureDensity(_ op: LossCurvature<Scalar>, _ progress: @escaping (CurvatureProgress) -> Void) throws -> CurvatureDensity {
        let steps = min(configuration.densitySteps, risk.subspace.dimension)
        let total = configuration.densityProbes * steps
        let start = Date()
        let density = try SpectralDensity(
            of: counted(op, stage: "density", total: total, progress), probes: configuration.densityProbes, steps: steps,
            seed: configuration.seed)
        return CurvatureDensity(density: density, seconds: Date().timeIntervalSince(start))
    }

    private func measureSpectrum(_ op: LossCurvature<Scalar>, _ progress: @escaping (CurvatureProgress) -> Void) throws -> CurvatureSpectrum {
        let start = Date()
        let matrix = denseMatrix(of: counted(op, stage: "dense matrix", total: op.dimension, progress))
        let values = try matrix.symmetricEigendecomposition().values.scalars
        return CurvatureSpectrum(eigenvalues: values, seconds: Date().timeIntervalSince(start))
    }
}
