import Foundation
import OccamData
import OccamExperiments
import OccamTensor
import Testing

@Suite("Minimum-norm interpolation by SGD (Zhang et al. Sec. 5)")
struct MinimumNormTests {
    @Test func sgdFromZeroReachesThePseudoInverseSolutionInFloat64() throws {
        let problem = SyntheticProblems.gaussianRegression(samples: 50, features: 200, seed: 3, as: Double.self)
        let result = try MinimumNormInterpolation(inputs: problem.inputs, targets: problem.targets, epochs: 300, seed: 3).run()
        let zero = try #require(result.outcomes.first { $0.start == .zero })
        #expect(zero.relativeDistanceToMinimumNorm < 1e-12)
        #expect(zero.relativeNullSpaceComponent < 1e-12)
        #expect(zero.trainingResidual < 1e-12)
        #expect(result.pseudoInverseRank == 50)

        // From a random start SGD interpolates too, but keeps the start's null-space component: the
        // measured distance equals the predicted one, and the limit is X⁺Y + (I - X⁺X)W₀.
        let random = try #require(result.outcomes.first { $0.start == .random })
        #expect(random.trainingResidual < 1e-12)
        #expect(random.predictedRelativeDistance > 0.1)
        #expect(abs(random.relativeDistanceToMinimumNorm - random.predictedRelativeDistance) < 1e-10)
        #expect(random.relativeDistanceToPredictedLimit < 1e-12)
    }

    @Test func float32ConvergesToItsPrecision() throws {
        let problem = SyntheticProblems.gaussianRegression(samples: 20, features: 60, outputs: 2, seed: 5, as: Float.self)
        let result = try MinimumNormInterpolation(inputs: problem.inputs, targets: problem.targets, epochs: 200, seed: 5).run()
        #expect(result.precision == "float32")
        #expect(result.outcomes[0].relativeDistanceToMinimumNorm < 1e-4)
        #expect(abs(result.outcomes[1].relativeDistanceToMinimumNorm - result.outcomes[1].predictedRelativeDistance) < 1e-3)
    }

    @Test func resultFilesAreWrittenAtomically() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-results-\(UInt32.random(in: 0...UInt32.max))")
        try ResultFiles.prepareDirectory(directory)
        let file = directory.appendingPathComponent("result.json")
        try ResultFiles.writeJSON(["a": 1], to: file)
        try ResultFiles.writeJSON(["a": 2], to: file)
        #expect(try String(contentsOf: file, encoding: .utf8).contains("\"a\" : 2"))
        try ResultFiles.writeJSONLines([["x": 1], ["x": 2]], to: directory.appendingPathComponent("metrics.jsonl"))
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines == ["{\"x\":1}", "{\"x\":2}"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["metrics.jsonl", "result.json"])
        try FileManager.default.removeItem(at: directory)
    }
}
