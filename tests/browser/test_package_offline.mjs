// test_package_offline.mjs: MapLibre GL JS draws an offline package (`mashaer package`) with the
// network blocked, and the picture is the live style's.
//
// The package of the operations style over Mina (z12-16) is built from the demo store. The offline
// page is http://package.test/mina/index.html: every request of its browser context is intercepted,
// and only the package's own files (those its manifest lists, answered from the folder, with HTTP
// ranges for the .pmtiles) are answered; any other request is refused and fails the test, and so
// does a request for a file the package lacks (a glyph range the scan missed, say). MapLibre and the
// pmtiles library are put into the page as scripts (they are the app, not the map); the pmtiles
// Protocol is registered with maplibregl.addProtocol and the package's RTL text plugin is loaded
// before the map. The same view is drawn from the live style served by a running `mashaer serve`
// (same MapLibre, its RTL plugin from /vendor), after the map's idle event in both.
//
// BOUND: both pictures come from the same tiles (the archive holds the server's bytes), the same
// glyph and sprite bytes and the same MapLibre, and the live style's extra sources are empty (no
// feeds) or hidden (KPI zones), so they should be equal; at least 99.5% of pixels must agree within
// 8 per channel and the mean channel difference must stay under 0.5, which leaves room only for
// the software rasterizer's rounding, not for a missing label, glyph range, icon or layer (one
// missing label at z15 already moves about 0.1-0.5% of the pixels by more than that).
// The time from creating the map to its idle event is printed for both (bench/package.py uses it).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { checker, importDemo, launchChromium, options, startServer } from './harness.mjs';

const { mashaer, src, work, require } = options();
const { check, finish } = checker();
const ORIGIN = 'http://package.test';
const W = 512;
const VIEWS = [13.5, 15.5, 16.5]; // icons from z16
// bench/package.py asks for the full package (--package-zoom 12-18); the test keeps z12-16 (quicker)
const zi = process.argv.indexOf('--package-zoom');
const ZOOMS = zi > 0 ? process.argv[zi + 1] : '12-16';

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db = path.join(work, 'demo.sqlite');
importDemo(mashaer, src, db);
const out = path.join(work, 'packages');
execFileSync(mashaer, ['package', '--db', db, '--style', 'operations', '--site', 'mina', '--zoom', ZOOMS, '-q', out]);
const dir = path.join(out, 'mina');
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const files = new Map(manifest.files.map((f) => [f.path, f]));
files.set('manifest.json', { path: 'manifest.json' });
const mlJs = readFileSync(require.resolve('maplibre-gl/dist/maplibre-gl.js'), 'utf8');
const pmJs = readFileSync(path.join(path.dirname(require.resolve('pmtiles/package.json')), 'dist', 'pmtiles.js'), 'utf8');
const TYPES = { '.json': 'application/json', '.pbf': 'application/x-protobuf', '.png': 'image/png',
  '.js': 'text/javascript', '.pmtiles': 'application/vnd.pmtiles' };

const { server, base } = await startServer(mashaer, db, []);

