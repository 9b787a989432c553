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
///
/// Conditioning: neighbouring projections that nearly meet need slopes |Δy| / gap, so the w_j reach 1e8 on
/// 10,000 images, and f(x_i) = y_i is a sum of terms up to |w_j| |z_i - b_j| that cancel almost exactly. Its
/// rounding error in any evaluation order is about u Σ_j |w_j| max(z_i - b_j, 0) for unit roundoff u
/// (`cancellation`). `Construction.centred` halves the reach of every unit: units left of the median
/// projection face left (max(b_j - ⟨a, x⟩, 0), their weight row -a), so each point activates only the units
/// between it and the median; it keeps the 2n + d weights (a, one bias and one output weight per unit).
public struct MemorizingNetwork: Sendable {
    /// How the units are laid out.
    public enum Construction: String, Sendable, Codable, CaseIterable {
        /// Zhang et al.'s: every unit faces right, active above its bias.
        case zhang
        /// Units face away from the median projection: each point activates only the units between it and the
        /// median, which shrinks the terms that cancel.
        case centred
    }

    /// a: `[d]`.
    public var direction: [Double]
    /// b_j, ascending (equal at most once, at the median, in the centred construction): `[n]`.
    public var biases: [Double]
    /// w_j: `[n]`.
    public var outputWeights: [Double]
    /// +1 for a unit max(⟨a, x⟩ - b_j, 0), -1 for max(b_j - ⟨a, x⟩, 0): `[n]`. A fixed layout, not a weight.
    public var orientations: [Double]

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
    public static func construct<Scalar: TensorScalar>(
        inputs: Tensor<Scalar>, targets: [Double], seed: UInt64, construction: Construction = .zhang
    ) throws -> MemorizingNetwork {
        let (n, d) = (inputs.shape[0], inputs.shape[1])
        precondition(targets.count == n && n >= 1, "MemorizingNetwork: \(targets.count) targets for \(n) points")
        var random = RandomGenerator(seed: seed).stream("direction")
        let direction = (0..<d).map { _ in random.nextNormal() }
        let projections = Tensor.matmul(inputs.converted(to: Double.self), Tensor(direction).reshaped(to: [d, 1])).scalars
        let order = (0..<n).sorted { projections[$0] < projections[$1] }
        let z = order.map { projections[$0] }
        for i in 1..<max(n, 1) where z[i] == z[i - 1] { throw Collision(first: order[i - 1], second: order[i]) }
        let y = order.map { targets[$0] }
        let gaps: [Double] = zip(z.dropFirst(), z).map { pair in pair.0 - pair.1 }
        let smallestGap = gaps.min() ?? 1
        // Units from `first` on face right: unit i's bias lies just below z_(i). Units before it face left: unit
        // i's bias lies just above z_(i).
        let first = construction == .zhang ? 0 : n / 2
        var biases = [Double](repeating: 0, count: n), orientations = [Double](repeating: 1, count: n)
        for i in first..<n { biases[i] = i == 0 ? z[0] - smallestGap / 2 : (z[i - 1] + z[i]) / 2 }
        for i in 0..<first {
            biases[i] = (z[i] + z[i + 1]) / 2
            orientations[i] = -1
        }
        var weights = [Double](repeating: 0, count: n)
        var (slopes, offsets) = (0.0, 0.0)  // Σ w_j and Σ w_j b_j over the units already solved
        for i in first..<n {
            let earlier = z[i] * slopes - offsets  // what the right-facing units below i already give at z_(i)
            weights[i] = (y[i] - earlier) / (z[i] - biases[i])
            slopes += weights[i]
            offsets += weights[i] * biases[i]
        }
        (slopes, offsets) = (0, 0)
        for i in stride(from: first - 1, through: 0, by: -1) {
            let earlier = offsets - z[i] * slopes  // what the left-facing units above i already give at z_(i)
            weights[i] = (y[i] - earlier) / (biases[i] - z[i])
            slopes += weights[i]
            offsets += weights[i] * biases[i]
        }
        return MemorizingNetwork(direction: direction, biases: biases, outputWeights: weights, orientations: orientations)
    }

