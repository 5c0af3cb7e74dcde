// test_harness_cleanup.mjs: a browser test that fails, whichever way (a thrown error, an unhandled
// rejection, process.exit, SIGTERM, SIGKILL), ends within seconds, says why, and leaves no
// `mashaer serve` behind. Runs harness_fail.mjs once per way.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checker, options } from './harness.mjs';

const { mashaer, src, work } = options();
const { check, finish } = checker();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
execFileSync(mashaer, ['import', '--db', path.join(work, 'site.sqlite'), '--quiet', '--layer', 'sites',
  path.join(src, 'data', 'demo', 'sites.geojson')]);
const failer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness_fail.mjs');

/** true while pid is a live process (a zombie waiting for its reaper counts as gone). */
function alive(pid) {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8')); } catch { return false; }
}

/** Resolves once pid has gone, or to false after ms. */
async function gone(pid, ms) {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const expect = { throw: /FAIL uncaught: Error: deliberate throw/, reject: /FAIL unhandled rejection: Error: deliberate rejection/,
  exit: null, sigterm: /FAIL stopped by SIGTERM/, sigkill: null };
for (const [mode, reason] of Object.entries(expect)) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [failer, mode, '--mashaer', mashaer, '--source-dir', src, '--work-dir', work],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const [code, sig] = await new Promise((r) => child.on('close', (c, s) => r([c, s])));
  const secs = (Date.now() - t0) / 1000;
  const m = out.match(/server pid (\d+)/);
  check(!!m, `${mode}: the server started (${m ? 'pid ' + m[1] : out.trim()})`);
  check(code !== 0, `${mode}: the test failed (exit ${code ?? sig})`);
  check(secs < 15, `${mode}: it ended in ${secs.toFixed(1)} s`);
  if (reason) check(reason.test(out), `${mode}: it says why: ${out.split('\n').find((l) => l.startsWith('FAIL')) || '(nothing)'}`);
  if (m) check(await gone(Number(m[1]), 5000), `${mode}: server ${m[1]} is gone`);
}
finish();
