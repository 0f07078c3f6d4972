// See include/alloc_counter.h.
#define _GNU_SOURCE
#include "alloc_counter.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static int64_t allocations;
static int64_t reallocations;
static int64_t frees;
static int64_t bytes;
static int interposed;
// initial-exec TLS in the executable: reading it never allocates.
static __thread int counting;

#define ADD(counter, n) __atomic_fetch_add(&(counter), (n), __ATOMIC_RELAXED)

static inline void count_allocation(size_t size) {
    if (__builtin_expect(counting, 0)) {
        ADD(allocations, 1);
        ADD(bytes, (int64_t)size);
    }
}

void *malloc(size_t size) {
    interposed = 1;
    count_allocation(size);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_allocation(count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    if (__builtin_expect(counting, 0)) {
        if (pointer == NULL) {
            ADD(allocations, 1);
        } else if (size == 0) {
            ADD(frees, 1);
        } else {
            ADD(reallocations, 1);
        }
        ADD(bytes, (int64_t)size);
    }
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    if (__builtin_expect(counting, 0) && pointer != NULL) ADD(frees, 1);
    __libc_free(pointer);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count_allocation(size);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_allocation(size);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    count_allocation(size);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    count_allocation(size);
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    count_allocation(size);
    return __libc_pvalloc(size);
}

void sy_alloc_count_thread(int enabled) { counting = enabled; }

int sy_alloc_is_interposed(void) {
    // The runtime and the libraries allocate long before main: through here when bound.
    return __atomic_load_n(&interposed, __ATOMIC_RELAXED);
}

void sy_alloc_reset(void) {
    __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&reallocations, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&frees, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&bytes, 0, __ATOMIC_RELAXED);
}

sy_alloc_counts sy_alloc_read(void) {
    sy_alloc_counts c;
    c.allocations = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
    c.reallocations = __atomic_load_n(&reallocations, __ATOMIC_RELAXED);
    c.frees = __atomic_load_n(&frees, __ATOMIC_RELAXED);
    c.bytes = __atomic_load_n(&bytes, __ATOMIC_RELAXED);
    return c;
}
