import ArgumentParser
import OccamAnalysis
import OccamExperiments

/// The options of a network's curvature summary: the curvature matrix, its eigenvalues and trace, N_eff's scale
/// and the prior of the Laplace evidence.
struct CurvatureSummaryOptionGroup: ParsableArguments {
    @Option(name: .customLong("operator"), help: "Curvature matrix: ggn (positive semi-definite), hessian, fisher, fisher-mc or empirical-fisher.")
    var operatorKind: CurvatureKind = .ggn

    @Option(parsing: .unconditional, help: "How many of the largest eigenvalues (Lanczos); the others count as zero.")
    var top = 20

    @Flag(help: "Every eigenvalue from the dense matrix (LAPACK syevd) instead of Lanczos; up to 10,000 coordinates.")
    var dense = false

    @Option(parsing: .unconditional, help: "Lanczos stops when each pair's residual is at most this times the largest eigenvalue.")
    var tolerance = 1e-4

    @Option(parsing: .unconditional, help: "At most this many Lanczos steps (default: max(300, 4 x --top)).")
    var maxIterations: Int?

    @Option(parsing: .unconditional, help: "Hutch++ products for the trace (0: none; exact with --dense).")
    var traceProducts = 30

    @Option(parsing: .unconditional, help: "z of the effective dimensionality N_eff = sum of lambda / (lambda + z) on the mean loss's eigenvalues.")
    var neffScale = 1.0

    @Option(parsing: .unconditional, help: "Prior precision delta of N(0, I/delta) (default: MacKay's fixed point delta = gamma / |theta|^2).")
    var priorPrecision: Double?

    /// The options as the library takes them (validated by the configurations that hold them).
    func options(seed: UInt64) -> CurvatureSummaryOptions {
        var o = CurvatureSummaryOptions()
        (o.operatorKind, o.top, o.dense, o.tolerance, o.maxIterations) = (operatorKind, top, dense, tolerance, maxIterations)
        (o.traceProducts, o.effectiveDimensionalityScale, o.priorPrecision, o.seed) = (traceProducts, neffScale, priorPrecision, seed)
        return o
    }
}
