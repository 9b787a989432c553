import Foundation
import OccamData

/// One axis of a `LinePlot`.
public struct PlotAxis: Sendable {
    public enum Scale: Sendable { case linear, logarithmic }
    /// The label, with units ("weights remaining (%)").
    public var label: String
    public var scale: Scale
    /// Larger values to the left (x) or bottom (y): the lottery plots' "weights remaining" decreases to the right.
    public var reversed: Bool
    /// A fixed range; nil fits the data.
    public var range: ClosedRange<Double>?
    /// Names of the values 0, 1, 2, ... placed evenly (spawn steps 0it, 100it, 2000it): the ticks carry these
    /// labels instead of numbers.
    public var categories: [String]?

    public init(_ label: String, scale: Scale = .linear, reversed: Bool = false, range: ClosedRange<Double>? = nil) {
        (self.label, self.scale, self.reversed, self.range) = (label, scale, reversed, range)
    }

    /// An axis of named, evenly spaced positions 0, 1, 2, ...
    public init(_ label: String, categories: [String]) {
        self.init(label, range: -0.5...(Double(categories.count) - 0.5))
        self.categories = categories
    }

    /// The label of the tick at `value`.
    func label(ofTick value: Double) -> String {
        guard let categories else { return tickLabel(value) }
        return categories.indices.contains(Int(value)) ? categories[Int(value)] : ""
    }

    /// The data range to show: `range`, or the values' span (positive values only on a log scale), widened a
    /// little so that no point sits on the frame; a single value gets a span around it.
    func domain(of values: [Double]) -> ClosedRange<Double> {
        if let range { return range }
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var low = usable.min(), var high = usable.max() else { return scale == .linear ? 0...1 : 1...10 }
        switch scale {
        case .linear:
            if low == high { (low, high) = (low - max(abs(low) * 0.1, 0.5), high + max(abs(high) * 0.1, 0.5)) }
            let margin = (high - low) * 0.05
            return (low - margin)...(high + margin)
        case .logarithmic:
            if low == high { (low, high) = (low / 2, high * 2) }
            let margin = pow(high / low, 0.04)
            return (low / margin)...(high * margin)
        }
    }

    /// Tick values inside `domain`: steps of 1, 2 or 5 times a power of ten (linear, about 5 ticks), or the
    /// powers of ten and, where they are few, their 2x and 5x multiples (logarithmic).
    func ticks(in domain: ClosedRange<Double>) -> [Double] {
        if let categories { return categories.indices.map(Double.init) }
        switch scale {
        case .linear:
            let rough = (domain.upperBound - domain.lowerBound) / 5
            guard rough > 0, rough.isFinite else { return [domain.lowerBound] }
            let power = pow(10, floor(log10(rough)))
            let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
            let first = ceil(domain.lowerBound / step)
            return stride(from: first, through: floor(domain.upperBound / step), by: 1).map { $0 * step }
        case .logarithmic:
            let decades = Int(floor(log10(domain.lowerBound)))...Int(ceil(log10(domain.upperBound)))
            if decades.count > 10 {
                // Many decades: every k-th power of ten, about 8 ticks.
                let step = (decades.count + 7) / 8
                return stride(from: decades.lowerBound, through: decades.upperBound, by: step).map { pow(10, Double($0)) }
                    .filter { domain.contains($0) }
            }
            for multiples in [[1.0], [1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
                let ticks = decades.flatMap { decade in multiples.map { $0 * pow(10, Double(decade)) } }
                    .filter { domain.contains($0) }
                if ticks.count >= 4 { return ticks }
            }
            return decades.flatMap { decade in (1...9).map { Double($0) * pow(10, Double(decade)) } }.filter { domain.contains($0) }
        }
    }

    /// Where `value` falls in `domain`, from 0 to 1 (before reversal).
    func fraction(of value: Double, in domain: ClosedRange<Double>) -> Double {
        let transform: (Double) -> Double = scale == .linear ? { $0 } : { log10($0) }
        let t = (transform(value) - transform(domain.lowerBound)) / (transform(domain.upperBound) - transform(domain.lowerBound))
        return reversed ? 1 - t : t
    }
}

/// One point of a series: y at x, with an optional error bar of ± `error` (a standard deviation).
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var error: Double?
    public init(x: Double, y: Double, error: Double? = nil) { (self.x, self.y, self.error) = (x, y, error) }
}

/// A named line through points (drawn in the order given), with markers and error bars.
public struct PlotSeries: Sendable {
    public var name: String
    public var points: [PlotPoint]
    public var dashed: Bool
    public var markers: Bool
    /// A fixed colour (`SeriesColor`), so that one role looks the same in every figure; nil takes the
    /// palette's colour of the series' position.
    public var color: String?
    /// Whether the points are joined by a line (false: a scatter of markers).
    public var lines = true

    public init(_ name: String, points: [PlotPoint], dashed: Bool = false, markers: Bool = true, color: String? = nil, lines: Bool = true) {
        (self.name, self.points, self.dashed, self.markers, self.color, self.lines) = (name, points, dashed, markers, color, lines)
    }
}

