import Foundation
import OccamData
import OccamTensor
import Testing

@testable import OccamExperiments

@Suite("Simplicity bias")
struct SimplicityTests {
    @Test func truthTableBits() {
        var table = TruthTable()
        for x in [0, 5, 63, 64, 127] { table.set(x) }
        #expect(table.ones == 5)
        #expect(table.bit(64) && table.bit(127) && !table.bit(1))
        #expect(table.negated(inputSize: 7).ones == 123)
        #expect(TruthTable.coordinate(6, inputSize: 7).hex(inputSize: 7) == "ffffffffffffffff0000000000000000")
        #expect(TruthTable.coordinate(0, inputSize: 2).binary(inputSize: 2) == "0101")
        #expect(TruthTable.coordinate(0, inputSize: 2).hex(inputSize: 2) == "a")
        #expect(TruthTable.coordinate(3, inputSize: 7).negated(inputSize: 7).name(inputSize: 7) == "not x3")
        #expect(TruthTable().negated(inputSize: 3).name(inputSize: 3) == "constant 1")
        #expect(TruthTable.coordinate(6, inputSize: 7).complexity(inputSize: 7) == 21)
    }

    @Test func zigguratIsStandardNormal() {
        var normal = ZigguratNormal(RandomGenerator(seed: 1))
        let count = 400_000
        var values = [Float](repeating: 0, count: count)
        // Half one at a time, half by `fill`: both must be N(0, 1).
        for i in 0..<(count / 2) { values[i] = normal.next() }
        values.withUnsafeMutableBufferPointer { normal.fill($0.baseAddress! + count / 2, count: count / 2, scale: 1) }
        let x = values.map(Double.init)
        let mean = x.reduce(0, +) / Double(count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
        #expect(abs(mean) < 5 / Double(count).squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / Double(count)).squareRoot())
        // Kolmogorov-Smirnov distance to Φ: below the 0.1% critical value 1.95 / sqrt(n).
        let sorted = x.sorted()
        var distance = 0.0
        for (i, v) in sorted.enumerated() {
            let cdf = 0.5 * erfc(-v / 2.0.squareRoot())
            distance = max(distance, abs(cdf - Double(i) / Double(count)), abs(cdf - Double(i + 1) / Double(count)))
        }
        #expect(distance < 1.95 / Double(count).squareRoot(), "KS distance \(distance)")
        // The tail beyond r = 3.44 (drawn by the slow path) and beyond 4: 2Φ(-r) = 5.76e-4, 2Φ(-4) = 6.33e-5.
        let tail = Double(x.filter { abs($0) > ZigguratTables.r }.count) / Double(count)
        #expect(abs(tail - 5.76e-4) < 5 * (5.76e-4 / Double(count)).squareRoot(), "tail \(tail)")
        let far = Double(x.filter { abs($0) > 4 }.count) / Double(count)
        #expect(abs(far - 6.33e-5) < 5 * (6.33e-5 / Double(count)).squareRoot(), "far tail \(far)")
    }

    /// The perceptron law checked exhaustively: with weights of fixed generic magnitudes and random signs (a
    /// distribution symmetric under reflections along the axes), the 2^n sign patterns give each count
    /// t = 0 ... 2^n - 1 of inputs with w·x > 0 exactly once, so P(T = t) = 2^-n.
    @Test func perceptronLawByBruteForce() {
        var generator = RandomGenerator(seed: 2)
        for n in 1...7 {
            for _ in 0..<10 {
                let magnitudes = (0..<n).map { _ in 0.1 + generator.nextUniform() }
                var seen: [Int] = []
                for signs in 0..<(1 << n) {
                    let w = (0..<n).map { (signs >> $0) & 1 == 1 ? magnitudes[$0] : -magnitudes[$0] }
                    var t = 0
                    for x in 0..<(1 << n) {
                        var sum = 0.0
                        for i in 0..<n where (x >> i) & 1 == 1 { sum += w[i] }
                        if sum > 0 { t += 1 }
                    }
                    seen.append(t)
                }
                #expect(seen.sorted() == Array(0..<(1 << n)), "n = \(n): \(seen.sorted())")
            }
        }
    }

    @Test func sampledPerceptronPassesTheExactCheck() {
        let n = 4, draws = 80_000
        func ones(biasScale: Float) -> [Double] {
            let sampler = FunctionSampler(shape: ReLUNetworkShape(inputSize: n, hiddenWidths: []), weightScale: 1, biasScale: biasScale)
            var histogram = [Double](repeating: 0, count: (1 << n) + 1)
            sampler.forEachFunction(count: draws, generator: RandomGenerator(seed: 9)) { histogram[$0.ones] += 1 }
            return histogram
        }
        let free = ones(biasScale: 0)
        #expect(free[1 << n] == 0)  // the all-zero input is never classified 1
        let uniform = [Double](repeating: 1.0 / 16, count: 16)
        let check = ChiSquareTest(observed: Array(free[0..<16]), probabilities: uniform)
        #expect(check.pValue > 0.001, "chi-square \(check.statistic), p = \(check.pValue)")
        // With a bias the law fails, and the test sees it.
        let biased = ones(biasScale: 1)
        // (T = 16 is possible now: it is merged into T = 15.)
        let biasedCheck = ChiSquareTest(observed: Array(biased[0..<16]).enumerated().map { $0.offset == 15 ? $0.element + biased[16] : $0.element }, probabilities: uniform)
        #expect(biasedCheck.pValue < 1e-6)
    }

    /// The sampler's truth tables against the same parameters evaluated naively in Float64.
    @Test func samplerMatchesNaiveEvaluation() {
        let shape = ReLUNetworkShape(inputSize: 5, hiddenWidths: [7, 6])
        let sampler = FunctionSampler(shape: shape, weightScale: 1.3, biasScale: 0.4)
        let generator = RandomGenerator(seed: 4)
        var tables: [TruthTable] = []
        sampler.forEachFunction(count: 50, generator: generator) { tables.append($0) }
        var normal = ZigguratNormal(generator)
        var parameters = [Float](repeating: 0, count: shape.parameterCount)
        for table in tables {
            parameters.withUnsafeMutableBufferPointer { shape.draw(into: $0.baseAddress!, normal: &normal, weightScale: 1.3, biasScale: 0.4) }
            let p = parameters.map(Double.init)
            for x in 0..<32 {
                var activation = (0..<5).map { Double((x >> $0) & 1) }
                var offset = 0
                for (layer, (fanIn, fanOut)) in zip(shape.fanIns, shape.widths).enumerated() {
                    activation = (0..<fanOut).map { j in
                        let sum = p[offset + fanIn * fanOut + j] + (0..<fanIn).reduce(0.0) { $0 + activation[$1] * p[offset + $1 * fanOut + j] }
                        return layer < shape.hiddenWidths.count ? max(sum, 0) : sum
                    }
                    offset += fanIn * fanOut + fanOut
                }
                if abs(activation[0]) > 1e-5 { #expect(table.bit(x) == (activation[0] > 0)) }
            }
        }
    }

    private func smallConfiguration() -> SimplicityConfiguration {
        var c = SimplicityConfiguration()
        (c.inputSize, c.hiddenWidths, c.draws, c.chunkSize, c.biasScale) = (5, [8, 8], 7_000, 1_000, 0.3)
        (c.robustnessSizes, c.robustnessWidth, c.robustnessNetworks, c.robustnessInputs, c.searchBudget) = ([10, 24], 16, 3, 4, 3000)
        return c
    }

    @Test func countsDoNotDependOnThreadsAndResume() throws {
        let root = try makeTemporaryDirectory("simplicity")
        defer { try? FileManager.default.removeItem(at: root) }
        var c = smallConfiguration()
        c.robustnessSizes = []
        var files: [Data] = []
        for threads in [1, 2, 3] {
            let directory = root.appendingPathComponent("threads-\(threads)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try SimplicityStudy(configuration: c, directory: directory, threads: threads).sampleFunctions()
            var counts = try FunctionCounts.read(from: directory.appendingPathComponent("functions.bin"))
            #expect(counts.draws == 7_000 && counts.chunksDone == 7)
            #expect(counts.counts.values.reduce(0, +) == 7_000)
            counts.seconds = 0
            files.append(counts.encoded())
        }
        #expect(files[0] == files[1] && files[1] == files[2])

        // Resume: a file holding chunks 0 and 1 is completed to the same counts.
        let directory = root.appendingPathComponent("resumed")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sampler = FunctionSampler(shape: ReLUNetworkShape(inputSize: 5, hiddenWidths: [8, 8]), weightScale: 1, biasScale: 0.3)
        var partial = FunctionCounts()
        for chunk in 0..<2 { partial.merge(sampler.count(1_000, generator: SimplicityStudy.chunkGenerator(seed: 0, chunk: chunk))) }
        (partial.chunksDone, partial.draws) = (2, 2_000)
        try partial.write(to: directory.appendingPathComponent("functions.bin"))
        try SimplicityStudy(configuration: c, directory: directory, threads: 2).sampleFunctions()
        var resumed = try FunctionCounts.read(from: directory.appendingPathComponent("functions.bin"))
        resumed.seconds = 0
        #expect(resumed.encoded() == files[0])
    }

    @Test func functionCountsRoundTrip() throws {
        var counts = FunctionCounts()
        counts.merge([TruthTable(low: 3, high: 9): 4, TruthTable(low: ~0, high: 1 << 63): 1])
        (counts.chunksDone, counts.draws, counts.seconds) = (2, 5, 1.25)
        let url = try makeTemporaryDirectory("counts").appendingPathComponent("functions.bin")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try counts.write(to: url)
        #expect(try FunctionCounts.read(from: url) == counts)
        try Data("OCCAMFN1 truncated".utf8).write(to: url)
        #expect(throws: RunStoreError.self) { try FunctionCounts.read(from: url) }
    }

    @Test func chiSquareSurvivalMatchesClosedForms() {
        for x in [0.01, 0.5, 1, 2, 3.7, 10, 25, 60] {
            #expect(abs(ChiSquareTest.survival(x, degreesOfFreedom: 2) - exp(-x / 2)) < 1e-12 * max(1, exp(-x / 2)) + 1e-15)
            #expect(abs(ChiSquareTest.survival(x, degreesOfFreedom: 1) - erfc((x / 2).squareRoot())) < 1e-12)
            #expect(abs(ChiSquareTest.survival(x, degreesOfFreedom: 4) - exp(-x / 2) * (1 + x / 2)) < 1e-12)
        }
        // 127 degrees of freedom: the median is about k (1 - 2/(9k))^3 = 126.3.
        #expect(abs(ChiSquareTest.survival(126.33, degreesOfFreedom: 127) - 0.5) < 0.01)
    }

    @Test func lineFitRecoversALine() throws {
        let fit = try #require(LineFit(x: [1, 2, 3, 4], y: [1, 3, 5, 7]))
        #expect(abs(fit.slope - 2) < 1e-12 && abs(fit.intercept + 1) < 1e-12 && fit.slopeStandardError < 1e-12)
        #expect(LineFit(x: [1, 1], y: [2, 3]) == nil)
    }

    @Test func combinationsEnumerateEverySubsetOnce() {
        for (n, k) in [(5, 2), (6, 3), (7, 1), (4, 4)] {
            var iterator = Combinations(n: n, k: k)
            var all: [[Int]] = []
            while let subset = iterator.next() { all.append(subset) }
            #expect(all.count == binomial(n, k) && Set(all).count == all.count && all.allSatisfy { $0 == $0.sorted() && Set($0).count == k })
        }
        #expect(binomial(784, 4) == 15_621_558_876 && binomial(10, 11) == 0)
    }

    /// Exact distances against a brute force over all 2^n strings; greedy never shorter; random flips replayed.
    @Test func robustnessMeasurementsAgreeWithBruteForce() {
        let n = 10
        let network = HammingRobustness(inputSize: n, width: 12, weightScale: 1, biasScale: 0.2, generator: RandomGenerator(seed: 8))
        let strings = (0..<(1 << n)).map { s in (0..<n).map { (s >> $0) & 1 == 1 ? Float(1) : -1 } }
        let classes = strings.map { network.output($0) > 0 }
        var generator = RandomGenerator(seed: 3)
        for s in [0, 17, 345, 1000, 1023, 512] {
            var replay = generator
            let m = network.measure(strings[s], budget: 1 << n, generator: &generator)
            let nearest = (0..<(1 << n)).filter { classes[$0] != classes[s] }.map { ($0 ^ s).nonzeroBitCount }.min()
            #expect(m.exactDistance == nearest)
            if let exact = m.exactDistance, let greedy = m.greedyDistance { #expect(greedy >= exact) }
            let order = replay.permutation(n)
            var current = s, flips: Int?
            for (k, bit) in order.enumerated() {
                current ^= 1 << bit
                if classes[current] != classes[s] { flips = k + 1; break }
            }
            #expect(m.randomFlips == flips)
        }
        // A budget too small for the first distance gives no exact value.
        var g = RandomGenerator(seed: 1)
        #expect(network.measure(strings[3], budget: n - 1, generator: &g).exactDistance == nil)
    }

    @Test func studyWritesTheReport() throws {
        let root = try makeTemporaryDirectory("simplicity-report")
        defer { try? FileManager.default.removeItem(at: root) }
        let c = smallConfiguration()
        let directory = try RunStore.open(c, precision: "float32", under: root)
        try SimplicityStudy(configuration: c, directory: directory, threads: 2).run()
        let summary = try SimplicityReport(directory: directory).build()
        #expect(summary.draws == 7_000)
        #expect(abs(summary.ones.reduce(0, +) - 1) < 1e-9)
        #expect(abs(summary.complexity.reduce(0) { $0 + $1.probability } - 1) < 1e-9)
        #expect(summary.topFunctions.first.map { $0.count >= summary.topFunctions.last!.count } == true)
        #expect(summary.robustness.map(\.size) == [10, 24] && summary.robustness.allSatisfy { $0.inputs == 12 })
        for file in ["index.html", "summary.json", "functions.csv", "probability-complexity.svg", "rank-frequency.svg", "ones.svg", "complexity.svg", "hamming-distance.svg", "random-flips.svg", "robustness.csv"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), "\(file)")
        }
        var invalid = c
        invalid.inputSize = 8
        #expect(throws: ExperimentError.self) { try invalid.validate() }
    }
}
