import ArgumentParser
import Foundation
import OccamExperiments

extension ReproductionScale: ExpressibleByArgument {}

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Put papers' numbers beside Occam's own measurements, each judged by a rule fixed in advance.",
        discussion: """
            Each claim names a paper's result, the Occam study that measures it (an existing command with fixed \
            options), how the cpu-scale protocol differs from the paper's, and a verdict rule. At --scale cpu each \
            study runs here (minutes to an hour on 2 cores; a study already finished under --out is read, not run \
            again). At --scale paper the studies use the papers' sizes: the commands are printed, to be run on a \
            cluster or in a long run, and any that finished under --out is measured. Results: \
            OUT/reproduce-<scale>/reproduce.csv and index.html. MNIST comes from scripts/fetch-data.sh mnist.
            """)

    @Argument(help: "Claims to check (default: all; see --list).") var claims: [String] = []
    @Option(help: "cpu or paper.") var scale: ReproductionScale = .cpu
    @Flag(help: "List the claims with their papers, protocols and verdict rules, and exit.") var list = false
    @Flag(help: "Run no study: measure only those already finished under --out.") var finishedOnly = false
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the table.") var quiet = false

    func selectedClaims() throws -> [ReproductionClaim] {
        let known = reproductionClaims.map(\.id)
        if let unknown = claims.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown claim \"\(unknown)\". Known claims: \(known.joined(separator: ", ")) (see `occam reproduce --list`).")
        }
        return claims.isEmpty ? reproductionClaims : reproductionClaims.filter { claims.contains($0.id) }
    }

    func validate() throws { _ = try selectedClaims() }

    func run() throws {
        let selected = try selectedClaims()
        if list {
            for claim in selected { printListing(claim) }
            return
        }
        let runsOnly = finishedOnly || scale == .paper
        var results: [ReproductionResult] = []
        var failures: [String] = []
        for (index, claim) in selected.enumerated() {
            if !quiet { status("[\(index + 1)/\(selected.count)] \(claim.id): \(claim.commandLine(scale))") }
            let start = Date()
            do {
                let arguments = (claim.arguments[scale] ?? []) + ["--out", out] + (quiet ? ["--quiet"] : [])
                var command = try Occam.parseAsRoot(arguments)
                guard let study = command as? StudyRunDirectory else {
                    throw ValidationError("claim \(claim.id): `\(claim.commandLine(scale))` is not a study command with a run directory")
                }
                let directory = URL(fileURLWithPath: out).appendingPathComponent(try study.runDirectoryName())
                if !runsOnly { try command.run() }
                let finished = FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path)
                let measured = finished ? try claim.measure(directory) : nil
                results.append(ReproductionResult(
                    claim: claim, scale: scale, measured: measured.flatMap { $0.count > 0 ? $0 : nil },
                    runDirectory: finished ? directory : nil, seconds: Date().timeIntervalSince(start)))
            } catch {
                // One claim's failure does not lose the others: it is reported and the exit status says so.
                status("claim \(claim.id) failed: \(error)")
                failures.append(claim.id)
                results.append(ReproductionResult(claim: claim, scale: scale, measured: nil, runDirectory: nil, seconds: Date().timeIntervalSince(start)))
            }
        }
        let directory = URL(fileURLWithPath: out).appendingPathComponent("reproduce-\(scale.rawValue)")
        let report = ReproductionReport(directory: directory, results: results)
        try report.write()
        printTable(results)
        print(report.summary)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
        if !failures.isEmpty {
            throw ValidationError("\(failures.count) claim(s) failed: \(failures.joined(separator: ", ")); their messages are above.")
        }
    }

    private func printListing(_ claim: ReproductionClaim) {
        print("\(claim.id)  (\(claim.source))")
        print("  claim:        \(claim.statement)")
        print("  paper:        \(claim.paperResult)")
        print("  measured:     \(claim.quantity)")
        print("  cpu scale:    \(claim.commandLine(.cpu))")
        for difference in claim.cpuDifferences { print("                - \(difference)") }
        print("  paper scale:  \(claim.commandLine(.paper))  (meant for a cluster or a long run)")
        print("  verdict rule: \(claim.rule.text)")
    }

    private func printTable(_ results: [ReproductionResult]) {
        // The claim column fits the longest identifier, so no two columns run together.
        let claimWidth = max(26, (results.map(\.claim.id.count).max() ?? 0) + 2)
        print("\n" + "claim".padding(toLength: claimWidth, withPad: " ", startingAt: 0)
              + "paper                                  Occam                          verdict")
        for r in results {
            print(r.claim.id.padding(toLength: claimWidth, withPad: " ", startingAt: 0)
                + r.claim.paperResult.prefix(38).padding(toLength: 39, withPad: " ", startingAt: 0)
                + (r.measured?.text(digits: 3) ?? "not measured").padding(toLength: 31, withPad: " ", startingAt: 0)
                + r.verdict.description)
        }
    }
}
