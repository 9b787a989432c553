import ArgumentParser
import Foundation
import OccamData

/// `occam rerun DIR`: runs the command recorded in a run directory's config.json again, from the directory it
/// ran in. The same configuration hashes to the same directory, so finished stages are found and skipped and
/// an interrupted run continues; a binary whose defaults changed makes a new directory instead, and says so.
struct RerunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Run the command that made a run directory again (from its config.json).",
        discussion: """
            Every config.json records the command line that made it, the directory it ran in, and Occam's version \
            and commit. rerun runs that command line again from that directory (or from here, when it no longer \
            exists), with this binary: the same configuration finds the same run directory, so finished work is \
            skipped and an interrupted run continues. --dry-run prints the command instead.
            """)

    @Argument(help: "A run directory (the one holding config.json), or a config.json file.") var runDirectory: String
    @Flag(help: "Print the command and where it would run, and run nothing.") var dryRun = false

    func run() throws {
        var url = URL(fileURLWithPath: runDirectory)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            url = url.appendingPathComponent("config.json")
        }
        let provenance = try Self.provenance(in: url)
        let arguments = Array(provenance.commandLine.dropFirst())
        guard let first = arguments.first, first != "rerun" else {
            throw ValidationError("\(url.path) records no command to run again (its command line is \"\(provenance.commandLine.joined(separator: " "))\").")
        }
        let here = FileManager.default.currentDirectoryPath
        let workingDirectory = FileManager.default.fileExists(atPath: provenance.workingDirectory) ? provenance.workingDirectory : here
        let command = "occam " + arguments.map(Self.shellQuoted).joined(separator: " ")
        if dryRun {
            print("cd \(Self.shellQuoted(workingDirectory)) && \(command)")
            return
        }
        status("Running again, in \(workingDirectory)\(workingDirectory == provenance.workingDirectory ? "" : " (\(provenance.workingDirectory) no longer exists)"): \(command)")
        if provenance.version != Provenance.occamVersion || provenance.commit != Provenance.current.commit {
            status("It was made by \(provenance.versionDescription); this is \(Provenance.current.versionDescription).")
        }
        guard FileManager.default.changeCurrentDirectoryPath(workingDirectory) else {
            throw ValidationError("Cannot change to \(workingDirectory), where the command ran.")
        }
        var recorded = try Occam.parseAsRoot(arguments)
        try recorded.run()
    }

    /// The provenance in a config.json.
    static func provenance(in url: URL) throws -> Provenance {
        struct Header: Decodable { var occam: Provenance? }
        guard let data = try? Data(contentsOf: url) else {
            throw ValidationError("\(url.path) does not exist or cannot be read: give a run directory (the one holding config.json) or its config.json.")
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw ValidationError("\(url.path) is not a config.json written by occam.")
        }
        guard let provenance = header.occam else {
            throw ValidationError("\(url.path) records no command line (it was written before occam recorded one): run its command again by hand.")
        }
        return provenance
    }

    /// `text` as a shell reads it back: bare when safe, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,:/+@%")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
