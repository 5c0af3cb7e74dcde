// test_kpi_lines.mjs: a counting line's chart in the KPI panel (web/kpi.js), in headless Chromium
// against the real server on the demo store. An admin draws a line in Mina; three tracked people
// cross it (two left to right as drawn, one back); the panel lists the line under its name, shows
// its totals from /kpi, and draws its minutes with uPlot (a canvas), whose sums are the counts the
// server has (counting_line_counts). A screenshot of the panel is saved in the work folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { checker, importDemo, launchChromium, options, startServer, watchPage } from './harness.mjs';

const opts = options();
const { mashaer, src, work, require } = opts;
const { check, finish } = checker();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'lines.sqlite');
importDemo(mashaer, src, db);
const token = (role) => execFileSync(mashaer, ['token', 'add', '--db', db, '--role', role, '--name', 'kpi-' + role])
  .toString().split('\n')[0].trim();
const feed = token('feed'), admin = token('admin');
const { base } = await startServer(mashaer, db);
const post = (p, body, tok, type) => fetch(base + p, {
  method: 'POST', headers: { Authorization: 'Bearer ' + tok, 'Content-Type': type }, body });

const LON = 39.8930, LAT0 = 21.4125, LAT1 = 21.4135;
let r = await post('/ogc/collections/counting_lines/items', JSON.stringify({ type: 'Feature',
  geometry: { type: 'LineString', coordinates: [[LON, LAT0], [LON, LAT1]] }, properties: { name: 'Camp street north' } }),
admin, 'application/geo+json');
check(r.status === 201, 'the admin draws a line: ' + r.status);
const line = (await r.json()).id;
const kpiLine = async () => ((await (await fetch(base + '/kpi')).json()).counting_lines || []).find((l) => l.line === line);
for (let i = 0; i < 200 && !(await kpiLine()); i++) await new Promise((ok) => setTimeout(ok, 50)); // the reload thread
const now = Date.now() - 30000;
const at = (id, lon, dt) => ({ id, lon, lat: LAT0 + 0.0005, time: now + dt * 1000 });
const W = LON - 0.0001, E = LON + 0.0001;
const recs = [at('L-1', W, 0), at('L-1', E, 5), at('L-2', W, 1), at('L-2', E, 6), at('L-3', E, 2), at('L-3', W, 7)];
r = await post('/feeds/positions', recs.map((x) => JSON.stringify(x)).join('\n') + '\n', feed, 'application/x-ndjson');
check(r.status === 200, 'positions accepted');
const k = await kpiLine();
check(k && k.ab === 2 && k.ba === 1, '/kpi counts the line: ' + JSON.stringify(k));

const browser = await launchChromium(require);
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
const { errors, external } = watchPage(page, base);
await page.goto(base + '/?lang=en');
await page.waitForFunction(() => window.mashaerKpi && window.mashaerKpi.ready, null, { timeout: 60000 });
await page.evaluate(() => window.mashaerKpi.refresh());
await page.waitForFunction((id) => { const c = window.mashaerKpi.state().lineChart; return c && c.line === id; }, line,
  { timeout: 30000 });
const st = await page.evaluate(() => window.mashaerKpi.state());
check(st.lines.length === 1 && st.lines[0].name === 'Camp street north', 'the panel lists the line');
check(st.lineChart.ab === 2 && st.lineChart.ba === 1 && st.lineChart.minutes >= 1,
  'the chart draws the counts the server has: ' + JSON.stringify(st.lineChart));
const ui = await page.evaluate(() => ({
  shown: !document.querySelector('#kpi-lines').hidden,
  option: document.querySelector('#kpi-line option').textContent,
  canvas: !!document.querySelector('#kpi-line-chart canvas'),
  points: document.querySelector('#kpi-line-chart').getAttribute('data-points'),
  ab: document.querySelector('#kpi-line-totals').getAttribute('data-ab'),
}));
check(ui.shown && ui.option === 'Camp street north' && ui.canvas && ui.ab === '2', 'the chart is on the page: ' + JSON.stringify(ui));
const shot = path.join(work, 'kpi_lines.png');
await page.locator('#kpi-lines').screenshot({ path: shot });
console.log('screenshot: ' + shot);
check(errors.length === 0, 'no console errors: ' + errors.join(' | '));
check(external.length === 0, 'no request leaves the server: ' + external.join(' '));
await browser.close();
finish();
