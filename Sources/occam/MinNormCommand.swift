import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamTensor

struct MinNormCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "min-norm",
        abstract: "SGD on under-determined least squares converges to the minimum-norm interpolant (Zhang et al. 2017, Sec. 5).",
        discussion: """
            Trains a linear model by per-example SGD (gradients from the autodiff tape) from W = 0 and from a \
            random start, and compares each result with the pseudo-inverse solution X⁺Y. From zero, SGD stays in \
            the span of the data and reaches X⁺Y; from a random start it keeps the start's null-space component, \
            and the predicted distance ‖(I - X⁺X)W₀‖ / ‖X⁺Y‖ is printed beside the measured one.

            Runs a seeded Gaussian problem (--samples x --features) and, when the data set is installed, a \
            Fashion-MNIST subset (pixels in [0, 1] as features, one-hot targets). Writes result.json and \
            metrics.jsonl (distance after every epoch) to OUT/min-norm.
            """
    )

    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Examples in the Gaussian problem.")
    var samples = 50

    @Option(name: [.customShort("d"), .long], parsing: .unconditional, help: "Features in the Gaussian problem (more than --samples).")
    var features = 200

    @Option(help: ArgumentHelp(
        "Fashion-MNIST training images to use (0 skips the data set).",
        discussion: "Real images are nearly collinear, so X Xᵀ is ill-conditioned and SGD needs many more epochs as this grows (the condition number is printed)."))
    var fashionSamples = 20

    @Option(parsing: .unconditional, help: "Passes over the data.")
    var epochs = 1000

    @Option(parsing: .unconditional, help: "SGD step size (default: 1 / max ‖x_i‖², a relaxed projection per step).")
    var learningRate: Double?

    @Option(help: "Precision: float64 or float32.")
    var precision: Precision = .float64

    @Option(parsing: .unconditional, help: "Seed for the data, the random start and the data order.")
    var seed: UInt64 = 0

    @Option(help: "Directory for results.")
    var out = "runs"

    @Option(help: "Directory holding fashion-mnist/ (default: $OCCAM_DATA, then /usr/share/datasets).")
    var dataDir: String?

    @Flag(help: "Print only the results.")
    var quiet = false

    func validate() throws {
        guard samples >= 1 && features > samples else {
            throw ValidationError("--features (\(features)) must exceed --samples (\(samples)) for an under-determined problem.")
        }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
        guard fashionSamples >= 0 && fashionSamples < 784 else {
            throw ValidationError("--fashion-samples must be in 0..<784 so that the problem stays under-determined.")
        }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) { throw ValidationError("--learning-rate must be a positive finite number.") }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch precision {
        case .float64: try run(Double.self)
        case .float32: try run(Float.self)
        }
    }

    private func run<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let directory = URL(fileURLWithPath: out).appendingPathComponent("min-norm")
        try ResultFiles.prepareDirectory(directory)
        var problems: [MinimumNormProblemResult] = []
        var curve: [MinimumNormCurvePoint] = []

        let gaussian = SyntheticProblems.gaussianRegression(samples: samples, features: features, seed: seed, as: Scalar.self)
        problems.append(try solve("gaussian", gaussian.inputs, gaussian.targets, curve: &curve))

        if fashionSamples > 0 {
            do {
                let images = try loadFashionMNIST(
                    split: .train, limit: fashionSamples, directory: dataDir.map { URL(fileURLWithPath: $0) },
                    as: Scalar.self)
                let targets = Tensor<Scalar>.oneHot(images.labels, classes: images.classCount)
                problems.append(try solve("fashion-mnist", images.images, targets, curve: &curve))
            } catch let error as DataSetError {
                print("Skipping Fashion-MNIST: \(error)")
            }
        }
        try ResultFiles.writeJSON(problems, to: directory.appendingPathComponent("result.json"))
        try ResultFiles.writeJSONLines(curve, to: directory.appendingPathComponent("metrics.jsonl"))
        print("Wrote \(directory.appendingPathComponent("result.json").path) and metrics.jsonl")
    }

    private func solve<Scalar: TensorScalar>(
        _ name: String, _ inputs: Tensor<Scalar>, _ targets: Tensor<Scalar>, curve: inout [MinimumNormCurvePoint]
    ) throws -> MinimumNormProblemResult {
        let experiment = MinimumNormInterpolation(
            inputs: inputs, targets: targets, epochs: epochs, learningRate: learningRate, seed: seed)
        print("""

            \(name): n = \(inputs.shape[0]), d = \(inputs.shape[1]), k = \(targets.shape[1]), \(Scalar.precisionName), \
            \(epochs) epochs (\(epochs * inputs.shape[0]) SGD steps), learning rate \(format(experiment.effectiveLearningRate))
            """)
        let reportEvery = max(1, epochs / 10)
        var points: [MinimumNormCurvePoint] = []
        let result = try experiment.run { start, epoch, distance in
            points.append(MinimumNormCurvePoint(problem: name, start: start, epoch: epoch, relativeDistanceToMinimumNorm: distance))
            if !quiet && (epoch % reportEvery == 0 || epoch == epochs) {
                status("  \(start.rawValue) start, epoch \(epoch)/\(epochs): ‖W - X⁺Y‖ / ‖X⁺Y‖ = \(format(distance))")
            }
        }
        curve += points
        print(table(result))
        return MinimumNormProblemResult(problem: name, result: result)
    }

    private func table(_ result: MinimumNormResult) -> String {
        var lines = [
            "  pseudo-inverse: rank \(result.pseudoInverseRank), cutoff \(format(result.pseudoInverseCutoff)) x largest singular value, ‖X⁺Y‖ = \(format(result.minimumNormSolutionNorm)), cond(X Xᵀ) = \(format(result.gramConditionNumber))",
            "  start   ‖W-X⁺Y‖/‖X⁺Y‖  predicted     ‖W-limit‖/‖limit‖  null-space share  ‖XW-Y‖/‖Y‖",
        ]
        for o in result.outcomes {
            lines.append(
                "  " + [o.start.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0),
                        format(o.relativeDistanceToMinimumNorm).padding(toLength: 14, withPad: " ", startingAt: 0),
                        format(o.predictedRelativeDistance).padding(toLength: 13, withPad: " ", startingAt: 0),
                        format(o.relativeDistanceToPredictedLimit).padding(toLength: 18, withPad: " ", startingAt: 0),
                        format(o.relativeNullSpaceComponent).padding(toLength: 17, withPad: " ", startingAt: 0),
                        format(o.trainingResidual)].joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

/// One problem's result in result.json.
struct MinimumNormProblemResult: Codable {
    var problem: String
    var result: MinimumNormResult
}

/// One line of metrics.jsonl.
struct MinimumNormCurvePoint: Codable {
    var problem: String
    var start: MinimumNormStart
    var epoch: Int
    var relativeDistanceToMinimumNorm: Double
}

/// A number in 3 significant digits, scientific when small or large.
func format(_ value: Double) -> String {
    if value == 0 { return "0" }
    let magnitude = abs(value)
    return magnitude < 1e-3 || magnitude >= 1e5 ? String(format: "%.2e", value) : String(format: "%.4g", value)
}
