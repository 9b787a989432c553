extension Tensor {
    /// The axes reordered: result axis i is this tensor's axis `axes[i]` (NumPy transpose(axes)).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.count == rank && Set(axes) == Set(0..<rank), "permuted: axes \(axes) are not a permutation for shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        let sourceStrides = contiguousStrides(shape)
        let readStrides = axes.map { sourceStrides[$0] }
        let lastStride = readStrides.last ?? 1
        return withUnsafePointer { x in
            Tensor(shape: outShape) { y, _ in
                forEachRow(shape: outShape, strides: [readStrides, contiguousStrides(outShape)]) { offsets, length in
                    Scalar.stridedCopyKernel(x + offsets[0], stride: lastStride, y + offsets[1], count: length)
                }
            }
        }
    }

    /// The last two axes swapped (a matrix transpose, batched over leading axes).
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: shape \(shape) has fewer than 2 axes")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// Elements at `indices` along `axis` (NumPy take / PyTorch index_select); indices may repeat.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func gathering(_ indices: [Int], alongAxis axis: Int) -> Tensor {
        let (outer, length, inner) = axisSplit(axis, op: "gathering")
        var outShape = shape
        outShape[normalizedAxis(axis, op: "gathering")] = indices.count
        for index in indices {
            precondition(index >= 0 && index < length, "gathering: index \(index) out of range 0..<\(length) along axis \(axis) of \(shape)")
        }
        return withUnsafePointer { x in
            Tensor(shape: outShape) { y, _ in
                var target = y
                for o in 0..<outer {
                    for index in indices {
                        // Scalars are trivial types: a block copy is a memcpy.
                        UnsafeMutableRawPointer(target).copyMemory(
                            from: x + (o * length + index) * inner, byteCount: inner * MemoryLayout<Scalar>.stride)
                        target += inner
                    }
                }
            }
        }
    }

    /// The elements at positions `range` along `axis`.
    public func slice(_ range: Range<Int>, alongAxis axis: Int) -> Tensor {
        gathering(Array(range), alongAxis: axis)
    }

    /// Tensors joined along `axis`; all other extents must agree.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func concatenating(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenating: no tensors")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, op: "concatenating")
        for tensor in tensors {
            var expected = first.shape, actual = tensor.shape
            guard expected.count == actual.count else {
                preconditionFailure("concatenating: shapes \(first.shape) and \(tensor.shape) differ in rank")
            }
            expected[a] = 0
            actual[a] = 0
            precondition(expected == actual, "concatenating: shapes \(first.shape) and \(tensor.shape) differ off axis \(axis)")
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        var scalars = [Scalar]()
        scalars.reserveCapacity(outShape.reduce(1, *))
        for o in 0..<outer {
            for tensor in tensors {
                let block = tensor.shape[a] * inner
                scalars.append(contentsOf: tensor.scalars[(o * block)..<((o + 1) * block)])
            }
        }
        return Tensor(shape: outShape, scalars: scalars)
    }

    /// result.scalars[i] = scalars[indices[i]], viewed with `shape` (whose size is indices.count).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func gatheringFlat(_ indices: [Int], shape outShape: [Int]) -> Tensor {
        precondition(outShape.reduce(1, *) == indices.count, "gatheringFlat: \(indices.count) indices for shape \(outShape)")
        return withUnsafePointer { x in
            indices.withUnsafeBufferPointer { index in
                Tensor(shape: outShape) { y, count in Scalar.gatherKernel(x, index.baseAddress!, y, count: count) }
            }
        }
    }

    /// A tensor of `shape` whose element j is the sum of scalars[i] over all i with indices[i] == j:
    /// the adjoint of `gatheringFlat`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func scatterAddingFlat(_ indices: [Int], shape outShape: [Int]) -> Tensor {
        precondition(count == indices.count, "scatterAddingFlat: \(indices.count) indices for \(count) elements of \(shape)")
        var result = Tensor(zeros: outShape)
        withUnsafePointer { x in
            indices.withUnsafeBufferPointer { index in
                result.withUnsafeMutablePointer { y in Scalar.scatterAddKernel(x, index.baseAddress!, y, count: index.count) }
            }
        }
        return result
    }
}
