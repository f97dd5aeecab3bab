"""Python's reference for `npm run bench`: multiprocessing.shared_memory doing what named-shm does.

Started by test/bench/run.ts; reads one command per line on stdin:
  run <case> <iterations> <samples>  ->  "ok <ns per op> <ns per op> ..." (one per sample)
  quit
The strings come from files the harness writes (UTF-16LE, no terminator): argv[2..4].
"""
import sys
import time
from multiprocessing import shared_memory

SIZE = 4096
CAPACITY = SIZE // 2
MAX_PATH = 260
BIG = 1024 * 1024

prefix = sys.argv[1]
strings = []
for path in sys.argv[2:5]:
    with open(path, 'rb') as f:
        strings.append(f.read().decode('utf-16-le', 'surrogatepass'))
s21, latin1, other = strings

counter = 0


def next_name():
    global counter
    counter += 1
    return f'{prefix}-py{counter}'


region = shared_memory.SharedMemory(name=next_name(), create=True, size=SIZE)
big = shared_memory.SharedMemory(name=next_name(), create=True, size=BIG)
buf = region.buf
src_small = bytes((i * 31 + 7) & 0xFF for i in range(SIZE))
src_big = bytes((i * 31 + 7) & 0xFF for i in range(BIG))


def set_shared_mem(text):
    """Units up to the first U+0000, at most CAPACITY - 1 of them, then U+0000."""
    nul = text.find('\0')
    if nul >= 0:
        text = text[:nul]
    data = text.encode('utf-16-le', 'surrogatepass')
    n = min(len(data), (CAPACITY - 1) * 2)
    buf[:n] = data[:n]
    buf[n:n + 2] = b'\0\0'


def get_shared_mem(cch):
    """At most cch - 1 units, stopping at U+0000 and at the end of the region."""
    units = min(cch - 1, CAPACITY)
    text = bytes(buf[:units * 2]).decode('utf-16-le', 'surrogatepass')
    nul = text.find('\0')
    return text if nul < 0 else text[:nul]


def create_close():
    shm = shared_memory.SharedMemory(name=next_name(), create=True, size=SIZE)
    shm.close()
    shm.unlink()


def open_existing_close():
    shm = shared_memory.SharedMemory(name=region.name)
    shm.close()


def setget(text, cch):
    def op():
        set_shared_mem(text)
        get_shared_mem(cch)
    return op


def copy_small():
    buf[:SIZE] = src_small


def copy_big():
    big.buf[:BIG] = src_big


CASES = {
    'setget-21': setget(s21, MAX_PATH),
    'setget-2047-latin1': setget(latin1, CAPACITY),
    'setget-2047-other': setget(other, CAPACITY),
    'read-limit-8': lambda: get_shared_mem(8),
    'open-close-new': create_close,
    'open-close-existing': open_existing_close,
    'copy-4096': copy_small,
    'copy-1048576': copy_big,
}


def main():
    perf = time.perf_counter_ns
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        if words[0] != 'run' or len(words) != 4 or words[1] not in CASES:
            print('error bad command', flush=True)
            continue
        op = CASES[words[1]]
        iterations, samples = int(words[2]), int(words[3])
        if words[1] == 'read-limit-8':
            set_shared_mem(latin1)
        out = []
        for _ in range(samples):
            t0 = perf()
            for _ in range(iterations):
                op()
            out.append(f'{(perf() - t0) / iterations:.3f}')
        print('ok ' + ' '.join(out), flush=True)


try:
    main()
except KeyboardInterrupt:
    pass  # Ctrl-C reaches the whole process group; the harness reports it
finally:
    buf = None
    region.close()
    region.unlink()
    big.close()
    big.unlink()
