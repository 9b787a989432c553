import Foundation
import OccamAnalysis
import OccamNN
import OccamTensor

/// How `NetworkCurvature.measure` measures one network: the curvature matrix, how many of its eigenvalues, the
/// trace, and the prior of the Laplace evidence. Part of every configuration that measures networks.
public struct CurvatureSummaryOptions: Codable, Hashable, Sendable {
    public var operatorKind: CurvatureKind = .ggn
    /// The `top` largest eigenvalues by Lanczos (full re-orthogonalization); the others count as zero in N_eff
    /// and in the evidence.
    public var top = 20
    /// Every eigenvalue from the dense matrix (LAPACK syevd) instead of Lanczos; up to
    /// `CurvatureConfiguration.denseLimit` coordinates.
    public var dense = false
    /// Lanczos stops when every wanted pair's residual is at most this times the largest eigenvalue.
    public var tolerance = 1e-4
    public var maxIterations: Int?
    /// Hutch++ products for the trace; 0 measures none. With `dense`, the exact trace is used instead.
    public var traceProducts = 30
    /// z of N_eff(H, z) = Σ λ_i / (λ_i + z) on the mean loss's eigenvalues (Maddox et al.: 1).
    public var effectiveDimensionalityScale = 1.0
    /// δ of the prior N(0, δ⁻¹ I); nil: MacKay's fixed point δ = γ / ‖θ*‖².
    public var priorPrecision: Double?
    /// Fixes the Lanczos start and the trace's probes.
    public var seed: UInt64 = 0

    public init() {}

    /// Checks the options; the messages name the command-line options.
    public func validate() throws {
        try ExperimentError.require(dense || top >= 1, "--top must be at least 1 (or give --dense)")
        try ExperimentError.require(tolerance > 0 && tolerance < 1 && tolerance.isFinite, "--tolerance must be in (0, 1)")
        try ExperimentError.require((maxIterations ?? Int.max) >= max(1, top), "--max-iterations must be at least --top (\(top))")
        try ExperimentError.require(
            traceProducts == 0 || traceProducts >= 6,
            "--trace-products must be 0 or at least 6 (Hutch++ spends a third on its sketch and needs two more for a standard error)")
        try ExperimentError.require(
            effectiveDimensionalityScale > 0 && effectiveDimensionalityScale.isFinite, "--neff-scale must be positive")
        try ExperimentError.require(
            priorPrecision.map { $0 > 0 && $0.isFinite } ?? true, "--prior-precision must be positive (or left out to fit it by MacKay's rule)")
    }

    /// The check that needs the measured subspace's dimension.
    public func validate(dimension: Int) throws {
        try ExperimentError.require(
            !dense || dimension <= CurvatureConfiguration.denseLimit,
            "--dense needs at most \(CurvatureConfiguration.denseLimit) coordinates; this selection has \(dimension) (use --top, or --parameters to measure fewer)")
    }
}

/// One network's curvature summary at its weights: the point (loss, accuracy, gradient), the largest
/// eigenvalues, the trace, the effective dimensionality and the Laplace evidence. Every curvature study
/// (`occam evidence`, `occam flatness`) measures its networks with `measure`.
///
/// Eigenvalues, trace and N_eff are those of the *mean* loss L = (1/N) Σ ℓ_n (as `occam curvature` reports
/// them); the evidence uses the curvature of the negative log-likelihood Σ ℓ_n, N times larger.
public struct NetworkCurvature: Codable, Sendable {
    public var operatorKind: CurvatureKind
    /// N: the samples of the loss.
    public var samples: Int
    public var loss: Double
    public var accuracy: Double
    /// ‖∇L‖ over the measured coordinates.
    public var gradientNorm: Double
    /// P: the coordinates measured (and covered by the prior), and the model's parameter count.
    public var dimension: Int
    public var parameterCount: Int
    /// ‖θ*‖² over the measured coordinates.
    public var squaredNorm: Double
    /// The mean loss's eigenvalues, descending: the `top` largest (Lanczos) or all of them (dense).
    public var eigenvalues: [Double]
    /// "lanczos" or "dense".
    public var eigenvalueMethod: String
    /// Lanczos: the largest residual among the pairs (Lanczos's own estimate |β_m y_m|, equal to ‖H x - θ x‖ in exact
    /// arithmetic; verifying it from stored products costs more than the products on a wide network), its steps and
    /// whether all pairs converged.
    public var largestResidual: Double?
    public var lanczosSteps: Int?
    public var converged: Bool
    /// The trace of the mean loss's curvature: exact (dense) or Hutch++ with its standard error.
    public var trace: Double?
    public var traceStandardError: Double?
    public var traceMethod: String?
    /// N_eff(H, z) of the mean loss's eigenvalues at z = `effectiveDimensionalityScale`.
    public var effectiveDimensionality: Double
    public var effectiveDimensionalityScale: Double
    /// log p(D | θ*) = -Σ ℓ_n for cross-entropy; for squared error the Gaussian likelihood with variance ½ per
    /// output (whose negative log-density is the squared error), -Σ ℓ_n - (N C / 2) log π.
    public var logLikelihood: Double
    /// MacKay's δ for these eigenvalues and ‖θ*‖²; nil when no eigenvalue is positive.
    public var macKayPrecision: Double?
    /// The Laplace evidence at the options' δ, or at MacKay's; nil when neither exists.
    public var evidence: LaplaceEvidence?
    /// Operator products and seconds spent.
    public var products: Int
    public var seconds: Double

    /// The largest eigenvalue.
    public var topEigenvalue: Double? { eigenvalues.first }

