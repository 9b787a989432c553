extension Tensor {
    /// The sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor {
        Tensor(withUnsafePointer { Scalar.sumKernel($0, count: count) })
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor {
        Tensor(sum().scalar / Scalar(count))
    }

    /// Sums over the axes that `target` broadcasts along: the inverse of `broadcast(to:)`.
    /// `target` must broadcast to this tensor's shape; the result has shape `target`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func summed(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(
            Broadcasting.canBroadcast(target, to: shape), "summed(toShape:): \(target) does not broadcast to \(shape)")
        let outStrides = Broadcasting.strides(of: target, in: shape)
        let inStrides = contiguousStrides(shape)
        let reducesLastAxis = (outStrides.last ?? 1) == 0
        var result = Tensor(zeros: target)
        withUnsafePointer { x in
            result.withUnsafeMutablePointer { y in
                forEachRow(shape: shape, strides: [inStrides, outStrides]) { offsets, length in
                    if reducesLastAxis {
                        y[offsets[1]] += Scalar.sumKernel(x + offsets[0], count: length)
                    } else {
                        Scalar.binaryKernel(
                            .add, y + offsets[1], aStride: 1, x + offsets[0], bStride: 1, y + offsets[1], count: length)
                    }
                }
            }
        }
        return result
    }

    /// Sums along `axes` (negative axes count from the end); reduced axes are kept with extent 1 when
    /// `keepingDimensions`, dropped otherwise.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let normalized = Set(axes.map { normalizedAxis($0, op: "sum") })
        let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let result = summed(toShape: kept)
        return keepingDimensions ? result : result.reshaped(to: kept.enumerated().filter { !normalized.contains($0.offset) }.map { $0.element })
    }

    /// Means along `axes`; see `sum(alongAxes:keepingDimensions:)`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let reducedCount = Set(axes.map { normalizedAxis($0, op: "mean") }).map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Scalar(reducedCount)
    }

    /// The largest element (NaN if any element is NaN).
    public func max() -> Scalar {
        precondition(count > 0, "max: empty tensor")
        return scalars.reduce(scalars[0]) { $0.isNaN || $0 >= $1 ? $0 : $1 }
    }

    /// The smallest element.
    public func min() -> Scalar {
        precondition(count > 0, "min: empty tensor")
        return scalars.reduce(scalars[0]) { $0.isNaN || $0 <= $1 ? $0 : $1 }
    }

    /// The flat index of the first largest element.
    public func argmax() -> Int {
        precondition(count > 0, "argmax: empty tensor")
        var best = 0
        for i in 1..<count where scalars[i] > scalars[best] { best = i }
        return best
    }

    /// For each position of the other axes, the index along `axis` of the first largest element; the
    /// result lists them in row-major order of the remaining axes (shape: this shape without `axis`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func argmax(alongAxis axis: Int) -> [Int] {
        let (outer, length, inner) = axisSplit(axis, op: "argmax")
        precondition(length > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        var result = [Int](repeating: 0, count: outer * inner)
        withUnsafePointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var best = 0
                    var bestValue = x[base]
                    for k in 1..<length where x[base + k * inner] > bestValue {
                        best = k
                        bestValue = x[base + k * inner]
                    }
                    result[o * inner + i] = best
                }
            }
        }
        return result
    }

    /// Flat indices (into this tensor) of the largest element along `axis` for each position of the other
    /// axes, in row-major order of the remaining axes.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func argmaxFlatIndices(alongAxis axis: Int) -> [Int] {
        let (_, length, inner) = axisSplit(axis, op: "argmax")
        let positions = argmax(alongAxis: axis)
        return positions.enumerated().map { item in
            let (o, i) = item.offset.quotientAndRemainder(dividingBy: inner)
            return o * length * inner + item.element * inner + i
        }
    }

    /// The largest elements along `axis`.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let indices = argmaxFlatIndices(alongAxis: axis)
        return gatheringFlat(indices, shape: reducedShape(axis, keepingDimensions: keepingDimensions))
    }

    /// log(sum(exp(x))) along `axis`, computed stably by subtracting the maximum first.
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let m = max(alongAxis: axis, keepingDimensions: true)
        let result = (self - m).exp().sum(alongAxes: [axis], keepingDimensions: true).log() + m
        return keepingDimensions ? result : result.reshaped(to: reducedShape(axis, keepingDimensions: false))
    }

    /// exp(x) / sum(exp(x)) along `axis`, computed stably.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        (self - logSumExp(alongAxis: axis, keepingDimensions: true)).exp()
    }

    /// x - logsumexp(x) along `axis`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        self - logSumExp(alongAxis: axis, keepingDimensions: true)
    }

    /// The Euclidean (Frobenius) norm of all elements.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func norm() -> Scalar {
        withUnsafePointer { x in
            var total: Scalar = 0
            for i in 0..<count { total += x[i] * x[i] }
            return total.squareRoot()
        }
    }

    /// The p-norm of all elements, for p = 1, 2 or infinity.
    public func norm(p: Scalar) -> Scalar {
        switch p {
        case 1: return abs().sum().scalar
        case 2: return norm()
        case .infinity: return abs().max()
        default: return abs().pow(p).sum().scalar.pow(1 / p)
        }
    }

    /// `axis` counted from the front; negative axes count from the end.
    public func normalizedAxis(_ axis: Int, op: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "\(op): axis \(axis) is out of range for shape \(shape)")
        return resolved
    }

    /// The shape viewed as [outer, shape[axis], inner].
    func axisSplit(_ axis: Int, op: String) -> (outer: Int, length: Int, inner: Int) {
        let a = normalizedAxis(axis, op: op)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    /// The shape with `axis` set to 1 (kept) or removed.
    func reducedShape(_ axis: Int, keepingDimensions: Bool) -> [Int] {
        let a = normalizedAxis(axis, op: "reduce")
        var result = shape
        if keepingDimensions { result[a] = 1 } else { result.remove(at: a) }
        return result
    }
}

extension TensorScalar {
    func pow(_ exponent: Self) -> Self { Self.pow(self, exponent) }
}
