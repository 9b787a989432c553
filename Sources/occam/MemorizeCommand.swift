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
            network (Dense d -> n, ReLU, Dense n -> 1) on the same images and reports the worst residual |f(x_i) - y_i|, \
            beside the residual of two plain matrix products (as PyTorch or NumPy compute them from the saved file, \
            the units summed in a shuffled order) in float64 and in float32. Exact duplicates among the images are kept once (no function can give one image \
            two labels).

            The output weights grow as neighbouring projections nearly meet (to about 1e8 on 10,000 images), so f(x_i) \
            is a sum of large terms that cancel: its rounding error is about u Σ_j |w_j| h_j(x_i) for unit roundoff u \
            (1.1e-16 in float64, 6e-8 in float32), which the result reports. The default construction, centred, turns \
            the units left of the median projection to face left, so each image activates only the units between it \
            and the median: the same 2n + d weights, ten times smaller sums on 10,000 images; --construction zhang \
            builds the paper's network, every unit facing right.

            Writes OUT/memorize/result.json, memorizer.safetensors (the network, loadable by PyTorch) and labels.csv \
            (each image's index in the training set and the target it is fitted to), so anyone can check it.
            """)

    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Training images to memorize.") var samples = 10_000
    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: DataSetName = .fashionMNIST
    @Option(help: "random (uniform classes 0-9 as real targets) or true.") var labels = "random"
    @Option(help: "float64, or float32.") var precision: Precision = .float64
    @Option(help: "centred (units face away from the median projection: smaller cancelling sums) or zhang (every unit faces right, as in the paper).")
    var construction: MemorizingNetwork.Construction = .centred
    @Option(parsing: .unconditional, help: "Seed of the labels, the subset and the direction.") var seed: UInt64 = 0
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Directory for results.") var out = "runs"
    @Flag(help: "Print only the result.") var quiet = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1.") }
        guard labels == "random" || labels == "true" else { throw ValidationError("--labels takes random or true; got \"\(labels)\".") }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch precision {
        case .float64: try memorize(Double.self)
        case .float32: try memorize(Float.self)
        }
    }

    private func memorize<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let all: LabeledImages<Scalar> = try loadDataSet(dataset, split: .train, directory: dataDir.map { URL(fileURLWithPath: $0) })
        guard samples <= all.count else {
            throw ValidationError("--samples \(samples) exceeds the \(all.count) training images of \(dataset.displayName).")
        }
        let subsetIndices = DataSubsets.subsetIndices(count: all.count, size: samples, seed: seed)
        let subset = all.subset(subsetIndices)
        // Keep the first of each set of identical images.
        var seen = Set<[Scalar]>()
        let distinct = (0..<subset.count).filter { seen.insert(subset.images.slice($0..<($0 + 1), alongAxis: 0).scalars).inserted }
        let images = subset.subset(distinct)
        let trainingIndices = distinct.map { subsetIndices[$0] }
        var random = RandomGenerator(seed: seed).stream("labels")
        let targets = labels == "random" ? images.labels.map { _ in Double(random.nextInt(below: images.classCount)) } : images.labels.map(Double.init)

        let started = Date()
        let network = try MemorizingNetwork.construct(inputs: images.images, targets: targets, seed: seed, construction: construction)
        let constructed = Date().timeIntervalSince(started)
        let outputs = network.outputs(images.images, inputShape: images.imageShape) { fraction in
            if !quiet { status(String(format: "\revaluating the network on its %d points: %.0f%%", images.count, 100 * fraction), terminator: "") }
        }
        if !quiet { status("") }
        let residuals = zip(outputs, targets).map { abs($0 - $1) }
        if !quiet { status("evaluating as two plain matrix products in float64 and float32, and the size of the cancelling terms") }
        func worst(_ values: [Double]) -> Double { zip(values, targets).map { abs($0 - $1) }.max() ?? 0 }
        let plain64 = worst(network.plainOutputs(images.images, in: Double.self))
        let plain32 = worst(network.plainOutputs(images.images, in: Float.self))
        let cancellation = network.cancellation(images.images).max() ?? 0
        let result = MemorizationResult(
            samples: samples, distinctPoints: images.count, dimensions: images.featureCount, weights: network.weightCount,
            labels: labels, precision: Scalar.precisionName, seed: seed, worstResidual: residuals.max() ?? 0,
            meanResidual: residuals.reduce(0, +) / Double(max(residuals.count, 1)),
            roundedAccuracy: Double(zip(outputs, targets).filter { $0.rounded() == $1 }.count) / Double(max(targets.count, 1)),
            largestOutputWeight: network.outputWeights.map(abs).max() ?? 0, constructionSeconds: constructed,
            evaluationSeconds: Date().timeIntervalSince(started) - constructed, construction: construction.rawValue,
            plainFloat64WorstResidual: plain64, plainFloat32WorstResidual: plain32, largestCancellingSum: cancellation,
            float64RoundingScale: cancellation * 0x1p-53, float32RoundingScale: cancellation * 0x1p-24,
            largestHiddenWeight: network.direction.map(abs).max() ?? 0)

        let directory = URL(fileURLWithPath: out).appendingPathComponent(dataset == .fashionMNIST ? "memorize" : "memorize-\(dataset.rawValue)")
        try ResultFiles.prepareDirectory(directory)
        try ResultFiles.writeJSON(result, to: directory.appendingPathComponent("result.json"))
        let parameters = network.model(inputShape: images.imageShape, as: Scalar.self).parameters
        try SafeTensorsFile(
            parameters.entries.map { ($0.name, StoredTensor($0.tensor)) },
            metadata: ["construction": "Zhang et al. 2017, Theorem 1 (\(construction.rawValue))", "labels": "labels.csv"])
            .write(to: directory.appendingPathComponent("memorizer.safetensors"))
        try CSVTable(
            header: ["training_index", "target"],
            rows: zip(trainingIndices, targets).map { ["\($0)", "\($1)"] }
        ).write(to: directory.appendingPathComponent("labels.csv"))
        print("""
            \(images.count) distinct images (of \(samples)), d = \(images.featureCount), \(labels) labels, \(Scalar.precisionName): \
            a network of \(result.weights) weights (2n + d)
              worst residual |f(x_i) - y_i| = \(format(result.worstResidual)), mean \(format(result.meanResidual)); \
            rounding f recovers \(String(format: "%.2f", 100 * result.roundedAccuracy))% of the labels
              two plain matrix products, the units summed in a shuffled order: worst residual \(format(plain64)) in float64, \
            \(format(plain32)) in float32
              largest |w_j| = \(format(result.largestOutputWeight)), largest |a_k| = \(format(result.largestHiddenWeight)); \
            the terms that cancel sum to up to \(format(cancellation)), so one rounding of that size is \(format(result.float64RoundingScale)) in float64 \
            and \(format(result.float32RoundingScale)) in float32 (a library's blocked sum may be off by several times that)\(result.float32RoundingScale >= 0.5 ? ": the file needs float64" : "")
              built in \(String(format: "%.2f", constructed)) s, evaluated in \(String(format: "%.1f", result.evaluationSeconds)) s
            Wrote \(directory.appendingPathComponent("result.json").path), memorizer.safetensors and labels.csv
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
    /// "zhang" or "centred".
    var construction: String
    /// The worst residual of the saved weights evaluated as two plain matrix products, in float64 and float32.
    var plainFloat64WorstResidual: Double
    var plainFloat32WorstResidual: Double
    /// The largest Σ_j |w_j| h_j(x_i) over the images: the size of the terms that cancel to give f(x_i).
    var largestCancellingSum: Double
    /// That sum times the unit roundoff: the scale of the rounding error of one evaluation.
    var float64RoundingScale: Double
    var float32RoundingScale: Double
    var largestHiddenWeight: Double
    /// Occam's version and commit, the command line.
    var occam = Provenance.current
}
extension MemorizingNetwork.Construction: ExpressibleByArgument {}
