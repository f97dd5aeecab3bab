/*
 * Linux twin of the sample's DLL, for interop tests with the POSIX backend: shm_open + mmap on
 * the same layout (a UTF-16LE string at byte 0 ended by U+0000, no header).
 *   posix_twin [-n NAME] [-c SIZE] read          prints the text as UTF-8, then "\n"
 *   posix_twin [-n NAME] [-c SIZE] write TEXT    stores TEXT (UTF-8 argument) as UTF-16LE + U+0000
 *   posix_twin [-n NAME] unlink                  shm_unlink(NAME)
 * NAME defaults to /dllmemfilemap (a leading '/' is added if missing). Without -c the object must
 * exist (exit 3 if not); with -c SIZE it is created when missing, SIZE bytes, mode 0600, and kept
 * until unlinked (it is not managed by named-shm's lifetime protocol).
 * Bounds, as CONTRACT.md: the region's size comes from fstat; a write stores at most
 * size/2 - 1 units (cut per unit, like the original), a read stops at the first U+0000 or at the
 * region's end. Invalid UTF-16 (a lone surrogate) reads as U+FFFD.
 * While it works it holds an OFD read lock on the whole object (fcntl F_OFD_SETLK, F_RDLCK,
 * l_start 0, l_len 0), as a named-shm holder does: that is what makes a program count as a holder.
 * Exit codes: 0 ok, 1 system error, 2 usage, 3 no such object.
 * Build: cc -O2 -Wall -o posix_twin posix_twin.c (glibc < 2.34 also needs -lrt)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: posix_twin [-n NAME] [-c SIZE] read | write TEXT | unlink\n");
    return 2;
}

/* UTF-8 -> UTF-16 units, at most max units; invalid bytes become U+FFFD. Returns units stored. */
static size_t utf8_to_utf16(const unsigned char *s, uint16_t *out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        uint32_t cp;
        int len;
        if (*s < 0x80) { cp = *s; len = 1; }
        else if ((*s & 0xE0) == 0xC0) { cp = *s & 0x1F; len = 2; }
        else if ((*s & 0xF0) == 0xE0) { cp = *s & 0x0F; len = 3; }
        else if ((*s & 0xF8) == 0xF0) { cp = *s & 0x07; len = 4; }
        else { cp = 0xFFFD; len = 1; s++; goto store; }
        {
            int i;
            for (i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80) break;
                cp = (cp << 6) | (s[i] & 0x3F);
            }
            if (i < len) { cp = 0xFFFD; len = i; }
            s += len;
        }
    store:
        if (cp >= 0x10000 && cp <= 0x10FFFF) {
            cp -= 0x10000;
            out[n++] = (uint16_t)(0xD800 | (cp >> 10));
            if (n < max) out[n++] = (uint16_t)(0xDC00 | (cp & 0x3FF)); /* a cut may split the pair */
        } else {
            out[n++] = (uint16_t)(cp > 0x10FFFF ? 0xFFFD : cp);
        }
    }
    return n;
}

static void put_utf8(uint32_t cp)
{
    if (cp < 0x80) putchar((int)cp);
    else if (cp < 0x800) { putchar(0xC0 | (cp >> 6)); putchar(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { putchar(0xE0 | (cp >> 12)); putchar(0x80 | ((cp >> 6) & 0x3F)); putchar(0x80 | (cp & 0x3F)); }
    else { putchar(0xF0 | (cp >> 18)); putchar(0x80 | ((cp >> 12) & 0x3F)); putchar(0x80 | ((cp >> 6) & 0x3F)); putchar(0x80 | (cp & 0x3F)); }
}

static uint16_t unit_at(const unsigned char *p, size_t i) { return (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)); }

int main(int argc, char **argv)
{
    const char *arg_name = "/dllmemfilemap";
    char name[512];
    long long create_size = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+n:c:")) != -1) {
        if (opt == 'n') arg_name = optarg;
        else if (opt == 'c') { create_size = atoll(optarg); if (create_size <= 0) return usage(); }
        else return usage();
    }
    if (optind >= argc) return usage();
    const char *cmd = argv[optind];
    snprintf(name, sizeof name, "%s%s", arg_name[0] == '/' ? "" : "/", arg_name);

    if (strcmp(cmd, "unlink") == 0) {
        if (shm_unlink(name) != 0) { perror("shm_unlink"); return errno == ENOENT ? 3 : 1; }
        return 0;
    }
    int writing = strcmp(cmd, "write") == 0;
    if (!writing && strcmp(cmd, "read") != 0) return usage();
    if (writing && optind + 1 >= argc) return usage();

    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0 && errno == ENOENT && create_size > 0) {
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0 && ftruncate(fd, (off_t)create_size) != 0) { perror("ftruncate"); return 1; }
        if (fd < 0 && errno == EEXIST) fd = shm_open(name, O_RDWR, 0); /* lost a race: open theirs */
    }
    if (fd < 0) { perror("shm_open"); return errno == ENOENT ? 3 : 1; }
    struct flock holder = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    (void)fcntl(fd, F_OFD_SETLK, &holder);

    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
    size_t size = (size_t)st.st_size, capacity = size / 2;
    if (size == 0) { fprintf(stderr, "posix_twin: %s has 0 bytes\n", name); return 1; }
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }

    if (writing) {
        if (capacity == 0) return 0;
        uint16_t *units = malloc(capacity * sizeof *units);
        if (!units) return 1;
        size_t n = utf8_to_utf16((const unsigned char *)argv[optind + 1], units, capacity - 1);
        for (size_t i = 0; i < n; i++) { p[2 * i] = units[i] & 0xFF; p[2 * i + 1] = units[i] >> 8; }
        p[2 * n] = 0;
        p[2 * n + 1] = 0;
        free(units);
    } else {
        for (size_t i = 0; i < capacity; i++) {
            uint16_t u = unit_at(p, i);
            if (u == 0) break;
            if (u >= 0xD800 && u <= 0xDBFF && i + 1 < capacity) {
                uint16_t v = unit_at(p, i + 1);
                if (v >= 0xDC00 && v <= 0xDFFF) {
                    put_utf8(0x10000 + (((uint32_t)(u - 0xD800) << 10) | (v - 0xDC00)));
                    i++;
                    continue;
                }
            }
            put_utf8(u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u);
        }
        putchar('\n');
    }
    munmap(p, size);
    close(fd);
    return fflush(stdout) == 0 ? 0 : 1;
}
