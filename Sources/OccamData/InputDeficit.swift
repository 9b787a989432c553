import OccamTensor

/// A sensory deficit on the training inputs during a window of epochs (Achille, Rovere & Soatto 2019): the
/// training batches of epochs `startEpoch..<endEpoch` are blurred (or flipped upside down, the control with
/// no lasting effect); evaluation sees the images as they are. It depends on the epoch only, so a resumed run
/// applies it exactly as an uninterrupted one.
public struct InputDeficit: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        /// Each image averaged over `blurFactor` x `blurFactor` blocks, then scaled back up bilinearly.
        case blur
        /// Each image's rows in reverse order.
        case verticalFlip = "vertical-flip"
    }

    public var kind: Kind
    /// The downsampling factor of `.blur` (4: 28x28 seen as 7x7, 32x32 as 8x8).
    public var blurFactor: Int
    /// The first epoch with the deficit (0: from the start).
    public var startEpoch: Int
    /// The first epoch without it again.
    public var endEpoch: Int

    public init(kind: Kind, blurFactor: Int = 4, startEpoch: Int = 0, endEpoch: Int) {
        (self.kind, self.blurFactor, self.startEpoch, self.endEpoch) = (kind, blurFactor, startEpoch, endEpoch)
    }

    /// Epochs with the deficit.
    public var length: Int { endEpoch - startEpoch }

    /// Whether training batches of epoch `epoch` (0-based) have the deficit.
    public func isActive(epoch: Int) -> Bool { (startEpoch..<endEpoch).contains(epoch) }

    /// "blur x4 in epochs 0-7", "vertical flip in epoch 4".
    public var description: String {
        let what = kind == .blur ? "blur x\(blurFactor)" : "vertical flip"
        if length <= 0 { return "no deficit" }
        return length == 1 ? "\(what) in epoch \(startEpoch)" : "\(what) in epochs \(startEpoch)-\(endEpoch - 1)"
    }

    /// `images` of shape `[n, channels * height * width]` (CHW rows) with the deficit applied to every image.
    /// Same shape. A precondition checks the shape.
    public func applied<Scalar: TensorScalar>(to images: Tensor<Scalar>, channels: Int, height: Int, width: Int) -> Tensor<Scalar> {
        let plane = height * width
        precondition(
            images.rank == 2 && images.shape[1] == channels * plane,
            "InputDeficit: images of shape \(images.shape) for \(channels)x\(height)x\(width) images")
        let planes = images.shape[0] * channels
        switch kind {
        case .verticalFlip:
            return images.withUnsafePointer { x in
                Tensor(shape: images.shape) { y, _ in
                    for p in 0..<planes {
                        for row in 0..<height {
                            (y + p * plane + row * width).update(from: x + p * plane + (height - 1 - row) * width, count: width)
                        }
                    }
                }
            }
        case .blur:
            let rows = Self.blurWeights(size: height, factor: blurFactor)
            let columns = Self.blurWeights(size: width, factor: blurFactor)
            let coarseWidth = columns.coarse
            return images.withUnsafePointer { x in
                Tensor(shape: images.shape) { y, _ in
                    var coarse = [Double](repeating: 0, count: rows.coarse * coarseWidth)
                    for p in 0..<planes {
                        let source = x + p * plane, target = y + p * plane
                        // Block means.
                        for i in coarse.indices { coarse[i] = 0 }
                        for row in 0..<height {
                            for column in 0..<width {
                                coarse[(row / blurFactor) * coarseWidth + column / blurFactor] += Double(source[row * width + column])
                            }
                        }
                        for r in 0..<rows.coarse {
                            for c in 0..<coarseWidth {
                                coarse[r * coarseWidth + c] /= Double(rows.blockSizes[r] * columns.blockSizes[c])
                            }
                        }
                        // Bilinear interpolation back to full size.
                        for row in 0..<height {
                            let (r0, r1, wr) = rows.interpolation[row]
                            for column in 0..<width {
                                let (c0, c1, wc) = columns.interpolation[column]
                                let top = (1 - wc) * coarse[r0 * coarseWidth + c0] + wc * coarse[r0 * coarseWidth + c1]
                                let bottom = (1 - wc) * coarse[r1 * coarseWidth + c0] + wc * coarse[r1 * coarseWidth + c1]
                                target[row * width + column] = Scalar((1 - wr) * top + wr * bottom)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Along one axis of `size` pixels: the number of coarse pixels (blocks of `factor`, the last one perhaps
    /// smaller), each block's size, and for each fine pixel the two coarse pixels and the weight of the
    /// second in its bilinear interpolation. Half-pixel centres, as PyTorch's `interpolate(mode="bilinear",
    /// align_corners=False)`: fine pixel i sits at coarse coordinate (i + 0.5) * coarse / size - 0.5, clamped
    /// to the coarse image.
    static func blurWeights(size: Int, factor: Int) -> (coarse: Int, blockSizes: [Int], interpolation: [(Int, Int, Double)]) {
        let coarse = (size + factor - 1) / factor
        let blockSizes = (0..<coarse).map { min(factor, size - $0 * factor) }
        let scale = Double(coarse) / Double(size)
        let interpolation = (0..<size).map { i -> (Int, Int, Double) in
            let position = max(0, (Double(i) + 0.5) * scale - 0.5)
            let low = min(Int(position), coarse - 1)
            return (low, min(low + 1, coarse - 1), position - Double(low))
        }
        return (coarse, blockSizes, interpolation)
    }
}
