// Parks a process at the entry of a libc function with gdb, so a test can walk through a narrow
// window (between two system calls of an open) on purpose instead of hoping to hit it. Linux only,
// where gdb is installed and may attach (ptrace). Not a timing assertion: the park is exact.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** The registers holding a function's second and third integer arguments at its entry. */
const SECOND_ARG = process.arch === 'x64' ? '$rsi' : process.arch === 'arm64' ? '$x1' : undefined;
const THIRD_ARG = process.arch === 'x64' ? '$rdx' : '$x2';

function probe(): boolean {
  if (process.platform !== 'linux' || !SECOND_ARG) return false;
  if (spawnSync('gdb', ['--version']).status !== 0) return false;
  const target = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const r = spawnSync('gdb', ['-q', '-nx', '-batch', '-iex', 'set auto-solib-add off', '-p', String(target.pid), '-ex', 'detach'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return r.status === 0 && /\(process \d+\) detached/.test(r.stdout + r.stderr);
  } finally {
    target.kill('SIGKILL');
  }
}

/** Whether this machine can park processes (Linux x64 or arm64, gdb, ptrace allowed). */
export const canPark = probe();

export class Park {
  readonly #gdb: ChildProcess;
  #out = '';
  #exited: Promise<void>;

  /**
   * Attaches to `pid` and arms a breakpoint at `fn` that fires only when its second argument (an
   * int) equals `secondArg`; resolves once the process runs again, armed.
   */
  static async arm(pid: number, fn: string, secondArg: number): Promise<Park> {
    return Park.armWhen(pid, fn, `(int)${SECOND_ARG} == ${secondArg}`);
  }

  /**
   * As arm, for fcntl(fd, cmd, struct flock *): fires only for the record-lock command `cmd`
   * asking for the lock type `lockType` (F_RDLCK 0, F_WRLCK 1, F_UNLCK 2), l_type being the
   * struct's first member.
   */
  static armLock(pid: number, cmd: number, lockType: number): Promise<Park> {
    return Park.armWhen(pid, 'fcntl', `(int)${SECOND_ARG} == ${cmd} && *(short *)${THIRD_ARG} == ${lockType}`);
  }

  static async armWhen(pid: number, fn: string, condition: string): Promise<Park> {
    const park = new Park(pid);
    park.#send(
      'set pagination off',
      'set confirm off',
      'sharedlibrary libc',
      `break ${fn} if ${condition}`,
      'echo NSHM-ARMED\\n',
      'continue',
    );
    await park.#until(/NSHM-ARMED/);
    return park;
  }

  private constructor(pid: number) {
    this.#gdb = spawn('gdb', ['-q', '-nx', '-iex', 'set auto-solib-add off', '-p', String(pid)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const take = (chunk: Buffer) => {
      this.#out += chunk.toString();
    };
    this.#gdb.stdout!.on('data', take);
    this.#gdb.stderr!.on('data', take);
    this.#exited = new Promise((resolve) => this.#gdb.on('exit', () => resolve()));
  }

  #send(...commands: string[]): void {
    this.#gdb.stdin!.write(`${commands.join('\n')}\n`);
  }

  async #until(pattern: RegExp): Promise<void> {
    // A safety net against a breakpoint that can never fire (the code changed), not a timing check.
    for (let waited = 0; !pattern.test(this.#out); waited += 10) {
      if (waited > 30_000 || this.#gdb.exitCode !== null) throw new Error(`gdb never showed ${pattern}:\n${this.#out}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves once the process stopped at the breakpoint. */
  parked(): Promise<void> {
    return this.#until(/Breakpoint 1,/);
  }

  /** From the breakpoint, runs the function to its return and stays parked there. */
  async finish(): Promise<void> {
    const from = this.#out.length;
    this.#send('finish');
    for (let waited = 0; !/Run till exit[\s\S]*\(gdb\)/.test(this.#out.slice(from)); waited += 10) {
      if (waited > 30_000 || this.#gdb.exitCode !== null) throw new Error(`gdb never finished the call:\n${this.#out}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Removes the breakpoint and lets the process go on. */
  async release(): Promise<void> {
    this.#send('delete', 'detach', 'quit');
    this.#gdb.stdin!.end();
    await this.#exited;
  }
}
