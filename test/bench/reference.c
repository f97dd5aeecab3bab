/*
 * The C reference for `npm run bench`: the sample's SetSharedMem/GetSharedMem ported to a POSIX
 * shm_open + mmap region, the best native string copy (SSE2 scan for U+0000 + memcpy), the
 * sample's create/map/unmap/close sequence, memcpy, and a ping-pong between two processes that
 * spin on a flag in shared memory.
 *
 * Built by test/bench/run.ts with the system `cc -O2`. It reads one command per line on stdin:
 *   run <case> <iterations> <samples>   ->  "ok <ns per op> <ns per op> ..." (one per sample)
 *   quit
 * Every sample times <iterations> operations with CLOCK_MONOTONIC and divides.
 * The strings come from files the harness writes (UTF-16LE, no terminator): argv[1..3].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SHMEMSIZE 4096
#define CAPACITY (SHMEMSIZE / 2) /* units: the port bounds by units, not bytes */
#define MAX_PATH 260
#define BIG (1024 * 1024)

typedef uint16_t WCHAR;

/* Keeps the compiler from dropping or merging work whose result nobody reads. */
#define CLOBBER(p) __asm__ volatile("" : : "r"(p) : "memory")

static WCHAR *lpvMem;            /* the sample's region: 4096 bytes */
static char name_prefix[64];
static unsigned long name_counter;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "reference: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* ---- The sample's two exports, ported: units bounded by CAPACITY, reads stop at the region's end. */

__attribute__((noinline)) void SetSharedMem(const WCHAR *lpszBuf) {
  WCHAR *lpszTmp = lpvMem;
  uint32_t dwCount = 1;
  while (*lpszBuf && dwCount < CAPACITY) {
    *lpszTmp++ = *lpszBuf++;
    dwCount++;
  }
  *lpszTmp = 0;
}

__attribute__((noinline)) void GetSharedMem(WCHAR *lpszBuf, uint32_t cchSize) {
  const WCHAR *lpszTmp = lpvMem;
  const WCHAR *end = lpvMem + CAPACITY;
  while (lpszTmp < end && *lpszTmp && --cchSize) *lpszBuf++ = *lpszTmp++;
  *lpszBuf = 0;
}

/* ---- The best native figure: find U+0000 sixteen bytes at a time, then memcpy. */

static size_t scan16(const WCHAR *p, size_t max) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; i + 8 <= max; i += 8) {
    int mask = _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(p + i)), zero));
    if (mask) return i + ((size_t)__builtin_ctz((unsigned)mask) >> 1);
  }
#endif
  for (; i < max; i++)
    if (!p[i]) return i;
  return max;
}

__attribute__((noinline)) size_t SetSharedMemFast(const WCHAR *s) {
  size_t n = scan16(s, CAPACITY - 1);
  memcpy(lpvMem, s, n * 2);
  lpvMem[n] = 0;
  return n;
}

__attribute__((noinline)) size_t GetSharedMemFast(WCHAR *out, uint32_t cchSize) {
  size_t max = cchSize - 1 < CAPACITY ? cchSize - 1 : CAPACITY;
  size_t n = scan16(lpvMem, max);
  memcpy(out, lpvMem, n * 2);
  out[n] = 0;
  return n;
}

/* ---- Regions */

static void next_name(char *out, size_t size) {
  snprintf(out, size, "/%s-c%lu", name_prefix, name_counter++);
}

/* The sample's DLL_PROCESS_ATTACH + DLL_PROCESS_DETACH for a new region, as POSIX spells them. */
static void create_map_unmap_close(void) {
  char name[96];
  next_name(name, sizeof name);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) die("shm_open");
  if (ftruncate(fd, SHMEMSIZE) != 0) die("ftruncate");
  void *p = mmap(NULL, SHMEMSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  CLOBBER(p);
  munmap(p, SHMEMSIZE);
  close(fd);
  shm_unlink(name);
}

#if defined(__linux__)
/*
 * The same new region through the calls named-shm's POSIX backend makes for its lifetime design
 * (lib/posix.ts): create unnamed with O_TMPFILE, set the mode with the sticky bit that marks a
 * managed object, reserve the bytes, take the shared lock, give it its name with linkat, map;
 * then on close take the lock exclusive, check the links and the mark, unlink, close, unmap.
 * It shows what those calls cost the kernel, apart from what JavaScript and koffi add.
 */
