import Foundation
import OccamTensor

/// One tensor as a safetensors file stores it: its element type, shape and elements (row-major).
///
/// Equality is bitwise: same dtype, same shape, same bit pattern of every element. A NaN equals a NaN with the
/// same payload, and -0.0 differs from 0.0, so a checkpoint read back compares equal to what was written
/// exactly when no bit changed (unlike `Tensor`'s `==`, which follows IEEE comparison).
public enum StoredTensor: Sendable {
    case float32(Tensor<Float>)
    case float64(Tensor<Double>)
    /// Signed 64-bit integers (PyTorch's `torch.int64`, e.g. BatchNorm's `num_batches_tracked`, step counters).
    /// `values.count` must be the product of `shape`.
    case int64(shape: [Int], values: [Int64])
    /// Unsigned bytes (`torch.uint8`: pruning masks, random-generator states). `values.count` must be the product
    /// of `shape`.
    case uint8(shape: [Int], values: [UInt8])

    /// The element types Occam reads and writes, by their safetensors names.
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "F32"
        case float64 = "F64"
        case int64 = "I64"
        case uint8 = "U8"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .float32: 4
            case .float64: 8
            case .int64: 8
            case .uint8: 1
            }
        }
    }

    /// A tensor of `Float` or `Double`, stored as F32 or F64.
    public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
        if let float = tensor as? Tensor<Float> {
            self = .float32(float)
        } else if let double = tensor as? Tensor<Double> {
            self = .float64(double)
        } else {
            preconditionFailure("StoredTensor.init: no safetensors dtype for \(Scalar.self)")
        }
    }

    /// The extent of each axis, outermost first; `[]` for a scalar.
    public var shape: [Int] {
        switch self {
        case .float32(let tensor): tensor.shape
        case .float64(let tensor): tensor.shape
        case .int64(let shape, _): shape
        case .uint8(let shape, _): shape
        }
    }

    /// The element type.
    public var dtype: DType {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int64: .int64
        case .uint8: .uint8
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float32(let tensor): tensor.count
        case .float64(let tensor): tensor.count
        case .int64(_, let values): values.count
        case .uint8(_, let values): values.count
        }
    }

    /// The tensor as `Tensor<Scalar>` if its dtype is `Scalar`'s (F32 for Float, F64 for Double), else nil.
    /// No conversion between precisions happens here.
    public func tensor<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) -> Tensor<Scalar>? {
        switch self {
        case .float32(let tensor): tensor as? Tensor<Scalar>
        case .float64(let tensor): tensor as? Tensor<Scalar>
        case .int64, .uint8: nil
        }
    }
}

extension StoredTensor: Equatable {
    /// Bitwise equality of dtype, shape and elements (see the type's documentation).
    public static func == (lhs: StoredTensor, rhs: StoredTensor) -> Bool {
        switch (lhs, rhs) {
        case (.float32(let a), .float32(let b)):
            a.shape == b.shape && a.scalars.elementsEqual(b.scalars) { $0.bitPattern == $1.bitPattern }
        case (.float64(let a), .float64(let b)):
            a.shape == b.shape && a.scalars.elementsEqual(b.scalars) { $0.bitPattern == $1.bitPattern }
        case (.int64(let shapeA, let a), .int64(let shapeB, let b)):
            shapeA == shapeB && a == b
        case (.uint8(let shapeA, let a), .uint8(let shapeB, let b)):
            shapeA == shapeB && a == b
        default:
            false
        }
    }
}

/// The contents of a safetensors file: named tensors in a fixed order, and string metadata.
///
/// Layout on disk (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON (`{"__metadata__": {..}, "name": {"dtype", "shape", "data_offsets": [begin, end]}, ..}`,
/// padded with spaces so the data starts at a multiple of 8), then the tensors' bytes, little-endian and
/// row-major, back to back. Occam writes tensors in the order given; PyTorch's writer orders them by dtype
/// then name; both are valid, and reading yields the tensors in the order of their data in the file.
/// Names follow PyTorch ("fc1.weight" as [out, in]), so a file moves between Occam and PyTorch unchanged.
public struct SafeTensorsFile: Sendable {
    /// Tensor names in order (for a file read from disk: the order of their data in the file).
    public private(set) var names: [String]
    private var storage: [String: StoredTensor]
    /// String metadata (`__metadata__`): a run's configuration, the step, the format version.
    public var metadata: [String: String]
    /// The file this was read from, if any; errors name it. Not part of equality.
    public internal(set) var source: URL?

    /// A file with no tensors and the given metadata.
    public init(metadata: [String: String] = [:]) {
        names = []
        storage = [:]
        self.metadata = metadata
        source = nil
    }

    /// A file holding `entries` in the given order; names must be unique and not "__metadata__".
    public init(_ entries: [(name: String, tensor: StoredTensor)], metadata: [String: String] = [:]) {
        self.init(metadata: metadata)
        for entry in entries { insert(entry.tensor, named: entry.name) }
    }

