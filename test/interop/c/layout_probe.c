/*
 * The C compiler's word on struct layouts, for the layout tests (test/layout-c.test.ts on Linux,
 * test/windows-layout.test.ts with the mingw-w64 build under Windows Node).
 *   layout_probe describe     prints JSON: per struct its sizeof, _Alignof, the byte where its
 *                             record sits in the region, and each field's offsetof and sizeof
 *   layout_probe write NAME   opens (or creates, REGION_SIZE bytes) the region NAME, writes one
 *                             record of each struct, filled with the values below, at its byte,
 *                             and prints JSON: each record's bytes in hex
 *   layout_probe check NAME   reads the records another program wrote in NAME and compares every
 *                             field, byte for byte, with the values below; prints "ok" or one
 *                             "mismatch STRUCT.FIELD ..." line per wrong field (exit 1)
 * NAME is as named-shm takes it: Linux opens shm_open("/NAME"), Windows OpenFileMappingW(NAME)
 * (CreateFileMappingW when it does not exist). Records sit RECORD_STRIDE bytes apart.
 * `long` is 32 bits on Windows (LLP64) and 64 bits on Linux x86-64 (LP64): the WithLong record
 * shows which. The UTF-16 string is wchar_t on Windows (16 bits there) and uint16_t on Linux.
 * Exit codes: 0 ok, 1 mismatch, 2 usage, 3 system error.
 * Build: cc -O2 -Wall -o layout_probe layout_probe.c -lrt
 *        x86_64-w64-mingw32-gcc -O2 -Wall -o layout_probe.exe layout_probe.c
 */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
typedef wchar_t wchar16;
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
typedef uint16_t wchar16;
#endif

_Static_assert(sizeof(wchar16) == 2, "UTF-16 units are 16 bits");
_Static_assert(sizeof(bool) == 1, "bool is one byte");

#define REGION_SIZE 4096
#define RECORD_STRIDE 256

/* ---- the structs ---- */

typedef struct { float x, y, z; } Vec3;
typedef struct { int16_t a; double b; char c; } Inner;

/* Natural alignment: padding before d, q, big, f... */
typedef struct {
    char c; double d; int16_t s; int32_t i; int64_t q; uint8_t u8;
    uint64_t big; float f; bool b; uint16_t u16; int8_t i8; uint32_t u32;
} Natural;

#pragma pack(push, 1)
typedef struct {
    char c; double d; int16_t s; int32_t i; uint64_t big; bool b; float f;
    Vec3 v; Inner inner; /* nested natural structs, themselves placed at any byte */
} Pack1;
#pragma pack(pop)

#pragma pack(push, 2)
typedef struct { char c; int32_t i; double d; int16_t s; char tail; int64_t q; } Pack2;
#pragma pack(pop)

#pragma pack(push, 4)
typedef struct { char c; double d; int16_t s; int64_t q; uint64_t big; char tail; } Pack4;
#pragma pack(pop)

typedef struct {
    char tag; Inner inner; Vec3 pos; Vec3 wheels[4]; int32_t counts[5]; double speeds[3];
    bool flags[3]; uint64_t ticks[2]; int8_t small[3]; Inner inners[2];
} Nested;

typedef struct {
    char name[20];      /* UTF-8 */
    wchar16 label[12];  /* UTF-16LE */
    char latin[8];      /* Latin-1 */
    int32_t after;
    char full[4];       /* N - 1 bytes and the NUL */
} Strings;

typedef struct { char c; long l; unsigned long ul; int32_t i; } WithLong;

/* A foreign header: Node describes only magic, at and tail, with explicit offsets. */
typedef struct { int32_t magic; char reserved[52]; double at; uint32_t tail; } Explicit;

/* ---- the table: every field, by name ---- */

typedef struct { const char *name; size_t offset, size; } Field;
typedef struct {
    const char *name; size_t size, align; const Field *fields; size_t count;
    void (*fill)(unsigned char *record);
} Struct;

#define F(T, m) { #m, offsetof(T, m), sizeof(((T *)0)->m) }

