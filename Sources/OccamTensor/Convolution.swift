/// The geometry of a 2-D convolution or pooling window over an NCHW input.
public struct WindowGeometry: Sendable, Hashable {
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

    /// Calls body(columnsOffset, inputOffset) for every im2col entry that lies inside the input (entries in
    /// the padding are zero and skipped). The range of valid output columns is computed per kernel column,
    /// so the innermost loop has no branches and, at stride 1, walks both arrays contiguously.
    @usableFromInline @inline(__always)
    func forEachInsideEntry(_ body: (_ columnsOffset: Int, _ inputOffset: Int) -> Void) {
        let (ho, wo) = (outputHeight, outputWidth)
        let columnCount = batch * ho * wo
        for c in 0..<channels {
            for i in 0..<kernelHeight {
                for j in 0..<kernelWidth {
                    let row = (c * kernelHeight + i) * kernelWidth + j
                    // Output columns ow whose input column ow * stride - padding + j lies in 0..<width.
                    let first = Swift.max(0, (padding - j + stride - 1) / stride)
                    let last = Swift.min(wo - 1, (width - 1 + padding - j) / stride)
                    if first > last { continue }
                    for n in 0..<batch {
                        for oh in 0..<ho {
                            let ih = oh * stride - padding + i
                            if ih < 0 || ih >= height { continue }
                            let inputRow = ((n * channels + c) * height + ih) * width - padding + j
                            let columnRow = row * columnCount + (n * ho + oh) * wo
                            for ow in first...last { body(columnRow + ow, inputRow + ow * stride) }
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
        withUnsafePointer { x in columns.withUnsafeMutablePointer { Scalar.imageToColumnsKernel(x, geometry, $0) } }
        return columns
    }

    /// The adjoint of `imageToColumns`: adds each column entry back onto the input position it came from.
    /// Takes `[C * kh * kw, N * Ho * Wo]`, returns `[N, C, H, W]`.
    public func columnsToImage(_ geometry: WindowGeometry) -> Tensor {
        precondition(shape == geometry.columnsShape, "columnsToImage: columns \(shape) do not match geometry \(geometry.columnsShape)")
        var image = Tensor(zeros: geometry.inputShape)
        withUnsafePointer { x in image.withUnsafeMutablePointer { Scalar.columnsToImageKernel(x, geometry, $0) } }
        return image
    }

    /// For max pooling an `[N, C, H, W]` input: the flat input index of each window's first maximum,
    /// in the order of the `[N, C, Ho, Wo]` output. Padding never wins (it acts as -infinity); NaN does.
    public func maxPoolingIndices(_ geometry: WindowGeometry) -> [Int] {
        precondition(shape == geometry.inputShape, "maxPooling: input \(shape) does not match geometry \(geometry.inputShape)")
        let count = geometry.batch * geometry.channels * geometry.outputHeight * geometry.outputWidth
        return withUnsafePointer { x in
            [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { Scalar.maxPoolingKernel(x, geometry, buffer.baseAddress!) }
                initialized = count
            }
        }
    }
}
