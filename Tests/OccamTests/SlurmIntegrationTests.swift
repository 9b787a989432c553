import Foundation
import Testing

/// Whether a Slurm answers here with an idle node (`scripts/local-slurm.sh start`, which `.ci/run` runs).
private let slurmAvailable: Bool = {
    guard let states = try? command("sinfo", ["-h", "-o", "%T"]), states.status == 0 else { return false }
    return states.output.split(separator: "\n").contains { ["idle", "mixed", "allocated"].contains($0) }
}()

/// Runs `executable arguments` (found on PATH); exit status and standard output.
private func command(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe()
    (process.standardOutput, process.standardError) = (output, FileHandle.nullDevice)
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The job ids in `occam --slurm`'s output ("Submitted array job 12 ...", "Submitted report job 13 ...").
private func submittedJobs(_ output: String) -> (array: String?, report: String?) {
    func id(after prefix: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
    }
    return (id(after: "Submitted array job "), id(after: "Submitted report job "))
}

/// Waits until none of `jobs` is pending or running (at most `limit` seconds).
private func waitForJobs(_ jobs: [String], limit: TimeInterval = 300) throws {
    let start = Date()
    while Date().timeIntervalSince(start) < limit {
        let queue = try command("squeue", ["-h", "-o", "%i", "-j", jobs.joined(separator: ",")])
        if queue.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
        Thread.sleep(forTimeInterval: 0.5)
    }
    Issue.record("Slurm jobs \(jobs) still queued after \(Int(limit)) s")
}

@Suite(
    "Studies as Slurm array jobs, against a real Slurm (scripts/local-slurm.sh start)", .serialized,
    .enabled(if: slurmAvailable, "no Slurm answers here (sinfo shows no idle node): run scripts/local-slurm.sh start as root, as .ci/run does"))
struct SlurmIntegrationTests {
    /// Runs `arguments` locally under one directory and through sbatch under another; both run directories.
    private func localAndSlurm(_ arguments: [String], _ purpose: String) throws -> (local: URL, slurm: URL, jobs: (array: String?, report: String?)) {
        let root = try makeTemporaryDirectory(purpose)
        let local = try occam(arguments + ["--out", "local", "--quiet"], in: root)
        #expect(local.status == 0, "local run failed: \(local.errors)")
        let submitted = try occam(arguments + ["--out", "slurm", "--slurm", "--slurm-time", "10:00"], in: root)
        #expect(submitted.status == 0, "submission failed: \(submitted.errors)")
        return (
            try runDirectory(under: root.appendingPathComponent("local")), try runDirectory(under: root.appendingPathComponent("slurm")),
            submittedJobs(submitted.output))
    }

    @Test func lotteryThroughSbatchEqualsTheLocalRun() throws {
        let arguments = ["lottery", "--model", "mlp", "--widths", "16", "--train-size", "300", "--validation-count", "100",
                         "--steps", "40it", "--eval-every", "20it", "--levels", "2", "--replicates", "2"]
        let (local, slurm, jobs) = try localAndSlurm(arguments, "slurm-lottery")
        let array = try #require(jobs.array), report = try #require(jobs.report)
        try waitForJobs([array, report])
        let expected = try comparableResults(of: local), actual = try comparableResults(of: slurm)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for (path, contents) in expected { #expect(actual[path] == contents, "\(path) differs from the local run's") }
        #expect(expected.keys.contains("lottery.csv") && expected.keys.contains("replicate-1/level-2/ticket/final.safetensors"))
        let logs = try FileManager.default.contentsOfDirectory(atPath: slurm.appendingPathComponent("slurm/logs").path)
        #expect(Set(logs) == ["unit-0-job-\(array).log", "unit-1-job-\(array).log", "report-job-\(report).log"])
    }

    /// A double-descent sweep whose first task is cancelled while it trains: the report job is dropped, running
    /// the command again submits that unit alone, and the results end identical to a local run.
    @Test func aCancelledTaskIsResubmittedAloneAndTheSweepEndsEqualToTheLocalRun() throws {
        let arguments = ["double-descent", "networks", "--widths", "2,8", "--replicates", "2", "--train-size", "300",
                         "--steps", "300it", "--evaluations-per-decade", "2", "--jobs", "1", "--ensemble"]
        let root = try makeTemporaryDirectory("slurm-double-descent")
        let first = try occam(arguments + ["--out", "slurm", "--slurm", "--slurm-max-parallel", "1"], in: root)
        #expect(first.status == 0, "submission failed: \(first.errors)")
        let jobs = submittedJobs(first.output)
        let array = try #require(jobs.array), report = try #require(jobs.report)
        let task = "\(array)_0"
        // Cancel task 0 once it runs, before it can finish (each run trains for seconds).
        let start = Date()
        while try command("squeue", ["-h", "-o", "%T", "-j", task]).output.trimmingCharacters(in: .whitespacesAndNewlines) != "RUNNING" {
            try #require(Date().timeIntervalSince(start) < 120, "task \(task) never ran")
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(try command("scancel", [task]).status == 0)
        try waitForJobs([array, report])
        let slurm = try runDirectory(under: root.appendingPathComponent("slurm"))
        let listed = try occam(arguments + ["--out", "slurm", "--units"], in: root).output
        #expect(listed.split(separator: "\n").map { $0.split(separator: "\t").last.map(String.init) ?? "" }
            == ["unfinished", "finished", "finished", "finished"])
        #expect(!FileManager.default.fileExists(atPath: slurm.appendingPathComponent("summary.json").path), "the report job ran after a failed task")

        let second = try occam(arguments + ["--out", "slurm", "--slurm"], in: root)
        #expect(second.status == 0, "resubmission failed: \(second.errors)")
        #expect(second.output.contains("1 of 4 units unfinished"))
        #expect(try String(contentsOf: slurm.appendingPathComponent("slurm/units.sh"), encoding: .utf8).contains("#SBATCH --array=0\n"))
        let again = submittedJobs(second.output)
        try waitForJobs([try #require(again.array), try #require(again.report)])

        let local = try occam(arguments + ["--out", "local", "--quiet"], in: root)
        #expect(local.status == 0, "local run failed: \(local.errors)")
        let expected = try comparableResults(of: try runDirectory(under: root.appendingPathComponent("local")))
        let actual = try comparableResults(of: slurm)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for (path, contents) in expected { #expect(actual[path] == contents, "\(path) differs from the local run's") }
        #expect(expected.keys.contains("replicate-0/width-8/final.safetensors"))
    }
}
