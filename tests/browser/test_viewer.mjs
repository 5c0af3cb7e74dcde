// test_viewer.mjs: the operations viewer in headless Chromium (Debian's chromium, driven by
// playwright-core) against the real server on a real port with the demo site in a real store.
// Checks: the map becomes idle, camps are rendered (queryRenderedFeatures), the served style passes
// the official validator, a layer toggle hides its features, a click shows a feature's attributes,
// no console errors; live layers: people and incidents posted to /feeds render as density cells
// and in the incidents panel, a later incident appears without a page reload (the live source
// refreshes itself, unchanged tiles come back 304); Arabic and English labels placed from the
// server's SDF glyphs (the RTL text plugin, served locally, shapes Arabic to presentation forms,
// whose glyph ranges the server answers) and asset icons from its sprite; the KPI panel shows what
// /kpi reports, draws its chart, drills down into a zone and colours kpi_zones; saves screenshots in
// the work folder.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { checker, demoServer, launchChromium, options, watchPage } from './harness.mjs';

const opts = options();
const { work, require } = opts;
const { validateStyleMin } = require('@maplibre/maplibre-gl-style-spec');
const { check, finish } = checker();
const demo = await demoServer(opts, 'demo');
const { server, base } = demo;

async function postFeed(feed, records) {
  const r = await demo.postFeed(feed, records);
  const body = await r.json().catch(() => ({}));
  return { status: r.status, accepted: body.accepted, rejected: body.rejected || [] };
}

async function tileMetrics() {
  const text = await (await fetch(base + '/metrics')).text();
  const get = (code) => Number((text.match(new RegExp(`mashaer_http_requests_total\\{endpoint="tile",code="${code}"\\} (\\d+)`)) || [])[1] || 0);
  return { ok: get(200), empty: get(204), notModified: get(304) };
}

// Deterministic scatter (no Math.random: the same cells every run).
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const now = new Date().toISOString();
// ~300 people in Mina packed into a few spots (a few 9 m base cells each, well over k=5)
const people = [];
for (const [lon, lat, n, r] of [[39.8925, 21.4131, 170, 0.00003], [39.8950, 21.4146, 90, 0.00004], [39.8900, 21.4112, 40, 0.00006]]) {
  for (let i = 0; i < n; i++) {
    people.push({ id: 'P-' + String(people.length + 1).padStart(6, '0'), lon: lon + (rnd() * 2 - 1) * r, lat: lat + (rnd() * 2 - 1) * r,
      time: now, speed: 0.3 + rnd() * 0.8, heading: Math.floor(rnd() * 360) });
  }
}
const incidents = [
  { id: 'INC-T1', kind: 'medical', severity: 'high', status: 'reported', description: 'Pilgrim collapsed, heat', lon: 39.8912, lat: 21.4141, time: now },
  { id: 'INC-T2', kind: 'lost_person', severity: 'low', status: 'resolved', lon: 39.8965, lat: 21.4122, time: now },
];
const crews = [
  { id: 'CR-01', kind: 'cleaning', status: 'on_route', name: 'Cleaning team 1', lon: 39.8940, lat: 21.4160, time: now },
  { id: 'CR-02', kind: 'emergency', status: 'dispatched', name: 'Ambulance 7', lon: 39.8920, lat: 21.4150, time: now },
];
// Gate readings are counts since the previous reading; capacity is persons per hour, so two
// readings a minute apart give a flow: G-T1 4,800/h of 3,000/h (over capacity), G-T2 900/h of 3,000/h.
const minuteAgo = new Date(Date.now() - 60000).toISOString();
const gates = [
  { id: 'G-T1', in: 10, capacity: 3000, lon: 39.8880, lat: 21.4170, time: minuteAgo },
  { id: 'G-T1', in: 60, out: 20, lon: 39.8880, lat: 21.4170, time: now },
  { id: 'G-T2', in: 5, capacity: 3000, lon: 39.8990, lat: 21.4100, time: minuteAgo },
  { id: 'G-T2', in: 15, lon: 39.8990, lat: 21.4100, time: now },
];
const sensors = [
  { id: 'S-T1', temperature: 46.5, relativeHumidity: 0.2, lon: 39.8950, lat: 21.4180, time: now },
  { id: 'S-T2', temperature: 41.2, relativeHumidity: 0.25, lon: 39.8870, lat: 21.4100, time: now },
  { id: 'S-T3', temperature: 37.0, relativeHumidity: 0.3, lon: 39.9000, lat: 21.4150, time: now },
];

