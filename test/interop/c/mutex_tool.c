/*
 * Named mutexes from plain Win32 C, for the tests that check Node's NamedMutex is the native object:
 *   mutex_tool.exe hold NAME
 *       CreateMutexW(NULL, FALSE, NAME), WaitForSingleObject(INFINITE), prints
 *       "held abandoned=<0|1>", waits for a line on stdin, ReleaseMutex, prints "released".
 *   mutex_tool.exe die NAME exit|terminate|thread
 *       Takes it as hold does, prints "held abandoned=<0|1>", waits for a line on stdin, then ends
 *       holding it: ExitProcess(3), TerminateProcess(self, 3), or (thread) the taking thread ends
 *       with ExitThread while the process lives on: prints "thread ended" and waits for another
 *       line before it exits 0.
 *   mutex_tool.exe try NAME
 *       WaitForSingleObject(0): prints "locked", "abandoned" or "busy"; releases what it took.
 *       Exit code 0 when it took it, 1 when busy.
 *   mutex_tool.exe count NAME MAP_NAME N
 *       Opens (or creates) the 4096-byte section MAP_NAME, prints "ready", waits for a line on stdin,
 *       then N times: lock, read the u32 at offset 0, yield, write it + 1, unlock. A read-modify-write
 *       that loses updates without the lock. Prints "done abandoned=<times WAIT_ABANDONED>".
 * Every line is flushed at once, so a parent can act on it. Exit code 2 on a usage or Win32 error.
 * Build: x86_64-w64-mingw32-gcc -municode -o mutex_tool.exe mutex_tool.c -static-libgcc
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static void say(const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
}

static int fail(const char *what)
{
    fprintf(stderr, "%s failed: error %lu\n", what, GetLastError());
    fflush(stderr);
    return 2;
}

static void wait_stdin_line(void)
{
    char line[256];
    (void)fgets(line, sizeof line, stdin);
}

/* Locks; returns 0 (taken), 1 (taken, abandoned) or -1 (failed). */
static int lock(HANDLE mutex)
{
    DWORD result = WaitForSingleObject(mutex, INFINITE);
    if (result == WAIT_OBJECT_0)
        return 0;
    if (result == WAIT_ABANDONED)
        return 1;
    return -1;
}

static int take_and_say(HANDLE mutex)
{
    char line[64];
    int taken = lock(mutex);
    if (taken < 0)
        return -1;
    snprintf(line, sizeof line, "held abandoned=%d", taken);
    say(line);
    return taken;
}

static int hold(HANDLE mutex)
{
    if (take_and_say(mutex) < 0)
        return fail("WaitForSingleObject");
    wait_stdin_line();
    if (!ReleaseMutex(mutex))
        return fail("ReleaseMutex");
    say("released");
    return 0;
}

static DWORD WINAPI take_and_exit_thread(LPVOID mutex)
{
    if (take_and_say((HANDLE)mutex) < 0)
        return (DWORD)fail("WaitForSingleObject");
    wait_stdin_line();
    ExitThread(3); /* holding it */
}

static int die(HANDLE mutex, const wchar_t *how)
{
    if (wcscmp(how, L"thread") == 0) {
        HANDLE thread = CreateThread(NULL, 0, take_and_exit_thread, mutex, 0, NULL);
        if (thread == NULL)
            return fail("CreateThread");
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
        say("thread ended");
        wait_stdin_line();
        return 0;
    }
    if (take_and_say(mutex) < 0)
        return fail("WaitForSingleObject");
    wait_stdin_line();
    if (wcscmp(how, L"terminate") == 0)
        TerminateProcess(GetCurrentProcess(), 3);
    ExitProcess(3);
}

static int try_lock(HANDLE mutex)
{
    DWORD result = WaitForSingleObject(mutex, 0);
    if (result == WAIT_TIMEOUT) {
        say("busy");
        return 1;
    }
    if (result != WAIT_OBJECT_0 && result != WAIT_ABANDONED)
        return fail("WaitForSingleObject");
    say(result == WAIT_OBJECT_0 ? "locked" : "abandoned");
    ReleaseMutex(mutex);
    return 0;
}

static int count(HANDLE mutex, const wchar_t *map_name, long n)
{
    HANDLE map = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, map_name);
    volatile DWORD *counter;
    long i, abandoned = 0;
    char line[64];
    if (map == NULL)
        return fail("CreateFileMappingW");
    counter = (volatile DWORD *)MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, 4096);
    if (counter == NULL)
        return fail("MapViewOfFile");
    say("ready");
    wait_stdin_line();
    for (i = 0; i < n; i++) {
        DWORD seen;
        int taken = lock(mutex);
        if (taken < 0)
            return fail("WaitForSingleObject");
        abandoned += taken;
        seen = *counter;
        SwitchToThread(); /* let others in, were the lock not excluding them */
        *counter = seen + 1;
        if (!ReleaseMutex(mutex))
            return fail("ReleaseMutex");
    }
    snprintf(line, sizeof line, "done abandoned=%ld", abandoned);
    say(line);
    UnmapViewOfFile((LPCVOID)counter);
    CloseHandle(map);
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    HANDLE mutex;
    if (argc < 3) {
        fprintf(stderr, "usage: mutex_tool hold|die|try|count NAME ...\n");
        return 2;
    }
    mutex = CreateMutexW(NULL, FALSE, argv[2]);
    if (mutex == NULL)
        return fail("CreateMutexW");
    if (wcscmp(argv[1], L"hold") == 0)
        return hold(mutex);
    if (wcscmp(argv[1], L"die") == 0 && argc >= 4)
        return die(mutex, argv[3]);
    if (wcscmp(argv[1], L"try") == 0)
        return try_lock(mutex);
    if (wcscmp(argv[1], L"count") == 0 && argc >= 5)
        return count(mutex, argv[3], wcstol(argv[4], NULL, 10));
    fprintf(stderr, "unknown command\n");
    return 2;
}
