/*
 * A named-shm Channel peer in plain Win32 C (mingw-w64), written from the README's "Channels for C
 * and other languages (layout)" and the Windows change-counter protocol (README "Waiting: how it
 * works" -> Windows; lib/os/windows/change-counter.ts), sharing no code with Node. It does on
 * Windows what test/interop/channel/channel_peer.c does on Linux, with the same messages.
 *
 *   channel_peer.exe send NAME COUNT SEED [ID [HANG_AT]]
 *       Sends COUNT messages of sender ID (default 1) made by the generator below. With HANG_AT
 *       (< COUNT): after HANG_AT messages, once the next frame fits, it writes half of it past
 *       tail under the send lock (never publishing it), prints {"holding":HANG_AT} and sleeps
 *       holding the lock, to be killed there (TerminateProcess) by a test.
 *   channel_peer.exe receive NAME COUNT [SEED [ID]]
 *       Takes the receiving end (WaitForSingleObject(<NAME>#receive, 0); exit 5 if busy), receives
 *       COUNT messages and checks each: with SEED, every byte against the generator; without,
 *       its sequence number and checksum (ID 1's messages, in order).
 * Both print one JSON line when done. Exit codes: 0 ok, 2 usage or Win32 error, 3 not a channel,
 * 4 a message or the ring was not what the protocol promises, 5 the receiving end is taken.
 *
 * The channel `NAME` is the section NAME (the ring), the change counters NAME#changes (data) and
 * NAME#space#changes (space), each a 32-byte section with generation events <section>@<count>,
 * and the named mutexes NAME#send and NAME#receive. Node creates them (Channel.open); this
 * program only opens them.
 *
 * The messages of sender ID (1..255) with SEED: a xorshift32 stream from SEED gives message n its
 * length L = x % (maxMessage / 4 + 1), where maxMessage = capacity - 8. A message of 8 bytes or
 * more starts with u32 (ID << 24 | n & 0xffffff) and u32 FNV-1a of bytes 8..L, which are
 * (n * 131 + i * 17 + ID) & 0xff; a shorter non-empty one is ID, then (n + i) & 0xff.
 * Build: x86_64-w64-mingw32-gcc -O2 -municode -o channel_peer.exe channel_peer.c -static-libgcc
 */
#include <windows.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

enum { HEADER_BYTES = 192, W_VERSION = 2, W_CAPACITY = 3, W_TAIL = 16, W_HEAD = 32 };
enum { C_VERSION = 2, C_COUNT = 4, C_WAITERS = 5, COUNTER_BYTES = 32 };
/* A sleeping side looks again after this long: a peer killed between its store and its wake-up
   must not strand it (the README's 100 ms). */
static const DWORD RECHECK_MS = 100;

static void fail(int code, const char *what)
{
    fprintf(stderr, "channel_peer: %s (Win32 error %lu)\n", what, GetLastError());
    fflush(stderr);
    exit(code);
}

/* ---- 32-bit atomics: every Interlocked call is a full barrier ---- */

static uint32_t load(volatile LONG *p) { return (uint32_t)InterlockedCompareExchange(p, 0, 0); }
static void store(volatile LONG *p, uint32_t v) { InterlockedExchange(p, (LONG)v); }

/* ---- the change counters ---- */

struct counter {
    volatile LONG *w;    /* the 32-byte companion section */
    wchar_t name[600];   /* the companion's name, to which "@<count>" is appended */
};

static void open_counter(struct counter *c, const wchar_t *name, const wchar_t *suffix)
{
    if (_snwprintf(c->name, 580, L"%ls%ls", name, suffix) < 0) fail(2, "name too long");
    c->name[579] = 0;
    HANDLE map = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, c->name);
    if (map == NULL) fail(GetLastError() == ERROR_FILE_NOT_FOUND ? 3 : 2, "OpenFileMappingW (change counter)");
    c->w = (volatile LONG *)MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, COUNTER_BYTES);
    if (c->w == NULL) fail(2, "MapViewOfFile (change counter)");
    if (memcmp((const void *)c->w, "nshmchg", 8) != 0 || load(&c->w[C_VERSION]) != 1) fail(3, "not a named-shm change counter of version 1");
}

