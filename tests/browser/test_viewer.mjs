// test_viewer.mjs: the operations viewer in headless Chromium (Debian's chromium, driven by
// playwright-core) against the real server on a real port with the demo site in a real store.
// Checks: the map becomes idle, camps are rendered (queryRenderedFeatures), the served style passes
// the official validator, a layer toggle hides its features, a click shows a feature's attributes,
// no console errors; saves a screenshot in the work folder.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const mashaer = args.mashaer, src = args['source-dir'], work = args['work-dir'];
const require = createRequire(path.join(src, 'web', 'package.json'));
const { chromium } = require('playwright-core');
const { validateStyleMin } = require('@maplibre/maplibre-gl-style-spec');

let passed = 0, failed = 0;
function check(cond, what) {
  if (cond) { passed++; console.log('ok   ' + what); } else { failed++; console.log('FAIL ' + what); }
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'demo.sqlite');
for (const f of readdirSync(path.join(src, 'data', 'demo')).filter((f) => f.endsWith('.geojson')).sort()) {
  execFileSync(mashaer, ['import', '--db', db, '--quiet', '--layer', f.replace(/\.geojson$/, ''), path.join(src, 'data', 'demo', f)]);
}

const server = spawn(mashaer, ['serve', '--db', db, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  const t = setTimeout(() => reject(new Error('server did not start')), 20000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
    if (m) { clearTimeout(t); resolve(m[1]); }
  });
  server.on('exit', (c) => reject(new Error('server exited ' + c)));
});

let browser;
try {
  // The style as served validates against the official style specification.
  const style = await (await fetch(base + '/styles/operations.json')).json();
  const errors = validateStyleMin(style);
  check(errors.length === 0, 'served style passes the MapLibre style validator ' + JSON.stringify(errors.slice(0, 3)));
  check(style.sources.mashaer.url.startsWith(base + '/tiles/'), 'style source points back at this server');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const consoleErrors = [];
  const external = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });

  await page.goto(base + '/#14/21.4133/39.8933', { waitUntil: 'load' }); // Mina
  await page.waitForFunction(() => window.mashaerReady === true, null, { timeout: 60000 });
  await page.waitForFunction(() => window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 60000 });

  const camps = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['camps-fill'] })
    .map((f) => ({ id: f.properties.camp_id, cap: f.properties.capacity, ar: f.properties.name_ar })));
  check(camps.length > 10, `camps rendered in Mina at z14: ${camps.length} features`);
  check(camps.every((c) => /^M-\d{4}$/.test(c.id) && Number.isInteger(c.cap) && c.cap > 0),
    'rendered camps carry camp_id and an integer capacity');
  check(camps.some((c) => /[\u0600-\u06FF]/.test(c.ar || '')), 'Arabic names arrive in the rendered features');

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

  const attribution = await page.textContent('.maplibregl-ctrl-attrib');
  check(/OpenStreetMap contributors/.test(attribution), 'map credits OpenStreetMap contributors');
  check(external.length === 0, 'no request leaves the server (offline): ' + external.slice(0, 3).join(' '));
  check(consoleErrors.length === 0, 'no console errors: ' + consoleErrors.slice(0, 3).join(' | '));

  const shot = path.join(work, 'viewer.png');
  writeFileSync(shot, await page.screenshot());
  console.log('screenshot: ' + shot);
} catch (e) {
  failed++;
  console.log('FAIL ' + e.stack);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
