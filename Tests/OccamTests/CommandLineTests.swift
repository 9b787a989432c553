import Foundation
import OccamData
import OccamExperiments
import Testing

/// The `occam` executable built beside the test bundle (`swift test` builds every product).
func occamExecutable() throws -> URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [directory, directory.deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent()]
        .map { $0.appendingPathComponent("occam") }
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "no occam executable near \(directory.path)")
}

/// Runs `occam arguments` in `directory`: exit status, standard output, standard error.
func occam(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = try occamExecutable()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    // Standard error goes to a file, standard output to a pipe read to its end: neither can fill up and block.
    let errorFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-stderr-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errors = try FileHandle(forWritingTo: errorFile)
    defer { try? errors.close() }
    let output = Pipe()
    (process.standardOutput, process.standardError) = (output, errors)
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), try String(contentsOf: errorFile, encoding: .utf8))
}

@Suite("The command line: streams, help, negative numbers, machine-readable output", .serialized)
struct CommandLineTests {
    @Test func sharedOptionHelpNamesOnlyTheCommandsOwnDefaults() throws {
        let connectivity = try occam(["connectivity", "--help"]).output
        #expect(!connectivity.contains("randomize") && !connectivity.contains("double-descent"))
        #expect(connectivity.contains("default lenet-300-100") && connectivity.contains("(default 60)"))
        let randomize = try occam(["randomize", "--help"]).output
        #expect(randomize.contains("default mlp") && randomize.contains("(default 128)") && !randomize.contains("lenet-300-100"))
        let sweep = try occam(["double-descent", "networks", "--help"]).output
        #expect(sweep.contains("The widths to sweep") && !sweep.contains("randomize"))
    }