    /// The hidden units' pre-activations at a projection z: orientation_j (z - b_j).
    @inline(__always) func preactivation(_ z: Double, unit j: Int) -> Double { orientations[j] * (z - biases[j]) }

    /// For each point, Σ_j |w_j| max(pre-activation, 0): the size of the terms that cancel to give f(x_i).
    /// Rounding them in a precision with unit roundoff u costs up to about u times this (times a small
    /// multiple of log n for a blocked or pairwise sum, up to n for a plain left-to-right one). `[m]`.
    public func cancellation<Scalar: TensorScalar>(_ inputs: Tensor<Scalar>) -> [Double] {
        projections(inputs).map { z in
            var total = 0.0
            for j in biases.indices { total += abs(outputWeights[j]) * max(preactivation(z, unit: j), 0) }
            return total
        }
    }

    /// ⟨a, x⟩ for every row of `inputs`, in float64: `[m]`.
    func projections<Scalar: TensorScalar>(_ inputs: Tensor<Scalar>) -> [Double] {
        Tensor.matmul(inputs.converted(to: Double.self), Tensor(direction).reshaped(to: [direction.count, 1])).scalars
    }

    /// f(x) for every row of `inputs` (`[m, d]`), evaluated as the two plain matrix products any library computes
    /// from the saved file: h = max(X W1ᵀ + b1, 0) and f = h W2ᵀ, every product and sum rounded to `Evaluation`
    /// (Float or Double). Each row of W1 is ±a, so X W1ᵀ is one dot product per image, rounded once. The output
    /// sum runs over the units in a shuffled order (seeded by `orderSeed`): a blocked matrix product (OpenBLAS,
    /// PyTorch) adds them in an order unrelated to the construction's, while adding them in the construction's
    /// order keeps every partial sum small and hides the cancellation.
    public func plainOutputs<Evaluation: BinaryFloatingPoint, Scalar: TensorScalar>(
        _ inputs: Tensor<Scalar>, in _: Evaluation.Type, orderSeed: UInt64 = 0
    ) -> [Double] {
        let (m, d) = (inputs.shape[0], inputs.shape[1])
        let x = inputs.scalars
        var random = RandomGenerator(seed: orderSeed).stream("evaluation-order")
        let order = random.permutation(biases.count)
        let a = direction.map { Evaluation($0) }
        let b = order.map { Evaluation(-biases[$0]) }, w = order.map { Evaluation(outputWeights[$0]) }, o = order.map { Evaluation(orientations[$0]) }
        return (0..<m).map { i in
            var z = Evaluation(0)
            for k in 0..<d { z += a[k] * Evaluation(Double(x[i * d + k])) }
            var f = Evaluation(0)
            for j in 0..<b.count {
                let h = o[j] * z + o[j] * b[j]
                if h > 0 { f += w[j] * h }
            }
            return Double(f)
        }
    }

    /// The network as an ordinary two-layer model: "hidden" (Dense d → n, row j of its weight the direction
    /// times the unit's orientation, bias -orientation_j b_j), ReLU, "output" (Dense n → 1 without bias).
    public func model<Scalar: TensorScalar>(inputShape: [Int], as _: Scalar.Type = Scalar.self) -> (model: Model<Scalar>, parameters: ParameterSet<Scalar>) {
        let (n, d) = (biases.count, direction.count)
        let network = Sequential<Scalar>([
            (name: "hidden", layer: Dense<Scalar>(inputs: d, outputs: n)), (name: "relu", layer: Activation<Scalar>(.relu)),
            (name: "output", layer: Dense<Scalar>(inputs: n, outputs: 1, hasBias: false)),
        ])
        let model = Model(name: "memorizer", inputShape: inputShape, classes: 1, takesImages: false, network: network)
        let parameters = ParameterSet<Scalar>([
            ("hidden.weight", Tensor(shape: [n, d], scalars: Array(orientations.map { sign in direction.map { Scalar(sign * $0) } }.joined()))),
            ("hidden.bias", Tensor(zip(biases, orientations).map { Scalar(-$0 * $1) })),
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
