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
 *   event_tool.exe notify REGION
 *       named-shm's change counter of REGION, from C (layout in lib/os/windows/change-counter.ts):
 *       adds one to the count in the section REGION#changes and, if anyone waits, sets the
 *       generation event REGION#changes@<old count>. Prints "count=<new count>".
 *   event_tool.exe wait-change REGION SINCE TIMEOUT_MS
 *       Waits as named-shm's waitForChange({ since }) does: waiters += 1, creates the manual-reset
 *       event REGION#changes@SINCE, reads the count again, waits on the event if it is still
 *       SINCE, waiters -= 1. Prints "waiting" first, then "count=<count>".
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

/* The change counter's companion section: 32 bytes, "nshmchg\0", version 1, count at 16, waiters at 20. */
struct change_counter {
    char magic[8];
    LONG version, reserved;
    volatile LONG count, waiters;
};

static volatile struct change_counter *open_counter(const wchar_t *region, HANDLE *map)
{
    wchar_t name[512];
    swprintf(name, sizeof name / sizeof name[0], L"%ls#changes", region);
    *map = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    if (*map == NULL)
        return NULL;
    return (volatile struct change_counter *)MapViewOfFile(*map, FILE_MAP_ALL_ACCESS, 0, 0, sizeof(struct change_counter));
}

static int notify(const wchar_t *region)
{
    HANDLE map;
    volatile struct change_counter *counter = open_counter(region, &map);
    wchar_t name[512];
    char line[64];
    LONG now;
    if (counter == NULL)
        return fail("OpenFileMappingW/MapViewOfFile");
    now = InterlockedIncrement(&counter->count);
    if (InterlockedCompareExchange(&counter->waiters, 0, 0) != 0) {
        HANDLE event;
        swprintf(name, sizeof name / sizeof name[0], L"%ls#changes@%lu", region, (unsigned long)(DWORD)(now - 1));
        event = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
        if (event != NULL) {
            SetEvent(event);
            CloseHandle(event);
        }
    }
    snprintf(line, sizeof line, "count=%lu", (unsigned long)(DWORD)now);
    say(line);
    UnmapViewOfFile((LPCVOID)counter);
    CloseHandle(map);
    return 0;
}

static int wait_change(const wchar_t *region, DWORD since, DWORD timeout)
{
    HANDLE map, event;
    volatile struct change_counter *counter = open_counter(region, &map);
    wchar_t name[512];
    char line[64];
    DWORD now;
    if (counter == NULL)
        return fail("OpenFileMappingW/MapViewOfFile");
    InterlockedIncrement(&counter->waiters);
    swprintf(name, sizeof name / sizeof name[0], L"%ls#changes@%lu", region, (unsigned long)since);
    event = CreateEventW(NULL, TRUE, FALSE, name);
    if (event == NULL)
        return fail("CreateEventW");
    say("waiting");
    if ((DWORD)InterlockedCompareExchange(&counter->count, 0, 0) == since)
        WaitForSingleObject(event, timeout);
    now = (DWORD)InterlockedCompareExchange(&counter->count, 0, 0);
    CloseHandle(event);
    InterlockedDecrement(&counter->waiters);
    snprintf(line, sizeof line, "count=%lu", (unsigned long)now);
    say(line);
    UnmapViewOfFile((LPCVOID)counter);
    CloseHandle(map);
    return 0;
}

int wmain(int argc, wchar_t *argv[])
{
    if (argc == 3 && wcscmp(argv[1], L"notify") == 0)
        return notify(argv[2]);
    if (argc == 5 && wcscmp(argv[1], L"wait-change") == 0)
        return wait_change(argv[2], (DWORD)wcstoul(argv[3], NULL, 10), (DWORD)wcstoul(argv[4], NULL, 10));
    if (argc >= 3 && wcscmp(argv[1], L"set") == 0)
        return set_event(argv[2], argc >= 4 ? (DWORD)wcstoul(argv[3], NULL, 10) : 0);
    if (argc == 4 && wcscmp(argv[1], L"wait") == 0)
        return wait_event(argv[2], (DWORD)wcstoul(argv[3], NULL, 10));
    if (argc == 6 && wcscmp(argv[1], L"writer") == 0)
        return writer(argv[2], argv[3], wcstol(argv[4], NULL, 10), wcstol(argv[5], NULL, 10));
    fprintf(stderr, "usage: event_tool.exe set NAME [DELAY_MS] | wait NAME TIMEOUT_MS | writer MAP EVENT COUNT HZ"
                    " | notify REGION | wait-change REGION SINCE TIMEOUT_MS\n");
    return 2;
}
