import COpenBLAS
import Foundation
import Synchronization

/// OpenBLAS's thread count, chosen per call by the size of the work.
///
/// OpenBLAS's threading costs more than it gains on a small product (waking threads, splitting panels), so
/// products below `multiThreadThreshold` multiply-adds run on one OpenBLAS thread and larger ones on all of
/// `maximum`. (Tensor.matmul splits mid-size products in two itself, see `Tensor.gemm`; and a thread that shares the
/// cores inside `sideBySide` runs every product on one thread.) The count is
/// changed only when it differs from the one in force, so a loop of small products pays nothing.
public enum BLASThreads {
    /// Multiply-adds below which BLAS and LAPACK calls run single-threaded: 256^3.
    public static let multiThreadThreshold = 256 * 256 * 256
    /// Multiply-adds from which a matrix product below `multiThreadThreshold` is split in two halves by Occam itself,
    /// run on two cores when the second one is free (see `Tensor.gemm`): 2^20.
    public static let splitThreshold = 1 << 20

    private static let current = Atomic<Int>(0)
    private static let configuredMaximum = Atomic<Int>(0)

    /// The most threads a large product uses: OpenBLAS's own count at start-up (OPENBLAS_NUM_THREADS, or
    /// the number of cores), unless `setMaximum` changed it.
    public static var maximum: Int {
        let configured = configuredMaximum.load(ordering: .relaxed)
        return configured > 0 ? configured : detectedAtStart
    }

    /// OpenBLAS's count before Occam changed it; read on first use of this type.
    private static let detectedAtStart = max(1, Int(openblas_get_num_threads()))

    /// Sets the most threads large products may use (1 makes all of BLAS single-threaded).
    public static func setMaximum(_ threads: Int) {
        precondition(threads >= 1, "BLASThreads.setMaximum: thread count \(threads) must be at least 1")
        configuredMaximum.store(threads, ordering: .relaxed)
    }

    /// Sets OpenBLAS's thread count for a call doing about `multiplyAdds` multiply-adds.
    @inline(__always)
    public static func prepare(forMultiplyAdds multiplyAdds: Int) {
        let largest = maximum
        let wanted = multiplyAdds < multiThreadThreshold || CoreSharing.confinesThisThread ? 1 : largest
        if current.load(ordering: .relaxed) != wanted {
            openblas_set_num_threads(Int32(wanted))
            current.store(wanted, ordering: .relaxed)
        }
    }
}
