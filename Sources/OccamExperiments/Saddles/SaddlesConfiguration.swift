import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// What `occam saddles` measures (Dauphin et al. 2014 at CPU scale): a small MLP on downsampled (optionally
/// PCA-projected) images, critical points found from points along SGD trajectories, their exact Hessian
/// spectra, and SGD against damped and saddle-free Newton from the same starts. Hashed into the run directory.
public struct SaddlesConfiguration: ExperimentConfiguration {
    public static let experimentName = "saddles"

    public var dataset: DataSetName
    /// A random subset of the training split (chosen by `seed`): the images whose mean loss is f.
    public var samples: Int
    /// Images are area-averaged to `imageSize` x `imageSize`.
    public var imageSize: Int
    /// Whitened leading principal components of the downsampled images (fitted on the samples); 0 keeps pixels.
    public var components: Int
    /// Hidden widths of the MLP.
    public var widths: [Int]
    public var activation: ActivationFunction
    /// SGD runs from independent initializations; the critical-point searches start at each run's `snapshots`
    /// (step 0 is the random initialization itself).
    public var trajectories: Int
    public var snapshots: [Int]
    public var learningRate: Double
    public var batchSize: Int
    /// Levenberg-Marquardt on ½‖∇f‖²: at most `searchIterations` accepted steps, until ‖∇f‖ ≤ `gradientTolerance`.
    public var searchIterations: Int
    public var gradientTolerance: Double
    /// |λ| ≤ `zeroTolerance` · max|λ| counts as zero curvature (the index counts λ below minus that).
    public var zeroTolerance: Double
    /// The optimizer comparison: starts (fresh initializations), iterations of each Newton method, SGD steps,
    /// damping λ, the step-length cap, the Krylov dimension of saddle-free Newton (nil: exact |H|), and how
    /// many points along each SGD path measure the most negative eigenvalue (Lanczos).
    public var compareStarts: Int
    public var newtonIterations: Int
    public var sgdIterations: Int
    public var damping: Double
    public var maxStepNorm: Double
    public var krylovDimension: Int?
    public var sgdProbes: Int
    public var seed: UInt64

    public init(
        dataset: DataSetName = .fashionMNIST, samples: Int = 500, imageSize: Int = 10, components: Int = 20, widths: [Int] = [20],
        activation: ActivationFunction = .tanh, trajectories: Int = 2, snapshots: [Int] = [0, 30, 100, 300, 1000, 3000],
        learningRate: Double = 0.1, batchSize: Int = 50, searchIterations: Int = 60, gradientTolerance: Double = 1e-6,
        zeroTolerance: Double = 1e-6, compareStarts: Int = 1, newtonIterations: Int = 40, sgdIterations: Int = 3000,
        damping: Double = 1e-3, maxStepNorm: Double = 1, krylovDimension: Int? = nil, sgdProbes: Int = 20, seed: UInt64 = 0
    ) {
        (self.dataset, self.samples, self.imageSize, self.components, self.widths) = (dataset, samples, imageSize, components, widths)
        (self.activation, self.trajectories, self.snapshots, self.learningRate) = (activation, trajectories, snapshots, learningRate)
        (self.batchSize, self.searchIterations, self.gradientTolerance, self.zeroTolerance) = (batchSize, searchIterations, gradientTolerance, zeroTolerance)
        (self.compareStarts, self.newtonIterations, self.sgdIterations, self.damping) = (compareStarts, newtonIterations, sgdIterations, damping)
        (self.maxStepNorm, self.krylovDimension, self.sgdProbes, self.seed) = (maxStepNorm, krylovDimension, sgdProbes, seed)
    }

    public var label: String { "mlp-\(widths.map(String.init).joined(separator: "x"))-\(dataset.rawValue)" }

    /// The number of inputs the MLP takes.
    public var inputCount: Int { components > 0 ? components : imageSize * imageSize * dataset.imageShape.channels }

    /// The MLP's parameter count: Σ (inputs + 1) · outputs over its layers.
    public var parameterCount: Int {
        let sizes = [inputCount] + widths + [dataset.classCount]
        return zip(sizes, sizes.dropFirst()).reduce(0) { $0 + ($1.0 + 1) * $1.1 }
    }

