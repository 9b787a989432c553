import ArgumentParser
import Foundation
import OccamExperiments

/// The options every study command takes for running on a cluster: list the study's units, run one unit, or
/// submit the unfinished units as a Slurm array job followed by a report job (`SlurmSubmission`).
///
/// A study command adopts them with `@OptionGroup var cluster: ClusterOptions`, opens its run directory with
/// `access: cluster.access`, and before running the whole study locally calls
/// `if try cluster.handle(study, stages: ..., quiet: quiet) { return }`.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Run only unit I of the study (--units lists them): the same files, bit for bit, as its share of a local run, and no study-level files (the report job, or the same command without --unit, writes those).")
    var unit: Int?
    @Flag(help: "List the study's units of work (index, name, finished or not) and exit.") var units = false
    @Flag(help: "Submit the unfinished units as a Slurm array job and the study-level step (this command without --unit) as a job that waits for it; scripts and logs go to RUN_DIR/slurm/. The run directory must be on a file system every node shares.")
    var slurm = false
    @Option(help: "Slurm partition of the jobs (sbatch --partition).") var slurmPartition: String?
    @Option(help: "Time limit of each array task (sbatch --time, e.g. 2:00:00).") var slurmTime: String?
    @Option(help: "CPUs of each array task (sbatch --cpus-per-task).") var slurmCpusPerTask: Int?
    @Option(help: "Memory of each array task (sbatch --mem, e.g. 4G).") var slurmMem: String?
    @Option(help: "Array tasks running at once (the array's %N throttle).") var slurmMaxParallel: Int?
    @Option(parsing: .unconditionalSingleValue, help: "Another sbatch option for both jobs, e.g. --slurm-option=--account=lab (repeatable).")
    var slurmOption: [String] = []
    @Flag(help: "With --slurm: write the job scripts and print the sbatch commands without submitting.") var dryRun = false

    func validate() throws {
        if let unit, unit < 0 { throw ValidationError("--unit takes a unit index from 0 (--units lists them); got \(unit).") }
        if unit != nil && (units || slurm) {
            throw ValidationError("--unit runs one unit here; it cannot be combined with --units or --slurm (the array tasks add --unit themselves).")
        }
        if units && slurm { throw ValidationError("--units lists the units and exits; drop it to submit with --slurm.") }
        let slurmOnly = [
            ("--slurm-partition", slurmPartition != nil), ("--slurm-time", slurmTime != nil), ("--slurm-cpus-per-task", slurmCpusPerTask != nil),
            ("--slurm-mem", slurmMem != nil), ("--slurm-max-parallel", slurmMaxParallel != nil), ("--slurm-option", !slurmOption.isEmpty),
            ("--dry-run", dryRun),
        ].filter(\.1).map(\.0)
        if !slurm, let first = slurmOnly.first { throw ValidationError("\(first) applies to a Slurm submission: add --slurm.") }
        if let cpus = slurmCpusPerTask, cpus < 1 { throw ValidationError("--slurm-cpus-per-task must be at least 1; got \(cpus).") }
        if let parallel = slurmMaxParallel, parallel < 1 { throw ValidationError("--slurm-max-parallel must be at least 1; got \(parallel).") }
    }

    /// How this process opens the run directory: to list its units, one unit's share of it, or all of it.
    var access: RunAccess { units ? .reading : unit.map(RunAccess.unit) ?? .wholeRun }

    /// Lists, submits or runs one unit of `study` as the options ask; false when they ask none of it and the
    /// command runs the whole study itself. `stages` is the whole study's stage count, for the progress lines.
    /// - Throws: `ValidationError` for a unit the study does not have; `SlurmSubmissionError`.
    func handle<Study: UnitStudy>(_ study: Study, stages: Int, quiet: Bool) throws -> Bool {
        let names = study.unitNames
        if units {
            for (index, name) in names.enumerated() {
                print("\(index)\t\(name)\t\(study.isFinished(unit: index) ? "finished" : "unfinished")")
            }
            return true
        }
        if let unit {
            guard names.indices.contains(unit) else {
                throw ValidationError("--unit \(unit): this study has \(names.count) unit\(names.count == 1 ? "" : "s") (0-\(names.count - 1)); --units lists them.")
            }
            if !quiet { status("Unit \(unit) of \(names.count): \(names[unit])") }
            let reporter = StudyReporter(totalStages: max(1, (stages + names.count - 1) / names.count), quiet: quiet)
            try study.run(unit: unit) { reporter.handle($0) }
            return true
        }
        guard slurm else { return false }
        let submission = SlurmSubmission(
            directory: study.directory, units: study.unfinishedUnits, unitCount: names.count, taskArguments: Self.taskArguments(),
            settings: SlurmSettings(
                partition: slurmPartition, time: slurmTime, cpusPerTask: slurmCpusPerTask, memory: slurmMem,
                maxParallel: slurmMaxParallel, extraOptions: slurmOption))
        try submission.submit(dryRun: dryRun)
        return true
    }

    /// This process's command line without the cluster options: what each array task runs, with `--unit`.
    static func taskArguments(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> [String] {
        let flags: Set = ["--slurm", "--units", "--dry-run"]
        let valued: Set = [
            "--unit", "--slurm-partition", "--slurm-time", "--slurm-cpus-per-task", "--slurm-mem", "--slurm-max-parallel", "--slurm-option",
        ]
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if flags.contains(argument) || (valued.contains(name) && argument.contains("=")) {
                index += 1
            } else if valued.contains(argument) {
                index += 2
            } else {
                kept.append(argument)
                index += 1
            }
        }
        return kept
    }
}
