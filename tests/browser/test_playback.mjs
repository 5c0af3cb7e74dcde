// test_playback.mjs: the viewer's time slider in headless Chromium, against the real server with an
// injected clock (--test-clock). A group of 40 walks from PAST to NOW over two recorded minutes; the
// page opens (in Arabic, right to left) on the live map showing them at NOW. Moving the slider to the
// first minute must ask for movement tiles and density heatmaps with `time=` that minute, draw the
// cells at PAST (each with `time`), and show the minute on the clock; "back to live" drops the past
// layers and the live cells at NOW show again; play moves the minute forward by itself.
// No sleeps: every wait is on the page's state (waitForFunction) or on a request seen.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { checker, importDemo, launchChromium, options, startServer, watchPage } from './harness.mjs';

const opts = options();
const { mashaer, src, work, require } = opts;
const { check, finish } = checker();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'playback.sqlite');
importDemo(mashaer, src, db);
const token = (role) => execFileSync(mashaer, ['token', 'add', '--db', db, '--role', role, '--name', 'pb-' + role])
  .toString().split('\n')[0].trim();
const feedToken = token('feed'), adminToken = token('admin');
const { base } = await startServer(mashaer, db, ['--test-clock', '--playback-hours', '2']);

async function advance(s) {
  const r = await fetch(`${base}/test/clock?advance_s=${s}`, { method: 'POST', headers: { Authorization: 'Bearer ' + adminToken } });
  return (await r.json()).now_ms;
}
async function toNextMinute() {
  const now = await advance(0);
  const t = await advance(60 - Math.floor(now / 1000) % 60);
  return t - t % 60000;
}
async function postGroup([lon, lat], t) {
  const recs = [];
  for (let i = 0; i < 40; i++) recs.push({ id: 'W-' + i, lon: lon + (i % 4) * 0.00002, lat: lat + Math.floor(i / 4) * 0.000005, time: new Date(t).toISOString() });
  const r = await fetch(`${base}/feeds/positions`, { method: 'POST', body: recs.map((x) => JSON.stringify(x)).join('\n') + '\n',
    headers: { Authorization: 'Bearer ' + feedToken, 'Content-Type': 'application/x-ndjson' } });
  check(r.status === 200, 'positions posted');
}
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const PAST = [39.8925, 21.4131], NOW = [39.8950, 21.4146];
await toNextMinute();
await postGroup(PAST, await advance(0));
const m1 = await toNextMinute(); // recorded: the group at PAST
await postGroup(NOW, await advance(0));
const m2 = await toNextMinute(); // recorded: the group at NOW
const win = await (await fetch(base + '/playback')).json();
check(win.last === iso(m2) && win.minutes >= 3, `the server keeps the minutes (${win.first} .. ${win.last})`);

let browser;
try {
  browser = await launchChromium(require);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const { errors, external } = watchPage(page, base);
  const tileRequests = [];
  page.on('request', (r) => {
    if (/\/tiles\/movement\/|\/heatmaps\/density\//.test(r.url())) tileRequests.push(r.url());
  });
  await page.goto(base + '/?lang=ar#17/21.4138/39.8937', { waitUntil: 'load' });
  await page.waitForFunction(() => window.mashaerReady === true, null, { timeout: 60000 });
  check(await page.evaluate(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'),
    'the viewer opens in Arabic, right to left');
  await page.waitForFunction(() => window.mashaer.playback().minutes > 0, null, { timeout: 20000 });
  const shown = await page.evaluate(() => ({ hidden: document.querySelector('.playback-section').hidden,
    heading: document.getElementById('playback-heading').textContent, clock: document.getElementById('playback-clock').textContent,
    max: Number(document.getElementById('playback-slider').max) }));
  check(!shown.hidden && /[\u0600-\u06FF]/.test(shown.heading) && /[\u0600-\u06FF]/.test(shown.clock),
    `the playback section is shown with Arabic words: ${shown.heading} / ${shown.clock}`);
  check(shown.max === win.minutes - 1, `the slider spans the kept minutes (${shown.max + 1})`);

  const cellsAt = () => page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['playback-movement-fill'] })
    .map((f) => ({ time: f.properties.time, count: f.properties.count, c: f.geometry.coordinates[0][0] })));
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).length > 0, null, { timeout: 30000 });
  const liveCells = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).map((f) => f.geometry.coordinates[0][0]));
  check(liveCells.every((c) => Math.abs(c[0] - NOW[0]) < 0.0005), `live cells at NOW (${liveCells.length})`);

  // the slider to the first recorded minute (as a person drags it: the input event)
  const before = tileRequests.length;
  await page.$eval('#playback-slider', (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); },
    Math.round((m1 - Date.parse(win.first)) / 60000));
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['playback-movement-fill'] }).length > 0,
    null, { timeout: 30000 }).catch(() => {});
  const past = await cellsAt();
  const asked = tileRequests.slice(before);
  const q = 'time=' + encodeURIComponent(iso(m1));
  check(asked.some((u) => u.includes('/tiles/movement/') && u.includes(q)) && asked.some((u) => u.includes('/heatmaps/density/') && u.includes(q)),
    `tiles and heatmaps asked with the slider's time (${asked.length} requests, e.g. ${asked[0]})`);
  check(asked.filter((u) => u.includes('/tiles/movement/')).every((u) => u.includes(q)), 'every movement tile asked since carries that time');
  check(past.length > 0 && past.every((c) => c.time === iso(m1) && Math.abs(c.c[0] - PAST[0]) < 0.0005 && c.count >= 5),
    `the map shows the past cells at PAST with time ${iso(m1)}: ${past.length}`);
  check(await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).length === 0), 'the live cells are hidden meanwhile');
  const clock = await page.textContent('#playback-clock');
  const expect = await page.evaluate((ms) => I18N.dateTime(ms), m1);
  check(clock.includes(expect), `the clock shows the minute: ${clock}`);
  await page.screenshot({ path: path.join(work, 'playback-ar.png') });

  // play: the minute moves on by itself (1 minute a second)
  await page.click('#playback-play');
  await page.waitForFunction((m) => window.mashaer.playback().at > m, m1, { timeout: 10000 })
    .then(() => check(true, 'play moves to the next minute'), () => check(false, 'play moves to the next minute'));
  await page.waitForFunction(() => !window.mashaer.playback().playing, null, { timeout: 20000 })
    .then(() => check(true, 'playing stops at the last minute kept'), () => check(false, 'playing stops at the last minute kept'));

  // back to live with one click
  await page.click('#playback-live');
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).length > 0, null, { timeout: 30000 }).catch(() => {});
  const back = await page.evaluate(() => ({ at: window.mashaer.playback().at, layer: !!window.map.getLayer('playback-movement-fill'),
    src: !!window.map.getSource('playback') }));
  check(back.at === 0 && !back.layer && !back.src, 'back to live: the past layers and sources are gone');
  const again = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).map((f) => f.geometry.coordinates[0][0]));
  check(again.length > 0 && again.every((c) => Math.abs(c[0] - NOW[0]) < 0.0005), `live cells at NOW again (${again.length})`);
  check(errors.length === 0, 'no console errors: ' + errors.slice(0, 3).join(' | '));
  check(external.length === 0, 'nothing asked outside the server: ' + external.slice(0, 3).join(' '));
} finally {
  if (browser) await browser.close();
}
finish();
