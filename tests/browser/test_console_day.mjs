// test_console_day.mjs: a day of the operations console's applications in headless Chromium against
// the real server, driven through the console's own forms: cleaning, reports, broadcasts, sites and
// gates, lost persons, waste bins (web/console_cleaning.js, console_reports.js, console_broadcasts.js,
// console_sites.js, console_tracking.js, console_bins.js). Arabic first (right to left), then English.
//
// The day: `mashaer simulate` plays a short crowd (pilgrims in groups, crews, gate counts, sensors,
// waste bins, incidents) into the server's feeds; on top of it the test posts what each workflow needs to be
// checked exactly: a cleaning crew's sweep, a pilgrim's report with a photo (a reporter token), a
// gate's counts with permit scans and the queue in front of it, a lost person's trail and their group
// with one member far away. The server runs with --test-clock: the group's dispersion is raised by
// stepping its clock a minute (POST /test/clock), never by waiting.
//
// In Arabic, through the UI: a cleaning task made on a route for one crew, assigned to another,
// started; the crew's sweep makes progress the list shows exactly as the server has it, and the swept
// pieces are drawn (queryRenderedFeatures); the report listed with its photo's thumbnail decoded,
// acknowledged, then made an incident (after the confirmation), the link checked on both items on the
// server; a broadcast to zone MINA-04 sent and then served to a phone at that place; the site's people
// and the gate's queue level and denied share as /kpi/sites, the gates items and gate_counts have
// them, the permit alert listed; the lost person found by id, the trail drawn with its points, the
// group's members listed, the dispersion alert listed and the group shown with the far member marked.
// The simulated bins (some start over the overflow level): the overflowing ones listed as the server
// has them, the first one found on the map in the operations style's `bins` layer.
// In English: every panel again, its words and direction, what the Arabic pass did shown there.
// The officer's PC keeps the wrong time: in both passes the page's clock (Date.now(), new Date()) runs
// 27 hours ahead of the server's, and every time the page tells against now is the server's
// (web/clock.js): a new task's due and a broadcast's expiry are that many hours or minutes from the
// server's clock (on the server), a task due in 30 minutes is not overdue, the report's time left to
// its deadline, the sites' counts of the last minutes (the gate row's denied share), the live status's
// time of day, the incidents' ages and the KPI history's window (asked and drawn) are the server's.
// Screenshots of every panel in both languages go into the work folder. Waits are on the page's state
// and the network answers (barriers), never on time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addToken, checkPageClean, checker, importDemo, options, spawnOwned, startServer, watchPage, withChromium } from './harness.mjs';

const { mashaer, src, work, require } = options();
const { check, finish } = checker();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'day.sqlite');
importDemo(mashaer, src, db);
const [OPS, FEED, ADMIN, PHONE] = [['ops', 'alice'], ['feed', 'sim'], ['admin', 'root'], ['reporter', 'phone-8812']]
  .map(([r, n]) => addToken(mashaer, db, r, n));
const { server, base } = await startServer(mashaer, db, ['--test-clock']);

const auth = (tok) => (tok ? { Authorization: 'Bearer ' + tok } : {});
async function getJson(p, tok) {
  const r = await fetch(base + p, { headers: auth(tok) });
  const json = await r.json().catch(() => null);
  // a refusal or a server error says so in the test's output (the caller's check then fails on it)
  if (r.status >= 429) console.error(`GET ${p}: ${r.status} ${JSON.stringify(json)}`);
  return { status: r.status, json };
}
async function post(p, tok, body, type = 'application/json') {
  const r = await fetch(base + p, { method: 'POST', headers: { ...auth(tok), 'Content-Type': type },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null), location: r.headers.get('Location') };
}
const feed = (name, recs) => post('/feeds/' + name, FEED, recs.map((x) => JSON.stringify(x)).join('\n') + '\n', 'application/x-ndjson');
const clock = async (s) => (await post('/test/clock?advance_s=' + s, ADMIN, '')).json;
const serverNow = async () => (await clock(0)).now_ms;
// The page's clock SKEW_MS ahead of the server's, from its first script on: Date.now() and new Date()
// (a time given to Date is kept as it is). Timers and performance.now() are untouched.
const SKEW_MS = 27 * 3600000;
function skewClock(ctx) {
  return ctx.addInitScript((skew) => {
    const Real = Date;
    function Skewed(...a) {
      if (!new.target) return new Real(Real.now() + skew).toString();
      return a.length ? new Real(...a) : new Real(Real.now() + skew);
    }
    Skewed.prototype = Real.prototype;
    Skewed.now = () => Real.now() + skew;
    Skewed.parse = Real.parse;
    Skewed.UTC = Real.UTC;
    window.Date = Skewed;
  }, SKEW_MS);
}
const east = (lon, lat, m) => lon + m / (111195 * Math.cos(lat * Math.PI / 180));

