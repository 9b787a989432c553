import OccamTensor

/// Projection of flattened images on their leading principal components, fitted on one set and applied to
/// any: x ↦ diag(1/√σ_k) V_kᵀ (x - mean), whitened so that each component has unit variance on the fitted
/// set (as Dauphin et al. feed their small networks PCA-reduced MNIST and CIFAR-10).
public struct PrincipalComponentProjection: Sendable, Codable, Equatable {
    /// The fitted set's mean image `[features]`.
    public var mean: [Double]
    /// The leading eigenvectors of the covariance, row k is component k: `components` rows of `features`.
    public var components: [[Double]]
    /// The covariance's leading eigenvalues, descending: the variance along each component.
    public var variances: [Double]
    /// The share of the total variance the kept components explain.
    public var explainedVariance: Double

    /// Fits on `images` `[n, features]`: the covariance (1/n) Σ (x - mean)(x - mean)ᵀ and its eigendecomposition.
    /// - Throws: `LinearAlgebraError` when the eigendecomposition fails.
    /// - Precondition: 1 ≤ count ≤ features, and n ≥ 2.
    public init<Scalar: TensorScalar>(fitting images: Tensor<Scalar>, count: Int) throws {
        precondition(images.rank == 2 && images.shape[0] >= 2, "PrincipalComponentProjection: images of shape \(images.shape)")
        let (n, d) = (images.shape[0], images.shape[1])
        precondition((1...d).contains(count), "PrincipalComponentProjection: \(count) components of \(d) features")
        let x = images.converted(to: Double.self)
        let mean = x.sum(alongAxes: [0], keepingDimensions: true) / Double(n)
        let centered = x - mean
        let covariance = Tensor.matmul(centered, centered, transposeA: true) / Double(n)
        let decomposition = try covariance.symmetricEigendecomposition()
        let values = decomposition.values.scalars
        let kept = Array((0..<d).reversed().prefix(count))
        self.mean = mean.scalars
        components = kept.map { column in (0..<d).map { decomposition.vectors[$0, column] } }
        variances = kept.map { max(values[$0], 0) }
        let total = values.map { max($0, 0) }.reduce(0, +)
        explainedVariance = total > 0 ? variances.reduce(0, +) / total : 0
    }

    /// The whitened component scores of `images`, as a data set of 1 x 1 x `components.count` "images".
    /// Components with zero variance give 0.
    public func projected<Scalar: TensorScalar>(_ images: LabeledImages<Scalar>) -> LabeledImages<Scalar> {
        precondition(images.featureCount == mean.count, "PrincipalComponentProjection: \(images.featureCount) features for a projection of \(mean.count)")
        let k = components.count, d = mean.count
        var basis = [Double](repeating: 0, count: d * k)  // [d, k], column j = component j / √σ_j
        for j in 0..<k {
            let scale = variances[j] > 0 ? 1 / variances[j].squareRoot() : 0
            for i in 0..<d { basis[i * k + j] = components[j][i] * scale }
        }
        let centered = images.images.converted(to: Double.self) - Tensor(shape: [1, d], scalars: mean)
        let scores = Tensor.matmul(centered, Tensor(shape: [d, k], scalars: basis))
        return LabeledImages(
            images: scores.converted(to: Scalar.self), labels: images.labels, channels: 1, height: 1, width: k,
            classCount: images.classCount)
    }
}
