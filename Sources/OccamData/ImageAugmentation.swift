import OccamTensor

/// Random crops with zero padding and random horizontal flips, the standard CIFAR-10 augmentation
/// (pad 4, crop 32x32, flip with probability 1/2).
///
/// The random choices for an example come from
/// `RandomGenerator(seed: seed).stream("augmentation").stream(epoch).stream(example)`, where `example` is the
/// example's index in the data set: they depend on the seed, the epoch and the example only, never on the
/// batch it falls in or on what was drawn before, so a resumed run augments exactly as an uninterrupted one.
public struct ImageAugmentation: Codable, Hashable, Sendable {
    /// Zero pixels added on every side before cropping back to the original size; 0 turns cropping off.
    public var cropPadding: Int
    /// Whether each image is mirrored left-to-right with probability 1/2.
    public var horizontalFlip: Bool

    /// An augmentation; a precondition checks `cropPadding >= 0`.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0, "ImageAugmentation.init: negative padding \(cropPadding)")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// No augmentation.
    public static let none = ImageAugmentation()
    /// CIFAR-10's: pad 4, random 32x32 crop, random horizontal flip.
    public static let standardCIFAR = ImageAugmentation(cropPadding: 4, horizontalFlip: true)

    /// Whether the transform does anything.
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

    /// One example's random choice: the crop window's top-left corner in the padded image (`row`, `column`,
    /// each in `0...2 * cropPadding`; `cropPadding` is the centre, no shift) and whether to flip.
    public struct Choice: Hashable, Sendable {
        public var row: Int
        public var column: Int
        public var flip: Bool

        public init(row: Int, column: Int, flip: Bool) {
            self.row = row
            self.column = column
            self.flip = flip
        }
    }

    /// The choice for data-set example `example` in epoch `epoch` of a run seeded `seed`. Draws, in order:
    /// the row offset and the column offset (only when `cropPadding > 0`), then the flip (only when
    /// `horizontalFlip`).
    public func choice(example: Int, epoch: Int, seed: UInt64) -> Choice {
        var random = RandomGenerator(seed: seed).stream("augmentation").stream(epoch).stream(example)
        var choice = Choice(row: cropPadding, column: cropPadding, flip: false)
        if cropPadding > 0 {
            choice.row = random.nextInt(below: 2 * cropPadding + 1)
            choice.column = random.nextInt(below: 2 * cropPadding + 1)
        }
        if horizontalFlip { choice.flip = random.nextUniform() < 0.5 }
        return choice
    }

    /// `images` of shape `[n, channels * height * width]` (CHW rows) augmented, example `i` being data-set
    /// example `examples[i]`: each cropped from its zero-padded version and perhaps flipped. Same shape.
    /// A precondition checks the shapes agree.
    public func applied<Scalar: TensorScalar>(
        to images: Tensor<Scalar>, channels: Int, height: Int, width: Int, examples: [Int], epoch: Int, seed: UInt64
    ) -> Tensor<Scalar> {
        if isIdentity { return images }
        let choices = examples.map { choice(example: $0, epoch: epoch, seed: seed) }
        return Self.transformed(images, channels: channels, height: height, width: width, padding: cropPadding, choices: choices)
    }

    /// `images` of shape `[n, channels * height * width]` (CHW rows) with image `i` cropped at `choices[i]`
    /// from its version padded by `padding` zeros on every side, then mirrored left-to-right if
    /// `choices[i].flip`:
    ///
    ///     out[c, y, x] = in[c, y + row - padding, x' + column - padding], x' = flip ? width - 1 - x : x
    ///
    /// (0 where the source lies outside the image). Same shape. A precondition checks the shapes and that
    /// each offset lies in `0...2 * padding`.
    public static func transformed<Scalar: TensorScalar>(
        _ images: Tensor<Scalar>, channels: Int, height: Int, width: Int, padding: Int, choices: [Choice]
    ) -> Tensor<Scalar> {
        let n = choices.count, plane = height * width
        precondition(
            images.shape == [n, channels * plane],
            "ImageAugmentation: images of shape \(images.shape) for \(n) images of \(channels)x\(height)x\(width)")
        precondition(
            choices.allSatisfy { (0...2 * padding).contains($0.row) && (0...2 * padding).contains($0.column) },
            "ImageAugmentation: a crop offset lies outside 0...\(2 * padding)")
        return images.withUnsafePointer { x in
            Tensor(shape: images.shape) { y, total in
                for i in 0..<total { y[i] = 0 }
                for (image, choice) in choices.enumerated() {
                    let shiftY = choice.row - padding, shiftX = choice.column - padding
                    for channel in 0..<channels {
                        let source = x + (image * channels + channel) * plane
                        let target = y + (image * channels + channel) * plane
                        for row in 0..<height {
                            let sourceRow = row + shiftY
                            guard sourceRow >= 0 && sourceRow < height else { continue }
                            for column in 0..<width {
                                let sourceColumn = (choice.flip ? width - 1 - column : column) + shiftX
                                guard sourceColumn >= 0 && sourceColumn < width else { continue }
                                target[row * width + column] = source[sourceRow * width + sourceColumn]
                            }
                        }
                    }
                }
            }
        }
    }
}
