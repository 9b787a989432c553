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
        measure: { directory in Spread(largestInterpolationTestErrors(try KernelReport(directory: directory).build())) }),
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
    ReproductionClaim(
        id: "kernel-mnist-gabor",
        statement: "Exact Gaussian-kernel interpolation of all 60,000 MNIST training images after a Gabor wavelet transform, with no regularization, generalizes better than on pixels.",
        source: "Zhang et al. 2017, Sec. 5", paperResult: "0.6% test error", quantity: "test error (%)",
        cpuArguments: ["kernel", "--dataset", "mnist", "--features", "gabor", "--train-sizes", "60000", "--ridge", "0", "--no-random-labels"],
        paperArguments: ["kernel", "--dataset", "mnist", "--features", "gabor", "--train-sizes", "60000", "--ridge", "0", "--no-random-labels",
                         "--precision", "float64"],
        cpuDifferences: [
            "float32 kernel matrix (14.4 GB) instead of float64 (28.8 GB)",
            "Occam's filter bank (4 orientations x wavelengths 4 and 8 px, 11 x 11 quadrature pairs, local energy, 4 x 4 mean pooling: 392 features); the paper does not describe its wavelet transform",
            "bandwidth σ = 5 on features scaled to the pixels' mean squared norm (the paper does not report its bandwidth)",
        ],
        rule: .nearPaper(paper: 0.6, standardErrors: 2, tolerance: 0.3),
        measure: { directory in Spread(largestInterpolationTestErrors(try KernelReport(directory: directory).build())) }),
    ReproductionClaim(
        id: "lottery-lenet-300-100-mnist",
        statement: "Iterative magnitude pruning of LeNet-300-100 on MNIST finds winning tickets that keep the dense network's accuracy down to a few percent of the weights, while the same subnetworks randomly reinitialized fall behind.",
        source: "Frankle & Carbin 2019, Figs. 3-4",
        paperResult: "tickets at dense accuracy down to 3.6% of weights; random reinit falls behind from 21% (5-seed reproduction at 3.6%: 98.16% vs 96.9-97.3%)",
        quantity: "winning ticket minus random reinitialization, test accuracy at early stopping at the last level (15 rounds: 3.6% of weights), pp, paired by replicate",
        cpuArguments: ["lottery", "--dataset", "mnist", "--controls", "random-reinit", "--replicates", "3"],
        paperArguments: ["lottery", "--dataset", "mnist", "--controls", "random-reinit", "--replicates", "5", "--steps", "50000it"],
        cpuDifferences: [
            "6,000 iterations per network instead of 50,000 (early stopping comes at 2.5-7.5K iterations on this scale)",
            "3 replicates instead of 5",
            "random pruning, the paper's other control, is not trained",
        ],
        rule: .above(0),
        measure: { directory in
            try LotteryReport(directory: directory).build()
            let levels = try RunStore.readConfiguration(LotteryConfiguration.self, in: directory).configuration.levels
            let records = try RunStore.readJSONLines(LotteryStageRecord.self, from: directory.appendingPathComponent("metrics.jsonl"))
            return Spread(ticketAdvantages(records, over: .randomReinitialization, atLevel: levels))
        }),
    ReproductionClaim(
        id: "lenet-stable-at-initialization",
        statement: "LeNet-300-100 on MNIST is stable at initialization: two copies trained from the same initialization with different data orders are joined by a straight line with no error barrier.",
        source: "Frankle et al. 2020, Sec. 3 (Fig. 3)", paperResult: "stable at iteration 0: test error barrier near 0 (stable means under 2 pp)",
        quantity: "test error barrier between the two copies spawned at iteration 0 (pp)",
        cpuArguments: ["connectivity", "--dataset", "mnist", "--replicates", "5"],
        paperArguments: ["connectivity", "--dataset", "mnist", "--replicates", "5", "--steps", "24000it"],
        cpuDifferences: ["6,000 iterations per copy instead of 24,000"],
        rule: .below(2),
        measure: { directory in
            try ConnectivityReport(directory: directory).build().first { $0.spawnStep == 0 }?.testBarrier ?? Spread([])
        }),
    ReproductionClaim(
        id: "ensemble-removes-peak",
        statement: "Averaging the predictions of independently trained networks helps most near the interpolation threshold: the ensemble largely removes the model-wise double-descent peak.",
        source: "Nakkiran et al. 2020, appendix (effect of ensembling)",
        paperResult: "qualitative: an ensemble of 5 networks helps most around the critical regime, where the peak is",
        quantity: "fraction of the single networks' peak over the classical minimum that the replicates' ensemble removes (one value: the ensemble of all replicates)",
        cpuArguments: ["double-descent", "networks", "--ensemble"],
        paperArguments: ["double-descent", "networks", "--ensemble"] + nakkiranCNNWidthSweep,
        cpuDifferences: [
            "Fashion-MNIST (4,000 images) and a one-hidden-layer MLP 784-H-10 (H = 2 to 512) instead of CIFAR-10 (50,000 images) and convolutional networks",
            "20% label noise, Adam 1e-3 for 300 epochs instead of 15% noise, Adam 1e-4 for 4,000 epochs",
            "an ensemble of 3 replicates instead of 5, by averaged softmax outputs instead of a plurality vote",
        ],
        rule: .above(0.5),
        measure: { directory in Spread(try ensemblePeakFractionRemoved(directory).map { [$0] } ?? []) }),
    ReproductionClaim(
        id: "early-phase-signs",
        statement: "Rewound to an iteration k > 0, a ticket whose weights keep their signs but get fresh magnitudes trains to lower accuracy than the rewound ticket itself: the early-phase weights carry more than their signs.",
        source: "Frankle, Schwab & Morcos 2020, Sec. 5",
        paperResult: "signs kept with magnitudes reinitialized loses accuracy against the rewound ticket (ResNet-20, CIFAR-10)",
        quantity: "signs kept (magnitudes reinitialized) minus the rewound ticket, final test accuracy at the largest k (pp, paired by replicate)",
        cpuArguments: ["early-phase", "--perturbations", "ticket,signs-kept"],
        paperArguments: ["early-phase", "--perturbations", "ticket,signs-kept", "--model", "resnet-20", "--dataset", "cifar10",
                         "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--weight-decay", "1e-4", "--batch-size", "128",
                         "--crop-padding", "4", "--flip", "--normalize", "--steps", "62560it", "--schedule", "step:31280,46920:0.1",
                         "--eval-every", "3910it", "--rewind-iterations", "0,100,250,500,1000,2000",
                         "--strategy", "global", "--prune-rate", "0.2", "--levels", "8"],
        cpuDifferences: [
            "LeNet-300-100 on Fashion-MNIST (Adam 1.2e-3, batch 60, 5,000 iterations) instead of ResNet-20 on CIFAR-10 (SGD, 160 epochs)",
            "a mask from 2 rounds of 70% layer-wise pruning (35% for the output layer) instead of 8 rounds of 20% global pruning (16.8% of weights)",
            "k = 0, 100, 500, 2000 iterations",
        ],
        rule: .below(0),
        measure: { directory in
            let rows = try EarlyPhaseReport(directory: directory).build().accuracy.filter { $0.perturbation == .signsKept }
            return rows.max { $0.rewindIteration < $1.rewindIteration }?.changeFromTicket ?? Spread([])
        }),
    ReproductionClaim(
        id: "distillation-soft-targets",
        statement: "A small network trained on a large network's soft targets at a high temperature makes far fewer test errors than the same network trained on the hard labels.",
        source: "Hinton, Vinyals & Dean 2015, Sec. 3",
        paperResult: "MNIST: teacher 67 test errors, hard-label student 146, soft student at T = 20 74 (-72 errors)",
        quantity: "soft student at T = 20 minus the same replicate's hard-label student, test errors of 10,000 (paired by replicate)",
        cpuArguments: ["distill", "--dataset", "mnist", "--temperatures", "20"],
        paperArguments: ["distill", "--dataset", "mnist", "--temperatures", "20", "--train-size", "60000"],
        cpuDifferences: [
            "the students train on 10,000 images (the transfer set) and the teacher on all 60,000, instead of every network on all 60,000",
            "the teacher (1200-1200, dropout 0.2 after each hidden layer, 10 epochs) has no input dropout, no jitter and no max-norm weight constraint",
            "every network trains with Adam 1e-3 decayed to 0 by a cosine, batch 100, the students for 20 epochs (Occam's recipe; the paper gives none for this experiment)",
            "3 replicates of the students, one teacher",
        ],
        rule: .below(0),
        measure: { directory in
            try DistillationReport(directory: directory).build().students.first { $0.temperature == 20 }?.changeFromHard ?? Spread([])
        }),
    ReproductionClaim(
        id: "saddles-index-rises-with-loss",
        statement: "At the critical points of a small network's training loss, the index (the fraction of negative Hessian eigenvalues) rises with the loss: critical points of high loss are saddles, those near the lowest loss nearly minima.",
        source: "Dauphin et al. 2014, Fig. 1",
        paperResult: "index α grows with the training error ε at critical points (MNIST, CIFAR-10): near 0 at the lowest error",
        quantity: "Spearman rank correlation of the index with the training loss over the critical points found (‖∇f‖ ≤ 1e-6; one value)",
        cpuArguments: ["saddles", "--dataset", "mnist", "--trajectories", "4"],
        paperArguments: ["saddles", "--dataset", "mnist", "--trajectories", "10", "--samples", "10000", "--components", "0",
                         "--snapshots", "0,10,30,100,300,1000,3000,10000", "--search-iterations", "300"],
        cpuDifferences: [
            "a 630-parameter tanh MLP 20-20-10 on 500 MNIST images, area-averaged to 10 x 10 and projected on 20 whitened principal components (the paper does not give its downsampling precisely)",
            "critical points searched by Levenberg-Marquardt on ½‖∇f‖² with exact Hessians (the paper uses a Newton-type search), 60 steps from 6 points along each of 4 SGD runs",
            "the index against the training loss (the paper plots the training error; summary.json holds both correlations)",
        ],
        rule: .above(0),
        measure: { directory in Spread(try SaddlesReport(directory: directory).build().indexLossCorrelation.map { [$0] } ?? []) }),
    ReproductionClaim(
        id: "neff-tracks-double-descent",
        statement: "Across a width sweep through the interpolation threshold, the effective dimensionality N_eff of the Hessian's spectrum tracks the test error (rising to the peak and falling after it), where the parameter count only grows.",
        source: "Maddox, Benton & Wilson 2020, Fig. 2",
        paperResult: "qualitative: N_eff (z = 1, top 100 eigenvalues) peaks with the test error near the interpolation threshold",
        quantity: "per replicate, Spearman rank correlation across widths of N_eff (z = 1, top 100 GGN eigenvalues, weights only) with the final test error",
        cpuArguments: ["double-descent", "networks", "--curvature", "--widths", "2,4,8,16,32,48,64,128,256"],
        paperArguments: ["double-descent", "networks", "--curvature"] + nakkiranCNNWidthSweep,
        cpuDifferences: [
            "Fashion-MNIST (4,000 images, 20% label noise) and a one-hidden-layer MLP 784-H-10 (H = 2 to 256) instead of convolutional networks on CIFAR (the paper-scale command uses Nakkiran et al.'s 5-layer CNN family on CIFAR-10)",
            "Adam 1e-3 for 300 epochs, 3 replicates",
            "the generalized Gauss-Newton matrix on the first 1,000 training images instead of the Hessian on the whole training set",
        ],
        rule: .above(0),
        measure: { directory in Spread(try effectiveDimensionalityCorrelations(directory)) }),
    ReproductionClaim(
        id: "lz-complexity-reference",
        statement: "The Lempel-Ziv complexity K_LZ Valle-Perez et al. use for 128-bit truth tables gives 7 for a constant string, about 21 for a single input bit, and about 149 on average for uniformly random strings.",
        source: "Valle-Perez, Camargo & Louis 2019, Sec. 3 and appendix",
        paperResult: "random 128-bit strings: mean K_LZ about 149 (119-168); constant 7; x_i about 21",
        quantity: "mean K_LZ of the 20,000 uniformly random 128-bit truth tables the simplicity report draws",
        cpuArguments: ["simplicity", "--robustness-sizes", "none"],
        paperArguments: ["simplicity", "--robustness-sizes", "none", "--paper"],
        cpuDifferences: ["2 x 10^7 networks drawn instead of 10^8 (the measured complexity of random strings does not depend on the draws)"],
        rule: .nearPaper(paper: 149, standardErrors: 2, tolerance: 1),
        measure: { directory in try SimplicityReport(directory: directory).build().randomComplexity }),
    ReproductionClaim(
        id: "critical-period-deficit",
        statement: "Blurred inputs in the first epochs of training lower the final test accuracy reached after normal training, the more the longer the deficit lasts; the same deficit later in training does little.",
        source: "Achille, Rovere & Soatto 2019, Fig. 1",
        paperResult: "an early blur deficit lowers final accuracy, the drop growing with its length and saturating; a late deficit has little effect",
        quantity: "final test accuracy after the longest early blur deficit (40 epochs) minus the same replicate's run without one (pp, paired)",
        cpuArguments: ["critical-period", "--replicates", "5"],
        paperArguments: ["critical-period", "--dataset", "cifar10", "--model", "resnet-20", "--train-size", "50000", "--replicates", "5"],
        cpuDifferences: [
            "lenet-5 on 5,000 Fashion-MNIST images, blurred by 4 x 4 block averages, instead of convolutional networks on CIFAR-10",
            "deficits of 10 to 40 epochs, then 30 normal epochs (the paper's deficits and training are longer; the paper-scale command keeps these lengths)",
        ],
        rule: .below(0),
        measure: { directory in
            let early = try CriticalPeriodReport(directory: directory).build().deficits.filter { $0.onset == 0 && $0.length > 0 }
            return early.max { $0.length < $1.length }?.changeFromReference ?? Spread([])
        }),
]

