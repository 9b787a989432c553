import Foundation
import OccamNN
import OccamTensor
import Testing

/// Safetensors checkpoints: round trips, byte-exact determinism, one test per kind of corrupt file (files built
/// byte by byte here, independently of the writer), and interoperability with Python's safetensors library.
@Suite final class SafeTensorsTests {
    /// A fresh directory per test, removed afterwards.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    // MARK: Helpers

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Floats whose bits a careless reader or writer would change: NaN with a payload, -0.0, the smallest
    /// denormal, infinities.
    static let specialFloats: [Float] = [
        Float(bitPattern: 0x7FC0_1234), -0.0, .leastNonzeroMagnitude, .infinity, -.infinity, 1.5, -2.25,
    ]
    static let specialDoubles: [Double] = [
        Double(bitPattern: 0x7FF8_0000_0000_ABCD), -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1,
    ]

    /// One tensor of every dtype, a scalar and an empty tensor, with metadata that needs escaping.
    static func sampleFile() -> SafeTensorsFile {
        SafeTensorsFile(
            [
                ("fc1.weight", .float32(Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0.25, 8, -0.5]))),
                ("fc1.bias", .float32(Tensor([0.5, -1]))),
                ("special.f32", .float32(Tensor(specialFloats))),
                ("special.f64", .float64(Tensor(specialDoubles))),
                ("double.w", .float64(Tensor(shape: [2, 2], scalars: [1, 2, 3, -4.5]))),
                ("bn.num_batches_tracked", .int64(shape: [], values: [42])),
                ("extremes", .int64(shape: [2, 2], values: [.min, .max, -7, 1 << 40])),
                ("mask.fc1.weight", .uint8(shape: [2, 3], values: [0, 1, 1, 255, 0, 1])),
                ("empty", .float32(Tensor(shape: [0, 4], scalars: []))),
                ("scalar", .float32(Tensor(Float(-3.75)))),
                ("layer/ü \"quoted\"", .uint8(shape: [1], values: [7])),
            ],
            metadata: [
                "format": "pt", "config": "{\"model\": \"lenet-300-100\", \"lr\": 0.0012}",
                "note": "line\nbreak\ttab \\ slash / é→ \u{01}",
            ])
    }

    /// The bytes of a safetensors file with this header text (not padded) and data.
    static func rawFile(header: String, data: [UInt8], headerLength: UInt64? = nil) -> Data {
        let headerBytes = Array(header.utf8)
        var bytes = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        bytes.append(contentsOf: data)
        return bytes
    }

    /// Writes `bytes` to `name` and returns the error that reading it throws.
    func readError(_ bytes: Data, _ name: String = "corrupt.safetensors") throws -> CheckpointError {
        let file = url(name)
        try bytes.write(to: file)
        return try #require(throws: CheckpointError.self) { try SafeTensorsFile.read(from: file) }
    }

    // MARK: Round trips

    @Test func roundTripKeepsEveryBitNameOrderAndMetadata() throws {
        let original = Self.sampleFile()
        let file = url("sample.safetensors")
        try original.write(to: file)
        let read = try SafeTensorsFile.read(from: file)
        #expect(read == original)
        #expect(read.names == original.names)
        #expect(read.metadata == original.metadata)
        #expect(read.source == file)
        #expect(read["scalar"]?.shape == [])
        #expect(read["empty"]?.shape == [0, 4])
        #expect(read["empty"]?.count == 0)
        let specials = try #require(read["special.f32"]?.tensor(as: Float.self))
        #expect(specials.scalars.map(\.bitPattern) == Self.specialFloats.map(\.bitPattern))
        let doubles = try read.tensor(named: "special.f64", as: Double.self)
        #expect(doubles.scalars.map(\.bitPattern) == Self.specialDoubles.map(\.bitPattern))
        #expect(read["extremes"] == .int64(shape: [2, 2], values: [.min, .max, -7, 1 << 40]))
        #expect(read["mask.fc1.weight"] == .uint8(shape: [2, 3], values: [0, 1, 1, 255, 0, 1]))
    }

    @Test func equalityIsBitwise() {
        let nan = StoredTensor.float32(Tensor([Float.nan]))
        #expect(nan == nan)
        #expect(StoredTensor.float32(Tensor([Float(0)])) != .float32(Tensor([Float(-0.0)])))
        #expect(StoredTensor.float32(Tensor([Float(1)])) != .float64(Tensor([Double(1)])))
        #expect(StoredTensor.float32(Tensor([Float(1), 2])) != .float32(Tensor(shape: [1, 2], scalars: [1, 2])))
    }

    @Test func emptyFileAndOverwrite() throws {
        let file = url("empty.safetensors")
        try SafeTensorsFile().write(to: file)
        #expect(try SafeTensorsFile.read(from: file) == SafeTensorsFile())
        try Self.sampleFile().write(to: file)
        #expect(try SafeTensorsFile.read(from: file) == Self.sampleFile())
        // The temporary file was renamed away: only the checkpoint remains.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["empty.safetensors"])
    }

    @Test func parameterSetsRoundTripWithPrefixesAndNames() throws {
        let weights = ParameterSet<Float>([
            ("fc1.weight", Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])), ("fc1.bias", Tensor([0, -1, 2])),
        ])
        let moments = ParameterSet<Double>([("fc1.weight", Tensor(shape: [3, 2], scalars: [6, 5, 4, 3, 2, 1]))])
        var checkpoint = SafeTensorsFile(weights, metadata: ["step": "100"])
        checkpoint.insert(moments, prefix: "optimizer.exp_avg.")
        let file = url("checkpoint.safetensors")
        try checkpoint.write(to: file)
        let read = try SafeTensorsFile.read(from: file)
        #expect(read.names == ["fc1.weight", "fc1.bias", "optimizer.exp_avg.fc1.weight"])
        #expect(try read.parameterSet(as: Float.self, names: weights.names) == weights)
        #expect(try read.parameterSet(as: Double.self, prefix: "optimizer.exp_avg.") == moments)
        let reordered = try read.parameterSet(as: Float.self, names: ["fc1.bias", "fc1.weight"])
        #expect(reordered.names == ["fc1.bias", "fc1.weight"])

        // The whole file as Float: the Double moments have another dtype.
        #expect(throws: CheckpointError.dtypeMismatch(file, name: "optimizer.exp_avg.fc1.weight", expected: "F32", found: "F64")) {
            try read.parameterSet(as: Float.self)
        }
        #expect(throws: CheckpointError.dtypeMismatch(file, name: "fc1.weight", expected: "F64", found: "F32")) {
            try read.parameterSet(as: Double.self, names: ["fc1.weight"])
        }
        let missing = try #require(throws: CheckpointError.self) {
            try read.parameterSet(as: Float.self, names: ["fc1.weight", "fc2.weight"])
        }
        #expect(missing == .missingTensor(file, name: "fc2.weight"))
        #expect(missing.description.contains(file.path) && missing.description.contains("fc2.weight"))
    }

    // MARK: Determinism and layout

    @Test func sameContentsGiveByteIdenticalFiles() throws {
        let first = url("a.safetensors")
        let second = url("b.safetensors")
        try Self.sampleFile().write(to: first)
        var rebuilt = Self.sampleFile()
        rebuilt.metadata = Dictionary(uniqueKeysWithValues: rebuilt.metadata.reversed())
        try rebuilt.write(to: second)
        let bytes = try Data(contentsOf: first)
        #expect(bytes == (try Data(contentsOf: second)))
        #expect(bytes == Self.sampleFile().serialized())
        // The header length is a multiple of 8, so the data starts aligned.
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
    }

    @Test func layoutMatchesTheSpecificationByteForByte() {
        let file = SafeTensorsFile(
            [("b", .float32(Tensor([Float(1), -2]))), ("a", .uint8(shape: [], values: [9]))], metadata: ["k": "v"])
        let header = #"{"__metadata__":{"k":"v"},"b":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},"#
            + #""a":{"data_offsets":[8,9],"dtype":"U8","shape":[]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        // 1.0 = 0x3F800000 and -2.0 = 0xC0000000, little-endian; then the byte 9.
        let expected = Self.rawFile(header: padded, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 9])
        #expect(file.serialized() == expected)
    }

    // MARK: Corrupt files

    @Test func missingFileAndDirectory() throws {
        let missing = url("nope.safetensors")
        #expect(throws: CheckpointError.fileNotFound(missing)) { try SafeTensorsFile.read(from: missing) }
        #expect(CheckpointError.fileNotFound(missing).description.contains(missing.path))
        #expect(throws: CheckpointError.unreadable(directory, reason: "it is a directory")) {
            try SafeTensorsFile.read(from: self.directory)
        }
    }

    @Test func writingIntoAMissingDirectoryThrows() throws {
        let target = directory.appendingPathComponent("no/such/dir/x.safetensors")
        let error = try #require(throws: CheckpointError.self) { try Self.sampleFile().write(to: target) }
        guard case .unwritable(let url, _) = error else { Issue.record("unexpected \(error)"); return }
        #expect(url == target)
    }

    @Test func tooShortAndHeaderLengthBeyondTheFile() throws {
        let short = url("short.safetensors")
        #expect(try readError(Data([1, 2, 3]), "short.safetensors") == .tooShort(short, byteCount: 3))
        #expect(try readError(Data(), "short.safetensors") == .tooShort(short, byteCount: 0))

        var bytes = Self.sampleFile().serialized()
        let size = bytes.count
        let file = url("corrupt.safetensors")
        // A gigantic length must be refused before anything is allocated for it.
        bytes.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8))
        #expect(try readError(bytes) == .headerLengthExceedsFile(file, headerLength: .max, fileSize: size))
        let oneTooMany = UInt64(size - 7)
        withUnsafeBytes(of: oneTooMany.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        let error = try readError(bytes)
        #expect(error == .headerLengthExceedsFile(file, headerLength: oneTooMany, fileSize: size))
        #expect(error.description.contains(file.path))
    }

    @Test func headerThatIsNotAJSONObject() throws {
        let cases: [(String, String)] = [
            ("[1, 2]", "it does not start with '{'"),
            ("", "it is empty"),
            ("{\"a\": {\"dtype\": \"F32\", ", "it is not JSON"),
            ("{ not json at all }", "it is not JSON"),
            (#"{"a": 5}"#, "entry a is not an object"),
            (#"{"__metadata__": {"k": 1}}"#, "__metadata__ value k is not a string"),
            (#"{"__metadata__": [1]}"#, "__metadata__ is not an object"),
            (#"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#, "entry a has no dtype string"),
            (#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#,
             "entry a has no shape of non-negative integers"),
            (#"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#,
             "entry a has no shape of non-negative integers"),
            (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#,
             "entry a has no data_offsets [begin, end] with 0 <= begin <= end"),
            (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#,
             "entry a has no data_offsets [begin, end] with 0 <= begin <= end"),
        ]
        let file = url("corrupt.safetensors")
        for (header, reason) in cases {
            let error = try readError(Self.rawFile(header: header, data: [0, 0, 0, 0]))
            #expect(error == .invalidHeader(file, reason: reason), "header \(header)")
        }
        var invalidUTF8 = Array(#"{"a":1}"#.utf8)
        invalidUTF8[2] = 0xFF
        let error = try readError(rawBytes(header: invalidUTF8))
        #expect(error == .invalidHeader(file, reason: "it is not valid UTF-8"))
    }

    /// A file whose header is these exact bytes and whose data is empty.
    func rawBytes(header: [UInt8]) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        return bytes
    }

    @Test func unknownDType() throws {
        let error = try readError(Self.rawFile(
            header: #"{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
        #expect(error == .unknownDType(url("corrupt.safetensors"), name: "h", dtype: "F16"))
        #expect(error.description.contains("F16") && error.description.contains("F32, F64, I64, U8"))
    }

    @Test func shapeThatDisagreesWithTheOffsets() throws {
        let file = url("corrupt.safetensors")
        let error = try readError(Self.rawFile(
            header: #"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: [UInt8](repeating: 0, count: 8)))
        #expect(error == .sizeMismatch(file, name: "w", dtype: "F32", shape: [3], byteCount: 8))
        // A shape whose byte count overflows Int.
        let huge = try readError(Self.rawFile(
            header: #"{"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#,
            data: [UInt8](repeating: 0, count: 8)))
        #expect(huge == .sizeMismatch(file, name: "w", dtype: "F64", shape: [1 << 32, 1 << 32], byteCount: 8))
    }

    @Test func overlappingAndGappedOffsets() throws {
        let file = url("corrupt.safetensors")
        let overlap = try readError(Self.rawFile(
            header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "#
                + #""b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
            data: [UInt8](repeating: 0, count: 12)))
        #expect(overlap == .offsetsNotContiguous(file, name: "b", begin: 4, expectedBegin: 8))
        #expect(overlap.description.contains("overlap of 4 bytes"))
        let gap = try readError(Self.rawFile(
            header: #"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "#
                + #""b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]}}"#,
            data: [UInt8](repeating: 0, count: 12)))
        #expect(gap == .offsetsNotContiguous(file, name: "b", begin: 8, expectedBegin: 4))
        let notAtZero = try readError(Self.rawFile(
            header: #"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}"#, data: [UInt8](repeating: 0, count: 6)))
        #expect(notAtZero == .offsetsNotContiguous(file, name: "a", begin: 2, expectedBegin: 0))
    }

    @Test func truncatedDataAndTrailingBytes() throws {
        let file = url("corrupt.safetensors")
        let bytes = Self.sampleFile().serialized()
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
        let dataCount = bytes.count - 8 - headerLength
        #expect(try readError(bytes.prefix(bytes.count - 3)) == .truncated(file, expectedBytes: dataCount, actualBytes: dataCount - 3))
        #expect(try readError(bytes.prefix(8 + headerLength)) == .truncated(file, expectedBytes: dataCount, actualBytes: 0))
        #expect(try readError(bytes + [1, 2]) == .trailingBytes(file, expectedBytes: dataCount, extraBytes: 2))
    }

    @Test func missingTensorByName() throws {
        #expect(throws: CheckpointError.missingTensor(nil, name: "fc9.weight")) {
            try Self.sampleFile().tensor(named: "fc9.weight")
        }
        #expect(CheckpointError.missingTensor(nil, name: "x").description.hasPrefix("checkpoint: no tensor named x"))
    }

    /// Garbled bytes anywhere in the file give a `CheckpointError` or a file that still parses; never a crash.
    @Test func garbledFilesNeverCrash() throws {
        let original = Self.sampleFile().serialized()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let file = url("garbled.safetensors")
        var errors = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + next() % 4) {
                // Mostly the length and the header, where a parser can go wrong.
                let position = next() % 2 == 0 ? next() % min(bytes.count, 8 + 64) : next() % bytes.count
                bytes[position] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 5 == 0 { bytes = bytes.prefix(next() % bytes.count) }
            try bytes.write(to: file)
            do {
                _ = try SafeTensorsFile.read(from: file)
            } catch is CheckpointError {
                errors += 1
            }
        }
        #expect(errors > 100)
    }

    // MARK: Python's safetensors library

    /// python3, run with `arguments`: exit status and stdout, stderr.
    static func python(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let errorData = DispatchGroup()
        nonisolated(unsafe) var errorBytes = Data()
        errorData.enter()
        DispatchQueue.global().async {
            errorBytes = errors.fileHandleForReading.readDataToEndOfFile()
            errorData.leave()
        }
        let outputBytes = output.fileHandleForReading.readDataToEndOfFile()
        errorData.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputBytes, as: UTF8.self),
                String(decoding: errorBytes, as: UTF8.self))
    }

    static let roundTripScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Support/safetensors_roundtrip.py")

    /// Occam writes, Python's safetensors reads and writes back (in its own layout), Occam reads: every bit,
    /// name and metadata entry survives both ways, and Python sees the dtypes, shapes and sums written.
    @Test func pythonSafetensorsReadsAndWritesOurFilesBitExactly() throws {
        let check = try Self.python(["-c", "import safetensors, numpy"])
        guard check.status == 0 else {
            let message = "python3 cannot import safetensors and numpy, which this test needs: run "
                + "scripts/install-python-packages.sh (python3 said: \(check.errors))"
            Issue.record(Comment(rawValue: message))
            return
        }
        let original = Self.sampleFile()
        let written = url("occam.safetensors")
        let rewritten = url("python.safetensors")
        try original.write(to: written)
        let result = try Self.python([Self.roundTripScript.path, written.path, rewritten.path])
        try #require(result.status == 0, "safetensors_roundtrip.py failed: \(result.errors)")

        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
            "not a JSON object: \(result.output)")
        #expect(summary["metadata"] as? [String: String] == original.metadata)
        let tensors = try #require(summary["tensors"] as? [String: [String: Any]])
        #expect(Set(tensors.keys) == Set(original.names))
        let numpyNames: [StoredTensor.DType: String] = [.float32: "float32", .float64: "float64", .int64: "int64", .uint8: "uint8"]
        for (name, tensor) in original.entries {
            let seen = try #require(tensors[name], "Python did not see \(name)")
            #expect(seen["dtype"] as? String == numpyNames[tensor.dtype], "\(name)")
            #expect(seen["shape"] as? [Int] == tensor.shape, "\(name)")
            #expect(seen["bits"] as? [String] == Self.hexBits(tensor), "\(name): Python read other bits")
            let sum = try #require(seen["sum"] as? String)
            switch tensor {
            case .float32(let t): expectSum(sum, t.scalars.reduce(0) { $0 + Double($1) }, name)
            case .float64(let t): expectSum(sum, t.scalars.reduce(0, +), name)
            case .int64(_, let values): #expect(sum == String(values.reduce(0, +)), "\(name)")
            case .uint8(_, let values): #expect(sum == String(values.reduce(0) { $0 + Int($1) }), "\(name)")
            }
        }

        let back = try SafeTensorsFile.read(from: rewritten)
        #expect(back.metadata == original.metadata)
        #expect(Set(back.names) == Set(original.names))
        for name in original.names {
            #expect(back[name] == original[name], "\(name) changed on its way through Python")
        }
        // Python lays tensors out by dtype alignment then name, so this also read a layout Occam does not write.
        #expect(back.names != original.names)
    }

    /// Every element's bits in lowercase hex, as safetensors_roundtrip.py prints them.
    static func hexBits(_ tensor: StoredTensor) -> [String] {
        func hex<Value: FixedWidthInteger>(_ value: Value) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 2 * MemoryLayout<Value>.size - digits.count) + digits
        }
        switch tensor {
        case .float32(let t): return t.scalars.map { hex($0.bitPattern) }
        case .float64(let t): return t.scalars.map { hex($0.bitPattern) }
        case .int64(_, let values): return values.map { hex(UInt64(bitPattern: $0)) }
        case .uint8(_, let values): return values.map { hex($0) }
        }
    }

    func expectSum(_ python: String, _ swift: Double, _ name: String) {
        guard let value = Double(python) else { Issue.record("\(name): sum \(python) is not a number"); return }
        if swift.isNaN {
            #expect(value.isNaN, "\(name)")
        } else {
            #expect(value == swift || abs(value - swift) <= 1e-12 * abs(swift), "\(name): \(value) vs \(swift)")
        }
    }
}
