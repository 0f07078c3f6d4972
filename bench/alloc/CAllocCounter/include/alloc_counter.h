// A malloc interposer for allocation-count benchmarks (bench/alloc, docs/performance.md).
//
// Linked into an executable, its malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
// memalign, valloc and pvalloc replace glibc's for the whole process (the executable comes
// first in the dynamic linker's lookup) and forward to glibc's own (`__libc_malloc`, ...).
// A call is counted only on a thread that has turned counting on (`sy_alloc_count_thread`),
// so a benchmark can count what one event loop does and leave its own client and server out.
#ifndef SY_ALLOC_COUNTER_H
#define SY_ALLOC_COUNTER_H

#include <stdint.h>

/// What the counting threads did since the last reset.
typedef struct {
    /// Blocks handed out: malloc, calloc, posix_memalign, aligned_alloc, memalign, valloc,
    /// pvalloc, and realloc of a null pointer.
    int64_t allocations;
    /// realloc of a live block (a resize, which may move it).
    int64_t reallocations;
    /// free of a non-null pointer (and realloc to size 0).
    int64_t frees;
    /// Bytes requested by the allocations and reallocations.
    int64_t bytes;
} sy_alloc_counts;

/// Turns counting on (1) or off (0) for the calling thread.
void sy_alloc_count_thread(int enabled);
/// Whether the interposer is the process's malloc (false when glibc's was bound instead).
int sy_alloc_is_interposed(void);
/// Zeroes the counters.
void sy_alloc_reset(void);
/// The counters now.
sy_alloc_counts sy_alloc_read(void);

#endif