/// Nakkiran et al.'s model-wise sweep (5-layer CNNs of width k on CIFAR-10, 15% label noise, Adam 1e-4 for 4,000
/// epochs, 5 replicates): the paper-scale options of the width-sweep claims.
let nakkiranCNNWidthSweep = [
    "--model", "mcnn", "--dataset", "cifar10", "--widths", "1,2,4,6,8,10,12,14,16,20,24,32,48,64", "--train-size", "50000",
    "--label-noise", "0.15", "--lr", "1e-4", "--steps", "4000ep", "--replicates", "5",
]

/// The test error (%) of exact interpolation of the true labels at the largest training-set size fitted: one
/// value (a kernel fit is deterministic), or none when that fit has not finished.
func largestInterpolationTestErrors(_ records: [KernelFitRecord]) -> [Double] {
    let full = records.filter { $0.fit.labels == .true && $0.fit.ridge == 0 }.max { $0.fit.trainSize < $1.fit.trainSize }
    return full.map { [100 * $0.testError] } ?? []
}

/// For each replicate of a lottery study with both networks finished at `level`, the winning ticket's test
/// accuracy at early stopping minus `control`'s (percentage points).
func ticketAdvantages(_ records: [LotteryStageRecord], over control: LotteryNetwork, atLevel level: Int) -> [Double] {
    Set(records.map(\.replicate)).sorted().compactMap { replicate in
        func accuracy(_ network: LotteryNetwork) -> Double? {
            records.first { $0.replicate == replicate && $0.level == level && $0.network == network }?.earlyStoppingTestAccuracy
        }
        guard let ticket = accuracy(.ticket), let other = accuracy(control) else { return nil }
        return 100 * (ticket - other)
    }
}

