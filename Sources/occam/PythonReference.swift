import Foundation

/// Runs a peer script from Benchmarks/ (PyTorch, SciPy) with python3 and decodes the JSON object it prints on
/// standard output. Its standard error goes to a temporary file, which a pipe left unread could not: a full
/// pipe would block the script.
enum PythonReference {
    struct Failure: Error { var text: String }

    /// The script's JSON object, or why there is none (missing script, no python3, an error exit: its last
    /// line of standard error, followed by `install`, the packages to install). `environment` is added to this
    /// process's environment for the script.
    static func run(
        _ scriptPath: String, arguments: [String], install: String, environment: [String: String] = [:]
    ) -> Result<[String: Any], Failure> {
        guard FileManager.default.fileExists(atPath: scriptPath) else {
            return .failure(Failure(text: "run from the repository root, where \(scriptPath) is"))
        }
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("occam-python-\(getpid())-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: errorLog) }
        guard FileManager.default.createFile(atPath: errorLog.path, contents: nil), let errors = try? FileHandle(forWritingTo: errorLog) else {
            return .failure(Failure(text: "cannot write \(errorLog.path)"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptPath] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { return .failure(Failure(text: "cannot start python3: \(error)")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errors.close()
        guard process.terminationStatus == 0, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            let errorText = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            let reason = errorText.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(Failure(text: "\(reason) (\(install))"))
        }
        return .success(object)
    }
}
