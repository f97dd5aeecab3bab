/*
 * A named-shm NamedMutex from plain C on Linux, using only the layout and protocol the README
 * documents: the mutex `foo` is the shm object /dev/shm/foo, exactly 64 bytes: magic "nshmmtx\0"
 * in bytes 0..7, u32 version 1 at byte 8, u32 flags 0 at byte 12, and at byte 16 glibc's 40-byte
 * pthread_mutex_t, initialised robust (PTHREAD_MUTEX_ROBUST), process-shared
 * (PTHREAD_PROCESS_SHARED) and error-checking (PTHREAD_MUTEX_ERRORCHECK); zeros to byte 64.
 * A program that uses it holds an OFD read lock on a descriptor of the object (fcntl F_OFD_SETLK,
 * F_RDLCK, the whole file) for as long as it has it mapped: that is how named-shm counts holders,
 * so the last named-shm close does not remove the name under it.
 *
 *   mutex_tool hold NAME            locks; prints "held" (or "held abandoned"); waits for a line on
 *                                   stdin; unlocks; prints "unlocked"
 *   mutex_tool die-holding NAME     locks; prints "held"; dies by SIGKILL without unlocking
 *   mutex_tool lock NAME            locks; prints "locked", or "abandoned" when pthread_mutex_lock
 *                                   gave EOWNERDEAD (then pthread_mutex_consistent); unlocks
 *   mutex_tool trylock NAME         pthread_mutex_trylock: prints "locked", "abandoned" or "busy";
 *                                   unlocks what it got
 *   mutex_tool count NAME REGION N  prints "ready", waits for a line on stdin, then N times: lock;
 *                                   read the u32 at byte 0 of region REGION, yield, write it + 1;
 *                                   unlock. Prints "done N" and the abandoned count seen
 *   mutex_tool create NAME [direct [PAUSE_MS]]
 *                                   creates the mutex (default: complete under a temporary name,
 *                                   then link(2) to NAME; `direct`: shm_open(O_CREAT | O_EXCL) of
 *                                   NAME itself, sized and written in place, pausing PAUSE_MS
 *                                   between the sizing and the header so that an opener meets an
 *                                   unready object, and printing "sized" before the pause); prints
 *                                   "created" or "exists" (NAME was taken:
 *                                   it is opened instead); holds it until a line on stdin, then
 *                                   releases it as named-shm's last holder would; prints "closed"
 * Exit codes: 0 ok, 2 usage or system error, 3 no such object or not a named-shm mutex.
 * Every line is flushed at once. Build: cc -O2 -Wall -Wextra -o mutex_tool mutex_tool.c -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { OBJECT_BYTES = 64, MUTEX_OFFSET = 16 };
static const char MAGIC[8] = "nshmmtx";
_Static_assert(sizeof(pthread_mutex_t) == 40, "named-shm's layout is glibc's 64-bit pthread_mutex_t");

static void say(const char *line)
{
    puts(line);
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: mutex_tool hold|die-holding|lock|trylock NAME | count NAME REGION N | create NAME [direct [PAUSE_MS]]\n");
    return 2;
}

/* Counted as a holder: an OFD read lock over the whole object, for as long as fd stays open. */
static int hold_read_lock(int fd)
{
    struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    return fcntl(fd, F_OFD_SETLK, &lock);
}

/* Opens an existing object, takes the read lock, checks its size, maps it. NULL (and *code) if not. */
static void *open_shared(const char *name, off_t want, int *fd_out, int *code)
{
    char path[512];
    if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path) { *code = 2; return NULL; }
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) { perror("shm_open"); *code = errno == ENOENT ? 3 : 2; return NULL; }
    if (hold_read_lock(fd) != 0) { perror("fcntl(F_OFD_SETLK)"); *code = 2; return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); *code = 2; return NULL; }
    if (want > 0 ? st.st_size != want : st.st_size < 4) {
        fprintf(stderr, "%s: %lld bytes, not %lld\n", path, (long long)st.st_size, (long long)want);
        *code = 3;
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); *code = 2; return NULL; }
    *fd_out = fd; /* stays open: the read lock lives as long as the descriptor */
    return p;
}

