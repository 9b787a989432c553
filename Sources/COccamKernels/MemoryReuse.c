#include "OccamKernels.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <stdatomic.h>

void occam_keep_freed_memory_for_reuse(void) {
#if defined(__GLIBC__)
    static atomic_flag done = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&done)) return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // larger blocks (a kernel matrix) are mapped and returned when freed
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}
