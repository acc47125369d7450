// Counts heap allocations per thread by defining the C allocator's entry points in the program itself. The dynamic
// linker resolves malloc & co. to the first definition in search order, and the executable comes first, so every
// caller (Swift's runtime, OpenSSL, libpcap, glibc itself) reaches these functions; each counts and forwards to
// glibc's allocator through its exported __libc_* names. glibc removed its malloc hooks in 2.34, and mallinfo2 reports
// bytes in use, not calls, so interposition is the way to count calls on Linux.
//
// The counter is thread-local (initial-exec TLS in the executable: no allocation, no atomics), so a measurement on
// one thread is not disturbed by others. Under a sanitizer, which interposes malloc itself, nothing is defined here
// and counting reports itself unavailable.
#include "AllocationCounter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define IPSECLAB_NO_INTERPOSITION 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__linux__)
#define IPSECLAB_NO_INTERPOSITION 1
#endif

#ifndef IPSECLAB_NO_INTERPOSITION
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static __thread uint64_t allocations __attribute__((tls_model("initial-exec")));

void *malloc(size_t size) {
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    allocations++;
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    allocations++;
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    __libc_free(pointer);
}

static int is_power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (!is_power_of_two(alignment) || alignment % sizeof(void *) != 0) return EINVAL;
    allocations++;
    void *p = __libc_memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *result = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!is_power_of_two(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    allocations++;
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    allocations++;
    return __libc_memalign(alignment, size);
}

uint64_t ipseclab_thread_allocations(void) { return allocations; }
int ipseclab_allocation_counting_available(void) { return 1; }
#else
uint64_t ipseclab_thread_allocations(void) { return 0; }
int ipseclab_allocation_counting_available(void) { return 0; }
#endif
