import Foundation
import OccamNN
import OccamTensor

/// Zhang et al. (2017), Theorem 1: a two-layer ReLU network with 2n + d weights represents any real labels y
/// of n distinct points x_i in d dimensions exactly.
///
/// f(x) = Σ_j w_j max(⟨a, x⟩ - b_j, 0). Choose a direction a whose projections z_i = ⟨a, x_i⟩ are distinct and
/// sort them; put one bias below each, interleaved: b_1 < z_(1) < b_2 < z_(2) < ... (each b_j halfway between
/// z_(j-1) and z_(j), b_1 half the smallest gap below z_(1)). Then the matrix max(z_(i) - b_j, 0) is lower
/// triangular with a positive diagonal, and w solves it by forward substitution. With S_i = Σ_{j≤i} w_j and
/// T_i = Σ_{j≤i} w_j b_j, f(z_(i)) = z_(i) S_i - T_i, so each step is O(1) and the whole solve O(n).
public struct MemorizingNetwork: Sendable {
    /// a: `[d]`.
    public var direction: [Double]
    /// b_j, ascending: `[n]`.
    public var biases: [Double]
    /// w_j: `[n]`.
    public var outputWeights: [Double]

    /// Weights in all: the shared direction, one bias and one output weight per point.
    public var weightCount: Int { direction.count + biases.count + outputWeights.count }

    /// Points that project to one value (duplicates, or a direction that does not separate them): the
    /// construction needs distinct projections.
    public struct Collision: Error, CustomStringConvertible {
        public var first: Int, second: Int
        public var description: String {
            "points \(first) and \(second) have the same projection (duplicate inputs?); the construction needs distinct points: remove duplicates first"
        }
    }

    /// Builds the network for `inputs` (`[n, d]`) and `targets` (n reals), with the direction drawn from `seed`.
    /// - Throws: `Collision` when two points project to the same value.
    public static func construct<Scalar: TensorScalar>(inputs: Tensor<Scalar>, targets: [Double], seed: UInt64) throws -> MemorizingNetwork {
        let (n, d) = (inputs.shape[0], inputs.shape[1])
        precondition(targets.count == n && n >= 1, "MemorizingNetwork: \(targets.count) targets for \(n) points")
        var random = RandomGenerator(seed: seed).stream("direction")
        let direction = (0..<d).map { _ in random.nextNormal() }
        let projections = Tensor.matmul(inputs.converted(to: Double.self), Tensor(direction).reshaped(to: [d, 1])).scalars
        let order = (0..<n).sorted { projections[$0] < projections[$1] }
        let z = order.map { projections[$0] }
        for i in 1..<max(n, 1) where z[i] == z[i - 1] { throw Collision(first: order[i - 1], second: order[i]) }
        let gaps: [Double] = zip(z.dropFirst(), z).map { pair in pair.0 - pair.1 }
        let smallestGap = gaps.min() ?? 1
        var biases = [z[0] - smallestGap / 2]
        for i in 1..<max(n, 1) { biases.append((z[i - 1] + z[i]) / 2) }
        var weights = [Double](repeating: 0, count: n)
        var (slopes, offsets) = (0.0, 0.0)  // S_{i-1}, T_{i-1}
        for i in 0..<n {
            let earlier = z[i] * slopes - offsets  // what the first i - 1 units already give at z_(i)
            weights[i] = (targets[order[i]] - earlier) / (z[i] - biases[i])
            slopes += weights[i]
            offsets += weights[i] * biases[i]
        }
        return MemorizingNetwork(direction: direction, biases: biases, outputWeights: weights)
    }

    /// The network as an ordinary two-layer model: "hidden" (Dense d → n, every row of its weight the
    /// direction, bias -b), ReLU, "output" (Dense n → 1 without bias).
    public func model<Scalar: TensorScalar>(inputShape: [Int], as _: Scalar.Type = Scalar.self) -> (model: Model<Scalar>, parameters: ParameterSet<Scalar>) {
        let (n, d) = (biases.count, direction.count)
        let network = Sequential<Scalar>([
            (name: "hidden", layer: Dense<Scalar>(inputs: d, outputs: n)), (name: "relu", layer: Activation<Scalar>(.relu)),
            (name: "output", layer: Dense<Scalar>(inputs: n, outputs: 1, hasBias: false)),
        ])
        let model = Model(name: "memorizer", inputShape: inputShape, classes: 1, takesImages: false, network: network)
        let row = direction.map { Scalar($0) }
        let parameters = ParameterSet<Scalar>([
            ("hidden.weight", Tensor(shape: [n, d], scalars: Array((0..<n).map { _ in row }.joined()))),
            ("hidden.bias", Tensor(biases.map { Scalar(-$0) })),
            ("output.weight", Tensor(shape: [1, n], scalars: outputWeights.map { Scalar($0) })),
        ])
        return (model, parameters)
    }

    /// f(x) for every row of `inputs` (`[m, d]`), computed by the two-layer model a block of rows at a time.
    public func outputs<Scalar: TensorScalar>(_ inputs: Tensor<Scalar>, inputShape: [Int], progress: (Double) -> Void = { _ in }) -> [Double] {
        let (model, parameters) = model(inputShape: inputShape, as: Scalar.self)
        let m = inputs.shape[0]
        let rowsPerBlock = max(1, (1 << 23) / max(biases.count, 1))
        var result: [Double] = []
        result.reserveCapacity(m)
        var start = 0
        while start < m {
            let end = min(m, start + rowsPerBlock)
            let block = model.logits(inputs.slice(start..<end, alongAxis: 0), parameters: parameters, buffers: ParameterSet())
            result += block.scalars.map(Double.init)
            start = end
            progress(Double(start) / Double(m))
        }
        return result
    }
}
