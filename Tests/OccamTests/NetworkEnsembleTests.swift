import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamExperiments

@Suite("Ensembles of a width sweep's replicates")
struct NetworkEnsembleTests {
    @Test func theEnsembleAveragesTheReplicatesSoftmaxAndResumes() throws {
        let root = try makeTemporaryDirectory("network-ensembles")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = DoubleDescentTests.blobSweep(replicates: 3)
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        var study = DoubleDescentNetworksStudy(configuration: configuration, directory: directory, data: blobData(configuration.training))
        study.ensemble = true
        try study.run()

        // Each width against softmax, mean and argmax done here on plain arrays from the final checkpoints.
        let test = blobData(configuration.training)(configuration.seed(ofReplicate: 0)).test
        for width in configuration.widths {
            let record = try RunStore.readJSON(NetworkEnsembleRecord.self, from: directory.appendingPathComponent(NetworkEnsembleRecord.path(width: width)))
            var mean = [[Double]](repeating: [Double](repeating: 0, count: 3), count: test.count)
            var memberErrors: [Double] = []
            for replicate in 0..<3 {
                let model = try configuration.training(width: width, replicate: replicate).buildModel(inputShape: test.imageShape, classes: 3, as: Double.self)
                let final = try TrainingCheckpoint<Double>.read(
                    from: directory.appendingPathComponent(NetworkWidthRun(replicate: replicate, width: width).path).appendingPathComponent("final.safetensors"))
                let logits = DoubleDescentTests.rows(model.logits(test.images, parameters: final.parameters, buffers: final.buffers))
                var wrong = 0
                for (i, row) in logits.enumerated() {
                    let exps = row.map { Foundation.exp($0 - row.max()!) }
                    let probabilities = exps.map { $0 / exps.reduce(0, +) }
                    for k in 0..<3 { mean[i][k] += probabilities[k] / 3 }
                    if row.firstIndex(of: row.max()!) != test.labels[i] { wrong += 1 }
                }
                memberErrors.append(Double(wrong) / Double(test.count))
            }
            let ensembleWrong = zip(mean, test.labels).filter { row, label in row.firstIndex(of: row.max()!) != label }.count
            #expect(record.width == width && record.memberTestErrors == memberErrors)
            #expect(record.testError == Double(ensembleWrong) / Double(test.count), "width \(width)")
        }

        // The report draws the ensemble beside the single networks; a second run measures nothing again.
        try DoubleDescentNetworksReport(directory: directory).build()
        let csv = try String(contentsOf: directory.appendingPathComponent("ensemble.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + configuration.widths.count)
        #expect(try String(contentsOf: directory.appendingPathComponent("test-error.svg"), encoding: .utf8).contains("ensemble of 3"))
        var measured: [String] = []
        try study.run { event in if case let .stageFinished(name, _, skipped) = event, !skipped { measured.append(name) } }
        #expect(measured.isEmpty)
    }

    @Test func sentencesSayHowMuchOfThePeakTheEnsembleRemoves() {
        func row(_ width: Int, ensemble: Double, _ singles: [Double]) -> NetworksEnsembleReport.Row {
            NetworksEnsembleReport.Row(width: width, ensembleError: ensemble, singleErrors: Spread(singles))
        }
        // Single networks rise 10 points from width 8 to 48, the ensemble 4: 60% of the peak removed.
        let report = NetworksEnsembleReport(rows: [row(8, ensemble: 20, [20.9, 21, 21.1]), row(48, ensemble: 24, [31, 32, 30]), row(512, ensemble: 19, [19, 19.2, 18.8])])
        let text = report.sentences(minimum: 8, peak: 48).joined(separator: " ")
        #expect(text.contains("at 2 of 3 widths (8, 48)"))
        #expect(text.contains("rises 10.0 points above the minimum for single networks and 4.0 for the ensemble: ensembling removes 60% of it."))
        let single = NetworksEnsembleReport(rows: [row(8, ensemble: 20, [21]), row(48, ensemble: 24, [31])])
        let lone = single.sentences(minimum: 8, peak: 48).joined(separator: " ")
        #expect(lone.contains("Too few replicates to tell whether the ensemble beats its members (n = 1)."))
        #expect(lone.contains("too few replicates to tell whether the difference at the peak is real"))
    }
}
