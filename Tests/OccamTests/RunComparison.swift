import Foundation
import Testing

/// The results of a run directory that must not depend on where it ran: every CSV table, JSON and JSON-lines
/// file (config.json files aside: they record the command line) and safetensors, by path relative to `run`
/// ("replicate-0/width-8/final.safetensors"). Wall-clock and memory measurements are blanked: JSON keys
/// named *seconds* or *Seconds*, *PerSecond, peakResidentBytes and kernel fits' timings; CSV columns
/// named *seconds, *_s or peak_resident_bytes.
func comparableResults(of run: URL) throws -> [String: String] {
    let files = try contentsOfFiles(under: run).reduce(into: [String: Data]()) { files, file in
        files[file.key.hasPrefix("/") ? String(file.key.dropFirst()) : file.key] = file.value
    }
    return files.filter { path, _ in
        !path.hasPrefix("slurm/") && !path.hasSuffix("config.json")
            && [".csv", ".json", ".jsonl", ".safetensors"].contains { path.hasSuffix($0) }
    }.mapValues { data in String(decoding: data, as: UTF8.self) }
        .reduce(into: [:]) { results, file in
            let (path, text) = file
            if path.hasSuffix(".safetensors") {
                results[path] = text
            } else if path.hasSuffix(".csv") {
                let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
                let timed = Set(rows.first?.indices.filter { column in
                    let name = rows[0][column]
                    return name.hasSuffix("seconds") || name.hasSuffix("_s") || name == "peak_resident_bytes"
                } ?? [])
                results[path] = rows.map { row in row.indices.filter { !timed.contains($0) }.map { row[$0] }.joined(separator: ",") }
                    .joined(separator: "\n")
            } else {
                results[path] = text
                    .replacing(#/"(\w*[sS]econds\w*|\w*PerSecond|peakResidentBytes)"\s*:\s*[-+0-9.eE]+/#) { "\"\($0.1)\":-" }
                    .replacing(#/"timings"\s*:\s*\{[^}]*\}/#) { _ in "\"timings\":-" }
            }
        }
}

/// The single run directory under `root`.
func runDirectory(under root: URL) throws -> URL {
    let entries = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
    return try #require(entries.count == 1 ? entries.first : nil, "expected one run directory under \(root.path), found \(entries.count)")
}

