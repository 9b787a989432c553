import Foundation

/// How one measured group compares with a reference (another group, or a fixed value such as a threshold),
/// judged from the replicates: Welch's two-sided t-test at the 5% level (a one-sample t-test against a fixed
/// value). With fewer than two replicates on a side that varies, there is no spread to judge the difference
/// by, and the verdict is `.tooFewReplicates` whatever the means are.
///
/// Reports build their sentences from these verdicts, so that a sentence never claims more than the
/// replicates show.
public struct GroupComparison: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// The group's mean is higher than the reference's, beyond the noise.
        case higher
        /// The group's mean is lower than the reference's, beyond the noise.
        case lower
        /// The difference is within the noise.
        case indistinguishable
        /// A side has fewer than two replicates: no spread to judge by.
        case tooFewReplicates
    }

    public var group: Spread
    /// The reference group; nil when comparing with `referenceValue`.
    public var reference: Spread?
    /// The reference's mean (or the fixed value).
    public var referenceValue: Double
    public var verdict: Verdict
    /// Welch's t statistic; nil without one.
    public var t: Double?
    /// Welch–Satterthwaite degrees of freedom; nil without a t statistic.
    public var degreesOfFreedom: Double?

    /// The group's mean minus the reference's.
    public var difference: Double { group.mean - referenceValue }

    /// Compares `group` with `reference`, two measured groups with their replicates.
    public init(_ group: Spread, against reference: Spread) {
        (self.group, self.reference, referenceValue) = (group, reference, reference.mean)
        guard group.count >= 2, reference.count >= 2, group.mean.isFinite, reference.mean.isFinite else {
            verdict = .tooFewReplicates
            return
        }
        let a = group.standardDeviation * group.standardDeviation / Double(group.count)
        let b = reference.standardDeviation * reference.standardDeviation / Double(reference.count)
        let degrees = (a + b) * (a + b) / (a * a / Double(group.count - 1) + b * b / Double(reference.count - 1))
        verdict = Self.verdict(difference: group.mean - reference.mean, standardError: (a + b).squareRoot(), degrees: degrees)
        if a + b > 0 { (t, degreesOfFreedom) = ((group.mean - reference.mean) / (a + b).squareRoot(), degrees) }
    }

    /// Compares `group` with a fixed `value` (a threshold): a one-sample t-test.
    public init(_ group: Spread, against value: Double) {
        (self.group, reference, referenceValue) = (group, nil, value)
        guard group.count >= 2, group.mean.isFinite else {
            verdict = .tooFewReplicates
            return
        }
        let standardError = group.standardDeviation / Double(group.count).squareRoot()
        let degrees = Double(group.count - 1)
        verdict = Self.verdict(difference: group.mean - value, standardError: standardError, degrees: degrees)
        if standardError > 0 { (t, degreesOfFreedom) = ((group.mean - value) / standardError, degrees) }
    }

    private static func verdict(difference: Double, standardError: Double, degrees: Double) -> Verdict {
        if difference == 0 { return .indistinguishable }
        // No spread at all (identical replicates): any difference is beyond the noise.
        guard standardError > 0 else { return difference > 0 ? .higher : .lower }
        guard abs(difference) / standardError > criticalT(degrees: degrees) else { return .indistinguishable }
        return difference > 0 ? .higher : .lower
    }

    /// The two-sided 5% critical value of Student's t with `degrees` degrees of freedom (the 97.5% quantile):
    /// tabulated values, interpolated linearly in 1/degrees (within 0.5% of the exact quantile).
    static func criticalT(degrees: Double) -> Double {
        let table: [(Double, Double)] = [
            (1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (5, 2.5706), (6, 2.4469), (7, 2.3646), (8, 2.3060), (9, 2.2622),
            (10, 2.2281), (12, 2.1788), (15, 2.1314), (20, 2.0860), (30, 2.0423), (40, 2.0211), (60, 2.0003), (120, 1.9799),
        ]
        guard degrees.isFinite, degrees > 1 else { return table[0].1 }
        for (low, high) in zip(table, table.dropFirst()) where degrees <= high.0 {
            let t = (1 / low.0 - 1 / degrees) / (1 / low.0 - 1 / high.0)
            return low.1 + t * (high.1 - low.1)
        }
        let last = table[table.count - 1]
        return last.1 + (1 / last.0 - 1 / degrees) / (1 / last.0) * (1.9600 - last.1)
    }

    /// Describes how a sequence of groups (pruning levels, spawn steps, ...) compares with one reference, in
    /// order, joining neighbours with the same verdict: "above the dense network from 51.3% to 13.5% of weights
    /// remaining, not distinguishable from it at 10.7%, below it from 8.6% to 3.5%". With too few replicates it
    /// says so, and gives what was measured: "too few replicates to tell (n = 1); as measured, above the dense
    /// network at 11 of 12 levels and below it at 1 (differences -0.04 to +1.21 pp)".
    ///
    /// - Parameters:
    ///   - items: the groups in order, each with its label as it reads after "at" ("51.3%").
    ///   - reference: the group they are compared with.
    ///   - higher, lower, same: the phrases for each verdict ("above the dense network", "below it",
    ///     "not distinguishable from it").
    ///   - itemName: what an item is, plural ("levels"), for the count with too few replicates.
    ///   - unit: the unit of the differences ("pp").
    ///   - digits: decimals of the differences.
    public static func describe(
        _ items: [(label: String, group: Spread)], against reference: Spread, higher: String, lower: String, same: String,
        itemName: String, unit: String, digits: Int = 2
    ) -> String {
        let measured = items.filter { $0.group.count > 0 && $0.group.mean.isFinite }
        guard !measured.isEmpty, reference.count > 0, reference.mean.isFinite else { return "nothing measured yet" }
        return describe(
            comparisons: measured.map { (label: $0.label, comparison: GroupComparison($0.group, against: reference)) }, higher: higher,
            lower: lower, same: same, itemName: itemName, unit: unit, digits: digits)
    }

    /// `describe` for comparisons already made, each against its own reference: paired differences against 0
    /// (a one-sample test), for example. Comparisons with nothing measured are left out.
    public static func describe(
        comparisons: [(label: String, comparison: GroupComparison)], higher: String, lower: String, same: String,
        itemName: String, unit: String, digits: Int = 2
    ) -> String {
        let comparisons = comparisons.filter { $0.comparison.group.count > 0 && $0.comparison.group.mean.isFinite }
        guard !comparisons.isEmpty else { return "nothing measured yet" }
        if comparisons.contains(where: { $0.comparison.verdict == .tooFewReplicates }) {
            let differences = comparisons.map(\.comparison.difference)
            let above = differences.filter { $0 > 0 }.count, below = differences.filter { $0 < 0 }.count
            let equal = differences.count - above - below
            let counts = comparisons.flatMap { [$0.comparison.group.count] + ($0.comparison.reference.map { [$0.count] } ?? []) }
            let n = Set(counts).sorted().map(String.init).joined(separator: " or ")
            let total = differences.count
            if above == 0 && below == 0 {
                return "too few replicates to tell (n = \(n)); as measured, equal at \(total == 1 ? "the one" : "all \(total)") \(total == 1 ? String(itemName.dropLast()) : itemName)"
            }
            var parts: [String] = []
            if above > 0 { parts.append("\(higher) at \(above) of \(total) \(itemName)") }
            if below > 0 { parts.append("\(lower) at \(below)\(above > 0 ? "" : " of \(total) \(itemName)")") }
            if equal > 0 { parts.append("equal at \(equal)") }
            let smallest = differences.min()!, largest = differences.max()!
            let range = smallest == largest
                ? signed(smallest, digits: digits) + (unit.isEmpty ? "" : " \(unit)")
                : "\(signed(smallest, digits: digits)) to \(signed(largest, digits: digits))\(unit.isEmpty ? "" : " \(unit)")"
            return "too few replicates to tell (n = \(n)); as measured, \(parts.joined(separator: ", ")) (difference\(total == 1 ? "" : "s") \(range))"
        }
        var runs: [(verdict: Verdict, labels: [String])] = []
        for (label, comparison) in comparisons {
            if let last = runs.last, last.verdict == comparison.verdict {
                runs[runs.count - 1].labels.append(label)
            } else {
                runs.append((comparison.verdict, [label]))
            }
        }
        return runs.map { run in
            let phrase = run.verdict == .higher ? higher : run.verdict == .lower ? lower : same
            return phrase + (run.labels.count == 1 ? " at \(run.labels[0])" : " from \(run.labels[0]) to \(run.labels[run.labels.count - 1])")
        }.joined(separator: ", ")
    }

    /// "+1.21" or "-0.04".
    static func signed(_ value: Double, digits: Int) -> String { String(format: "%+.\(digits)f", value) }

    /// How the verdicts are reached, for a report's text.
    public static let method = "Welch's t-test, two-sided, 5% level, over replicates"
}
