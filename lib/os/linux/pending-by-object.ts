// A JavaScript thread's pending asynchronous waits on one object, oldest first, shared by every
// handle of the thread on that object: so that a second handle does not jump ahead of the first
// one's waits, and so that whatever frees the object (a set, an unlock) can serve them at once.
// Keyed by object (device and inode), not by name: after an unlink and a new open, the name leads
// to another object.

/** A pending wait: looks at the object, and returns true when it is over (it removed itself). */
export type PendingWait = () => boolean;

const byObject = new Map<string, PendingWait[]>();

export class PendingByObject {
  readonly #key: string;

  constructor(key: string) {
    this.#key = key;
  }

  /** Whether any wait of this thread is pending on the object. */
  get any(): boolean {
    return byObject.has(this.#key);
  }

  /** Whether `wait` is the oldest one, whose turn it is. */
  first(wait: PendingWait): boolean {
    return byObject.get(this.#key)?.[0] === wait;
  }

  add(wait: PendingWait): void {
    let q = byObject.get(this.#key);
    if (!q) byObject.set(this.#key, (q = []));
    q.push(wait);
  }

  remove(wait: PendingWait): void {
    const q = byObject.get(this.#key);
    if (!q) return;
    const i = q.indexOf(wait);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) byObject.delete(this.#key);
  }

  /** Gives the pending waits, oldest first, what there is for them now. */
  serve(): void {
    const q = byObject.get(this.#key);
    if (!q) return;
    for (let i = 0; i < q.length; ) {
      if (q[i]!()) continue; // it removed itself
      i++;
    }
  }
}
