// test_console_panels.mjs: the console's forecast and broadcasts panels (web/console_forecast.js,
// web/console_broadcasts.js) in headless Chromium against the real server, Arabic first (right to
// left), then English.
//
// Forecast: a packed crowd in zone MINA-04 posted once the console's event stream is open, then a
// forecast made (POST /forecast/refresh, the server's barrier): the panel lists the `forecast`
// warning the stream brings (level F, with the horizon); the time slider moved from the keyboard
// (End, then Arrow Down: 30 then 20 minutes, in either direction) makes the map ask for
// /tiles/forecast/...mvt?minutes=20 and the panel list the zones exactly as /forecast/zones?minutes=20
// answers them (zone, level, when), most crowded first.
// Broadcasts: a message without Arabic is refused in the page before anything is sent; a camp the
// server does not know is the server's 404, told in the page's language; a broadcast to a zone chosen
// from the list (Arabic and English text, danger, two hours) reaches GET /broadcasts with the body
// typed (checked on the request and on the server), is listed and drawn on the map; one to an area
// drawn with three clicks on the map carries that polygon; both withdrawn after a confirmation
// (DELETE), leaving none. The panes are right to left in Arabic (dir and computed direction) and
// left to right in English; screenshots of each are saved in the work folder.
// Bins: a bin last heard 45 minutes before the server's clock is listed as silent for the time the
// server's clock says (the Mashaer-Time of the page the panel read), not the machine's: the page's
// clock is set 3 hours ahead first, then an overflowing bin posted (its `overflow` event reloads the
// panel); the panel's `now` lies between two reads of the server's clock around that reload, and the
// minutes shown between the ages those two reads give. Clicked on the map, the bin's popup says the
// same (web/app.js, by web/clock.js's offset, which the panel's reload set after the page's clock moved).
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { addToken, checker, importDemo, launchChromium, options, startServer, watchPage } from './harness.mjs';

const { mashaer, src, work, require } = options();
const { check, finish } = checker();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'panels.sqlite');
importDemo(mashaer, src, db);
const [OPS, FEED, ADMIN] = [['ops', 'alice'], ['feed', 'sensors'], ['admin', 'root']].map(([r, n]) => addToken(mashaer, db, r, n));
const { server, base } = await startServer(mashaer, db, ['--test-clock', '--forecast-every', '3600']);

const auth = (tok) => ({ Authorization: 'Bearer ' + tok });
async function getJson(p, tok) {
  const r = await fetch(base + p, { headers: tok ? auth(tok) : {} });
  const json = await r.json().catch(() => null);
  // a refusal or a server error says so in the test's output (the caller's check then fails on it)
  if (r.status >= 429) console.error(`GET ${p}: ${r.status} ${JSON.stringify(json)}`);
  return { status: r.status, json };
}
async function positions(records) {
  const r = await fetch(base + '/feeds/positions', { method: 'POST', headers: { ...auth(FEED), 'Content-Type': 'application/x-ndjson' },
    body: records.map((x) => JSON.stringify(x)).join('\n') + '\n' });
  return r.status;
}
async function feedPost(name, records) {
  const r = await fetch(base + '/feeds/' + name, { method: 'POST', headers: { ...auth(FEED), 'Content-Type': 'application/x-ndjson' },
    body: records.map((x) => JSON.stringify(x)).join('\n') + '\n' });
  return r.status;
}
const serverNow = async () => (await (await fetch(base + '/test/clock?advance_s=0', { method: 'POST', headers: auth(ADMIN) })).json()).now_ms;
async function refresh() {
  const r = await fetch(base + '/forecast/refresh', { method: 'POST', headers: auth(ADMIN) });
  return r.status;
}
// people standing in a square of `side` metres around lon/lat
function crowd(prefix, n, lon, lat, side) {
  const per = Math.ceil(Math.sqrt(n)), m = 1 / 111320, now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, lon: lon + ((i % per) / per - 0.5) * side * m / Math.cos(lat * Math.PI / 180),
    lat: lat + (Math.floor(i / per) / per - 0.5) * side * m, time: now, speed: 0 }));
}

