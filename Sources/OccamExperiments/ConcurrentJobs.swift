import Foundation
import Synchronization

/// Runs independent jobs 0..<count on up to `threads` threads at once (each thread takes the next job when it
/// finishes one), and returns when all have run. With one thread the jobs run in order on the calling thread.
///
/// The first error thrown stops new jobs from starting (jobs already running finish) and is rethrown.
/// Each job must touch only its own state; anything shared must be synchronized by the caller.
func runConcurrently(count: Int, threads: Int, _ job: (Int) throws -> Void) throws {
    if threads <= 1 || count <= 1 {
        for index in 0..<count { try job(index) }
        return
    }
    let next = Atomic<Int>(0)
    let firstError = Mutex<(any Error)?>(nil)
    let finished = DispatchSemaphore(value: 0)
    let workers = min(threads, count)
    try withoutActuallyEscaping(job) { job in
        // Every worker is joined below before `job` goes out of scope.
        nonisolated(unsafe) let work = job
        for _ in 0..<workers {
            let thread = Thread {
                while firstError.withLock({ $0 == nil }) {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { break }
                    do { try work(index) } catch { firstError.withLock { if $0 == nil { $0 = error } } }
                }
                finished.signal()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        for _ in 0..<workers { finished.wait() }
        if let error = firstError.withLock({ $0 }) { throw error }
    }
}
