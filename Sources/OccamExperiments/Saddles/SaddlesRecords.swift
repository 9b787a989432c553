import OccamAnalysis

/// One SGD run from a random initialization: the full-data loss at each snapshot step, and the points there
/// (where the critical-point searches start).
public struct SaddlesTrajectory: Codable, Sendable {
    public var trajectory: Int
    public var steps: [Int]
    public var losses: [Double]
    /// The parameters at each step, flat `[parameterCount]`.
    public var snapshots: [[Double]]
    public var seconds: Double
}

/// Where one critical-point search started and what it reached: loss, training error, ‖∇f‖, and the exact
/// Hessian spectrum there.
public struct SaddlesPoint: Codable, Sendable {
    public var trajectory: Int
    /// The SGD step the search started from (0: the random initialization).
    public var step: Int
    public var startLoss: Double
    public var startGradientNorm: Double
    public var loss: Double
    /// The fraction of the samples misclassified at the point.
    public var trainingError: Double
    public var gradientNorm: Double
    public var kind: CriticalPointKind
    public var index: HessianIndex
    /// The share of ‖∇f‖² along eigenvalues with |λ| ≤ `flatThreshold` (see `CriticalPointResult`).
    public var flatGradientShare: Double
    public var flatThreshold: Double
    /// Ascending, every eigenvalue (dense Float64 Hessian, LAPACK syevd).
    public var eigenvalues: [Double]
    public var iterations: [CriticalPointIteration]
    public var hessians: Int
    public var gradients: Int
    public var seconds: Double
}

/// The optimizers `--compare-optimizers` runs from the same starts.
public enum ComparedOptimizer: String, Codable, Sendable, CaseIterable {
    case sgd
    case newton
    case saddleFreeNewton = "saddle-free-newton"

    public var displayName: String {
        switch self {
        case .sgd: "SGD"
        case .newton: "damped Newton"
        case .saddleFreeNewton: "saddle-free Newton"
        }
    }
}

/// One measurement along an optimizer's path.
public struct OptimizerPathRecord: Codable, Sendable {
    public var iteration: Int
    /// Optimizer seconds so far (measurements of the path, such as SGD's Lanczos probes, not counted).
    public var seconds: Double
    public var loss: Double
    public var trainingError: Double
    public var gradientNorm: Double
    /// The Hessian's smallest eigenvalue at the point (exact for the Newton methods; Lanczos for SGD), when
    /// measured.
    public var smallestEigenvalue: Double?
}

/// One optimizer's path from one start.
public struct OptimizerPath: Codable, Sendable {
    public var optimizer: ComparedOptimizer
    public var start: Int
    public var records: [OptimizerPathRecord]
    public var seconds: Double
}
