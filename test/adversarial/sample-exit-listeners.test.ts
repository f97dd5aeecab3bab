// Finding 11 (docs/RELIABILITY.md): setSharedMem/detachSharedMem added one 'exit' listener per
// cycle (1,000 cycles: 1,001 listeners and a MaxListenersExceededWarning).
import { afterEach, describe, expect, it } from 'vitest';
import { detachSharedMem, getSharedMem, setSharedMem } from '../../lib/index.js';

describe('the sample API attached and detached again and again', () => {
  afterEach(() => detachSharedMem());

  it('1,000 attach and detach cycles leave at most one exit listener of ours and no warning', () => {
    const before = process.listenerCount('exit');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 1000; i++) {
        setSharedMem(`cycle ${i}`);
        expect(getSharedMem()).toBe(`cycle ${i}`);
        detachSharedMem();
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
