import Foundation

/// The claims `occam reproduce` checks, in the order it runs them.
///
/// To add one: append a `ReproductionClaim` naming the study command's arguments at both scales, the
/// differences of the cpu-scale protocol from the paper's, a `VerdictRule`, and a `measure` that reads the
/// study's run directory (its report's records or summary.json).
public let reproductionClaims: [ReproductionClaim] = [
    ReproductionClaim(
        id: "kernel-mnist-pixels",
        statement: "Exact Gaussian-kernel interpolation of all 60,000 MNIST training images, with no regularization, generalizes well.",
        source: "Zhang et al. 2017, Sec. 5", paperResult: "1.2% test error", quantity: "test error (%)",
        cpuArguments: ["kernel", "--dataset", "mnist", "--train-sizes", "60000", "--ridge", "0", "--no-random-labels"],
        paperArguments: ["kernel", "--dataset", "mnist", "--train-sizes", "60000", "--ridge", "0", "--no-random-labels", "--precision", "float64"],
        cpuDifferences: [
            "float32 kernel matrix (14.4 GB) instead of float64 (28.8 GB)",
            "bandwidth σ = 5 on pixels in [0, 1] (the paper does not report its bandwidth)",
        ],
        rule: .nearPaper(paper: 1.2, standardErrors: 2, tolerance: 0.3),
        measure: { directory in
            let records = try KernelReport(directory: directory).build()
            let full = records.filter { $0.fit.labels == .true && $0.fit.ridge == 0 }.max { $0.fit.trainSize < $1.fit.trainSize }
            return Spread(full.map { [100 * $0.testError] } ?? [])
        }),
    ReproductionClaim(
        id: "double-descent-peak",
        statement: "With random Fourier features and minimum-norm least squares, the test loss peaks where the number of features N equals the number of training images n.",
        source: "Belkin et al. 2019, Fig. 2", paperResult: "peak at N = n (N/n = 1)", quantity: "N/n at the largest test squared loss",
        cpuArguments: ["double-descent", "features", "--dataset", "mnist"],
        paperArguments: ["double-descent", "features", "--dataset", "mnist", "--train-sizes", "10000",
                         "--feature-counts", "1000,2000,5000,8000,9000,10000,11000,12000,15000,20000,40000,60000"],
        cpuDifferences: [
            "n = 1,000 training images instead of 10,000",
            "real features sqrt(2) cos(<v, x> + b) instead of complex exp(i <v, x>)",
            "3 feature draws per N",
        ],
        rule: .inside(0.8...1.25),
        measure: { directory in
            let records = try DoubleDescentFeaturesReport(directory: directory).build()
            return Spread(peakFeatureRatios(records))
        }),
    ReproductionClaim(
        id: "random-labels-slowdown",
        statement: "A network fits completely random labels, taking only a small constant factor longer than on the true labels.",
        source: "Zhang et al. 2017, Fig. 1", paperResult: "fits random labels; a small slowdown (3.1x in one reproduction)",
        quantity: "steps to fit random labels / steps to fit true labels",
        cpuArguments: ["randomize", "--dataset", "mnist", "--condition", "true-labels", "--condition", "random-labels"],
        paperArguments: ["randomize", "--dataset", "mnist", "--condition", "true-labels", "--condition", "random-labels",
                         "--train-size", "55000", "--replicates", "5"],
        cpuDifferences: [
            "MNIST instead of CIFAR-10 and an MLP 784-512-10 instead of Inception",
            "5,000 training images instead of 55,000 (the randomize command's defaults), 3 replicates instead of 5",
        ],
        rule: .inside(1...10),
        measure: { directory in
            let summaries = try RandomizeReport(directory: directory).build()
            return summaries.first(where: { $0.condition.kind == .randomLabels })?.slowdown ?? Spread([])
        }),
]

/// For each replicate (feature draw) of a model-wise sweep at one n, N/n at its largest test squared loss.
/// - Parameter records: the sweep's points, all at the same training-set size n.
func peakFeatureRatios(_ records: [RandomFeaturePointRecord]) -> [Double] {
    let replicates = Set(records.flatMap { $0.fits.map(\.replicate) }).sorted()
    return replicates.compactMap { replicate in
        let losses = records.compactMap { record in
            record.fits.first { $0.replicate == replicate }.map { (record.point, $0.testSquaredLoss) }
        }
        guard let peak = losses.max(by: { $0.1 < $1.1 }) else { return nil }
        return Double(peak.0.featureCount) / Double(peak.0.trainSize)
    }
}
