import OccamNN
import OccamTensor

/// Which parameters a curvature measurement varies; the others stay fixed at their values.
public enum ParameterSelection: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every parameter.
    case all
    /// The weight matrices and kernels: tensors named "*.weight" of rank 2 or more (not biases, not
    /// BatchNorm's rank-1 scales), as Maddox et al. measure effective dimensionality.
    case weights
    /// The named parameters ("fc1.weight", "fc2.bias").
    case named([String])

    /// "all", "weights" or a comma-separated list of names.
    public init(parsing text: String) {
        switch text {
        case "all": self = .all
        case "weights": self = .weights
        default: self = .named(text.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) })
        }
    }

    public var description: String {
        switch self {
        case .all: "all"
        case .weights: "weights"
        case .named(let names): names.joined(separator: ",")
        }
    }

    /// Stored as its text ("weights", "fc1.weight,fc2.weight").
    public init(from decoder: Decoder) throws {
        self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Whether the parameter `name` of `shape` is selected.
    func includes(_ name: String, shape: [Int]) -> Bool {
        switch self {
        case .all: true
        case .weights: name.hasSuffix(".weight") && shape.count >= 2
        case .named(let names): names.contains(name)
        }
    }
}

/// Errors in choosing the coordinates of a curvature measurement.
public enum ParameterSubspaceError: Error, CustomStringConvertible, Equatable {
    case unknownParameters([String], available: [String])
    case empty(String)

    public var description: String {
        switch self {
        case .unknownParameters(let names, let available):
            "No parameter named \(names.joined(separator: ", ")); the model has \(available.joined(separator: ", "))."
        case .empty(let why): "No parameter coordinates are left to measure: \(why)."
        }
    }
}

/// The coordinates of a model's parameters that a curvature operator acts on, and the map between flat
/// vectors over them (`[dimension]`, in the parameters' order, each row-major) and `ParameterSet`s.
///
/// Selected parameters enter whole, or, under a pruning mask, only at their surviving (mask = 1) entries, so
/// a lottery ticket's curvature ignores its pruned weights.
public struct ParameterSubspace: Sendable, Equatable {
    /// One selected parameter: its name, shape and the flat indices of its coordinates in use (nil: all).
    public struct Block: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var keptIndices: [Int]?
        /// Where this block's coordinates start in a flat vector.
        public var offset: Int
        public var count: Int { keptIndices?.count ?? shape.reduce(1, *) }
    }

    public let blocks: [Block]
    /// The number of coordinates: the length of the flat vectors.
    public let dimension: Int

    /// The subspace of `selection` within `parameters`, restricted to the kept entries of `mask`.
    /// - Throws: `ParameterSubspaceError` for names the model does not have or when nothing is selected.
    public init<Scalar: TensorScalar>(
        of parameters: ParameterSet<Scalar>, selection: ParameterSelection = .all, mask: PruningMask<Scalar>? = nil
    ) throws {
        if case .named(let names) = selection {
            let unknown = names.filter { parameters[$0] == nil }
            if !unknown.isEmpty { throw ParameterSubspaceError.unknownParameters(unknown, available: parameters.names) }
        }
        var blocks: [Block] = []
        var offset = 0
        for (name, tensor) in parameters.entries where selection.includes(name, shape: tensor.shape) {
            let kept = mask?[name].map { m in m.scalars.indices.filter { m.scalars[$0] != 0 } }
            let block = Block(name: name, shape: tensor.shape, keptIndices: kept, offset: offset)
            offset += block.count
            if block.count > 0 { blocks.append(block) }
        }
        guard offset > 0 else {
            throw ParameterSubspaceError.empty("the selection \"\(selection)\" matches no parameter with surviving entries")
        }
        (self.blocks, self.dimension) = (blocks, offset)
    }

    /// The names of the selected parameters.
    public var names: [String] { blocks.map(\.name) }

    /// The selected coordinates of `set` as one flat vector `[dimension]`.
    public func flatten<Scalar: TensorScalar>(_ set: ParameterSet<Scalar>) -> [Double] {
        var flat = [Double](repeating: 0, count: dimension)
        for block in blocks {
            guard let tensor = set[block.name] else { preconditionFailure("ParameterSubspace.flatten: no tensor \(block.name)") }
            let scalars = tensor.scalars
            if let kept = block.keptIndices {
                for (i, index) in kept.enumerated() { flat[block.offset + i] = Double(scalars[index]) }
            } else {
                for i in scalars.indices { flat[block.offset + i] = Double(scalars[i]) }
            }
        }
        return flat
    }

    /// The selected coordinates of `tensors` (one per block, in order, of the blocks' full shapes).
    func flatten<Scalar: TensorScalar>(blockTensors tensors: [Tensor<Scalar>]) -> [Double] {
        precondition(tensors.count == blocks.count, "ParameterSubspace.flatten: \(tensors.count) tensors for \(blocks.count) blocks")
        var flat = [Double](repeating: 0, count: dimension)
        for (block, tensor) in zip(blocks, tensors) {
            tensor.withUnsafePointer { p in
                if let kept = block.keptIndices {
                    for (i, index) in kept.enumerated() { flat[block.offset + i] = Double(p[index]) }
                } else {
                    for i in 0..<block.count { flat[block.offset + i] = Double(p[i]) }
                }
            }
        }
        return flat
    }

    /// One full-shape tensor per block holding `vector`'s coordinates (zero at pruned entries).
    public func expand<Scalar: TensorScalar>(_ vector: [Double], as _: Scalar.Type = Scalar.self) -> [Tensor<Scalar>] {
        precondition(vector.count == dimension, "ParameterSubspace.expand: vector of \(vector.count) for dimension \(dimension)")
        return blocks.map { block in
            var tensor = Tensor<Scalar>(zeros: block.shape)
            tensor.withUnsafeMutablePointer { p in
                if let kept = block.keptIndices {
                    for (i, index) in kept.enumerated() { p[index] = Scalar(vector[block.offset + i]) }
                } else {
                    for i in 0..<block.count { p[i] = Scalar(vector[block.offset + i]) }
                }
            }
            return tensor
        }
    }

    /// `parameters` with the selected coordinates replaced by `vector`'s.
    public func replacing<Scalar: TensorScalar>(_ vector: [Double], in parameters: ParameterSet<Scalar>) -> ParameterSet<Scalar> {
        var result = parameters
        for (block, values) in zip(blocks, expand(vector, as: Scalar.self)) {
            guard let old = result[block.name] else { continue }
            guard let kept = block.keptIndices else {
                result[block.name] = values
                continue
            }
            var merged = old
            merged.withUnsafeMutablePointer { p in values.withUnsafePointer { v in for index in kept { p[index] = v[index] } } }
            result[block.name] = merged
        }
        return result
    }

    /// "fc1.weight[3,17]": the parameter entry behind coordinate `index`.
    public func coordinateName(_ index: Int) -> String {
        guard let block = blocks.last(where: { $0.offset <= index }) else { return "?" }
        let flat = block.keptIndices?[index - block.offset] ?? index - block.offset
        var remainder = flat
        var position = [Int](repeating: 0, count: block.shape.count)
        for axis in block.shape.indices.reversed() {
            position[axis] = remainder % block.shape[axis]
            remainder /= block.shape[axis]
        }
        return "\(block.name)[\(position.map(String.init).joined(separator: ","))]"
    }
}
