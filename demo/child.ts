// The sample's child process: reads the string the parent left in shared memory.
import { getSharedMem } from '../lib/index.js';

const MAX_PATH = 260;
console.log(`Child process read from shared memory: ${getSharedMem(MAX_PATH)}`);
