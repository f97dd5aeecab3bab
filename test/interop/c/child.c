/*
 * The sample's child process: reads the shared memory through the DLL and prints
 *   Child process read from shared memory: <text>
 * The text is printed as UTF-8 (the sample's "%S" goes through the C locale, which loses
 * anything outside ASCII). Lines end with CRLF, as a Windows C program's text-mode stdout does.
 * Build: x86_64-w64-mingw32-gcc -o child.exe child.c -L. -ldllmemfilemap -static-libgcc
 */
#include <windows.h>
#include <stdio.h>

__declspec(dllimport) VOID __cdecl GetSharedMem(LPWSTR lpszBuf, DWORD cchSize);

int main(void)
{
    WCHAR cBuf[MAX_PATH];
    char utf8[MAX_PATH * 3 + 1];

    GetSharedMem(cBuf, MAX_PATH);
    if (!WideCharToMultiByte(CP_UTF8, 0, cBuf, -1, utf8, (int)sizeof utf8, NULL, NULL))
        utf8[0] = 0;
    printf("Child process read from shared memory: %s\n", utf8);
    return 0;
}
