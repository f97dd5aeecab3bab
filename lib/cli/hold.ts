// `named-shm hold <name>`: the process that keeps a region alive (a region lives while someone
// holds it), until Ctrl-C, SIGTERM or SIGHUP; then it lets go cleanly. It says which process it
// is: under npx, the process a shell's $! names is npm, whose death leaves the holder running.
import { EXIT_OK, flag, integerOption, q, type Command } from './command.js';
import { openOrCreate } from './open.js';

const RELEASE_ON = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export const hold: Command = {
  name: 'hold',
  summary: 'keep a region alive until Ctrl-C or SIGTERM, then release it',
  positionals: ['name'],
  options: {
    size: { type: 'string', arg: 'N', help: 'bytes of a new region (default 4096); an existing one must hold at least N' },
    persist: { type: 'boolean', help: 'POSIX: keep the region after its last holder, until `named-shm rm`' },
  },
  description: `
Opens the region <name>, creating it when missing (all zeros), and holds it: other processes
can write and read it meanwhile. Prints one line when it holds the region, with its process
id, and another when Ctrl-C (SIGINT), SIGTERM or SIGHUP ends it; it then closes the region
and exits 0. When it was the last holder, the region goes away with it (unless it was kept
with --persist).

Stop it with the command its first line gives ('kill PID'; on Windows 'taskkill /F /PID PID',
which ends it, and the OS lets go of the region). Run through npx (npm exec), it is not the
process that the shell started: after 'npx named-shm hold x &', a 'kill $!' stops npm and its
shell and leaves the holder running. In a script, run 'node_modules/.bin/named-shm hold x &'
instead: then $! is the holder itself.`,
  run({ values, positionals }, io) {
    const [name] = positionals as [string];
    const size = integerOption(values, 'size');
    const persist = flag(values, 'persist');
    const region = openOrCreate(name, size, persist);
    return new Promise<number>((resolve) => {
      // Signal listeners do not keep Node running; a timer does.
      const keepAlive = setInterval(() => {}, 2 ** 30);
      const release = (signal: NodeJS.Signals): void => {
        for (const s of RELEASE_ON) process.off(s, release);
        clearInterval(keepAlive);
        region.close();
        io.out(`released ${q(name)} (${signal})`);
        resolve(EXIT_OK);
      };
      for (const s of RELEASE_ON) process.on(s, release);
      io.out(
        `holding ${q(name)} (${region.size} bytes, ${region.created ? 'created' : 'opened'}) in process ${process.pid}: Ctrl-C or '${stopCommand(process.pid)}' releases it`,
      );
    });
  },
};

/** The command that ends this process from another terminal (Windows has no signals to send). */
function stopCommand(pid: number): string {
  return process.platform === 'win32' ? `taskkill /F /PID ${pid}` : `kill ${pid}`;
}