    /// The curvature of the negative log-likelihood: N λ_i, descending.
    public var logLikelihoodEigenvalues: [Double] { eigenvalues.map { Double(samples) * $0 } }

    /// The Laplace evidence at prior precision `delta` from the stored eigenvalues.
    public func evidence(priorPrecision delta: Double) -> LaplaceEvidence {
        LaplaceEvidence(
            logLikelihood: logLikelihood, eigenvalues: logLikelihoodEigenvalues, squaredNorm: squaredNorm, dimension: dimension,
            priorPrecision: delta)
    }

    /// Measures `risk`'s curvature summary at its parameters over its subspace.
    /// - Parameter progress: each operator product (stages "eigenvalues", "dense matrix", "trace").
    /// - Throws: `ExperimentError` for options the subspace cannot meet; `LinearAlgebraError` from LAPACK.
    public static func measure<Scalar: TensorScalar>(
        _ risk: EmpiricalRisk<Scalar>, options: CurvatureSummaryOptions, progress: @escaping (CurvatureProgress) -> Void = { _ in }
    ) throws -> NetworkCurvature {
        try options.validate()
        try options.validate(dimension: risk.subspace.dimension)
        let start = Date()
        let (loss, accuracy, gradient) = risk.valueAndGradient()
        let op = LossCurvature(options.operatorKind, of: risk, seed: options.seed)
        var products = 0
        func counted(_ stage: String, total: Int?) -> CountingOperator<LossCurvature<Scalar>> {
            let stageStart = Date()
            return CountingOperator(op) { done in
                products += 1
                progress(.products(
                    stage: stage, done: done, total: total, secondsPerProduct: Date().timeIntervalSince(stageStart) / Double(done), detail: ""))
            }
        }
        let n = risk.subspace.dimension
        var eigenvalues: [Double], method: String, residual: Double?, steps: Int?, converged = true
        var trace: Double?, traceError: Double?, traceMethod: String?
        if options.dense {
            let matrix = denseMatrix(of: counted("dense matrix", total: n))
            eigenvalues = try matrix.symmetricEigendecomposition().values.scalars.reversed()
            method = "dense"
            (trace, traceMethod) = (eigenvalues.reduce(0, +), "exact, from the dense spectrum")
        } else {
            let result = try Lanczos.extremeEigenpairs(
                of: counted("eigenvalues", total: nil), largest: min(options.top, n), tolerance: options.tolerance,
                maxIterations: options.maxIterations, seed: options.seed, verifyResiduals: false)
            eigenvalues = result.largest.map(\.value)
            (method, residual, steps, converged) = ("lanczos", result.largest.map(\.residual).max(), result.iterations, result.converged)
            if options.traceProducts > 0 {
                let estimate = TraceEstimation.hutchPlusPlus(
                    of: counted("trace", total: options.traceProducts), products: options.traceProducts, seed: options.seed)
                (trace, traceError, traceMethod) = (estimate.value, estimate.standardError, "Hutch++, \(estimate.products) products")
            }
        }
        let parameters = risk.subspace.flatten(risk.parameters)
        var measurement = NetworkCurvature(
            operatorKind: options.operatorKind, samples: risk.count, loss: loss, accuracy: accuracy,
            gradientNorm: gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), dimension: n, parameterCount: risk.parameters.scalarCount,
            squaredNorm: parameters.reduce(0) { $0 + $1 * $1 }, eigenvalues: eigenvalues, eigenvalueMethod: method, largestResidual: residual,
            lanczosSteps: steps, converged: converged, trace: trace, traceStandardError: traceError, traceMethod: traceMethod,
            effectiveDimensionality: LaplaceEvidence.effectiveDimensionality(eigenvalues, scale: options.effectiveDimensionalityScale),
            effectiveDimensionalityScale: options.effectiveDimensionalityScale,
            logLikelihood: logLikelihood(meanLoss: loss, samples: risk.count, classes: risk.model.classes, loss: risk.loss),
            macKayPrecision: nil, evidence: nil, products: 0, seconds: 0)
        measurement.macKayPrecision = LaplaceEvidence.macKayPrecision(
            eigenvalues: measurement.logLikelihoodEigenvalues, squaredNorm: measurement.squaredNorm)
        measurement.evidence = (options.priorPrecision ?? measurement.macKayPrecision).map { measurement.evidence(priorPrecision: $0) }
        (measurement.products, measurement.seconds) = (products, Date().timeIntervalSince(start))
        return measurement
    }

    /// log p(D | θ) of a mean loss over N samples of C classes (see `logLikelihood`).
    static func logLikelihood(meanLoss: Double, samples: Int, classes: Int, loss: Loss) -> Double {
        switch loss {
        case .crossEntropy: -Double(samples) * meanLoss
        case .meanSquaredError: -Double(samples) * (meanLoss + 0.5 * Double(classes) * log(Double.pi))
        }
    }
}

extension CurvatureProgress {
    /// This product as a study's progress event: "curvature: eigenvalues" and the fraction done, for Lanczos
    /// against its step limit (an upper bound: it usually stops sooner); nil for a skipped stage.
    func studyEvent(options: CurvatureSummaryOptions, dimension: Int) -> StudyEvent? {
        guard case .products(let stage, let done, let total, _, _) = self else { return nil }
        let limit = total ?? min(dimension, options.maxIterations ?? max(300, 4 * options.top))
        return .progress(phase: "curvature: \(stage)", fraction: min(1, Double(done) / Double(max(limit, 1))))
    }
}
