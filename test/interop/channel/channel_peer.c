/*
 * A named-shm Channel peer in plain C on Linux (glibc), written from the README's "Channels for C
 * and other languages (layout)" and the change-counter and mutex layouts it builds on, and nothing
 * else: it must interoperate with Node without sharing any code with it.
 *
 *   channel_peer send NAME COUNT SEED [ID]     sends COUNT messages made by the generator below
 *   channel_peer receive NAME COUNT SEED [ID]  takes the receiving end (trylock: exit 5 if busy),
 *                                              receives COUNT messages and checks each byte of
 *                                              each against the generator
 * Both print one JSON line when done. Exit codes: 0 ok, 2 usage or system error, 3 not a channel,
 * 4 a message or the ring was not what the protocol promises, 5 the receiving end is taken.
 *
 * The messages of sender ID (1..255) with SEED: a xorshift32 stream from SEED gives message n its
 * length L = x % (maxMessage / 4 + 1), where maxMessage = capacity - 8. A message of 8 bytes or
 * more starts with u32 (ID << 24 | n & 0xffffff) and u32 FNV-1a of bytes 8..L, which are
 * (n * 131 + i * 17 + ID) & 0xff; a shorter non-empty one is ID, then (n + i) & 0xff. The Node
 * and Python peers of the tests make the same messages.
 * Build: cc -O2 -Wall -Wextra -o channel_peer channel_peer.c -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
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

enum { HEADER_BYTES = 192, W_CAPACITY = 3, W_TAIL = 16, W_HEAD = 32 };
enum { C_COUNT = 4, C_WAITERS = 5, COUNTER_BYTES = 32 };
enum { MUTEX_BYTES = 64, MUTEX_OFFSET = 16 };
/* A sleeping side looks again after this long: a peer killed between its store and its wake-up
   must not strand it (the README's 100 ms). */
static const long RECHECK_NS = 100L * 1000 * 1000;
_Static_assert(sizeof(pthread_mutex_t) == 40, "named-shm's mutex layout is glibc's 64-bit pthread_mutex_t");

static void fail(int code, const char *what)
{
    fprintf(stderr, "channel_peer: %s\n", what);
    exit(code);
}

/* Maps /dev/shm/<name><suffix> with the holder's OFD read lock, so that named-shm counts us and its
   last close does not remove the object under us. The descriptor stays open for the lock. */
static unsigned char *open_object(const char *name, const char *suffix, off_t exact, off_t at_least, size_t *size)
{
    char path[512];
    if (snprintf(path, sizeof path, "/%s%s", name, suffix) >= (int)sizeof path) fail(2, "name too long");
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) { perror(path); exit(errno == ENOENT ? 3 : 2); }
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) { perror("fcntl(F_OFD_SETLK)"); exit(2); }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); exit(2); }
    if ((exact && st.st_size != exact) || st.st_size < at_least) {
        fprintf(stderr, "%s: %lld bytes\n", path, (long long)st.st_size);
        exit(3);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    *size = (size_t)st.st_size;
    return p;
}

static _Atomic uint32_t *open_counter(const char *name, const char *suffix)
{
    size_t size;
    unsigned char *p = open_object(name, suffix, COUNTER_BYTES, 0, &size);
    _Atomic uint32_t *w = (_Atomic uint32_t *)p;
    if (memcmp(p, "nshmchg", 8) != 0 || atomic_load(&w[2]) != 1) fail(3, "not a named-shm change counter of version 1");
    return w;
}

static pthread_mutex_t *open_mutex(const char *name, const char *suffix)
{
    size_t size;
    unsigned char *p = open_object(name, suffix, MUTEX_BYTES, 0, &size);
    uint32_t version;
    memcpy(&version, p + 8, 4);
    if (memcmp(p, "nshmmtx", 8) != 0 || version != 1) fail(3, "not a named-shm mutex of version 1");
    return (pthread_mutex_t *)(p + MUTEX_OFFSET);
}

