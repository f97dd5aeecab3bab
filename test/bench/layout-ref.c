/* The C side of the layout section of `npm run bench` (test/bench/layout.ts): what the same
 * accesses cost in C, on a MAP_SHARED shm object as named-shm maps one.
 *   layout-ref <shm name> <samples>
 * Prints "ok <get ns> <set ns> <snapshot ns>", each the median of <samples> timed loops:
 *   get:      a double read from the mapping through a volatile pointer;
 *   set:      a double stored the same way;
 *   snapshot: 1 KiB copied with memcpy between two reads of an even sequence (the protocol of
 *             readConsistent, README "C structs in a region"), the seqlock's acquire fences included. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE 4096
#define RECORD 1024

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

static unsigned char snapshot_copy[RECORD];

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int samples = atoi(argv[2]);
  int fd = shm_open(argv[1], O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, SIZE) != 0) return perror("shm_open"), 1;
  unsigned char *base = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return perror("mmap"), 1;
  volatile double *field = (volatile double *)(base + 64);
  uint32_t *seq = (uint32_t *)base;
  double *v = malloc(sizeof(double) * (size_t)samples);
  const long n = 1000000, m = 100000;
  double sink = 0;
  double results[3];
  for (int what = 0; what < 3; what++) {
    for (int s = -1; s < samples; s++) {
      double t = now_ns();
      if (what == 0) for (long i = 0; i < n; i++) sink += *field;
      else if (what == 1) for (long i = 0; i < n; i++) *field = (double)i;
      else for (long i = 0; i < m; i++) {
        uint32_t before, after;
        do {
          before = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
          memcpy(snapshot_copy, base, RECORD);
          __atomic_thread_fence(__ATOMIC_ACQUIRE);
          after = __atomic_load_n(seq, __ATOMIC_RELAXED);
        } while ((before & 1) || before != after);
        sink += snapshot_copy[i & (RECORD - 1)];
      }
      if (s >= 0) v[s] = (now_ns() - t) / (what == 2 ? m : n);
    }
    results[what] = median(v, samples);
  }
  printf("ok %.3f %.3f %.3f %d\n", results[0], results[1], results[2], sink > -1);
  shm_unlink(argv[1]);
  return 0;
}
