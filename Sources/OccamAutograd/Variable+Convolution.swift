import OccamTensor

// Convolution and pooling built from recorded linear movements (im2col and its adjoint, flat gathers) and a
// matrix product, so their first and second derivatives follow from those ops' rules.

extension Variable {
    /// im2col: `[N, C, H, W]` → `[C * kh * kw, N * Ho * Wo]`; the pullback is col2im, and back again.
    public func imageToColumns(_ geometry: WindowGeometry) -> Variable {
        Variable.recording(value.imageToColumns(geometry), [self]) { g, _ in [g.columnsToImage(geometry)] }
    }

    /// col2im: `[C * kh * kw, N * Ho * Wo]` → `[N, C, H, W]`, the adjoint of `imageToColumns`.
    public func columnsToImage(_ geometry: WindowGeometry) -> Variable {
        Variable.recording(value.columnsToImage(geometry), [self]) { g, _ in [g.imageToColumns(geometry)] }
    }

    /// 2-D cross-correlation as in PyTorch's conv2d.
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[O, C, kh, kw]`.
    ///   - bias: `[O]` or nil.
    /// - Returns: `[N, O, Ho, Wo]` with Ho = (H + 2 padding - kh) / stride + 1.
    public static func convolution2D(
        _ input: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0
    ) -> Variable {
        precondition(
            weight.rank == 4 && input.rank == 4 && weight.shape[1] == input.shape[1],
            "convolution2D: input \(input.shape) and weight \(weight.shape) do not match ([N, C, H, W] and [O, C, kh, kw])")
        let outChannels = weight.shape[0]
        let geometry = WindowGeometry(
            inputShape: input.shape, kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], stride: stride,
            padding: padding)
        let columns = input.imageToColumns(geometry)
        let flatWeight = weight.reshaped(to: [outChannels, -1])
        let output = matmul(flatWeight, columns)  // [O, N * Ho * Wo]
            .reshaped(to: [outChannels, geometry.batch, geometry.outputHeight, geometry.outputWidth])
            .permuted([1, 0, 2, 3])
        guard let bias else { return output }
        precondition(bias.shape == [outChannels], "convolution2D: bias \(bias.shape) for \(outChannels) output channels")
        return output + bias.reshaped(to: [1, outChannels, 1, 1])
    }

    /// Max pooling of `[N, C, H, W]` with a square window: `[N, C, Ho, Wo]`. Padding never wins; the
    /// gradient goes to each window's first maximum.
    public func maxPooled2D(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let geometry = WindowGeometry(
            inputShape: shape, kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride ?? kernelSize,
            padding: padding)
        return gatheringFlat(
            value.maxPoolingIndices(geometry),
            shape: [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth])
    }

    /// Average pooling of `[N, C, H, W]` with a square window: `[N, C, Ho, Wo]`; padding counts as zeros
    /// in the average (PyTorch's count_include_pad).
    public func averagePooled2D(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        precondition(rank == 4, "averagePooled2D: shape \(shape) is not [N, C, H, W]")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let geometry = WindowGeometry(
            inputShape: [n * c, 1, h, w], kernelHeight: kernelSize, kernelWidth: kernelSize,
            stride: stride ?? kernelSize, padding: padding)
        return reshaped(to: [n * c, 1, h, w])
            .imageToColumns(geometry)  // [k * k, N * C * Ho * Wo]
            .mean(alongAxes: [0])
            .reshaped(to: [n, c, geometry.outputHeight, geometry.outputWidth])
    }
}