static void generation(const struct counter *c, uint32_t count, wchar_t *out, size_t size)
{
    _snwprintf(out, size, L"%ls@%lu", c->name, (unsigned long)count);
    out[size - 1] = 0;
}

static void notify(struct counter *c)
{
    uint32_t old = (uint32_t)InterlockedExchangeAdd(&c->w[C_COUNT], 1);
    if (load(&c->w[C_WAITERS]) != 0) {
        wchar_t name[640];
        generation(c, old, name, 640);
        HANDLE event = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
        if (event != NULL) {
            SetEvent(event);
            CloseHandle(event);
        }
    }
}

/* One sleep of at most RECHECK_MS while the count is still `since`; the caller looks again either way. */
static void wait_change(struct counter *c, uint32_t since)
{
    wchar_t name[640];
    generation(c, since, name, 640);
    InterlockedIncrement(&c->w[C_WAITERS]);
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, name);
    if (event == NULL) fail(2, "CreateEventW (generation event)");
    if (load(&c->w[C_COUNT]) == since) WaitForSingleObject(event, RECHECK_MS);
    CloseHandle(event);
    InterlockedDecrement(&c->w[C_WAITERS]);
}

/* ---- the channel ---- */

struct channel {
    volatile LONG *words;
    unsigned char *ring;
    uint32_t capacity, lap;
    struct counter data, space;
    HANDLE send, receive;
};

static HANDLE open_mutex(const wchar_t *name, const wchar_t *suffix)
{
    wchar_t full[600];
    if (_snwprintf(full, 600, L"%ls%ls", name, suffix) < 0) fail(2, "name too long");
    full[599] = 0;
    HANDLE m = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, full);
    if (m == NULL) fail(GetLastError() == ERROR_FILE_NOT_FOUND ? 3 : 2, "OpenMutexW");
    return m;
}

static void open_channel(struct channel *ch, const wchar_t *name)
{
    HANDLE map = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    if (map == NULL) fail(GetLastError() == ERROR_FILE_NOT_FOUND ? 3 : 2, "OpenFileMappingW (channel)");
    unsigned char *p = MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (p == NULL) fail(2, "MapViewOfFile (channel)");
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) == 0) fail(2, "VirtualQuery");
    ch->words = (volatile LONG *)p;
    if (info.RegionSize < HEADER_BYTES + 64 || memcmp(p, "nshmchn", 8) != 0 || load(&ch->words[W_VERSION]) != 1) fail(3, "not a named-shm channel of version 1");
    ch->capacity = load(&ch->words[W_CAPACITY]);
    if (ch->capacity < 64 || ch->capacity % 8 != 0 || HEADER_BYTES + (SIZE_T)ch->capacity > info.RegionSize) fail(3, "a capacity that does not fit the section");
    ch->lap = 2 * ch->capacity;
    ch->ring = p + HEADER_BYTES;
    open_counter(&ch->data, name, L"#changes");
    open_counter(&ch->space, name, L"#space#changes");
    ch->send = open_mutex(name, L"#send");
    ch->receive = open_mutex(name, L"#receive");
}

static uint32_t used_bytes(const struct channel *ch, uint32_t tail, uint32_t head)
{
    if (tail >= ch->lap || head >= ch->lap || tail % 8 || head % 8) fail(4, "a position outside the ring");
    uint32_t used = tail >= head ? tail - head : tail + ch->lap - head;
    if (used > ch->capacity) fail(4, "more bytes used than the ring has");
    return used;
}

static uint32_t frame_bytes(uint32_t length) { return 8 + ((length + 7) & ~7u); }

/* ---- the messages (as test/interop/channel/channel_peer.c makes them) ---- */

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

static uint32_t parse_u32(const wchar_t *s)
{
    wchar_t *end;
    errno = 0;
    unsigned long long v = wcstoull(s, &end, 10);
    if (errno || *end || end == s || v > UINT32_MAX) {
        fprintf(stderr, "channel_peer: not a number: %ls\n", s);
        exit(2);
    }
    return (uint32_t)v;
}

