import Foundation

/// A dense n-dimensional array of `Float` or `Double`, stored contiguously in row-major order.
///
/// Tensors are values: copies share storage until one is written (copy-on-write through Swift's Array).
/// A tensor of shape `[]` is a scalar and holds one element.
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Scalar] {
        didSet {
            precondition(
                scalars.count == shape.reduce(1, *),
                "Tensor.scalars: \(scalars.count) elements do not fill shape \(shape)")
        }
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape) { pointer, count in fill(pointer, with: value, count: count) }
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor.init: negative extent in shape \(shape)")
        precondition(
            scalars.count == shape.reduce(1, *),
            "Tensor.init: \(scalars.count) elements do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Scalar) {
        self.init(shape: [], scalars: [value])
    }

    /// A rank-1 tensor of `values`.
    public init(_ values: [Scalar]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A rank-2 tensor of `rows`, each of the same length.
    public init(rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor.init(rows:): rows differ in length")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A tensor of `shape` whose elements are written by `initializer` into uninitialized memory.
    /// `initializer` must write every element.
    @inlinable
    public init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutablePointer<Scalar>, Int) -> Void) {
        let count = shape.reduce(1, *)
        let scalars = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                adviseHugePages(buffer.baseAddress!, bytes: count * MemoryLayout<Scalar>.stride)
                initializer(buffer.baseAddress!, count)
            }
            initialized = count
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }
    /// The single element of a tensor with one element.
    public var scalar: Scalar {
        precondition(count == 1, "Tensor.scalar: shape \(shape) holds \(count) elements, not 1")
        return scalars[0]
    }

    /// Read-only access to the elements' memory.
    @inlinable
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// Writable access to the elements' memory.
    @inlinable
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!) }
    }

    /// The element at a full multi-index.
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor subscript: index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "Tensor subscript: index \(index) out of bounds for shape \(shape)")
            flat = flat * extent + i
        }
        return flat
    }

    /// The same elements viewed with another shape of equal size; one extent may be -1 (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: resolvedShape(newShape, count: count, op: "reshaped"), scalars: scalars)
    }

    /// This tensor converted to another precision.
    public func converted<Other: TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and every element (NaN is unequal to itself).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        if rank == 0 { return "\(scalars[0])" }
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.precisionName)>(shape: \(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}

/// Writes `value` into `count` elements with raw memory operations (memset for zero, doubling copies
/// otherwise), which cost the same in generic code as in specialized code.
@usableFromInline
func fill<Scalar: TensorScalar>(_ pointer: UnsafeMutablePointer<Scalar>, with value: Scalar, count: Int) {
    let stride = MemoryLayout<Scalar>.stride
    let raw = UnsafeMutableRawPointer(pointer)
    if value == 0 && value.sign == .plus {
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * stride)
        return
    }
    pointer.initialize(to: value)
    var filled = 1
    while filled < count {
        let chunk = Swift.min(filled, count - filled)
        (raw + filled * stride).copyMemory(from: raw, byteCount: chunk * stride)
        filled += chunk
    }
}

/// Asks the kernel to back a large, not yet touched buffer with transparent huge pages (as NumPy does):
/// a fresh 40 MB result then takes 20 page faults instead of 10,000. Smaller buffers are left alone.
@usableFromInline
func adviseHugePages(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
    let hugePage = 2 << 20
    guard bytes >= 2 * hugePage else { return }
    let start = (Int(bitPattern: pointer) + hugePage - 1) & ~(hugePage - 1)
    let end = (Int(bitPattern: pointer) + bytes) & ~(hugePage - 1)
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
}

/// `shape` with a -1 extent replaced so that the product is `count`.
func resolvedShape(_ shape: [Int], count: Int, op: String) -> [Int] {
    let inferred = shape.indices.filter { shape[$0] == -1 }
    precondition(inferred.count <= 1, "\(op): shape \(shape) has more than one -1")
    var result = shape
    if let axis = inferred.first {
        let known = shape.enumerated().filter { $0.offset != axis }.map { $0.element }.reduce(1, *)
        precondition(known > 0 && count % known == 0, "\(op): cannot view \(count) elements as \(shape)")
        result[axis] = count / known
    }
    precondition(
        result.allSatisfy { $0 >= 0 } && result.reduce(1, *) == count,
        "\(op): cannot view \(count) elements as shape \(shape)")
    return result
}
