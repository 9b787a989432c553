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

    /// Calls body(columnsOffset, inputOffset, length) for every run of im2col entries of the images (indices
    /// along N) in `images` that lies inside the input: entries columnsOffset + k come from
    /// inputOffset + k * stride for k in 0..<length (entries in the padding are zero and skipped). A run is
    /// one output row of one kernel position, so the innermost loop has no branches.
    @usableFromInline @inline(__always)
    func forEachInsideRun(images: Range<Int>, _ body: (_ columnsOffset: Int, _ inputOffset: Int, _ length: Int) -> Void) {
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
                    for n in images {
                        for oh in 0..<ho {
                            let ih = oh * stride - padding + i
                            if ih < 0 || ih >= height { continue }
                            let inputRow = ((n * channels + c) * height + ih) * width - padding + j
                            let columnRow = row * columnCount + (n * ho + oh) * wo
                            body(columnRow + first, inputRow + first * stride, last - first + 1)
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
        // Without padding every entry is written; with it, the padding entries must read as zero.
        return withUnsafePointer { x in
            Tensor(shape: geometry.columnsShape) { y, count in
                if geometry.padding > 0 { fill(y, with: 0, count: count) }
                inTwoHalves(geometry.batch, work: count) { Scalar.imageToColumnsKernel(x, geometry, y, images: $0) }
            }
        }
    }

    /// The adjoint of `imageToColumns`: adds each column entry back onto the input position it came from.
    /// Takes `[C * kh * kw, N * Ho * Wo]`, returns `[N, C, H, W]`.
    public func columnsToImage(_ geometry: WindowGeometry) -> Tensor {
        precondition(shape == geometry.columnsShape, "columnsToImage: columns \(shape) do not match geometry \(geometry.columnsShape)")
        var image = Tensor(zeros: geometry.inputShape)
        withUnsafePointer { x in
            image.withUnsafeMutablePointer { y in
                // Each image receives only its own columns, so the halves never write the same element.
                inTwoHalves(geometry.batch, work: count) { Scalar.columnsToImageKernel(x, geometry, y, images: $0) }
            }
        }
        return image
    }

    /// For max pooling an `[N, C, H, W]` input: the flat input index of each window's first maximum,
    /// in the order of the `[N, C, Ho, Wo]` output. Padding never wins (it acts as -infinity); NaN does.
    public func maxPoolingIndices(_ geometry: WindowGeometry) -> [Int] {
        precondition(shape == geometry.inputShape, "maxPooling: input \(shape) does not match geometry \(geometry.inputShape)")
        let count = geometry.batch * geometry.channels * geometry.outputHeight * geometry.outputWidth
        return withUnsafePointer { x in
            [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
                let result = buffer.baseAddress!
                if count > 0 {
                    inTwoHalves(geometry.batch * geometry.channels, work: geometry.inputShape.reduce(1, *)) {
                        Scalar.maxPoolingKernel(x, geometry, result, planes: $0)
                    }
                }
                initialized = count
            }
        }
    }
}