const MINA = [39.88955, 21.43195]; // in zone MINA-04
const LOST = { id: 'P-LOST-1', group: 'G-LOST' };
const WORDS = {
  ar: { tabs: { cleaning: 'النظافة', reports: 'البلاغات', sites: 'المشاعر والبوابات', tracking: 'المفقودون', bins: 'حاويات النفايات' }, progress: '٪', person: 'الشخص',
    incident: 'صار الحادث', people: 'شخص', alert: 'تفرّقت المجموعة' },
  en: { tabs: { cleaning: 'Cleaning', reports: 'Reports', sites: 'Sites and gates', tracking: 'Lost persons', bins: 'Waste bins' }, progress: '%', person: 'Person',
    incident: 'became incident', people: 'people', alert: 'spread to' },
};
// The server's state as a barrier (as mshtest.wait_for): asked again every 100 ms until fn answers, 15 s at most.
async function until(fn, what, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = await fn();
    if (v) return v;
  }
  throw new Error('timed out waiting for ' + what);
}
// Submit a form (its submit button) and resolve to the answer of the POST it makes to a path ending in `tail`.
async function submitPost(page, form, tail) {
  const made = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(tail));
  await page.click(form + ' button[type="submit"]');
  const res = await made;
  return { status: res.status(), json: await res.json() };
}
const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');
const waitDom = (page, fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 60000 }).then(() => true, () => { console.log('     (waited for ' + what + ')'); return false; });
const rendered = (page, layer, filter) => page.evaluate(([l, f]) => window.map.queryRenderedFeatures({ layers: [l] })
  .filter((x) => !f || Object.entries(f).every(([k, v]) => x.properties[k] === v)).length, [layer, filter || null]);
const waitRendered = (page, layer, filter, n = 1) => waitDom(page, ([l, f, m]) => window.map.getLayer(l) &&
  window.map.queryRenderedFeatures({ layers: [l] }).filter((x) => !f || Object.entries(f).every(([k, v]) => x.properties[k] === v)).length >= m,
  [layer, filter || null, n], layer + ' drawn');

// The day's state the Arabic pass makes and the English one shows.
const day = { task: null, soon: null, report: null, gate: null, site: 'mina', bc: null, bins: [] };

// ---- the simulated day (before any page): a short crowd through every feed
function simulate() {
  const tok = path.join(work, 'sim.token');
  writeFileSync(tok, FEED + '\n', { mode: 0o600 });
  return new Promise((resolve, reject) => {
    const sim = spawnOwned(mashaer, ['simulate', '--url', base, '--token-file', tok, '--pilgrims', '600', '--rate', '600', '--crews', '6',
      '--ticks', '3', '--fast', '--quiet', '--run-id', 'day', '--data', path.join(src, 'data', 'demo')], { stdio: ['ignore', 'ignore', 'inherit'] });
    sim.on('exit', (c) => (c === 0 ? resolve() : reject(new Error('simulate exited ' + c))));
  });
}

// The bins panel: the overflowing bins as the server serves them, fullest first; the first one on the map.
async function bins(page, L) {
  await page.click('#console-tab-bins');
  await waitDom(page, () => document.querySelector('#bins-over li[data-id]'), null, 'the overflowing bins');
  const listed = await page.$$eval('#bins-over li[data-id]', (li) => li.map((x) => ({ id: x.dataset.id, text: x.textContent })));
  const over = day.bins.filter((f) => f.properties.overflowing).sort((a, b) => b.properties.fill_level - a.properties.fill_level);
  check(listed.length === Math.min(200, over.length) && listed[0].id === over[0].properties.id && listed[0].text.includes(L.words.progress),
    L(`the overflowing bins: ${listed.length} listed, ${over.length} served; first ${JSON.stringify(listed[0])}`));
  await page.click('#bins-over li[data-id] button');
  const shown = await waitDom(page, (id) => window.map.queryRenderedFeatures({ layers: ['bins'] }).some((f) => f.properties.id === id && f.properties.overflowing),
    listed[0].id, 'the bin on the map');
  check(shown, L('the first overflowing bin drawn in the bins layer'));
}