static void notify(_Atomic uint32_t *c)
{
    atomic_fetch_add(&c[C_COUNT], 1);
    if (atomic_load(&c[C_WAITERS]) != 0) syscall(SYS_futex, &c[C_COUNT], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* One sleep of at most RECHECK_NS while the count is still `since`; the caller looks again either way. */
static void wait_change(_Atomic uint32_t *c, uint32_t since)
{
    struct timespec t = { 0, RECHECK_NS };
    atomic_fetch_add(&c[C_WAITERS], 1);
    if (atomic_load(&c[C_COUNT]) == since) syscall(SYS_futex, &c[C_COUNT], FUTEX_WAIT, since, &t, NULL, 0);
    atomic_fetch_sub(&c[C_WAITERS], 1);
}

struct channel {
    _Atomic uint32_t *words;
    unsigned char *ring;
    uint32_t capacity, lap;
    _Atomic uint32_t *data, *space;
    pthread_mutex_t *send, *receive;
};

static struct channel open_channel(const char *name)
{
    struct channel ch;
    size_t size;
    unsigned char *p = open_object(name, "", 0, HEADER_BYTES + 64, &size);
    ch.words = (_Atomic uint32_t *)p;
    if (memcmp(p, "nshmchn", 8) != 0 || atomic_load(&ch.words[2]) != 1) fail(3, "not a named-shm channel of version 1");
    ch.capacity = atomic_load(&ch.words[W_CAPACITY]);
    if (ch.capacity < 64 || ch.capacity % 8 != 0 || HEADER_BYTES + (size_t)ch.capacity > size) fail(3, "a capacity that does not fit the region");
    ch.lap = 2 * ch.capacity;
    ch.ring = p + HEADER_BYTES;
    ch.data = open_counter(name, "#changes");
    ch.space = open_counter(name, "#space#changes");
    ch.send = open_mutex(name, "#send");
    ch.receive = open_mutex(name, "#receive");
    return ch;
}

static uint32_t used_bytes(const struct channel *ch, uint32_t tail, uint32_t head)
{
    if (tail >= ch->lap || head >= ch->lap || tail % 8 || head % 8) fail(4, "a position outside the ring");
    uint32_t used = tail >= head ? tail - head : tail + ch->lap - head;
    if (used > ch->capacity) fail(4, "more bytes used than the ring has");
    return used;
}

static uint32_t frame_bytes(uint32_t length) { return 8 + ((length + 7) & ~7u); }

/* ---- the messages ---- */

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Message n of sender `id` into out; its length. `state` carries the length stream from the seed. */
static uint32_t make_message(uint32_t *state, uint32_t id, uint32_t n, uint32_t max_len, unsigned char *out)
{
    uint32_t length = xorshift32(state) % (max_len + 1);
    if (length >= 8) {
        for (uint32_t i = 8; i < length; i++) out[i] = (unsigned char)(n * 131 + i * 17 + id);
        uint32_t w[2] = { id << 24 | (n & 0xffffff), fnv1a(out + 8, length - 8) };
        memcpy(out, w, 8);
    } else if (length > 0) {
        out[0] = (unsigned char)id;
        for (uint32_t i = 1; i < length; i++) out[i] = (unsigned char)(n + i);
    }
    return length;
}

static uint32_t parse_u32(const char *s)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT32_MAX) fail(2, "not a number");
    return (uint32_t)v;
}

/* ---- the two roles ---- */

static int run_send(struct channel *ch, uint32_t count, uint32_t seed, uint32_t id)
{
    uint32_t max_len = (ch->capacity - 8) / 4, state = seed;
    unsigned char *message = malloc(max_len + 1);
    unsigned long long bytes = 0, full_waits = 0, abandoned = 0;
    for (uint32_t n = 0; n < count; n++) {
        uint32_t length = make_message(&state, id, n, max_len, message);
        for (;;) {
            /* Read before the check, so that space freed after it ends the sleep at once. */
            uint32_t since = atomic_load(&ch->space[C_COUNT]);
            int r = pthread_mutex_lock(ch->send);
            if (r == EOWNERDEAD) {
                /* Its dead owner never wrote half a frame into view (tail moves last), but it may
                   have left a sleeper unwoken. */
                pthread_mutex_consistent(ch->send);
                notify(ch->data);
                notify(ch->space);
                abandoned++;
            } else if (r != 0) {
                fprintf(stderr, "pthread_mutex_lock: %s\n", strerror(r));
                return 2;
            }
            uint32_t tail = atomic_load_explicit(&ch->words[W_TAIL], memory_order_relaxed);
            uint32_t head = atomic_load_explicit(&ch->words[W_HEAD], memory_order_acquire);
            uint32_t size = frame_bytes(length);
            if (size <= ch->capacity - used_bytes(ch, tail, head)) {
                uint32_t at = tail % ch->capacity;
                uint32_t header[2] = { length, 0 };
                memcpy(ch->ring + at, header, 8);
                uint32_t body = (at + 8) % ch->capacity;
                uint32_t first = length < ch->capacity - body ? length : ch->capacity - body;
                memcpy(ch->ring + body, message, first);
                memcpy(ch->ring, message + first, length - first);
                atomic_store_explicit(&ch->words[W_TAIL], (tail + size) % ch->lap, memory_order_release);
                notify(ch->data);
                pthread_mutex_unlock(ch->send);
                bytes += length;
                break;
            }
            /* Never sleep holding the lock: other senders, and a receiver, must get on. */
            pthread_mutex_unlock(ch->send);
            full_waits++;
            wait_change(ch->space, since);
        }
    }
    printf("{\"sent\":%u,\"bytes\":%llu,\"fullWaits\":%llu,\"abandoned\":%llu}\n", count, bytes, full_waits, abandoned);
    fflush(stdout);
    return 0;
}

