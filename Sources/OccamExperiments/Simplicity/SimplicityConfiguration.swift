import Foundation

/// `occam simplicity`: the simplicity bias of random ReLU networks.
///
/// Part one (Valle-Perez, Camargo and Louis, ICLR 2019): draw `draws` networks n-h-...-h-1 with weights
/// N(0, σ_w² / fanIn) and biases N(0, σ_b²), compute the Boolean function each computes on all 2^n inputs of
/// {0,1}^n, and count the functions. Part two (De Palma, Kiani and Lloyd, NeurIPS 2019): for networks
/// n-w-w-1 on ±1 strings of each length in `robustnessSizes`, the Hamming distance from random inputs to the
/// nearest differently classified string and the number of random bit flips that change the class.
public struct SimplicityConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "simplicity"

    /// n: functions on {0,1}^n, 2^n-bit truth tables.
    public var inputSize = 7
    /// Empty with `biasScale` 0: the bias-free perceptron of the exact check.
    public var hiddenWidths = [40, 40]
    /// σ_w: weights are N(0, σ_w² / fanIn).
    public var weightScale = 1.0
    /// σ_b: biases are N(0, σ_b²); 0 for none (then the all-zero input always has output 0).
    public var biasScale = 0.1
    public var draws = 20_000_000
    /// Networks per chunk: chunk c draws from its own stream (seed, "functions", c), so the counts do not
    /// depend on how many threads run the chunks.
    public var chunkSize = 1 << 16
    /// Lengths n of the De Palma et al. measurements; empty skips them.
    public var robustnessSizes = [16, 32, 64, 128, 256, 512, 784]
    /// Hidden width of the robustness networks n-w-w-1.
    public var robustnessWidth = 256
    /// Networks per length, and random inputs per network.
    public var robustnessNetworks = 16
    public var robustnessInputs = 32
    /// The exact search in order of distance gives up on an input after this many strings (then only the
    /// greedy estimate is known for it).
    public var searchBudget = 1 << 17
    public var seed: UInt64 = 0

    public init() {}

    /// The bias-free perceptron on {0,1}^n, where P(t ones) = 2^-n for t = 0 ... 2^n - 1 exactly.
    public var isBiasFreePerceptron: Bool { hiddenWidths.isEmpty && biasScale == 0 }

    public var architecture: String { ([inputSize] + hiddenWidths + [1]).map(String.init).joined(separator: "-") }

    public var label: String { isBiasFreePerceptron ? "perceptron-\(inputSize)" : architecture }

    public var chunkCount: Int { (draws + chunkSize - 1) / chunkSize }

    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option.
    public func validate() throws {
        try ExperimentError.require(
            (1...TruthTable.maximumInputSize).contains(inputSize),
            "--input-size must be from 1 to \(TruthTable.maximumInputSize) (a truth table of 2^n bits must fit in 128), got \(inputSize)")
        try ExperimentError.require(hiddenWidths.allSatisfy { $0 >= 1 }, "--hidden widths must be at least 1")
        try ExperimentError.require(weightScale > 0 && weightScale.isFinite, "--sigma-w must be positive, got \(weightScale)")
        try ExperimentError.require(biasScale >= 0 && biasScale.isFinite, "--sigma-b must be 0 or more, got \(biasScale)")
        try ExperimentError.require(draws >= 1, "--draws must be at least 1")
        try ExperimentError.require(chunkSize >= 1, "--chunk-size must be at least 1")
        try ExperimentError.require(robustnessSizes.allSatisfy { $0 >= 2 }, "--robustness-sizes must be at least 2")
        try ExperimentError.require(robustnessWidth >= 1, "--robustness-width must be at least 1")
        try ExperimentError.require(robustnessNetworks >= 1, "--robustness-networks must be at least 1")
        try ExperimentError.require(robustnessInputs >= 1, "--robustness-inputs must be at least 1")
        try ExperimentError.require(searchBudget >= 1, "--search-budget must be at least 1")
    }
}