static int lifetime_create_close(void) {
  char name[96], link_from[64], link_to[128];
  next_name(name, sizeof name);
  int fd = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
  if (fd < 0) return -1;
  if (fchmod(fd, 01600) != 0) die("fchmod");
  int err = posix_fallocate(fd, 0, SHMEMSIZE);
  if (err != 0) {
    errno = err;
    die("posix_fallocate");
  }
  if (flock(fd, LOCK_SH) != 0) die("flock");
  snprintf(link_from, sizeof link_from, "/proc/self/fd/%d", fd);
  snprintf(link_to, sizeof link_to, "/dev/shm%s", name);
  if (linkat(AT_FDCWD, link_from, AT_FDCWD, link_to, AT_SYMLINK_FOLLOW) != 0) die("linkat");
  void *p = mmap(NULL, SHMEMSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  CLOBBER(p);
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_nlink > 0 && (st.st_mode & S_ISVTX)) shm_unlink(name);
  }
  close(fd);
  munmap(p, SHMEMSIZE);
  return 0;
}
#else
static int lifetime_create_close(void) { return -1; }
#endif

static char existing_name[96];

static void open_existing_close(void) {
  int fd = shm_open(existing_name, O_RDWR, 0);
  if (fd < 0) die("shm_open existing");
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  CLOBBER(p);
  munmap(p, (size_t)st.st_size);
  close(fd);
}

static void *map_new(const char *name, size_t size) {
  int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("shm_open");
  if (ftruncate(fd, (off_t)size) != 0) die("ftruncate");
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  close(fd);
  return p;
}

/* ---- Strings */

static WCHAR *load_string(const char *path, size_t *units) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  WCHAR *s = calloc(CAPACITY * 2 + 16, sizeof(WCHAR)); /* room for 16-byte loads past the NUL */
  size_t n = fread(s, sizeof(WCHAR), CAPACITY * 2, f);
  fclose(f);
  s[n] = 0;
  *units = n;
  return s;
}

/* ---- Ping-pong: a forked child echoes the string back; both sides spin on a flag. */

struct pingpong {
  volatile int32_t flag; /* odd: a request is waiting; even: answered; -1: quit */
  int32_t pad[15];
  WCHAR data[CAPACITY];
};

static struct pingpong *pp;
static pid_t pp_child = -1;

static void pp_set(const WCHAR *s) {
  WCHAR *d = pp->data;
  uint32_t count = 1;
  while (*s && count < CAPACITY) {
    *d++ = *s++;
    count++;
  }
  *d = 0;
}

static void pp_get(WCHAR *out, uint32_t cch) {
  const WCHAR *p = pp->data;
  while (*p && --cch) *out++ = *p++;
  *out = 0;
}

static inline void relax(void) {
#if defined(__SSE2__)
  _mm_pause();
#endif
}

static void pp_start(void) {
  if (pp_child > 0) return;
  pp = mmap(NULL, sizeof *pp, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pp == MAP_FAILED) die("mmap pingpong");
  __atomic_store_n(&pp->flag, 0, __ATOMIC_SEQ_CST);
  pp_child = fork();
  if (pp_child < 0) die("fork");
  if (pp_child == 0) {
    WCHAR buf[MAX_PATH];
    int32_t last = 0;
    double deadline = now_ns() + 300e9; /* never outlive a stuck parent by much */
    unsigned long spins = 0;
    for (;;) {
      int32_t v = __atomic_load_n(&pp->flag, __ATOMIC_ACQUIRE);
      if (v == -1) _exit(0);
      if ((v & 1) && v != last) {
        pp_get(buf, MAX_PATH);
        pp_set(buf);
        last = v;
        __atomic_store_n(&pp->flag, v + 1, __ATOMIC_RELEASE);
        continue;
      }
      relax();
      if ((++spins & 0xfffff) == 0 && (now_ns() > deadline || getppid() == 1)) _exit(1);
    }
  }
}

static void pp_stop(void) {
  if (pp_child <= 0) return;
  __atomic_store_n(&pp->flag, -1, __ATOMIC_RELEASE);
  waitpid(pp_child, NULL, 0);
  pp_child = -1;
}

static int32_t pp_seq = -1;

static void pingpong_round_trip(const WCHAR *s, WCHAR *out) {
  pp_set(s);
  pp_seq += 2;
  __atomic_store_n(&pp->flag, pp_seq, __ATOMIC_RELEASE);
  while (__atomic_load_n(&pp->flag, __ATOMIC_ACQUIRE) != pp_seq + 1) relax();
  pp_get(out, MAX_PATH);
}

/* ---- The command loop */

static char region[96], big_region[96];

