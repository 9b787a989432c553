import Foundation
import OccamTensor

/// A classification data set of images: one row of pixels and one class label per example.
public struct LabeledImages<Scalar: TensorScalar>: Sendable {
    /// Shape `[count, channels * height * width]`: each row one image, channel-major then row-major (CHW, as
    /// PyTorch lays out `[count, channels, height, width]`). Intensities are in [0, 1] as read from disk;
    /// a normalized set (`ChannelNormalization.applied(to:)`) holds standardized values instead.
    public let images: Tensor<Scalar>
    /// `count` labels, each in `0..<classCount`.
    public let labels: [Int]
    /// The number of colour channels: 1 for grayscale (the MNIST family), 3 for RGB (CIFAR-10).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// The number of classes; labels lie in `0..<classCount`.
    public let classCount: Int

    /// The number of examples.
    public var count: Int { labels.count }

    /// The shape of one image: `[channels, height, width]`.
    public var imageShape: [Int] { [channels, height, width] }

    /// The number of scalars in one image: `channels * height * width`.
    public var featureCount: Int { channels * height * width }

    /// The images viewed as a batch of shape `[count, channels, height, width]` (same storage).
    public var imagesNCHW: Tensor<Scalar> { images.reshaped(to: [count, channels, height, width]) }

    /// A data set from `images` of shape `[n, channels * height * width]` (each row CHW) and `n` labels in
    /// `0..<classCount`. A precondition checks the shape and the labels.
    public init(images: Tensor<Scalar>, labels: [Int], channels: Int = 1, height: Int, width: Int, classCount: Int) {
        precondition(channels >= 1, "LabeledImages.init: \(channels) channels")
        precondition(
            images.shape == [labels.count, channels * height * width],
            "LabeledImages.init: images of shape \(images.shape) for \(labels.count) labels, "
                + "\(channels)x\(height)x\(width) pixels")
        precondition(
            labels.allSatisfy { (0..<classCount).contains($0) },
            "LabeledImages.init: a label lies outside 0..<\(classCount)")
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
    }

    /// Reads a pair of IDX files: images (unsigned bytes, `[n, height, width]`, divided by 255) and labels
    /// (unsigned bytes, `[n]`). Every label is checked, and the images are checked to have `imageSize`
    /// if given.
    ///
    /// - Parameter limit: keep only the first `limit` examples (all when nil or larger than the set).
    /// - Throws: `DataSetError`: whatever `IDXReader.read` throws, `.countMismatch`, `.labelOutOfRange`,
    ///   `.unexpectedDimensions`.
    public init(
        imagesFile: URL, labelsFile: URL, classCount: Int,
        imageSize: (height: Int, width: Int)? = nil, limit: Int? = nil
    ) throws {
        precondition(limit.map { $0 >= 0 } ?? true, "LabeledImages.init: negative limit \(limit!)")
        let labelData = try IDXReader.read(labelsFile, rank: 1)
        let imageData = try IDXReader.read(imagesFile, rank: 3)
        let n = imageData.dimensions[0], height = imageData.dimensions[1], width = imageData.dimensions[2]
        if let imageSize, (height, width) != imageSize {
            throw DataSetError.unexpectedDimensions(
                imagesFile, expected: [n, imageSize.height, imageSize.width], found: imageData.dimensions)
        }
        guard labelData.dimensions[0] == n else {
            throw DataSetError.countMismatch(
                images: imagesFile, imageCount: n, labels: labelsFile, labelCount: labelData.dimensions[0])
        }
        if let index = labelData.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DataSetError.labelOutOfRange(
                labelsFile, index: index, label: Int(labelData.bytes[index]), classCount: classCount)
        }

        let kept = min(n, limit ?? n), pixels = height * width
        let intensity = (0...255).map { Scalar($0) / 255 }  // exact division, once per byte value
        let images = Tensor<Scalar>(shape: [kept, pixels]) { out, total in
            imageData.bytes.withUnsafeBufferPointer { bytes in
                for i in 0..<total { out[i] = intensity[Int(bytes[i])] }
            }
        }
        self.init(
            images: images, labels: labelData.bytes[0..<kept].map { Int($0) },
            height: height, width: width, classCount: classCount)
    }
}
