import Foundation

/// The robustness measurements of one length n, averaged per network and then over networks.
public struct RobustnessRow: Codable, Sendable {
    public var size: Int
    /// De Palma et al.'s lower bound on the mean nearest distance: sqrt(n / (2π ln n)).
    public var bound: Double
    public var inputs: Int
    /// Inputs whose exact search finished within the budget.
    public var exactInputs: Int
    /// Per-network means over their inputs, spread over networks: exact (only when every input of a network
    /// finished), greedy, and random flips over the inputs whose class changed within n flips (a network with
    /// none is left out); `flipsCountingUnchanged` counts an unchanged input as n flips instead (a lower bound).
    public var exact: Spread
    /// A lower bound for every network: the exact distance, or one more than the distance the search cleared.
    public var lower: Spread
    public var greedy: Spread
    public var flips: Spread
    public var flipsCountingUnchanged: Spread
    /// Inputs whose class no greedy path, or no random order of all n flips, changed.
    public var greedyUnchanged: Int
    public var flipsUnchanged: Int
    /// Inputs where both are known, and how often the greedy path was longer than the nearest string.
    public var greedyLonger: Int
    public var seconds: Double

    public init(record: RobustnessRecord) {
        size = record.size
        bound = Self.bound(size)
        let all = record.measurements.flatMap { $0 }
        inputs = all.count
        exactInputs = all.filter { $0.exactDistance != nil }.count
        func mean(_ values: [Int]) -> Double { Double(values.reduce(0, +)) / Double(values.count) }
        exact = Spread(record.measurements.compactMap { network in
            let distances = network.compactMap(\.exactDistance)
            return distances.count == network.count && !network.isEmpty ? mean(distances) : nil
        })
        lower = Spread(record.measurements.map { mean($0.map { $0.exactDistance ?? $0.clearedDistance + 1 }) })
        greedy = Spread(record.measurements.map { mean($0.map { $0.greedyDistance ?? record.size }) })
        flips = Spread(record.measurements.compactMap { network in
            let changed = network.compactMap(\.randomFlips)
            return changed.isEmpty ? nil : mean(changed)
        })
        flipsCountingUnchanged = Spread(record.measurements.map { mean($0.map { $0.randomFlips ?? record.size }) })
        greedyUnchanged = all.filter { $0.greedyDistance == nil }.count
        flipsUnchanged = all.filter { $0.randomFlips == nil }.count
        greedyLonger = all.filter { m in m.exactDistance.map { e in (m.greedyDistance ?? Int.max) > e } ?? false }.count
        seconds = record.seconds
    }

    /// sqrt(n / (2π ln n)).
    public static func bound(_ n: Int) -> Double { (Double(n) / (2 * Double.pi * log(Double(n)))).squareRoot() }
}

extension Spread {
    /// The standard error of the mean (NaN for fewer than two values).
    public var standardError: Double { count > 1 ? standardDeviation / Double(count).squareRoot() : .nan }
}
