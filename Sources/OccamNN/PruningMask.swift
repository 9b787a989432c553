import OccamTensor

/// A pruning mask: for some of a model's parameters, a tensor of the same shape holding 1 (kept) or 0 (pruned).
///
/// Parameters without a mask are dense. The names and shapes are those of the model's `ParameterSet`
/// ("fc1.weight" as [out, in]), so a mask travels with a checkpoint as one more `ParameterSet`.
/// An optimizer holding a mask keeps every pruned weight, and its optimizer state, exactly `+0` after every step.
public struct PruningMask<Scalar: TensorScalar>: Sendable, Equatable {
    /// The 0/1 tensors by parameter name, in the order given.
    public let masks: ParameterSet<Scalar>

    /// A mask from 0/1 tensors named like the parameters they prune.
    ///
    /// - Throws: `PruningMaskError.notBinary` when an element is neither 0 nor 1 (a corrupt or foreign file).
    public init(_ masks: ParameterSet<Scalar>) throws(PruningMaskError) {
        for (name, tensor) in masks.entries {
            if let index = tensor.scalars.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw .notBinary(name: name, index: index, value: Double(tensor.scalars[index]))
            }
        }
        self.masks = masks
    }

    /// A mask that keeps everything in the named parameters: ones of the same shapes as `parameters`.
    public init(keepingAllOf parameters: ParameterSet<Scalar>) {
        masks = parameters.mapTensors { _, tensor in Tensor(ones: tensor.shape) }
    }

    /// The 0/1 tensor for `name`, or nil when that parameter is dense.
    public subscript(name: String) -> Tensor<Scalar>? { masks[name] }

    /// The number of masked elements that are kept (equal to 1).
    public var keptCount: Int { masks.entries.reduce(0) { $0 + $1.tensor.scalars.count(where: { $0 != 0 }) } }
    /// The number of elements in all masked tensors.
    public var maskedScalarCount: Int { masks.scalarCount }
    /// The fraction of masked elements that are kept; 1 for an empty mask.
    public var density: Double { maskedScalarCount == 0 ? 1 : Double(keptCount) / Double(maskedScalarCount) }

    /// Checks that every mask names a parameter in `parameters` and has its shape.
    ///
    /// - Throws: `PruningMaskError.unknownParameter` or `.shapeMismatch`.
    public func validate(against parameters: ParameterSet<Scalar>) throws(PruningMaskError) {
        for (name, mask) in masks.entries {
            guard let parameter = parameters[name] else { throw .unknownParameter(name) }
            guard parameter.shape == mask.shape else {
                throw .shapeMismatch(name: name, parameter: parameter.shape, mask: mask.shape)
            }
        }
    }

    /// Sets every pruned element of the masked tensors in `set` to `+0` (NaN and infinities included).
    ///
    /// `set` may be parameters, gradients or anything else named like them; names without a mask are untouched.
    /// A mask whose name is missing from `set` is ignored. Shapes must match (precondition).
    public func apply(to set: inout ParameterSet<Scalar>) {
        for (name, mask) in masks.entries {
            guard let tensor = set[name] else { continue }
            set[name] = Self.masked(tensor, by: mask, name: name)
        }
    }

    /// `tensor` with the elements where `mask` is 0 replaced by `+0`; shapes must be equal (precondition).
    static func masked(_ tensor: Tensor<Scalar>, by mask: Tensor<Scalar>, name: String) -> Tensor<Scalar> {
        precondition(
            tensor.shape == mask.shape,
            "PruningMask: \(name) has shape \(tensor.shape) but its mask has shape \(mask.shape)")
        var result = tensor
        let count = result.count
        mask.withUnsafePointer { m in result.withUnsafeMutablePointer { x in zeroPruned(count, m, x) } }
        return result
    }
}

/// Why a set of tensors is not a usable pruning mask.
public enum PruningMaskError: Error, Equatable, CustomStringConvertible {
    /// An element is neither 0 nor 1.
    case notBinary(name: String, index: Int, value: Double)
    /// A mask names no parameter of the model.
    case unknownParameter(String)
    /// A mask's shape differs from its parameter's.
    case shapeMismatch(name: String, parameter: [Int], mask: [Int])

    public var description: String {
        switch self {
        case let .notBinary(name, index, value):
            "pruning mask \(name) holds \(value) at flat index \(index); masks must hold only 0 and 1"
        case let .unknownParameter(name):
            "pruning mask \(name) names no parameter of this model"
        case let .shapeMismatch(name, parameter, mask):
            "pruning mask \(name) has shape \(mask) but the parameter has shape \(parameter)"
        }
    }
}
