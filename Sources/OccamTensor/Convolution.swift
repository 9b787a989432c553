/// The geometry of a 2-D convolution or pooling window over an NCHW input.
public struct WindowGeometry: Sendable, Equatable {
    public var batch, channels, height, width: Int
    public var kernelHeight, kernelWidth: Int
    public var stride: Int
    public var padding: Int

    /// The geometry for input shape `[N, C, H, W]`.
    public init(inputShape: [Int], kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0) {
        precondition(inputShape.count == 4, "WindowGeometry: input shape \(inputShape) is not [N, C, H, W]")
        precondition(stride >= 1 && padding >= 0, "WindowGeometry: stride \(stride) or padding \(padding) invalid")
        (batch, channels, height, width) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        precondition(
            outputHeight >= 1 && outputWidth >= 1,
            "WindowGeometry: a \(kernelHeight)x\(kernelWidth) window with padding \(padding) does not fit input \(inputShape)")
    }

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    public var inputShape: [Int] { [batch, channels, height, width] }
    /// `[C * kh * kw, N * Ho * Wo]`: the shape of the im2col matrix.
    public var columnsShape: [Int] {
        [channels * kernelHeight * kernelWidth, batch * outputHeight * outputWidth]
    }

    /// Calls body(row, column, inputOffset) for every im2col entry that lies inside the input
    /// (entries in the padding are zero and skipped).
    @inline(__always)
    func forEachInsideEntry(_ body: (_ columnsOffset: Int, _ inputOffset: Int) -> Void) {
        let (ho, wo) = (outputHeight, outputWidth)
        let columnCount = batch * ho * wo
        for c in 0..<channels {
            for i in 0..<kernelHeight {
                for j in 0..<kernelWidth {
                    let row = (c * kernelHeight + i) * kernelWidth + j
                    for n in 0..<batch {
                        for oh in 0..<ho {
                            let ih = oh * stride - padding + i
                            if ih < 0 || ih >= height { continue }
                            let inputRow = ((n * channels + c) * height + ih) * width
                            let columnRow = row * columnCount + (n * ho + oh) * wo
                            for ow in 0..<wo {
                                let iw = ow * stride - padding + j
                                if iw >= 0 && iw < width { body(columnRow + ow, inputRow + iw) }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Unfolds the windows of an `[N, C, H, W]` input into `[C * kh * kw, N * Ho * Wo]` columns, so that a
    /// convolution is one matrix product. Positions in the zero padding read as 0.
    public func imageToColumns(_ geometry: WindowGeometry) -> Tensor {
        precondition(shape == geometry.inputShape, "imageToColumns: input \(shape) does not match geometry \(geometry.inputShape)")
        var columns = Tensor(zeros: geometry.columnsShape)
        withUnsafePointer { x in
            columns.withUnsafeMutablePointer { y in geometry.forEachInsideEntry { y[$0] = x[$1] } }
        }
        return columns
    }

    /// The adjoint of `imageToColumns`: adds each column entry back onto the input position it came from.
    /// Takes `[C * kh * kw, N * Ho * Wo]`, returns `[N, C, H, W]`.
    public func columnsToImage(_ geometry: WindowGeometry) -> Tensor {
        precondition(shape == geometry.columnsShape, "columnsToImage: columns \(shape) do not match geometry \(geometry.columnsShape)")
        var image = Tensor(zeros: geometry.inputShape)
        withUnsafePointer { x in
            image.withUnsafeMutablePointer { y in geometry.forEachInsideEntry { y[$1] += x[$0] } }
        }
        return image
    }

    /// For max pooling an `[N, C, H, W]` input: the flat input index of each window's first maximum,
    /// in the order of the `[N, C, Ho, Wo]` output. Padding never wins (it acts as -infinity).
    public func maxPoolingIndices(_ geometry: WindowGeometry) -> [Int] {
        precondition(shape == geometry.inputShape, "maxPooling: input \(shape) does not match geometry \(geometry.inputShape)")
        let (ho, wo) = (geometry.outputHeight, geometry.outputWidth)
        let (h, w, s, p) = (geometry.height, geometry.width, geometry.stride, geometry.padding)
        var indices = [Int](repeating: 0, count: geometry.batch * geometry.channels * ho * wo)
        withUnsafePointer { x in
            var out = 0
            for plane in 0..<(geometry.batch * geometry.channels) {
                let base = plane * h * w
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var best = -1
                        var bestValue = -Scalar.infinity
                        for i in 0..<geometry.kernelHeight {
                            let ih = oh * s - p + i
                            if ih < 0 || ih >= h { continue }
                            for j in 0..<geometry.kernelWidth {
                                let iw = ow * s - p + j
                                if iw < 0 || iw >= w { continue }
                                let index = base + ih * w + iw
                                if best < 0 || x[index] > bestValue || x[index].isNaN {
                                    best = index
                                    bestValue = x[index]
                                }
                            }
                        }
                        indices[out] = best
                        out += 1
                    }
                }
            }
        }
        return indices
    }
}