async function cleaning(page, L) {
  await page.click('#console-tab-cleaning');
  await waitDom(page, () => document.querySelectorAll('#ct-new-route option').length > 0 && window.mashaerCleaning.state().routes > 0, null, 'routes');
  await page.click('#ct-new');
  await page.selectOption('#ct-new-route', '1');
  await page.fill('#ct-new-crew', 'CL-MORNING');
  const hours = Number(await page.$eval('#ct-new-due', (e) => e.value)), before = await serverNow();
  const res = await submitPost(page, '#ct-new-form', '/cleaning_tasks/items');
  const after = await serverNow();
  day.task = res.json.id;
  let srv = (await getJson('/ogc/collections/cleaning_tasks/items/' + day.task)).json.properties;
  check(res.status === 201 && srv.route === 1 && srv.crew === 'CL-MORNING' && srv.status === 'open' && srv.progress === 0,
    L(`task ${day.task} created on route 1 for CL-MORNING: ${JSON.stringify(srv)}`));
  const due = Date.parse(srv.due), hour = 3600000;
  // (5 s: the page's offset is short of the server's clock by the answer's trip, the time it sends cut to the second)
  check(hours > 0 && due >= before + hours * hour - 5000 && due <= after + hours * hour,
    L(`due ${hours} h from the server's clock, not the page's: ${srv.due} (server ${new Date(before).toISOString()})`));
  await dueShown(page, L);
  await waitDom(page, (id) => document.querySelector(`#ct-detail .console-card[data-fid="${id}"] #ct-assign-crew`), day.task, 'the task card');
  // assign another crew, then start it
  await page.fill('#ct-assign-crew', 'CL-DAY');
  let patched = page.waitForResponse((r) => r.request().method() === 'PATCH');
  await page.click('#ct-assign button[type="submit"]');
  check((await patched).status() === 200, L('assign answered 200'));
  await waitDom(page, () => document.querySelector('#ct-detail dd[data-field="crew"]') &&
    document.querySelector('#ct-detail dd[data-field="crew"]').textContent === 'CL-DAY', null, 'the crew shown');
  patched = page.waitForResponse((r) => r.request().method() === 'PATCH');
  await page.click('#ct-detail .ct-to[data-to="in_progress"]');
  check((await patched).status() === 200, L('start answered 200'));
  srv = (await getJson('/ogc/collections/cleaning_tasks/items/' + day.task)).json.properties;
  check(srv.crew === 'CL-DAY' && srv.status === 'in_progress', L('on the server: ' + srv.crew + ' ' + srv.status));
  // the crew sweeps the first half of the route (a minute between fixes, ending at the server's now)
  const route = (await getJson('/ogc/collections/cleaning_routes/items/1')).json.geometry.coordinates;
  const now = (await clock(0)).now_ms, half = route.slice(0, 5);
  check((await feed('crews', half.map((c, i) => ({ id: 'CL-DAY', kind: 'cleaning', status: 'cleaning', lon: c[0], lat: c[1],
    time: new Date(now - (half.length - 1 - i) * 60000).toISOString() })))).status === 200, L('the sweep posted'));
  await waitDom(page, (id) => { const li = document.querySelector(`#ct-list li[data-fid="${id}"]`); return li && Number(li.dataset.progress) > 0; },
    day.task, 'progress in the list');
  srv = (await getJson('/ogc/collections/cleaning_tasks/items/' + day.task)).json.properties;
  const li = await page.$eval(`#ct-list li[data-fid="${day.task}"]`, (e) => ({ p: Number(e.dataset.progress), text: e.textContent,
    bar: e.querySelector('[role=progressbar]').getAttribute('aria-valuenow') })).catch(() => ({}));
  check(srv.progress > 0 && srv.progress < 100 && li.p === srv.progress && li.bar === String(srv.progress) && li.text.includes(L.words.progress),
    L(`progress ${srv.progress} % on the server, listed ${JSON.stringify(li)}`));
  const pieces = (await getJson(`/ogc/collections/cleaning_progress/items?route=1&limit=1000`)).json.features;
  const swept = pieces.filter((f) => f.properties.swept && f.properties.task === day.task).length;
  await waitDom(page, (n) => window.mashaerCleaning.state().swept === n, swept, 'the swept pieces counted');
  check(swept > 0 && (await page.evaluate(() => window.mashaerCleaning.state())).pieces === pieces.length,
    L(`pieces of the route: ${swept} of ${pieces.length} swept for the task`));
  check(await waitRendered(page, 'console-cleaning-pieces', { swept: true }) && await rendered(page, 'console-cleaning-pieces', { swept: false }) > 0,
    L('swept and unswept pieces drawn: ' + await rendered(page, 'console-cleaning-pieces', { swept: true })));
  // the filter: done tasks only hides it
  const listed = page.waitForResponse((r) => r.url().includes('/cleaning_tasks/items?') && r.url().includes('status=done'));
  await page.selectOption('#ct-f-status', 'done');
  await listed;
  await waitDom(page, () => !document.querySelector('#ct-list li[data-fid]'), null, 'the filtered list');
  check((await page.$$('#ct-list li[data-fid]')).length === 0, L('status filter done: none listed'));
  await page.selectOption('#ct-f-status', '');
  await waitDom(page, (id) => document.querySelector(`#ct-list li[data-fid="${id}"]`), day.task, 'the list again');
}

