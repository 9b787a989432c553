// A timing model, not a trainer: the LeNet-300-100 Adam step at batch 60 (the `occam bench train` workload) as a
// hand-planned program on two threads, to measure what a step executor that plans the whole step could reach on a
// machine, against Occam's tape (README, Benchmarks). Same products (OpenBLAS, one thread each), same splits as
// Occam (by rows for the first layer's weight gradient, else by columns), element-wise work and Adam's update split in
// halves, a spin barrier between phases, and each core updating the rows of the first layer's weight gradient it
// has just written, while they are in its cache. Labels, the loss's value and Adam's bias correction are left out:
// the arithmetic and memory traffic are those of the real step.
//
//   gcc -O3 -march=native -fno-math-errno Benchmarks/planned_step.c -o /tmp/planned_step -lopenblas -lpthread -lm
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/planned_step [steps] [pin]
//
// With `pin` (1), the two threads are pinned to CPUs 0 and 1.
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { batch = 60, inputs = 784, hidden1 = 300, hidden2 = 100, classes = 10 };

static float *x, *w1, *b1, *w2, *b2, *w3, *b3;                 // input [60, 784]; weights [out, in]; biases
static float *z1, *h1, *z2, *h2, *z3, *g3, *g2, *g1;            // activations and output gradients [60, out]
static float *dw1, *dw2, *dw3, *db1, *db2, *db3;
static float *parameters[6], *gradients[6], *firstMoments[6], *secondMoments[6];
static int counts[6] = {hidden1 * inputs, hidden1, hidden2 * hidden1, hidden2, classes * hidden2, classes};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static atomic_int arrived, generation;
static void barrier(void) {
    int current = atomic_load(&generation);
    if (atomic_fetch_add(&arrived, 1) == 1) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&generation, 1);
    } else {
        while (atomic_load(&generation) == current) {}
    }
}

/// Row-major C[m, n] = op(A) op(B), beta 0.
static void product(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1, a, lda, b, ldb,
                0, c, ldc);
}

static void adam(int q, int start, int end) {
    float *p = parameters[q], *g = gradients[q], *m = firstMoments[q], *v = secondMoments[q];
    for (int i = start; i < end; i++) {
        m[i] = 0.9f * m[i] + 0.1f * g[i];
        v[i] = 0.999f * v[i] + 0.001f * g[i] * g[i];
        p[i] -= 1e-3f * m[i] / (sqrtf(v[i]) + 1e-8f);
    }
}

/// One step's share of thread `t` (0 or 1).
static void step(int t) {
    // Forward, first layer: columns 0..<152 and 152..<300.
    int c0 = t ? 152 : 0, c1 = t ? hidden1 : 152;
    product(0, 1, batch, c1 - c0, inputs, x, inputs, w1 + c0 * inputs, inputs, z1 + c0, hidden1);
    barrier();
    for (int i = t * batch / 2; i < (t + 1) * batch / 2; i++)
        for (int j = 0; j < hidden1; j++) {
            float z = z1[i * hidden1 + j] + b1[j];
            h1[i * hidden1 + j] = z > 0 ? z : 0;
        }
    barrier();
    int d0 = t ? 56 : 0, d1 = t ? hidden2 : 56;
    product(0, 1, batch, d1 - d0, hidden1, h1, hidden1, w2 + d0 * hidden1, hidden1, z2 + d0, hidden2);
    barrier();
    if (t == 0) {  // the small layers, on one thread
        for (int i = 0; i < batch * hidden2; i++) {
            float z = z2[i] + b2[i % hidden2];
            h2[i] = z > 0 ? z : 0;
        }
        product(0, 1, batch, classes, hidden2, h2, hidden2, w3, hidden2, z3, classes);
        for (int i = 0; i < batch; i++) {  // softmax cross-entropy's gradient against label i % 10
            float largest = -INFINITY, sum = 0;
            for (int j = 0; j < classes; j++) {
                z3[i * classes + j] += b3[j];
                if (z3[i * classes + j] > largest) largest = z3[i * classes + j];
            }
            for (int j = 0; j < classes; j++) sum += g3[i * classes + j] = expf(z3[i * classes + j] - largest);
            for (int j = 0; j < classes; j++) g3[i * classes + j] = (g3[i * classes + j] / sum - (j == i % classes)) / batch;
        }
        product(1, 0, classes, hidden2, batch, g3, classes, h2, hidden2, dw3, hidden2);
        product(0, 0, batch, hidden2, classes, g3, classes, w3, hidden2, g2, hidden2);
        for (int i = 0; i < batch * hidden2; i++) if (h2[i] <= 0) g2[i] = 0;
        for (int j = 0; j < classes; j++) { db3[j] = 0; for (int i = 0; i < batch; i++) db3[j] += g3[i * classes + j]; }
        for (int j = 0; j < hidden2; j++) { db2[j] = 0; for (int i = 0; i < batch; i++) db2[j] += g2[i * hidden2 + j]; }
    }
    barrier();
    // The second layer's input and weight gradients, by columns (as Occam: fewer than 128 rows).
    product(0, 0, batch, c1 - c0, hidden2, g2, hidden2, w2 + c0, hidden1, g1 + c0, hidden1);
    product(1, 0, hidden2, c1 - c0, batch, g2, hidden2, h1 + c0, hidden1, dw2 + c0, hidden1);
    barrier();
    for (int i = t * batch / 2; i < (t + 1) * batch / 2; i++)
        for (int j = 0; j < hidden1; j++) if (h1[i * hidden1 + j] <= 0) g1[i * hidden1 + j] = 0;
    barrier();
    if (t == 1) for (int j = 0; j < hidden1; j++) { db1[j] = 0; for (int i = 0; i < batch; i++) db1[j] += g1[i * hidden1 + j]; }
    // The first layer's weight gradient by rows, then Adam on the same rows, on the same core.
    int s0 = t ? hidden1 / 2 : 0, s1 = t ? hidden1 : hidden1 / 2;
    product(1, 0, s1 - s0, inputs, batch, g1 + s0, hidden1, x, inputs, dw1 + s0 * inputs, inputs);
    adam(0, s0 * inputs, s1 * inputs);
    if (t == 1) for (int q = 1; q < 6; q++) adam(q, 0, counts[q]);
    barrier();
}