/* The mutex inside a named-shm mutex object, once its magic and version are checked. */
static pthread_mutex_t *open_mutex(const char *name, int *fd, int *code)
{
    unsigned char *p = open_shared(name, OBJECT_BYTES, fd, code);
    if (!p) return NULL;
    uint32_t version;
    memcpy(&version, p + 8, 4);
    if (memcmp(p, MAGIC, 8) != 0 || version != 1) {
        fprintf(stderr, "/%s: not a named-shm nshmmtx of version 1\n", name);
        *code = 3;
        return NULL;
    }
    return (pthread_mutex_t *)(p + MUTEX_OFFSET);
}

/* pthread_mutex_lock, with EOWNERDEAD made consistent: 1 when the previous owner died holding it. */
static int lock(pthread_mutex_t *m)
{
    int r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(m);
        return 1;
    }
    if (r != 0) { fprintf(stderr, "pthread_mutex_lock: %s\n", strerror(r)); exit(2); }
    return 0;
}

static void unlock(pthread_mutex_t *m)
{
    int r = pthread_mutex_unlock(m);
    if (r != 0) { fprintf(stderr, "pthread_mutex_unlock: %s\n", strerror(r)); exit(2); }
}

static void wait_for_line(void)
{
    char line[64];
    if (!fgets(line, sizeof line, stdin)) { /* stdin closed: go on as if told */ }
}

/* The 64 bytes of a new mutex object: the header, then the initialised mutex. */
static void initial_bytes(unsigned char out[OBJECT_BYTES])
{
    memset(out, 0, OBJECT_BYTES);
    memcpy(out, MAGIC, 8);
    uint32_t version = 1;
    memcpy(out + 8, &version, 4);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init((pthread_mutex_t *)(out + MUTEX_OFFSET), &attr);
    pthread_mutexattr_destroy(&attr);
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

/*
 * Creates /dev/shm/NAME complete: under a temporary name, sized, written, read-locked, then linked
 * to NAME, so nobody ever sees it unsized or without its header, and link's EEXIST says someone
 * else was first. Mode 01600: the sticky bit marks the object as managed, so that named-shm
 * removes it with its last holder, as it does its own. Returns the descriptor, or -1 with errno
 * EEXIST when NAME is taken.
 */
static int create_linked(const char *name)
{
    if (strlen(name) > 200) { fprintf(stderr, "name too long\n"); exit(2); }
    char tmp[256], tmp_path[300], path[300];
    snprintf(tmp, sizeof tmp, "/%s.creating-%ld", name, (long)getpid());
    snprintf(tmp_path, sizeof tmp_path, "/dev/shm%s", tmp);
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    int fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) { perror("shm_open"); exit(2); }
    unsigned char bytes[OBJECT_BYTES];
    initial_bytes(bytes);
    if (fchmod(fd, 01600) != 0 || pwrite(fd, bytes, OBJECT_BYTES, 0) != OBJECT_BYTES || hold_read_lock(fd) != 0) {
        perror("create");
        shm_unlink(tmp);
        exit(2);
    }
    int linked = link(tmp_path, path);
    int saved = errno;
    shm_unlink(tmp);
    if (linked != 0) {
        if (saved != EEXIST) { errno = saved; perror("link"); exit(2); }
        close(fd);
        errno = EEXIST;
        return -1;
    }
    return fd;
}

/*
 * Creates NAME in place: shm_open(O_CREAT | O_EXCL), the read lock at once (so that no opener takes
 * it for a dead creator's leftover), sized, then written with the magic last. Between the sizing
 * and the magic, named-shm's openers see 64 zero bytes and wait (for 1 s after the last write).
 */