// The task due 30 minutes after the server's clock (posted before any page): listed with its due time,
// not overdue (the page's own clock is a day past it).
async function dueShown(page, L) {
  await waitDom(page, (id) => document.querySelector(`#ct-list li[data-fid="${id}"]`), day.soon.id, 'the task due soon');
  const li = await page.$eval(`#ct-list li[data-fid="${day.soon.id}"]`, (e) => ({ text: e.textContent, late: !!e.querySelector('.ct-late') }))
    .catch(() => ({}));
  const want = await page.evaluate((ms) => window.I18N.t('console.ct.due', { time: window.I18N.dateTime(ms) }), day.soon.due);
  check(li.text && li.text.includes(want) && !li.late, L(`task ${day.soon.id} due in 30 min, ${want}: ${JSON.stringify(li)}`));
}

// The viewer's own times by the server's clock: the live status's time of day (the last round that
// loaded, seconds ago: within two minutes), every listed incident's age, the KPI history's window (the
// last one asked, every 15 s: the 6 hours up to the server's now, within two minutes; drawn).
function ageSeconds(text) { // the incidents panel's words (English): [low, high) seconds
  let m;
  if (text === 'now') return [0, 10];
  if ((m = text.match(/^(\d+) s$/))) return [+m[1] - 1, +m[1] + 1];
  if ((m = text.match(/^(\d+) min$/))) return [+m[1] * 60, +m[1] * 60 + 60];
  if ((m = text.match(/^(\d+) h (\d+) min$/))) return [+m[1] * 3600 + +m[2] * 60, +m[1] * 3600 + +m[2] * 60 + 60];
  if ((m = text.match(/^(\d+) d$/))) return [+m[1] * 86400, +m[1] * 86400 + 86400];
  return [NaN, NaN];
}
async function viewerTimes(page, L, kpiAsked) {
  await page.evaluate((c) => window.map.jumpTo({ center: c, zoom: 16 }), MINA); // the report's incident in view
  await waitDom(page, () => document.querySelector('#incident-list .incident-age'), null, 'the incidents in view');
  const before = await serverNow();
  const status = await text(page, '#live-status');
  const ages = await page.$$eval('#incident-list .incident-age', (es) => es.map((e) => [Number(e.dataset.t), e.textContent]));
  const after = await serverNow();
  const times = await page.evaluate(([lo, hi]) => { const out = []; for (let x = lo; x <= hi; x += 1000) out.push(window.I18N.time(x)); return out; },
    [before - 120000, after + 1000]); // each second of the last two minutes
  check(times.some((x) => status.includes(x)), L(`the live status by the server's clock (${times[0]} to ${times[times.length - 1]}): ${status}`));
  const wrong = ages.filter(([t, s]) => { const [lo, hi] = ageSeconds(s); return !(lo <= (after - t) / 1000 + 1 && hi >= (before - t) / 1000 - 7); }); // a tick (2 s) and the trip
  check(ages.length > 0 && wrong.length === 0, L(`${ages.length} incidents' ages by the server's clock; wrong: ${JSON.stringify(wrong)}`));
  const asked = new URL(kpiAsked[kpiAsked.length - 1] || base + '/kpi/history');
  const to = Date.parse(asked.searchParams.get('to')), from = Date.parse(asked.searchParams.get('from'));
  const drawn = await page.$eval('#kpi-chart', (e) => e.dataset.points).catch(() => undefined);
  check(to <= after + 1000 && to >= after - 120000 && to - from === 6 * 3600000 && drawn !== undefined,
    L(`the KPI history asked up to the server's now (${new Date(after).toISOString()}): ${asked.search}, ${drawn} points drawn`));
}

