// worker.terminate() lands wherever the worker is. Between the calls that make and drop a region
// (which go through koffi's argument conversion) and the reads and writes of an open one (which
// touch only the mapping), only the second kind is safe from a koffi 3.3.4 defect: README,
// "Known limits: terminating a worker inside open() or close()".
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers.js';
import { fixture } from '../robustness/support.js';

describe('a worker terminated in the middle of its calls', () => {
  it('terminated at any moment of its reads and writes, it never takes its process down', () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = spawnSync(process.execPath, [fixture('terminate-mid-call.mjs'), 'steady', uniqueName(`tmc-${i}`), String(i % 10)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      outcomes.push(r.status === 0 && r.stdout.includes('"terminated":true') ? 'ok' : `status ${r.status}, signal ${r.signal}: ${r.stderr.slice(0, 200)}`);
    }
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
  });
});
