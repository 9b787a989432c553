import OccamAutograd
import OccamTensor

/// Zhang et al. (2017), Section 5: SGD on under-determined least squares finds the minimum-norm interpolant.
///
/// Every SGD update on ½‖x_iᵀW - y_i‖² is a multiple of x_i, so from W = 0 the iterate stays in the row
/// space of X and can only converge to the interpolant in that space: W* = X⁺Y, the minimum-norm solution.
/// From a random start W₀ the null-space component (I - X⁺X)W₀ is never touched, so SGD converges to
/// W* + (I - X⁺X)W₀ instead, at relative distance ‖(I - X⁺X)W₀‖ / ‖W*‖ from W*.
public struct MinimumNormInterpolation<Scalar: TensorScalar> {
    /// Inputs, one example per row: `[n, d]` with n < d.
    public var inputs: Tensor<Scalar>
    /// Targets: `[n, k]`.
    public var targets: Tensor<Scalar>
    /// Passes over the data; each pass visits every example once in a seeded random order.
    public var epochs: Int
    /// The SGD step size; nil picks 1 / max‖x_i‖², for which each step is a relaxed projection
    /// (randomized Kaczmarz) and converges for any data.
    public var learningRate: Double?
    /// Seeds the data order and the random start.
    public var seed: UInt64
    /// Relative cutoff of the pseudo-inverse's SVD (nil: max(n, d) times machine epsilon).
    public var cutoff: Scalar?

    public init(
        inputs: Tensor<Scalar>, targets: Tensor<Scalar>, epochs: Int, learningRate: Double? = nil, seed: UInt64,
        cutoff: Scalar? = nil
    ) {
        precondition(inputs.rank == 2 && targets.rank == 2 && inputs.shape[0] == targets.shape[0],
                     "MinimumNormInterpolation: inputs \(inputs.shape) and targets \(targets.shape) do not pair up")
        self.inputs = inputs
        self.targets = targets
        self.epochs = epochs
        self.learningRate = learningRate
        self.seed = seed
        self.cutoff = cutoff
    }

    /// The step size actually used.
    public var effectiveLearningRate: Double {
        if let learningRate { return learningRate }
        let rowNorms = (inputs * inputs).sum(alongAxes: [1])
        return 1 / Double(rowNorms.max())
    }

    /// Runs SGD from zero and from a random start and compares both with the pseudo-inverse solution.
    /// - Parameter progress: called after each epoch with (start, epoch, relative distance to X⁺Y).
    public func run(progress: (MinimumNormStart, Int, Double) -> Void = { _, _, _ in }) throws -> MinimumNormResult {
        let (n, d) = (inputs.shape[0], inputs.shape[1])
        let k = targets.shape[1]
        let fit = try inputs.leastSquares(targets, cutoff: cutoff)
        let minimumNorm = fit.solution  // [d, k]
        let minimumNormSize = Double(minimumNorm.norm())
        let root = RandomGenerator(seed: seed)

        // A random start of about the solution's size, so the null-space component is visible.
        var initialization = root.stream("init")
        let start = Tensor<Scalar>.randomNormal(
            [d, k], standardDeviation: Scalar(minimumNormSize / Double(d * k).squareRoot()), using: &initialization)
        let startInRowSpace = try projectOntoRowSpace(start)
        let nullSpacePart = start - startInRowSpace
        let predictedLimit = minimumNorm + nullSpacePart

        var outcomes: [MinimumNormOutcome] = []
        for kind in [MinimumNormStart.zero, .random] {
            let initial = kind == .zero ? Tensor<Scalar>(zeros: [d, k]) : start
            var order = root.stream("data-order")
            let solution = trainBySGD(from: initial, order: &order) { epoch, weights in
                progress(kind, epoch, relativeDistance(weights, minimumNorm))
            }
            let residual = Tensor.matmul(inputs, solution) - targets
            let rowSpaceSolution = try projectOntoRowSpace(solution)
            outcomes.append(
                MinimumNormOutcome(
                    start: kind,
                    relativeDistanceToMinimumNorm: relativeDistance(solution, minimumNorm),
                    predictedRelativeDistance: kind == .zero ? 0 : Double(nullSpacePart.norm()) / minimumNormSize,
                    relativeDistanceToPredictedLimit: relativeDistance(solution, kind == .zero ? minimumNorm : predictedLimit),
                    relativeNullSpaceComponent: Double((solution - rowSpaceSolution).norm()) / max(Double(solution.norm()), .leastNormalMagnitude),
                    trainingResidual: Double(residual.norm()) / Double(targets.norm()),
                    solutionNorm: Double(solution.norm())))
        }
        return MinimumNormResult(
            samples: n, features: d, outputs: k, precision: Scalar.precisionName, epochs: epochs,
            steps: epochs * n, learningRate: effectiveLearningRate, seed: seed, pseudoInverseRank: fit.rank,
            pseudoInverseCutoff: Double(fit.cutoff), gramConditionNumber: gramConditionNumber(fit.singularValues),
            minimumNormSolutionNorm: minimumNormSize, outcomes: outcomes)
    }

