// Strata's worker threads for parallel loops. Workers that find no loop spin for a
// while before they sleep, so the loops a network runs one after another (a hundred per
// MiDaS run, some of 50 µs) start on every core at once: with threads that slept between
// loops (libdispatch's), each loop waited for the kernel — and on a virtual machine, the
// hypervisor — to wake a core first, and a late core's bands were done by the others.
//
// One loop runs at a time: a second caller (another thread's loop, or a loop inside a
// band) is told so and runs its loop another way.
#include "CStrataKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { pool_limit = 64 };

/// How long a worker looks for the next loop before it sleeps.
static const long pool_spin_ns = 200 * 1000;

static struct {
    pthread_mutex_t submit;             // held by the caller for a loop's whole run
    pthread_mutex_t sleep;              // guards the condition below
    pthread_cond_t wake;
    atomic_ulong generation;            // even: no loop open; odd: a loop is open
    atomic_long sleepers;
    atomic_long active;                 // workers inside the open loop
    atomic_long next, done;             // bands claimed, bands finished
    long bands;
    long width;                         // workers that join the loop (the caller is one more)
    strata_band_fn body;
    void *context;
    long started;                       // workers created so far
} pool = { .submit = PTHREAD_MUTEX_INITIALIZER, .sleep = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static long pool_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/// A hint to the core that this is a spin-wait (it yields to a sibling hardware thread).
static inline void pool_pause(void) {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Claims and runs bands of the open loop until none are left.
static void pool_claim(void) {
    for (;;) {
        const long band = atomic_fetch_add(&pool.next, 1);
        if (band >= pool.bands) return;
        pool.body(pool.context, band);
        atomic_fetch_add(&pool.done, 1);
    }
}

static void *pool_worker(void *argument) {
    const long index = (long)argument;
    unsigned long seen = atomic_load(&pool.generation);
    for (;;) {
        // The next generation: spinning first, then asleep.
        unsigned long g = atomic_load(&pool.generation);
        const long until = pool_now() + pool_spin_ns;
        for (int turn = 0; g == seen; turn++) {
            pool_pause();
            g = atomic_load(&pool.generation);
            if (g == seen && (turn & 63) == 63 && pool_now() > until) {
                pthread_mutex_lock(&pool.sleep);
                atomic_fetch_add(&pool.sleepers, 1);
                while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.sleep);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.sleep);
            }
        }
        seen = g;
        if ((g & 1) == 0 || index >= pool.width) continue;
        // Counted in before looking again: the caller closes the loop, then waits for the
        // workers counted in, so a worker either sees the loop closed or is waited for.
        atomic_fetch_add(&pool.active, 1);
        if (atomic_load(&pool.generation) == g) pool_claim();
        atomic_fetch_sub(&pool.active, 1);
    }
    return NULL;
}

int strata_pool_run(long bands, int threads, strata_band_fn body, void *context) {
    if (bands <= 0) return 1;
    if (threads < 2) return 0;
    if (pthread_mutex_trylock(&pool.submit) != 0) return 0;
    const long width = threads - 1 < pool_limit ? threads - 1 : pool_limit;
    while (pool.started < width) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, pool_worker, (void *)pool.started);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.started++;
    }
    if (pool.started == 0) {
        pthread_mutex_unlock(&pool.submit);
        return 0;
    }
    pool.bands = bands;
    pool.width = width < pool.started ? width : pool.started;
    pool.body = body;
    pool.context = context;
    atomic_store(&pool.next, 0);
    atomic_store(&pool.done, 0);
    // Open the loop, and wake the workers that went to sleep.
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep);
    }
    pool_claim();
    while (atomic_load(&pool.done) < bands) pool_pause();
    // Close it; a worker still inside finds nothing left to claim.
    atomic_fetch_add(&pool.generation, 1);
    while (atomic_load(&pool.active) > 0) pool_pause();
    pthread_mutex_unlock(&pool.submit);
    return 1;
}