static int steps, pins;
static void pin(int cpu) {
    if (!pins) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *second_thread(void *unused) {
    (void)unused;
    pin(1);
    for (int s = 0; s < steps; s++) step(1);
    return NULL;
}

static float *randomArray(int n, float scale) {
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    for (int i = 0; i < n; i++) p[i] = (rand() / (float)RAND_MAX - 0.5f) * scale;
    return p;
}

int main(int argc, char **argv) {
    steps = argc > 1 ? atoi(argv[1]) : 3000;
    pins = argc > 2 ? atoi(argv[2]) : 0;
    openblas_set_num_threads(1);
    pin(0);
    x = randomArray(batch * inputs, 2);
    w1 = randomArray(hidden1 * inputs, 0.07f), b1 = randomArray(hidden1, 0.07f);
    w2 = randomArray(hidden2 * hidden1, 0.1f), b2 = randomArray(hidden2, 0.1f);
    w3 = randomArray(classes * hidden2, 0.2f), b3 = randomArray(classes, 0.2f);
    z1 = randomArray(batch * hidden1, 0), h1 = randomArray(batch * hidden1, 0), g1 = randomArray(batch * hidden1, 0);
    z2 = randomArray(batch * hidden2, 0), h2 = randomArray(batch * hidden2, 0), g2 = randomArray(batch * hidden2, 0);
    z3 = randomArray(batch * classes, 0), g3 = randomArray(batch * classes, 0);
    dw1 = randomArray(counts[0], 0), db1 = randomArray(counts[1], 0), dw2 = randomArray(counts[2], 0);
    db2 = randomArray(counts[3], 0), dw3 = randomArray(counts[4], 0), db3 = randomArray(counts[5], 0);
    float *p[6] = {w1, b1, w2, b2, w3, b3}, *g[6] = {dw1, db1, dw2, db2, dw3, db3};
    for (int q = 0; q < 6; q++) {
        parameters[q] = p[q], gradients[q] = g[q];
        firstMoments[q] = randomArray(counts[q], 0), secondMoments[q] = randomArray(counts[q], 0);
    }
    for (int round = 0; round < 5; round++) {
        pthread_t thread;
        pthread_create(&thread, NULL, second_thread, NULL);
        double start = now();
        for (int s = 0; s < steps; s++) step(0);
        pthread_join(thread, NULL);
        double seconds = (now() - start) / steps;
        printf("planned two-thread step%s: %.3f ms, %.0f samples/s\n", pins ? " (pinned)" : "", seconds * 1e3, batch / seconds);
    }
    return 0;
}
