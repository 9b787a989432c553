import Foundation
import Testing

/// Writes `bytes` to `folder/name` (creating the folder); with `gzip`, compresses it with the system's gzip
/// (an encoder independent of Occam) and returns the `.gz` path.
@discardableResult
func writeTestFile(_ bytes: [UInt8], _ name: String, in folder: URL, gzip: Bool = false) throws -> URL {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    guard gzip else { return url }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-n", "-f", url.path]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0)
    return url.appendingPathExtension("gz")
}
