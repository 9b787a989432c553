// Adam(W)'s element-wise update in C, so the compiler can vectorize it for the machine it runs on: each function is
// compiled three times (AVX-512, AVX2, baseline x86-64) and the loader picks one when the program starts. Swift
// compiles for baseline x86-64 only, where the update's two divisions and square root go four floats at a time.
//
// Built with -ffp-contract=off (no fused multiply-adds) and -fno-math-errno (sqrt is one instruction), so every
// element is rounded exactly as the Swift statement it replaces, whatever the vector width.
#include "OccamKernels.h"

#include <math.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define OCCAM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define OCCAM_VECTOR_CLONES
#endif

// One line per PyTorch tensor op, in the order and association the Swift kernel used.
#define OCCAM_ADAM_BODY(Scalar, sqrtFunction)                                                                  \
    const Scalar decay = (Scalar)c->decay, l2 = (Scalar)c->l2, lerpWeight = (Scalar)c->lerpWeight;             \
    const Scalar lerpComplement = (Scalar)c->lerpComplement, beta2 = (Scalar)c->beta2;                         \
    const Scalar oneMinusBeta2 = (Scalar)c->oneMinusBeta2, biasCorrection2Sqrt = (Scalar)c->biasCorrection2Sqrt; \
    const Scalar epsilon = (Scalar)c->epsilon, negativeStepSize = (Scalar)c->negativeStepSize;                 \
    const int small = c->lerpWeightIsSmall, decoupled = c->decoupled, coupled = c->coupled;                    \
    for (size_t i = start; i < end; i++) {                                                                     \
        Scalar grad = g[i], param = p[i];                                                                      \
        if (decoupled) param = param * decay;                                                                  \
        if (coupled) grad = grad + l2 * param;                                                                 \
        Scalar mean = expAvg[i];                                                                               \
        Scalar difference = grad - mean;                                                                       \
        Scalar newMean = small ? mean + lerpWeight * difference : grad - difference * lerpComplement;          \
        Scalar square = expAvgSq[i] * beta2 + oneMinusBeta2 * grad * grad;                                     \
        Scalar denominator = sqrtFunction(square) / biasCorrection2Sqrt + epsilon;                             \
        out[i] = param + negativeStepSize * newMean / denominator;                                             \
        expAvg[i] = newMean;                                                                                   \
        expAvgSq[i] = square;                                                                                  \
    }                                                                                                          \
    if (m) {                                                                                                   \
        for (size_t i = start; i < end; i++) {                                                                 \
            if (m[i] == 0) { out[i] = 0; expAvg[i] = 0; expAvgSq[i] = 0; }                                    \
        }                                                                                                      \
    }

OCCAM_VECTOR_CLONES
void occam_adam_float(size_t start, size_t end, const float *restrict p, const float *restrict g,
                      const float *restrict m, float *restrict expAvg, float *restrict expAvgSq, float *restrict out,
                      const OccamAdamConstants *c) {
    OCCAM_ADAM_BODY(float, sqrtf)
}

OCCAM_VECTOR_CLONES
void occam_adam_double(size_t start, size_t end, const double *restrict p, const double *restrict g,
                       const double *restrict m, double *restrict expAvg, double *restrict expAvgSq,
                       double *restrict out, const OccamAdamConstants *c) {
    OCCAM_ADAM_BODY(double, sqrt)
}
