// A region's change counter on Windows: notify() in one process wakes waitForChange() in others,
// through a companion section `<name>#changes` whose layout is documented in
// lib/os/windows/change-counter.ts (magic "nshmchg\0", version 1, count at byte 16, waiters at 20).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib/index.js';
import { isWindows, openTracked, track, uniqueName } from './helpers.js';
import { settledWithin, sleep, startSyncChild, SYNC_CHILD } from './windows-sync-helpers.js';

describe.runIf(isWindows)('Windows region change counter', () => {
  it('a new region counts from 0, and notify() returns the new count', () => {
    const region = openTracked(uniqueName());
    expect(region.changeCount).toBe(0);
    expect(region.notify()).toBe(1);
    expect(region.notify()).toBe(2);
    expect(region.changeCount).toBe(2);
  });

  it('the counter lives in a companion section <name>#changes with the documented header, not in the region', () => {
    const name = uniqueName();
    const region = openTracked(name);
    region.notify();
    region.notify();
    region.notify();
    expect(region.bytes.every((b) => b === 0)).toBe(true);
    const companion = track(SharedMemory.openExisting(`${name}#changes`));
    const words = new DataView(companion.bytes.buffer, companion.bytes.byteOffset, 32);
    expect(new TextDecoder().decode(companion.bytes.subarray(0, 8))).toBe('nshmchg\0');
    expect(words.getUint32(8, true)).toBe(1); // version
    expect(words.getUint32(16, true)).toBe(3); // count
    expect(words.getUint32(20, true)).toBe(0); // waiters
  });

  it('a section at <name>#changes that is not a change counter gives EINVAL', () => {
    const name = uniqueName();
    openTracked(`${name}#changes`, { size: 32 }).writeString('not a counter');
    expect(() => openTracked(name).changeCount).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('no change counter') }),
    );
  });

  it('waitForChange() resolves with the new count after notify() in another process', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const since = region.changeCount;
    const changed = region.waitForChange({ since });
    const notifier = startSyncChild('notify', name, '1');
    expect(await notifier.next()).toEqual({ ready: true, count: since + 1 });
    expect(await changed).toBe(since + 1);
  });

  it('one notify() wakes waiters in 3 processes', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const waiters = [1, 2, 3].map(() => startSyncChild('changes', name, '0', 'Infinity'));
    for (const w of waiters) expect(await w.next()).toEqual({ ready: true, count: 0 });
    await sleep(300); // all three are in waitForChange() by now
    const results = waiters.map((w) => w.next());
    expect(await settledWithin(results, 300)).toEqual([]);
    expect(region.notify()).toBe(1);
    expect(await Promise.all(results)).toEqual([{ count: 1 }, { count: 1 }, { count: 1 }]);
  });

  it('one notify() releases 1,000 pending waitForChange() in this process', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const waits = Array.from({ length: 1000 }, () => region.waitForChange({ since: 0 }));
    await sleep(200);
    startSyncChild('notify', name, '1');
    expect(new Set(await Promise.all(waits))).toEqual(new Set([1]));
  });

  it('a since that is already stale resolves at once with the count now', async () => {
    const region = openTracked(uniqueName());
    region.notify();
    region.notify();
    const t0 = performance.now();
    expect(await region.waitForChange({ since: 0, timeout: 10_000 })).toBe(2);
    expect(region.waitForChangeSync({ since: 1, timeout: 10_000 })).toBe(2);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('at the timeout, waitForChange() resolves with the unchanged count', async () => {
    const region = openTracked(uniqueName());
    region.notify();
    const t0 = performance.now();
    expect(await region.waitForChange({ since: 1, timeout: 200 })).toBe(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(region.waitForChangeSync({ since: 1, timeout: 100 })).toBe(1);
  });

  it('waitForChangeSync() returns the new count when another process notifies', () => {
    const name = uniqueName();
    const region = openTracked(name);
    spawn(process.execPath, [SYNC_CHILD, 'notify', name, '1'], { stdio: 'ignore' });
    expect(region.waitForChangeSync({ since: 0, timeout: 30_000 })).toBe(1);
  });

  it('an aborted waitForChange() leaves no waiter behind: notify() is back to its no-system-call path', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const controller = new AbortController();
    const pending = region.waitForChange({ since: 0, signal: controller.signal });
    const companion = track(SharedMemory.openExisting(`${name}#changes`));
    const waiters = () => new DataView(companion.bytes.buffer, companion.bytes.byteOffset, 32).getUint32(20, true);
    expect(waiters()).toBe(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(waiters()).toBe(0);
  });

  it('two processes notifying at once lose no count', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    // Read once, so this process holds the counter: it lives while a holder of the region uses it.
    expect(region.changeCount).toBe(0);
    const notifiers = [startSyncChild('notify', name, '20000'), startSyncChild('notify', name, '20000')];
    await Promise.all(notifiers.map((n) => n.next()));
    expect(region.changeCount).toBe(40_000);
  });

  it('a waiter that sees every change through a storm of notifies ends at the last count', async () => {
    const name = uniqueName();
    const region = openTracked(name);
    const notifier = startSyncChild('notify', name, '5000');
    const seen: number[] = [];
    let since = 0;
    while (since !== 5000) {
      since = await region.waitForChange({ since, timeout: 30_000 });
      seen.push(since);
    }
    await notifier.next();
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(seen.at(-1)).toBe(5000);
  });
});
