import Dispatch
import Foundation
import COccamKernels
import Synchronization

/// A second thread that runs half of a mid-size computation while the caller runs the other half.
///
/// OpenBLAS's own threading does not pay off below roughly 256³ multiply-adds, and a Dispatch worker that
/// sleeps between calls wakes too late to help a 200 µs product (the caller ends up running both halves).
/// This worker spins for a short while after each job, so the next product of a training step finds it
/// awake, then parks on a semaphore so an idle process does not burn a core.
final class SpinningWorker: @unchecked Sendable {
    /// The shared worker; nil on a single-core machine.
    static let shared: SpinningWorker? = coreCount > 1 ? SpinningWorker() : nil

    /// How long the worker spins after a job before parking.
    private let spinNanoseconds: UInt64 = 200_000
    private let posted = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    /// The last ticket whose job someone (worker or caller) took; a job runs once, on whoever takes it.
    private let claimed = Atomic<Int>(0)
    private let parked = Atomic<Bool>(false)
    private let inUse = Atomic<Bool>(false)
    private let wakeUp = DispatchSemaphore(value: 0)
    /// The job for ticket `posted`; written by the caller before it publishes the ticket.
    private var job: (() -> Void)?

    private init() {
        // glibc gives the worker's thread its own arena, and by default trims an arena's top as soon as 2-4 MB
        // there are free: a training step that frees its tensors then pays page faults on the next step's (measured
        // while trying LeNet-300-100 in halves side by side: 2.8 ms a step instead of 1.2 ms). The occam command
        // sets this at start; this covers other programs using the library.
        occam_keep_freed_memory_for_reuse()
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "occam-worker"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `theirs` on the worker and `mine` on the calling thread, and returns when both are done. If the
    /// worker has not picked `theirs` up by the time `mine` is done (it was descheduled on a busy machine),
    /// the caller runs it too, so a loaded machine never leaves the caller waiting.
    /// Returns false without running anything if the worker is busy with another caller's job.
    func run(_ theirs: () -> Void, alongside mine: () -> Void) -> Bool {
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { inUse.store(false, ordering: .releasing) }
        withoutActuallyEscaping(theirs) { theirs in
            job = theirs
            let ticket = posted.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            if parked.load(ordering: .sequentiallyConsistent) { wakeUp.signal() }
            mine()
            if claimed.compareExchange(expected: ticket - 1, desired: ticket, ordering: .acquiringAndReleasing).exchanged {
                theirs()
            } else {
                while completed.load(ordering: .acquiring) != ticket {}
            }
            job = nil
        }
        return true
    }

    private func serve() {
        var done = 0
        while true {
            var spinStart: UInt64 = 0
            var spins = 0
            while posted.load(ordering: .acquiring) == done {
                spins += 1
                if spins & 255 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now }
                if now - spinStart < spinNanoseconds { continue }
                // Park; the caller signals if it sees `parked` after posting (both sides are sequentially
                // consistent, so one of them sees the other's write).
                parked.store(true, ordering: .sequentiallyConsistent)
                if posted.load(ordering: .sequentiallyConsistent) == done { wakeUp.wait() }
                parked.store(false, ordering: .sequentiallyConsistent)
                spinStart = 0
            }
            let ticket = posted.load(ordering: .acquiring)
            if claimed.compareExchange(expected: ticket - 1, desired: ticket, ordering: .acquiringAndReleasing).exchanged {
                job?()
                completed.store(ticket, ordering: .releasing)
            }
            done = ticket
        }
    }
}

/// Makes malloc keep memory a thread frees for reuse instead of returning it to the system at once (see
/// `occam_keep_freed_memory_for_reuse`): without it, tensors freed by a training step are paid again in page faults by
/// the next one. Call it before starting threads; `SpinningWorker` calls it too, for programs that do not.
public func keepFreedMemoryForReuse() {
    occam_keep_freed_memory_for_reuse()
}

/// Elements of work above which a loop over independent items is split between the caller and
/// `SpinningWorker`.
public let splitWorkThreshold = 1 << 16

/// Runs `body` on 0..<count, as two halves on two cores (the caller and `SpinningWorker`) when `work` is at
/// least `splitWorkThreshold`, else on the calling thread. The halves must touch disjoint memory; the result
/// must not depend on the split (each item computed alone), so it is the same on any number of cores.
public func inTwoHalves(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    guard count >= 2 && work >= splitWorkThreshold else { return body(0..<count) }
    let middle = count / 2
    onTwoCoresWhenFree({ body(0..<middle) }, { body(middle..<count) })
}

/// Runs `first` on `SpinningWorker` and `second` on the calling thread at the same time when `allowed`, there is a
/// second core, the worker is free and this thread does not already share the cores (`CoreSharing`); otherwise both
/// on the calling thread, one after the other.
func onTwoCoresWhenFree(_ first: () -> Void, _ second: () -> Void, allowed: Bool = true) {
    if allowed && !CoreSharing.confinesThisThread, let worker = SpinningWorker.shared, worker.run(first, alongside: second) {
        return
    }
    first()
    second()
}

/// Whether this thread shares the cores with another computation (inside `sideBySide`): BLAS and LAPACK calls and
/// element-wise kernels on it then run single-threaded whatever their size, and a `sideBySide` or mid-size product
/// inside it runs on this thread alone.
public enum CoreSharing {
    @TaskLocal public static var confinesThisThread = false
}

/// Whether `sideBySide` runs its two computations on two cores here: there is a second core, BLAS may use two threads
/// but no more (with more cores, one computation at a time on all of them is faster for large products; with one
/// BLAS thread the process shares its cores with other jobs, as `runStudyJobs` does), and this thread is not already
/// sharing the cores.
public var runsSideBySide: Bool {
    SpinningWorker.shared != nil && BLASThreads.maximum == 2 && !CoreSharing.confinesThisThread
}

/// Runs `first` and `second`, which must touch disjoint memory, and returns their results.
///
/// Where `runsSideBySide`, both run confined to one thread each (`CoreSharing`): at the same time, `first` on
/// `SpinningWorker`, when the worker is free, else one after the other on the calling thread, so that their bits do
/// not depend on whether it was free. Elsewhere they run one after the other, as any other code there.
public func sideBySide<First, Second>(_ first: () -> First, _ second: () -> Second) -> (First, Second) {
    guard runsSideBySide, let worker = SpinningWorker.shared else { return (first(), second()) }
    return CoreSharing.$confinesThisThread.withValue(true) {
        var firstResult: First?, secondResult: Second?
        let ran = worker.run({ CoreSharing.$confinesThisThread.withValue(true) { firstResult = first() } }, alongside: {
            secondResult = second()
        })
        guard ran, let firstResult, let secondResult else { return (first(), second()) }
        return (firstResult, secondResult)
    }
}
