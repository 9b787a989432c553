import OccamTensor

/// Small seeded data sets for experiments and tests.
public enum SyntheticProblems {
    /// An under- or over-determined linear least-squares problem: inputs `[n, d]` and targets `[n, k]`,
    /// all entries standard normal, drawn from the "data" stream of `seed`.
    public static func gaussianRegression<Scalar: TensorScalar>(
        samples n: Int, features d: Int, outputs k: Int = 1, seed: UInt64, as _: Scalar.Type = Scalar.self
    ) -> (inputs: Tensor<Scalar>, targets: Tensor<Scalar>) {
        var random = RandomGenerator(seed: seed).stream("data")
        let inputs = Tensor<Scalar>.randomNormal([n, d], using: &random)
        let targets = Tensor<Scalar>.randomNormal([n, k], using: &random)
        return (inputs, targets)
    }
}