    @Test func discussionsWrapAsParagraphs() throws {
        for command in [["help", "min-norm"], ["help", "bench", "train"]] {
            let help = try occam(command).output
            let discussion = help.components(separatedBy: "USAGE:")[0]
            for paragraph in discussion.components(separatedBy: "\n\n").dropFirst() where !paragraph.isEmpty {
                let lines = paragraph.split(separator: "\n")
                // Every line but a paragraph's last is filled to near the 80-column width: no hard breaks.
                for line in lines.dropLast() { #expect(line.count >= 60, "\(command): \"\(line)\"") }
            }
        }
    }

    @Test func negativeNumbersAfterASpaceReachTheRangeCheck() throws {
        for (command, option) in [("train", "--lr"), ("train", "--momentum"), ("train", "--weight-decay"), ("lottery", "--levels"),
                                  ("kernel", "--bandwidth"), ("memorize", "--samples"), ("simplicity", "--draws"), ("simplicity", "--sigma-w"),
                                  ("simplicity", "--depth")] {
            let result = try occam([command, option, "-1"])
            #expect(result.status != 0)
            #expect(result.errors.contains("\(option)") && !result.errors.contains("Missing value"), "\(result.errors)")
        }
    }

    @Test func curvatureStudiesRefuseImpossibleOptionsBeforeMakingARunDirectory() throws {
        let directory = try makeTemporaryDirectory("refusals")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [([String], String)] = [
            (["evidence", "--checkpoint", "missing.safetensors", "--top", "0"], "--top"),
            (["evidence", "--checkpoint", "missing.safetensors", "--prior-precision", "0"], "--prior-precision"),
            (["flatness", "--alphas", "1"], "--alphas"),
            (["flatness", "--batch-sizes", "64"], "--batch-sizes"),
            (["double-descent", "networks", "--curvature", "--curvature-samples", "0"], "--curvature-samples"),
        ]
        for (arguments, option) in cases {
            let result = try occam(arguments + ["--out", "runs"], in: directory)
            #expect(result.status != 0)
            #expect(result.errors.contains(option), "\(arguments): \(result.errors)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("runs").path))
    }

    @Test func benchJSONHasNumbersAndBenchTakesStepsAsEverywhere() throws {
        let result = try occam(["bench", "train", "--steps", "10it", "--batch-size", "4", "--json"])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["occam_samples_per_second"] is NSNumber && object["occam_seconds_per_step"] is NSNumber)
        #expect((object["batch_size"] as? NSNumber)?.intValue == 4 && (object["steps"] as? NSNumber)?.intValue == 10)
        #expect(!(object["occam_samples_per_second"] is String))
        #expect(try occam(["bench", "train", "--steps", "2ep"]).status != 0)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func progressGoesToStandardErrorResultsToStandardOutputAndConfigRecordsTheRun() throws {
        let root = try makeTemporaryDirectory("command-line")
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["train", "--steps", "20it", "--eval-every", "10it", "--train-size", "200", "--validation-count", "100",
                         "--batch-size", "20", "--out", root.path]
        let result = try occam(arguments)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("Run directory:") && result.errors.contains("step 20/20"))
        #expect(!result.output.contains("Run directory:") && !result.output.contains("step 20/20") && !result.output.isEmpty)
        // config.json: the configuration's keys, the precision, Occam's version and commit, the command line.
        let run = try #require(try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil).first)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any])
        #expect(config["precision"] as? String == "float32" && config["model"] as? String == "lenet-300-100")
        let occam = try #require(config["occam"] as? [String: Any])
        #expect(occam["version"] as? String == Provenance.occamVersion)
        #expect((occam["commandLine"] as? [String]).map { Array($0.dropFirst()) } == arguments)
        #expect((occam["commit"] as? String).map { $0.count == 40 } ?? true)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func theKernelTableLinesUpOnLinux() throws {
        let root = try makeTemporaryDirectory("kernel-table")
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try occam(["kernel", "--train-sizes", "50", "--ridge", "0", "--no-random-labels", "--out", root.path, "--quiet"])
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.contains("labels") }), row = try #require(lines.first { $0.hasPrefix("    50  ") })
        func column(_ line: String, _ range: Range<Int>) -> String { String(Array(line)[range]) }
        #expect(column(header, 8..<16) == "labels  " && column(row, 8..<16) == "true    ")
        #expect(column(header, 16..<25) == "ridge    " && column(row, 16..<25) == "0        ")
        #expect(row.hasSuffix(" GB"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func versionAndRerunFromConfigJSON() throws {
        let version = try occam(["--version"])
        #expect(version.status == 0 && version.output.hasPrefix("occam \(Provenance.occamVersion)"))
        let root = try makeTemporaryDirectory("rerun")
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["train", "--steps", "10it", "--eval-every", "10it", "--train-size", "100", "--validation-count", "50",
                         "--batch-size", "10", "--out", "runs"]
        #expect(try occam(arguments, in: root).status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent("runs"), includingPropertiesForKeys: nil).first)
        let summary = try Data(contentsOf: run.appendingPathComponent("summary.json"))
        // From elsewhere: the recorded command runs again in its own directory, finds the finished run, keeps it.
        let dryRun = try occam(["rerun", run.path, "--dry-run"])
        #expect(dryRun.output == "cd \(root.path) && occam " + arguments.joined(separator: " ") + "\n")
        let rerun = try occam(["rerun", run.path])
        #expect(rerun.status == 0, "\(rerun.errors)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("runs").path).count == 1)
        #expect(try Data(contentsOf: run.appendingPathComponent("summary.json")) == summary)
        #expect(try occam(["rerun", root.path]).status != 0)
    }

    @Test func reproduceListsEveryClaimAndRejectsAnUnknownOne() throws {
        let listing = try occam(["reproduce", "--list"])
        #expect(listing.status == 0)
        for claim in reproductionClaims {
            #expect(listing.output.contains(claim.id) && listing.output.contains(claim.commandLine(.paper)) && listing.output.contains(claim.rule.text))
        }
        let unknown = try occam(["reproduce", "no-such-claim"])
        #expect(unknown.status != 0 && unknown.errors.contains("unknown claim \"no-such-claim\"") && unknown.errors.contains("--list"))
    }

    /// Every claim's study arguments parse and validate at both scales (a claim whose options a study no longer
    /// takes fails here), and with no finished study every claim is reported as not measured.
    @Test func reproduceParsesEveryClaimsStudyAndReportsUnfinishedOnesAsNotMeasured() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-reproduce-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for scale in ReproductionScale.allCases {
            let result = try occam(["reproduce", "--scale", scale.rawValue, "--finished-only", "--out", directory.path])
            #expect(result.status == 0, "\(scale): \(result.errors)")
            #expect(result.output.contains("\(reproductionClaims.count) claims: \(reproductionClaims.count) not measured."))
            let csv = try String(contentsOf: directory.appendingPathComponent("reproduce-\(scale.rawValue)/reproduce.csv"), encoding: .utf8)
            #expect(csv.split(separator: "\n").count == reproductionClaims.count + 1)
        }
    }
}
