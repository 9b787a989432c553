import Foundation
import Synchronization

/// `jobs`, or fewer, so that that many jobs of `bytesEach` bytes fit in 85% of the machine's memory; at least 1.
func jobsFittingInMemory(_ jobs: Int, bytesEach: Double) -> Int {
    let fitting = Double(ProcessInfo.processInfo.physicalMemory) * 0.85 / max(bytesEach, 1)
    return max(1, fitting >= Double(jobs) ? jobs : Int(fitting))
}

/// Runs independent jobs 0..<count on up to `threads` threads at once (each thread takes the next job when it
/// finishes one), and returns when all have run. With one thread the jobs run in order on the calling thread.
///
/// The first error thrown stops new jobs from starting (jobs already running finish) and is rethrown.
/// Each job must touch only its own state; anything shared must be synchronized by the caller. Worker
/// threads have 16 MB stacks and are joined before this returns.
func runConcurrently(count: Int, threads: Int, _ job: (Int) throws -> Void) throws {
    if threads <= 1 || count <= 1 {
        for index in 0..<count { try job(index) }
        return
    }
    let next = Atomic<Int>(0)
    let firstError = Mutex<(any Error)?>(nil)
    try withoutActuallyEscaping(job) { job in
        nonisolated(unsafe) let work = job
        let workers = (0..<min(threads, count)).map { _ in
            WorkerThread {
                while firstError.withLock({ $0 == nil }) {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { break }
                    do { try work(index) } catch { firstError.withLock { if $0 == nil { $0 = error } } }
                }
            }
        }
        // Joined here, so no thread holds `work` once the closure returns.
        for worker in workers { worker.join() }
        if let error = firstError.withLock({ $0 }) { throw error }
    }
}

/// A POSIX thread running one closure, which it releases before it ends; `join` waits for that.
private final class WorkerThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var thread = pthread_t()

    init(stackSize: Int = 16 << 20, _ run: @escaping () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        let status = pthread_create(&thread, &attributes, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, body)
        precondition(status == 0, "runConcurrently: pthread_create failed with error \(status)")
    }

    func join() { pthread_join(thread, nil) }
}
