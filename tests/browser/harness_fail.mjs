// harness_fail.mjs: a browser test that goes wrong on purpose, for test_harness_cleanup.mjs.
// node harness_fail.mjs MODE --mashaer BIN --source-dir SRC --work-dir DIR  (DIR holds site.sqlite)
// starts a server through the harness, prints "server pid N", then ends the way MODE says.
import path from 'node:path';
import { options, startServer } from './harness.mjs';

const mode = process.argv[2];
const { mashaer, work } = options();
const { server } = await startServer(mashaer, path.join(work, 'site.sqlite'), ['--no-live']);
console.log('server pid ' + server.pid);
switch (mode) {
  case 'throw': throw new Error('deliberate throw');
  case 'reject': Promise.reject(new Error('deliberate rejection')); break;
  case 'exit': process.exit(3); break;
  case 'sigterm': process.kill(process.pid, 'SIGTERM'); break;
  case 'sigkill': process.kill(process.pid, 'SIGKILL'); break;
  default: console.log('unknown mode ' + mode); process.exit(2);
}
await new Promise(() => setInterval(() => {}, 1000)); // hang until the mode above ends us
