// Persistent thread pool.
//
// A region is published by bumping `gen`, which idle workers spin on briefly and then sleep on
// with a futex (so long idle phases, e.g. while OpenBLAS runs its own threads, leave the cores
// free). Participant slots 1..nth-1 are handed out through an atomic counter that the caller
// also draws from once its own slot 0 is done: a worker that the (shared, noisy) host has not
// scheduled yet simply gets no slot, and the caller never waits for a thread that is not running.
#define _GNU_SOURCE
#include "ek_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#define EK_MAX_THREADS 64

typedef struct {
    _Alignas(64) _Atomic uint32_t gen;  // futex word: changes once per region
    _Atomic int sleepers;
    _Alignas(64) _Atomic uint64_t slots;  // (region << 32) | next slot to hand out
    _Alignas(64) _Atomic int done;        // slots finished by workers in this region
    _Alignas(64) void (*fn)(void *, int, int);
    void *ctx;
    _Atomic int nth;
    _Atomic int stop;
    _Atomic int spin_us;
    uint32_t start_gen;  // gen when the workers were created
    pthread_t threads[EK_MAX_THREADS];
    pthread_mutex_t dispatch;  // serializes callers of ek_parallel_for and ek_pool_init
#if !defined(__linux__)
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
} ek_pool;

static ek_pool P = {
    .nth = 1, .spin_us = 200, .dispatch = PTHREAD_MUTEX_INITIALIZER,
#if !defined(__linux__)
    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
#endif
};
static _Thread_local int tl_in_region = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}
static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wait_gen(uint32_t seen) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)&P.gen, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    pthread_mutex_lock(&P.mu);
    while (atomic_load(&P.gen) == seen) pthread_cond_wait(&P.cv, &P.mu);
    pthread_mutex_unlock(&P.mu);
#endif
}
static void wake_all(void) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)&P.gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    pthread_mutex_lock(&P.mu);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
#endif
}

// Takes the next slot of the current region; returns -1 when all are taken. A slot obtained
// here belongs to the region open right now (it cannot close while a slot is out), whatever
// region the caller thought it was answering.
static inline int take_slot(int nth) {
    uint64_t s = atomic_fetch_add_explicit(&P.slots, 1, memory_order_acq_rel);
    uint32_t k = (uint32_t)s;
    return k < (uint32_t)nth ? (int)k : -1;
}

static void *worker_main(void *arg) {
    (void)arg;
    tl_in_region = 1;  // a worker never dispatches: nested calls run inline
    uint32_t seen = P.start_gen;
    for (;;) {
        uint32_t g;
        uint64_t t0 = 0;
        unsigned spins = 0;
        while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen) {
            cpu_relax();
            if ((++spins & 255) != 0) continue;
            uint64_t t = now_ns();
            if (t0 == 0) { t0 = t; continue; }
            if (t - t0 < (uint64_t)atomic_load_explicit(&P.spin_us, memory_order_relaxed) * 1000u) continue;
            // Sleep. Announce first, then re-check: a dispatcher bumps gen before reading sleepers.
            atomic_fetch_add(&P.sleepers, 1);
            if (atomic_load(&P.gen) == seen) wait_gen(seen);
            atomic_fetch_sub(&P.sleepers, 1);
            t0 = 0;
        }
        seen = g;
        if (atomic_load_explicit(&P.stop, memory_order_acquire)) break;
        const int nth = atomic_load_explicit(&P.nth, memory_order_relaxed);
        int k;
        while ((k = take_slot(nth)) >= 0) {
            P.fn(P.ctx, k, nth);
            atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
        }
    }
    return NULL;
}

static void stop_workers(void) {
    const int n = atomic_load(&P.nth);
    if (n <= 1) return;
    atomic_store(&P.stop, 1);
    atomic_fetch_add(&P.gen, 1);
    wake_all();
    for (int i = 1; i < n; i++) pthread_join(P.threads[i], NULL);
    atomic_store(&P.stop, 0);
    atomic_store(&P.nth, 1);
}

void ek_pool_init(int nthreads) {
    if (nthreads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (int)n : 1;
    }
    if (nthreads > EK_MAX_THREADS) nthreads = EK_MAX_THREADS;
    pthread_mutex_lock(&P.dispatch);
    if (nthreads != atomic_load(&P.nth)) {
        stop_workers();
        // No region is open: every slot of the last one is taken, so late workers find none.
        atomic_store(&P.slots, (uint64_t)atomic_load(&P.gen) << 32 | 0xFFFFFFFFu);
        P.start_gen = atomic_load(&P.gen);
        int started = 1;
        for (int i = 1; i < nthreads; i++) {
            if (pthread_create(&P.threads[i], NULL, worker_main, NULL) != 0) break;
            started++;
        }
        atomic_store(&P.nth, started);
    }
    pthread_mutex_unlock(&P.dispatch);
}

int ek_pool_size(void) { return atomic_load_explicit(&P.nth, memory_order_relaxed); }

void ek_pool_set_spin_us(int us) { atomic_store(&P.spin_us, us < 0 ? 0 : us); }

void ek_parallel_for(void (*fn)(void *, int, int), void *ctx) {
    if (tl_in_region || atomic_load_explicit(&P.nth, memory_order_relaxed) <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&P.dispatch);
    const int nth = atomic_load(&P.nth);
    if (nth <= 1) {
        pthread_mutex_unlock(&P.dispatch);
        fn(ctx, 0, 1);
        return;
    }
    P.fn = fn;
    P.ctx = ctx;
    atomic_store_explicit(&P.done, 0, memory_order_relaxed);
    const uint32_t g = atomic_load_explicit(&P.gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&P.slots, (uint64_t)g << 32 | 1u, memory_order_release);  // slot 0 is ours
    atomic_store(&P.gen, g);  // seq_cst: publishes fn/ctx/slots, ordered before the sleepers read
    if (atomic_load(&P.sleepers) > 0) wake_all();

    tl_in_region = 1;
    fn(ctx, 0, nth);
    int mine = 1, k;
    while ((k = take_slot(nth)) >= 0) {  // slots no worker has picked up yet
        fn(ctx, k, nth);
        mine++;
    }
    tl_in_region = 0;
    // Only slots that workers took (and are running) remain.
    unsigned spins = 0;
    while (atomic_load_explicit(&P.done, memory_order_acquire) != nth - mine) {
        cpu_relax();
        if (++spins > 1024) sched_yield();  // the worker was preempted mid-slot: give it the core
    }
    pthread_mutex_unlock(&P.dispatch);
}