/// A labeled vertical line across a plot: where something happens on the x axis ("N = n").
public struct PlotVerticalLine: Sendable, Equatable {
    public var x: Double
    public var label: String
    public init(x: Double, label: String) { (self.x, self.label) = (x, label) }
}

/// A labeled horizontal line across a plot: a threshold on the y axis ("stability threshold (2 pp)").
public struct PlotHorizontalLine: Sendable, Equatable {
    public var y: Double
    public var label: String
    public init(y: Double, label: String) { (self.y, self.label) = (y, label) }
}

/// A line plot written as a standalone SVG file: title, axes with ticks and labels (linear or log, either
/// direction), grid lines, one colored line per series with markers and error bars, and a legend to the right.
public struct LinePlot: Sendable {
    public var title: String
    public var x: PlotAxis
    public var y: PlotAxis
    public var series: [PlotSeries]
    /// Vertical lines drawn behind the series, labeled at the top of the frame.
    public var verticalLines: [PlotVerticalLine] = []
    /// Horizontal lines drawn behind the series across the whole frame, labeled at their right end; their
    /// values are always inside the y range shown.
    public var horizontalLines: [PlotHorizontalLine] = []
    public var width = 760.0
    public var height = 460.0

    public init(
        title: String, x: PlotAxis, y: PlotAxis, series: [PlotSeries], verticalLines: [PlotVerticalLine] = [],
        horizontalLines: [PlotHorizontalLine] = []
    ) {
        (self.title, self.x, self.y, self.series, self.verticalLines, self.horizontalLines) = (title, x, y, series, verticalLines, horizontalLines)
    }

    /// The colour of the series at `index`: its own, or the palette's.
    func color(ofSeries index: Int) -> String { series[index].color ?? Self.palette[index % Self.palette.count] }

    /// Ten colors that stay apart for most readers (Tableau 10).
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// The plot area in pixels: left, top, right, bottom.
    var frame: (left: Double, top: Double, right: Double, bottom: Double) { (78, 48, width - 200, height - 62) }

