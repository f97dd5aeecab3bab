/*
 * named-shm's Linux events and change counters from plain C, using only the layout the README
 * documents ("Events and change counters for C and Python"): a 32-byte shm object of
 * native-endian u32 words, magic "nshmevt\0" (event) or "nshmchg\0" (change counter) in bytes
 * 0..7, [2] version 1, [3] flags (bit 0: manual reset), [4] an event's state (0 not signalled) or
 * a counter's count, [5] waiters, [6] a manual-reset event's count of sets. Futexes without
 * FUTEX_PRIVATE_FLAG, so they cross processes. An auto-reset event's [4] counts releases not yet
 * taken (set adds one, up to waiters + 1); a waiter takes one (n -> n - 1) and sleeps on [4]; a manual-reset waiter is released by a set state or by any set after its start,
 * and sleeps on [6]; a counter's waiter sleeps on [4] while it holds SINCE.
 *   futex_tool set NAME                      sets event NAME; prints "set"
 *   futex_tool wait NAME TIMEOUT_MS          prints "waiting" once counted in waiters, then
 *                                            "signalled" (exit 0) or "timeout" (exit 1)
 *   futex_tool notify REGION                 notifies REGION's counter; prints "notified COUNT"
 *   futex_tool waitchange REGION SINCE TIMEOUT_MS
 *                                            prints "waiting" once counted in waiters, then
 *                                            "changed COUNT" (exit 0) or "timeout COUNT" (exit 1)
 * TIMEOUT_MS -1 waits without limit. The objects must exist (named-shm makes them); this program
 * only opens and maps them. While it works it holds an OFD read lock on the object, as a
 * named-shm holder does, so that the object's last named-shm holder cannot remove it under it.
 * Exit codes: 0 ok, 1 timeout, 2 usage or system error, 3 no such object or not of that kind.
 * Every line is flushed at once. Build: cc -O2 -Wall -Wextra -o futex_tool futex_tool.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { VERSION = 2, FLAGS = 3, WORD = 4, WAITERS = 5, SETS = 6, OBJECT_BYTES = 32 };
#define MANUAL_RESET 1u

static void say(const char *fmt, unsigned value)
{
    printf(fmt, value);
    putchar('\n');
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: futex_tool set NAME | wait NAME TIMEOUT_MS | notify REGION | waitchange REGION SINCE TIMEOUT_MS\n");
    return 2;
}

/* Opens and maps /dev/shm/<name><suffix>, checks its magic and version; NULL (and *code) if not. */
static _Atomic uint32_t *open_object(const char *name, const char *suffix, const char *magic, int *code)
{
    char path[512];
    if (snprintf(path, sizeof path, "/%s%s", name, suffix) >= (int)sizeof path) { *code = 2; return NULL; }
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) { perror("shm_open"); *code = errno == ENOENT ? 3 : 2; return NULL; }
    /* Counted as a holder while we work: fcntl(F_OFD_SETLK, F_RDLCK over the whole object). */
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) { perror("fcntl"); *code = 2; return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); *code = 2; return NULL; }
    if (st.st_size != OBJECT_BYTES) { fprintf(stderr, "%s: %lld bytes, not %d\n", path, (long long)st.st_size, OBJECT_BYTES); *code = 3; return NULL; }
    void *p = mmap(NULL, OBJECT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); *code = 2; return NULL; }
    /* fd stays open: the lock lives as long as the descriptor. */
    _Atomic uint32_t *w = p;
    if (memcmp(p, magic, 8) != 0 || atomic_load(&w[VERSION]) != 1) {
        fprintf(stderr, "%s: not a named-shm %s of version 1\n", path, magic);
        *code = 3;
        return NULL;
    }
    return w;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL, 0);
}

/* Sleeps while *word == expected, until `deadline` (NULL: no limit). Returns 0, or -1 at the deadline. */
static int sleep_on(_Atomic uint32_t *word, uint32_t expected, const struct timespec *deadline)
{
    struct timespec left, *timeout = NULL;
    if (deadline) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = deadline->tv_sec - now.tv_sec;
        left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) { left.tv_nsec += 1000000000L; left.tv_sec -= 1; }
        if (left.tv_sec < 0) return -1;
        timeout = &left;
    }
    if (futex(word, FUTEX_WAIT, expected, timeout) != 0 && errno == ETIMEDOUT) return -1;
    return 0; /* woken, EAGAIN (the word changed) or EINTR: the caller looks again */
}