    /// Adds a tensor under a new name at the end of the order. A repeated name, or "__metadata__", is a
    /// programmer's error.
    public mutating func insert(_ tensor: StoredTensor, named name: String) {
        precondition(name != "__metadata__", "SafeTensorsFile.insert: \"__metadata__\" is reserved")
        precondition(storage[name] == nil, "SafeTensorsFile.insert: name \(name) is already present")
        checkConsistent(tensor, name)
        names.append(name)
        storage[name] = tensor
    }

    /// The tensor named `name`, if present. Setting replaces an existing tensor (any dtype or shape) in place
    /// or appends a new one.
    public subscript(name: String) -> StoredTensor? {
        get { storage[name] }
        set {
            guard let newValue else { preconditionFailure("SafeTensorsFile: cannot remove \(name) by assigning nil") }
            if storage[name] == nil {
                insert(newValue, named: name)
            } else {
                checkConsistent(newValue, name)
                storage[name] = newValue
            }
        }
    }

    /// The number of tensors.
    public var count: Int { names.count }

    /// (name, tensor) pairs in order.
    public var entries: [(name: String, tensor: StoredTensor)] { names.map { ($0, storage[$0]!) } }

    /// The tensor named `name`.
    /// - Throws: `CheckpointError.missingTensor` if there is none.
    public func tensor(named name: String) throws -> StoredTensor {
        guard let tensor = storage[name] else { throw CheckpointError.missingTensor(source, name: name) }
        return tensor
    }

    /// The tensor named `name` as `Tensor<Scalar>` (stored as F32 for Float, F64 for Double).
    /// - Throws: `CheckpointError.missingTensor`, or `.dtypeMismatch` if it is stored with another dtype.
    public func tensor<Scalar: TensorScalar>(named name: String, as _: Scalar.Type) throws -> Tensor<Scalar> {
        let stored = try tensor(named: name)
        guard let tensor = stored.tensor(as: Scalar.self) else {
            throw CheckpointError.dtypeMismatch(
                source, name: name, expected: Scalar.self == Float.self ? "F32" : "F64", found: stored.dtype.rawValue)
        }
        return tensor
    }

    private func checkConsistent(_ tensor: StoredTensor, _ name: String) {
        switch tensor {
        case .int64(let shape, let values):
            precondition(
                shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                "SafeTensorsFile: \(name) has \(values.count) values for shape \(shape)")
        case .uint8(let shape, let values):
            precondition(
                shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                "SafeTensorsFile: \(name) has \(values.count) values for shape \(shape)")
        case .float32, .float64:
            break
        }
    }
}

extension SafeTensorsFile: Equatable {
    /// Same names in the same order, bitwise-equal tensors (see `StoredTensor`), same metadata. `source` is
    /// ignored.
    public static func == (lhs: SafeTensorsFile, rhs: SafeTensorsFile) -> Bool {
        lhs.names == rhs.names && lhs.storage == rhs.storage && lhs.metadata == rhs.metadata
    }
}

// MARK: - Parameter sets

extension SafeTensorsFile {
    /// A file holding `parameters` (F32 for Float, F64 for Double) in their order, each under
    /// `prefix + name`, with `metadata`.
    public init<Scalar: TensorScalar>(
        _ parameters: ParameterSet<Scalar>, prefix: String = "", metadata: [String: String] = [:]
    ) {
        self.init(metadata: metadata)
        insert(parameters, prefix: prefix)
    }

    /// Appends `parameters` in their order, each under `prefix + name` (e.g. "optimizer.exp_avg." for an
    /// optimizer's moments next to the model's weights). A name already present is a programmer's error.
    public mutating func insert<Scalar: TensorScalar>(_ parameters: ParameterSet<Scalar>, prefix: String = "") {
        for (name, tensor) in parameters.entries { insert(StoredTensor(tensor), named: prefix + name) }
    }

    /// Tensors as a `ParameterSet` of `Scalar` (which must be their stored dtype: F32 for Float, F64 for
    /// Double; nothing is converted).
    ///
    /// - Parameters:
    ///   - names: the names to take, without `prefix`, in the order wanted (a model's parameter names);
    ///     nil takes every tensor whose name starts with `prefix`, in file order.
    ///   - prefix: prepended to each of `names` to find it in the file, and stripped from the names returned.
    /// - Throws: `CheckpointError.missingTensor` if one of `names` is absent, `.dtypeMismatch` if a tensor taken
    ///   has another dtype.
    public func parameterSet<Scalar: TensorScalar>(
        as _: Scalar.Type, names wanted: [String]? = nil, prefix: String = ""
    ) throws -> ParameterSet<Scalar> {
        let selected = wanted ?? names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        var result = ParameterSet<Scalar>()
        for name in selected { result.insert(try tensor(named: prefix + name, as: Scalar.self), named: name) }
        return result
    }
}