/* ---- the two roles ---- */

/* Copies `length` bytes into the ring at ring byte `body`, going on at byte 0 at the end; 1 if it wrapped. */
static int copy_in(struct channel *ch, uint32_t body, const unsigned char *from, uint32_t length)
{
    uint32_t first = length < ch->capacity - body ? length : ch->capacity - body;
    memcpy(ch->ring + body, from, first);
    memcpy(ch->ring, from + first, length - first);
    return first < length;
}

/* Takes the send lock; 1 when its owner had died holding it (WAIT_ABANDONED: we own it now). */
static int lock_send(struct channel *ch)
{
    DWORD r = WaitForSingleObject(ch->send, INFINITE);
    if (r == WAIT_ABANDONED) {
        /* Its dead owner never published half a frame (tail moves last), but it may have left a
           peer unwoken. */
        notify(&ch->data);
        notify(&ch->space);
        return 1;
    }
    if (r != WAIT_OBJECT_0) fail(2, "WaitForSingleObject (send lock)");
    return 0;
}

static int run_send(struct channel *ch, uint32_t count, uint32_t seed, uint32_t id, uint32_t hang_at)
{
    uint32_t max_len = (ch->capacity - 8) / 4, state = seed;
    unsigned char *message = malloc(max_len + 1);
    unsigned long long bytes = 0, full_waits = 0, abandoned = 0, wrapped = 0;
    for (uint32_t n = 0; n < count; n++) {
        uint32_t length = make_message(&state, id, n, max_len, message);
        for (;;) {
            /* Read before the check, so that space freed after it ends the sleep at once. */
            uint32_t since = load(&ch->space.w[C_COUNT]);
            abandoned += lock_send(ch);
            uint32_t tail = load(&ch->words[W_TAIL]);
            uint32_t head = load(&ch->words[W_HEAD]); /* acquire: the receiver is done with the space below it */
            uint32_t size = frame_bytes(length);
            if (size <= ch->capacity - used_bytes(ch, tail, head)) {
                uint32_t at = tail % ch->capacity;
                uint32_t header[2] = { length, 0 };
                memcpy(ch->ring + at, header, 8);
                if (n == hang_at) {
                    /* Die here: the lock held, half of the frame written in free space past tail,
                       never published. */
                    copy_in(ch, (at + 8) % ch->capacity, message, length / 2);
                    printf("{\"holding\":%lu,\"abandoned\":%llu}\n", (unsigned long)n, abandoned);
                    fflush(stdout);
                    Sleep(INFINITE);
                }
                wrapped += copy_in(ch, (at + 8) % ch->capacity, message, length);
                store(&ch->words[W_TAIL], (tail + size) % ch->lap); /* release: the frame before the tail */
                notify(&ch->data);
                if (!ReleaseMutex(ch->send)) fail(2, "ReleaseMutex (send lock)");
                bytes += length;
                break;
            }
            /* Never sleep holding the lock: other senders, and a receiver, must get on. */
            if (!ReleaseMutex(ch->send)) fail(2, "ReleaseMutex (send lock)");
            full_waits++;
            wait_change(&ch->space, since);
        }
    }
    printf("{\"sent\":%lu,\"bytes\":%llu,\"wrapped\":%llu,\"fullWaits\":%llu,\"abandoned\":%llu}\n", (unsigned long)count, bytes, wrapped,
           full_waits, abandoned);
    fflush(stdout);
    return 0;
}