async function reports(page, L) {
  // a pilgrim's phone reports a lost child with a photo (a PNG the browser drew)
  const photo = await page.screenshot({ clip: { x: 0, y: 0, width: 120, height: 90 } });
  const r = await post('/ogc/collections/reports/items', PHONE, { type: 'Feature', geometry: { type: 'Point', coordinates: MINA },
    properties: { category: 'lost_person', text: 'طفل تائه قرب البوابة، قميص أحمر' } }, 'application/geo+json');
  day.report = r.json.id;
  const a = await post(`/ogc/collections/reports/items/${day.report}/attachments`, PHONE, new Uint8Array(photo), 'image/png');
  check(r.status === 201 && a.status === 201, L(`report ${day.report} and its photo posted: ${r.status} ${a.status}`));
  await page.click('#console-tab-reports');
  await waitDom(page, (id) => document.querySelector(`#rp-list li[data-fid="${id}"]`), day.report, 'the report listed');
  const before = await serverNow();
  const row = await text(page, `#rp-list li[data-fid="${day.report}"]`);
  const after = await serverNow();
  check(row.includes('طفل تائه') && row.includes('MINA-04'), L('listed: ' + row));
  // the time left to its deadline, by the server's clock (the page's is past it by a day)
  const sla = Date.parse((await getJson('/ogc/collections/reports/items/' + day.report, OPS)).json.properties.sla_due);
  const left = await page.evaluate(([a, b]) => [a, b].map((s) => window.I18N.t('console.rp.sla_left', { d: window.mashaerConsole.kit.duration(s) })),
    [(sla - after) / 1000, (sla - before + 5000) / 1000]); // (5 s: as for a task's due)
  check(sla > after && left.some((x) => row.includes(x)) && !(await page.$(`#rp-list li[data-fid="${day.report}"][data-late]`)),
    L(`not late, ${left.join(' or ')}: ${row}`));
  await page.click(`#rp-list li[data-fid="${day.report}"] button`);
  await waitDom(page, () => { const i = document.querySelector('#rp-photos img'); return i && i.complete && i.naturalWidth > 0; }, null, 'the thumbnail');
  const img = await page.$eval('#rp-photos img', (i) => ({ w: i.naturalWidth, h: i.naturalHeight, src: i.src.slice(0, 5) })).catch(() => ({}));
  check(img.w === 120 && img.h === 90 && img.src === 'blob:', L('the photo thumbnail decoded: ' + JSON.stringify(img)));
  check(await waitRendered(page, 'console-reports-dots', { selected: true }), L('the report drawn on the map'));
  let patched = page.waitForResponse((x) => x.request().method() === 'PATCH');
  await page.click('#rp-detail .rp-to[data-to="acknowledged"]');
  check((await patched).status() === 200 && (await getJson('/ogc/collections/reports/items/' + day.report, OPS)).json.properties.status === 'acknowledged',
    L('acknowledged on the server'));
  await waitDom(page, () => document.querySelector('#rp-detail dd[data-field="status"]') &&
    !document.querySelector('#rp-detail .rp-to[data-to="acknowledged"]'), null, 'the new status');
  await page.selectOption('#rp-severity', 'high');
  await page.click('#rp-make-incident');
  await page.waitForSelector('#console-confirm[open]', { timeout: 5000 });
  const esc = page.waitForResponse((x) => x.url().endsWith('/escalate'));
  await page.click('#console-confirm-yes');
  const er = await esc;
  const rep = (await getJson('/ogc/collections/reports/items/' + day.report, OPS)).json.properties;
  const inc = await getJson('/ogc/collections/incidents/items/INC-REP-' + day.report, OPS);
  check(er.status() === 201 && rep.incident === 'INC-REP-' + day.report && inc.status === 200 && inc.json.properties.severity === 'high' &&
    inc.json.properties.kind === 'lost_person', L(`made incident ${rep.incident}: ${JSON.stringify(inc.json && inc.json.properties)}`));
  await waitDom(page, (id) => { const e = document.querySelector('#rp-detail .rp-linked'); return e && e.textContent.includes(id); },
    'INC-REP-' + day.report, 'the link shown');
  check((await text(page, '#rp-detail .rp-linked')).includes(L.words.incident) && (await text(page, '#console-msg')).includes('INC-REP-' + day.report),
    L('the console names the incident: ' + await text(page, '#rp-detail .rp-linked')));
}

async function broadcast(page, L) {
  await page.click('#console-tab-broadcasts');
  await waitDom(page, () => document.querySelector('#bc-zone option[value="MINA-04"]'), null, 'the zones');
  await page.selectOption('#bc-zone', 'MINA-04');
  await page.fill('#bc-msg-ar', 'يرجى الابتعاد عن بوابة منى');
  await page.fill('#bc-msg-en', 'Keep away from the Mina gate');
  const minutes = Number(await page.$eval('#bc-expiry', (e) => e.value)), before = await serverNow();
  const res = await submitPost(page, '#bc-form', '/broadcasts');
  const after = await serverNow(), expires = Date.parse(res.json.properties.expires);
  check(minutes > 0 && expires >= before + minutes * 60000 - 5000 && expires <= after + minutes * 60000,
    L(`expires ${minutes} min from the server's clock: ${res.json.properties.expires} (server ${new Date(before).toISOString()})`));
  day.bc = res.json.id;
  const phone = (await getJson(`/broadcasts?lon=${MINA[0]}&lat=${MINA[1]}`)).json.features.map((f) => f.id);
  check(res.status === 201 && phone.includes(day.bc), L(`broadcast ${day.bc} served to a phone in MINA-04: ${phone}`));
  await waitDom(page, (id) => document.querySelector(`#bc-list li[data-id="${id}"]`), day.bc, 'the broadcast listed');
  check((await text(page, `#bc-list li[data-id="${day.bc}"]`)).includes('يرجى الابتعاد عن بوابة منى') && await waitRendered(page, 'console-broadcasts-fill'),
    L('listed and its area drawn'));
  const until = await page.evaluate((ms) => window.I18N.t('console.bc.until', { time: window.I18N.dateTime(ms) }), expires);
  check((await text(page, `#bc-list li[data-id="${day.bc}"]`)).includes(until), L('listed ' + until));
}

