/*
 * The C reference of the wake-up benchmark (test/bench/wake.ts): a futex ping-pong between two
 * processes, one side of it per process. Two 32-bit words in one MAP_SHARED POSIX shm object,
 * FUTEX_WAIT/FUTEX_WAKE without FUTEX_PRIVATE_FLAG (a private futex would not cross processes).
 * Each word is an auto-reset event at its simplest:
 *   set:  store 1, then FUTEX_WAKE one (always: no waiter count);
 *   wait: take the 1 with a compare-and-swap 1 -> 0; while there is none, FUTEX_WAIT while it is 0.
 * Side a sets word 0 and waits on word 1, timing each round trip with CLOCK_MONOTONIC; side b
 * waits on word 0 and sets word 1. Built by the harness with the system `cc -O2`.
 *
 *   wake-futex <a|b> <shm name> <warm-up round trips> <timed round trips>
 *
 * Side a prints one line: "ok" and the timed round trips in nanoseconds. Either side gives up
 * after 30 s without an answer, so a dead peer never leaves the other behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t *words;
static const struct timespec patience = {30, 0};

static void die(const char *what) {
  fprintf(stderr, "wake-futex: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set(uint32_t *w) {
  __atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void wait_for(uint32_t *w) {
  for (;;) {
    uint32_t one = 1;
    if (__atomic_compare_exchange_n(w, &one, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return;
    long r = syscall(SYS_futex, w, FUTEX_WAIT, 0, &patience, NULL, 0);
    if (r != 0 && errno == ETIMEDOUT) {
      fprintf(stderr, "wake-futex: no answer for 30 s\n");
      exit(3);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[1], "a") != 0 && strcmp(argv[1], "b") != 0)) {
    fprintf(stderr, "usage: wake-futex <a|b> <shm name> <warm-up> <timed>\n");
    return 2;
  }
  int side_a = argv[1][0] == 'a';
  long warm = atol(argv[3]), timed = atol(argv[4]);
  /* Both sides create or open: the object is 8 zero bytes until someone sets a word. */
  int fd = shm_open(argv[2], O_RDWR | O_CREAT, 0600);
  if (fd < 0) die("shm_open");
  if (ftruncate(fd, 8) != 0) die("ftruncate");
  words = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (words == MAP_FAILED) die("mmap");
  close(fd);

  if (!side_a) {
    for (long i = 0; i < warm + timed; i++) {
      wait_for(&words[0]);
      set(&words[1]);
    }
    return 0;
  }
  uint64_t *ns = malloc(sizeof *ns * (size_t)(timed > 0 ? timed : 1));
  if (!ns) die("malloc");
  for (long i = 0; i < warm; i++) {
    set(&words[0]);
    wait_for(&words[1]);
  }
  for (long i = 0; i < timed; i++) {
    uint64_t t0 = now_ns();
    set(&words[0]);
    wait_for(&words[1]);
    ns[i] = now_ns() - t0;
  }
  shm_unlink(argv[2]);
  printf("ok");
  for (long i = 0; i < timed; i++) printf(" %llu", (unsigned long long)ns[i]);
  printf("\n");
  return 0;
}
