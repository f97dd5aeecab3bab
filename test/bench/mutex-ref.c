/*
 * The C references of the mutex benchmark (test/bench/mutex.ts), built by the harness with the
 * system `cc -O2`. Every mode works on a NamedMutex object the harness made with named-shm (the
 * 64-byte shm object whose byte 16 holds glibc's robust, process-shared, error-checking
 * pthread_mutex_t, opened as the README's C protocol says), so C and Node lock the same kind of
 * object; EOWNERDEAD is made consistent as a user would.
 *
 *   mutex-ref pair MUTEX ITERATIONS SAMPLES
 *       uncontended pthread_mutex_lock + pthread_mutex_unlock: prints "ok" and, per sample, the
 *       ns per pair
 *   mutex-ref flock FILE ITERATIONS SAMPLES
 *       flock(LOCK_EX) + flock(LOCK_UN) on a descriptor of FILE: the same output
 *   mutex-ref handoff a|b MUTEX CONTROL WARM TIMED HOLD_NS
 *       one side of the two-process hand-off (the protocol is in mutex-peer.ts, which does the
 *       same in Node); side a prints "ok" and the round trips (two hand-offs each) in ns
 *   mutex-ref fair ID MUTEX LOG CAPACITY
 *       one of the fairness run's processes (protocol in mutex-peer.ts); prints
 *       "ok COUNT MAX_WAITED SUM_WAITED"
 * Gives up (exit 3) after 60 s of waiting on a peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "mutex-ref: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* shm_open, the holder's OFD read lock, mmap of the whole object. */
static void *open_shared(const char *name, size_t *size)
{
    char path[300];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) die(path);
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) die("fcntl");
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    if (size) *size = (size_t)st.st_size;
    return p;
}

static pthread_mutex_t *open_mutex(const char *name)
{
    size_t size;
    unsigned char *p = open_shared(name, &size);
    if (size != 64 || memcmp(p, "nshmmtx", 8) != 0) {
        fprintf(stderr, "mutex-ref: /%s is not a named-shm mutex\n", name);
        exit(3);
    }
    return (pthread_mutex_t *)(p + 16);
}

static void lock(pthread_mutex_t *m)
{
    int r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) pthread_mutex_consistent(m);
    else if (r != 0) { errno = r; die("pthread_mutex_lock"); }
}

static void unlock(pthread_mutex_t *m)
{
    int r = pthread_mutex_unlock(m);
    if (r != 0) { errno = r; die("pthread_mutex_unlock"); }
}

/* Spins until *word == value (eq) or != value; after 200 us of it, yields the CPU at every 64th
 * turn; gives up after 60 s. */
static void spin_until(_Atomic int32_t *word, int32_t value, int eq, _Atomic int32_t *done)
{
    uint64_t start = 0;
    for (unsigned i = 1;; i++) {
        int32_t v = atomic_load(word);
        if (eq ? v == value : v != value) return;
        if (done && atomic_load(done)) return;
        if ((i & 63) == 0) {
            uint64_t t = now_ns();
            if (!start) start = t;
            else if (t - start > 60000000000ull) { fprintf(stderr, "mutex-ref: no answer\n"); exit(3); }
            else if (t - start > 200000) sched_yield();
        }
    }
}

static void print_samples(const double *ns, long n)
{
    printf("ok");
    for (long i = 0; i < n; i++) printf(" %.1f", ns[i]);
    printf("\n");
    fflush(stdout);
}

