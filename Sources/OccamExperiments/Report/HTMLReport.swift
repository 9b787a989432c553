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
    /// The run's config.json, shown verbatim.
    public var configurationJSON: String

    public init(title: String, introduction: String, sections: [Section], configurationJSON: String) {
        (self.title, self.introduction, self.sections, self.configurationJSON) = (title, introduction, sections, configurationJSON)
    }

    /// The HTML document.
    public var html: String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escaped(title))</title>
            <style>
            body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
            td, th { border: 1px solid #ccc; padding: 2px 7px; text-align: right; } th { background: #f3f3f3; }
            pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
            img { max-width: 100%; border: 1px solid #eee; } .links { font-size: 0.9em; }
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

    private func htmlTable(_ table: CSVTable) -> String {
        "<table><tr>" + table.header.map { "<th>\(escaped($0))</th>" }.joined() + "</tr>\n"
            + table.rows.map { "<tr>" + $0.map { "<td>\(escaped($0))</td>" }.joined() + "</tr>\n" }.joined() + "</table>\n"
    }
}