static const Field natural_fields[] = {
    F(Natural, c), F(Natural, d), F(Natural, s), F(Natural, i), F(Natural, q), F(Natural, u8),
    F(Natural, big), F(Natural, f), F(Natural, b), F(Natural, u16), F(Natural, i8), F(Natural, u32),
};
static const Field pack1_fields[] = {
    F(Pack1, c), F(Pack1, d), F(Pack1, s), F(Pack1, i), F(Pack1, big), F(Pack1, b), F(Pack1, f),
    F(Pack1, v.x), F(Pack1, v.y), F(Pack1, v.z), F(Pack1, inner.a), F(Pack1, inner.b), F(Pack1, inner.c),
};
static const Field pack2_fields[] = {
    F(Pack2, c), F(Pack2, i), F(Pack2, d), F(Pack2, s), F(Pack2, tail), F(Pack2, q),
};
static const Field pack4_fields[] = {
    F(Pack4, c), F(Pack4, d), F(Pack4, s), F(Pack4, q), F(Pack4, big), F(Pack4, tail),
};
static const Field nested_fields[] = {
    F(Nested, tag), F(Nested, inner.a), F(Nested, inner.b), F(Nested, inner.c),
    F(Nested, pos.x), F(Nested, pos.y), F(Nested, pos.z), F(Nested, wheels), F(Nested, counts),
    F(Nested, speeds), F(Nested, flags), F(Nested, ticks), F(Nested, small), F(Nested, inners),
};
static const Field strings_fields[] = {
    F(Strings, name), F(Strings, label), F(Strings, latin), F(Strings, after), F(Strings, full),
};
static const Field withlong_fields[] = {
    F(WithLong, c), F(WithLong, l), F(WithLong, ul), F(WithLong, i),
};
static const Field explicit_fields[] = {
    F(Explicit, magic), F(Explicit, at), F(Explicit, tail),
};

/* ---- the values (the tests hold the same ones) ---- */

static const uint64_t BIG = 0xFEDCBA9876543210ULL;

static void fill_natural(unsigned char *p)
{
    static const Natural r = { .c = 'A', .d = 3.141592653589793, .s = -12345, .i = -123456789,
                  .q = -1234567890123456789LL, .u8 = 0xAB, .big = BIG, .f = -2.25f, .b = true,
                  .u16 = 0xBEEF, .i8 = -128, .u32 = 0xDEADBEEFu };
    memcpy(p, &r, sizeof r);
}

static void fill_pack1(unsigned char *p)
{
    static const Pack1 r = { .c = 'p', .d = -0.1, .s = 32767, .i = INT32_MIN, .big = BIG, .b = true, .f = 1.5f,
                .v = { 1.0f, -2.5f, 3.125f }, .inner = { -2, 6.02214076e23, 'z' } };
    memcpy(p, &r, sizeof r);
}

static void fill_pack2(unsigned char *p)
{
    static const Pack2 r = { .c = 'q', .i = 2000000000, .d = 1e-300, .s = -1, .tail = 't', .q = INT64_MIN };
    memcpy(p, &r, sizeof r);
}

static void fill_pack4(unsigned char *p)
{
    static const Pack4 r = { .c = 'r', .d = -123.456, .s = 4242, .q = INT64_MAX, .big = UINT64_MAX, .tail = '!' };
    memcpy(p, &r, sizeof r);
}

static void fill_nested(unsigned char *p)
{
    static const Nested r = {
        .tag = 'N', .inner = { 7, 0.5, 'i' }, .pos = { 10.5f, -20.25f, 30.0f },
        .wheels = { { 1, 2, 3 }, { 4, 5, 6 }, { -7, -8, -9 }, { 0.25f, 0.5f, 0.75f } },
        .counts = { -2, -1, 0, 1, 2147483647 }, .speeds = { 1.25, -2.5, 1e100 },
        .flags = { true, false, true }, .ticks = { 1, BIG }, .small = { -1, 0, 127 },
        .inners = { { -3, 2.75, 'a' }, { 32767, -1e-10, 'b' } },
    };
    memcpy(p, &r, sizeof r);
}

static void fill_strings(unsigned char *p)
{
    Strings r;
    memset(&r, 0, sizeof r);
    strcpy(r.name, "Ayrton Se\xc3\xb1na \xe2\x9c\x93"); /* "Ayrton Señna ✓" in UTF-8 */
    /* "Zoë 😀 ✓" in UTF-16 */
    static const uint16_t label[] = { 0x5A, 0x6F, 0xEB, 0x20, 0xD83D, 0xDE00, 0x20, 0x2713 };
    for (size_t k = 0; k < sizeof label / sizeof label[0]; k++) r.label[k] = (wchar16)label[k];
    strcpy(r.latin, "caf\xe9"); /* "café" in Latin-1 */
    r.after = -559038737;
    memcpy(r.full, "ABC", 4);
    memcpy(p, &r, sizeof r);
}

static void fill_withlong(unsigned char *p)
{
    static const WithLong r = { .c = 'L', .l = -1000000000L, .ul = 4000000000UL, .i = -7 };
    memcpy(p, &r, sizeof r);
}

static void fill_explicit(unsigned char *p)
{
    Explicit r;
    memset(&r, 0, sizeof r);
    r.magic = 0x534D4853; /* "SHMS" */
    r.at = 2.5;
    r.tail = 0x80000001u;
    memcpy(p, &r, sizeof r);
}

