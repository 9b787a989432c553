import ArgumentParser
import Foundation
import OccamNN
import OccamTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure training and curvature speed against PyTorch.", subcommands: [BenchTrainCommand.self, BenchCurvatureCommand.self])
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training samples per second of one model and optimizer on random 1x28x28 data (Float32).",
        discussion: """
            Times full training steps (forward, backward, optimizer update) at the given batch size. With \
            --compare, runs Benchmarks/train_reference.py (PyTorch, 2 threads) on the same workload in the same \
            run and prints the ratio; `pip install torch` provides PyTorch.
            """)

    @Option(help: "Model name (see `occam models`).")
    var model = "lenet-300-100"

    @Option(parsing: .unconditional, help: "Batch size.")
    var batchSize = 60

    @Option(help: "Optimizer: sgd (momentum 0.9, lr 0.05), adam or adamw (lr 1.2e-3).")
    var optimizer: OptimizerConfiguration.Kind = .adam

    @Option(help: "Timed steps: iterations, as \"1000\" or \"1000it\" (the spelling of training length in every command).")
    var steps = "1000it"

    @Option(parsing: .unconditional, help: "Prune the weights to this fraction at random positions, kept pruned by the optimizer (a lottery ticket's step); 1: no mask.")
    var density = 1.0

    @Flag(help: "Also time PyTorch on the same workload (Benchmarks/train_reference.py).")
    var compare = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// --steps as a number of iterations.
    var stepCount: Int {
        get throws {
            let text = steps.hasSuffix("it") ? String(steps.dropLast(2)) : steps
            guard let count = Int(text) else {
                throw ValidationError("--steps takes iterations, as \"1000it\" (epochs have no meaning on random data); got \"\(steps)\".")
            }
            return count
        }
    }

    func validate() throws {
        guard batchSize >= 1, try stepCount >= 10 else { throw ValidationError("--batch-size must be >= 1 and --steps at least 10it.") }
        guard density > 0, density <= 1 else { throw ValidationError("--density must be in (0, 1].") }
    }

    func run() throws {
        let steps = try stepCount
        let network = try ModelZoo.build(model, inputShape: [1, 28, 28], classes: 10, as: Float.self)
        var random = RandomGenerator(seed: 0)
        var parameters = network.initialParameters(using: &random)
        var buffers = network.initialBuffers()
        let configuration = OptimizerConfiguration(
            kind: optimizer, learningRate: optimizer == .sgd ? 0.05 : 1.2e-3, momentum: optimizer == .sgd ? 0.9 : 0)
        var mask: PruningMask<Float>?
        if density < 1 {
            let weights = ParameterSet(parameters.entries.filter { $0.tensor.rank >= 2 })
            mask = try PruningMask(weights.mapTensors { _, tensor in
                var scalars = [Float](repeating: 0, count: tensor.count)
                for index in random.permutation(tensor.count).prefix(Int((density * Double(tensor.count)).rounded())) { scalars[index] = 1 }
                return Tensor(shape: tensor.shape, scalars: scalars)
            })
            mask!.apply(to: &parameters)
        }
        var update = configuration.make(mask: mask, as: Float.self)
        let batches = (0..<50).map { _ in
            (Tensor<Float>.randomUniform([batchSize, 784], using: &random), (0..<batchSize).map { _ in random.nextInt(below: 10) })
        }
        func step(_ i: Int) {
            let (inputs, labels) = batches[i % batches.count]
            let result = network.gradients(
                at: parameters, buffers: &buffers, inputs: inputs, labels: labels, loss: .crossEntropy, random: &random)
            update.step(&parameters, gradients: result.gradients, learningRate: configuration.learningRate)
        }
        for i in 0..<max(20, steps / 10) { step(i) }
        var best = Double.infinity
        let rounds = 5
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<(steps / rounds) { step(i) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps / rounds))
        }
        let occamRate = Double(batchSize) / best
        var report = BenchReport(
            model: model, optimizer: optimizer.rawValue, batchSize: batchSize, steps: steps, density: density < 1 ? density : nil,
            occamSamplesPerSecond: occamRate, occamSecondsPerStep: best)
        var lines = ["\(model), \(optimizer.rawValue), batch \(batchSize)\(density < 1 ? ", density \(density)" : ""): Occam \(String(format: "%.0f", occamRate)) samples/s (\(String(format: "%.3f", best * 1e3)) ms a step)"]
        if compare {
            switch runPyTorchReference(steps: steps) {
            case .success(let torchRate):
                report.pytorchSamplesPerSecond = torchRate
                report.ratio = occamRate / torchRate
                lines.append("PyTorch (2 threads): \(String(format: "%.0f", torchRate)) samples/s; Occam / PyTorch = \(String(format: "%.2f", occamRate / torchRate))x")
            case .failure(let message):
                report.pytorchError = message.text
                lines.append("PyTorch comparison skipped: \(message.text)")
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            lines.forEach { print($0) }
        }
    }

    /// Samples per second of the PyTorch reference, or why it could not run.
    private func runPyTorchReference(steps: Int) -> Result<Double, PythonReference.Failure> {
        PythonReference.run(
            "Benchmarks/train_reference.py",
            arguments: ["--model", model, "--optimizer", optimizer == .sgd ? "sgd" : "adam", "--batch-size", "\(batchSize)", "--steps", "\(steps)"],
            install: "pip install torch"
        ).flatMap { object in
            guard let rate = object["samples_per_second"] as? Double else {
                return .failure(PythonReference.Failure(text: "Benchmarks/train_reference.py printed no samples_per_second"))
            }
            return .success(rate)
        }
    }
}

/// What `occam bench train --json` prints: numbers as JSON numbers, at full precision.
struct BenchReport: Codable {
    var model: String
    var optimizer: String
    var batchSize: Int
    var steps: Int
    /// The fraction of weights kept; absent without a mask.
    var density: Double?
    var occamSamplesPerSecond: Double
    /// The fastest of five rounds' mean time per step.
    var occamSecondsPerStep: Double
    var pytorchSamplesPerSecond: Double?
    /// Occam's samples per second over PyTorch's.
    var ratio: Double?
    /// Why the PyTorch comparison did not run.
    var pytorchError: String?

    enum CodingKeys: String, CodingKey {
        case model, optimizer, steps, density, ratio
        case batchSize = "batch_size", occamSamplesPerSecond = "occam_samples_per_second", occamSecondsPerStep = "occam_seconds_per_step"
        case pytorchSamplesPerSecond = "pytorch_samples_per_second", pytorchError = "pytorch_error"
    }
}

extension OptimizerConfiguration.Kind: ExpressibleByArgument {}
