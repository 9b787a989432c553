import Foundation

/// Stops long work cleanly on Ctrl-C (SIGINT), SIGTERM (what Slurm sends at the time limit) and SIGHUP (a
/// closed terminal): the first such signal only sets a flag that training loops read at each step boundary,
/// where they write a resume checkpoint and stop; a second one stops the process at once. A closed pipe
/// (`occam train | head`) is ignored, so output to it fails quietly instead of killing the run.
public enum Interruption {
    /// Installs the handlers (once; later calls do nothing). Call it before long work that checks
    /// `requestedSignal`.
    public static func install() {
        installation.lock()
        defer { installation.unlock() }
        guard !installed else { return }
        installed = true
        signal(SIGPIPE, SIG_IGN)
        // A process may start with these signals blocked (the mask is inherited across exec, e.g. from a
        // launcher's thread): unblock them on this thread, or they would stay pending and never stop the run.
        var set = sigset_t()
        sigemptyset(&set)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number) { number in
                if receivedSignal != 0 {
                    // A second signal: the default action (stop now).
                    signal(number, SIG_DFL)
                    raise(number)
                    return
                }
                receivedSignal = number
                let message: StaticString =
                    "\noccam: stopping at the next step to write a resume checkpoint (send the signal again to stop at once)\n"
                _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
            }
        }
    }

    /// Ignores SIGPIPE only: output to a closed pipe (`occam train | head`) then fails quietly instead of
    /// killing the process. Commands call it first; `install()` does it too.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// The name of the first signal received since `install()` ("SIGTERM"), or nil when there was none.
    public static var requestedSignal: String? {
        switch receivedSignal {
        case 0: nil
        case SIGINT: "SIGINT (Ctrl-C)"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case let other: "signal \(other)"
        }
    }

    nonisolated(unsafe) private static var installed = false
    private static let installation = NSLock()
}

/// The first stopping signal received (0: none). Written only by the signal handler, read by training loops.
nonisolated(unsafe) private var receivedSignal: sig_atomic_t = 0