// MARK: - Errors

/// A checkpoint (safetensors file) that cannot be read or written, or lacks what was asked of it. Each
/// description names the file (when there is one) and what is wrong.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file at this path.
    case fileNotFound(URL)
    /// The file exists but cannot be read (a directory, permissions, an I/O error).
    case unreadable(URL, reason: String)
    /// The file (or its temporary sibling) cannot be written.
    case unwritable(URL, reason: String)
    /// Shorter than the 8-byte header length.
    case tooShort(URL, byteCount: Int)
    /// The header length (first 8 bytes) exceeds what follows it in the file.
    case headerLengthExceedsFile(URL, headerLength: UInt64, fileSize: Int)
    /// The header is not UTF-8 JSON, not an object, or an entry in it is malformed.
    case invalidHeader(URL?, reason: String)
    /// A tensor's dtype is not one Occam reads (F32, F64, I64, U8).
    case unknownDType(URL?, name: String, dtype: String)
    /// A tensor's byte range does not hold product(shape) * dtype size bytes.
    case sizeMismatch(URL?, name: String, dtype: String, shape: [Int], byteCount: Int)
    /// A tensor's data does not start where the previous one (in offset order) ends: a gap or an overlap.
    case offsetsNotContiguous(URL?, name: String, begin: Int, expectedBegin: Int)
    /// The data buffer is shorter than the tensors' offsets require.
    case truncated(URL?, expectedBytes: Int, actualBytes: Int)
    /// The data buffer holds bytes after the last tensor's.
    case trailingBytes(URL?, expectedBytes: Int, extraBytes: Int)
    /// A tensor that was asked for is not in the file.
    case missingTensor(URL?, name: String)
    /// A tensor has another dtype than the one asked for.
    case dtypeMismatch(URL?, name: String, expected: String, found: String)
    /// A well-formed file that does not fit what reads it: a tensor with another shape than the model's, a
    /// missing tensor, metadata that names an impossible configuration.
    case incompatible(URL?, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let url):
            return "\(url.path): no such checkpoint file. Check the path."
        case .unreadable(let url, let reason):
            return "\(url.path): cannot be read (\(reason))."
        case .unwritable(let url, let reason):
            return "\(url.path): cannot be written (\(reason)). Check that the directory exists and is writable."
        case .tooShort(let url, let count):
            return "\(url.path): \(count) bytes, too short for a safetensors file (at least 8). " + Self.damaged
        case .headerLengthExceedsFile(let url, let length, let size):
            return "\(url.path): not a safetensors file, or truncated: its first 8 bytes give a header of "
                + "\(length) bytes, but only \(max(0, size - 8)) follow. " + Self.damaged
        case .invalidHeader(let url, let reason):
            return "\(Self.name(url)): invalid safetensors header: \(reason). " + Self.damaged
        case .unknownDType(let url, let name, let dtype):
            let supported = StoredTensor.DType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(Self.name(url)): tensor \(name) has dtype \(dtype), which Occam does not read "
                + "(it reads \(supported)). Convert the tensor in PyTorch before saving."
        case .sizeMismatch(let url, let name, let dtype, let shape, let byteCount):
            return "\(Self.name(url)): tensor \(name) (\(dtype), shape \(shape)) spans \(byteCount) bytes, which "
                + "does not match its shape and dtype. " + Self.damaged
        case .offsetsNotContiguous(let url, let name, let begin, let expected):
            let kind = begin > expected ? "a gap of \(begin - expected) bytes" : "an overlap of \(expected - begin) bytes"
            return "\(Self.name(url)): tensor \(name) starts at byte \(begin) of the data, but the tensor before it "
                + "ends at \(expected) (\(kind)). " + Self.damaged
        case .truncated(let url, let expected, let actual):
            return "\(Self.name(url)): truncated: its tensors need \(expected) bytes of data, but it holds "
                + "\(actual). " + Self.damaged
        case .trailingBytes(let url, let expected, let extra):
            return "\(Self.name(url)): \(extra) unexpected bytes after the \(expected) bytes of tensor data. "
                + Self.damaged
        case .missingTensor(let url, let name):
            return "\(Self.name(url)): no tensor named \(name). Was it written by another model or version?"
        case .incompatible(let url, let reason):
            return "\(Self.name(url)): \(reason)."
        case .dtypeMismatch(let url, let name, let expected, let found):
            return "\(Self.name(url)): tensor \(name) is stored as \(found), expected \(expected). "
                + "Load it with the matching precision."
        }
    }

    private static let damaged = "The file is damaged or not a safetensors file; write it again."

    private static func name(_ url: URL?) -> String { url?.path ?? "checkpoint" }
}
