import Foundation
import OccamData
@testable import OccamExperiments
import OccamNN
import Testing

/// Runs `python3 -c script arguments...`: exit status and standard output.
private func python(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

private let tensorBoardInstalled = (try? python("import tensorboard").status) == 0

@Suite("TensorBoard export of the scalar metrics")
struct TensorBoardExportTests {
    @Test func recordsAreFramedWithMaskedCRC32C() {
        // CRC-32C's check value (RFC 3720, iSCSI): "123456789" -> 0xE3069283.
        #expect(TensorBoardEventFile.crc32c(Data("123456789".utf8)) == 0xE306_9283)
        #expect(TensorBoardEventFile.crc32c(Data(repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(TensorBoardEventFile.varint(300) == Data([0xAC, 0x02]))
    }

    @Test(.enabled(if: tensorBoardInstalled, "needs Python's tensorboard package (pip install tensorboard)"))
    func tensorBoardReadsBackEveryScalar() throws {
        var configuration = blobTraining(steps: 30)
        configuration.schedule = .multiStep(milestones: [15], gamma: 0.1)
        let root = try makeTemporaryDirectory("tensorboard")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        var trainer = try Trainer(configuration: configuration, data: blobData(configuration)(3), directory: run)
        trainer.logTrainingEvery = TrainingDuration(iterations: 10)
        try trainer.run()
        #expect(try TensorBoardExport.export(root) == ["run"])
        let records = try RunStore.readJSONLines(EvaluationRecord.self, from: run.appendingPathComponent("metrics.jsonl"))

        let script = """
            import json, sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            accumulator = EventAccumulator(sys.argv[1]); accumulator.Reload()
            print(json.dumps({tag: [[e.step, e.value] for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}))
            """
        let result = try python(script, [root.appendingPathComponent("tensorboard/run").path])
        #expect(result.status == 0)
        let scalars = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [[Double]]])
        for split in Set(records.map(\.split)) {
            let expected = records.filter { $0.split == split }
            #expect(scalars["\(split)/loss"]?.map { $0[0] } == expected.map { Double($0.step) }, "\(split)")
            // Float32 values (Foundation's JSON parser rounds the last digit of Python's 17-digit doubles).
            #expect(scalars["\(split)/loss"]?.map { Float($0[1]) } == expected.map { Float($0.loss) }, "\(split)")
            #expect(scalars["\(split)/accuracy"]?.map { Float($0[1]) } == expected.map { Float($0.accuracy) }, "\(split)")
        }
        #expect(scalars["train-batches/learning_rate"]?.map { Float($0[1]) } == [0.01, 0.001, 0.001])
    }
}
