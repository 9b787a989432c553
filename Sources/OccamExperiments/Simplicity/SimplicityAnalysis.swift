import Foundation
import OccamAnalysis
import OccamTensor

/// One function of the sample: how often it occurred and what it is.
public struct FunctionRow: Codable, Sendable {
    public var rank: Int
    public var count: UInt64
    public var probability: Double
    /// K_LZ of its truth table.
    public var complexity: Double
    /// Inputs mapped to 1.
    public var ones: Int
    /// The truth table as hex (bit x is f(x)) and as f(0) f(1) ... f(2^n - 1).
    public var hex: String
    public var binary: String
    /// "constant 0", "x3", "not x3", or nil.
    public var name: String?
}

/// The draws whose function has one value of K_LZ.
public struct ComplexityBin: Codable, Sendable {
    public var complexity: Double
    /// The fraction of draws, and of uniformly random strings, with this K_LZ.
    public var probability: Double
    public var randomProbability: Double
    /// Distinct functions seen with this K_LZ, and the largest probability among them.
    public var functions: Int
    public var largestProbability: Double
}

/// The sample's statistics, from functions.bin alone.
public struct FunctionAnalysis: Sendable {
    public var draws: Int
    public var distinct: Int
    /// Functions seen exactly once.
    public var singletons: Int
    /// Every function, most frequent first, with its K_LZ.
    public var functions: [(table: TruthTable, count: UInt64, complexity: Double)]
    public var complexity: [ComplexityBin]
    /// K_LZ averaged over the draws, and over `randomStrings` uniformly random strings.
    public var meanComplexity: Double
    public var randomComplexity: Spread
    /// P(T = t) for t = 0 ... 2^n ones.
    public var ones: [Double]
    /// Upper envelope: log10 of the largest P(f) at each K_LZ against K_LZ, over the K_LZ values whose most
    /// frequent function was seen at least `reliableCount` times (below that, counts are Poisson noise).
    public var envelopeFit: LineFit?
    /// log10 P against log10 rank, over ranks whose function was seen at least `reliableCount` times.
    public var zipfFit: LineFit?

    public static let reliableCount: UInt64 = 10
    public static let randomStrings = 20_000

    /// - Parameter threads: threads computing K_LZ of the distinct functions (the result does not depend on it).
    public init(counts: FunctionCounts, inputSize: Int, seed: UInt64, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        draws = counts.draws
        let total = Double(max(counts.draws, 1))
        let sorted = counts.sortedByCount()
        var complexities = [Double](repeating: 0, count: sorted.count)
        let block = 1 << 14
        complexities.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            // Each job writes its own block of the buffer.
            try? runConcurrently(count: (sorted.count + block - 1) / block, threads: threads) { job in
                for i in (job * block)..<min(sorted.count, (job + 1) * block) { out[i] = sorted[i].table.complexity(inputSize: inputSize) }
            }
        }
        functions = zip(sorted, complexities).map { ($0.0.table, $0.0.count, $0.1) }
        distinct = functions.count
        singletons = functions.filter { $0.count == 1 }.count
        meanComplexity = functions.reduce(0) { $0 + Double($1.count) * $1.complexity } / total

        // Uniformly random truth tables: the complexity of a function drawn without any bias.
        var generator = RandomGenerator(seed: seed).stream("random-strings")
        let length = 1 << inputSize
        let random = (0..<Self.randomStrings).map { _ in
            LempelZivComplexity.symmetrized((0..<length).map { _ in generator.next() & 1 == 1 })
        }
        randomComplexity = Spread(random)

        var bins: [Double: ComplexityBin] = [:]
        for f in functions {
            var bin = bins[f.complexity] ?? ComplexityBin(complexity: f.complexity, probability: 0, randomProbability: 0, functions: 0, largestProbability: 0)
            bin.probability += Double(f.count) / total
            bin.functions += 1
            bin.largestProbability = max(bin.largestProbability, Double(f.count) / total)
            bins[f.complexity] = bin
        }
        for k in random {
            bins[k, default: ComplexityBin(complexity: k, probability: 0, randomProbability: 0, functions: 0, largestProbability: 0)]
                .randomProbability += 1 / Double(random.count)
        }
        complexity = bins.values.sorted { $0.complexity < $1.complexity }

        var ones = [Double](repeating: 0, count: length + 1)
        for f in functions { ones[f.table.ones] += Double(f.count) / total }
        self.ones = ones

        let reliable = Double(Self.reliableCount) / total
        let envelope = complexity.filter { $0.functions > 0 && $0.largestProbability >= reliable }
        envelopeFit = LineFit(x: envelope.map(\.complexity), y: envelope.map { log10($0.largestProbability) })
        let ranked = functions.prefix { $0.count >= Self.reliableCount }
        zipfFit = LineFit(x: ranked.indices.map { log10(Double($0 + 1)) }, y: ranked.map { log10(Double($0.count) / total) })
    }

    /// The `limit` most frequent functions as table rows.
    public func rows(limit: Int, inputSize: Int) -> [FunctionRow] {
        functions.prefix(limit).enumerated().map { index, f in
            FunctionRow(
                rank: index + 1, count: f.count, probability: Double(f.count) / Double(max(draws, 1)), complexity: f.complexity,
                ones: f.table.ones, hex: f.table.hex(inputSize: inputSize), binary: f.table.binary(inputSize: inputSize),
                name: f.table.name(inputSize: inputSize))
        }
    }

    /// The distinct (K_LZ, P) pairs of the sample, for a scatter plot: counts from 1000 up are binned to 1% in
    /// log scale, so the plot stays small however many functions there are.
    public func scatterPoints() -> [(complexity: Double, probability: Double)] {
        var seen = Set<SIMD2<Double>>()
        var points: [(Double, Double)] = []
        let total = Double(max(draws, 1))
        for f in functions {
            let count = f.count < 1000 ? Double(f.count) : pow(10, (log10(Double(f.count)) * 100).rounded() / 100)
            if seen.insert(SIMD2(f.complexity, count)).inserted { points.append((f.complexity, count / total)) }
        }
        return points
    }

    /// (rank, probability) at about `count` ranks spaced evenly in log scale, for the rank-frequency plot.
    public func rankFrequency(count: Int = 400) -> [(rank: Int, probability: Double)] {
        guard !functions.isEmpty else { return [] }
        var ranks: [Int] = []
        let last = Double(functions.count)
        for i in 0..<count {
            let rank = Int(pow(last, Double(i) / Double(count - 1)).rounded())
            if ranks.last != rank { ranks.append(min(rank, functions.count)) }
        }
        return ranks.map { ($0, Double(functions[$0 - 1].count) / Double(max(draws, 1))) }
    }
}