// A gate of Mina: counts with permit scans (20 of 115 denied: 17.4 %) and 40 people queueing in front of it,
// posted once the page's event stream is open (the permit alert is an event).
async function gateDay(L) {
  const gate = (await getJson('/ogc/collections/assets/items?kind=gate&site=mina&limit=1')).json.features[0];
  day.gate = { id: gate.properties.asset_id, lon: gate.geometry.coordinates[0], lat: gate.geometry.coordinates[1] };
  const now = new Date().toISOString();
  check((await feed('gates', [{ id: day.gate.id, in: 150, out: 25, scans_valid: 95, scans_denied: 20, capacity: 3000, lon: day.gate.lon,
    lat: day.gate.lat, time: now }])).status === 200, L('gate counts posted'));
  check((await feed('positions', Array.from({ length: 40 }, (_, i) => ({ id: 'Q-' + i, lon: east(day.gate.lon, day.gate.lat, (i % 8) - 4),
    lat: day.gate.lat + (Math.floor(i / 8) - 2) / 111195, time: now, speed: 0 })))).status === 200, L('a queue at the gate'));
  await until(async () => ((await getJson('/ogc/collections/gates/items?limit=1000')).json.features
    .find((f) => f.properties.id === day.gate.id) || {}).properties.queue_los, 'the queue level of the gate');
  // the site's people come from the KPI pass that reads the gate counts: wait for it, not for a time
  await until(async () => ((await getJson('/kpi/sites')).json.sites.find((s) => s.site === day.site) || {}).people >= 125,
    "the site's people counted from the gate", 60000);
}

async function sites(page, L, first) {
  if (first) await gateDay(L);
  await page.click('#console-tab-sites');
  await waitDom(page, (s) => document.querySelector(`#gs-sites li[data-site="${s}"]`), day.site, 'the sites');
  const want = (await getJson('/kpi/sites')).json.sites.find((s) => s.site === day.site);
  await waitDom(page, ([s, n]) => document.querySelector(`#gs-sites li[data-site="${s}"][data-people="${n}"]`), [day.site, want.people], 'the people');
  await page.click(`#gs-sites li[data-site="${day.site}"] .console-item-main`);
  await waitDom(page, (g) => document.querySelector(`#gs-gates tr[data-gate="${g}"]`), day.gate.id, 'the gate row');
  const site = await page.$eval(`#gs-sites li[data-site="${day.site}"]`, (e) => ({ people: Number(e.dataset.people), text: e.textContent }));
  const occ = await text(page, '#gs-gates .gs-occupancy');
  check(want.people >= 125 && site.people === want.people && occ.includes(L.words.people) && occ.replace(/\D/g, '') === String(want.people),
    L(`site ${day.site}: ${want.people} people on the server, shown ${JSON.stringify(site)} / ${occ}`));
  const live = (await getJson('/ogc/collections/gates/items?limit=1000')).json.features.find((f) => f.properties.id === day.gate.id).properties;
  if (first) await waitDom(page, (g) => document.querySelector(`#gs-gates tr.gs-denying[data-gate="${g}"]`), day.gate.id, 'the permit alert');
  const row = await page.$eval(`#gs-gates tr[data-gate="${day.gate.id}"]`, (e) => ({ los: e.dataset.los, denied: e.querySelector('.gs-denied').textContent,
    cls: e.className, text: e.textContent }));
  const share = await page.evaluate(() => window.I18N.num(17.4));
  check(live.queue_los && row.los === live.queue_los && row.denied.includes(share) && (!first || row.cls.includes('gs-denying')),
    L(`gate ${day.gate.id}: queue level ${live.queue_los}, row ${JSON.stringify(row)}`));
  if (first) check((await page.$$(`#gs-permits li[data-gate="${day.gate.id}"]`)).length === 1, L('the permit alert listed: ' + await text(page, '#gs-permits')));
  check(await waitRendered(page, 'console-sites-gates', { gate: day.gate.id }), L('the gate drawn on the map'));
}

