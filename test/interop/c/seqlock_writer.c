/*
 * A C writer for the torn-read test (test/layout-consistency.test.ts): it updates the test's
 * 1 KiB record in a named-shm region under named-shm's sequence lock, with C11 atomics only, as
 * the README documents it: a uint32 sequence at offset 0; a writer compare-and-swaps an even s
 * to s + 1, writes, and stores s + 2 with release order.
 *   seqlock_writer NAME [PAUSE_NS]
 * Opens /dev/shm/NAME (named-shm made it, at least 1028 bytes), prints "ready", then writes the
 * records 1, 2, 3, ... as fast as it can (spinning PAUSE_NS nanoseconds between two records, 0 by
 * default, never sleeping) until the uint32 at offset 1024 (the stop word) is not 0. Prints
 * "writes <N>" and exits. Every field of record c is derived from c (the same rules as
 * test/fixtures/seqlock-writer.mjs):
 *     0 seq       uint32        the sequence lock
 *     4 n         uint32        c
 *     8 big       uint64        3c + 1
 *    16 neg       int32         -(c & 0x7fffffff)
 *    24 x         float64       c / 4
 *    32 name      char[32]      "rec-<c>"
 *    64 ints      uint32[120]   c + i (mod 2^32)
 *   544 reals     float64[60]   c / 2 + i
 * Exit code 2 on a usage or system error. Linux only.
 * Build: cc -O2 -Wall -Wextra -o seqlock_writer seqlock_writer.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct record {
    uint32_t seq;
    uint32_t n;
    uint64_t big;
    int32_t neg;
    double x;
    char name[32];
    uint32_t ints[120];
    double reals[60];
};
_Static_assert(sizeof(struct record) == 1024, "record size");
_Static_assert(offsetof(struct record, x) == 24, "x offset");
_Static_assert(offsetof(struct record, ints) == 64, "ints offset");
_Static_assert(offsetof(struct record, reals) == 544, "reals offset");

enum { STOP_OFFSET = 1024, REGION_BYTES = 1028 };

static void fill(struct record *r, uint32_t c)
{
    memset(r, 0, sizeof *r);
    r->n = c;
    r->big = 3ull * c + 1;
    r->neg = -(int32_t)(c & 0x7fffffffu);
    r->x = c / 4.0;
    snprintf(r->name, sizeof r->name, "rec-%u", c);
    for (uint32_t i = 0; i < 120; i++) r->ints[i] = c + i;
    for (int i = 0; i < 60; i++) r->reals[i] = c / 2.0 + i;
}

static void publish(struct record *shared, const struct record *r)
{
    _Atomic uint32_t *seq = (_Atomic uint32_t *)&shared->seq;
    uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);
    for (;;) {
        if (s & 1) {
            s = atomic_load_explicit(seq, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
            break;
    }
    atomic_thread_fence(memory_order_release); /* the odd sequence before any field */
    memcpy((char *)shared + 4, (const char *)r + 4, sizeof *r - 4);
    atomic_store_explicit(seq, s + 2, memory_order_release); /* every field before the even one */
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: seqlock_writer NAME [PAUSE_NS]\n");
        return 2;
    }
    uint64_t pause = argc == 3 ? strtoull(argv[2], NULL, 10) : 0;
    char path[512];
    if (snprintf(path, sizeof path, "/%s", argv[1]) >= (int)sizeof path) return 2;
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) { perror(path); return 2; }
    /* Counted as a holder while we work, as named-shm's holders are. */
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) { perror("fcntl"); return 2; }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < REGION_BYTES) { fprintf(stderr, "%s: too small\n", path); return 2; }
    char *base = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 2; }
    struct record *shared = (struct record *)base;
    _Atomic uint32_t *stop = (_Atomic uint32_t *)(base + STOP_OFFSET);

    printf("ready\n");
    fflush(stdout);
    struct record r;
    uint32_t c = 0;
    while (atomic_load_explicit(stop, memory_order_relaxed) == 0) {
        fill(&r, ++c);
        publish(shared, &r);
        if (pause) {
            uint64_t until = now_ns() + pause;
            while (now_ns() < until) {}
        }
    }
    printf("writes %u\n", c);
    fflush(stdout);
    return 0;
}
