import Foundation
import OccamData

/// An experiment's configuration: everything that decides its results, and nothing else (not where they
/// go, not how verbose the output is).
public protocol ExperimentConfiguration: Codable, Sendable, Equatable {
    /// The experiment's name: it starts the run directory's name and is config.json's "experiment".
    static var experimentName: String { get }
    /// A readable part of the run directory's name ("lenet-300-100-fashion-mnist").
    var label: String { get }
}

/// config.json of an experiment's run: which experiment, in which precision, with what configuration, and
/// what produced it (Occam's version and commit, the command line).
public struct StoredConfiguration<Configuration: ExperimentConfiguration>: Codable, Sendable {
    public var experiment: String
    public var precision: String
    public var configuration: Configuration
    /// What created the run directory; nil in files written before it was recorded. Never part of the hash
    /// that names the directory (it is nil there, and nil is not encoded).
    public var occam: Provenance?

    public init(experiment: String, precision: String, configuration: Configuration, occam: Provenance? = nil) {
        (self.experiment, self.precision, self.configuration, self.occam) = (experiment, precision, configuration, occam)
    }
}

/// What a process writes in a run directory, and so how it locks it.
public enum RunAccess: Sendable, Equatable {
    /// The whole run (a local run, a Slurm submission): no other process may hold the directory.
    case wholeRun
    /// Only unit `I`'s directories (a Slurm array task): other units' tasks may run beside it, a whole run may not.
    case unit(Int)
    /// Reading what is finished (`--units`): no lock, so it works while a local run or tasks write the run.
    case reading
}

/// Where runs live: one directory per configuration under a root (`--out`, default `runs/`), named after the
/// experiment, a label and a hash of the canonical JSON, as OpenLTH does. Running the same configuration
/// again finds the same directory; every stage there whose outputs exist is skipped, so an interrupted run
/// picks up where it stopped.
public enum RunStore {
    /// JSON with sorted keys and no whitespace: equal values give equal bytes.
    public static func canonicalJSON<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// 16 hex digits of the 64-bit FNV-1a hash of `bytes`.
    public static func hash(_ bytes: Data) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// "<experiment>-<label>-<hash>": the run directory's name for `configuration` in `precision`.
    public static func directoryName<Configuration: ExperimentConfiguration>(
        for configuration: Configuration, precision: String
    ) throws -> String {
        let stored = StoredConfiguration(
            experiment: Configuration.experimentName, precision: precision, configuration: configuration)
        return "\(Configuration.experimentName)-\(configuration.label)-\(hash(try canonicalJSON(stored)))"
    }

    /// The run directory of `configuration` under `root`, created with its config.json if new, and locked for
    /// the rest of this process's life (`RunDirectoryLock`).
    ///
    /// - Throws: `RunStoreError.foreignDirectory` when the directory holds another configuration's
    ///   config.json (a hash collision or a hand-edited file), `RunDirectoryLockError.held` when another
    ///   process is writing the run, and `ResultFileError`.
    public static func open<Configuration: ExperimentConfiguration>(
        _ configuration: Configuration, precision: String, under root: URL, access: RunAccess = .wholeRun
    ) throws -> URL {
        let directory = root.appendingPathComponent(try directoryName(for: configuration, precision: precision))
        let url = directory.appendingPathComponent("config.json")
        // One process at a time writes a run, or one process per unit (held until this process ends).
        try ResultFiles.prepareDirectory(directory)
        switch access {
        case .wholeRun:
            try RunDirectoryLock.holdForProcess(directory)
        case .unit(let unit):
            try RunDirectoryLock.holdForProcess(directory, shared: true)
            let unitLock = directory.appendingPathComponent("slurm/locks/unit-\(unit)")
            try ResultFiles.prepareDirectory(unitLock)
            try RunDirectoryLock.holdForProcess(unitLock)
        case .reading:
            break
        }
        if FileManager.default.fileExists(atPath: url.path) {
            let existing = try readConfiguration(Configuration.self, in: directory)
            guard existing.configuration == configuration, existing.precision == precision else {
                throw RunStoreError.foreignDirectory(directory)
            }
            return directory
        }
        try ResultFiles.prepareDirectory(directory)
        try ResultFiles.writeJSON(
            StoredConfiguration(
                experiment: Configuration.experimentName, precision: precision, configuration: configuration, occam: .current),
            to: url)
        return directory
    }

    /// The experiment named in `directory`/config.json.
    /// - Throws: `RunStoreError.notARun` when there is no readable config.json with an "experiment".
    public static func experimentName(in directory: URL) throws -> String {
        struct Header: Decodable { var experiment: String }
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url), let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw RunStoreError.notARun(directory)
        }
        return header.experiment
    }

    /// The stored configuration of the run in `directory`.
    /// - Throws: `RunStoreError.notARun` when config.json is missing or is not this experiment's,
    ///   `.unreadable` when it is this experiment's but cannot be decoded.
    public static func readConfiguration<Configuration: ExperimentConfiguration>(
        _: Configuration.Type, in directory: URL
    ) throws -> StoredConfiguration<Configuration> {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else { throw RunStoreError.notARun(directory) }
        guard try experimentName(in: directory) == Configuration.experimentName else { throw RunStoreError.notARun(directory) }
        do {
            return try JSONDecoder().decode(StoredConfiguration<Configuration>.self, from: data)
        } catch {
            throw RunStoreError.unreadable(url, reason: "it is not a \(Configuration.experimentName) configuration this version of occam reads (\(RunStoreError.explain(error)))")
        }
    }

    /// Whether the stage whose results go to `directory` has finished: its summary.json is written last.
    public static func isComplete(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("summary.json").path)
    }

    /// Decodes `url` as JSON.
    public static func readJSON<Value: Decodable>(_: Value.Type, from url: URL) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(contentsOf: url))
        } catch {
            throw RunStoreError.unreadable(url, reason: RunStoreError.explain(error))
        }
    }

    /// Decodes every line of the JSON Lines file at `url`.
    public static func readJSONLines<Value: Decodable>(_: Value.Type, from url: URL) throws -> [Value] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw RunStoreError.unreadable(url, reason: RunStoreError.explain(error))
        }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").enumerated().map { number, line in
            do { return try decoder.decode(Value.self, from: Data(line.utf8)) } catch {
                throw RunStoreError.unreadable(url, reason: "line \(number + 1) is not a valid record")
            }
        }
    }
}

/// Why a directory cannot be used as a run.
public enum RunStoreError: Error, CustomStringConvertible {
    /// A decoding or file error in words: which field is missing or has the wrong type, or what the file
    /// system said (instead of Foundation's dump of the error).
    public static func explain(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type (\(context.debugDescription))"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return ResultFileError.reason(error)
        }
    }

    /// No config.json naming an experiment (or not the expected one).
    case notARun(URL)
    /// config.json holds a different configuration than the one that hashes to this directory.
    case foreignDirectory(URL)
    /// A result file that exists but cannot be decoded.
    case unreadable(URL, reason: String)

    public var description: String {
        switch self {
        case .notARun(let url):
            "\(url.path) is not a run directory: it has no config.json written by an occam experiment (give the directory that holds config.json)"
        case .foreignDirectory(let url):
            "\(url.path) holds a config.json for another configuration; move it away or use another --out"
        case let .unreadable(url, reason):
            "cannot read \(url.path): \(reason); delete it and run the same command again to recompute it"
        }
    }
}
