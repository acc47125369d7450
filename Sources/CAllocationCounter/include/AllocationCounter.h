#ifndef IPSECLAB_ALLOCATION_COUNTER_H
#define IPSECLAB_ALLOCATION_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made so far by the calling
/// thread, counted by the interposed allocator entry points in AllocationCounter.c. Frees are not counted.
uint64_t ipseclab_thread_allocations(void);

/// 1 when the entry points are interposed and counting, 0 when this build cannot count (a sanitizer owns malloc).
int ipseclab_allocation_counting_available(void);

#endif
