import OccamTensor

// Operations that move elements without arithmetic. Each pullback is the adjoint movement, itself a
// recorded operation, so these compose to any order of differentiation.

extension Variable {
    /// The same elements with another shape of equal size (one extent may be -1).
    public func reshaped(to shape: [Int]) -> Variable {
        Variable.recording(value.reshaped(to: shape), [self]) { g, _ in [g.reshaped(to: self.shape)] }
    }

    /// The axes reordered: result axis i is axis `axes[i]` of this variable.
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return Variable.recording(value.permuted(axes), [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// The last two axes swapped.
    public func transposed() -> Variable {
        precondition(rank >= 2, "transposed: shape \(shape) has fewer than 2 axes")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// Repeated along broadcast axes to `target`; the pullback sums them back.
    public func broadcast(to target: [Int]) -> Variable {
        if target == shape { return self }
        return Variable.recording(value.broadcast(to: target), [self]) { g, _ in [g.summed(toShape: self.shape)] }
    }

    /// Summed over the axes `target` broadcasts along (`target` broadcasts to this shape); the pullback
    /// broadcasts back.
    public func summed(toShape target: [Int]) -> Variable {
        if target == shape { return self }
        return Variable.recording(value.summed(toShape: target), [self]) { g, _ in [g.broadcast(to: self.shape)] }
    }

    /// result[i] = self.flat[indices[i]], viewed with `shape`; indices may repeat.
    public func gatheringFlat(_ indices: [Int], shape: [Int]) -> Variable {
        Variable.recording(value.gatheringFlat(indices, shape: shape), [self]) { g, _ in
            [g.scatterAddingFlat(indices, shape: self.shape)]
        }
    }

    /// The adjoint of `gatheringFlat`: element i is added to position indices[i] of a zero tensor of `shape`.
    public func scatterAddingFlat(_ indices: [Int], shape: [Int]) -> Variable {
        Variable.recording(value.scatterAddingFlat(indices, shape: shape), [self]) { g, _ in
            [g.gatheringFlat(indices, shape: self.shape)]
        }
    }

    /// Elements at `indices` along `axis` (PyTorch index_select).
    public func gathering(_ indices: [Int], alongAxis axis: Int) -> Variable {
        let result = value.gathering(indices, alongAxis: axis)
        return Variable.recording(result, [self]) { g, _ in
            [g.scatterAddingFlat(self.flatIndices(ofGathering: indices, alongAxis: axis), shape: self.shape)]
        }
    }

    /// The elements at positions `range` along `axis`.
    public func slice(_ range: Range<Int>, alongAxis axis: Int) -> Variable {
        gathering(Array(range), alongAxis: axis)
    }

    /// Variables joined along `axis`.
    public static func concatenating(_ parts: [Variable], alongAxis axis: Int) -> Variable {
        let joined = Tensor.concatenating(parts.map { $0.value }, alongAxis: axis)
        return recording(joined, parts) { g, _ in
            var start = 0
            return parts.map { part in
                let length = part.shape[part.value.normalizedAxis(axis, op: "concatenating")]
                defer { start += length }
                return part.requiresGradient ? g.slice(start..<(start + length), alongAxis: axis) : nil
            }
        }
    }

    /// For `gathering(indices, alongAxis:)` on this shape: the flat source index of every result element.
    func flatIndices(ofGathering indices: [Int], alongAxis axis: Int) -> [Int] {
        let a = value.normalizedAxis(axis, op: "gathering")
        let outer = shape[..<a].reduce(1, *), length = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var result = [Int]()
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let base = (o * length + index) * inner
                for i in 0..<inner { result.append(base + i) }
            }
        }
        return result
    }
}