async function tracking(page, L, first) {
  await page.click('#console-tab-tracking');
  await page.fill('#tr-id', LOST.id);
  const found = page.waitForResponse((r) => r.url().includes('/tracking/search?id='));
  await page.click('#tr-form button[type="submit"]');
  check((await found).status() === 200, L('the search answered'));
  const srv = (await getJson('/tracking/search?id=' + LOST.id, OPS)).json;
  await waitDom(page, (id) => document.querySelector(`#tr-result .tr-person[data-id="${id}"]`), LOST.id, 'the person');
  const st = await page.evaluate(() => window.mashaerTracking.state());
  check(srv.track.properties.points >= 5 && st.trail === srv.track.geometry.coordinates.length && st.members === srv.group_members.count - 1 &&
    (await text(page, '#tr-result .tr-person h4')).includes(L.words.person), L(`trail of ${st.trail} points, ${st.members} other members`));
  check(await waitRendered(page, 'console-tracking-trail') && await waitRendered(page, 'console-tracking-points', null, 2),
    L('the trail drawn: ' + await rendered(page, 'console-tracking-points')));
  check((await page.$$('#tr-result .tr-member')).length === srv.group_members.count, L('the group members listed'));
  if (first) {
    // the far member stays 480 m from the centroid for a minute (the server's clock stepped): the alert comes
    await clock(0);
    await clock(30);
    await clock(31);
    await waitDom(page, (g) => document.querySelector(`#tr-alerts li[data-group="${g}"]`), LOST.group, 'the dispersion alert');
    check((await text(page, `#tr-alerts li[data-group="${LOST.group}"]`)).includes(L.words.alert), L('alert: ' + await text(page, '#tr-alerts')));
    await page.click(`#tr-alerts li[data-group="${LOST.group}"] button`);
  } else { // the alert was an event of the Arabic page's stream: search the group by its id
    await page.check('#tr-kind-group');
    await page.fill('#tr-id', LOST.group);
    await page.click('#tr-form button[type="submit"]');
  }
  await waitDom(page, (g) => document.querySelector(`#tr-result .tr-group[data-group="${g}"]`) && !document.querySelector('#tr-result .tr-person'),
    LOST.group, 'the group');
  const outside = await page.$$eval('#tr-result .tr-member[data-outside]', (ls) => ls.map((l) => l.dataset.id));
  check(JSON.stringify(outside) === JSON.stringify([LOST.id + '-far']) && await waitRendered(page, 'console-tracking-members', { outside: true }),
    L('the far member marked and drawn: ' + outside));
  // every member in sight: on the map's canvas, not under the viewer's panel or the console
  const hidden = await page.evaluate(async () => (await window.map.getSource('console-tracking').getData()).features
    .filter((f) => f.properties.part === 'member').filter((f) => {
      const p = window.map.project(f.geometry.coordinates), r = window.map.getContainer().getBoundingClientRect();
      const under = document.elementFromPoint(r.left + p.x, r.top + p.y);
      return !under || under.className !== 'maplibregl-canvas';
    }).map((f) => f.properties.id));
  check(hidden.length === 0, L('every member in sight on the map: ' + (hidden.join(' ') || 'yes')));
}