static int create_direct(const char *name, long pause_ms)
{
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return -1;
        perror("shm_open");
        exit(2);
    }
    unsigned char bytes[OBJECT_BYTES];
    initial_bytes(bytes);
    if (hold_read_lock(fd) != 0 || fchmod(fd, 01600) != 0 || ftruncate(fd, OBJECT_BYTES) != 0) { perror("create"); exit(2); }
    if (pause_ms > 0) {
        say("sized");
        sleep_ms(pause_ms);
    }
    if (pwrite(fd, bytes + 8, OBJECT_BYTES - 8, 8) != OBJECT_BYTES - 8 || pwrite(fd, bytes, 8, 0) != 8) { perror("pwrite"); exit(2); }
    return fd;
}

/* As named-shm's last holder: drop the read lock, and if no holder is left (the write lock is
 * free) and the name still leads to this object, remove the name. */
static void release(const char *name, int fd)
{
    struct flock lock = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    fcntl(fd, F_OFD_SETLK, &lock);
    lock.l_type = F_WRLCK;
    if (fcntl(fd, F_OFD_SETLK, &lock) == 0) {
        char path[512];
        struct stat mine, named;
        snprintf(path, sizeof path, "/dev/shm/%s", name);
        if (fstat(fd, &mine) == 0 && stat(path, &named) == 0 && mine.st_dev == named.st_dev && mine.st_ino == named.st_ino) {
            snprintf(path, sizeof path, "/%s", name);
            shm_unlink(path);
        }
    }
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    const char *cmd = argv[1], *name = argv[2];
    int code = 0, fd = -1;

    if (strcmp(cmd, "create") == 0 && (argc == 3 || (argc >= 4 && strcmp(argv[3], "direct") == 0))) {
        int direct = argc >= 4;
        fd = direct ? create_direct(name, argc >= 5 ? strtol(argv[4], NULL, 10) : 0) : create_linked(name);
        if (fd < 0) {
            if (!open_mutex(name, &fd, &code)) return code;
            say("exists");
        } else {
            say("created");
        }
        wait_for_line();
        release(name, fd);
        say("closed");
        return 0;
    }

    pthread_mutex_t *m;
    if (strcmp(cmd, "count") == 0) {
        if (argc != 5) return usage();
        if (!(m = open_mutex(name, &fd, &code))) return code;
        int region_fd;
        volatile uint32_t *counter = open_shared(argv[3], 0, &region_fd, &code);
        if (!counter) return code;
        long n = strtol(argv[4], NULL, 10);
        say("ready");
        wait_for_line();
        long abandoned = 0;
        for (long i = 0; i < n; i++) {
            abandoned += lock(m);
            uint32_t v = *counter;
            sched_yield(); /* without the lock, the others' increments in this gap are lost */
            *counter = v + 1;
            unlock(m);
        }
        printf("done %ld %ld\n", n, abandoned);
        fflush(stdout);
        return 0;
    }
    if (argc != 3) return usage();
    if (!(m = open_mutex(name, &fd, &code))) return code;

    if (strcmp(cmd, "hold") == 0) {
        say(lock(m) ? "held abandoned" : "held");
        wait_for_line();
        unlock(m);
        say("unlocked");
        return 0;
    }
    if (strcmp(cmd, "die-holding") == 0) {
        lock(m);
        say("held");
        kill(getpid(), SIGKILL);
        return 2; /* not reached */
    }
    if (strcmp(cmd, "lock") == 0) {
        say(lock(m) ? "abandoned" : "locked");
        unlock(m);
        return 0;
    }
    if (strcmp(cmd, "trylock") == 0) {
        int r = pthread_mutex_trylock(m);
        if (r == EBUSY) { say("busy"); return 0; }
        if (r == EOWNERDEAD) pthread_mutex_consistent(m);
        else if (r != 0) { fprintf(stderr, "pthread_mutex_trylock: %s\n", strerror(r)); return 2; }
        say(r == EOWNERDEAD ? "abandoned" : "locked");
        unlock(m);
        return 0;
    }
    return usage();
}
