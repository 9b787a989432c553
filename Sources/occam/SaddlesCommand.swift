import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamExperiments
import OccamNN

struct SaddlesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saddles",
        abstract: "Critical points of a small MLP with their exact Hessian spectra (index against error), and saddle-free Newton.",
        discussion: """
            Dauphin et al. (2014) at CPU scale. An MLP with a few thousand parameters learns a random subset of \
            Fashion-MNIST shrunk to --image-size pixels a side (optionally projected on --components principal \
            components). From points along --trajectories SGD runs (at the --snapshots steps), Levenberg-Marquardt \
            on the squared gradient norm searches for critical points; each point reached is recorded with its loss, \
            training error, gradient norm and every eigenvalue of its dense Float64 Hessian. Points that stop above \
            --gradient-tolerance are labelled (gradient-flat or not converged) and not counted as critical.

            With --compare-optimizers, SGD, damped Newton and saddle-free Newton train the same network from the same \
            starts, logging the loss and the smallest Hessian eigenvalue along each path.

            Units (each SGD run with the searches from its points, each optimizer path) are independent: --jobs N \
            computes N at once (default: one per core; fewer when their Hessians would not fit in memory together), \
            each on single-threaded BLAS, so results do not depend on --jobs. The optimizer comparison's times are \
            wall-clock times taken while the other units run: use --jobs 1 when those times matter.

            Writes trajectories/, points/ and compare/ (one JSON file per unit, so an interrupted run resumes), then \
            points.csv, index-vs-loss.svg, index-vs-error.svg, spectra.svg, compare-*.svg, summary.json and index.html \
            under OUT/saddles-<label>-<hash>.
            """)

    @Option(help: "Data set.") var dataset: DataSetName = .fashionMNIST
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(parsing: .unconditional, help: "Training images (a random subset chosen by --seed).") var samples = 500
    @Option(parsing: .unconditional, help: "Images are area-averaged to this many pixels a side.") var imageSize = 10
    @Option(parsing: .unconditional, help: "Whitened principal components of the images as inputs (0: the pixels).") var components = 20
    @Option(help: "Hidden widths of the MLP, comma-separated.") var widths = "20"
    @Option(help: "tanh, relu or sigmoid.") var activation: ActivationFunction = .tanh
    @Option(parsing: .unconditional, help: "SGD runs whose points start the searches.") var trajectories = 2
    @Option(help: "SGD steps whose points start a search, comma-separated (0: the initialization).") var snapshots = "0,30,100,300,1000,3000"
    @Option(parsing: .unconditional, help: "SGD's learning rate.") var learningRate = 0.1
    @Option(parsing: .unconditional, help: "SGD's batch size.") var batchSize = 50
    @Option(parsing: .unconditional, help: "At most this many accepted Levenberg-Marquardt steps per search.") var searchIterations = 60
    @Option(parsing: .unconditional, help: "A point is critical when its gradient norm is at most this.") var gradientTolerance = 1e-6
    @Option(parsing: .unconditional, help: "|eigenvalue| <= this times the largest counts as zero.") var zeroTolerance = 1e-6
    @Flag(help: "Also train from the same starts with SGD, damped Newton and saddle-free Newton.") var compareOptimizers = false
    @Option(parsing: .unconditional, help: "Starts of the comparison (fresh initializations).") var compareStarts = 1
    @Option(parsing: .unconditional, help: "Steps of each Newton method.") var newtonIterations = 40
    @Option(parsing: .unconditional, help: "Steps of SGD in the comparison.") var sgdIterations = 3000
    @Option(parsing: .unconditional, help: "Damping λ of the Newton methods.") var damping = 1e-3
    @Option(parsing: .unconditional, help: "Longest step the Newton methods take.") var maxStepNorm = 1.0
    @Option(parsing: .unconditional, help: "Saddle-free Newton in a Krylov subspace of this many Lanczos vectors (default: exact |H|).") var krylovDimension: Int?
    @Option(parsing: .unconditional, help: "Points along each SGD path where Lanczos measures the smallest eigenvalue.") var sgdProbes = 20
    @Option(parsing: .unconditional, help: "Seed for the subset, initializations and batches.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Units (an SGD run with its searches, or one optimizer path) computed at once (default: one per core).") var jobs: Int?
    @Option(help: "Root directory of runs.") var out = "runs"
    @Flag(help: "No progress lines.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func experimentConfiguration() throws -> SaddlesConfiguration {
        let steps = try snapshots.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ValidationError("--snapshots must be SGD steps (0 or more) separated by commas, like 0,100,1000 (got \"\(snapshots)\").")
            }
            return value
        }
        return SaddlesConfiguration(
            dataset: dataset, samples: samples, imageSize: imageSize, components: components, widths: try parseWidths(widths),
            activation: activation, trajectories: trajectories, snapshots: steps, learningRate: learningRate, batchSize: batchSize,
            searchIterations: searchIterations, gradientTolerance: gradientTolerance, zeroTolerance: zeroTolerance,
            compareStarts: compareStarts, newtonIterations: newtonIterations, sgdIterations: sgdIterations, damping: damping,
            maxStepNorm: maxStepNorm, krylovDimension: krylovDimension, sgdProbes: sgdProbes, seed: seed)
    }

    func validate() throws {
        try experimentConfiguration().validate()
        try validateJobs(jobs)
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        let configuration = try experimentConfiguration()
        try configuration.validate()
        let all: LabeledImages<Double> = try loadDataSet(dataset, split: .train, directory: dataDir.map { URL(fileURLWithPath: $0) })
        let (data, explained) = try configuration.prepare(all)
        let directory = try RunStore.open(configuration, precision: "float64", under: URL(fileURLWithPath: out), access: cluster.access)
        var study = try SaddlesStudy(configuration: configuration, data: data, directory: directory)
        study.compareOptimizers = compareOptimizers
        study.jobs = jobCount(jobs)
        let stages = configuration.trajectories * configuration.snapshots.count + (compareOptimizers ? 3 * configuration.compareStarts : 0)
        study.progress = progress()
        if try cluster.handle(study, stages: stages, quiet: quiet) { return }
        try ResultFiles.writeJSON(SaddlesData(samples: data.count, inputs: data.featureCount, explainedVariance: explained), to: directory.appendingPathComponent("data.json"))
        status("saddles: MLP \(configuration.inputCount)-\(configuration.widths.map(String.init).joined(separator: "-"))-\(dataset.classCount) (\(configuration.parameterCount) parameters) on \(samples) \(dataset.displayName) images, \(configuration.trajectories * configuration.snapshots.count) searches\(compareOptimizers ? " and the optimizer comparison" : "")")
        try study.run()
        let summary = try RunStore.readJSON(SaddlesSummary.self, from: directory.appendingPathComponent("summary.json"))
        print("\(summary.critical) of \(summary.points) searches reached a critical point (|g| <= \(configuration.gradientTolerance)); \(summary.gradientFlat) gradient-flat, \(summary.notConverged) not converged")
        if let rho = summary.indexLossCorrelation {
            print("Spearman correlation of index with training loss over the critical points: \(String(format: "%.2f", rho)) (\(summary.distinctCriticalLosses) distinct loss values)")
        }
        for end in summary.optimizerEnds {
            print("\(end.optimizer.displayName), start \(end.start): loss \(String(format: "%.4g", end.loss)) after \(end.iterations) iterations, \(String(format: "%.1f", end.seconds)) s")
        }
        print("report: \(directory.appendingPathComponent("index.html").path)")
    }

    /// The progress lines of a run: each point found, and at most every few seconds the work in hand.
    private func progress() -> (SaddlesProgress) -> Void {
        let began = Date()
        var lastLine = Date.distantPast
        return { event in
            guard !quiet else { return }
            switch event {
            case .point(let p, let done, let total):
                status("point \(done)/\(total) (trajectory \(p.trajectory), step \(p.step)): \(p.kind.rawValue), loss \(String(format: "%.4g", p.loss)), error \(String(format: "%.1f", 100 * p.trainingError))%, |g| \(String(format: "%.2g", p.gradientNorm)), index \(String(format: "%.2f", 100 * p.index.index))%, \(formatDuration(Date().timeIntervalSince(began))) elapsed")
            case .skipped(let name):
                status("\(name): already done")
            case .search(let t, let step, let iteration, let norm):
                if Date().timeIntervalSince(lastLine) >= 10 {
                    lastLine = Date()
                    status("  search from trajectory \(t), step \(step): iteration \(iteration), |g| \(String(format: "%.2g", norm))")
                }
            case .trajectory(let t, let step, let total):
                if Date().timeIntervalSince(lastLine) >= 10 {
                    lastLine = Date()
                    status("  SGD trajectory \(t): step \(step)/\(total)")
                }
            case .optimizer(let optimizer, let start, let iteration, let total, let loss):
                if Date().timeIntervalSince(lastLine) >= 5 || iteration + 1 >= total {
                    lastLine = Date()
                    status("  \(optimizer.displayName), start \(start): iteration \(iteration)/\(total), loss \(String(format: "%.4g", loss))")
                }
            }
        }
    }
}

extension ActivationFunction: ExpressibleByArgument {}
