import Foundation
import OccamData

/// A run's index.html: what was run (the configuration), then one section per figure or table, each with a
/// short text saying what it shows and links to the files behind it. Plain HTML; the figures are SVG files
/// next to it, so the report opens offline in any browser.
public struct HTMLReport: Sendable {
    /// One figure or table with its explanation.
    public struct Section: Sendable {
        public var title: String
        /// What the figure shows and how to read it (plain text; paragraphs separated by blank lines).
        public var text: String
        /// An SVG file in the run directory, shown inline.
        public var image: String?
        /// A table shown below the text.
        public var table: CSVTable?
        /// Files the section is made from: (label, relative path).
        public var links: [(label: String, path: String)]

        public init(title: String, text: String, image: String? = nil, table: CSVTable? = nil, links: [(label: String, path: String)] = []) {
            (self.title, self.text, self.image, self.table, self.links) = (title, text, image, table, links)
        }
    }

    public var title: String
    /// The opening paragraphs: what the experiment asks and what was measured.
    public var introduction: String
    public var sections: [Section]
    /// The run's config.json, shown verbatim (it is written pretty-printed; see `configurationText(in:)`).
    public var configurationJSON: String
    /// Every run's (stage's) directory, relative to the report: (label, path), linked at the end.
    public var runs: [(label: String, path: String)]

    public init(title: String, introduction: String, sections: [Section], configurationJSON: String, runs: [(label: String, path: String)] = []) {
        (self.title, self.introduction, self.sections, self.configurationJSON, self.runs) = (title, introduction, sections, configurationJSON, runs)
    }

    /// The text of `directory`/config.json as written (pretty-printed, keys sorted).
    public static func configurationText(in directory: URL) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("config.json"), encoding: .utf8)
    }

    /// The HTML document.
    public var html: String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escaped(title))</title>
            <style>
            body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; overflow-wrap: break-word; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
            .table { max-width: 100%; overflow-x: auto; margin: 0.8em 0; }
            table { border-collapse: collapse; font-size: 0.85em; }
            td, th { border: 1px solid #ccc; padding: 2px 7px; text-align: right; } td { white-space: nowrap; } th { background: #f3f3f3; vertical-align: bottom; min-width: 4em; }
            pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
            img { max-width: 100%; height: auto; border: 1px solid #eee; } .links { font-size: 0.9em; }
            </style></head><body>
            <h1>\(escaped(title))</h1>

            """
        out += paragraphs(introduction)
        out += "<ul>" + sections.enumerated().map { "<li><a href=\"#s\($0.offset)\">\(escaped($0.element.title))</a></li>" }.joined() + "</ul>\n"
        for (index, section) in sections.enumerated() {
            out += "<h2 id=\"s\(index)\">\(escaped(section.title))</h2>\n"
            if let image = section.image { out += "<p><a href=\"\(escaped(image))\"><img src=\"\(escaped(image))\" alt=\"\(escaped(section.title))\"></a></p>\n" }
            out += paragraphs(section.text)
            if let table = section.table { out += htmlTable(table) }
            if !section.links.isEmpty {
                out += "<p class=\"links\">Files: " + section.links.map { "<a href=\"\(escaped($0.path))\">\(escaped($0.label))</a>" }
                    .joined(separator: " · ") + "</p>\n"
            }
        }
        if !runs.isEmpty {
            out += "<h2>Run directories</h2>\n<p>Each run's own files (config.json, metrics.jsonl, summary.json, checkpoints):</p>\n"
            out += "<p class=\"links\">" + runs.map { "<a href=\"\(escaped($0.path))/\">\(escaped($0.label))</a>" }.joined(separator: " · ") + "</p>\n"
        }
        out += "<h2>Configuration</h2>\n<p class=\"links\"><a href=\"config.json\">config.json</a>: the run directory's name is a hash of it.</p>\n"
        out += "<pre>\(escaped(configurationJSON))</pre>\n</body></html>\n"
        return out
    }

    /// Writes `html` atomically to `directory`/index.html.
    public func write(in directory: URL) throws {
        try ResultFiles.write(Data(html.utf8), to: directory.appendingPathComponent("index.html"))
    }

    private func paragraphs(_ text: String) -> String {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { "<p>\(escaped($0))</p>\n" }.joined()
    }

    /// The table in a box that scrolls sideways when it is wider than the page, with column titles in words
    /// and numbers rounded for reading (the CSV file keeps every digit).
    private func htmlTable(_ table: CSVTable) -> String {
        "<div class=\"table\"><table><tr>" + table.header.map { "<th>\(escaped(Self.columnTitle($0)))</th>" }.joined() + "</tr>\n"
            + table.rows.map { "<tr>" + $0.map { "<td>\(escaped(Self.displayed($0)))</td>" }.joined() + "</tr>\n" }.joined() + "</table></div>\n"
    }

    /// A CSV column name in words: "weights_remaining_percent" reads "weights remaining (%)",
    /// "test_barrier_std_pp" "test barrier sd (pp)", "build_s" "build (s)".
    static func columnTitle(_ name: String) -> String {
        let words = name.split(separator: "_").map(String.init)
        return words.enumerated().map { index, word in
            switch word {
            case "percent": "(%)"
            case "pp": "(pp)"
            case "std": "sd"
            case "bytes": "(bytes)"
            case "s" where index == words.count - 1 && index > 0: "(s)"
            case "seconds" where index == words.count - 1 && index > 0: "(s)"
            default: word
            }
        }.joined(separator: " ")
    }

    /// A table cell for reading: a number with a fraction rounded to 4 significant digits (whole numbers from
    /// 1000 up to units); anything else as it is.
    static func displayed(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "." || $0 == "e" }), let value = Double(cell), value.isFinite else { return cell }
        if value == value.rounded() && abs(value) < 1e15 { return String(format: "%.0f", value) }
        return abs(value) >= 1000 ? String(format: "%.0f", value) : String(format: "%.4g", value)
    }
}
