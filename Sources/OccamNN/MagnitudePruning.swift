import OccamTensor

/// How a round of magnitude pruning chooses the weights it removes.
public enum PruningStrategy: String, Codable, Sendable, CaseIterable {
    /// Each tensor loses its own fraction of its remaining weights, the smallest in magnitude (Frankle & Carbin).
    case layerWise = "layer-wise"
    /// All remaining prunable weights compete: the given fraction of them with the smallest magnitudes goes,
    /// wherever they are (OpenLTH's sparse_global). Only `PruningRates.rate` applies.
    case global
}

/// The fraction of the remaining weights that one pruning round removes.
public struct PruningRates: Codable, Sendable, Hashable {
    /// Fully connected hidden layers, and every tensor under the global strategy (0.2 in the paper).
    public var rate: Double
    /// The output layer, the last masked layer (0.1 in the paper); nil: `rate`.
    public var outputRate: Double?
    /// Convolution kernels (rank-4 tensors; 0.1 or 0.15 for Conv-2/4/6); nil: `rate`.
    public var convolutionRate: Double?

    public init(rate: Double, outputRate: Double? = nil, convolutionRate: Double? = nil) {
        (self.rate, self.outputRate, self.convolutionRate) = (rate, outputRate, convolutionRate)
    }

    /// The rate for a tensor of `shape`, which is the output layer when `isOutput`.
    public func rate(shape: [Int], isOutput: Bool) -> Double {
        if isOutput { return outputRate ?? rate }
        if shape.count == 4 { return convolutionRate ?? rate }
        return rate
    }
}

/// Kept and total elements of one masked tensor.
public struct MaskedTensorCount: Codable, Sendable, Equatable {
    public var name: String
    public var kept: Int
    public var total: Int
    /// kept / total.
    public var density: Double { total == 0 ? 1 : Double(kept) / Double(total) }
}

extension PruningMask {
    /// Kept and total elements of every masked tensor, in order.
    public var counts: [MaskedTensorCount] {
        masks.entries.map { name, tensor in
            MaskedTensorCount(name: name, kept: tensor.scalars.count(where: { $0 != 0 }), total: tensor.count)
        }
    }

    /// The mask after one round of magnitude pruning: of the weights this mask keeps, the fraction the
    /// strategy and rates say, those with the smallest |weight| in `weights`, are pruned as well.
    ///
    /// A round removes round(rate · remaining) elements (per tensor for `.layerWise`, of all masked tensors
    /// together for `.global`); equal magnitudes go in order of position (tensor order, then flat index).
    /// - Parameter weights: trained values of (at least) every masked tensor, same shapes (precondition).
    public func prunedByMagnitude(
        of weights: ParameterSet<Scalar>, strategy: PruningStrategy, rates: PruningRates
    ) -> PruningMask {
        // (tensor, flat index, magnitude) of every element still kept.
        var candidates: [[(index: Int, magnitude: Double)]] = []
        for (name, mask) in masks.entries {
            guard let tensor = weights[name] else { preconditionFailure("prunedByMagnitude: no weights named \(name)") }
            precondition(tensor.shape == mask.shape, "prunedByMagnitude: \(name) has shape \(tensor.shape), its mask \(mask.shape)")
            let values = tensor.scalars, kept = mask.scalars
            candidates.append(kept.indices.compactMap { kept[$0] != 0 ? ($0, abs(Double(values[$0]))) : nil })
        }
        var pruned = masks.entries.map { $0.tensor.scalars }
        func pruneSmallest(_ elements: [(tensor: Int, index: Int, magnitude: Double)], count: Int) {
            let order = elements.sorted { ($0.magnitude, $0.tensor, $0.index) < ($1.magnitude, $1.tensor, $1.index) }
            for element in order.prefix(count) { pruned[element.tensor][element.index] = 0 }
        }
        switch strategy {
        case .layerWise:
            for (t, entry) in masks.entries.enumerated() {
                let rate = rates.rate(shape: entry.tensor.shape, isOutput: outputLayerNames.contains(entry.name))
                let count = Int((rate * Double(candidates[t].count)).rounded())
                pruneSmallest(candidates[t].map { (t, $0.index, $0.magnitude) }, count: count)
            }
        case .global:
            let all = candidates.enumerated().flatMap { t, elements in elements.map { (t, $0.index, $0.magnitude) } }
            pruneSmallest(all, count: Int((rates.rate * Double(all.count)).rounded()))
        }
        return Self(trusted: ParameterSet(zip(masks.entries, pruned).map { ($0.name, Tensor(shape: $0.tensor.shape, scalars: $1)) }))
    }

    /// The masked tensors of the output layer: those named like the last one up to its last dot ("fc3.weight"
    /// and "fc3.bias"); empty when only one layer is masked.
    public var outputLayerNames: Set<String> {
        func layer(_ name: String) -> Substring { name.lastIndex(of: ".").map { name[..<$0] } ?? Substring(name) }
        guard let last = masks.names.last else { return [] }
        let names = masks.names.filter { layer($0) == layer(last) }
        return names.count == masks.count ? [] : Set(names)
    }

    /// A mask that keeps as many elements of each tensor as this one, at uniformly random positions
    /// (the random-pruning control of Frankle & Carbin).
    public func randomlyPlaced(using random: inout RandomGenerator) -> PruningMask {
        Self(trusted: masks.mapTensors { _, tensor in
            let kept = tensor.scalars.count(where: { $0 != 0 })
            var scalars = [Scalar](repeating: 0, count: tensor.count)
            for index in random.permutation(tensor.count).prefix(kept) { scalars[index] = 1 }
            return Tensor(shape: tensor.shape, scalars: scalars)
        })
    }

    /// A mask from tensors known to hold only 0 and 1.
    init(trusted masks: ParameterSet<Scalar>) {
        // Cannot fail: every element was written as 0 or 1 (or copied from a valid mask).
        self = try! PruningMask(masks)
    }
}
