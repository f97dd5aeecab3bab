// Finding 3 (docs/RELIABILITY.md): ArrayBuffer.prototype.transfer moved the mapping into a buffer
// named-shm did not track. Whatever a user does with the buffer, the process must not crash,
// close() must not throw, and a region that lost its view says so. Node 22+ only: Node 20 has no
// transfer (scripts/node-versions.sh runs this suite on 22, 24 and 26).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLinux, uniqueName } from '../helpers.js';
import { fixture, type Line } from '../robustness/support.js';

const canTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

function attack(scenario: string, name: string): { line: Line; status: number | null; signal: string | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--expose-gc', fixture('adv-transfer.mjs'), scenario, name], { encoding: 'utf8', timeout: 60_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let line: Line = {};
  try {
    line = JSON.parse(last) as Line;
  } catch {
    line = { garbled: r.stdout };
  }
  return { line, status: r.status, signal: r.signal, stderr: r.stderr };
}

describe.runIf(canTransfer)('transferring the memory behind bytes (Node 22+)', () => {
  it('bytes.buffer.transfer() is refused with ERR_SHM_NOT_TRANSFERABLE and the region keeps working', () => {
    const r = attack('method', uniqueName('xfer'));
    expect(r.signal).toBeNull();
    expect(r.line.refused).toEqual({ error: expect.objectContaining({ code: 'ERR_SHM_NOT_TRANSFERABLE' }) });
    expect(r.line.refusedFixed).toEqual({ error: expect.objectContaining({ code: 'ERR_SHM_NOT_TRANSFERABLE' }) });
    expect(r.line).toMatchObject({ text: 'still mine', length: 4096 });
  });

  it('after a transfer through the prototype every use of the region says ERR_SHM_DETACHED and close() does not throw', () => {
    const r = attack('bypass-then-use', uniqueName('xfer'));
    expect(r.signal).toBeNull();
    const detached = { error: expect.objectContaining({ code: 'ERR_SHM_DETACHED' }) };
    expect(r.line).toMatchObject({ movedLength: 4096, write: detached, read: detached, size: detached, bytes: detached, sub: detached });
    expect(r.line.close).toEqual({});
  });

  it('a buffer moved out and written after close() and garbage collection does not crash the process', () => {
    const r = attack('bypass-close-touch', uniqueName('xfer'));
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.line).toEqual({ survived: true, sum: 7 * 4096 });
  });

  it('a buffer moved out of a region dropped without close() survives garbage collection and writes', () => {
    const r = attack('bypass-drop-touch', uniqueName('xfer'));
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.line).toEqual({ survived: true, first: 9 });
  });

  it('bytes kept after the region was collected, then moved out, survive the collection of the rest', () => {
    const r = attack('drop-then-bypass-touch', uniqueName('xfer'));
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.line).toEqual({ survived: true, first: 3 });
  });

  it.runIf(isLinux)('1,000 regions whose buffers were moved out and then closed leave no shared memory mapped and no descriptor', () => {
    const name = uniqueName('xfer');
    const r = attack('bypass-cycles', name);
    expect(r.signal).toBeNull();
    expect(r.line.shmMappings).toBe(0);
    expect(r.line.fds).toBeLessThan(40);
    for (let i = 0; i < 4; i++) expect(fs.existsSync(`/dev/shm/${name}-${i}`)).toBe(false);
  });
});
