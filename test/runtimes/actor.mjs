// One side of a mixed-runtime test (test/runtimes/mixed-runtime.test.ts): the same file runs
// under Node, Bun or Deno and prints one JSON line per step, each naming the runtime.
//   actor.mjs write <name> <text>      creates the region, writes through `bytes` too, holds it until stdin ends
//   actor.mjs read <name>              prints what the region holds; writes a reply after the string
//   actor.mjs parent <name> <node>     creates and writes the region, runs `<node> actor.mjs read <name>`, reads the reply
//   actor.mjs send <name> <text>       sends one message on an existing channel, then stays alive until killed
//   actor.mjs lock <name>              holds a NamedMutex until stdin ends
//   actor.mjs set <name>               sets an existing NamedEvent
//   actor.mjs exit-holding <name>      exits (process.exit) holding the region <name> with a pending change wait,
//                                      the mutex <name>-m locked, a pending wait on the event <name>-e and the
//                                      channel <name>-c after one send: nothing closed
// The package is imported from dist/ (NAMED_SHM_IMPORT may name it otherwise, as 'named-shm').
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { SharedMemory, Channel, NamedMutex, NamedEvent } = await import(process.env.NAMED_SHM_IMPORT ?? '../../dist/index.js');

const runtime = typeof process.versions.bun === 'string' ? 'bun' : typeof globalThis.Deno !== 'undefined' ? 'deno' : 'node';
const say = (fields) => console.log(JSON.stringify({ runtime, ...fields }));
/** Byte offset of the reply written after the string (the region is 4096 bytes). */
const REPLY_AT = 2048;
const untilStdinEnds = () =>
  new Promise((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });

const [action, name, arg] = process.argv.slice(2);
switch (action) {
  case 'write': {
    const region = SharedMemory.create(name);
    region.writeString(arg);
    // A store through the view: the reader sees it only if `bytes` is the mapping itself.
    region.bytes[4000] = 0xa5;
    say({ created: region.created, zeroCopy: region.zeroCopy, ready: true });
    await untilStdinEnds();
    region.close();
    say({ closed: true });
    break;
  }
  case 'read': {
    const region = SharedMemory.openExisting(name);
    const text = region.readString();
    const marker = region.bytes[4000];
    region.write(REPLY_AT, new TextEncoder().encode(`reply from ${runtime}\0`));
    say({ text, marker, zeroCopy: region.zeroCopy, created: region.created });
    region.close();
    break;
  }
  case 'parent': {
    const region = SharedMemory.create(name);
    region.writeString(`from ${runtime}`);
    const child = spawnSync(arg, [fileURLToPath(import.meta.url), 'read', name], { encoding: 'utf8', timeout: 30_000 });
    const reply = new TextDecoder().decode(region.read(REPLY_AT, 64)).split('\0')[0];
    say({ child: { status: child.status, signal: child.signal, stderr: child.stderr, line: JSON.parse(child.stdout.trim().split('\n').at(-1) || 'null') }, reply });
    region.close();
    break;
  }
  case 'send': {
    const channel = Channel.openExisting(name);
    await channel.send(arg);
    say({ sent: true });
    setInterval(() => {}, 1000);
    break;
  }
  case 'lock': {
    const mutex = NamedMutex.open(name);
    const guard = await mutex.lock();
    say({ locked: true });
    await untilStdinEnds();
    guard.unlock();
    mutex.close();
    say({ unlocked: true });
    break;
  }
  case 'set': {
    const event = NamedEvent.openExisting(name);
    event.set();
    event.close();
    say({ set: true });
    break;
  }
  case 'exit-holding': {
    const region = SharedMemory.open(name);
    region.writeString(`left open by ${runtime}`);
    void region.waitForChange({ timeout: 60_000 });
    const mutex = NamedMutex.open(`${name}-m`);
    mutex.lockSync();
    void NamedEvent.openExisting(`${name}-e`).wait({ timeout: 60_000 });
    const channel = Channel.openExisting(`${name}-c`);
    channel.trySend(`sent by ${runtime}`);
    // Kept reachable: a dropped mutex is closed (unlocked) by its finalizer, and Bun collects sooner than Node.
    globalThis.kept = [region, mutex, channel];
    say({ holding: true, locked: mutex.locked });
    setTimeout(() => process.exit(0), 50);
    break;
  }
  default:
    throw new Error(`unknown action '${action}'`);
}