/// The share of the model-wise peak a width sweep's ensemble removes (`NetworksEnsembleReport.fractionOfPeakRemoved`
/// at the classical minimum and peak of summary.json); nil when the sweep has no peak or no ensemble there.
func ensemblePeakFractionRemoved(_ directory: URL) throws -> Double? {
    try DoubleDescentNetworksReport(directory: directory).build()
    let widths = try RunStore.readConfiguration(DoubleDescentNetworksConfiguration.self, in: directory).configuration.widths
    let sweep = try RunStore.readJSON(NetworkSweepSummary.self, from: directory.appendingPathComponent("summary.json"))
    guard let minimum = sweep.classicalMinimumWidth, let peak = sweep.peakWidth else { return nil }
    return NetworksEnsembleReport(directory: directory, widths: widths).fractionOfPeakRemoved(minimum: minimum, peak: peak)
}

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

/// For each replicate of a width sweep measured with `--curvature`, Spearman's rank correlation across its
/// widths of N_eff with the final test error; none for a replicate with fewer than 3 measured widths or with
/// either side constant.
func effectiveDimensionalityCorrelations(_ directory: URL) throws -> [Double] {
    let report = DoubleDescentNetworksReport(directory: directory)
    try report.build()
    let stored = try RunStore.readConfiguration(DoubleDescentNetworksConfiguration.self, in: directory)
    let measured = try SweepCurvatureReport(directory: directory).measured(report.records(stored.configuration, precision: stored.precision))
    return Set(measured.map(\.record.run.replicate)).sorted().compactMap { replicate in
        let runs = measured.filter { $0.record.run.replicate == replicate && $0.record.testError != nil }
        let correlation: Double? = spearman(runs.map(\.curvature.effectiveDimensionality), runs.map { $0.record.testError! })
        return correlation
    }
}
