// The body of the thread that sleeps for the asynchronous waits of one JavaScript thread, as the
// source of an `eval` worker (so it needs no file of its own beside the compiled library). It
// waits on every watched word at once with futex_waitv, plus a control word that the JavaScript
// thread bumps whenever the set changes, and reports a wake-up by postMessage, which reaches
// the JavaScript thread through libuv like any other message. It decides nothing: the
// JavaScript thread looks at the words and re-arms it. A FUTEX_WAKE that woke this thread (rather
// than a change of value) is reported with its word even when the set has changed meanwhile: a
// mutex's unlocker wakes one sleeper only, and the JavaScript thread passes on a wake-up that no
// wait of its own takes (futex-watcher.ts). Layout of the control SharedArrayBuffer:
// int32 [GEN, QUIT, COUNT, READY], then COUNT uint64 addresses from byte 16, then COUNT uint32
// expected values after MAX addresses. READY turns 1 once the thread is past its koffi set-up.
export const CONTROL = { GEN: 0, QUIT: 1, COUNT: 2, READY: 3, ADDRESSES: 16 } as const;

export const WATCHER_THREAD_SOURCE = `'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const d = workerData;
const libc = koffi.load('libc.so.6');
// long syscall(long number, ...) <unistd.h>, fixed to futex_waitv(2) and futex(2)
const waitv = libc.func('syscall', 'long', ['long', 'void *', 'uint32_t', 'uint32_t', 'void *', 'int']);
const futex = libc.func('syscall', 'long', ['long', 'uintptr_t', 'int', 'uint32_t', 'void *', 'void *', 'uint32_t']);
const ctl = new Int32Array(d.control, 0, 4);
const addresses = new BigUint64Array(d.control, ${CONTROL.ADDRESSES}, d.max);
const expected = new Uint32Array(d.control, ${CONTROL.ADDRESSES} + 8 * d.max, d.max);
const armed = new Array(d.max + 1); // the addresses of this round, as the entries hold them
const entries = Buffer.alloc(24 * (d.max + 1)); // struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 __reserved; }
const until = Buffer.alloc(16); // struct timespec, absolute on CLOCK_MONOTONIC for futex_waitv
const slice = Buffer.alloc(16); // struct timespec, relative for FUTEX_WAIT
slice.writeBigInt64LE(BigInt(Math.floor(d.sliceMs * 1e6)), 8);
const { GEN, QUIT, COUNT, READY } = ${JSON.stringify(CONTROL)};
Atomics.store(ctl, READY, 1);
Atomics.notify(ctl, READY);
function entry(i, value, address) {
  entries.writeBigUInt64LE(BigInt(value >>> 0), 24 * i);
  entries.writeBigUInt64LE(BigInt(address), 24 * i + 8);
  entries.writeUInt32LE(d.FUTEX2_SIZE_U32, 24 * i + 16);
  entries.writeUInt32LE(0, 24 * i + 20);
}
// Until the JavaScript thread has looked and re-armed (or a slice passes, to notice QUIT).
function awaitNewSet(gen) {
  while (Atomics.load(ctl, GEN) === gen && Atomics.load(ctl, QUIT) === 0) {
    futex(d.SYS_futex, d.controlAddress, d.FUTEX_WAIT, gen >>> 0, slice, null, 0);
  }
}
while (Atomics.load(ctl, QUIT) === 0) {
  const gen = Atomics.load(ctl, GEN);
  const n = Math.min(Atomics.load(ctl, COUNT), d.max);
  entry(0, gen, d.controlAddress);
  for (let i = 0; i < n; i++) entry(i + 1, expected[i], (armed[i + 1] = addresses[i]));
  const t = process.hrtime.bigint() + BigInt(Math.floor(d.sliceMs * 1e6)); // hrtime is CLOCK_MONOTONIC
  until.writeBigInt64LE(t / 1000000000n, 0);
  until.writeBigInt64LE(t % 1000000000n, 8);
  const r = waitv(d.SYS_futex_waitv, entries, n + 1, 0, until, d.CLOCK_MONOTONIC);
  const errno = r < 0 ? koffi.errno() : 0;
  if (Atomics.load(ctl, GEN) !== gen) {
    // A new set: it was looked at just before. A wake-up taken is still reported.
    if (r > 0) parentPort.postMessage({ gen, woken: armed[r] });
    continue;
  }
  if (r > 0 || errno === d.EAGAIN) {
    parentPort.postMessage(r > 0 ? { gen, woken: armed[r] } : gen);
    awaitNewSet(gen);
  } else if (r < 0 && errno === d.ENOSYS) {
    parentPort.postMessage('ENOSYS');
    break;
  } else if (r < 0 && errno !== d.ETIMEDOUT && errno !== d.EINTR) {
    // EFAULT, a word unmapped under us: let the JavaScript thread look and re-arm, never spin.
    parentPort.postMessage(gen);
    awaitNewSet(gen);
  }
}
`;