    /// The largest parameter count for exact spectra: each search step builds a dense Hessian (one
    /// Hessian-vector product per parameter) and eigendecomposes it.
    public static let parameterLimit = 6_000

    /// Checks every option; the data set's size is known without reading it.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option and the fix.
    public func validate() throws {
        try ExperimentError.require(samples >= 2 && samples <= dataset.count(.train), "--samples must be in 2...\(dataset.count(.train)) (the training split's size)")
        let side = min(dataset.imageShape.height, dataset.imageShape.width)
        try ExperimentError.require((1...side).contains(imageSize), "--image-size must be in 1...\(side): images are only shrunk")
        let pixels = imageSize * imageSize * dataset.imageShape.channels
        try ExperimentError.require(
            components >= 0 && components <= min(pixels, samples),
            "--components must be in 0...\(min(pixels, samples)) (at most the \(pixels) pixels and the \(samples) samples; 0 keeps pixels)")
        try ExperimentError.require(!widths.isEmpty && widths.allSatisfy { $0 >= 1 }, "--widths must list one or more hidden widths of at least 1")
        try ExperimentError.require(
            parameterCount <= Self.parameterLimit,
            "the MLP has \(parameterCount) parameters; exact Hessian spectra need at most \(Self.parameterLimit) (use smaller --widths, --image-size or --components)")
        try ExperimentError.require(trajectories >= 1, "--trajectories must be at least 1")
        try ExperimentError.require(!snapshots.isEmpty && snapshots.allSatisfy { $0 >= 0 }, "--snapshots must list one or more SGD steps (0 or more)")
        try ExperimentError.require(Set(snapshots).count == snapshots.count, "--snapshots lists a step twice")
        try ExperimentError.require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive")
        try ExperimentError.require(batchSize >= 1 && batchSize <= samples, "--batch-size must be in 1...--samples (\(samples))")
        try ExperimentError.require(searchIterations >= 1, "--search-iterations must be at least 1")
        try ExperimentError.require(gradientTolerance > 0 && gradientTolerance.isFinite, "--gradient-tolerance must be positive")
        try ExperimentError.require(zeroTolerance >= 0 && zeroTolerance < 1, "--zero-tolerance must be in [0, 1)")
        try ExperimentError.require(compareStarts >= 1, "--compare-starts must be at least 1")
        try ExperimentError.require(newtonIterations >= 1 && sgdIterations >= 1, "--newton-iterations and --sgd-iterations must be at least 1")
        try ExperimentError.require(damping >= 0 && damping.isFinite, "--damping must be 0 or more")
        try ExperimentError.require(maxStepNorm > 0, "--max-step-norm must be positive")
        try ExperimentError.require((krylovDimension ?? 2) >= 2, "--krylov-dimension must be at least 2")
        try ExperimentError.require(sgdProbes >= 0 && sgdProbes <= sgdIterations, "--sgd-probes must be in 0...--sgd-iterations")
    }

    /// The tanh (or ReLU) MLP inputs → widths → classes, layers "fc1", "act1", ..., PyTorch's default
    /// initialization.
    public func model() -> Model<Double> {
        var layers: [(name: String, layer: any Layer<Double>)] = []
        var previous = inputCount
        for (i, width) in widths.enumerated() {
            layers.append(("fc\(i + 1)", Dense<Double>(inputs: previous, outputs: width)))
            layers.append(("act\(i + 1)", Activation<Double>(activation)))
            previous = width
        }
        layers.append(("fc\(widths.count + 1)", Dense<Double>(inputs: previous, outputs: dataset.classCount)))
        return Model(name: "mlp", inputShape: [1, 1, inputCount], classes: dataset.classCount, takesImages: false, network: Sequential(layers))
    }

    /// The samples as the MLP sees them: a seeded subset of the training split, area-downsampled, projected on
    /// principal components when `components` > 0. Also returns the projection's explained variance.
    public func prepare(_ training: LabeledImages<Double>) throws -> (data: LabeledImages<Double>, explainedVariance: Double?) {
        let small = training.randomSubset(size: samples, seed: seed).areaDownsampled(height: imageSize, width: imageSize)
        guard components > 0 else { return (small, nil) }
        let projection = try PrincipalComponentProjection(fitting: small.images, count: components)
        return (projection.projected(small), projection.explainedVariance)
    }
}
