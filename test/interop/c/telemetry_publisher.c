/*
 * The telemetry demo's publisher (npm run demo:telemetry): a C program that publishes a
 * telemetry-like struct in a named-shm region 60 times a second under named-shm's sequence lock,
 * and sets a named event after each publish, as sim-racing games do for their readers.
 *   telemetry_publisher REGION EVENT SECONDS [HZ]
 * REGION and EVENT must exist (the Node reader opens them first, with named-shm); this program
 * opens them, prints "ready", publishes for SECONDS seconds at HZ (default 60) frames a second,
 * then prints "done frames=<N>" and exits. Exit code 2 on a usage or system error.
 *
 * The sequence lock (README, "C structs in a region"): a uint32 at offset 0 of the record.
 * Writer: compare-and-swap an even s to s + 1 (odd), write the fields, store s + 2 (release).
 * Readers load s (retry while odd), copy, load again and retry unless it is unchanged.
 *
 * The event: on Windows a plain Win32 named event (CreateEventW on the same name, SetEvent); on
 * Linux named-shm's futex layout (README, "Events and change counters for C and other
 * languages"): the 32-byte object /dev/shm/EVENT; an auto-reset or manual-reset set.
 *
 * Build: cc -O2 -Wall -Wextra -o telemetry_publisher telemetry_publisher.c -lm
 *        x86_64-w64-mingw32-gcc -O2 -municode -o telemetry_publisher.exe telemetry_publisher.c -static-libgcc
 */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

/* The record, in C's natural alignment (184 bytes); demo/telemetry.ts declares the same Layout. */
struct telemetry {
    uint32_t seq;            /*   0: the sequence lock */
    uint64_t frame;          /*   8 */
    double time;             /*  16: seconds since the start */
    float speed;             /*  24: km/h */
    int32_t rpm;             /*  28 */
    int8_t gear;             /*  32 */
    float throttle;          /*  36: 0..1 */
    float brake;             /*  40: 0..1 */
    float tyre_temps[4];     /*  44: °C */
    double position[3];      /*  64: metres */
    char driver[32];         /*  88: UTF-8, NUL-terminated */
    uint16_t track[32];      /* 120: UTF-16LE (Windows wchar_t), NUL-terminated */
};
_Static_assert(sizeof(struct telemetry) == 184, "telemetry record size");
_Static_assert(offsetof(struct telemetry, position) == 64, "telemetry position offset");
_Static_assert(offsetof(struct telemetry, track) == 120, "telemetry track offset");

static void say(const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
}

/* Sequence lock, writer side. */
static void publish(struct telemetry *shared, const struct telemetry *frame)
{
    _Atomic uint32_t *seq = (_Atomic uint32_t *)&shared->seq;
    uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);
    for (;;) {
        if (s & 1) { /* another writer is inside: wait for it */
            s = atomic_load_explicit(seq, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
            break;
    }
    /* The odd sequence is visible before any field changes. */
    atomic_thread_fence(memory_order_release);
    memcpy((char *)shared + sizeof(uint32_t), (const char *)frame + sizeof(uint32_t), sizeof *frame - sizeof(uint32_t));
    /* Every field is visible before the even sequence. */
    atomic_store_explicit(seq, s + 2, memory_order_release);
}

static void fill(struct telemetry *t, uint64_t frame, double hz)
{
    static const char *track = "Autodromo Nazionale Monza";
    double time = (double)frame / hz;
    double lap = fmod(time, 10.0) / 10.0; /* a 10-second "lap" */
    memset(t, 0, sizeof *t);
    t->frame = frame;
    t->time = time;
    t->speed = (float)(120.0 + 180.0 * sin(lap * 6.283185307179586));
    if (t->speed < 60.0f) t->speed = 60.0f + (60.0f - t->speed) * 0.1f;
    t->gear = (int8_t)(1 + (int)(t->speed / 50.0f));
    if (t->gear > 7) t->gear = 7;
    t->rpm = (int32_t)(4000 + (int32_t)(t->speed * 37.0f) % 8000);
    t->throttle = (float)(0.5 + 0.5 * cos(lap * 6.283185307179586));
    t->brake = t->throttle < 0.2f ? 0.8f - t->throttle : 0.0f;
    for (int i = 0; i < 4; i++) t->tyre_temps[i] = (float)(85.0 + 5.0 * sin(time + i));
    t->position[0] = 500.0 * cos(lap * 6.283185307179586);
    t->position[1] = 300.0 * sin(lap * 6.283185307179586);
    t->position[2] = 12.5;
    snprintf(t->driver, sizeof t->driver, "%s", "Ayrton Senna");
    for (size_t i = 0; track[i] && i < 31; i++) t->track[i] = (uint16_t)(unsigned char)track[i];
}

#ifdef _WIN32

static int fail(const char *what)
{
    fprintf(stderr, "%s failed: error %lu\n", what, GetLastError());
    return 2;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: telemetry_publisher REGION EVENT SECONDS [HZ]\n");
        return 2;
    }
    double seconds = _wtof(argv[3]), hz = argc == 5 ? _wtof(argv[4]) : 60.0;
    if (!(seconds > 0) || !(hz > 0)) {
        fprintf(stderr, "SECONDS and HZ must be positive\n");
        return 2;
    }
    HANDLE map = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, argv[1]);
    if (map == NULL) return fail("OpenFileMappingW");
    struct telemetry *shared = MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, sizeof(struct telemetry));
    if (shared == NULL) return fail("MapViewOfFile");
    /* Opens the event named-shm made (CreateEventW opens an existing one, keeping its kind). */
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, argv[2]);
    if (event == NULL) return fail("CreateEventW");
    say("ready");

    LARGE_INTEGER freq, start, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&start);
    uint64_t total = (uint64_t)(seconds * hz + 0.5), frame = 0;
    struct telemetry t;
    char line[64];
    while (frame < total) {
        frame++;
        fill(&t, frame, hz);
        publish(shared, &t);
        if (!SetEvent(event)) return fail("SetEvent");
        /* Sleep until the next frame's time. */
        QueryPerformanceCounter(&now);
        double due = (double)frame / hz, elapsed = (double)(now.QuadPart - start.QuadPart) / (double)freq.QuadPart;
        if (due > elapsed) Sleep((DWORD)((due - elapsed) * 1000.0));
    }
    snprintf(line, sizeof line, "done frames=%llu", (unsigned long long)frame);
    say(line);
    UnmapViewOfFile(shared);
    CloseHandle(map);
    CloseHandle(event);
    return 0;
}

