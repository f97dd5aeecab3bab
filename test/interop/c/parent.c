/*
 * The sample's parent process: writes "This is a test string" through the DLL, starts the child
 * whose command line is argv[1], waits for it, and exits with the child's exit code.
 *   parent.exe "child.exe"        parent.exe "Z:\path\node.exe Z:\path\child.mjs"
 * Fixed against the sample: the broken "CreateProcess failed (%)" format, a writable command line
 * buffer for CreateProcessW, stdout flushed before the child starts (so the lines come in order
 * when stdout is a file or a pipe), and the child's exit code passed on.
 * Build (with -municode for wmain): x86_64-w64-mingw32-gcc -municode -o parent.exe parent.c
 *          -L. -ldllmemfilemap -static-libgcc
 */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

__declspec(dllimport) VOID __cdecl SetSharedMem(LPWSTR lpszBuf);

static HANDLE CreateChildProcess(LPWSTR szCmdline)
{
    PROCESS_INFORMATION piProcInfo;
    STARTUPINFOW siStartInfo;

    ZeroMemory(&piProcInfo, sizeof(PROCESS_INFORMATION));
    ZeroMemory(&siStartInfo, sizeof(STARTUPINFOW));
    siStartInfo.cb = sizeof(STARTUPINFOW);

    if (!CreateProcessW(NULL, szCmdline, NULL, NULL, TRUE /* handles are inherited */, 0, NULL, NULL,
                        &siStartInfo, &piProcInfo)) {
        printf("CreateProcess failed (%lu)\n", GetLastError());
        return INVALID_HANDLE_VALUE;
    }
    CloseHandle(piProcInfo.hThread);
    return piProcInfo.hProcess;
}

int wmain(int argc, wchar_t *argv[])
{
    HANDLE hProcess;
    DWORD code = 1;
    wchar_t *cmdline;
    wchar_t text[] = L"This is a test string";

    if (argc < 2) {
        fprintf(stderr, "Please specify the child's command line\n");
        return 2;
    }
    cmdline = _wcsdup(argv[1]); /* CreateProcessW may write to its lpCommandLine */

    printf("\nProcess is writing to shared memory...\n\n");
    SetSharedMem(text);
    fflush(stdout);

    /* Start the child process that will read the memory, and stay until it ends. */
    hProcess = CreateChildProcess(cmdline);
    if (hProcess == INVALID_HANDLE_VALUE)
        return 1;
    WaitForSingleObject(hProcess, INFINITE);
    if (!GetExitCodeProcess(hProcess, &code))
        code = 1;
    CloseHandle(hProcess);
    free(cmdline);
    return (int)code;
}
