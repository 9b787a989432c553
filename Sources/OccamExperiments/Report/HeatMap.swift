import Foundation
import OccamData

/// A grid of coloured cells with a colour-scale legend: a value over two ordered variables (test error over
/// width and epoch). Columns and rows are categories drawn at equal spacing, so log-spaced steps read as a log axis.
public struct HeatMap: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// One label per column, left to right.
    public var columns: [String]
    /// One label per row, bottom to top.
    public var rows: [String]
    /// `values[row][column]`, `[rows.count][columns.count]`; nil: not measured (drawn blank).
    public var values: [[Double?]]
    /// What the colour shows ("test error (%)").
    public var valueLabel: String
    /// Values at or below the lower bound take the scale's first colour, at or above the upper its last;
    /// nil: the range of the values.
    public var range: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, columns: [String], rows: [String], values: [[Double?]], valueLabel: String,
                range: ClosedRange<Double>? = nil) {
        precondition(values.count == rows.count && values.allSatisfy { $0.count == columns.count }, "HeatMap: values do not match the rows and columns")
        (self.title, self.xLabel, self.yLabel, self.columns, self.rows, self.values, self.valueLabel, self.range) =
            (title, xLabel, yLabel, columns, rows, values, valueLabel, range)
    }

    /// The colour range: `range`, or the lowest to the highest value (widened when they are equal).
    var scaleRange: ClosedRange<Double> {
        if let range { return range }
        let all = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        guard let low = all.min(), let high = all.max() else { return 0...1 }
        return low < high ? low...high : (low - 1)...(high + 1)
    }

    /// The cell's colour: its place in `scaleRange` on `SeriesColor.scale`.
    func color(of value: Double) -> String {
        let r = scaleRange
        return SeriesColor.scale((value - r.lowerBound) / (r.upperBound - r.lowerBound))
    }

    public func svg() -> String {
        let (left, top, plotWidth, plotHeight) = (80.0, 44.0, 560.0, 360.0)
        let (width, height) = (left + plotWidth + 110, top + plotHeight + 60)
        let cellWidth = plotWidth / Double(max(columns.count, 1)), cellHeight = plotHeight / Double(max(rows.count, 1))
        func n(_ value: Double) -> String { String(format: "%.1f", value) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(left + plotWidth / 2))" y="26" text-anchor="middle" font-size="15" font-weight="bold">\(escaped(title))</text>

            """
        for (row, rowValues) in values.enumerated() {
            let y = top + plotHeight - Double(row + 1) * cellHeight
            for (column, value) in rowValues.enumerated() {
                guard let value, value.isFinite else { continue }
                out += "<rect x=\"\(n(left + Double(column) * cellWidth))\" y=\"\(n(y))\" width=\"\(n(cellWidth + 0.5))\" height=\"\(n(cellHeight + 0.5))\" fill=\"\(color(of: value))\"><title>\(escaped(columns[column])), \(escaped(rows[row])): \(tickLabel(value))</title></rect>\n"
            }
        }
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        for (column, label) in columns.enumerated() {
            out += "<text x=\"\(n(left + (Double(column) + 0.5) * cellWidth))\" y=\"\(n(top + plotHeight + 17))\" text-anchor=\"middle\">\(escaped(label))</text>\n"
        }
        // At most about 10 row labels, evenly picked.
        let every = max(1, Int((Double(rows.count) / 10).rounded(.up)))
        for (row, label) in rows.enumerated() where row % every == 0 || row == rows.count - 1 {
            out += "<text x=\"\(n(left - 7))\" y=\"\(n(top + plotHeight - (Double(row) + 0.5) * cellHeight + 4))\" text-anchor=\"end\">\(escaped(label))</text>\n"
        }
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escaped(xLabel))</text>\n"
        let middle = top + plotHeight / 2
        out += "<text x=\"18\" y=\"\(n(middle))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(n(middle)))\">\(escaped(yLabel))</text>\n"

        // The legend: the scale from the lowest (bottom) to the highest (top) value, with five labelled ticks.
        let (barX, barWidth, steps) = (left + plotWidth + 24, 16.0, 40)
        let range = scaleRange, all = values.flatMap { $0.compactMap { $0 } }
        for step in 0..<steps {
            let t = (Double(step) + 0.5) / Double(steps)
            let y = top + plotHeight - Double(step + 1) * plotHeight / Double(steps)
            out += "<rect x=\"\(n(barX))\" y=\"\(n(y))\" width=\"\(n(barWidth))\" height=\"\(n(plotHeight / Double(steps) + 0.5))\" fill=\"\(SeriesColor.scale(t))\"/>\n"
        }
        out += "<rect x=\"\(n(barX))\" y=\"\(n(top))\" width=\"\(n(barWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        for tick in 0...4 {
            let value = range.lowerBound + Double(tick) / 4 * (range.upperBound - range.lowerBound)
            // The ends say so when values lie beyond them (drawn in the end colours).
            let beyond = tick == 4 && all.contains { $0 > range.upperBound } ? "≥ " : tick == 0 && all.contains { $0 < range.lowerBound } ? "≤ " : ""
            out += "<text x=\"\(n(barX + barWidth + 5))\" y=\"\(n(top + plotHeight - Double(tick) / 4 * plotHeight + 4))\">\(beyond)\(tickLabel((value * 10).rounded() / 10))</text>\n"
        }
        out += "<text x=\"\(n(barX + barWidth / 2))\" y=\"\(n(top - 8))\" text-anchor=\"middle\">\(escaped(valueLabel))</text>\n"
        return out + "</svg>\n"
    }

    public func write(to url: URL) throws { try ResultFiles.write(Data(svg().utf8), to: url) }
}