const MINA = [39.88955, 21.43195]; // in zone MINA-04 (camp M-0001)
const WORDS = {
  ar: { needAr: 'اكتب الرسالة بالعربية أولًا', noCamp: 'لا يوجد مخيم M-9999', level: 'المستوى', sent: 'أُرسل البثّ', withdrawn: 'سُحب البثّ',
    silent: 'متوقفة منذ', min: 'دقيقة' },
  en: { needAr: 'Write the message in Arabic first', noCamp: 'There is no camp M-9999', level: 'Level', sent: 'Broadcast', withdrawn: 'withdrawn',
    silent: 'silent for', min: 'min' },
};

const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');

// A click on the map canvas at a point of the viewport (checked to be the map, not a panel over it).
async function clickMap(page, x, y) {
  const under = await page.evaluate((p) => document.elementFromPoint(p.x, p.y).className, { x, y });
  if (under !== 'maplibregl-canvas') throw new Error(`(${x}, ${y}) is on ${under}, not the map`);
  await page.mouse.click(x, y);
}

async function runLanguage(browser, lang, first) {
  const W = WORDS[lang];
  const L = (what) => `[${lang}] ${what}`;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang === 'ar' ? 'ar-SA' : 'en-GB' });
  await ctx.addInitScript((tok) => sessionStorage.setItem('mashaer.token', tok), OPS);
  const page = await ctx.newPage();
  const { errors, external } = watchPage(page, base);
  const refused = [];
  page.on('response', (r) => { if (r.status() >= 400) refused.push(r.status() + ' ' + r.request().method() + ' ' + new URL(r.url()).pathname); });
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/broadcasts') posts.push(r.postData()); });
  await page.goto(`${base}/?lang=${lang}#16/${MINA[1]}/${MINA[0]}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.mashaerReady === true && window.mashaerConsole && window.mashaerConsole.ready, null, { timeout: 60000 });
  await page.waitForSelector('#console:not([hidden])', { timeout: 10000 });
  await page.waitForFunction(() => window.mashaerConsole.state().live, null, { timeout: 15000 });

  // ---- forecast
  await page.click('#console-tab-forecast');
  const pane = await page.$eval('#console-pane-forecast', (p) => ({ dir: p.dir, css: getComputedStyle(p).direction,
    slider: getComputedStyle(document.getElementById('fc-slider')).direction, shown: !p.hidden }));
  const want = lang === 'ar' ? 'rtl' : 'ltr';
  check(pane.shown && pane.dir === want && pane.css === want && pane.slider === want, L(`forecast pane ${JSON.stringify(pane)}`));
  if (first) {
    // the crowd comes once the stream is open: its warning reaches the panel
    check(await positions(crowd('P', 300, MINA[0], MINA[1], 4)) === 200 && await refresh() === 200, L('a packed crowd posted, a forecast made'));
    await page.waitForSelector('#fc-warnings li.fc-warning[data-level="F"]', { timeout: 15000 }).catch(() => {});
    const warn = await text(page, '#fc-warnings li.fc-warning[data-level="F"]');
    check(warn.includes('F') && /\d/.test(warn), L('the forecast warning listed: ' + warn));
  }
  const tilesAt = (m) => page.waitForRequest((r) => /\/tiles\/forecast\/\d+\/\d+\/\d+\.mvt\?minutes=(\d+)$/.test(r.url()) &&
    r.url().endsWith('minutes=' + m), { timeout: 20000 }).then(() => true, () => false);
  await page.focus('#fc-slider');
  const asked30 = tilesAt(30);
  await page.keyboard.press('End');
  check(await asked30, L('End: the map asks for the 30-minute forecast tiles'));
  const asked20 = tilesAt(20);
  await page.keyboard.press('ArrowDown');
  check(await asked20, L('Arrow Down: the map asks for the 20-minute forecast tiles'));
  const zones = (await getJson('/forecast/zones?minutes=20')).json.zones.slice().sort((a, b) => b.peak_density - a.peak_density);
  await page.waitForFunction((n) => window.mashaerForecast.state().minutes === 20 &&
    document.querySelectorAll('#fc-zones li[data-zone]').length === n, zones.length, { timeout: 10000 }).catch(() => {});
  const listed = await page.$$eval('#fc-zones li[data-zone]', (ls) => ls.map((l) => [l.dataset.zone, l.dataset.los, Number(l.dataset.minutes)]));
  check(zones.length >= 1 && zones.some((z) => z.zone === 'MINA-04' && z.los === 'F') &&
    JSON.stringify(listed) === JSON.stringify(zones.map((z) => [z.zone, z.los, z.peak_minutes])),
    L(`the zones at 20 minutes as the server lists them: ${JSON.stringify(listed)}`));
  const row = await text(page, '#fc-zones li[data-zone="MINA-04"]');
  check(row.includes(W.level) && row.includes('MINA-04') && (lang !== 'ar' || /[\u0600-\u06FF]/.test(row)), L('the zone row: ' + row));
  check(await page.$eval('#fc-minutes', (o) => o.textContent) !== '' && (await page.evaluate(() => window.mashaerForecast.state().layer)),
    L('the slider names the time, the layer is on the map'));
  await page.screenshot({ path: path.join(work, `forecast-${lang}.png`) });

  // ---- broadcasts
  await page.click('#console-tab-broadcasts');
  const bpane = await page.$eval('#console-pane-broadcasts', (p) => ({ dir: p.dir, css: getComputedStyle(p).direction,
    ar: getComputedStyle(document.getElementById('bc-msg-ar')).direction, en: getComputedStyle(document.getElementById('bc-msg-en')).direction }));
  check(bpane.dir === want && bpane.css === want && bpane.ar === 'rtl' && bpane.en === 'ltr', L(`broadcasts pane ${JSON.stringify(bpane)}`));
  await page.waitForFunction(() => document.querySelectorAll('#bc-zone option[value="MINA-04"]').length === 1, null, { timeout: 10000 }).catch(() => {});
  // no Arabic: refused in the page, nothing sent
  await page.fill('#bc-msg-en', 'Please move on');
  await page.click('#bc-form button[type="submit"]');
  check((await text(page, '#console-msg')).includes(W.needAr) && posts.length === 0, L('no Arabic: ' + (await text(page, '#console-msg'))));
  // an unknown camp: the server's 404 in the page's words
  await page.check('input[name="bc-target"][value="camp"]');
  await page.fill('#bc-camp', 'M-9999');
  await page.fill('#bc-msg-ar', 'يرجى التحرك');
  const camp = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/broadcasts'), { timeout: 10000 });
  await page.click('#bc-form button[type="submit"]');
  const campRes = await camp;
  await page.waitForFunction((w) => document.getElementById('console-msg').textContent.includes(w), W.noCamp, { timeout: 5000 }).catch(() => {});
  check(campRes.status() === 404 && (await text(page, '#console-msg')).includes(W.noCamp), L(`unknown camp: ${campRes.status()} ${await text(page, '#console-msg')}`));
  // to a zone from the list
  await page.check('input[name="bc-target"][value="zone"]');
  await page.selectOption('#bc-zone', 'MINA-04');
  const arText = 'الرجاء عدم التوجه إلى الجمرات الآن', enText = 'Do not walk to the Jamarat now';
  await page.fill('#bc-msg-ar', arText);
  await page.fill('#bc-msg-en', enText);
  await page.selectOption('#bc-severity', 'danger');
  await page.selectOption('#bc-expiry', '120');
  const made = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/broadcasts'), { timeout: 10000 });
  const sentAt = Date.now();
  await page.click('#bc-form button[type="submit"]');
  const res = await made;
  const created = await res.json();
  const body = JSON.parse(posts[posts.length - 1]);
  check(res.status() === 201 && JSON.stringify(body.target) === '{"zone":"MINA-04"}' && body.message.ar === arText &&
    body.message.en === enText && Object.keys(body.message).length === 2 && body.severity === 'danger' &&
    Math.abs(Date.parse(body.expires) - sentAt - 7200000) < 60000, L('the body sent: ' + JSON.stringify(body)));
  let active = (await getJson('/broadcasts', OPS)).json.features;
  let mine = active.find((f) => f.id === created.id);
  check(mine && mine.properties.target.zone === 'MINA-04' && mine.properties.message.ar === arText && mine.properties.message.en === enText &&
    mine.properties.severity === 'danger' && mine.properties.author.name === 'alice', L('GET /broadcasts has it: ' + (mine && mine.id)));
  await page.waitForSelector(`#bc-list li[data-id="${created.id}"]`, { timeout: 10000 }).catch(() => {});
  const item = await text(page, `#bc-list li[data-id="${created.id}"]`);
  check(item.includes(lang === 'ar' ? arText : enText) && item.includes('MINA-04') && (await text(page, '#console-msg')).includes(W.sent),
    L('listed: ' + item));
  const drawn = await page.evaluate(async () => (await window.map.getSource('console-broadcasts').getData()).features.length);
  check(drawn === 1, L('its area drawn on the map: ' + drawn));
  // to an area drawn on the map
  await page.check('input[name="bc-target"][value="geometry"]');
  await page.click('#bc-draw');
  for (const [dx, dy] of [[-60, -40], [60, -40], [0, 60]]) await clickMap(page, 640 + dx, 420 + dy);
  await page.click('#bc-draw');
  check((await page.evaluate(() => window.mashaerBroadcasts.state())).corners === 3, L('three corners drawn'));
  await page.fill('#bc-msg-ar', arText);
  const made2 = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/broadcasts'), { timeout: 10000 });
  await page.click('#bc-form button[type="submit"]');
  const res2 = await made2;
  const body2 = JSON.parse(posts[posts.length - 1]);
  const ring = body2.target.geometry && body2.target.geometry.coordinates[0];
  const id2 = (await res2.json()).id;
  active = (await getJson('/broadcasts', OPS)).json.features;
  mine = active.find((f) => f.id === id2);
  check(res2.status() === 201 && ring.length === 4 && JSON.stringify(ring[0]) === JSON.stringify(ring[3]) &&
    mine && mine.properties.target.geometry === true && mine.geometry.type === 'Polygon' && body2.severity === 'danger',
    L('a drawn area sent and kept: ' + JSON.stringify(ring)));
  await page.screenshot({ path: path.join(work, `broadcasts-${lang}.png`) });
  // both withdrawn
  for (const id of [created.id, id2]) {
    await page.waitForSelector(`#bc-list li[data-id="${id}"] .bc-withdraw`, { timeout: 10000 });
    await page.click(`#bc-list li[data-id="${id}"] .bc-withdraw`);
    await page.waitForSelector('#console-confirm[open]', { timeout: 5000 });
    const del = page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: 10000 });
    await page.click('#console-confirm-yes');
    check((await del).status() === 200, L('withdrawn: ' + id));
    await page.waitForSelector(`#bc-list li[data-id="${id}"]`, { state: 'detached', timeout: 10000 }).catch(() => {});
  }
  active = (await getJson('/broadcasts', OPS)).json.features;
  check(active.length === 0 && (await page.$$('#bc-list li[data-id]')).length === 0 && (await text(page, '#console-msg')).includes(W.withdrawn),
    L('none left: ' + active.length));

  // ---- bins: a silent bin's age from the server's clock, with this machine's clock 3 hours ahead
  await page.click('#console-tab-bins');
  await page.evaluate(() => { const real = Date.now; Date.now = () => real() + 3 * 3600000; });
  const before = await serverNow(), over = 'BIN-OVER-' + lang;
  check(await feedPost('bins', [{ id: over, lon: MINA[0], lat: MINA[1], fill_level: 0.95, time: new Date(before).toISOString() }]) === 200,
    L('an overflowing bin posted'));
  await page.waitForSelector(`#bins-over li[data-id="${over}"]`, { timeout: 15000 }).catch(() => {});
  const shownNow = (await page.evaluate(() => window.mashaerBins.state())).now;
  const age = await text(page, `#bins-stale li[data-id="${SILENT.id}"] .bin-age`);
  const after = await serverNow();
  const digits = Number(age.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660)).replace(/\D/g, ''));
  const [lo, hi] = [before, after].map((t) => Math.round((t - SILENT.at) / 60000));
  check(shownNow >= before && shownNow <= after, L(`the panel's now is the server's clock: ${shownNow} in [${before}, ${after}]`));
  check(age.includes(W.silent) && age.includes(W.min) && digits >= lo && digits <= hi,
    L(`silent for the server's ${lo}-${hi} min: '${age}'`));
  // its popup on the map (web/app.js) says the same, by the server's clock too
  await page.evaluate((c) => window.map.jumpTo({ center: c }), SILENT.lonLat); // the bin in the middle, at the same zoom (no new tiles)
  await page.waitForFunction((id) => !window.map.isMoving() && window.map.queryRenderedFeatures({ layers: ['bins'] })
    .some((f) => f.properties.id === id), SILENT.id, { timeout: 15000 }).catch(() => {});
  const at = await page.evaluate((c) => { const p = window.map.project(c), r = window.map.getCanvas().getBoundingClientRect();
    return { x: Math.round(r.left + p.x), y: Math.round(r.top + p.y) }; }, SILENT.lonLat);
  const popBefore = await serverNow();
  await clickMap(page, at.x, at.y);
  await page.waitForSelector('.maplibregl-popup .popup-stale td', { timeout: 10000 }).catch(() => {});
  const pop = await text(page, '.maplibregl-popup .popup-stale td');
  const popDigits = Number(pop.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660)).replace(/\D/g, ''));
  const [plo, phi] = [popBefore, await serverNow()].map((t) => Math.round((t - SILENT.at) / 60000));
  check(pop.includes(W.min) && popDigits >= plo && popDigits <= phi, L(`its popup: no reading for the server's ${plo}-${phi} min: '${pop}'`));
  await page.screenshot({ path: path.join(work, `bins-${lang}.png`) });

  check(external.length === 0, L('no request left the server: ' + external.slice(0, 3).join(' ')));
  const unexpected = refused.filter((x) => x !== '404 POST /broadcasts');
  check(unexpected.length === 0, L('no other refusal: ' + unexpected.join(' | ')));
  const real = errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
  check(real.length === 0, L('no console errors: ' + real.slice(0, 3).join(' | ')));
  await ctx.close();
}

// a bin last heard 45 minutes before the server's clock (stale at --bin-stale-min 30)
const SILENT = { id: 'BIN-SILENT-1', at: 0, lonLat: [MINA[0] + 0.001, MINA[1]] };

let browser;
try {
  // a first forecast before any page opens (a few people elsewhere), so the panel never waits for one
  check(await positions(crowd('Q', 20, 39.8700, 21.4200, 30)) === 200 && await refresh() === 200, 'a first forecast');
  SILENT.at = await serverNow() - 45 * 60000;
  check(await feedPost('bins', [{ id: SILENT.id, lon: SILENT.lonLat[0], lat: SILENT.lonLat[1], fill_level: 0.3,
    time: new Date(SILENT.at).toISOString() }]) === 200 && (await serverNow()) > SILENT.at, 'a silent bin posted');
  const silent = (await getJson('/ogc/collections/bins/items?limit=100')).json.features.find((f) => f.properties.id === SILENT.id);
  check(silent && silent.properties.stale === true, 'the silent bin is stale: ' + JSON.stringify(silent && silent.properties));
  browser = await launchChromium(require);
  await runLanguage(browser, 'ar', true);
  await runLanguage(browser, 'en', false);
} catch (e) {
  check(false, e.stack);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
