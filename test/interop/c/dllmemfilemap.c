/*
 * Reference C build of the sample's DLL ("Using Shared Memory in a Dynamic-Link Library"), with
 * the three defects listed in shared/seed/CONTRACT.md fixed:
 *   - SetSharedMem stores at most capacity - 1 UTF-16 units + U+0000 (2047 + NUL in 4096 bytes);
 *     the original compared a unit count with a byte size and could write 8190 bytes + NUL.
 *   - GetSharedMem(buf, 0) writes nothing; the original's --cchSize wrapped to 4294967295.
 *   - GetSharedMem never reads past the end of the region, even when it holds no U+0000.
 * Otherwise as the sample: on DLL_PROCESS_ATTACH, CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
 * PAGE_READWRITE, 0, 4096, L"dllmemfilemap") and MapViewOfFile(FILE_MAP_WRITE, whole object);
 * only the first attacher (no ERROR_ALREADY_EXISTS) zero-fills; unmap + close on detach.
 * Extra exports for tests: WasCreator() (1 if this process created the mapping) and
 * SharedMemSize() (bytes this DLL treats as the region).
 *
 * Build: x86_64-w64-mingw32-gcc -shared -o dllmemfilemap.dll dllmemfilemap.c
 *          -Wl,--out-implib,libdllmemfilemap.a -static-libgcc
 */
#include <windows.h>
#include <string.h>
#include <wchar.h>

#define SHMEMSIZE 4096
#define DLLEXPORT __declspec(dllexport)

static LPVOID lpvMem = NULL;     /* this process's view of the shared memory */
static HANDLE hMapObject = NULL; /* handle to the file mapping */
static BOOL fCreated = FALSE;    /* this process created the mapping */
static DWORD cbRegion = 0;       /* bytes of the region: SHMEMSIZE, or less if an existing section is smaller */

/* SECTION_BASIC_INFORMATION from <winternl.h>/ntddk, declared here: mingw's headers lack it. */
typedef struct {
    PVOID BaseAddress;
    ULONG AllocationAttributes;
    LARGE_INTEGER MaximumSize;
} SECTION_BASIC_INFO;
typedef LONG(NTAPI *NtQuerySection_t)(HANDLE, int, PVOID, SIZE_T, PSIZE_T);

/* An existing section keeps its own size (CreateFileMapping ignores ours): bound by it if smaller. */
static DWORD RegionSize(HANDLE h, LPVOID view)
{
    ULONGLONG size = SHMEMSIZE;
    NtQuerySection_t query = (NtQuerySection_t)(void (*)(void))GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySection");
    SECTION_BASIC_INFO sbi;
    MEMORY_BASIC_INFORMATION mbi;
    if (query && query(h, 0 /* SectionBasicInformation */, &sbi, sizeof sbi, NULL) == 0)
        size = (ULONGLONG)sbi.MaximumSize.QuadPart;
    else if (VirtualQuery(view, &mbi, sizeof mbi) == sizeof mbi)
        size = mbi.RegionSize; /* page-rounded */
    return size < SHMEMSIZE ? (DWORD)size : SHMEMSIZE;
}

BOOL WINAPI DllMain(HINSTANCE hinstDLL, DWORD fdwReason, LPVOID lpvReserved)
{
    (void)hinstDLL;
    (void)lpvReserved;
    switch (fdwReason) {
    case DLL_PROCESS_ATTACH:
    {
        /* Tests run in parallel, so they may name the region in NAMED_SHM_SAMPLE_NAME; the
         * sample's own name is the default. */
        WCHAR name[256] = L"dllmemfilemap";
        DWORD n = GetEnvironmentVariableW(L"NAMED_SHM_SAMPLE_NAME", name, 256);
        if (n == 0 || n >= 256)
            wcscpy(name, L"dllmemfilemap");
        SetLastError(ERROR_SUCCESS);
        hMapObject = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, SHMEMSIZE, name);
    }
        if (hMapObject == NULL)
            return FALSE;
        /* The first process to attach initializes memory. */
        fCreated = (GetLastError() != ERROR_ALREADY_EXISTS);
        lpvMem = MapViewOfFile(hMapObject, FILE_MAP_WRITE, 0, 0, 0);
        if (lpvMem == NULL) {
            CloseHandle(hMapObject);
            hMapObject = NULL;
            return FALSE;
        }
        cbRegion = RegionSize(hMapObject, lpvMem);
        if (fCreated)
            memset(lpvMem, 0, cbRegion);
        break;
    case DLL_PROCESS_DETACH:
        if (lpvMem)
            UnmapViewOfFile(lpvMem);
        if (hMapObject)
            CloseHandle(hMapObject);
        lpvMem = NULL;
        hMapObject = NULL;
        break;
    default:
        break;
    }
    return TRUE;
}

/* Copies lpszBuf up to its first U+0000, at most capacity - 1 units, then a U+0000. */
DLLEXPORT VOID __cdecl SetSharedMem(LPWSTR lpszBuf)
{
    volatile WCHAR *dst = (volatile WCHAR *)lpvMem;
    DWORD capacity = cbRegion / sizeof(WCHAR), n = 0;
    if (dst == NULL || capacity == 0)
        return;
    if (lpszBuf != NULL)
        while (lpszBuf[n] != 0 && n < capacity - 1) {
            dst[n] = lpszBuf[n];
            n++;
        }
    dst[n] = 0;
}

/* Copies at most cchSize - 1 units into lpszBuf, stopping at U+0000 or at the region's end,
   then a U+0000. cchSize 0: writes nothing. */
DLLEXPORT VOID __cdecl GetSharedMem(LPWSTR lpszBuf, DWORD cchSize)
{
    const volatile WCHAR *src = (const volatile WCHAR *)lpvMem;
    DWORD capacity = cbRegion / sizeof(WCHAR), n = 0;
    if (lpszBuf == NULL || cchSize == 0)
        return;
    if (src != NULL)
        while (n < cchSize - 1 && n < capacity && src[n] != 0) {
            lpszBuf[n] = src[n];
            n++;
        }
    lpszBuf[n] = 0;
}

DLLEXPORT int __cdecl WasCreator(void) { return fCreated ? 1 : 0; }

DLLEXPORT DWORD __cdecl SharedMemSize(void) { return cbRegion; }
