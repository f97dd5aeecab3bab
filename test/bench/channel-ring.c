/*
 * The C reference of the channel benchmark (test/bench/channel.ts): a single-producer,
 * single-consumer ring of length-prefixed frames in a MAP_SHARED POSIX shm object, one side per
 * process, both sides spinning (no futex, no system call per message). The frame format is the
 * Channel's (a u32 length, a u32 0, the bytes, padding to 8), with tail and head on cache lines
 * of their own, stored with release and loaded with acquire; there is no send lock (one sender).
 *
 *   channel-ring rt   <a|b> <shm name> <warm-up> <timed>             round trips over two rings
 *   channel-ring tput <send|recv> <shm name> <message bytes> <ms> <warm-up ms>
 *
 * rt: side a writes a 21-byte message ("This is a test string") to ring 0 and waits for it to come
 * back on ring 1; side b copies each message out of ring 0 and writes it to ring 1. Side a prints
 * "ok" and the timed round trips in nanoseconds.
 * tput: the sender writes messages of the given size to one 1 MiB ring for <ms> milliseconds,
 * then a frame of length 0 (the end); the receiver copies each message out, starts counting
 * <warm-up ms> after its first message, and prints "ok <messages> <nanoseconds>" of the counted
 * part. Either side prints "ready" once its ring is mapped, and gives up after 30 s without
 * progress. Built by the harness with the system `cc -O2`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CAPACITY (1u << 20)
#define PATIENCE_NS 30000000000ull

struct ring {
  uint64_t tail; /* sender's */
  char pad1[56];
  uint64_t head; /* receiver's */
  char pad2[56];
  unsigned char data[CAPACITY];
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "channel-ring: %s: %s\n", what, strerror(errno));
  exit(2);
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Positions count bytes forever (64-bit): used = tail - head, offset = position % CAPACITY. */
static inline uint32_t frame_bytes(uint32_t len) { return 8 + ((len + 7) & ~7u); }

static void copy_in(struct ring *r, uint64_t at, const unsigned char *src, uint32_t len) {
  uint32_t off = (uint32_t)(at % CAPACITY);
  uint32_t first = len < CAPACITY - off ? len : CAPACITY - off;
  memcpy(r->data + off, src, first);
  if (first < len) memcpy(r->data, src + first, len - first);
}

static void copy_out(struct ring *r, uint64_t at, unsigned char *dst, uint32_t len) {
  uint32_t off = (uint32_t)(at % CAPACITY);
  uint32_t first = len < CAPACITY - off ? len : CAPACITY - off;
  memcpy(dst, r->data + off, first);
  if (first < len) memcpy(dst + first, r->data, len - first);
}

static void give_up(uint64_t since) {
  if (now_ns() - since > PATIENCE_NS) {
    fprintf(stderr, "channel-ring: no progress for 30 s\n");
    exit(3);
  }
}

static void ring_send(struct ring *r, const unsigned char *msg, uint32_t len) {
  uint64_t tail = r->tail; /* ours alone */
  uint32_t size = frame_bytes(len);
  uint64_t since = 0;
  unsigned spins = 0;
  while (tail + size - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) > CAPACITY) {
    relax();
    if (++spins == 1u << 20) {
      if (!since) since = now_ns();
      else give_up(since);
      spins = 0;
    }
  }
  uint32_t off = (uint32_t)(tail % CAPACITY);
  uint32_t header[2] = {len, 0};
  memcpy(r->data + off, header, 8); /* frames start at multiples of 8: never split */
  copy_in(r, tail + 8, msg, len);
  __atomic_store_n(&r->tail, tail + size, __ATOMIC_RELEASE);
}

/* Copies the next message into buf; returns its length. */
static uint32_t ring_receive(struct ring *r, unsigned char *buf) {
  uint64_t head = r->head; /* ours alone */
  uint64_t since = 0;
  unsigned spins = 0;
  while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == head) {
    relax();
    if (++spins == 1u << 20) {
      if (!since) since = now_ns();
      else give_up(since);
      spins = 0;
    }
  }
  uint32_t header[2];
  memcpy(header, r->data + (uint32_t)(head % CAPACITY), 8);
  uint32_t len = header[0];
  copy_out(r, head + 8, buf, len);
  __atomic_store_n(&r->head, head + frame_bytes(len), __ATOMIC_RELEASE);
  return len;
}