static int run_receive(struct channel *ch, uint32_t count, uint32_t seed, uint32_t id)
{
    int r = pthread_mutex_trylock(ch->receive);
    if (r == EBUSY) {
        puts("{\"busy\":true}");
        fflush(stdout);
        return 5;
    }
    if (r == EOWNERDEAD) pthread_mutex_consistent(ch->receive); /* a dead receiver's end passes on */
    else if (r != 0) { fprintf(stderr, "pthread_mutex_trylock: %s\n", strerror(r)); return 2; }
    uint32_t max_len = (ch->capacity - 8) / 4, state = seed;
    unsigned char *expected = malloc(max_len + 1), *got = malloc(ch->capacity);
    unsigned long long bytes = 0, wrapped = 0, empty_waits = 0;
    for (uint32_t n = 0; n < count; n++) {
        uint32_t tail, head;
        for (;;) {
            uint32_t since = atomic_load(&ch->data[C_COUNT]);
            tail = atomic_load_explicit(&ch->words[W_TAIL], memory_order_acquire);
            head = atomic_load_explicit(&ch->words[W_HEAD], memory_order_relaxed);
            if (tail != head) break;
            empty_waits++;
            wait_change(ch->data, since);
        }
        uint32_t used = used_bytes(ch, tail, head);
        uint32_t at = head % ch->capacity, header[2];
        memcpy(header, ch->ring + at, 8);
        uint32_t length = header[0];
        if (length > ch->capacity || frame_bytes(length) > used || header[1] != 0) {
            fprintf(stderr, "message %u: a frame header of %u, %u with %u bytes used\n", n, header[0], header[1], used);
            return 4;
        }
        uint32_t body = (at + 8) % ch->capacity;
        uint32_t first = length < ch->capacity - body ? length : ch->capacity - body;
        memcpy(got, ch->ring + body, first);
        memcpy(got + first, ch->ring, length - first);
        if (first < length) wrapped++;
        /* Only after the copy: the space is the senders' again once head moves. */
        atomic_store_explicit(&ch->words[W_HEAD], (head + frame_bytes(length)) % ch->lap, memory_order_release);
        notify(ch->space);
        uint32_t want = make_message(&state, id, n, max_len, expected);
        if (length != want || memcmp(got, expected, length) != 0) {
            uint32_t w[2] = { 0, 0 };
            if (length >= 8) memcpy(w, got, 8);
            int sum_ok = length >= 8 && w[1] == fnv1a(got + 8, length - 8);
            fprintf(stderr, "message %u: %u bytes (want %u), seq word %#x, checksum %s\n", n, length, want, w[0], sum_ok ? "ok" : "bad");
            return 4;
        }
        bytes += length;
    }
    pthread_mutex_unlock(ch->receive);
    printf("{\"received\":%u,\"bytes\":%llu,\"wrapped\":%llu,\"emptyWaits\":%llu}\n", count, bytes, wrapped, empty_waits);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: channel_peer send|receive NAME COUNT SEED [ID]\n");
        return 2;
    }
    uint32_t count = parse_u32(argv[3]), seed = parse_u32(argv[4]), id = argc > 5 ? parse_u32(argv[5]) : 1;
    if (seed == 0 || id == 0 || id > 255) fail(2, "SEED must not be 0 (xorshift32) and ID must be 1..255");
    struct channel ch = open_channel(argv[2]);
    if (strcmp(argv[1], "send") == 0) return run_send(&ch, count, seed, id);
    if (strcmp(argv[1], "receive") == 0) return run_receive(&ch, count, seed, id);
    fprintf(stderr, "usage: channel_peer send|receive NAME COUNT SEED [ID]\n");
    return 2;
}
