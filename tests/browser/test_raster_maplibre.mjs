// test_raster_maplibre.mjs: Mashaer's raster tiles against MapLibre GL JS drawing the same style.
//
// The golden test style (tests/golden/raster/golden.json) without its symbol layers (labels and
// icons: MapLibre draws SDF glyphs and sprite bitmaps, Mashaer Pango text and vector icons, so
// text can never match pixel for pixel) is served by a real Mashaer over the demo site, as two
// styles: "compare" (background, fills, lines with dashes, circles) and "compare-shapes" (the same
// without circles). For each tile of a set over Mina and the Jamarat (z14 to z17), MapLibre GL JS
// in Debian's headless Chromium renders a 256 x 256 map centred on the tile at zoom z - 1
// (MapLibre's 512 px world: exactly the tile's area), pixel ratio 1, from Mashaer's vector tiles;
// Mashaer renders /styles/{style}/{z}/{x}/{y}.png. The pictures are compared pixel by pixel in the
// page. THRESHOLDS (a pixel agrees when every channel is within 40 of 255), for both styles: at
// least 95% of pixels agree and the mean channel difference is under 6. Circles are held to the
// same figures: Mashaer colours each dot pixel as MapLibre's circle shader does (layers/render/
// stamp.h), so even the demo's 1.5 px asset dots packed along every aisle at z14 agree (97% and
// more; with geometrically antialiased dots it was 77%). Where dots overlap, both stack them in
// feature order. Each tile's figures are printed and both pictures saved in the work folder.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checker, importDemo, launchChromium, options, startServer } from './harness.mjs';

const { mashaer, src, work, require } = options();
const TOLERANCE = 40;
const LIMITS = { 'compare-shapes': { agree: 0.95, mean: 6 }, compare: { agree: 0.95, mean: 6 } };
const { check, finish } = checker();

rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'styles'), { recursive: true });
const db = path.join(work, 'demo.sqlite');
importDemo(mashaer, src, db);
const golden = JSON.parse(readFileSync(path.join(src, 'tests', 'golden', 'raster', 'golden.json'), 'utf8'));
delete golden.glyphs;
delete golden.sprite;
const all = golden.layers.filter((l) => l.type !== 'symbol');
writeFileSync(path.join(work, 'styles', 'compare.json'), JSON.stringify({ ...golden, layers: all }));
writeFileSync(path.join(work, 'styles', 'compare-shapes.json'),
  JSON.stringify({ ...golden, layers: all.filter((l) => l.type !== 'circle') }));

const { server, base } = await startServer(mashaer, db, ['--no-live', '--styles', path.join(work, 'styles')]);

function tileOf(lon, lat, z) {
  const n = 2 ** z;
  return [Math.floor((lon + 180) / 360 * n), Math.floor((1 - Math.asinh(Math.tan(lat * Math.PI / 180)) / Math.PI) / 2 * n)];
}
function tileCentre(z, x, y) {
  const n = 2 ** z;
  const lon = (x + 0.5) / n * 360 - 180;
  const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (y + 0.5) / n))) * 180 / Math.PI;
  return [lon, lat];
}

const MINA = [39.8926, 21.4134], JAMARAT = [39.8727, 21.4215];
const cases = [[14, MINA], [15, MINA], [16, MINA], [17, MINA], [16, JAMARAT], [17, JAMARAT]];

let browser;
try {
  browser = await launchChromium(require);
  const page = await browser.newPage({ viewport: { width: 400, height: 400 }, deviceScaleFactor: 1 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + '/health');
  await page.setContent(`<!doctype html><html><head>
    <link rel="stylesheet" href="${base}/vendor/maplibre-gl/maplibre-gl.css">
    <script src="${base}/vendor/maplibre-gl/maplibre-gl.js"></script>
    <style>body{margin:0} #map{width:256px;height:256px}</style></head>
    <body><div id="map"></div></body></html>`, { waitUntil: 'load' });
  if (!(await page.evaluate(() => typeof maplibregl !== 'undefined'))) {
    throw new Error(`MapLibre GL JS is not served at ${base}/vendor/maplibre-gl/ (run npm ci in web/)`);
  }
  const results = [];
  for (const [z, where] of cases) for (const style of Object.keys(LIMITS)) {
    const [x, y] = tileOf(where[0], where[1], z);
    const [lon, lat] = tileCentre(z, x, y);
    const r = await page.evaluate(async ({ base, style, z, x, y, lon, lat, tol }) => {
      if (window.mlMap) window.mlMap.remove();
      const map = new maplibregl.Map({
        container: 'map', style: `${base}/styles/${style}.json`, center: [lon, lat], zoom: z - 1,
        interactive: false, attributionControl: false, fadeDuration: 0, pixelRatio: 1,
        canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
        preserveDrawingBuffer: true,
      });
      window.mlMap = map;
      await new Promise((res) => map.once('idle', res));
      const W = 256;
      const c1 = document.createElement('canvas');
      c1.width = c1.height = W;
      const g1 = c1.getContext('2d');
      g1.drawImage(map.getCanvas(), 0, 0, W, W);
      const a = g1.getImageData(0, 0, W, W).data;
      const img = new Image();
      img.src = `${base}/styles/${style}/${z}/${x}/${y}.png`;
      await img.decode();
      const c2 = document.createElement('canvas');
      c2.width = c2.height = W;
      const g2 = c2.getContext('2d');
      g2.drawImage(img, 0, 0);
      const b = g2.getImageData(0, 0, W, W).data;
      let agree = 0, sum = 0, nonBackground = 0;
      for (let i = 0; i < a.length; i += 4) {
        const d = Math.max(Math.abs(a[i] - b[i]), Math.abs(a[i + 1] - b[i + 1]), Math.abs(a[i + 2] - b[i + 2]));
        if (d <= tol) agree++;
        sum += (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2])) / 3;
        if (Math.abs(b[i] - 0xef) + Math.abs(b[i + 1] - 0xe6) + Math.abs(b[i + 2] - 0xd2) > 12) nonBackground++;
      }
      return { agree: agree / (W * W), mean: sum / (W * W), drawn: nonBackground / (W * W),
        maplibre: c1.toDataURL('image/png'), mashaer: c2.toDataURL('image/png') };
    }, { base, style, z, x, y, lon, lat, tol: TOLERANCE });
    for (const [who, url] of [['maplibre', r.maplibre], ['mashaer', r.mashaer]]) {
      writeFileSync(path.join(work, `${style}_${who}_${z}_${x}_${y}.png`), Buffer.from(url.split(',')[1], 'base64'));
    }
    const lim = LIMITS[style], name = `${style} z${z}/${x}/${y}`;
    console.log(`     ${name}: ${(100 * r.agree).toFixed(1)}% of pixels within ${TOLERANCE}, mean difference ${r.mean.toFixed(2)}, ${(100 * r.drawn).toFixed(0)}% of the tile drawn`);
    results.push(r);
    check(r.drawn > 0.2, `${name}: the tile has content to compare (${(100 * r.drawn).toFixed(0)}% not background)`);
    check(r.agree >= lim.agree, `${name}: MapLibre and Mashaer agree on ${(100 * r.agree).toFixed(1)}% of pixels (>= ${100 * lim.agree}%)`);
    check(r.mean < lim.mean, `${name}: mean channel difference ${r.mean.toFixed(2)} < ${lim.mean}`);
  }
  check(errors.length === 0, 'no page errors' + (errors.length ? ': ' + errors.join('; ') : ''));
} catch (e) {
  check(false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