static struct ring *map_rings(const char *name, int count) {
  int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
  if (fd < 0) die("shm_open");
  size_t size = sizeof(struct ring) * (size_t)count;
  if (ftruncate(fd, (off_t)size) != 0) die("ftruncate");
  struct ring *r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (r == MAP_FAILED) die("mmap");
  close(fd);
  /* Touch every page now, so the first messages do not pay for page faults. */
  for (size_t i = 0; i < size; i += 4096) __atomic_fetch_add((unsigned char *)r + i, 0, __ATOMIC_RELAXED);
  return r;
}

static void ready(void) {
  printf("ready\n");
  fflush(stdout);
}

static int round_trips(int side_a, const char *name, long warm, long timed) {
  struct ring *rings = map_rings(name, 2);
  static const char text[] = "This is a test string";
  unsigned char buf[64];
  ready();
  if (!side_a) {
    for (long i = 0; i < warm + timed; i++) {
      uint32_t len = ring_receive(&rings[0], buf);
      ring_send(&rings[1], buf, len);
    }
    return 0;
  }
  uint64_t *ns = malloc(sizeof *ns * (size_t)(timed > 0 ? timed : 1));
  if (!ns) die("malloc");
  for (long i = 0; i < warm; i++) {
    ring_send(&rings[0], (const unsigned char *)text, 21);
    ring_receive(&rings[1], buf);
  }
  for (long i = 0; i < timed; i++) {
    uint64_t t0 = now_ns();
    ring_send(&rings[0], (const unsigned char *)text, 21);
    if (ring_receive(&rings[1], buf) != 21) {
      fprintf(stderr, "channel-ring: a message came back changed\n");
      return 4;
    }
    ns[i] = now_ns() - t0;
  }
  shm_unlink(name);
  printf("ok");
  for (long i = 0; i < timed; i++) printf(" %llu", (unsigned long long)ns[i]);
  printf("\n");
  return 0;
}

static int throughput(int sender, const char *name, uint32_t bytes, long ms, long warm_ms) {
  struct ring *r = map_rings(name, 1);
  unsigned char *buf = malloc(bytes > 64 ? bytes : 64);
  if (!buf) die("malloc");
  for (uint32_t i = 0; i < bytes; i++) buf[i] = (unsigned char)(i * 31 + 7);
  ready();
  if (sender) {
    uint64_t end = 0;
    for (uint64_t n = 0;; n++) {
      ring_send(r, buf, bytes);
      if ((n & 15) == 0) {
        uint64_t t = now_ns();
        if (!end) end = t + (uint64_t)ms * 1000000u;
        else if (t >= end) break;
      }
    }
    ring_send(r, buf, 0);
    return 0;
  }
  uint64_t first = 0, t0 = 0, counted = 0, total = 0;
  for (;;) {
    uint32_t len = ring_receive(r, buf);
    if (len == 0) break;
    total++;
    if (t0) {
      counted++;
    } else {
      uint64_t t = now_ns();
      if (!first) first = t;
      else if (t - first >= (uint64_t)warm_ms * 1000000u) t0 = t;
    }
  }
  uint64_t t1 = now_ns();
  shm_unlink(name);
  if (!t0) {
    fprintf(stderr, "channel-ring: the sender stopped within the warm-up (%llu messages)\n", (unsigned long long)total);
    return 4;
  }
  printf("ok %llu %llu\n", (unsigned long long)counted, (unsigned long long)(t1 - t0));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "rt") == 0) return round_trips(argv[2][0] == 'a', argv[3], atol(argv[4]), atol(argv[5]));
  if (argc == 7 && strcmp(argv[1], "tput") == 0) {
    long bytes = atol(argv[4]);
    if (bytes < 1 || bytes > (long)CAPACITY / 2) {
      fprintf(stderr, "channel-ring: message bytes out of range\n");
      return 2;
    }
    return throughput(strcmp(argv[2], "send") == 0, argv[3], (uint32_t)bytes, atol(argv[5]), atol(argv[6]));
  }
  fprintf(stderr, "usage: channel-ring rt <a|b> <shm name> <warm-up> <timed>\n"
                  "       channel-ring tput <send|recv> <shm name> <message bytes> <ms> <warm-up ms>\n");
  return 2;
}
