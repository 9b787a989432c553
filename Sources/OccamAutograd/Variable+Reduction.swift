import OccamTensor

extension Variable {
    /// The sum of all elements: rank 0.
    public func sum() -> Variable {
        Variable.recording(value.sum(), [self]) { g, _ in [g.broadcast(to: self.shape)] }
    }

    /// The mean of all elements: rank 0.
    public func mean() -> Variable {
        sum() * (1 / Scalar(count))
    }

    /// Sums along `axes`, keeping them with extent 1 when `keepingDimensions`.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let kept = value.sum(alongAxes: axes, keepingDimensions: true).shape
        let reduced = summed(toShape: kept)
        guard !keepingDimensions else { return reduced }
        return reduced.reshaped(to: value.sum(alongAxes: axes).shape)
    }

    /// Means along `axes`, keeping them with extent 1 when `keepingDimensions`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let reducedCount = Set(axes.map { value.normalizedAxis($0, op: "mean") }).map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Scalar(reducedCount))
    }

    /// The largest element along `axis`; the gradient goes to the first maximum.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Variable {
        var reduced = shape
        let a = value.normalizedAxis(axis, op: "max")
        if keepingDimensions { reduced[a] = 1 } else { reduced.remove(at: a) }
        return gatheringFlat(value.argmaxFlatIndices(alongAxis: axis), shape: reduced)
    }

    /// log(sum(exp(x))) along `axis`, computed stably: the maximum is subtracted as a constant, which
    /// changes neither the value nor any derivative.
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Variable {
        let shift = Variable(value.max(alongAxis: axis, keepingDimensions: true))
        let result = (self - shift).exp().sum(alongAxes: [axis], keepingDimensions: true).log() + shift
        return keepingDimensions ? result : result.reshaped(to: value.max(alongAxis: axis).shape)
    }

    /// x - logsumexp(x) along `axis`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Variable {
        self - logSumExp(alongAxis: axis, keepingDimensions: true)
    }

    /// exp(x) / sum(exp(x)) along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Variable {
        logSoftmax(alongAxis: axis).exp()
    }

    /// The Euclidean norm of all elements: rank 0.
    public func norm() -> Variable {
        squared().sum().sqrt()
    }
}
