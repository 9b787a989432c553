import Foundation

/// What produced a result: Occam's version, the commit of the source checkout the `occam` executable runs
/// from, and the command line. Written into every config.json beside the configuration (never into the hash
/// that names a run directory, so the same configuration finds the same directory whoever runs it).
public struct Provenance: Codable, Sendable, Equatable {
    /// Occam's version ("0.1.0").
    public var version: String
    /// The git commit checked out (HEAD) in the source tree the executable lives in (`.build/release/occam`
    /// lives in its checkout); nil when the executable is not inside a git checkout. It does not see uncommitted
    /// changes, and the build may be older than the checkout.
    public var commit: String?
    /// The process's arguments, the executable first: what to run again (`occam rerun`).
    public var commandLine: [String]
    /// The working directory the command ran in (relative paths such as `--out runs` start there).
    public var workingDirectory: String

    public init(version: String = Provenance.occamVersion, commit: String?, commandLine: [String], workingDirectory: String) {
        (self.version, self.commit, self.commandLine, self.workingDirectory) = (version, commit, commandLine, workingDirectory)
    }

    /// Occam's version.
    public static let occamVersion = "0.1.0"

    /// This process's provenance (found once).
    public static let current: Provenance = {
        let arguments = ProcessInfo.processInfo.arguments
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments.first ?? "")
        return Provenance(
            commit: commit(ofCheckoutHolding: executable), commandLine: arguments,
            workingDirectory: FileManager.default.currentDirectoryPath)
    }()

    /// "occam 0.1.0 (commit 5cd438b…)": what `occam --version` prints.
    public var versionDescription: String {
        "occam \(version)" + (commit.map { " (commit \($0))" } ?? "")
    }

    /// The commit checked out in the git work tree that holds `file`, read from the .git directory's files
    /// (no git process): HEAD, the branch it names, then packed-refs. nil outside a checkout.
    public static func commit(ofCheckoutHolding file: URL) -> String? {
        var directory = file.deletingLastPathComponent().standardizedFileURL
        while directory.path != "/" {
            let dotGit = directory.appendingPathComponent(".git")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) {
                var gitDirectory = dotGit
                if !isDirectory.boolValue {
                    // A worktree or submodule: ".git" is a file "gitdir: PATH".
                    guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
                    let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
                    gitDirectory = URL(fileURLWithPath: path, relativeTo: directory).standardizedFileURL
                }
                return commit(inGitDirectory: gitDirectory)
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    static func commit(inGitDirectory git: URL) -> String? {
        func read(_ url: URL) -> String? {
            (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = read(git.appendingPathComponent("HEAD")) else { return nil }
        guard head.hasPrefix("ref:") else { return head.isEmpty ? nil : head }
        let reference = head.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces)
        // A linked worktree keeps its HEAD but shares refs with the main repository ("commondir").
        var roots = [git]
        if let common = read(git.appendingPathComponent("commondir")) {
            roots.append(URL(fileURLWithPath: common, relativeTo: git.appendingPathComponent("x")).standardizedFileURL)
        }
        for root in roots {
            if let commit = read(root.appendingPathComponent(reference)), !commit.isEmpty { return commit }
            if let packed = read(root.appendingPathComponent("packed-refs")) {
                for line in packed.split(separator: "\n") where line.hasSuffix(" " + reference) {
                    return String(line.split(separator: " ")[0])
                }
            }
        }
        return nil
    }
}