/* Interrupted (Ctrl-C reaches the whole process group): remove this process's names first. */
static void on_signal(int sig) {
  shm_unlink(region);
  shm_unlink(big_region);
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: reference <name-prefix> <s21.bin> <latin1.bin> <other.bin>\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(name_prefix, sizeof name_prefix, "%s", argv[1]);
  size_t n21, nl, nu;
  WCHAR *s21 = load_string(argv[2], &n21);
  WCHAR *sl = load_string(argv[3], &nl);
  WCHAR *su = load_string(argv[4], &nu);

  next_name(region, sizeof region);
  next_name(big_region, sizeof big_region);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  lpvMem = map_new(region, SHMEMSIZE);
  snprintf(existing_name, sizeof existing_name, "%s", region);
  unsigned char *big = map_new(big_region, BIG);
  unsigned char *src = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) src[i] = (unsigned char)(i * 31 + 7);
  WCHAR *out = calloc(CAPACITY + 16, sizeof(WCHAR));

  char line[256], name[64];
  unsigned long iters, samples;
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "quit", 4) == 0) break;
    if (sscanf(line, "run %63s %lu %lu", name, &iters, &samples) != 3) {
      printf("error bad command\n");
      continue;
    }
    const WCHAR *s = NULL;
    uint32_t cch = CAPACITY;
    int kind = 0;
    if (!strcmp(name, "port-21")) kind = 1, s = s21, cch = MAX_PATH;
    else if (!strcmp(name, "port-2047-latin1")) kind = 1, s = sl;
    else if (!strcmp(name, "port-2047-other")) kind = 1, s = su;
    else if (!strcmp(name, "best-21")) kind = 2, s = s21, cch = MAX_PATH;
    else if (!strcmp(name, "best-2047-latin1")) kind = 2, s = sl;
    else if (!strcmp(name, "best-2047-other")) kind = 2, s = su;
    else if (!strcmp(name, "port-read-8")) kind = 3, cch = 8;
    else if (!strcmp(name, "best-read-8")) kind = 4, cch = 8;
    else if (!strcmp(name, "create-close")) kind = 5;
    else if (!strcmp(name, "lifetime-create-close")) kind = 10;
    else if (!strcmp(name, "open-existing-close")) kind = 6;
    else if (!strcmp(name, "copy-4096")) kind = 7;
    else if (!strcmp(name, "copy-1048576")) kind = 8;
    else if (!strcmp(name, "handoff-21")) kind = 9;
    if (!kind) {
      printf("error unknown case %s\n", name);
      continue;
    }
    if (kind == 10 && lifetime_create_close() != 0) {
      printf("error %s is not available here\n", name);
      continue;
    }
    if (kind == 3 || kind == 4) SetSharedMem(sl);
    if (kind == 9) {
      pp_start();
      for (int w = 0; w < 1000; w++) pingpong_round_trip(s21, out);
    }
    printf("ok");
    for (unsigned long k = 0; k < samples; k++) {
      double t0 = now_ns();
      switch (kind) {
        case 1:
          for (unsigned long i = 0; i < iters; i++) {
            SetSharedMem(s);
            GetSharedMem(out, cch);
            CLOBBER(out);
          }
          break;
        case 2:
          for (unsigned long i = 0; i < iters; i++) {
            SetSharedMemFast(s);
            GetSharedMemFast(out, cch);
            CLOBBER(out);
          }
          break;
        case 3:
          for (unsigned long i = 0; i < iters; i++) {
            GetSharedMem(out, cch);
            CLOBBER(out);
          }
          break;
        case 4:
          for (unsigned long i = 0; i < iters; i++) {
            GetSharedMemFast(out, cch);
            CLOBBER(out);
          }
          break;
        case 5:
          for (unsigned long i = 0; i < iters; i++) create_map_unmap_close();
          break;
        case 6:
          for (unsigned long i = 0; i < iters; i++) open_existing_close();
          break;
        case 7:
          for (unsigned long i = 0; i < iters; i++) {
            memcpy(lpvMem, src, SHMEMSIZE);
            CLOBBER(lpvMem);
          }
          break;
        case 8:
          for (unsigned long i = 0; i < iters; i++) {
            memcpy(big, src, BIG);
            CLOBBER(big);
          }
          break;
        case 10:
          for (unsigned long i = 0; i < iters; i++) lifetime_create_close();
          break;
        case 9:
          for (unsigned long i = 0; i < iters; i++) {
            pingpong_round_trip(s21, out);
            CLOBBER(out);
          }
          break;
      }
      printf(" %.3f", (now_ns() - t0) / (double)iters);
    }
    printf("\n");
    if (kind == 9) pp_stop();
  }
  pp_stop();
  shm_unlink(region);
  shm_unlink(big_region);
  (void)nl;
  (void)nu;
  (void)n21;
  return 0;
}
