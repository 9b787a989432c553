import Foundation

/// Spearman's rank correlation (average ranks for ties); nil below 3 pairs or when either side is constant.
func spearman(_ a: [Double], _ b: [Double]) -> Double? {
    guard a.count >= 3, a.count == b.count else { return nil }
    return pearson(ranks(a), ranks(b))
}

/// Pearson's correlation; nil when either side is constant.
func pearson(_ a: [Double], _ b: [Double]) -> Double? {
    let n = Double(a.count)
    let (ma, mb) = (a.reduce(0, +) / n, b.reduce(0, +) / n)
    let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
    let (va, vb) = (a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) }, b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) })
    guard va > 0, vb > 0 else { return nil }
    return cov / (va * vb).squareRoot()
}

/// The least-squares slope of b on a; nil below 2 points or when a is constant.
func slope(_ a: [Double], _ b: [Double]) -> Double? {
    guard a.count >= 2 else { return nil }
    let n = Double(a.count)
    let (ma, mb) = (a.reduce(0, +) / n, b.reduce(0, +) / n)
    let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) }
    guard va > 0 else { return nil }
    return zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) } / va
}

/// 1-based ranks, ties sharing their average rank.
func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var result = [Double](repeating: 0, count: values.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
        for k in i...j { result[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
    }
    return result
}
