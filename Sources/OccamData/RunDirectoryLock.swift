import Foundation

/// An advisory lock on a run directory, so that two processes (the same command started twice, two Slurm
/// tasks) never write one run at once: the second one fails, naming the process that holds the lock.
///
/// It is a `flock` on the file ".occam.lock" in the directory, which holds the holder's process ID. The
/// kernel releases the lock when the holder exits for any reason (a crash or `kill -9` included), so a lock
/// is never left stale; the file itself stays and is reused.
public final class RunDirectoryLock: @unchecked Sendable {
    /// The name of the lock file inside a locked directory.
    public static let fileName = ".occam.lock"

    public let directory: URL
    private var descriptor: Int32

    /// Takes the lock on `directory`, which must exist: exclusive (one writer of the whole run) or `shared`
    /// (one of many Slurm tasks, each writing only its own unit, which it locks exclusively on its own).
    /// `waiting` blocks until the holder releases it instead of failing (for work that several units need and
    /// the first one does, such as a distillation study's teacher).
    /// - Throws: `RunDirectoryLockError.held` (naming the holder's process ID) when another holder has it,
    ///   `.cannotLock` when the lock file cannot be opened or locked.
    public init(_ directory: URL, shared: Bool = false, waiting: Bool = false) throws {
        self.directory = directory
        let url = directory.appendingPathComponent(Self.fileName)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunDirectoryLockError.cannotLock(directory, reason: ResultFileError.describe(errno: errno))
        }
        guard flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | (waiting ? 0 : LOCK_NB)) == 0 else {
            let code = errno
            let holder = Self.holder(descriptor)
            close(descriptor)
            descriptor = -1
            if code == EWOULDBLOCK || code == EAGAIN { throw RunDirectoryLockError.held(directory, pid: holder) }
            throw RunDirectoryLockError.cannotLock(directory, reason: ResultFileError.describe(errno: code))
        }
        // Shared holders leave the file alone: it names the last exclusive holder.
        guard !shared else { return }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock (also done when the lock is deallocated, and by the kernel when the process ends).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    /// Locks `directory` for the rest of this process's life, exclusively or `shared`. A directory this
    /// process already holds is not locked again, so a study may reopen its own run.
    /// - Throws: as `init`.
    public static func holdForProcess(_ directory: URL, shared: Bool = false) throws {
        let key = directory.standardizedFileURL.resolvingSymlinksInPath().path
        heldLock.lock()
        defer { heldLock.unlock() }
        guard held[key] == nil else { return }
        held[key] = try RunDirectoryLock(directory, shared: shared)
    }

    /// The process ID written in the lock file, if it can be read.
    private static func holder(_ descriptor: Int32) -> pid_t? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return pid_t(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    nonisolated(unsafe) private static var held: [String: RunDirectoryLock] = [:]
    private static let heldLock = NSLock()
}

/// Why a run directory cannot be locked.
public enum RunDirectoryLockError: Error, CustomStringConvertible, Equatable {
    /// Another process (or another holder in this one) holds the lock.
    case held(URL, pid: pid_t?)
    case cannotLock(URL, reason: String)

    public var description: String {
        switch self {
        case let .held(url, pid):
            "\(url.path) is in use by another occam process\(pid.map { " (PID \($0))" } ?? ""): two runs writing one "
                + "directory would mix their results. Wait for it to finish or stop it\(pid.map { " (kill \($0))" } ?? ""), "
                + "or use another --out"
        case let .cannotLock(url, reason):
            "cannot lock \(url.path) for this run: \(reason)"
        }
    }
}
