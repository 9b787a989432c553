import OccamTensor

extension LabeledImages {
    /// The images shrunk to `height` x `width` by area averaging: each output pixel is the mean of the input
    /// area it covers, input pixels cut by its border counting with the fraction inside (28 → 7 is 4x4 block
    /// means; 28 → 10 averages 2.8 x 2.8 areas). Preserves each image's mean intensity. Channels stay apart.
    /// - Precondition: 1 ≤ height ≤ self.height and 1 ≤ width ≤ self.width.
    public func areaDownsampled(height newHeight: Int, width newWidth: Int) -> LabeledImages {
        precondition((1...height).contains(newHeight) && (1...width).contains(newWidth),
                     "areaDownsampled: \(newHeight)x\(newWidth) from \(height)x\(width) images")
        let rows = Self.areaWeights(from: height, to: newHeight)  // [newHeight][height]
        let columns = Self.areaWeights(from: width, to: newWidth)  // [newWidth][width]
        let source = images.scalars
        var output = [Scalar](repeating: 0, count: count * channels * newHeight * newWidth)
        var rowMixed = [Double](repeating: 0, count: newHeight * width)
        for plane in 0..<(count * channels) {
            let input = plane * height * width
            // Rows first: [newHeight, width].
            for i in 0..<newHeight {
                for c in 0..<width {
                    var sum = 0.0
                    for (r, weight) in rows[i] { sum += weight * Double(source[input + r * width + c]) }
                    rowMixed[i * width + c] = sum
                }
            }
            let out = plane * newHeight * newWidth
            for i in 0..<newHeight {
                for j in 0..<newWidth {
                    var sum = 0.0
                    for (c, weight) in columns[j] { sum += weight * rowMixed[i * width + c] }
                    output[out + i * newWidth + j] = Scalar(sum)
                }
            }
        }
        return LabeledImages(
            images: Tensor(shape: [count, channels * newHeight * newWidth], scalars: output), labels: labels,
            channels: channels, height: newHeight, width: newWidth, classCount: classCount)
    }

    /// For each of `outputs` cells covering `inputs` unit pixels evenly: the pixels it overlaps with the share
    /// of its area each covers (the shares sum to 1).
    static func areaWeights(from inputs: Int, to outputs: Int) -> [[(Int, Double)]] {
        let size = Double(inputs) / Double(outputs)
        return (0..<outputs).map { i in
            let (start, end) = (Double(i) * size, Double(i + 1) * size)
            return (Int(start.rounded(.down))..<min(inputs, Int(end.rounded(.up)))).compactMap { pixel in
                let overlap = min(end, Double(pixel + 1)) - max(start, Double(pixel))
                return overlap > 1e-12 ? (pixel, overlap / size) : nil
            }
        }
    }
}
