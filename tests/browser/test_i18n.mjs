// test_i18n.mjs: the viewer in Arabic and in English, in headless Chromium against the real server.
// Arabic (a browser that prefers ar-SA, first visit): <html lang="ar" dir="rtl">, the panel on the
// right and the map's zoom buttons on the left (bounding boxes), no English word in what the page
// shows (every text node and title/aria-label, apart from data such as ids), numbers as
// Intl.NumberFormat('ar-SA-u-nu-latn') writes them, times in Makkah time, map labels in Arabic
// only, walking guidance steps that are the server's /route?lang=ar sentences. The switch: English,
// ltr, the panel on the left, English words and steps from lang=en; the choice survives a reload and
// ?lang=ar takes the page back. First visits: en-US -> English, fr-FR -> Arabic. Screenshots of both
// languages are saved in the work folder (named in the output).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { checker, demoServer, launchChromium, options, watchPage } from './harness.mjs';

const opts = options();
const { work, require } = opts;
const { check, finish } = checker();
const { server, base, postFeed } = await demoServer(opts, 'i18n');
const json = async (p) => (await fetch(base + p)).json();

const ARABIC = /[\u0600-\u06FF]/;
// Latin words the Arabic page may show: data (ids such as M-0001 or INC-I1, Fruin's letters), the
// OpenStreetMap credit (a licence notice), MapLibre's own credit link, "OSM" in a layer's name.
const LATIN_OK = /^(OSM|OpenStreetMap|contributors|MapLibre|[A-F]|E\/F|INC-\w+|[A-Z]+-?\d[\w-]*|[A-Z])$/;
const NUM_AR = (v, frac) => new Intl.NumberFormat('ar-SA-u-nu-latn', { maximumFractionDigits: frac, minimumFractionDigits: frac }).format(v);
const riyadhHour = () => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Riyadh', hour: '2-digit', hourCycle: 'h23' }).format(new Date());

// A route from a Mina camp street to Muzdalifah, along the named pedestrian path.
const FROM = [39.8930, 21.4130], TO = [39.9300, 21.3900];
const ll = (p) => p[0].toFixed(6) + ',' + p[1].toFixed(6);

// every visible text and title/aria-label of the page, outside the map canvas, as words
function pageWords() {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    // the data credits are a licence notice; the switch names English in English
    if (!el || el.closest('script,style,.uplot,.maplibregl-ctrl-attrib,[lang="en"]') || !el.getClientRects().length) continue;
    out.push(n.textContent);
  }
  document.querySelectorAll('[title],[aria-label]').forEach((el) => {
    if (el.closest('.uplot,.maplibregl-ctrl-attrib,[lang="en"]')) return;
    out.push(el.getAttribute('title') || '', el.getAttribute('aria-label') || '');
  });
  out.push(document.title);
  return out.join(' ');
}