static struct timespec *deadline_in(const char *ms_text, struct timespec *deadline)
{
    long ms = strtol(ms_text, NULL, 10);
    if (ms < 0) return NULL;
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) { deadline->tv_nsec -= 1000000000L; deadline->tv_sec += 1; }
    return deadline;
}

/* An auto-reset event's release is taken (n != 0 -> n - 1); a manual-reset event releases its
 * waiter while signalled, or once any set() came after `sets` (the count when the wait began). */
static int take(_Atomic uint32_t *w, int manual, uint32_t sets)
{
    if (manual) return atomic_load(&w[WORD]) != 0 || atomic_load(&w[SETS]) != sets;
    uint32_t s = atomic_load(&w[WORD]);
    while (s != 0) {
        if (atomic_compare_exchange_strong(&w[WORD], &s, s - 1)) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    const char *cmd = argv[1], *name = argv[2];
    int code = 0;
    struct timespec at;

    if (strcmp(cmd, "set") == 0 && argc == 3) {
        _Atomic uint32_t *w = open_object(name, "", "nshmevt", &code);
        if (!w) return code;
        int manual = (atomic_load(&w[FLAGS]) & MANUAL_RESET) != 0;
        if (manual) {
            atomic_exchange(&w[WORD], 1); /* a read-modify-write: a full barrier before waiters is read */
            atomic_fetch_add(&w[SETS], 1);
        } else {
            /* one more release, unless it holds one per waiter and the signalled state already */
            uint32_t n = atomic_load(&w[WORD]);
            while (n <= atomic_load(&w[WAITERS]) && !atomic_compare_exchange_strong(&w[WORD], &n, n + 1)) {}
        }
        if (atomic_load(&w[WAITERS]) != 0) futex(&w[manual ? SETS : WORD], FUTEX_WAKE, INT_MAX, NULL);
        say("set", 0);
        return 0;
    }
    if (strcmp(cmd, "wait") == 0 && argc == 4) {
        _Atomic uint32_t *w = open_object(name, "", "nshmevt", &code);
        if (!w) return code;
        int manual = (atomic_load(&w[FLAGS]) & MANUAL_RESET) != 0;
        struct timespec *deadline = deadline_in(argv[3], &at);
        atomic_fetch_add(&w[WAITERS], 1);
        uint32_t sets = atomic_load(&w[SETS]);
        say("waiting", 0);
        int got;
        for (;;) {
            uint32_t expected = atomic_load(&w[manual ? SETS : WORD]);
            if ((got = take(w, manual, sets))) break;
            if (manual ? sleep_on(&w[SETS], expected, deadline) != 0 : sleep_on(&w[WORD], 0, deadline) != 0) break;
        }
        if (!got) got = take(w, manual, sets); /* set just at the deadline: still ours */
        atomic_fetch_sub(&w[WAITERS], 1);
        say(got ? "signalled" : "timeout", 0);
        return got ? 0 : 1;
    }
    if (strcmp(cmd, "notify") == 0 && argc == 3) {
        _Atomic uint32_t *c = open_object(name, "#changes", "nshmchg", &code);
        if (!c) return code;
        uint32_t now = atomic_fetch_add(&c[WORD], 1) + 1;
        if (atomic_load(&c[WAITERS]) != 0) futex(&c[WORD], FUTEX_WAKE, INT_MAX, NULL);
        say("notified %u", now);
        return 0;
    }
    if (strcmp(cmd, "waitchange") == 0 && argc == 5) {
        _Atomic uint32_t *c = open_object(name, "#changes", "nshmchg", &code);
        if (!c) return code;
        uint32_t since = (uint32_t)strtoul(argv[3], NULL, 10);
        struct timespec *deadline = deadline_in(argv[4], &at);
        atomic_fetch_add(&c[WAITERS], 1);
        say("waiting", 0);
        uint32_t now;
        while ((now = atomic_load(&c[WORD])) == since && sleep_on(&c[WORD], since, deadline) == 0) {}
        now = atomic_load(&c[WORD]);
        atomic_fetch_sub(&c[WAITERS], 1);
        say(now != since ? "changed %u" : "timeout %u", now);
        return now != since ? 0 : 1;
    }
    return usage();
}
