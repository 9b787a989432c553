#ifndef OCCAM_KERNELS_H
#define OCCAM_KERNELS_H

#include <stddef.h>

/// The scalars of one Adam(W) step, already rounded to the tensors' precision (see Adam.swift).
typedef struct {
    double decay, l2, lerpWeight, lerpComplement;
    double beta2, oneMinusBeta2, biasCorrection2Sqrt, epsilon, negativeStepSize;
    int lerpWeightIsSmall, decoupled, coupled;
} OccamAdamConstants;

/// One Adam(W) update of elements [start, end): reads the parameters `p`, the gradients `g` and the 0/1 mask `m`
/// (NULL: no mask); updates the moments `expAvg` and `expAvgSq`; writes the new parameters to `out`. Pruned
/// entries (m == 0) of `out`, `expAvg` and `expAvgSq` become +0.
void occam_adam_float(size_t start, size_t end, const float *_Nonnull p, const float *_Nonnull g,
                      const float *_Nullable m, float *_Nonnull expAvg, float *_Nonnull expAvgSq, float *_Nonnull out,
                      const OccamAdamConstants *_Nonnull constants);
void occam_adam_double(size_t start, size_t end, const double *_Nonnull p, const double *_Nonnull g,
                       const double *_Nullable m, double *_Nonnull expAvg, double *_Nonnull expAvgSq,
                       double *_Nonnull out, const OccamAdamConstants *_Nonnull constants);

/// glibc only (a no-op elsewhere), once per process: blocks under 32 MB come from malloc's arenas, and up to 128 MB
/// freed at the top of an arena stays there for reuse instead of going back to the system (see SpinningWorker.swift).
/// mallopt is not thread-safe: call it before starting threads where possible.
void occam_keep_freed_memory_for_reuse(void);

#endif