#else

enum { FLAGS = 3, WORD = 4, WAITERS = 5, SETS = 6, EVENT_BYTES = 32 };

/* Opens and maps /dev/shm/<name> (at least `bytes` long, exactly for an event), holding an OFD
 * read lock on it as a named-shm holder does, so that its last named-shm holder cannot remove
 * it under us. NULL on an error (reported). */
static void *open_object(const char *name, size_t bytes, int exact)
{
    char path[512];
    if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path) { fprintf(stderr, "name too long\n"); return NULL; }
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) { perror(path); return NULL; }
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) { perror("fcntl"); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return NULL; }
    if (exact ? (size_t)st.st_size != bytes : (size_t)st.st_size < bytes) {
        fprintf(stderr, "%s: %lld bytes, expected %s%zu\n", path, (long long)st.st_size, exact ? "" : "at least ", bytes);
        return NULL;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return NULL; }
    return p; /* fd stays open: the lock lives as long as the descriptor */
}

/* Sets a named-shm event (README's futex protocol). */
static void set_event(_Atomic uint32_t *w)
{
    int manual = (atomic_load(&w[FLAGS]) & 1u) != 0;
    if (manual) {
        atomic_exchange(&w[WORD], 1);
        atomic_fetch_add(&w[SETS], 1);
    } else {
        uint32_t n = atomic_load(&w[WORD]);
        while (n <= atomic_load(&w[WAITERS]) && !atomic_compare_exchange_strong(&w[WORD], &n, n + 1)) {}
    }
    if (atomic_load(&w[WAITERS]) != 0)
        syscall(SYS_futex, (uint32_t *)&w[manual ? SETS : WORD], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: telemetry_publisher REGION EVENT SECONDS [HZ]\n");
        return 2;
    }
    double seconds = atof(argv[3]), hz = argc == 5 ? atof(argv[4]) : 60.0;
    if (!(seconds > 0) || !(hz > 0)) {
        fprintf(stderr, "SECONDS and HZ must be positive\n");
        return 2;
    }
    struct telemetry *shared = open_object(argv[1], sizeof(struct telemetry), 0);
    if (!shared) return 2;
    _Atomic uint32_t *event = open_object(argv[2], EVENT_BYTES, 1);
    if (!event) return 2;
    if (memcmp((const void *)event, "nshmevt", 8) != 0 || atomic_load(&event[2]) != 1) {
        fprintf(stderr, "%s: not a named-shm event of version 1\n", argv[2]);
        return 2;
    }
    say("ready");

    double start = now_seconds();
    uint64_t total = (uint64_t)(seconds * hz + 0.5), frame = 0;
    struct telemetry t;
    char line[64];
    while (frame < total) {
        frame++;
        fill(&t, frame, hz);
        publish(shared, &t);
        set_event(event);
        double due = start + (double)frame / hz, left = due - now_seconds();
        if (left > 0) {
            struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
            nanosleep(&ts, NULL);
        }
    }
    snprintf(line, sizeof line, "done frames=%llu", (unsigned long long)frame);
    say(line);
    return 0;
}

#endif
