import Foundation
import OccamData
import OccamTensor

/// A Gabor filter-bank transform of images (`--features gabor`), standing in for the wavelet transform of
/// Zhang et al. (whose filter bank is unreported).
///
/// - Bank: 4 orientations (0°, 45°, 90°, 135°) x 2 wavelengths (4 and 8 pixels), each a quadrature pair
///   of 11 x 11 filters: an isotropic Gaussian envelope of standard deviation 0.56 x wavelength (one-octave
///   bandwidth) times cos (with its mean removed, so flat regions give no response) and sin.
/// - Response: the local energy sqrt(even² + odd²) at every pixel (zero padding keeps 28 x 28), per channel.
/// - Pooling: the mean over 4 x 4 blocks (stride 4), so 28 x 28 becomes 7 x 7.
/// - Output: 8 filters x channels x 7 x 7 features (392 for Fashion-MNIST), scaled by one constant chosen on
///   the training images so that their mean squared norm equals that of their pixels: a bandwidth means
///   about the same on both inputs.
public enum GaborFeatures {
    public static let orientations = [0.0, 45.0, 90.0, 135.0]
    public static let wavelengths = [4.0, 8.0]
    public static let filterSize = 11
    public static let pooling = 4

    /// The bank as a `[2 * filters, size * size]` matrix: rows 2f (even, cosine) and 2f + 1 (odd, sine).
    public static func bank<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        let half = filterSize / 2
        var rows: [[Scalar]] = []
        for wavelength in wavelengths {
            for degrees in orientations {
                let angle = degrees * Double.pi / 180
                let sigma = 0.56 * wavelength
                var even: [Double] = [], odd: [Double] = [], envelope: [Double] = []
                for y in -half...half {
                    for x in -half...half {
                        let along = Double(x) * cos(angle) + Double(y) * sin(angle)
                        let weight = Foundation.exp(-Double(x * x + y * y) / (2 * sigma * sigma))
                        envelope.append(weight)
                        even.append(weight * cos(2 * Double.pi * along / wavelength))
                        odd.append(weight * sin(2 * Double.pi * along / wavelength))
                    }
                }
                // Remove the even filter's response to a constant image (its DC), in proportion to the envelope.
                let dc = even.reduce(0, +) / envelope.reduce(0, +)
                rows.append(zip(even, envelope).map { Scalar($0 - dc * $1) })
                rows.append(odd.map { Scalar($0) })
            }
        }
        return Tensor(rows: rows)
    }

    /// Unscaled features of `images`: `[count, filters * channels * (height / 4) * (width / 4)]`.
    public static func responses<Scalar: TensorScalar>(_ images: LabeledImages<Scalar>) -> Tensor<Scalar> {
        let (c, h, w) = (images.channels, images.height, images.width)
        let filters = bank(as: Scalar.self)
        let pairs = filters.shape[0] / 2
        let (ph, pw) = (h / pooling, w / pooling)
        let batch = 500
        var blocks: [Tensor<Scalar>] = []
        var start = 0
        while start < images.count {
            let end = min(images.count, start + batch)
            let m = end - start
            // Each channel is filtered on its own: [m * c, 1, h, w].
            let planes = images.images.slice(start..<end, alongAxis: 0).reshaped(to: [m * c, 1, h, w])
            let geometry = WindowGeometry(
                inputShape: planes.shape, kernelHeight: filterSize, kernelWidth: filterSize, padding: filterSize / 2)
            let filtered = Tensor.matmul(filters, planes.imageToColumns(geometry))  // [2F, m c h w]
            let squared = filtered.squared().reshaped(to: [pairs, 2, m * c * h * w]).sum(alongAxes: [1])
            let energy = squared.sqrt().reshaped(to: [pairs, m, c, h, w])
            // Mean over pooling blocks: crop to a multiple of the block, split rows and columns, sum.
            let cropped = energy.slice(0..<(ph * pooling), alongAxis: 3).slice(0..<(pw * pooling), alongAxis: 4)
            let pooled = cropped.reshaped(to: [pairs, m, c, ph, pooling, pw, pooling]).sum(alongAxes: [4, 6])
                * Scalar(1.0 / Double(pooling * pooling))  // [F, m, c, ph, pw]
            blocks.append(pooled.permuted([1, 0, 2, 3, 4]).reshaped(to: [m, pairs * c * ph * pw]))
            start = end
        }
        return Tensor.concatenating(blocks, alongAxis: 0)
    }

    /// The scale that gives `features` of the training images the mean squared norm of their `pixels`.
    public static func scale<Scalar: TensorScalar>(features: Tensor<Scalar>, pixels: Tensor<Scalar>) -> Scalar {
        let featureEnergy = Double(features.squared().sum().scalar)
        let pixelEnergy = Double(pixels.squared().sum().scalar)
        return featureEnergy > 0 ? Scalar((pixelEnergy / featureEnergy).squareRoot()) : 1
    }
}
