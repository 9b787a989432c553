import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct MemorizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memorize",
        abstract: "Zhang et al.'s Theorem 1: a two-layer ReLU network with 2n + d weights that fits any labels of n points exactly.",
        discussion: """
            Builds f(x) = Σ_j w_j max(⟨a, x⟩ - b_j, 0) for --samples training images (pixels in [0, 1]) with random labels \
            (or the true ones with --labels true) as real targets: a random direction a, one bias between each pair of \
            neighbouring projections, and w from the resulting triangular system. Then evaluates it as an ordinary \
            network (Dense d -> n, ReLU, Dense n -> 1) on the same images and reports the worst residual |f(x_i) - y_i|. \
            Exact duplicates among the images are kept once (no function can give one image two labels).

            Writes OUT/memorize/result.json and memorizer.safetensors (the network, loadable by PyTorch).
            """)

    @Option(name: [.customShort("n"), .long], help: "Training images to memorize.") var samples = 10_000
    @Option(help: "random (uniform classes 0-9 as real targets) or true.") var labels = "random"
    @Option(help: "float64, or float32.") var precision: Precision = .float64
    @Option(help: "Seed of the labels, the subset and the direction.") var seed: UInt64 = 0
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Directory for results.") var out = "runs"
    @Flag(help: "Print only the result.") var quiet = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1.") }
        guard labels == "random" || labels == "true" else { throw ValidationError("--labels takes random or true; got \"\(labels)\".") }
    }

    func run() throws {
        switch precision {
        case .float64: try memorize(Double.self)
        case .float32: try memorize(Float.self)
        }
    }

    private func memorize<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let all: LabeledImages<Scalar> = try loadDataSet(.fashionMNIST, split: .train, directory: dataDir.map { URL(fileURLWithPath: $0) })
        guard samples <= all.count else {
            throw ValidationError("--samples \(samples) exceeds the \(all.count) training images of Fashion-MNIST.")
        }
        Interruption.ignoreBrokenPipes()
        let subset = all.randomSubset(size: samples, seed: seed)
        // Keep the first of each set of identical images.
        var seen = Set<[Scalar]>()
        let distinct = (0..<subset.count).filter { seen.insert(subset.images.slice($0..<($0 + 1), alongAxis: 0).scalars).inserted }
        let images = subset.subset(distinct)
        var random = RandomGenerator(seed: seed).stream("labels")
        let targets = labels == "random" ? images.labels.map { _ in Double(random.nextInt(below: images.classCount)) } : images.labels.map(Double.init)

        let started = Date()
        let network = try MemorizingNetwork.construct(inputs: images.images, targets: targets, seed: seed)
        let constructed = Date().timeIntervalSince(started)
        let outputs = network.outputs(images.images, inputShape: images.imageShape) { fraction in
            if !quiet { print(String(format: "\revaluating the network on its %d points: %.0f%%", images.count, 100 * fraction), terminator: "") }
        }
        if !quiet { print() }
        let residuals = zip(outputs, targets).map { abs($0 - $1) }
        let result = MemorizationResult(
            samples: samples, distinctPoints: images.count, dimensions: images.featureCount, weights: network.weightCount,
            labels: labels, precision: Scalar.precisionName, seed: seed, worstResidual: residuals.max() ?? 0,
            meanResidual: residuals.reduce(0, +) / Double(max(residuals.count, 1)),
            roundedAccuracy: Double(zip(outputs, targets).filter { $0.rounded() == $1 }.count) / Double(max(targets.count, 1)),
            largestOutputWeight: network.outputWeights.map(abs).max() ?? 0, constructionSeconds: constructed,
            evaluationSeconds: Date().timeIntervalSince(started) - constructed)

        let directory = URL(fileURLWithPath: out).appendingPathComponent("memorize")
        try ResultFiles.prepareDirectory(directory)
        try ResultFiles.writeJSON(result, to: directory.appendingPathComponent("result.json"))
        let parameters = network.model(inputShape: images.imageShape, as: Scalar.self).parameters
        try SafeTensorsFile(parameters.entries.map { ($0.name, StoredTensor($0.tensor)) }, metadata: ["construction": "Zhang et al. 2017, Theorem 1"])
            .write(to: directory.appendingPathComponent("memorizer.safetensors"))
        print("""
            \(images.count) distinct images (of \(samples)), d = \(images.featureCount), \(labels) labels, \(Scalar.precisionName): \
            a network of \(result.weights) weights (2n + d)
              worst residual |f(x_i) - y_i| = \(format(result.worstResidual)), mean \(format(result.meanResidual)); \
            rounding f recovers \(String(format: "%.2f", 100 * result.roundedAccuracy))% of the labels
              largest |w_j| = \(format(result.largestOutputWeight)); built in \(String(format: "%.2f", constructed)) s, evaluated in \(String(format: "%.1f", result.evaluationSeconds)) s
            Wrote \(directory.appendingPathComponent("result.json").path) and memorizer.safetensors
            """)
    }
}

/// result.json of `occam memorize`.
struct MemorizationResult: Codable {
    var samples: Int
    var distinctPoints: Int
    var dimensions: Int
    var weights: Int
    var labels: String
    var precision: String
    var seed: UInt64
    var worstResidual: Double
    var meanResidual: Double
    /// The fraction of points whose output rounds to their label.
    var roundedAccuracy: Double
    var largestOutputWeight: Double
    var constructionSeconds: Double
    var evaluationSeconds: Double
}
