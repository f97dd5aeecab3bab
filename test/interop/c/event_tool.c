/*
 * Named events from plain Win32 C, for the tests that check Node's NamedEvent is the native object:
 *   event_tool.exe set NAME [DELAY_MS]
 *       CreateEventW(NULL, FALSE, FALSE, NAME) (auto reset; opens it if it exists), prints
 *       "opened existed=<0|1>", sleeps DELAY_MS, SetEvent, prints "set".
 *   event_tool.exe wait NAME TIMEOUT_MS
 *       CreateEventW(NULL, FALSE, FALSE, NAME), prints "waiting", WaitForSingleObject, prints
 *       "signalled" (exit 0) or "timeout" (exit 1).
 *   event_tool.exe writer MAP_NAME EVENT_NAME COUNT HZ
 *       An iRacing-style publisher (its SDK signals Local\IRSDKDataValidEvent after each update of
 *       Local\IRSDKMemMapFileName): creates a 4096-byte section MAP_NAME and an auto-reset event
 *       EVENT_NAME, prints "ready", waits for a line on stdin (the reader is attached), then COUNT
 *       times, HZ times a second: writes the tick number 1, 2, ... as a u32 at offset 0, then
 *       SetEvent. Prints "done" and holds both until stdin ends.
 * Every line is flushed at once, so a parent can act on it. Exit code 2 on a usage or Win32 error.
 * Build: x86_64-w64-mingw32-gcc -municode -o event_tool.exe event_tool.c -static-libgcc
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
    return 2;
}

static void wait_stdin_line(void)
{
    char line[256];
    (void)fgets(line, sizeof line, stdin);
}

static int set_event(const wchar_t *name, DWORD delay)
{
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, name);
    char line[64];
    if (event == NULL)
        return fail("CreateEventW");
    snprintf(line, sizeof line, "opened existed=%d", GetLastError() == ERROR_ALREADY_EXISTS);
    say(line);
    Sleep(delay);
    if (!SetEvent(event))
        return fail("SetEvent");
    say("set");
    CloseHandle(event);
    return 0;
}

static int wait_event(const wchar_t *name, DWORD timeout)
{
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, name);
    DWORD result;
    if (event == NULL)
        return fail("CreateEventW");
    say("waiting");
    result = WaitForSingleObject(event, timeout);
    CloseHandle(event);
    if (result == WAIT_OBJECT_0) {
        say("signalled");
        return 0;
    }
    if (result == WAIT_TIMEOUT) {
        say("timeout");
        return 1;
    }
    return fail("WaitForSingleObject");
}

static int writer(const wchar_t *map_name, const wchar_t *event_name, long count, long hz)
{
    HANDLE map = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, map_name);
    volatile LONG *tick;
    HANDLE event;
    long i;
    if (map == NULL)
        return fail("CreateFileMappingW");
    tick = (volatile LONG *)MapViewOfFile(map, FILE_MAP_ALL_ACCESS, 0, 0, 4096);
    if (tick == NULL)
        return fail("MapViewOfFile");
    event = CreateEventW(NULL, FALSE, FALSE, event_name);
    if (event == NULL)
        return fail("CreateEventW");
    say("ready");
    wait_stdin_line();
    for (i = 1; i <= count; i++) {
        InterlockedExchange(tick, i);
        if (!SetEvent(event))
            return fail("SetEvent");
        Sleep((DWORD)(1000 / hz));
    }
    say("done");
    wait_stdin_line();
    UnmapViewOfFile((LPCVOID)tick);
    CloseHandle(event);
    CloseHandle(map);
    return 0;
}

int wmain(int argc, wchar_t *argv[])
{
    if (argc >= 3 && wcscmp(argv[1], L"set") == 0)
        return set_event(argv[2], argc >= 4 ? (DWORD)wcstoul(argv[3], NULL, 10) : 0);
    if (argc == 4 && wcscmp(argv[1], L"wait") == 0)
        return wait_event(argv[2], (DWORD)wcstoul(argv[3], NULL, 10));
    if (argc == 6 && wcscmp(argv[1], L"writer") == 0)
        return writer(argv[2], argv[3], wcstol(argv[4], NULL, 10), wcstol(argv[5], NULL, 10));
    fprintf(stderr, "usage: event_tool.exe set NAME [DELAY_MS] | wait NAME TIMEOUT_MS | writer MAP EVENT COUNT HZ\n");
    return 2;
}
