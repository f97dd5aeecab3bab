// A channel counts its open handles in its header (layout.ts: handles), so that a receiver can
// tell when every sender has gone where the OS cannot say who holds the region (see
// Channel#sendersGone; Linux and Windows can). A handle whose process or worker ends without close() must
// still leave the count: process 'exit' runs at a normal end and at process.exit(), in the main
// thread and in workers. A killed process, and a worker ended by terminate() (which runs no
// JavaScript), leave it high.
import type { ChannelParts } from './channel-parts.js';

const atExit = new Map<ChannelParts, () => void>();
let listening = false;

export function letGoAtExit(parts: ChannelParts, letGo: () => void): void {
  atExit.set(parts, letGo);
  if (!listening) {
    listening = true;
    // First of all 'exit' listeners: in a worker, the region, counter and handle keepers let go of
    // this thread's objects at 'exit' too (they listen from their module's load), and the count
    // and the receive lock must be let go while the mapping and the handles are still there.
    process.prependListener('exit', () => {
      for (const letGo of [...atExit.values()]) letGo();
    });
  }
}

export function forgetAtExit(parts: ChannelParts): void {
  atExit.delete(parts);
}