#define S(T, fields, fill) { #T, sizeof(T), _Alignof(T), fields, sizeof fields / sizeof fields[0], fill }
static const Struct structs[] = {
    S(Natural, natural_fields, fill_natural),    S(Pack1, pack1_fields, fill_pack1),
    S(Pack2, pack2_fields, fill_pack2),          S(Pack4, pack4_fields, fill_pack4),
    S(Nested, nested_fields, fill_nested),       S(Strings, strings_fields, fill_strings),
    S(WithLong, withlong_fields, fill_withlong), S(Explicit, explicit_fields, fill_explicit),
};
#define COUNT (sizeof structs / sizeof structs[0])
_Static_assert(COUNT * RECORD_STRIDE <= REGION_SIZE, "the records fit the region");

/* ---- the region ---- */

static unsigned char *open_region(const char *name, size_t *size)
{
#ifdef _WIN32
    wchar_t wname[512];
    if (!MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 512)) return NULL;
    HANDLE map = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
    if (map == NULL) map = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, REGION_SIZE, wname);
    if (map == NULL) { fprintf(stderr, "CreateFileMappingW failed: %lu\n", GetLastError()); return NULL; }
    unsigned char *p = MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (p == NULL) { fprintf(stderr, "MapViewOfFile failed: %lu\n", GetLastError()); return NULL; }
    MEMORY_BASIC_INFORMATION mbi;
    VirtualQuery(p, &mbi, sizeof mbi);
    *size = mbi.RegionSize;
    return p;
#else
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) { perror("shm_open"); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return NULL; }
    if (st.st_size == 0) {
        if (ftruncate(fd, REGION_SIZE) != 0) { perror("ftruncate"); return NULL; }
        st.st_size = REGION_SIZE;
    }
    unsigned char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return NULL; }
    *size = (size_t)st.st_size;
    return p;
#endif
}

static void describe(void)
{
    printf("{\"platform\":\"%s\",\"sizeofLong\":%u,\"sizeofWchar\":%u,\"stride\":%d,\"structs\":[",
#ifdef _WIN32
           "win32",
#else
           "linux",
#endif
           (unsigned)sizeof(long), (unsigned)sizeof(wchar16), RECORD_STRIDE);
    for (size_t s = 0; s < COUNT; s++) {
        const Struct *t = &structs[s];
        printf("%s{\"name\":\"%s\",\"size\":%u,\"align\":%u,\"at\":%u,\"fields\":[", s ? "," : "", t->name,
               (unsigned)t->size, (unsigned)t->align, (unsigned)(s * RECORD_STRIDE));
        for (size_t f = 0; f < t->count; f++)
            printf("%s{\"name\":\"%s\",\"offset\":%u,\"size\":%u}", f ? "," : "", t->fields[f].name,
                   (unsigned)t->fields[f].offset, (unsigned)t->fields[f].size);
        printf("]}");
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "describe") == 0) { describe(); return 0; }
    if (argc != 3 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: layout_probe describe | write NAME | check NAME\n");
        return 2;
    }
    size_t size = 0;
    unsigned char *region = open_region(argv[2], &size);
    if (region == NULL) return 3;
    if (size < COUNT * RECORD_STRIDE) { fprintf(stderr, "region has %u bytes\n", (unsigned)size); return 3; }
    unsigned char expected[RECORD_STRIDE];

    if (strcmp(argv[1], "write") == 0) {
        printf("{");
        for (size_t s = 0; s < COUNT; s++) {
            unsigned char *record = region + s * RECORD_STRIDE;
            memset(expected, 0, sizeof expected);
            structs[s].fill(expected);
            memcpy(record, expected, structs[s].size);
            printf("%s\"%s\":\"", s ? "," : "", structs[s].name);
            for (size_t k = 0; k < structs[s].size; k++) printf("%02x", record[k]);
            printf("\"");
        }
        printf("}\n");
        return 0;
    }

    int bad = 0;
    for (size_t s = 0; s < COUNT; s++) {
        const Struct *t = &structs[s];
        const unsigned char *record = region + s * RECORD_STRIDE;
        memset(expected, 0, sizeof expected);
        t->fill(expected);
        for (size_t f = 0; f < t->count; f++) {
            const Field *field = &t->fields[f];
            if (memcmp(record + field->offset, expected + field->offset, field->size) == 0) continue;
            bad = 1;
            printf("mismatch %s.%s want ", t->name, field->name);
            for (size_t k = 0; k < field->size; k++) printf("%02x", expected[field->offset + k]);
            printf(" got ");
            for (size_t k = 0; k < field->size; k++) printf("%02x", record[field->offset + k]);
            printf("\n");
        }
    }
    if (!bad) printf("ok\n");
    return bad;
}
