import OccamTensor

/// Tensors by PyTorch-style dotted name ("fc1.weight" as [out, in], "fc1.bias" as [out]), in a fixed order.
///
/// Models, optimizers, pruning masks and checkpoints all speak this one type: a model's parameters, their
/// gradients, an optimizer's moment estimates and the masks are each a `ParameterSet` with the same names.
public struct ParameterSet<Scalar: TensorScalar>: Sendable, Equatable {
    /// Names in registration order (the order of `named_parameters()` in PyTorch).
    public private(set) var names: [String]
    private var storage: [String: Tensor<Scalar>]

    /// An empty set.
    public init() {
        names = []
        storage = [:]
    }

    /// A set holding `entries` in the given order; names must be unique.
    public init(_ entries: [(name: String, tensor: Tensor<Scalar>)]) {
        self.init()
        for entry in entries { insert(entry.tensor, named: entry.name) }
    }

    /// Adds a tensor under a new name at the end of the order.
    public mutating func insert(_ tensor: Tensor<Scalar>, named name: String) {
        precondition(storage[name] == nil, "ParameterSet.insert: name \(name) is already present")
        names.append(name)
        storage[name] = tensor
    }

    /// The tensor named `name`. Setting replaces an existing tensor of the same shape.
    public subscript(name: String) -> Tensor<Scalar>? {
        get { storage[name] }
        set {
            guard let newValue else { preconditionFailure("ParameterSet: cannot remove \(name) by assigning nil") }
            guard let old = storage[name] else { preconditionFailure("ParameterSet: no parameter named \(name)") }
            precondition(
                old.shape == newValue.shape,
                "ParameterSet: \(name) has shape \(old.shape); cannot assign shape \(newValue.shape)")
            storage[name] = newValue
        }
    }

    /// The number of tensors.
    public var count: Int { names.count }
    /// The number of scalars in all tensors.
    public var scalarCount: Int { names.reduce(0) { $0 + storage[$1]!.count } }
    /// (name, tensor) pairs in order.
    public var entries: [(name: String, tensor: Tensor<Scalar>)] { names.map { ($0, storage[$0]!) } }

    /// A set with the same names and shapes whose tensors are `transform(name, tensor)`.
    public func mapTensors(_ transform: (String, Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows -> ParameterSet {
        var result = self
        for name in names { result[name] = try transform(name, storage[name]!) }
        return result
    }

    /// Zeros of the same names and shapes.
    public func zerosLike() -> ParameterSet { mapTensors { _, tensor in Tensor(zeros: tensor.shape) } }

    public static func == (lhs: ParameterSet, rhs: ParameterSet) -> Bool {
        lhs.names == rhs.names && lhs.storage == rhs.storage
    }
}
