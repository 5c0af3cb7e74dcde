// harness.mjs: what the browser tests share: their options, the check counter, the demo store,
// a real `mashaer serve` on a free port, and Debian's Chromium through playwright-core (from
// web/node_modules). Every test is `node test_X.mjs --mashaer BIN --source-dir SRC --work-dir DIR`.
//
// No test leaves a server behind, whatever way it ends: the servers it started are killed when the
// process exits (normally, by process.exit, by a thrown error or an unhandled rejection, which also
// fail the test at once with the reason, or by SIGINT/SIGTERM/SIGHUP), and each server runs under
// `setpriv --pdeathsig KILL`, so the kernel kills it even when node itself is SIGKILLed (ctest's
// timeout). tests/browser/test_harness_cleanup.mjs proves each of these paths.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** --mashaer, --source-dir, --work-dir as { mashaer, src, work }, and require() rooted at web/. */
export function options() {
  const a = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => {
    if (v.startsWith('--')) acc.push([v.slice(2), all[i + 1]]);
    return acc;
  }, []));
  const src = a['source-dir'];
  return { mashaer: a.mashaer, src, work: a['work-dir'], require: createRequire(path.join(src, 'web', 'package.json')) };
}

/** check(cond, what) prints ok/FAIL and counts; finish() prints the totals and exits 0 or 1. */
export function checker() {
  const c = { passed: 0, failed: 0 };
  c.check = (cond, what) => {
    if (cond) { c.passed++; console.log('ok   ' + what); } else { c.failed++; console.log('FAIL ' + what); }
  };
  c.finish = () => {
    console.log(`${c.passed} passed, ${c.failed} failed`);
    process.exit(c.failed ? 1 : 0);
  };
  return c;
}

/** A new token of `role` named `name` in db (the first line `mashaer token add` prints). */
export function addToken(mashaer, db, role, name) {
  return execFileSync(mashaer, ['token', 'add', '--db', db, '--role', role, '--name', name]).toString().split('\n')[0].trim();
}

/** Import every data/demo/*.geojson into db, each as its own layer. */
export function importDemo(mashaer, src, db) {
  for (const f of readdirSync(path.join(src, 'data', 'demo')).filter((f) => f.endsWith('.geojson')).sort()) {
    execFileSync(mashaer, ['import', '--db', db, '--quiet', '--layer', f.replace(/\.geojson$/, ''),
      path.join(src, 'data', 'demo', f)]);
  }
}

const children = new Set(); // processes started here and not yet seen to exit

function killChildren() {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
}

function failNow(why) {
  console.log('FAIL ' + why);
  killChildren();
  process.exit(1);
}

process.on('exit', killChildren);
process.on('uncaughtException', (e) => failNow('uncaught: ' + ((e && e.stack) || e)));
process.on('unhandledRejection', (e) => failNow('unhandled rejection: ' + ((e && e.stack) || e)));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => failNow('stopped by ' + sig));

/** spawn() whose process is killed when this one ends, however it ends (see the top of the file). */
export function spawnOwned(cmd, args, opts) {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', cmd, ...args], opts);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const NO_CLIENT_LIMITS = ['--rate-per-client', '0', '--rate-per-token', '0', '--max-conn-per-client', '0',
  // and the admission gate sized past what a page and its test ask at once: on 2 cores it runs 2
  // expensive requests (item pages, routes) at a time and refuses the next with 503, and under the
  // sanitizers each holds its slot several times longer, so the test's own GET beside the page's
  // burst of item pages was refused now and then (integration.admission tests the gate)
  '--admit-slots', '16', '--admit-budget', '100000'];

/** `mashaer serve --db db --port 0 ...extra`; resolves to { server, base } once it listens. */
export async function startServer(mashaer, db, extra = []) {
  // A test is one client asking faster than any person: the per-client request rate and connection
  // count are lifted, and the admission gate widened (flags in `extra` come later and win);
  // integration.clients and integration.admission test those.
  const server = spawnOwned(mashaer, ['serve', '--db', db, '--port', '0', ...NO_CLIENT_LIMITS, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('server did not print its listening line within 20 s')), 20000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    server.on('exit', (c, sig) => { clearTimeout(t); reject(new Error(`server exited (${c ?? sig}) before listening`)); });
    server.on('error', (e) => { clearTimeout(t); reject(e); });
  });
  return { server, base };
}

/** Debian's headless Chromium, offline (no background networking), software GL. */
export function launchChromium(require) {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/**
 * Watch a page for what every test forbids: console errors and page errors go into `errors`, requests
 * for anything but `base` (data: and blob: URLs apart) into `external`. Returns { errors, external }.
 */
export function watchPage(page, base) {
  const errors = [], external = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url());
  });
  return { errors, external };
}

/**
 * A fresh work folder with the demo store `name`.sqlite and a feed token (made before the server
 * starts, which reads the tokens), then the server on it: { db, feedToken, server, base, postFeed }.
 * postFeed(feed, records) posts NDJSON with the token and resolves to the response.
 */
export async function demoServer({ mashaer, src, work }, name, extra = []) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const db = path.join(work, name + '.sqlite');
  importDemo(mashaer, src, db);
  const feedToken = execFileSync(mashaer, ['token', 'add', '--db', db, '--role', 'feed', '--name', name])
    .toString().split('\n')[0].trim();
  const { server, base } = await startServer(mashaer, db, extra);
  const postFeed = (feed, records) => fetch(`${base}/feeds/${feed}`, {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + feedToken, 'Content-Type': 'application/x-ndjson' },
    body: records.map((x) => JSON.stringify(x)).join('\n') + '\n',
  });
  return { db, feedToken, server, base, postFeed };
}

/**
 * Chromium for body(browser), then, however body ends, the browser closed and the server stopped; an
 * error thrown by body fails the test (check(false, its stack)).
 */
export async function withChromium(require, server, check, body) {
  let browser;
  try {
    browser = await launchChromium(require);
    await body(browser);
  } catch (e) {
    check(false, e.stack);
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
  }
}

/**
 * What every page must end with: no request left the server (watchPage's `external`), no answer of
 * 400 or more but those in `expected` (`refused` holds "STATUS METHOD /path" strings), no console error
 * but the browser's own line for such a 404. `L` labels the checks.
 */
export function checkPageClean(check, L, { errors, external }, refused, expected = []) {
  check(external.length === 0, L('no request left the server: ' + external.slice(0, 3).join(' ')));
  const unexpected = refused.filter((x) => !expected.includes(x));
  check(unexpected.length === 0, L('no refusal: ' + unexpected.join(' | ')));
  const real = errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
  check(real.length === 0, L('no console errors: ' + real.slice(0, 3).join(' | ')));
}