// Draw `style` at each view in a fresh page; returns [{ pixels (base64 RGBA), ms }] per view.
async function draw(page, { style, rtl, center }) {
  const shots = [];
  for (const zoom of VIEWS) {
    shots.push(await page.evaluate(async ({ style, rtl, center, zoom, W }) => {
      if (!window.rtlLoaded) {
        if (window.pmtiles) maplibregl.addProtocol('pmtiles', new pmtiles.Protocol().tile);
        await maplibregl.setRTLTextPlugin(rtl, false);
        window.rtlLoaded = true;
      }
      if (window.mlMap) window.mlMap.remove();
      const t0 = performance.now();
      if (style.endsWith('/style.json')) { // a package: its URLs are relative to its folder (README)
        const s = await (await fetch(style)).json(), dir = style.slice(0, style.lastIndexOf('/') + 1);
        const abs = (u) => (/^[a-z]+:/.test(u) ? u : dir + u);
        s.sprite = abs(s.sprite);
        s.glyphs = abs(s.glyphs);
        for (const src of Object.values(s.sources)) {
          if (src.url && src.url.startsWith('pmtiles://')) src.url = 'pmtiles://' + abs(src.url.slice(10));
        }
        style = s;
      }
      const map = new maplibregl.Map({ container: 'map', style, center, zoom, interactive: false,
        attributionControl: false, fadeDuration: 0, pixelRatio: 1,
        canvasContextAttributes: { preserveDrawingBuffer: true } });
      window.mlMap = map;
      await new Promise((res) => map.once('idle', res));
      const ms = performance.now() - t0;
      const c = document.createElement('canvas');
      c.width = c.height = W;
      const g = c.getContext('2d');
      g.drawImage(map.getCanvas(), 0, 0, W, W);
      const px = g.getImageData(0, 0, W, W).data;
      let s = '';
      for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode.apply(null, px.subarray(i, i + 0x8000));
      return { pixels: btoa(s), ms, png: c.toDataURL('image/png') };
    }, { style, rtl, center, zoom, W }));
  }
  return shots;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0}#map{width:${W}px;height:${W}px}</style>
  </head><body><div id="map"></div></body></html>`;

let browser;
try {
  browser = await launchChromium(require);
  const center = [(manifest.bbox[0] + manifest.bbox[2]) / 2, (manifest.bbox[1] + manifest.bbox[3]) / 2];

  // offline: only the package's files
  const refused = [], missing = [], served = new Set();
  const offline = await browser.newContext({ viewport: { width: W, height: W }, deviceScaleFactor: 1 });
  await offline.route('**/*', async (route) => {
    const req = route.request(), url = new URL(req.url());
    if (url.origin !== ORIGIN || !url.pathname.startsWith('/mina/')) {
      refused.push(req.url());
      return route.abort('blockedbyclient');
    }
    const rel = decodeURIComponent(url.pathname.slice('/mina/'.length));
    if (rel === 'index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: PAGE });
    if (!files.has(rel)) {
      missing.push(rel);
      return route.fulfill({ status: 404, body: 'not in the package' });
    }
    served.add(rel);
    const body = readFileSync(path.join(dir, rel));
    const type = TYPES[path.extname(rel)];
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers().range || '');
    if (!range) return route.fulfill({ status: 200, contentType: type, body });
    const first = Number(range[1]), last = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
    return route.fulfill({ status: 206, contentType: type, body: body.subarray(first, last + 1),
      headers: { 'Content-Range': `bytes ${first}-${last}/${body.length}`, 'Accept-Ranges': 'bytes' } });
  });
  const op = await offline.newPage();
  const opErrors = [];
  op.on('pageerror', (e) => opErrors.push(String(e)));
  op.on('console', (m) => { if (m.type() === 'error') opErrors.push(m.text()); });
  await op.goto(`${ORIGIN}/mina/index.html`);
  await op.addScriptTag({ content: mlJs });
  await op.addScriptTag({ content: pmJs });
  const rtlUrl = `${ORIGIN}/mina/${manifest.rtl_text_plugin}`;
  const offShots = await draw(op, { style: `${ORIGIN}/mina/style.json`, rtl: rtlUrl, center });

  // live: the same view from the server
  const live = await browser.newContext({ viewport: { width: W, height: W }, deviceScaleFactor: 1 });
  const lp = await live.newPage();
  await lp.goto(base + '/health');
  await lp.setContent(PAGE);
  await lp.addScriptTag({ content: mlJs });
  const liveShots = await draw(lp, { style: `${base}/styles/operations.json`,
    rtl: `${base}/vendor/@mapbox/mapbox-gl-rtl-text/mapbox-gl-rtl-text.js`, center });

  check(refused.length === 0, 'the offline map asked for nothing outside the package' + (refused.length ? ': ' + refused.slice(0, 5).join(', ') : ''));
  check(missing.length === 0, 'every file the offline map asked for is in the package' + (missing.length ? ': ' + missing.slice(0, 5).join(', ') : ''));
  check(served.has('mashaer.pmtiles') && served.has('style.json') && served.has('sprites/operations.png') &&
    served.has(manifest.rtl_text_plugin), `the map read the archive, the style, the sprite and the RTL plugin from the package (${served.size} files)`);
  const arabic = [...served].filter((f) => /\/(1536|65024)-\d+\.pbf$/.test(f));
  check(arabic.length >= 2, `shaped Arabic glyphs (presentation forms) came from the package: ${arabic.join(', ')}`);
  check(opErrors.length === 0, 'no errors in the offline page' + (opErrors.length ? ': ' + opErrors.slice(0, 3).join('; ') : ''));

  VIEWS.forEach((zoom, i) => {
    const a = Buffer.from(offShots[i].pixels, 'base64'), b = Buffer.from(liveShots[i].pixels, 'base64');
    let agree = 0, sum = 0, drawn = 0;
    for (let k = 0; k < a.length; k += 4) {
      const d = Math.max(Math.abs(a[k] - b[k]), Math.abs(a[k + 1] - b[k + 1]), Math.abs(a[k + 2] - b[k + 2]));
      if (d <= 8) agree++;
      sum += (Math.abs(a[k] - b[k]) + Math.abs(a[k + 1] - b[k + 1]) + Math.abs(a[k + 2] - b[k + 2])) / 3;
      if (Math.abs(b[k] - a[0]) + Math.abs(b[k + 1] - a[1]) + Math.abs(b[k + 2] - a[2]) > 12) drawn++;
    }
    const n = W * W, name = `z${zoom} at Mina`;
    for (const [who, s] of [['offline', offShots[i]], ['live', liveShots[i]]]) {
      writeFileSync(path.join(work, `${who}_z${zoom}.png`), Buffer.from(s.png.split(',')[1], 'base64'));
    }
    console.log(`     ${name}: ${(100 * agree / n).toFixed(2)}% of pixels within 8, mean difference ${(sum / n).toFixed(3)}, ` +
      `${(100 * drawn / n).toFixed(0)}% drawn; load to idle: offline ${offShots[i].ms.toFixed(0)} ms, live ${liveShots[i].ms.toFixed(0)} ms`);
    check(drawn / n > 0.2, `${name}: the view has content to compare`);
    check(agree / n >= 0.995, `${name}: offline and live agree on ${(100 * agree / n).toFixed(2)}% of pixels (>= 99.5%)`);
    check(sum / n < 0.5, `${name}: mean channel difference ${(sum / n).toFixed(3)} < 0.5`);
  });
} catch (e) {
  check(false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
