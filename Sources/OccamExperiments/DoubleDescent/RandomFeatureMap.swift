import OccamTensor

/// Which random features: see `RandomFeatureMap`.
public enum RandomFeatureKind: String, Codable, Sendable, CaseIterable {
    case fourier, relu
}

/// A random feature map x -> φ(x) ∈ R^N of Belkin et al. (2019), drawn from a seed.
///
/// - `fourier`: φ_j(x) = sqrt(2/N) cos(⟨v_j, x⟩ + b_j), v_j ~ N(0, σ⁻² I), b_j ~ U[0, 2π): as N grows,
///   ⟨φ(x), φ(y)⟩ tends to the Gaussian kernel exp(-‖x - y‖²/(2σ²)) (Rahimi and Recht).
/// - `relu`: φ_j(x) = sqrt(2/N) max(0, ⟨v_j, x⟩), v_j ~ N(0, σ⁻² I): the arc-cosine kernel of degree 1.
///
/// Direction and phase j are drawn j-th from their streams, so the map with N features has the first N
/// directions and phases of any larger map of the same seed (its features differ only by the scale
/// sqrt(2/N)): a sweep over N adds features rather than redrawing them.
public struct RandomFeatureMap<Scalar: TensorScalar> {
    public var kind: RandomFeatureKind
    /// `[N, d]`: the directions v_j, one per row.
    public var directions: Tensor<Scalar>
    /// `[N]`: the phases b_j (zero for `relu`).
    public var phases: Tensor<Scalar>

    /// N features of inputs with `inputCount` entries, bandwidth σ, drawn from `random`'s streams
    /// "directions" and "phases".
    public init(kind: RandomFeatureKind, featureCount: Int, inputCount: Int, bandwidth: Double, random: RandomGenerator) {
        precondition(featureCount >= 1 && inputCount >= 1, "RandomFeatureMap: \(featureCount) features of \(inputCount) inputs")
        precondition(bandwidth > 0, "RandomFeatureMap: bandwidth \(bandwidth) must be positive")
        self.kind = kind
        var directionStream = random.stream("directions")
        directions = Tensor.randomNormal(
            [featureCount, inputCount], standardDeviation: Scalar(1 / bandwidth), using: &directionStream)
        var phaseStream = random.stream("phases")
        phases = kind == .fourier
            ? Tensor.randomUniform([featureCount], low: 0, high: Scalar(2 * Double.pi), using: &phaseStream)
            : Tensor(zeros: [featureCount])
    }

    /// N, the number of features.
    public var featureCount: Int { directions.shape[0] }

    /// φ of each row of `inputs` (`[m, d]`): `[m, N]`.
    public func features(_ inputs: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            inputs.rank == 2 && inputs.shape[1] == directions.shape[1],
            "RandomFeatureMap.features: inputs \(inputs.shape) do not have \(directions.shape[1]) columns")
        let scale = Scalar((2 / Double(featureCount)).squareRoot())
        let projections = Tensor.matmul(inputs, directions, transposeB: true)
        switch kind {
        case .fourier: return (projections + phases).cos() * scale
        case .relu: return projections.relu() * scale
        }
    }

    /// φ(inputs) A for coefficients A `[N, k]`: `[m, k]`, computed `blockRows` rows at a time (default: about
    /// 2^24 feature values per block) so that the features of many inputs never sit in memory at once.
    public func predictions(_ inputs: Tensor<Scalar>, coefficients: Tensor<Scalar>, blockRows: Int? = nil) -> Tensor<Scalar> {
        precondition(
            coefficients.rank == 2 && coefficients.shape[0] == featureCount,
            "RandomFeatureMap.predictions: coefficients \(coefficients.shape) do not have \(featureCount) rows")
        let count = inputs.shape[0]
        let blockRows = max(1, blockRows ?? max(64, (1 << 24) / featureCount))
        if count <= blockRows { return Tensor.matmul(features(inputs), coefficients) }
        let blocks = stride(from: 0, to: count, by: blockRows).map { start in
            Tensor.matmul(features(inputs.slice(start..<min(count, start + blockRows), alongAxis: 0)), coefficients)
        }
        return Tensor.concatenating(blocks, alongAxis: 0)
    }
}
