import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct CriticalPeriodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "critical-period",
        abstract: "Critical learning periods (Achille et al. 2019): final accuracy after an early input deficit, and the Fisher trace over training.",
        discussion: """
            Length sweep: for each of --lengths k, a network trains with the deficit (--deficit blur: each image \
            averaged over --blur-factor x --blur-factor blocks and scaled back up bilinearly; vertical-flip: upside \
            down, the paper's control) in epochs 0 ... k-1, then normally for --epochs-after more; k = 0 is the \
            reference without a deficit. Window sweep: a deficit of --window-length epochs starting at each of \
            --window-onsets, then --epochs-after normal epochs. Only training batches have the deficit; the test set \
            is seen as it is, every --eval-every. Every run logs the trace of the Fisher information every \
            --fisher-every on --fisher-samples training images.

            The paper's optimizer by default: SGD momentum 0.9, learning rate 0.075 x 0.97^epoch counted from the start \
            of training, weight decay 5e-4, batch 128; --restart-schedule starts the schedule again when the deficit \
            ends (later replications found this closes much of the gap). CPU scale: lenet-5 on 5,000 Fashion-MNIST \
            images, lengths 0,10,20,40, windows of 10 epochs at 0,10,20,30, 30 epochs after, 3 replicates; \
            `--dataset cifar10 --model resnet-20 --train-size 50000` is closer to the paper where CIFAR-10 is present.

            Runs are independent: --jobs N trains N at once (default: one per core), each on single-threaded BLAS, so \
            results do not depend on --jobs. Results: OUT/critical-period-<model>-<dataset>-<deficit>-<hash>/ with \
            replicate-<r>/deficit-<onset>-<length>/ per run, runs.csv, lengths.csv, windows.csv, fisher.csv, \
            summary.json, accuracy-vs-length.svg, accuracy-vs-onset.svg, fisher.svg and index.html. Running the same \
            command again skips finished runs and resumes unfinished ones from their latest epoch.
            """)

    @OptionGroup var training: TrainingOptions<CriticalPeriodRecipe>
    @Option(help: "The deficit: blur or vertical-flip.") var deficit: InputDeficit.Kind = .blur
    @Option(parsing: .unconditional, help: "Downsampling factor of the blur (4: 28x28 images seen at 7x7).") var blurFactor = 4
    @Option(help: "Deficit lengths in epochs from the start of training, comma-separated; 0 is the reference without a deficit.")
    var lengths = CriticalPeriodConfiguration.defaultDeficitLengths.map(String.init).joined(separator: ",")
    @Option(help: "Epochs at which the window sweep's deficits start, comma-separated (\"none\": no window sweep).")
    var windowOnsets = CriticalPeriodConfiguration.defaultWindowOnsets.map(String.init).joined(separator: ",")
    @Option(parsing: .unconditional, help: "Length in epochs of each window.") var windowLength = CriticalPeriodConfiguration.defaultWindowLength
    @Option(parsing: .unconditional, help: "Normal epochs after each deficit ends.") var epochsAfter = CriticalPeriodConfiguration.defaultEpochsAfter
    @Flag(help: "Restart the learning-rate schedule when the deficit ends (default: continue it, as the paper).") var restartSchedule = false
    @Option(help: "Evaluate on the test set this often (iterations or epochs).") var evalEvery = "1ep"
    @Option(parsing: .unconditional, help: "Independent replicates (seeds --seed, --seed+1, ...).") var replicates = 3
    @Option(parsing: .unconditional, help: "Runs trained at once (default: one per core).") var jobs: Int?
    @Option(parsing: .unconditional, help: "Seed of the first replicate.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func studyConfiguration() throws -> CriticalPeriodConfiguration {
        let recipe = try training.configuration(
            steps: "1ep", evalEvery: evalEvery, seed: seed, defaults: CriticalPeriodConfiguration.defaultTraining)
        var c = CriticalPeriodConfiguration(
            training: recipe, deficitLengths: try epochList(lengths, option: "--lengths"),
            windowOnsets: windowOnsets == "none" ? [] : try epochList(windowOnsets, option: "--window-onsets"),
            windowLength: windowLength, epochsAfter: epochsAfter)
        c.deficit = deficit
        c.blurFactor = blurFactor
        c.restartSchedule = restartSchedule
        c.replicates = replicates
        do { try c.validate() } catch let error as ExperimentError { throw ValidationError(error.description) }
        return c
    }

    func validate() throws {
        _ = try studyConfiguration()
        try validateJobs(jobs)
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let configuration = try studyConfiguration()
        let data = configuration.training.data
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let jobs = jobCount(self.jobs)
        let runs = configuration.runs.count
        if !quiet && cluster.unit == nil {
            let t = configuration.training
            let windows = configuration.windowOnsets.isEmpty
                ? "" : ", windows of \(configuration.windowLength) epochs at \(configuration.windowOnsets.map(String.init).joined(separator: ", "))"
            status("Critical period: \(t.model) on \(t.trainSize.map(String.init) ?? "all") \(t.dataset.displayName) images, \(configuration.deficit.rawValue) for \(configuration.deficitLengths.map(String.init).joined(separator: ", ")) epochs\(windows), then \(configuration.epochsAfter) epochs; \(configuration.replicates) replicates: \(runs) runs, \(jobs) at a time")
            status("Run directory: \(directory.path)")
        }
        var study = CriticalPeriodStudy<Scalar>(configuration: configuration, directory: directory) { seed in
            try PreparedData<Scalar>(data, seed: seed, directory: training.dataDirectory)
        }
        study.jobs = jobs
        study.logTrainingEvery = try training.logTrainingEvery()
        study.probes = try training.probes()
        if try cluster.handle(study, stages: runs, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: runs, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summary = try CriticalPeriodReport(directory: directory).build()
        print("\n onset  length  runs  final test accuracy (%)  change from no deficit (pp)  peak Fisher trace")
        for row in summary.deficits {
            print(String(format: "%6d  %6d  %4d  ", row.onset, row.length, row.runs)
                + spreadCell(row.testAccuracy, "%6.2f").padding(toLength: 23, withPad: " ", startingAt: 0) + "  "
                + changeCell(row.changeFromReference).padding(toLength: 27, withPad: " ", startingAt: 0) + "  "
                + spreadCell(row.peakFisherTrace, "%8.1f"))
        }
        print(summary.finding)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }
}

/// "-1.23 ± 0.45" (percentage points), "-1.23 (n=1)".
private func changeCell(_ change: Spread) -> String {
    guard change.count > 0, change.mean.isFinite else { return "-" }
    return String(format: "%+6.2f", change.mean) + (change.errorBar.map { String(format: " ± %5.2f", $0) } ?? " (n=1)")
}

/// "0,2,4": whole numbers of epochs, 0 or more.
private func epochList(_ text: String, option: String) throws -> [Int] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
        throw ValidationError("\(option) must be whole numbers of epochs, 0 or more, comma-separated (got \"\(text)\").")
    }
    return values.map { $0! }
}

extension InputDeficit.Kind: ExpressibleByArgument {}
