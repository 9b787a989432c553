import Foundation
import OccamData
import Testing

/// Each study's units run one by one (`--unit I`, as Slurm's array tasks run them), followed by the command alone
/// (as the report job runs it, finding every unit finished),
/// against a local run of the whole study: the same results, bit for bit. Needs no Slurm.
@Suite("Studies run unit by unit equal the local run", .serialized)
struct UnitRunTests {
    /// Runs `arguments` locally, then unit by unit in a second directory plus the command alone, and compares.
    private func expectUnitsEqualTheLocalRun(
        _ arguments: [String], units expectedUnits: Int, _ purpose: String, studyFiles: [String] = ["summary.json"]
    ) throws {
        let root = try makeTemporaryDirectory(purpose)
        defer { try? FileManager.default.removeItem(at: root) }
        let local = try occam(arguments + ["--out", "local", "--quiet"], in: root)
        try #require(local.status == 0, "local run failed: \(local.errors)")
        let listed = try occam(arguments + ["--out", "units", "--units"], in: root)
        let units = listed.output.split(separator: "\n")
        try #require(units.count == expectedUnits, "--units listed \(units.count) units: \(listed.output)\(listed.errors)")
        #expect(units.allSatisfy { $0.hasSuffix("\tunfinished") })
        // In reverse order: a unit must not need the ones before it.
        for unit in (0..<expectedUnits).reversed() {
            let ran = try occam(arguments + ["--out", "units", "--unit", String(unit), "--quiet"], in: root)
            try #require(ran.status == 0, "unit \(unit) failed: \(ran.errors)")
        }
        let run = try runDirectory(under: root.appendingPathComponent("units"))
        for file in studyFiles {
            #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "a unit wrote the study-level \(file)")
        }
        let relisted = try occam(arguments + ["--out", "units", "--units"], in: root).output.split(separator: "\n")
        #expect(relisted.allSatisfy { $0.hasSuffix("\tfinished") })
        let report = try occam(arguments + ["--out", "units", "--quiet"], in: root)
        try #require(report.status == 0, "the study-level step failed: \(report.errors)")
        #expect(!report.errors.contains("training"), "the study-level step trained again: \(report.errors)")
        let expected = try comparableResults(of: try runDirectory(under: root.appendingPathComponent("local")))
        let actual = try comparableResults(of: run)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for (path, contents) in expected { #expect(actual[path] == contents, "\(path) differs from the local run's") }
        for file in studyFiles { #expect(expected.keys.contains(file), "the local run wrote no \(file)") }
    }

    @Test func randomizeConditionsAndReplicates() throws {
        try expectUnitsEqualTheLocalRun(
            ["randomize", "--model", "mlp", "--widths", "8", "--train-size", "200", "--validation-count", "100", "--steps", "30it",
             "--eval-every", "10it", "--replicates", "1"],
            units: 9, "units-randomize")
    }

    @Test func criticalPeriodRuns() throws {
        try expectUnitsEqualTheLocalRun(
            ["critical-period", "--model", "mlp", "--widths", "8", "--train-size", "200", "--validation-count", "100",
             "--lengths", "0,1", "--window-onsets", "1", "--window-length", "1", "--epochs-after", "1", "--replicates", "1", "--jobs", "2"],
            units: 3, "units-critical-period")
    }

    /// The ensemble averages the replicates of a width, so no unit can write it: the study-level step does.
    @Test func doubleDescentWidthsWithTheirEnsembles() throws {
        try expectUnitsEqualTheLocalRun(
            ["double-descent", "networks", "--widths", "2,4", "--replicates", "2", "--train-size", "200", "--steps", "20it",
             "--evaluations-per-decade", "2", "--jobs", "1", "--ensemble"],
            units: 4, "units-double-descent-ensemble", studyFiles: ["summary.json", "ensemble/width-2.json", "ensemble/width-4.json"])
    }

    /// A replicate's perturbation runs start from its dense run and mask, so the replicate is the unit.
    @Test func earlyPhaseReplicates() throws {
        try expectUnitsEqualTheLocalRun(
            ["early-phase", "--model", "mlp", "--widths", "8", "--train-size", "200", "--steps", "20it", "--eval-every", "10it", "--rewind-iterations", "0,10",
             "--perturbations", "ticket,permuted", "--levels", "1", "--replicates", "2", "--jobs", "2"],
            units: 2, "units-early-phase")
    }

    /// A replicate's spawn points share its parent, and the different-init pair shares a copy with spawn 0.
    @Test func connectivityReplicates() throws {
        try expectUnitsEqualTheLocalRun(
            ["connectivity", "--model", "mlp", "--widths", "8", "--train-size", "200", "--steps", "20it", "--eval-every", "10it", "--spawn-step", "0it,10it",
             "--points", "3", "--different-init", "--train-eval-size", "100", "--replicates", "2"],
            units: 2, "units-connectivity")
    }

    @Test func kernelFits() throws {
        try expectUnitsEqualTheLocalRun(
            ["kernel", "--train-sizes", "40,80", "--ridge", "0.1"], units: 6, "units-kernel", studyFiles: ["kernel.csv"])
    }

    @Test func doubleDescentFeaturePoints() throws {
        try expectUnitsEqualTheLocalRun(
            ["double-descent", "features", "--train-sizes", "40,80", "--feature-counts", "20,60", "--replicates", "2"],
            units: 4, "units-double-descent-features", studyFiles: ["double-descent.csv", "fits.csv"])
    }

    @Test func flatnessNetworks() throws {
        try expectUnitsEqualTheLocalRun(
            ["flatness", "--widths", "8", "--train-size", "128", "--steps", "2ep", "--eval-every", "1ep", "--batch-sizes", "32,128",
             "--replicates", "2", "--curvature-samples", "64", "--alphas", "2", "--top", "2", "--trace-products", "6", "--jobs", "2"],
            units: 4, "units-flatness")
    }

    /// A trajectory's searches start from its points, so a trajectory and its searches are one unit; each
    /// compared optimizer from each start is another.
    @Test func saddlesTrajectoriesAndComparedOptimizers() throws {
        try expectUnitsEqualTheLocalRun(
            ["saddles", "--samples", "40", "--image-size", "3", "--components", "0", "--widths", "3", "--trajectories", "2", "--snapshots", "0,20",
             "--batch-size", "10", "--search-iterations", "20", "--compare-optimizers", "--newton-iterations", "3", "--sgd-iterations", "20",
             "--sgd-probes", "2"],
            units: 5, "units-saddles", studyFiles: ["summary.json", "data.json", "points.csv"])
    }

    /// Every chunk merges into the one functions.bin, so the sampling is one unit; each robustness length is another.
    @Test func simplicitySamplingAndRobustnessLengths() throws {
        try expectUnitsEqualTheLocalRun(
            ["simplicity", "--input-size", "3", "--depth", "1", "--width", "4", "--draws", "3000", "--chunk-size", "1000",
             "--robustness-sizes", "8,16", "--robustness-networks", "2", "--robustness-inputs", "2", "--search-budget", "256", "--threads", "2"],
            units: 3, "units-simplicity")
    }

    static let distillation = [
        "distill", "--train-size", "200", "--steps", "20it", "--eval-every", "20it", "--widths", "8", "--teacher-widths", "16",
        "--teacher-steps", "60it", "--teacher-train-size", "300", "--replicates", "2", "--temperatures", "2,5", "--jobs", "1",
    ]

    /// Both units need the teacher: the first to run trains it, the second reads it back.
    @Test func distillationReplicates() throws {
        try expectUnitsEqualTheLocalRun(Self.distillation, units: 2, "units-distill", studyFiles: ["summary.json", "students.csv"])
    }

    /// Started at once, as Slurm starts an array: one unit trains the teacher while the other waits for it.
    @Test func distillationUnitsStartedTogetherShareOneTeacher() throws {
        let root = try makeTemporaryDirectory("units-distill-together")
        defer { try? FileManager.default.removeItem(at: root) }
        try #require(try occam(Self.distillation + ["--out", "local", "--quiet"], in: root).status == 0)
        let processes = try (0..<2).map { unit -> Process in
            let process = Process()
            process.executableURL = try occamExecutable()
            process.arguments = Self.distillation + ["--out", "units", "--unit", String(unit), "--quiet"]
            process.currentDirectoryURL = root
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
            try process.run()
            return process
        }
        for (unit, process) in processes.enumerated() {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "unit \(unit)")
        }
        try #require(try occam(Self.distillation + ["--out", "units", "--quiet"], in: root).status == 0)
        let expected = try comparableResults(of: try runDirectory(under: root.appendingPathComponent("local")))
        let actual = try comparableResults(of: try runDirectory(under: root.appendingPathComponent("units")))
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for (path, contents) in expected { #expect(actual[path] == contents, "\(path) differs from the local run's") }
    }

    /// --units only reads, so it lists the units while another process writes the run (here this test holds
    /// the whole run's lock, as a local run does); running a unit then waits for no one and is refused.
    @Test func unitsAreListedWhileAnotherProcessHoldsTheRun() throws {
        let root = try makeTemporaryDirectory("units-while-locked")
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["lottery", "--model", "mlp", "--widths", "8", "--train-size", "200", "--validation-count", "100",
                         "--steps", "10it", "--eval-every", "10it", "--levels", "1", "--replicates", "2", "--out", "runs"]
        try #require(try occam(arguments + ["--units"], in: root).status == 0)
        let run = try runDirectory(under: root.appendingPathComponent("runs"))
        let lock = try RunDirectoryLock(run)
        try withExtendedLifetime(lock) {
            let listed = try occam(arguments + ["--units"], in: root)
            #expect(listed.status == 0, "\(listed.errors)")
            #expect(listed.output.split(separator: "\n").count == 2)
            let unit = try occam(arguments + ["--unit", "0", "--quiet"], in: root)
            #expect(unit.status != 0)
        }
    }

    @Test func unitOutOfRangeNamesTheUnitsAndWritesNothing() throws {
        let root = try makeTemporaryDirectory("units-out-of-range")
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["lottery", "--model", "mlp", "--widths", "8", "--train-size", "200", "--validation-count", "100",
                         "--steps", "10it", "--eval-every", "10it", "--levels", "1", "--replicates", "2", "--out", "runs"]
        let result = try occam(arguments + ["--unit", "2"], in: root)
        #expect(result.status != 0)
        #expect(result.errors.contains("--unit 2: this study has 2 units (0-1); --units lists them"))
        let run = try runDirectory(under: root.appendingPathComponent("runs"))
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("replicate-0").path))
        let dryRun = try occam(arguments + ["--slurm", "--dry-run", "--slurm-max-parallel", "1", "--slurm-option=--account=lab"], in: root)
        #expect(dryRun.status == 0, "\(dryRun.errors)")
        let script = try String(contentsOf: run.appendingPathComponent("slurm/units.sh"), encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0,1%1\n") && script.contains("#SBATCH --account=lab\n"))
        #expect(script.hasSuffix("'--out' 'runs' --unit \"$SLURM_ARRAY_TASK_ID\"\n"))
        #expect(!script.contains("--dry-run") && !script.contains("--slurm"))
        let misuse = try occam(arguments + ["--slurm-time", "1:00"], in: root)
        #expect(misuse.status != 0 && misuse.errors.contains("--slurm-time applies to a Slurm submission: add --slurm."))
    }
}