let browser;
try {
  // Live data first: the page opens on a map with people and incidents.
  for (const [feed, recs] of [['positions', people], ['incidents', incidents], ['crews', crews], ['gates', gates], ['sensors', sensors]]) {
    const res = await postFeed(feed, recs);
    check(res.status === 200 && res.accepted === recs.length && res.rejected.length === 0,
      `POST /feeds/${feed}: ${res.accepted} of ${recs.length} accepted ${JSON.stringify(res.rejected.slice(0, 2))}`);
  }

  // The style as served validates against the official style specification.
  const style = await (await fetch(base + '/styles/operations.json')).json();
  const errors = validateStyleMin(style);
  check(errors.length === 0, 'served style passes the MapLibre style validator ' + JSON.stringify(errors.slice(0, 3)));
  check(style.sources.mashaer.url.startsWith(base + '/tiles/'), 'style source points back at this server');
  check(style.sources.live && style.sources.live.url === base + '/tiles/movement,flow,incidents,crews,gates,sensors,bins.json',
    'style has the live source');
  check(!style.layers.some((l) => l['source-layer'] === 'positions') && !JSON.stringify(style.sources).includes('positions'),
    'public style does not use the ops-only positions layer');

  browser = await launchChromium(require);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const { errors: consoleErrors, external } = watchPage(page, base);
  const glyphAnswers = []; // [{stack, start, status}] of every /fonts/ request
  const spriteAnswers = [];
  page.on('response', (r) => {
    const m = r.url().match(/\/fonts\/([^/]+)\/(\d+)-(\d+)\.pbf$/);
    if (m) glyphAnswers.push({ stack: decodeURIComponent(m[1]), start: Number(m[2]), status: r.status() });
    if (/\/sprites\//.test(r.url())) spriteAnswers.push({ url: r.url(), status: r.status() });
  });

  await page.goto(base + '/#14/21.4133/39.8933', { waitUntil: 'load' }); // Mina
  await page.waitForFunction(() => window.mashaerReady === true, null, { timeout: 60000 });
  await page.waitForFunction(() => window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 60000 });

  const camps = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['camps-fill'] })
    .map((f) => ({ id: f.properties.camp_id, cap: f.properties.capacity, ar: f.properties.name_ar })));
  check(camps.length > 10, `camps rendered in Mina at z14: ${camps.length} features`);
  check(camps.every((c) => /^M-\d{4}$/.test(c.id) && Number.isInteger(c.cap) && c.cap > 0),
    'rendered camps carry camp_id and an integer capacity');
  check(camps.some((c) => /[\u0600-\u06FF]/.test(c.ar || '')), 'Arabic names arrive in the rendered features');

  // ---- labels: placed symbols (queryRenderedFeatures returns only labels that were placed)
  check(await page.evaluate(() => maplibregl.getRTLTextPluginStatus()) === 'loaded',
    'RTL text plugin loaded from /vendor/@mapbox/mapbox-gl-rtl-text');
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['sites-label', 'service-zones-label'] }).length > 0,
    null, { timeout: 20000 }).catch(() => {});
  const labels = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['sites-label', 'service-zones-label'] })
    .map((f) => ({ layer: f.layer.id, ar: f.properties.name_ar, en: f.properties.name })));
  const arabicLabels = labels.filter((l) => /[\u0600-\u06FF]/.test(l.ar || '') && /[A-Za-z]/.test(l.en || ''));
  check(arabicLabels.length > 0 && arabicLabels.some((l) => l.layer === 'sites-label'),
    `Arabic + English labels placed at z14: ${arabicLabels.length} (${[...new Set(arabicLabels.map((l) => l.ar))].slice(0, 3).join(' | ')})`);
  const arabicGlyphs = glyphAnswers.filter((g) => g.start >= 1536 && g.start <= 1791 || g.start >= 64256 && g.start <= 65024);
  check(arabicGlyphs.length > 0 && arabicGlyphs.every((g) => g.status === 200),
    'glyph ranges for Arabic answered 200 by Mashaer: ' + arabicGlyphs.map((g) => g.start + ':' + g.status).join(' '));
  // shaped text asks for the presentation forms (U+FE70-FEFF), unshaped text would only ask for U+0600-06FF
  check(glyphAnswers.some((g) => g.start === 65024 && g.status === 200 && g.stack.includes('Noto Sans Arabic')),
    'Arabic shaped by the plugin: presentation forms range 65024-65279 fetched from the Arabic stack');
  check(glyphAnswers.length > 0 && glyphAnswers.every((g) => g.status === 200), `every glyph request answered 200 (${glyphAnswers.length})`);

  const layerCount = await page.evaluate(() => document.querySelectorAll('#layer-list input[type=checkbox]').length);
  const catalogCount = (await (await fetch(base + '/catalog')).json()).layers.length;
  check(layerCount === catalogCount && layerCount >= 6, `layer list has a toggle per layer: ${layerCount} of ${catalogCount}`);

  // A click on a camp opens a popup with its attributes.
  const pt = await page.evaluate(() => {
    const f = window.map.queryRenderedFeatures({ layers: ['camps-fill'] })[0];
    const c = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
    const lon = (Math.min(...c.map((p) => p[0])) + Math.max(...c.map((p) => p[0]))) / 2;
    const lat = (Math.min(...c.map((p) => p[1])) + Math.max(...c.map((p) => p[1]))) / 2;
    const p = window.map.project([lon, lat]);
    return { x: p.x, y: p.y, id: f.properties.camp_id };
  });
  await page.mouse.click(pt.x, pt.y);
  await page.waitForSelector('.maplibregl-popup', { timeout: 10000 });
  const popup = await page.textContent('.maplibregl-popup');
  check(popup.includes('camp_id') || popup.includes(pt.id), `popup shows the clicked camp's attributes (${pt.id})`);

  // Toggling the camps layer off hides its features.
  await page.click('#layer-toggle-camps');
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['camps-fill'] }).length === 0, null, { timeout: 10000 })
    .then(() => check(true, 'camps toggle hides the camps'), () => check(false, 'camps toggle hides the camps'));
  await page.click('#layer-toggle-camps');
  await page.waitForFunction(() => window.map.areTilesLoaded(), null, { timeout: 30000 });

  // ---- live layers
  await page.evaluate(() => { window.__sameDocument = true; }); // gone if the page reloads
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] }).length > 0, null, { timeout: 20000 })
    .catch(() => {});
  const cells = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['movement-fill'] })
    .map((f) => ({ los: f.properties.los, count: f.properties.count, density: f.properties.density })));
  check(cells.length > 0, `movement cells rendered: ${cells.length} (los ${[...new Set(cells.map((c) => c.los))].sort().join('')})`);
  check(cells.length > 0 && cells.every((c) => /^[A-F]$/.test(c.los) && c.count >= 5 && c.density > 0),
    'rendered cells carry a Fruin los A-F, count >= 5 and a density');
  const total = cells.reduce((a, c) => a + c.count, 0); // cells may be drawn twice across tile edges
  check(total >= 250, `rendered cells hold the posted people (${total} counted)`);

  const gateUse = await page.evaluate(() => Object.fromEntries(window.map.queryRenderedFeatures({ layers: ['gates-flow'] })
    .map((f) => [f.properties.id, f.properties.utilisation])));
  check(gateUse['G-T1'] > 1 && gateUse['G-T2'] < 1, 'gates drawn with their utilisation: ' + JSON.stringify(gateUse));

  const drawn = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['incidents'] }).map((f) => f.properties.id));
  check(drawn.includes('INC-T1') && !drawn.includes('INC-T2'), `open incident drawn, resolved one not: ${[...new Set(drawn)]}`);

  await page.waitForSelector('#incident-list li.incident[data-id="INC-T1"]', { timeout: 10000 }).catch(() => {});
  const listed = await page.$$eval('#incident-list li.incident', (els) => els.map((e) => ({
    id: e.dataset.id, text: e.textContent })));
  check(listed.some((i) => i.id === 'INC-T1' && /Medical/.test(i.text) && /High/.test(i.text) && /Reported/.test(i.text)),
    'incidents panel lists the open incident with kind, severity and status: ' + JSON.stringify(listed.map((i) => i.text)));
  check(!listed.some((i) => i.id === 'INC-T2'), 'incidents panel leaves out the resolved incident');

  const liveRows = await page.$$eval('#layer-list li.layer-item', (els) => els.map((e) => ({
    id: e.dataset.layer, live: !!e.querySelector('.live-badge'), enabled: !!e.querySelector('input:not([disabled])'),
    text: e.textContent })));
  const liveIds = ['movement', 'incidents', 'crews', 'gates', 'sensors'];
  check(liveIds.every((id) => liveRows.some((r) => r.id === id && r.live && r.enabled)),
    'layer list shows the live layers with a LIVE badge and a toggle');
  const pos = liveRows.find((r) => r.id === 'positions');
  check(!pos || (!pos.enabled && /ops only/i.test(pos.text)), 'positions is marked ops only (no toggle)');
  const los = await page.$$eval('#los-legend:not([hidden]) .los-list li', (els) => els.map((e) => e.textContent));
  check(los.length === 6 && /2\.15/.test(los[5]) && /0\.31/.test(los[0]), 'LoS key with the Fruin thresholds: ' + los.join(' | '));

  // Refresh: unchanged live tiles are revalidated (304), not fetched again.
  // a barrier on the server's counter, not a fixed wait: on as soon as a 304 is counted; the bound is
  // the 4.5 s (two refresh periods and a margin) the check always allowed
  const m0 = await tileMetrics();
  let m1 = m0;
  for (const end = Date.now() + 4500; m1.notModified <= m0.notModified && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 100));
    m1 = await tileMetrics();
  }
  check(m1.notModified > m0.notModified, `live tiles revalidated every 2 s: ${m1.notModified - m0.notModified} answered 304, ${m1.ok - m0.ok} 200, ${m1.empty - m0.empty} 204`);

  // A crush forms: the server's density alert (Server-Sent Events) reaches the alerts panel.
  const crush = [];
  for (let i = 0; i < 700; i++) crush.push({ id: 'CR-' + i, lon: 39.9000 + (i % 30) * 0.000004, lat: 21.4150 + Math.floor(i / 30) * 0.000004,
    time: new Date().toISOString() });
  const resCrush = await postFeed('positions', crush);
  check(resCrush.accepted === 700, 'POST a crush of 700 people in about 12 m x 10 m');
  // other alerts (crowd pressure of the people posted before) may come first: wait for the LoS one
  const alerted = await page.waitForFunction(() => [...document.querySelectorAll('#alert-list li.alert-item')]
    .some((li) => /LoS [EF]/.test(li.textContent)), null, { timeout: 20000 }).then(() => true, () => false);
  const alertText = alerted ? await page.textContent('#alert-list') : '';
  check(alerted && /LoS [EF]/.test(alertText), 'density alert shown live in the alerts panel: ' + alertText.slice(0, 120));

  // A new incident elsewhere in view reaches the panel without a page reload.
  const inc3 = { id: 'INC-T3', kind: 'crowding', severity: 'critical', status: 'reported', description: 'Crush risk at bridge exit',
    lon: 39.9065, lat: 21.4190, time: new Date().toISOString() };
  const posted = Date.now();
  const res3 = await postFeed('incidents', [inc3]);
  check(res3.accepted === 1, 'POST a new incident');
  const seen = await page.waitForSelector('#incident-list li.incident[data-id="INC-T3"]', { timeout: 5000 }).then(() => true, () => false);
  check(seen, `new incident in the panel after ${((Date.now() - posted) / 1000).toFixed(1)} s (limit 5 s)`);
  check(await page.evaluate(() => window.__sameDocument === true), 'without a page reload');
  const order = await page.$$eval('#incident-list li.incident', (els) => els.map((e) => e.dataset.id));
  check(order[0] === 'INC-T3' && order.includes('INC-T1'), 'incidents sorted by severity (critical first): ' + order.join(','));
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['incidents'] }).some((f) => f.properties.id === 'INC-T3'),
    null, { timeout: 5000 }).then(() => check(true, 'new incident drawn on the map'), () => check(false, 'new incident drawn on the map'));

  const attribution = await page.textContent('.maplibregl-ctrl-attrib');
  check(/OpenStreetMap contributors/.test(attribution), 'map credits OpenStreetMap contributors');
  check(external.length === 0, 'no request leaves the server (offline): ' + external.slice(0, 3).join(' '));
  check(consoleErrors.length === 0, 'no console errors: ' + consoleErrors.slice(0, 3).join(' | '));

  if (await page.$('.maplibregl-popup-close-button')) await page.click('.maplibregl-popup-close-button');
  await page.waitForFunction(() => window.map.areTilesLoaded(), null, { timeout: 30000 });
  await page.evaluate(() => { document.getElementById('panel-body').scrollTop = 0; });
  const shot = path.join(work, 'viewer.png');
  writeFileSync(shot, await page.screenshot());
  console.log('screenshot: ' + shot);

  // A click on a listed incident flies to it and opens its details.
  await page.click('#incident-list li.incident[data-id="INC-T1"] button');
  await page.waitForSelector('.maplibregl-popup', { timeout: 10000 }).catch(() => {});
  const fly = await page.evaluate(() => ({ zoom: window.map.getZoom(), popup: (document.querySelector('.maplibregl-popup') || {}).textContent || '',
    seen: window.map.queryRenderedFeatures({ layers: ['incidents'] }).some((f) => f.properties.id === 'INC-T1') }));
  check(fly.zoom >= 15.9 && fly.seen && fly.popup.includes('INC-T1'), `click on an incident flies to it (z${fly.zoom.toFixed(1)}) and shows it`);
  await page.click('.maplibregl-popup-close-button').catch(() => {});
  await page.evaluate(() => window.map.jumpTo({ center: [39.8908, 21.4136], zoom: 17 })); // crowd, incident, crews
  await page.waitForFunction(() => window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 30000 });
  const shot2 = path.join(work, 'viewer-live.png');
  writeFileSync(shot2, await page.screenshot());
  console.log('screenshot: ' + shot2);

  // Close up (z17): camp labels and asset icons from the sprite.
  const campLabels = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['camps-label'] })
    .map((f) => ({ ar: f.properties.name_ar, id: f.properties.camp_id })));
  check(campLabels.length > 0 && campLabels.every((c) => /[\u0600-\u06FF]/.test(c.ar) && /^M-\d{4}$/.test(c.id)),
    `camp labels placed at z17 with Arabic name and camp id: ${campLabels.length}`);
  // (no wait for map.loaded(): the live source reloads every 2 s, so under a slow sanitizer build the
  // map may never be idle for long; wait for what is checked instead)
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['assets-icons'] }).length > 0, null,
    { timeout: 30000 }).catch(() => {});
  const icons = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['assets-icons'] }).map((f) => f.properties.kind));
  check(icons.length > 0, `asset icons drawn at z17: ${icons.length} (${[...new Set(icons)].join(', ')})`);
  check(spriteAnswers.length >= 2 && spriteAnswers.every((s) => s.status === 200) &&
    spriteAnswers.some((s) => /operations(@2x)?\.png$/.test(s.url)) && spriteAnswers.some((s) => /operations(@2x)?\.json$/.test(s.url)),
    'sprite JSON and PNG answered 200 by Mashaer: ' + spriteAnswers.map((s) => s.url.replace(base, '') + ':' + s.status).join(' '));
  const shot3 = path.join(work, 'viewer-labels.png');
  writeFileSync(shot3, await page.screenshot());
  console.log('screenshot: ' + shot3);
  // KPI panel (web/kpi.js): the figures it shows are the server's /kpi, the history chart is drawn by uPlot
  // (served from /vendor/uplot), a zone's drill-down (from the list and by a click on the map) is
  // /kpi/zones/{id}, and the kpi_zones layer colours by the indicator picked.
  await page.waitForFunction(() => window.mashaerKpi && window.mashaerKpi.ready, null, { timeout: 30000 });
  await page.evaluate(() => window.mashaerKpi.refresh());
  const kpiServer = await (await fetch(`${base}/kpi`)).json();
  const kpiShown = await page.evaluate(() => window.mashaerKpi.state().shown);
  for (const k of ['crowd.people', 'coverage.toilet_capacity', 'coverage.water_capacity', 'coverage.clinic_capacity',
    'assets.share_working', 'emergency.open']) {
    const [g, n] = k.split('.');
    check(kpiShown['overall.' + k] === String(kpiServer.overall[g][n]),
      `KPI panel shows overall ${k} as /kpi does: ${kpiShown['overall.' + k]} vs ${kpiServer.overall[g][n]}`);
  }
  check(kpiServer.overall.crowd.people > 0 && kpiServer.zones_count > 0, `/kpi counts the people posted (${kpiServer.overall.crowd.people}) in ${kpiServer.zones_count} zones`);
  await page.waitForSelector('#kpi-chart .uplot canvas', { timeout: 15000 }).catch(() => {});
  check(await page.evaluate(() => !!document.querySelector('#kpi-chart .uplot canvas') && typeof window.uPlot === 'function'),
    'KPI history chart drawn by uPlot from /vendor/uplot');
  const worst = kpiServer.zones.slice().sort((a, b) => (a.composite ?? 1e9) - (b.composite ?? 1e9))[0].zone_id;
  await page.click(`#kpi-zone-list button[data-zone="${worst}"]`);
  await page.waitForSelector('#kpi-zone:not([hidden]) td[data-kpi="assets.share_working"]', { timeout: 10000 }).catch(() => {});
  const zoneServer = (await (await fetch(`${base}/kpi/zones/${worst}`)).json()).zone.kpi;
  const zoneShown = await page.evaluate(() => window.mashaerKpi.state());
  check(zoneShown.zone && zoneShown.zone.zone_id === worst &&
    zoneShown.shown['zone.assets.share_working'] === String(zoneServer.assets.share_working) &&
    zoneShown.shown['zone.coverage.camps'] === String(zoneServer.coverage.camps),
    `drill-down of ${worst} (the lowest index, from the list) shows its /kpi/zones values: ` +
    `assets ${zoneShown.shown['zone.assets.share_working']} (${zoneServer.assets.share_working}), ` +
    `camps ${zoneShown.shown['zone.coverage.camps']} (${zoneServer.coverage.camps}), zone ${zoneShown.zone && zoneShown.zone.zone_id}`);
  await page.evaluate(() => { window.mashaer.flyTo('mina'); window.mashaerKpi.colourBy('assets_share_working'); });
  await page.waitForFunction(() => window.map.loaded() && window.map.areTilesLoaded() &&
    window.map.queryRenderedFeatures({ layers: ['kpi-zones-fill'] }).length > 0, null, { timeout: 30000 }).catch(() => {});
  const coloured = await page.evaluate(() => {
    const fill = JSON.stringify(window.map.getPaintProperty('kpi-zones-fill', 'fill-color'));
    const feats = window.map.queryRenderedFeatures({ layers: ['kpi-zones-fill'] });
    const f = feats.find((x) => x.geometry.type === 'Polygon');
    let click = null;
    if (f) { // a point of the zone on screen: the middle of its box, if it is inside, else a vertex nudged in
      const ring = f.geometry.coordinates[0];
      const xs = ring.map((c) => c[0]), ys = ring.map((c) => c[1]);
      const mid = [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
      const p = window.map.project(mid);
      const hit = window.map.queryRenderedFeatures([p.x, p.y], { layers: ['kpi-zones-fill'] });
      if (hit.length && hit[0].properties.zone_id === f.properties.zone_id) click = { x: p.x, y: p.y, zone: f.properties.zone_id };
    }
    return { fill, visible: window.map.getLayoutProperty('kpi-zones-fill', 'visibility'), n: feats.length,
      values: Object.fromEntries(feats.map((x) => [x.properties.zone_id, x.properties.assets_share_working])), click };
  });
  check(coloured.visible === 'visible' && coloured.fill.includes('assets_share_working') && coloured.n > 0,
    `kpi_zones shown and coloured by assets_share_working: ${coloured.n} zone features`);
  const allZones = (await (await fetch(`${base}/kpi/zones`)).json()).zones;
  const mismatch = allZones.filter((z) => z.zone_id in coloured.values && coloured.values[z.zone_id] !== z.kpi.assets.share_working);
  check(Object.keys(coloured.values).length > 0 && mismatch.length === 0,
    `kpi_zones tiles carry each zone's /kpi value (${Object.keys(coloured.values).length} zones)`);
  if (coloured.click) {
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + coloured.click.x, box.y + coloured.click.y);
    await page.waitForFunction((id) => { const z = window.mashaerKpi.state().zone; return z && z.zone_id === id; },
      coloured.click.zone, { timeout: 10000 }).catch(() => {});
  }
  const clicked = await page.evaluate(() => (window.mashaerKpi.state().zone || {}).zone_id);
  check(coloured.click && clicked === coloured.click.zone, `a click on zone ${coloured.click && coloured.click.zone} on the map opens its drill-down: ${clicked}`);
  const shot4 = path.join(work, 'viewer-kpi.png');
  writeFileSync(shot4, await page.screenshot());
  console.log('screenshot: ' + shot4);
  check(external.length === 0, 'still offline after the live checks');
  check(consoleErrors.length === 0, 'no console errors after the live checks: ' + consoleErrors.slice(0, 3).join(' | '));
} catch (e) {
  check(false, e.stack);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