async function runLanguage(browser, lang, first) {
  const L = (what) => `[${lang}] ${what}`;
  L.words = WORDS[lang];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: lang === 'ar' ? 'ar-SA' : 'en-GB' });
  await ctx.addInitScript((tok) => sessionStorage.setItem('mashaer.token', tok), OPS);
  await skewClock(ctx);
  const page = await ctx.newPage();
  const watched = watchPage(page, base);
  const kpiAsked = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/kpi/history') kpiAsked.push(r.url()); });
  const refused = [];
  page.on('response', (r) => { if (r.status() >= 400) refused.push(r.status() + ' ' + r.request().method() + ' ' + new URL(r.url()).pathname); });
  await page.goto(`${base}/?lang=${lang}#16/${MINA[1]}/${MINA[0]}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.mashaerReady === true && window.mashaerConsole && window.mashaerConsole.ready, null, { timeout: 60000 });
  await page.waitForSelector('#console:not([hidden])', { timeout: 10000 });
  await page.waitForFunction(() => window.mashaerConsole.state().live, null, { timeout: 15000 });
  console.log(`     [${lang}] the console is live at ${((Date.now() - START) / 1000).toFixed(1)} s`);
  const want = lang === 'ar' ? 'rtl' : 'ltr';
  for (const [id, word] of Object.entries(L.words.tabs)) {
    const tab = await page.$eval('#console-tab-' + id, (b) => ({ text: b.textContent, dir: getComputedStyle(document.getElementById(b.getAttribute('aria-controls'))).direction }));
    check(tab.text === word && tab.dir === want, L(`tab ${id}: ${JSON.stringify(tab)}`));
  }
  const shot = (name) => { console.log(`     ${name}-${lang}.png at ${((Date.now() - START) / 1000).toFixed(1)} s`); return page.screenshot({ path: path.join(work, `${name}-${lang}.png`) }); };
  if (first) {
    await cleaning(page, L); await shot('cleaning');
    await reports(page, L); await shot('reports');
    await broadcast(page, L); await shot('broadcasts');
    await sites(page, L, true); await shot('sites');
    await tracking(page, L, true); await shot('tracking');
    await bins(page, L); await shot('bins');
  } else {
    // what the Arabic pass did, shown in English
    await page.click('#console-tab-cleaning');
    await waitDom(page, (id) => document.querySelector(`#ct-list li[data-fid="${id}"]`), day.task, 'the task');
    await page.click(`#ct-list li[data-fid="${day.task}"] button`);
    await waitDom(page, () => window.mashaerCleaning.state().swept > 0, null, 'the pieces');
    check((await text(page, `#ct-list li[data-fid="${day.task}"]`)).includes('In progress') && (await text(page, '#ct-pieces')).startsWith('Swept pieces'),
      L('the task: ' + await text(page, `#ct-list li[data-fid="${day.task}"]`)));
    await dueShown(page, L);
    await shot('cleaning');
    await page.click('#console-tab-reports');
    await waitDom(page, (id) => document.querySelector(`#rp-list li[data-fid="${id}"]`), day.report, 'the report');
    await page.click(`#rp-list li[data-fid="${day.report}"] button`);
    await waitDom(page, () => { const i = document.querySelector('#rp-photos img'); return i && i.complete && i.naturalWidth > 0; }, null, 'the thumbnail');
    check((await text(page, '#rp-detail .rp-linked')).includes('became incident INC-REP-' + day.report) &&
      (await text(page, '#rp-detail')).includes('Lost person'), L('the report: ' + await text(page, '#rp-detail h4')));
    await shot('reports');
    await page.click('#console-tab-broadcasts');
    await waitDom(page, (id) => document.querySelector(`#bc-list li[data-id="${id}"]`), day.bc, 'the broadcast');
    check((await text(page, `#bc-list li[data-id="${day.bc}"]`)).includes('Keep away from the Mina gate'), L('the broadcast in English'));
    await shot('broadcasts');
    await sites(page, L, false); await shot('sites');
    await tracking(page, L, false); await shot('tracking');
    await bins(page, L); await shot('bins');
    await viewerTimes(page, L, kpiAsked);
  }
  checkPageClean(check, L, watched, refused);
  await ctx.close();
}

const START = Date.now();
await withChromium(require, server, check, async (browser) => {
  await simulate();
  check((await getJson('/health', OPS)).json.live.people >= 600, 'the simulated crowd is on the server');
  // a forecast of the simulated crowd before any page opens (the server's barrier: answered once the refresh is
  // made): before the first one the console's forecast panel is answered 503 "not ready yet", seconds under ASan
  check((await fetch(base + '/forecast/refresh', { method: 'POST', headers: auth(ADMIN) })).status === 200, 'a forecast made');
  day.bins = (await getJson('/ogc/collections/bins/items?limit=5000')).json.features;
  check(day.bins.length > 1000 && day.bins.some((f) => f.properties.overflowing), `the simulated bins: ${day.bins.length}, some overflowing`);
  // the lost person's trail (six fixes 30 m apart) and their group, one member 600 m away
  const t0 = (await clock(0)).now_ms;
  const trail = Array.from({ length: 6 }, (_, i) => ({ id: LOST.id, group: LOST.group, lon: east(39.8700, 21.4200, 30 * i), lat: 21.4200,
    time: new Date(t0 - (5 - i) * 20000).toISOString() }));
  for (const rec of trail) check((await feed('positions', [rec])).status === 200, 'a trail fix posted');
  const members = [1, 2, 3].map((i) => ({ id: `${LOST.id}-m${i}`, group: LOST.group, lon: east(39.8700, 21.4200, 150), lat: 21.4200 + i * 2e-5,
    time: new Date(t0).toISOString() }));
  members.push({ id: LOST.id + '-far', group: LOST.group, lon: east(39.8700, 21.4200, 750), lat: 21.4200, time: new Date(t0).toISOString() });
  check((await feed('positions', members)).status === 200, 'the group posted');
  // a cleaning task due 30 minutes after the server's clock
  const soon = await post('/ogc/collections/cleaning_tasks/items', OPS, { type: 'Feature', properties: { route: 2, crew: 'CL-SOON',
    due: new Date((await serverNow()) + 30 * 60000).toISOString() } }, 'application/geo+json');
  day.soon = { id: soon.json && soon.json.id };
  day.soon.due = Date.parse((await getJson('/ogc/collections/cleaning_tasks/items/' + day.soon.id)).json.properties.due);
  check(soon.status === 201 && day.soon.due > 0, `task ${day.soon.id} due in 30 minutes posted: ${soon.status}`);
  console.log(`     the simulated day played by ${((Date.now() - START) / 1000).toFixed(1)} s`);
  await runLanguage(browser, 'ar', true);
  await runLanguage(browser, 'en', false);
});
finish();