    /// The x and y ranges shown.
    var domains: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let points = series.flatMap(\.points)
        let ys = points.flatMap { point in [point.y - (point.error ?? 0), point.y + (point.error ?? 0)] }
        return (x.domain(of: points.map(\.x) + verticalLines.map(\.x)), y.domain(of: ys + horizontalLines.map(\.y)))
    }

    /// Pixel coordinates of a data point; `domains` computed once by a caller that places many points.
    func position(_ px: Double, _ py: Double, in domains: (x: ClosedRange<Double>, y: ClosedRange<Double>)? = nil) -> (x: Double, y: Double) {
        let (xDomain, yDomain) = domains ?? self.domains
        let f = frame
        return (f.left + x.fraction(of: px, in: xDomain) * (f.right - f.left),
                f.bottom - y.fraction(of: py, in: yDomain) * (f.bottom - f.top))
    }

    /// The SVG document.
    public func svg() -> String {
        let domains = self.domains
        let (xDomain, yDomain) = domains
        // The domains span every point: computed once here, not once per point placed.
        func position(_ px: Double, _ py: Double) -> (x: Double, y: Double) { self.position(px, py, in: domains) }
        let f = frame
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n((f.left + f.right) / 2))" y="26" text-anchor="middle" font-size="15" font-weight="bold">\(escaped(title))</text>

            """
        // Grid and tick labels.
        for tick in x.ticks(in: xDomain) {
            let p = position(tick, yDomain.lowerBound).x
            out += "<line x1=\"\(n(p))\" y1=\"\(n(f.top))\" x2=\"\(n(p))\" y2=\"\(n(f.bottom))\" stroke=\"#e3e3e3\"/>\n"
            out += "<text x=\"\(n(p))\" y=\"\(n(f.bottom + 17))\" text-anchor=\"middle\">\(escaped(x.label(ofTick: tick)))</text>\n"
        }
        for tick in y.ticks(in: yDomain) {
            let p = position(xDomain.lowerBound, tick).y
            out += "<line x1=\"\(n(f.left))\" y1=\"\(n(p))\" x2=\"\(n(f.right))\" y2=\"\(n(p))\" stroke=\"#e3e3e3\"/>\n"
            out += "<text x=\"\(n(f.left - 7))\" y=\"\(n(p + 4))\" text-anchor=\"end\">\(escaped(y.label(ofTick: tick)))</text>\n"
        }
        out += "<rect x=\"\(n(f.left))\" y=\"\(n(f.top))\" width=\"\(n(f.right - f.left))\" height=\"\(n(f.bottom - f.top))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(n((f.left + f.right) / 2))\" y=\"\(n(height - 18))\" text-anchor=\"middle\" font-size=\"13\">\(escaped(x.label))</text>\n"
        let yMiddle = (f.top + f.bottom) / 2
        out += "<text x=\"20\" y=\"\(n(yMiddle))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 20 \(n(yMiddle)))\">\(escaped(y.label))</text>\n"

        // Vertical lines: dashed, labeled inside the top of the frame, one label row each so neighbours do not overlap.
        for (row, line) in verticalLines.enumerated() where line.x.isFinite && (x.scale == .linear || line.x > 0) {
            let p = position(line.x, yDomain.lowerBound).x
            guard p >= f.left - 0.5 && p <= f.right + 0.5 else { continue }
            out += "<line x1=\"\(n(p))\" y1=\"\(n(f.top))\" x2=\"\(n(p))\" y2=\"\(n(f.bottom))\" stroke=\"#777\" stroke-width=\"1.2\" stroke-dasharray=\"3 3\"/>\n"
            out += "<text x=\"\(n(p + 4))\" y=\"\(n(f.top + 14 + 15 * Double(row)))\" fill=\"#555\">\(escaped(line.label))</text>\n"
        }

        // Horizontal lines: dashed across the frame, labeled above their right end.
        for line in horizontalLines where line.y.isFinite && (y.scale == .linear || line.y > 0) {
            let p = position(xDomain.lowerBound, line.y).y
            guard p >= f.top - 0.5 && p <= f.bottom + 0.5 else { continue }
            out += "<line x1=\"\(n(f.left))\" y1=\"\(n(p))\" x2=\"\(n(f.right))\" y2=\"\(n(p))\" stroke=\"#777\" stroke-width=\"1.2\" stroke-dasharray=\"3 3\"/>\n"
            out += "<text x=\"\(n(f.right - 4))\" y=\"\(n(p - 5))\" text-anchor=\"end\" fill=\"#555\">\(escaped(line.label))</text>\n"
        }

        // Series, clipped to the frame widened by a marker's size, so that points, markers and error-bar caps on
        // the frame's edge (a fixed range's ends) are drawn whole.
        let margin = 6.0
        out += "<clipPath id=\"frame\"><rect x=\"\(n(f.left - margin))\" y=\"\(n(f.top - margin))\" width=\"\(n(f.right - f.left + 2 * margin))\" height=\"\(n(f.bottom - f.top + 2 * margin))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#frame)\">\n"
        for (index, line) in series.enumerated() {
            let color = color(ofSeries: index)
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            for run in drawableRuns(line.points) where run.count > 1 && line.lines {
                let coordinates = run.map { position($0.x, $0.y) }.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            }
            for point in drawableRuns(line.points).joined() {
                let p = position(point.x, point.y)
                if let error = point.error, error > 0, error.isFinite {
                    // On a log axis a bar reaching zero or below is cut at the bottom of the frame.
                    let bottom = y.scale == .logarithmic ? Swift.max(point.y - error, yDomain.lowerBound) : point.y - error
                    let low = position(point.x, bottom).y, high = position(point.x, point.y + error).y
                    out += "<path d=\"M\(n(p.x)) \(n(low))V\(n(high))M\(n(p.x - 4)) \(n(low))h8M\(n(p.x - 4)) \(n(high))h8\" stroke=\"\(color)\" stroke-width=\"1.3\"/>\n"
                }
                if line.markers { out += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"3.2\" fill=\"\(color)\"/>\n" }
            }
        }
        out += "</g>\n"

        // Legend to the right of the frame.
        let rowHeight = min(20, (f.bottom - f.top) / Double(max(series.count, 1)))
        for (index, line) in series.enumerated() {
            let color = color(ofSeries: index)
            let rowY = f.top + 8 + Double(index) * rowHeight
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if line.lines {
                out += "<line x1=\"\(n(f.right + 14))\" y1=\"\(n(rowY))\" x2=\"\(n(f.right + 40))\" y2=\"\(n(rowY))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            }
            if line.markers { out += "<circle cx=\"\(n(f.right + 27))\" cy=\"\(n(rowY))\" r=\"3.2\" fill=\"\(color)\"/>\n" }
            out += "<text x=\"\(n(f.right + 46))\" y=\"\(n(rowY + 4))\">\(escaped(line.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// The points that can be drawn (finite, positive on log axes), split where one cannot.
    func drawableRuns(_ points: [PlotPoint]) -> [[PlotPoint]] {
        var runs: [[PlotPoint]] = [[]]
        for point in points {
            let drawable = point.x.isFinite && point.y.isFinite && (x.scale == .linear || point.x > 0)
                && (y.scale == .linear || point.y > 0)
            if drawable { runs[runs.count - 1].append(point) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        return runs.filter { !$0.isEmpty }
    }

    /// Writes `svg()` atomically.
    public func write(to url: URL) throws { try ResultFiles.write(Data(svg().utf8), to: url) }
}

/// A tick's label: as short as the value allows ("0.05", "2", "1e+04" for large powers).
func tickLabel(_ value: Double) -> String {
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.0e", value) }
    var text = String(format: "%.4f", value)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}

/// A pixel coordinate with one decimal.
private func n(_ value: Double) -> String { String(format: "%.1f", value) }

/// Text with XML's special characters escaped.
func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
