// This thread's id in the kernel (gettid(2)), which is what glibc writes into the lock word of a
// mutex the thread holds and what names the thread in /proc/<pid>/task/. Read from the link
// /proc/thread-self -> "<pid>/task/<tid>" rather than through syscall(SYS_gettid), whose number
// differs per architecture. Each JS thread has its own module instance, so the cache is per thread.
import fs from 'node:fs';

let tid: number | undefined;

/** The kernel's id of this thread; 0 where /proc/thread-self is missing (no Linux procfs). */
export function kernelThreadId(): number {
  if (tid === undefined) {
    try {
      tid = Number(/\/task\/(\d+)$/.exec(fs.readlinkSync('/proc/thread-self'))?.[1] ?? 0);
    } catch {
      tid = 0;
    }
  }
  return tid;
}
