import Foundation
import OccamData

/// sbatch settings of a submission's array tasks; `extraOptions` go to both jobs.
struct SlurmSettings: Equatable {
    var partition: String?
    var time: String?
    var cpusPerTask: Int?
    var memory: String?
    /// The array's `%N` throttle: tasks running at once.
    var maxParallel: Int?
    var extraOptions: [String] = []
}

/// A study's Slurm submission: RUN_DIR/slurm/units.sh, an array job with one task per unfinished unit (each
/// runs this occam with the study's command line and `--unit $SLURM_ARRAY_TASK_ID`), and RUN_DIR/slurm/report.sh,
/// the study's command line alone in a job that starts when every task succeeded: it finds every unit finished
/// and writes what a local run writes at the study level (steps across units such as `--ensemble`, tables,
/// plots, the report). Logs go to RUN_DIR/slurm/logs/.
struct SlurmSubmission {
    /// The run directory (on a file system the nodes share).
    var directory: URL
    /// The unfinished units: the array's indices.
    var units: [Int]
    var unitCount: Int
    /// The study command's arguments without the cluster options ("lottery", "--levels", "2", ...).
    var taskArguments: [String]
    var settings: SlurmSettings
    /// The occam executable the jobs run (it must be reachable from the nodes too).
    var executable = SlurmSubmission.currentExecutable
    /// The directory the tasks start in: the submitter's, so that relative paths (--out) mean the same.
    var workingDirectory = FileManager.default.currentDirectoryPath

    var slurmDirectory: URL { directory.appendingPathComponent("slurm") }
    var logDirectory: URL { slurmDirectory.appendingPathComponent("logs") }

    /// units.sh: the array job, or nil when every unit has finished.
    func unitsScript() -> String? {
        guard !units.isEmpty else { return nil }
        let throttle = settings.maxParallel.map { "%\($0)" } ?? ""
        var options = [
            "--job-name=occam-\(taskArguments.first ?? "study")", "--array=\(units.map(String.init).joined(separator: ","))\(throttle)",
            "--output=\(logDirectory.path)/unit-%a-job-%A.log", "--chdir=\(workingDirectory)",
        ]
        options += [
            settings.partition.map { "--partition=\($0)" }, settings.time.map { "--time=\($0)" },
            settings.cpusPerTask.map { "--cpus-per-task=\($0)" }, settings.memory.map { "--mem=\($0)" },
        ].compactMap { $0 }
        options += settings.extraOptions
        let command = ([executable] + taskArguments).map(Self.shellQuoted).joined(separator: " ")
        return Self.script(options: options, command: command + " --unit \"$SLURM_ARRAY_TASK_ID\"")
    }

    /// report.sh: the study's command without `--unit`, which skips the finished units and writes the study-level files.
    func reportScript() -> String {
        let options = [
            "--job-name=occam-report", "--output=\(logDirectory.path)/report-job-%j.log", "--chdir=\(workingDirectory)",
        ] + (settings.partition.map { ["--partition=\($0)"] } ?? []) + settings.extraOptions
        return Self.script(options: options, command: ([executable] + taskArguments).map(Self.shellQuoted).joined(separator: " "))
    }

    /// Writes the scripts and submits them (or, with `dryRun`, prints the sbatch commands), printing the job ids
    /// and how to follow them.
    /// - Throws: `SlurmSubmissionError` when sbatch is missing or refuses a job; `ResultFileError`.
    func submit(dryRun: Bool) throws {
        try ResultFiles.prepareDirectory(logDirectory)
        let reportURL = slurmDirectory.appendingPathComponent("report.sh")
        try ResultFiles.write(Data(reportScript().utf8), to: reportURL)
        let unitsURL = slurmDirectory.appendingPathComponent("units.sh")
        let script = unitsScript()
        if let script { try ResultFiles.write(Data(script.utf8), to: unitsURL) }
        let pending = units.count
        print("Run directory: \(directory.path)")
        print("\(pending) of \(unitCount) unit\(unitCount == 1 ? "" : "s") unfinished\(pending == 0 ? ": only the report job is needed" : "")")
        if dryRun {
            if script != nil { print("Would submit: sbatch \(unitsURL.path)") }
            print("Would submit: sbatch\(script != nil ? " --dependency=afterok:<array job> --kill-on-invalid-dep=yes" : "") \(reportURL.path)")
            return
        }
        var dependency: [String] = []
        if script != nil {
            let arrayJob = try Self.sbatch([unitsURL.path])
            print("Submitted array job \(arrayJob) (tasks \(units.map(String.init).joined(separator: ",")))")
            dependency = ["--dependency=afterok:\(arrayJob)", "--kill-on-invalid-dep=yes"]
        }
        let reportJob = try Self.sbatch(dependency + [reportURL.path])
        print("Submitted report job \(reportJob)\(script != nil ? ", which starts when every task has succeeded" : "")")
        print("Follow them: squeue --me; tail -f \(logDirectory.path)/*.log")
        print("When the report job has finished: \(directory.appendingPathComponent("index.html").path). If a task failed, run this command again: it submits only the unfinished units.")
    }

    /// Runs `sbatch --parsable ARGUMENTS`; the job id it prints.
    static func sbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch", "--parsable"] + arguments
        let output = Pipe(), errors = Pipe()
        (process.standardOutput, process.standardError) = (output, errors)
        do { try process.run() } catch { throw SlurmSubmissionError.sbatchMissing }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 { throw SlurmSubmissionError.sbatchMissing }
        // --parsable prints "id" or "id;cluster".
        let id = String(decoding: printed, as: UTF8.self).split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard process.terminationStatus == 0, !id.isEmpty else {
            throw SlurmSubmissionError.refused(arguments.last ?? "", reason: complaint.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return id
    }

    static func script(options: [String], command: String) -> String {
        "#!/bin/bash\n" + options.map { "#SBATCH \($0)\n" }.joined() + "set -euo pipefail\n" + command + "\n"
    }

    /// `text` in single quotes for bash.
    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// This process's executable, as an absolute path.
    static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

enum SlurmSubmissionError: Error, CustomStringConvertible {
    case sbatchMissing
    case refused(String, reason: String)

    var description: String {
        switch self {
        case .sbatchMissing:
            "sbatch is not on PATH: --slurm submits from a Slurm login node (or use --slurm --dry-run to only write the scripts)"
        case let .refused(script, reason):
            "sbatch refused \(script): \(reason.isEmpty ? "no reason given" : reason). The scripts stay in place; fix the option and run the command again"
        }
    }
}
