import Foundation
import OccamData

/// A table written as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
public struct CSVTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]] = []) { (self.header, self.rows) = (header, rows) }

    /// The CSV text, one line per row after the header.
    public var text: String {
        func field(_ value: String) -> String {
            value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }
        return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// This table with `columns`' columns to the right (row i beside row i; equal row counts).
    public func appending(_ columns: CSVTable) -> CSVTable {
        precondition(rows.count == columns.rows.count, "appending \(columns.rows.count) rows of columns to \(rows.count) rows")
        return CSVTable(header: header + columns.header, rows: zip(rows, columns.rows).map { $0 + $1 })
    }

    /// Writes the table atomically.
    public func write(to url: URL) throws { try ResultFiles.write(Data(text.utf8), to: url) }
}

/// A number for a CSV file with every digit it has (the shortest text that reads back as the same Double:
/// "4.8e-06", "88.55"); "" for NaN, infinities or nil. HTML tables round it for reading.
func exact(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "" }
    return "\(value)"
}

/// A number for prose with `digits` decimal places; "" for NaN, infinities or nil.
func formatted(_ value: Double?, digits: Int = 4) -> String {
    guard let value, value.isFinite else { return "" }
    return String(format: "%.\(digits)f", value)
}