/* Control words of the hand-off: [0] acquisitions, [1] side a trying, [2] side b trying, [3] done, [4] ready. */
enum { W = 0, TRYING = 1, DONE = 3, READY = 4 };
/* Log words of the fairness run: [0] acquisitions, [1] ready, [2] go, [3] stop, then one id per acquisition from [8]. */
enum { LOG_W = 0, LOG_READY = 1, LOG_GO = 2, LOG_STOP = 3, LOG_FIRST = 8 };

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if ((strcmp(mode, "pair") == 0 || strcmp(mode, "flock") == 0) && argc == 5) {
        long iterations = strtol(argv[3], NULL, 10), samples = strtol(argv[4], NULL, 10);
        double *ns = calloc((size_t)samples, sizeof *ns);
        if (strcmp(mode, "pair") == 0) {
            pthread_mutex_t *m = open_mutex(argv[2]);
            for (long i = 0; i < iterations; i++) { lock(m); unlock(m); } /* warm */
            for (long s = 0; s < samples; s++) {
                uint64_t t0 = now_ns();
                for (long i = 0; i < iterations; i++) {
                    lock(m);
                    unlock(m);
                }
                ns[s] = (double)(now_ns() - t0) / (double)iterations;
            }
        } else {
            int fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) die(argv[2]);
            for (long i = 0; i < iterations; i++) { flock(fd, LOCK_EX); flock(fd, LOCK_UN); }
            for (long s = 0; s < samples; s++) {
                uint64_t t0 = now_ns();
                for (long i = 0; i < iterations; i++) {
                    if (flock(fd, LOCK_EX) != 0) die("flock");
                    if (flock(fd, LOCK_UN) != 0) die("flock");
                }
                ns[s] = (double)(now_ns() - t0) / (double)iterations;
            }
        }
        print_samples(ns, samples);
        return 0;
    }
    if (strcmp(mode, "handoff") == 0 && argc == 8) {
        int side = strcmp(argv[2], "a") == 0 ? 0 : 1;
        pthread_mutex_t *m = open_mutex(argv[3]);
        _Atomic int32_t *c = open_shared(argv[4], NULL);
        long warm = strtol(argv[5], NULL, 10), timed = strtol(argv[6], NULL, 10);
        uint64_t hold = (uint64_t)strtoll(argv[7], NULL, 10);
        /* Each acquisition is one hand-off; side a acquires every other one. */
        int32_t last = (int32_t)(2 * (warm + timed));
        double *ns = calloc((size_t)timed + 1, sizeof *ns);
        long n = 0;
        uint64_t released = 0;
        if (side == 0) lock(m);
        atomic_fetch_add(&c[READY], 1);
        spin_until(&c[READY], 2, 1, NULL);
        if (side == 1) {
            atomic_store(&c[TRYING + side], 1);
            lock(m);
            atomic_store(&c[TRYING + side], 0);
        }
        for (;;) {
            /* holding */
            if (side == 0 && released) {
                int32_t seen = atomic_load(&c[W]);
                if (seen >= 2 * warm && n < timed) ns[n++] = (double)(now_ns() - released);
            }
            int32_t v = atomic_fetch_add(&c[W], 1) + 1;
            if (v >= last) {
                atomic_store(&c[DONE], 1);
                unlock(m);
                break;
            }
            spin_until(&c[TRYING + (1 - side)], 1, 1, &c[DONE]);
            /* Hold on a little, so that the other process is asleep in the lock when it is released. */
            for (uint64_t t = now_ns() + hold; now_ns() < t;) {}
            if (side == 0) released = now_ns();
            unlock(m);
            spin_until(&c[W], v, 0, &c[DONE]);
            if (atomic_load(&c[DONE])) break;
            atomic_store(&c[TRYING + side], 1);
            lock(m);
            atomic_store(&c[TRYING + side], 0);
            if (atomic_load(&c[DONE])) {
                unlock(m);
                break;
            }
        }
        if (side == 0) print_samples(ns, n);
        return 0;
    }
    if (strcmp(mode, "fair") == 0 && argc == 6) {
        int32_t id = (int32_t)strtol(argv[2], NULL, 10);
        pthread_mutex_t *m = open_mutex(argv[3]);
        _Atomic int32_t *log = open_shared(argv[4], NULL);
        int32_t total = (int32_t)strtol(argv[5], NULL, 10);
        atomic_fetch_add(&log[LOG_READY], 1);
        while (!atomic_load(&log[LOG_GO])) usleep(1000);
        long count = 0, max_waited = 0, sum_waited = 0;
        for (;;) {
            int32_t start = atomic_load(&log[LOG_W]);
            lock(m);
            int32_t idx = atomic_load(&log[LOG_W]);
            if (atomic_load(&log[LOG_STOP]) || idx >= total) {
                /* The last attempt counts too: the others took the rest while this one was trying. */
                if (idx - start > max_waited) max_waited = idx - start;
                unlock(m);
                break;
            }
            atomic_store(&log[LOG_FIRST + idx], id);
            atomic_store(&log[LOG_W], idx + 1);
            long waited = idx - start;
            if (waited > max_waited) max_waited = waited;
            sum_waited += waited;
            count++;
            unlock(m);
        }
        printf("ok %ld %ld %ld\n", count, max_waited, sum_waited);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of mutex-ref.c\n");
    return 2;
}
