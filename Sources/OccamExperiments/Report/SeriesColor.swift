import Foundation

/// Fixed colours per role, so that one thing (a winning ticket, the test split, a control) has the same colour
/// in every figure of every report, whichever other series a figure holds. Ordered families (pruning levels,
/// widths, spawn steps, conditions) take colours from `ramp`, a sequential scale that shares no colour with
/// the roles.
public enum SeriesColor {
    /// The dense network and the winning ticket (its level 0 is the dense network).
    public static let ticket = "#4e79a7"
    public static let randomReinitialization = "#f28e2b"
    public static let randomPruning = "#59a14f"

    /// Error or accuracy on the test split.
    public static let test = "#4e79a7"
    /// The training split (the labels trained on).
    public static let train = "#f28e2b"
    /// Test labels corrupted like the training labels.
    public static let corruptedTest = "#e15759"
    /// The best test value during training.
    public static let bestTest = "#59a14f"
    /// The average of several draws' predictions.
    public static let ensemble = "#b07aa1"
    /// A control that is not one of the compared groups (two differently initialized networks).
    public static let control = "#555555"

    /// The `index`-th of `count` ordered values: from dark violet through blue and green to yellow-green
    /// (viridis, without its last, hard-to-see yellow).
    public static func ramp(_ index: Int, of count: Int) -> String {
        scale(count > 1 ? Double(min(max(index, 0), count - 1)) / Double(count - 1) : 0)
    }

    /// The colour at `t` in [0, 1] (clamped) of the same sequential scale: heat maps' cells.
    public static func scale(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [
            (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142), (31, 158, 137), (53, 183, 121),
            (110, 206, 88), (181, 222, 43),
        ]
        let position = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, stops.count - 1)
        let f = position - Double(low)
        func channel(_ a: Double, _ b: Double) -> Int { Int((a + f * (b - a)).rounded()) }
        let (r, g, b) = (channel(stops[low].0, stops[high].0), channel(stops[low].1, stops[high].1), channel(stops[low].2, stops[high].2))
        return String(format: "#%02x%02x%02x", r, g, b)
    }
}
