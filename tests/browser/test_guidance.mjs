// test_guidance.mjs: the viewer's walking guidance (web/route.js) in headless Chromium against the
// real server: a start picked by clicking the map, an end set through the page's API, the route
// drawn (rendered line features) with the length and time the server's /route reports, the three
// nearest working water points as /query/nearest answers them, an incident that closes the way
// moves the drawn route, the 10-minute isochrone drawn, no popup while picking, no console errors,
// no request leaving the server. Saves a screenshot in the work folder.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { checker, demoServer, launchChromium, options, watchPage } from './harness.mjs';

const opts = options();
const { work, require } = opts;
const { check, finish } = checker();
const { server, base, postFeed } = await demoServer(opts, 'guide', ['--reload-ms', '100']);
const json = async (p) => (await fetch(base + p)).json();

let browser;
try {
  browser = await launchChromium(require);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const { errors: consoleErrors, external } = watchPage(page, base);
  await page.goto(base + '/#16/21.4222/39.8270', { waitUntil: 'load' }); // the Grand Mosque
  await page.waitForFunction(() => window.mashaerReady === true && !!window.mashaerRoute, null, { timeout: 60000 });

  // pick the start with a click on the map (the button, then the canvas)
  const canvas = page.locator('#map canvas');
  const box = await canvas.boundingBox();
  const at = { x: Math.round(box.width * 0.6), y: Math.round(box.height * 0.5) };
  await page.click('#guide-start');
  check(await page.evaluate(() => window.mashaerRoute.picking()), '"Set start" waits for a click on the map');
  await page.mouse.click(box.x + at.x, box.y + at.y);
  const start = await page.evaluate(() => window.mashaerRoute.state().start);
  const want = await page.evaluate((p) => { const l = window.map.unproject([p.x, p.y]); return [l.lng, l.lat]; }, at);
  check(start && Math.abs(start[0] - want[0]) < 1e-6 && Math.abs(start[1] - want[1]) < 1e-6,
    `the click set the start at ${start && start.map((v) => v.toFixed(5))}`);
  check(await page.evaluate(() => !document.querySelector('.maplibregl-popup')), 'no feature popup opened by the picking click');

  // the end through the API; the route drawn matches the server's answer
  const end = [39.8300, 21.4190];
  await page.evaluate((e) => window.mashaerRoute.setEnd(e), end);
  const st = await page.evaluate(() => window.mashaerRoute.state());
  const server1 = await json(`/route?from=${start[0].toFixed(6)},${start[1].toFixed(6)}&to=${end[0]},${end[1]}`);
  check(st.route && Math.abs(st.route.length_m - server1.properties.length_m) < 0.01,
    `panel route ${st.route && st.route.length_m} m = server ${server1.properties.length_m} m`);
  const km = (server1.properties.length_m / 1000).toFixed(2);
  const shown = server1.properties.length_m >= 1000 ? km + ' km' : Math.round(server1.properties.length_m) + ' m';
  check(st.text.includes(shown) && st.text.includes('on foot'), `the panel says "${shown} … on foot": ${st.text.slice(0, 80)}`);
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['guide-route-line'] }).length > 0,
    null, { timeout: 30000 }).catch(() => {});
  const drawn = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['guide-route-line'] }).length);
  check(drawn > 0, `the route is drawn (${drawn} rendered pieces)`);

  // an incident on the way: the drawn route moves off it
  const mid = server1.geometry.coordinates[Math.floor(server1.geometry.coordinates.length / 2)];
  const r = await postFeed('incidents', [{ id: 'GUIDE-1', kind: 'fire', severity: 'critical', status: 'reported',
    lon: mid[0], lat: mid[1], time: new Date().toISOString() }]);
  check(r.status === 200, 'incident posted');
  let moved = null;
  for (let i = 0; i < 120 && !moved; i++) {
    await new Promise((res) => setTimeout(res, 250));
    const s2 = await page.evaluate(() => window.mashaerRoute.setEnd(window.mashaerRoute.state().end)
      .then(() => window.mashaerRoute.state()));
    if (s2.route && s2.route.closed_edges > 0 && s2.route.length_m > st.route.length_m) moved = s2;
  }
  check(moved && moved.text.includes('closed by incidents'), `the route goes round the incident and says so: ${moved && moved.text.slice(0, 120)}`);

  // nearest working water points from the start: what the server answers
  const near = await page.evaluate(() => window.mashaerRoute.nearest('water_point').then(() => window.mashaerRoute.state().nearest));
  const flt = encodeURIComponent("kind='water_point' AND status='working'");
  const serverNear = await json(`/query/nearest?lon=${start[0].toFixed(6)}&lat=${start[1].toFixed(6)}&layer=assets&limit=3&filter=${flt}`);
  check(near && near.length === 3 && near.every((n, i) => n.id === serverNear.features[i].properties.asset_id),
    `nearest water points in the panel: ${near && near.map((n) => n.id + ' ' + n.walking_m + ' m').join(', ')}`);

  // the 10-minute isochrone is drawn
  const iso = await page.evaluate(() => window.mashaerRoute.isochrone(10).then(() => window.mashaerRoute.state().iso));
  check(iso && iso.area_m2 > 100000, `isochrone of ${iso && Math.round(iso.area_m2)} m2`);
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['guide-iso-fill'] }).length > 0,
    null, { timeout: 30000 }).catch(() => {});
  check(await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['guide-iso-fill'] }).length > 0), 'the isochrone is drawn');

  // a point off the network: the panel shows the server's reason
  await page.evaluate(() => window.mashaerRoute.setEnd([39.70, 21.30]));
  const bad = await page.evaluate(() => window.mashaerRoute.state());
  check(bad.error && bad.error.includes('walkway') || (bad.error || '').includes('network'), `off-network end explained: ${bad.error}`);

  const shot = path.join(work, 'guidance.png');
  writeFileSync(shot, await page.screenshot());
  console.log('screenshot: ' + shot);
  check(external.length === 0, 'no request left the server: ' + external.slice(0, 3).join(' '));
  // the one expected failure: the off-network destination's 422
  check(consoleErrors.filter((e) => !/Failed to load resource.*422/.test(e)).length === 0,
    'no console errors: ' + consoleErrors.slice(0, 3).join(' | '));
} catch (e) {
  check(false, e.stack);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