static int run_receive(struct channel *ch, uint32_t count, uint32_t seed, uint32_t id)
{
    DWORD r = WaitForSingleObject(ch->receive, 0);
    if (r == WAIT_TIMEOUT) {
        puts("{\"busy\":true}");
        fflush(stdout);
        return 5;
    }
    if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED) fail(2, "WaitForSingleObject (receive lock)"); /* a dead receiver's end passes on */
    uint32_t max_len = (ch->capacity - 8) / 4, state = seed;
    unsigned char *expected = malloc(max_len + 1), *got = malloc(ch->capacity);
    unsigned long long bytes = 0, wrapped = 0, empty_waits = 0, checked_bytes = 0;
    for (uint32_t n = 0; n < count; n++) {
        uint32_t tail, head;
        for (;;) {
            uint32_t since = load(&ch->data.w[C_COUNT]);
            tail = load(&ch->words[W_TAIL]); /* acquire: the frames below it are whole */
            head = load(&ch->words[W_HEAD]);
            if (tail != head) break;
            empty_waits++;
            wait_change(&ch->data, since);
        }
        uint32_t used = used_bytes(ch, tail, head);
        uint32_t at = head % ch->capacity, header[2];
        memcpy(header, ch->ring + at, 8);
        uint32_t length = header[0];
        if (length > ch->capacity || frame_bytes(length) > used || header[1] != 0) {
            fprintf(stderr, "channel_peer: message %lu: a frame header of %lu, %lu with %lu bytes used\n", (unsigned long)n,
                    (unsigned long)header[0], (unsigned long)header[1], (unsigned long)used);
            return 4;
        }
        uint32_t body = (at + 8) % ch->capacity;
        uint32_t first = length < ch->capacity - body ? length : ch->capacity - body;
        memcpy(got, ch->ring + body, first);
        memcpy(got + first, ch->ring, length - first);
        if (first < length) wrapped++;
        /* Only after the copy: the space is the senders' again once head moves. */
        store(&ch->words[W_HEAD], (head + frame_bytes(length)) % ch->lap);
        notify(&ch->space);
        int ok;
        if (seed != 0) {
            uint32_t want = make_message(&state, id, n, max_len, expected);
            ok = length == want && memcmp(got, expected, length) == 0;
            checked_bytes += ok ? length : 0;
        } else if (length >= 8) {
            /* Without the seed: its sequence number and checksum; a short one by its pattern. */
            uint32_t w[2];
            memcpy(w, got, 8);
            ok = w[0] == (id << 24 | (n & 0xffffff)) && w[1] == fnv1a(got + 8, length - 8);
        } else {
            ok = length == 0 || got[0] == (unsigned char)id;
            for (uint32_t i = 1; ok && i < length; i++) ok = got[i] == (unsigned char)(n + i);
        }
        if (!ok) {
            uint32_t w[2] = { 0, 0 };
            if (length >= 8) memcpy(w, got, 8);
            int sum_ok = length >= 8 && w[1] == fnv1a(got + 8, length - 8);
            fprintf(stderr, "channel_peer: message %lu: %lu bytes, seq word %#lx, checksum %s\n", (unsigned long)n, (unsigned long)length,
                    (unsigned long)w[0], sum_ok ? "ok" : "bad");
            return 4;
        }
        bytes += length;
    }
    ReleaseMutex(ch->receive);
    printf("{\"received\":%lu,\"bytes\":%llu,\"checkedBytes\":%llu,\"wrapped\":%llu,\"emptyWaits\":%llu}\n", (unsigned long)count, bytes,
           checked_bytes, wrapped, empty_waits);
    fflush(stdout);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: channel_peer.exe send NAME COUNT SEED [ID [HANG_AT]] | receive NAME COUNT [SEED [ID]]\n");
    return 2;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 4) return usage();
    int sending = wcscmp(argv[1], L"send") == 0;
    if (!sending && wcscmp(argv[1], L"receive") != 0) return usage();
    if (sending ? (argc < 5 || argc > 7) : argc > 6) return usage();
    uint32_t count = parse_u32(argv[3]);
    uint32_t seed = argc > 4 ? parse_u32(argv[4]) : 0;
    uint32_t id = argc > 5 ? parse_u32(argv[5]) : 1;
    uint32_t hang_at = argc > 6 ? parse_u32(argv[6]) : UINT32_MAX;
    if ((sending && seed == 0) || id == 0 || id > 255) {
        fprintf(stderr, "channel_peer: SEED must not be 0 (xorshift32) and ID must be 1..255\n");
        return 2;
    }
    struct channel ch;
    open_channel(&ch, argv[2]);
    return sending ? run_send(&ch, count, seed, id, hang_at) : run_receive(&ch, count, seed, id);
}
