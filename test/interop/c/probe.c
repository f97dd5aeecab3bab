/*
 * Test probe for the DLL: prints whether this process created the mapping, and its text:
 *   created=<0|1> text=<UTF-8 text>
 * Options, in this order of effect:
 *   --set TEXT   SetSharedMem(TEXT) after attaching (printed text is then what was stored)
 *   --hold-ms N  keep the DLL (and so the mapping) loaded N ms after printing
 *   --hold-stdin keep it loaded until stdin reaches end of file (or a line is read)
 * The line is flushed before holding, so a parent can read it while the probe still holds the
 * mapping. Exit code 0, or 2 on a usage error.
 * Build: x86_64-w64-mingw32-gcc -municode -o probe.exe probe.c -L. -ldllmemfilemap -static-libgcc
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

__declspec(dllimport) VOID __cdecl SetSharedMem(LPWSTR lpszBuf);
__declspec(dllimport) VOID __cdecl GetSharedMem(LPWSTR lpszBuf, DWORD cchSize);
__declspec(dllimport) int __cdecl WasCreator(void);

int wmain(int argc, wchar_t *argv[])
{
    static WCHAR buf[4096 / 2 + 1];
    static char utf8[sizeof buf * 2];
    long holdMs = 0;
    int holdStdin = 0, i;

    for (i = 1; i < argc; i++) {
        if (wcscmp(argv[i], L"--set") == 0 && i + 1 < argc)
            SetSharedMem(argv[++i]);
        else if (wcscmp(argv[i], L"--hold-ms") == 0 && i + 1 < argc)
            holdMs = wcstol(argv[++i], NULL, 10);
        else if (wcscmp(argv[i], L"--hold-stdin") == 0)
            holdStdin = 1;
        else {
            fprintf(stderr, "usage: probe.exe [--set TEXT] [--hold-ms N] [--hold-stdin]\n");
            return 2;
        }
    }
    GetSharedMem(buf, sizeof buf / sizeof buf[0]);
    if (!WideCharToMultiByte(CP_UTF8, 0, buf, -1, utf8, (int)sizeof utf8, NULL, NULL))
        utf8[0] = 0;
    printf("created=%d text=%s\n", WasCreator(), utf8);
    fflush(stdout);
    if (holdMs > 0)
        Sleep((DWORD)holdMs);
    if (holdStdin) {
        char line[256];
        (void)fgets(line, sizeof line, stdin);
    }
    return 0;
}