    /// Per-example SGD on ½‖x_iᵀW - y_i‖², with gradients from the autodiff tape.
    private func trainBySGD(
        from initial: Tensor<Scalar>, order random: inout RandomGenerator, afterEpoch: (Int, Tensor<Scalar>) -> Void
    ) -> Tensor<Scalar> {
        let n = inputs.shape[0]
        let rate = Scalar(effectiveLearningRate)
        let rows = (0..<n).map { Variable(inputs.slice($0..<($0 + 1), alongAxis: 0)) }
        let rowTargets = (0..<n).map { Variable(targets.slice($0..<($0 + 1), alongAxis: 0)) }
        var weights = initial
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            for i in random.permutation(n) {
                let w = Variable(weights, requiresGradient: true)
                let loss = (Variable.matmul(rows[i], w) - rowTargets[i]).squared().sum() * 0.5
                let step = gradient(of: loss, wrt: [w])[0].value
                weights -= step * rate
            }
            afterEpoch(epoch, weights)
        }
        return weights
    }

    /// X⁺X W: the part of W in the row space of X.
    private func projectOntoRowSpace(_ weights: Tensor<Scalar>) throws -> Tensor<Scalar> {
        try inputs.leastSquares(Tensor.matmul(inputs, weights), cutoff: cutoff).solution
    }

    /// (s_max / s_min)² over the kept singular values of X: the condition number of X Xᵀ, which sets how
    /// many SGD epochs convergence takes.
    private func gramConditionNumber(_ singularValues: Tensor<Scalar>) -> Double {
        let kept = singularValues.scalars.filter { $0 > 0 }
        guard let largest = kept.first, let smallest = kept.last else { return .infinity }
        let ratio = Double(largest) / Double(smallest)
        return ratio * ratio
    }

    private func relativeDistance(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
        Double((a - b).norm()) / Double(b.norm())
    }
}

/// Where SGD starts.
public enum MinimumNormStart: String, Codable, Sendable {
    case zero, random
}

/// What SGD reached from one start.
public struct MinimumNormOutcome: Codable, Sendable, Equatable {
    public var start: MinimumNormStart
    /// ‖W_SGD - X⁺Y‖ / ‖X⁺Y‖.
    public var relativeDistanceToMinimumNorm: Double
    /// The theory's value of that distance: 0 from zero, ‖(I - X⁺X)W₀‖ / ‖X⁺Y‖ from W₀.
    public var predictedRelativeDistance: Double
    /// ‖W_SGD - (X⁺Y + (I - X⁺X)W₀)‖ / ‖limit‖: how far SGD is from the predicted limit itself.
    public var relativeDistanceToPredictedLimit: Double
    /// ‖(I - X⁺X)W_SGD‖ / ‖W_SGD‖: the share of the solution outside the span of the data.
    public var relativeNullSpaceComponent: Double
    /// ‖X W_SGD - Y‖ / ‖Y‖.
    public var trainingResidual: Double
    /// ‖W_SGD‖.
    public var solutionNorm: Double
}

/// The whole measurement, as written to result.json.
public struct MinimumNormResult: Codable, Sendable, Equatable {
    public var samples: Int
    public var features: Int
    public var outputs: Int
    public var precision: String
    public var epochs: Int
    public var steps: Int
    public var learningRate: Double
    public var seed: UInt64
    public var pseudoInverseRank: Int
    public var pseudoInverseCutoff: Double
    /// The condition number of X Xᵀ: SGD's convergence slows as it grows.
    public var gramConditionNumber: Double
    public var minimumNormSolutionNorm: Double
    public var outcomes: [MinimumNormOutcome]
}