async function openViewer(context, url) {
  const page = await context.newPage();
  const { errors, external } = watchPage(page, base);
  const routeUrls = [];
  page.on('request', (r) => { if (r.url().includes('/route?')) routeUrls.push(r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  await ready(page);
  return { page, errors, external, routeUrls };
}

async function ready(page) {
  await page.waitForFunction(() => window.mashaerReady === true && !!window.mashaerRoute && window.mashaerKpi &&
    window.mashaerKpi.ready, null, { timeout: 60000 });
  await page.waitForSelector('#layer-list li.layer-item', { timeout: 30000 });
}

async function layout(page) {
  return page.evaluate(() => {
    const box = (sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return { x: r.x, right: r.right, w: r.width }; };
    return { dir: document.dir, lang: document.documentElement.lang, width: window.innerWidth, panel: box('#panel'),
      zoom: box('.maplibregl-ctrl-zoom-in'), stored: localStorage.getItem('mashaer.lang'),
      headings: ['#layers-heading', '#guide-heading', '#kpi-heading', '#incidents-heading', '#sites-heading']
        .map((s) => (document.querySelector(s) || {}).textContent || '') };
  });
}

async function guidance(page) {
  await page.evaluate(([a, b]) => window.mashaerRoute.setStart(a).then(() => window.mashaerRoute.setEnd(b)), [FROM, TO]);
  return page.$$eval('#guide-out .guide-steps li[data-maneuver]', (els) => els.map((e) => ({ text: e.textContent, maneuver: e.dataset.maneuver })));
}

let browser;
const incidentTime = new Date(Date.now() - 65000).toISOString().replace(/\.\d+Z$/, 'Z');
try {
  const r = await postFeed('incidents', [{ id: 'INC-I1', kind: 'medical', severity: 'high', status: 'reported',
    lon: 39.8912, lat: 21.4141, time: incidentTime }]);
  check(r.status === 200, 'an incident posted');

  browser = await launchChromium(require);
  const ar = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ar-SA' });
  const A = await openViewer(ar, base + '/#14/21.4133/39.8933');
  const page = A.page;

  // ---- Arabic: a first visit from a browser that prefers Arabic
  const la = await layout(page);
  check(la.dir === 'rtl' && la.lang === 'ar', `Arabic first: <html lang="${la.lang}" dir="${la.dir}">`);
  check(la.panel && la.panel.right > la.width - 40 && la.panel.x > la.width / 2,
    `the panel is on the right in Arabic: x ${la.panel && Math.round(la.panel.x)}..${la.panel && Math.round(la.panel.right)} of ${la.width}`);
  check(la.zoom && la.zoom.right < 100, `the zoom buttons are on the left in Arabic: right edge at ${la.zoom && Math.round(la.zoom.right)}`);
  check(la.headings.every((h) => ARABIC.test(h) && !/[A-Za-z]/.test(h)), 'panel headings in Arabic: ' + la.headings.join(' | '));
  await page.waitForSelector('#incident-list li.incident[data-id="INC-I1"]', { timeout: 15000 }).catch(() => {});
  const inc = await page.textContent('#incident-list').catch(() => '');
  check(/طبي/.test(inc) && /مرتفع/.test(inc) && /مُبلَّغ/.test(inc), 'the incident listed in Arabic (kind, severity, status): ' + inc.trim().slice(0, 80));
  const words = (await page.evaluate(pageWords)).match(/[A-Za-z][A-Za-z\-/\d]*/g) || [];
  const stray = [...new Set(words.filter((w) => !LATIN_OK.test(w)))];
  check(stray.length === 0, 'no English word on the Arabic page (data ids aside): ' + stray.slice(0, 20).join(' '));

  // numbers and times
  const kpi = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#kpi-overall dd[data-kpi]')]
    .map((d) => [d.dataset.kpi, { raw: d.dataset.raw, text: d.textContent }])));
  const share = kpi['assets.share_working'];
  check(share && share.raw !== '' && share.text === NUM_AR(Number(share.raw) * 100, 1) + '٪',
    `a share in Arabic: ${share && share.text} (raw ${share && share.raw}) as Intl ar-SA (Latin digits) writes it`);
  const people = kpi['crowd.people'];
  check(people && people.text === NUM_AR(Number(people.raw), 0), `a count in Arabic: ${people && people.text}`);
  const count = await page.$eval('#layer-list li[data-layer="assets"] .layer-count', (e) => e.textContent);
  const assets = (await json('/catalog')).layers.find((l) => l.id === 'assets').feature_count;
  check(count.includes(NUM_AR(assets, 0)) && ARABIC.test(count), `a layer's count in Arabic: ${count} (${assets})`);
  await page.waitForFunction(() => /\d\d:\d\d:\d\d/.test(document.getElementById('live-status').textContent), null, { timeout: 20000 }).catch(() => {});
  const live = await page.textContent('#live-status');
  const hh = (live.match(/(\d\d):\d\d:\d\d/) || [])[1];
  check(ARABIC.test(live) && hh !== undefined && Math.abs(Number(hh) - Number(riyadhHour())) % 23 <= 1,
    `live status in Arabic in Makkah time: ${live.trim()} (Riyadh hour ${riyadhHour()})`);
  const status = await page.textContent('#kpi-status');
  check(/بتوقيت مكة المكرمة/.test(status), 'KPI time said in Makkah time: ' + status);

  // map labels: the Arabic name alone
  const labelField = await page.evaluate(() => JSON.stringify(window.map.getLayoutProperty('sites-label', 'text-field')));
  check(labelField.includes('"coalesce",["get","name_ar"],["get","name"]') && !/\{\},\["get","name"\]/.test(labelField) &&
    !labelField.includes('"\\n"'), 'sites labelled by name_ar (coalesce with name) alone: ' + labelField);
  check(await page.evaluate(() => maplibregl.getRTLTextPluginStatus()) === 'loaded', 'RTL text plugin loaded');

  // a feature's details: field names and coded values in Arabic, its time in Makkah time
  await page.click('#incident-list li.incident[data-id="INC-I1"] button');
  await page.waitForSelector('.maplibregl-popup', { timeout: 15000 }).catch(() => {});
  const popup = await page.evaluate(() => {
    const p = document.querySelector('.maplibregl-popup');
    if (!p) return null;
    const rows = Object.fromEntries([...p.querySelectorAll('.popup-table tr')].map((tr) => [tr.querySelector('th').title, tr.querySelector('td').textContent]));
    const close = p.querySelector('.maplibregl-popup-close-button').getBoundingClientRect();
    const box = p.querySelector('.maplibregl-popup-content').getBoundingClientRect();
    return { text: p.textContent, rows, closeLeft: close.left - box.left < box.right - close.right };
  });
  const reported = popup && popup.rows.reported_at;
  const want = new Intl.DateTimeFormat('ar-SA-u-nu-latn', { timeZone: 'Asia/Riyadh', calendar: 'gregory', year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(incidentTime));
  check(popup && /الخطورة/.test(popup.text) && popup.rows.severity === 'مرتفع' && popup.rows.kind === 'طبي' && popup.rows.id === 'INC-I1',
    'the popup in Arabic: ' + JSON.stringify(popup && popup.rows));
  check(reported === want, `the popup's time in Makkah time: ${reported} (${want})`);
  check(popup && popup.closeLeft, 'the popup\'s close button at the end of the line (left in Arabic)');
  await page.click('.maplibregl-popup-close-button').catch(() => {});

  // walking guidance: the steps are the server's Arabic sentences
  const stepsAr = await guidance(page);
  const serverAr = (await json(`/route?from=${ll(FROM)}&to=${ll(TO)}&lang=ar`)).properties.steps;
  check(A.routeUrls.some((u) => u.includes('lang=ar')), 'the viewer asks /route with lang=ar');
  check(stepsAr.length === Math.min(12, serverAr.length) &&
    stepsAr.every((s, i) => s.text.startsWith(serverAr[i].instruction) && s.maneuver === serverAr[i].maneuver),
    `guidance steps in Arabic from the server (${stepsAr.length}): ${stepsAr.slice(0, 3).map((s) => s.text).join(' | ')}`);
  check(stepsAr.some((s) => s.text.includes('طريق المشاة - منى مزدلفة')), 'a step names the street by its name_ar');
  const summary = await page.textContent('#guide-out .guide-summary');
  check(/سيرًا على الأقدام/.test(summary) && !/[A-Za-z]/.test(summary), 'route summary in Arabic: ' + summary);
  await page.evaluate(() => { document.getElementById('panel-body').scrollTop = 0; });
  const shotAr = path.join(work, 'i18n-ar.png');
  writeFileSync(shotAr, await page.screenshot());
  console.log('screenshot (Arabic): ' + shotAr);

  // ---- the switch: English
  const hashBefore = await page.evaluate(() => location.hash);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#lang-switch')]);
  await ready(page);
  const le = await layout(page);
  check(le.dir === 'ltr' && le.lang === 'en' && le.stored === 'en', `the switch: <html lang="${le.lang}" dir="${le.dir}">, remembered "${le.stored}"`);
  check(le.panel && le.panel.x < 40, `the panel is on the left in English: x ${le.panel && Math.round(le.panel.x)}`);
  check(le.zoom && le.zoom.x > le.width - 100, `the zoom buttons are on the right in English: x ${le.zoom && Math.round(le.zoom.x)}`);
  check(le.headings[0] === 'Layers' && le.headings[1] === 'Walking guidance' && le.headings.every((h) => !ARABIC.test(h)),
    'panel headings in English: ' + le.headings.join(' | '));
  const hashAfter = await page.evaluate(() => location.hash);
  check(hashAfter === hashBefore, `the map view is kept across the switch: ${hashBefore} -> ${hashAfter}`);
  const shareEn = await page.$eval('#kpi-overall dd[data-kpi="assets.share_working"]', (d) => ({ raw: d.dataset.raw, text: d.textContent }));
  check(shareEn.text === new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(Number(shareEn.raw) * 100) + ' %',
    'the share in English: ' + shareEn.text);
  const stepsEn = await guidance(page);
  const serverEn = (await json(`/route?from=${ll(FROM)}&to=${ll(TO)}&lang=en`)).properties.steps;
  check(stepsEn.length > 0 && stepsEn.every((s, i) => s.text.startsWith(serverEn[i].instruction) && !ARABIC.test(s.text)),
    `guidance steps in English from the server: ${stepsEn.slice(0, 3).map((s) => s.text).join(' | ')}`);
  check(stepsEn.some((s) => s.text.includes('Mina - Muzdalifah Pedestrian Path')), 'a step names the street by its name');
  await page.evaluate(() => { document.getElementById('panel-body').scrollTop = 0; });
  const shotEn = path.join(work, 'i18n-en.png');
  writeFileSync(shotEn, await page.screenshot());
  console.log('screenshot (English): ' + shotEn);

  // ---- the choice survives a reload (the browser still prefers Arabic); ?lang=ar takes it back
  await page.reload({ waitUntil: 'domcontentloaded' });
  check(await page.evaluate(() => document.dir === 'ltr' && document.getElementById('layers-heading').textContent === 'Layers'),
    'English after a reload');
  await page.goto(base + '/?lang=ar#14/21.4133/39.8933', { waitUntil: 'domcontentloaded' });
  check(await page.evaluate(() => document.dir === 'rtl' && localStorage.getItem('mashaer.lang') === 'ar'),
    '?lang=ar: Arabic, and remembered');
  await page.waitForFunction(() => window.mashaerReady === true, null, { timeout: 60000 });

  // ---- first visits from other browsers
  for (const [locale, want] of [['en-US', 'en'], ['fr-FR', 'ar']]) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    const p = await ctx.newPage();
    await p.goto(base + '/', { waitUntil: 'domcontentloaded' });
    const got = await p.evaluate(() => document.documentElement.lang);
    check(got === want, `first visit from a ${locale} browser: ${got}`);
    await ctx.close();
  }

  check(A.external.length === 0, 'no request left the server: ' + A.external.slice(0, 3).join(' '));
  check(A.errors.length === 0, 'no console errors: ' + A.errors.slice(0, 3).join(' | '));
} catch (e) {
  check(false, e.stack);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
finish();
