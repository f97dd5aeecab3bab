// Plain Win32 C programs (test/interop/c/event_tool.c) and NamedEvent share events by name in both
// directions, and Node reads an iRacing-style publisher: a region updated 60 times a second with
// an auto-reset event set after each update.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { isWindows, openTracked, track, uniqueName } from './helpers.js';
import { EVENT_TOOL, hasEventTool, openEvent, sleep, startLines } from './windows-sync-helpers.js';

describe.runIf(isWindows && hasEventTool)('Windows named events with C programs', () => {
  it("a C program's SetEvent on Local\\name wakes a Node wait()", async () => {
    const name = uniqueName();
    const event = openEvent(`Local\\${name}`);
    const woken = event.wait({ timeout: 30_000 });
    const tool = startLines(EVENT_TOOL, ['set', `Local\\${name}`, '100']);
    expect(await tool.next()).toBe('opened existed=1');
    expect(await tool.next()).toBe('set');
    expect(await woken).toBe(true);
    expect(await tool.exit).toBe(0);
  });

  it("a C program's event, created first, is opened by NamedEvent.openExisting and its set() wakes Node", async () => {
    const name = uniqueName();
    const tool = startLines(EVENT_TOOL, ['set', `Local\\${name}`, '1500']);
    expect(await tool.next()).toBe('opened existed=0');
    const { NamedEvent } = await import('../lib/index.js');
    const event = NamedEvent.openExisting(name);
    try {
      expect(event.created).toBe(false);
      expect(event.manualReset).toBe(false);
      expect(await event.wait({ timeout: 30_000 })).toBe(true);
    } finally {
      event.close();
    }
  });

  it("Node's set() wakes a C WaitForSingleObject on the same name", async () => {
    const name = uniqueName();
    const event = openEvent(`Local\\${name}`);
    const tool = startLines(EVENT_TOOL, ['wait', `Local\\${name}`, '30000']);
    expect(await tool.next()).toBe('waiting');
    await sleep(200);
    event.set();
    expect(await tool.next()).toBe('signalled');
    expect(await tool.exit).toBe(0);
  });

  it('a C WaitForSingleObject times out when Node never sets', async () => {
    const name = uniqueName();
    openEvent(name);
    const tool = startLines(EVENT_TOOL, ['wait', `Local\\${name}`, '300']);
    expect(await tool.next()).toBe('waiting');
    expect(await tool.next()).toBe('timeout');
    expect(await tool.exit).toBe(1);
  });

  it('iRacing-style: a C writer updates a region and sets an event 60 times a second; wait() sees the ticks in order, up to the last', async () => {
    const map = `Local\\${uniqueName('irsdk-map')}`;
    const eventName = `Local\\${uniqueName('irsdk-event')}`;
    const ticks = 120;
    const writer = startLines(EVENT_TOOL, ['writer', map, eventName, String(ticks), '60']);
    expect(await writer.next()).toBe('ready');
    const region = track(SharedMemory.openExisting(map));
    const event = openEvent(eventName);
    expect(event.created).toBe(false);
    const bytes = region.bytes;
    const tick = new Uint32Array(bytes.buffer, bytes.byteOffset, 1);
    writer.send('go');
    const seen: number[] = [];
    while (seen.at(-1) !== ticks) {
      expect(await event.wait({ timeout: 5000 })).toBe(true);
      seen.push(Atomics.load(tick, 0));
    }
    expect(await writer.next()).toBe('done');
    writer.send('end');
    // Never going back, ending at the last. A wake-up means "written since your last wake-up", and
    // the reader reads the latest tick: a reader late by one update reads it for that update's
    // signal and again for the next one (seen once under load), as iRacing's readers do, who
    // compare the tick count. At 60 Hz a reader this close to the writer misses few ticks.
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(new Set(seen).size).toBeGreaterThanOrEqual(ticks * 0.9);
    expect(await writer.exit).toBe(0);
  });
});

describe.runIf(isWindows && hasEventTool)('Windows change counters with C programs (the layout in lib/os/windows/change-counter.ts)', () => {
  it("a C program's notify by the documented protocol wakes waitForChange()", async () => {
    const name = `Local\\${uniqueName()}`;
    const region = openTracked(name);
    const changed = region.waitForChange({ since: region.changeCount, timeout: 30_000 });
    await sleep(200); // waiting, so the C side finds a waiter and sets the generation event
    const tool = startLines(EVENT_TOOL, ['notify', name]);
    expect(await tool.next()).toBe('count=1');
    expect(await changed).toBe(1);
    expect(await tool.exit).toBe(0);
  });

  it("Node's notify() wakes a C program waiting by the documented protocol", async () => {
    const name = `Local\\${uniqueName()}`;
    const region = openTracked(name);
    expect(region.changeCount).toBe(0); // the companion section exists from here on
    const tool = startLines(EVENT_TOOL, ['wait-change', name, '0', '30000']);
    expect(await tool.next()).toBe('waiting');
    await sleep(200);
    expect(region.notify()).toBe(1);
    expect(await tool.next()).toBe('count=1');
    expect(await tool.exit).toBe(0);
  });
});
