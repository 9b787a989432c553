import Foundation

/// How a claim's measurement is judged, fixed before the measurement is made.
public enum VerdictRule: Sendable, Equatable {
    /// Agrees when |mean - paper| <= max(k x standard error, tolerance); with one replicate only the
    /// tolerance counts (a deterministic measurement, e.g. a kernel fit on the whole training set).
    case nearPaper(paper: Double, standardErrors: Double, tolerance: Double)
    /// Agrees when mean ± 2 standard errors lies inside `bounds`, disagrees when it lies wholly outside,
    /// and cannot tell when it straddles a bound. One replicate counts as its value alone.
    case inside(ClosedRange<Double>)
    /// Agrees when mean + 2 standard errors < `bound`, disagrees when mean - 2 standard errors >= `bound`, and
    /// cannot tell in between: a one-sided claim ("the barrier is under 2 pp"). One replicate counts as its value.
    case below(Double)
    /// Agrees when mean - 2 standard errors > `bound`, disagrees when mean + 2 standard errors <= `bound`, and
    /// cannot tell in between ("the ticket beats its control": a difference above 0).
    case above(Double)

    /// The rule in words, as the report prints it before any number.
    public var text: String {
        switch self {
        case .nearPaper(let paper, let k, let tolerance):
            "within max(\(fourDigits(k)) standard errors, \(fourDigits(tolerance))) of the paper's \(fourDigits(paper))"
        case .inside(let bounds):
            "mean ± 2 standard errors inside [\(fourDigits(bounds.lowerBound)), \(fourDigits(bounds.upperBound))]"
        case .below(let bound):
            "mean + 2 standard errors below \(fourDigits(bound))"
        case .above(let bound):
            "mean - 2 standard errors above \(fourDigits(bound))"
        }
    }

    /// The verdict on `measured` (mean, standard deviation and number of replicates).
    public func verdict(on measured: Spread) -> Verdict {
        guard measured.count >= 1, measured.mean.isFinite else { return .notMeasured }
        let standardError = measured.count > 1 ? measured.standardDeviation / Double(measured.count).squareRoot() : 0
        let low = measured.mean - 2 * standardError, high = measured.mean + 2 * standardError
        switch self {
        case .nearPaper(let paper, let k, let tolerance):
            let allowed = max(k * standardError, tolerance)
            if allowed == 0 { return .cannotTell("one replicate and no tolerance") }
            return abs(measured.mean - paper) <= allowed ? .agrees : .disagrees
        case .inside(let bounds):
            if bounds.contains(low) && bounds.contains(high) { return .agrees }
            if high < bounds.lowerBound || low > bounds.upperBound { return .disagrees }
            return .cannotTell("the ±2 standard-error interval [\(fourDigits(low)), \(fourDigits(high))] straddles a bound")
        case .below(let bound):
            if high < bound { return .agrees }
            if low >= bound { return .disagrees }
            return .cannotTell("the ±2 standard-error interval [\(fourDigits(low)), \(fourDigits(high))] contains \(fourDigits(bound))")
        case .above(let bound):
            if low > bound { return .agrees }
            if high <= bound { return .disagrees }
            return .cannotTell("the ±2 standard-error interval [\(fourDigits(low)), \(fourDigits(high))] contains \(fourDigits(bound))")
        }
    }
}

/// The outcome of a claim.
public enum Verdict: Sendable, Equatable, CustomStringConvertible {
    case agrees, disagrees, cannotTell(String), notMeasured

    public var description: String {
        switch self {
        case .agrees: "agrees"
        case .disagrees: "disagrees"
        case .cannotTell(let reason): "cannot tell (\(reason))"
        case .notMeasured: "not measured"
        }
    }
}

/// Up to 4 significant digits, without trailing zeros.
func fourDigits(_ value: Double) -> String {
    String(format: "%.4g", value)
}
