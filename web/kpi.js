/* kpi.js: the KPI panel of the operations viewer.
 *
 *   GET /kpi                  overall figures and each zone's composite index (every 15 s)
 *   GET /kpi/zones/{id}       one zone's indicators (the drill-down)
 *   GET /kpi/history          the composite over the last hours, drawn with uPlot (/vendor/uplot,
 *                             from web/node_modules: no CDN)
 *   kpi_zones layer           the style's "kpi-zones-fill", coloured by the indicator picked here
 *   counting lines            /kpi `counting_lines` (each line's totals) and, for the line picked,
 *                             /ogc/collections/counting_line_counts/items: people crossing per minute
 *                             each way over the last hours, drawn with uPlot
 *
 * Words, numbers and times: web/i18n.js (window.I18N), labels under "kpi.*".
 * Definitions of every figure: docs/KPIS.md. For browser tests: window.mashaerKpi.state() returns
 * what the panel shows (raw values as the server sent them), selectZone(id) opens a drill-down,
 * colourBy(key) recolours the zones, selectLine(id) charts a counting line (state().lineChart: the line,
 * its minutes and sums as drawn); window.mashaerKpi.ready turns true after the first answer.
 */
(function () {
  'use strict';

  const I18N = window.I18N;
  const t = I18N.t;
  const CLOCK = window.mashaerClock; // the server's clock (web/clock.js): the charts' windows end at its now
  const REFRESH_MS = 15000;
  const HISTORY_H = 6;
  const LAYER = 'kpi-zones-fill';
  const SOURCE = 'kpi';
  // Indicators the zones can be coloured by: four stops from worst to best (or best to worst).
  const INDICATORS = [
    { key: 'index_composite', stops: [0, 50, 75, 100], high: true },
    { key: 'crowd_peak_density', stops: [0, 0.72, 1.08, 2.15], high: false },
    { key: 'crowd_minutes_los_ef', stops: [0, 5, 30, 120], high: false },
    { key: 'crowd_occupancy', stops: [0, 0.7, 0.9, 1], high: false },
    { key: 'coverage_toilet_capacity', stops: [0, 0.5, 0.8, 1], high: true },
    { key: 'coverage_water_capacity', stops: [0, 0.5, 0.8, 1], high: true },
    { key: 'coverage_clinic_capacity', stops: [0, 0.5, 0.8, 1], high: true },
    { key: 'emergency_open', stops: [0, 1, 3, 10], high: false },
    { key: 'emergency_on_scene_p90_s', stops: [0, 300, 480, 900], high: false },
    { key: 'gates_utilisation', stops: [0, 0.7, 0.9, 1.2], high: false },
    { key: 'environment_hours_above_heat', stops: [0, 1, 3, 6], high: false },
    { key: 'environment_hours_heat_danger', stops: [0, 1, 3, 6], high: false },
    { key: 'assets_share_working', stops: [0, 0.8, 0.9, 1], high: true },
    { key: 'cleaning_share_covered', stops: [0, 0.5, 0.8, 1], high: true }
  ];
  const RAMP = ['#d7191c', '#fdae61', '#a6d96a', '#1a9641']; // worst .. best
  // The overall figures shown in the panel: [group, name, unit] (labels: "kpi.head.<group>.<name>";
  // unit: a message key taking {n}, '%' for a share shown as a percentage, '' for a bare number)
  const HEADLINE = [
    ['index', 'composite', ''],
    ['crowd', 'people', ''],
    ['crowd', 'peak_los', ''],
    ['crowd', 'minutes_los_ef', 'unit.min'],
    ['coverage', 'toilet_capacity', '%'],
    ['coverage', 'water_capacity', '%'],
    ['coverage', 'clinic_capacity', '%'],
    ['emergency', 'open', ''],
    ['emergency', 'on_scene_p50_s', 'unit.s'],
    ['emergency', 'on_scene_p90_s', 'unit.s'],
    ['gates', 'utilisation', '%'],
    ['environment', 'temperature_max', 'unit.degc'],
    ['environment', 'heat_index_max', 'unit.degc'],
    ['assets', 'share_working', '%'],
    ['cleaning', 'share_covered', '%']
  ];

  const state = { overall: null, zones: [], zone: null, zoneId: null, indicator: INDICATORS[0].key, error: '',
    lines: [], lineId: null, lineChart: null };
  let overallChart = null;
  let zoneChart = null;
  let lineChart = null;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // A figure for the page's locale: shares as percentages, big or whole numbers rounded, others to 2 places.
  function fmt(v, unit) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return t(v ? 'value.yes' : 'value.no'); // crowd.suppressed: under k people (docs/KPIS.md)
    if (unit === '%') return t('unit.pct', { n: I18N.num(v * 100, 1, 1) });
    const s = Math.abs(v) >= 100 || Number.isInteger(v) ? I18N.num(Math.round(v), 0) : I18N.num(v, 2, 2);
    return unit ? t(unit, { n: s }) : s;
  }

  // A zone's name in the page's language (the other one, then its id, where it has none). /kpi names
  // zones in English only: the Arabic page reads name_ar from the service_zones layer once.
  const zoneNamesAr = {};
  function zoneName(z) {
    const ar = zoneNamesAr[z.zone_id];
    return (I18N.lang === 'ar' ? ar || z.name : z.name || ar) || z.zone_id;
  }
  if (I18N.lang === 'ar') {
    fetch('/ogc/collections/service_zones/items?limit=1000', { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (doc) {
        (doc.features || []).forEach(function (f) {
          const p = f.properties || {};
          if (p.zone_id && p.name_ar) zoneNamesAr[p.zone_id] = p.name_ar;
        });
        renderZoneList();
        renderZone();
      })
      .catch(function () { /* names stay as /kpi gives them */ });
  }

  function getJSON(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      CLOCK.note(r);
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
        return body;
      });
    });
  }

  // ------------------------------------------------------------------ panel

  const section = document.createElement('section');
  section.className = 'kpi-section';
  section.setAttribute('aria-labelledby', 'kpi-heading');
  section.innerHTML =
    '<h2 id="kpi-heading">' + esc(t('kpi.heading')) + '</h2>' +
    '<div id="kpi-status" class="kpi-status muted">' + esc(t('loading')) + '</div>' +
    '<dl id="kpi-overall" class="kpi-figures"></dl>' +
    '<div id="kpi-chart" class="kpi-chart" aria-label="' + esc(t('kpi.chart_label')) + '"></div>' +
    '<label class="kpi-pick">' + esc(t('kpi.colour_by')) + ' <select id="kpi-indicator"></select></label>' +
    '<div id="kpi-legend" class="kpi-legend"></div>' +
    '<ol id="kpi-zone-list" class="kpi-zone-list"></ol>' +
    '<div id="kpi-zone" class="kpi-zone" hidden></div>' +
    '<div id="kpi-lines" class="kpi-zone" hidden><h3>' + esc(t('kpi.lines_heading')) + '</h3>' +
    '<label class="kpi-pick">' + esc(t('kpi.lines_pick')) + ' <select id="kpi-line"></select></label>' +
    '<div id="kpi-line-totals" class="muted"></div><div id="kpi-line-chart" class="kpi-chart"></div></div>';
  const body = document.getElementById('panel-body');
  const layersSection = body && body.querySelector('section[aria-labelledby="layers-heading"]');
  if (body) body.insertBefore(section, layersSection || null);

  const select = section.querySelector('#kpi-indicator');
  INDICATORS.forEach(function (ind) {
    const o = document.createElement('option');
    o.value = ind.key;
    o.textContent = t('kpi.ind.' + ind.key);
    select.appendChild(o);
  });
  select.addEventListener('change', function () { colourBy(select.value); });

  function renderOverall() {
    const dl = section.querySelector('#kpi-overall');
    if (!state.overall) return;
    dl.innerHTML = HEADLINE.map(function (h) {
      const v = (state.overall[h[0]] || {})[h[1]];
      return '<div><dt>' + esc(t('kpi.head.' + h[0] + '.' + h[1])) + '</dt><dd data-kpi="' + h[0] + '.' + h[1] +
        '" data-raw="' + esc(v === null || v === undefined ? '' : v) + '">' + esc(fmt(v, h[2])) + '</dd></div>';
    }).join('');
  }

  function renderZoneList() {
    const ol = section.querySelector('#kpi-zone-list');
    const zones = state.zones.slice().sort(function (a, b) {
      return (a.composite === null ? 1e9 : a.composite) - (b.composite === null ? 1e9 : b.composite);
    });
    ol.innerHTML = zones.map(function (z) {
      return '<li><button type="button" data-zone="' + esc(z.zone_id) + '"><span class="kpi-los los-' +
        esc(z.peak_los || 'x') + '">' + esc(z.peak_los || '–') + '</span> ' + esc(zoneName(z)) +
        ' <b data-raw="' + esc(z.composite === null ? '' : z.composite) + '">' + esc(fmt(z.composite)) +
        '</b></button></li>';
    }).join('');
  }
  section.querySelector('#kpi-zone-list').addEventListener('click', function (e) {
    const b = e.target.closest('button[data-zone]');
    if (b) selectZone(b.getAttribute('data-zone'));
  });

  function renderZone() {
    const div = section.querySelector('#kpi-zone');
    const z = state.zone;
    if (!z) {
      div.hidden = true;
      return;
    }
    div.hidden = false;
    const groups = Object.keys(z.kpi);
    div.innerHTML = '<h3>' + esc(zoneName(z)) + ' <small>' + esc(z.zone_id) + '</small>' +
      '<button type="button" class="kpi-close" aria-label="' + esc(t('kpi.close')) + '">×</button></h3>' +
      '<div id="kpi-zone-chart" class="kpi-chart"></div>' +
      groups.map(function (g) {
        const vals = z.kpi[g];
        return '<table class="kpi-table"><caption>' + esc(I18N.label('kpi.group', g)) + '</caption>' +
          Object.keys(vals).map(function (k) {
          const v = vals[k];
          return '<tr><th>' + esc(I18N.label('kpi.key', k)) + '</th><td data-kpi="' + esc(g + '.' + k) + '" data-raw="' +
            esc(v === null ? '' : v) + '">' + esc(fmt(v)) + '</td></tr>';
        }).join('') + '</table>';
      }).join('');
    div.querySelector('.kpi-close').addEventListener('click', function () {
      state.zone = null;
      state.zoneId = null;
      renderZone();
    });
    drawHistory('#kpi-zone-chart', z.zone_id, function (c) { zoneChart = c; }, zoneChart);
  }

  // ------------------------------------------------------------------ charts (uPlot)

  function drawHistory(sel, zoneId, keep, old) {
    const el = section.querySelector(sel);
    if (!el || typeof uPlot !== 'function') return;
    const to = new Date(CLOCK.now());
    const from = new Date(to.getTime() - HISTORY_H * 3600 * 1000);
    const q = '?from=' + from.toISOString().replace(/\.\d+Z$/, 'Z') + '&to=' + to.toISOString().replace(/\.\d+Z$/, 'Z') +
      '&step=60' + (zoneId ? '&zone=' + encodeURIComponent(zoneId) : '');
    getJSON('/kpi/history' + q).then(function (doc) {
      const xs = [], comp = [], peak = [];
      doc.points.forEach(function (p) {
        xs.push(p.t_ms / 1000);
        comp.push(p.kpi.index.composite);
        peak.push(p.kpi.crowd.peak_density);
      });
      if (old) old.destroy();
      el.innerHTML = '';
      const chart = new uPlot({
        width: Math.max(200, el.clientWidth || 280),
        height: 110,
        legend: { show: false },
        // the whole window asked for, so a few points sit where they belong in time
        scales: { x: { time: true, range: [from.getTime() / 1000, to.getTime() / 1000] }, idx: { range: [0, 100] } },
        axes: [{}, { scale: 'idx', size: 36 }, { scale: 'd', side: 1, size: 36, grid: { show: false } }],
        // times on the axis in Makkah time, whatever the browser's zone
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), I18N.timeZone); },
        series: [{}, { label: t('kpi.series_index'), scale: 'idx', stroke: '#1a9641', width: 2 },
                 { label: t('kpi.series_peak'), scale: 'd', stroke: '#d7191c', width: 1 }]
      }, [xs, comp, peak], el);
      el.setAttribute('data-points', String(xs.length));
      const cap = document.createElement('div');
      cap.className = 'kpi-chart-caption';
      cap.innerHTML = '<i style="background:#1a9641"></i>' + esc(t('kpi.caption_index')) +
        ' <i style="background:#d7191c"></i>' + esc(t('kpi.caption_peak', { h: HISTORY_H }));
      el.appendChild(cap);
      keep(chart);
    }).catch(function (e) {
      el.textContent = t('kpi.history_failed', { error: e.message });
    });
  }

  // ------------------------------------------------------------------ counting lines

  // The lines /kpi lists, in the picker (a line's name, else its id); the picked one charted.
  function renderLines() {
    const div = section.querySelector('#kpi-lines');
    div.hidden = !state.lines.length;
    if (!state.lines.length) return;
    const pick = section.querySelector('#kpi-line');
    if (state.lineId === null || !state.lines.some(function (l) { return l.line === state.lineId; }))
      state.lineId = state.lines[0].line;
    pick.innerHTML = state.lines.map(function (l) {
      return '<option value="' + esc(l.line) + '"' + (l.line === state.lineId ? ' selected' : '') + '>' +
        esc(l.name || String(l.line)) + '</option>';
    }).join('');
    const cur = state.lines.find(function (l) { return l.line === state.lineId; });
    const totals = section.querySelector('#kpi-line-totals');
    totals.textContent = t('kpi.lines_totals', { ab: fmt(cur.ab), ba: fmt(cur.ba) });
    totals.setAttribute('data-ab', String(cur.ab));
    totals.setAttribute('data-ba', String(cur.ba));
    selectLine(state.lineId);
  }
  section.querySelector('#kpi-line').addEventListener('change', function (e) {
    state.lineId = Number(e.target.value);
    renderLines();
  });

  // Chart line `id`: people crossing per minute each way over the last HISTORY_H hours.
  function selectLine(id) {
    state.lineId = id;
    const el = section.querySelector('#kpi-line-chart');
    const to = new Date(CLOCK.now());
    const from = new Date(to.getTime() - HISTORY_H * 3600 * 1000);
    const q = '?line=' + encodeURIComponent(id) + '&limit=10000&datetime=' +
      from.toISOString().replace(/\.\d+Z$/, 'Z') + '/..';
    return getJSON('/ogc/collections/counting_line_counts/items' + q).then(function (doc) {
      if (state.lineId !== id || typeof uPlot !== 'function') return;
      const rows = (doc.features || []).map(function (f) { return f.properties; }).sort(function (a, b) {
        return Date.parse(a.minute) - Date.parse(b.minute);
      });
      const xs = rows.map(function (p) { return Date.parse(p.minute) / 1000; });
      const ab = rows.map(function (p) { return p.ab; }), ba = rows.map(function (p) { return p.ba; });
      if (lineChart) lineChart.destroy();
      el.innerHTML = '';
      lineChart = new uPlot({
        width: Math.max(200, el.clientWidth || 280),
        height: 110,
        legend: { show: false },
        scales: { x: { time: true, range: [from.getTime() / 1000, to.getTime() / 1000] } },
        axes: [{}, { size: 36 }],
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), I18N.timeZone); },
        series: [{}, { label: t('kpi.series_ab'), stroke: '#2b83ba', width: 2, points: { show: true } },
                 { label: t('kpi.series_ba'), stroke: '#d95f0e', width: 2, points: { show: true } }]
      }, [xs, ab, ba], el);
      el.setAttribute('data-points', String(xs.length));
      const cap = document.createElement('div');
      cap.className = 'kpi-chart-caption';
      cap.innerHTML = '<i style="background:#2b83ba"></i>' + esc(t('kpi.series_ab')) +
        ' <i style="background:#d95f0e"></i>' + esc(t('kpi.series_ba')) + ' · ' +
        esc(t('kpi.lines_caption', { h: HISTORY_H }));
      el.appendChild(cap);
      const sum = function (v) { return v.reduce(function (a, b) { return a + b; }, 0); };
      state.lineChart = { line: id, minutes: xs.length, ab: sum(ab), ba: sum(ba) };
    }).catch(function (e) {
      el.textContent = t('kpi.history_failed', { error: e.message });
    });
  }

  // ------------------------------------------------------------------ map colouring

  // Recolour the zones by `key`; show the layer too unless `show` is false (the colouring at start).
  function colourBy(key, show) {
    const ind = INDICATORS.find(function (i) { return i.key === key; }) || INDICATORS[0];
    state.indicator = ind.key;
    select.value = ind.key;
    const colours = ind.high ? RAMP : RAMP.slice().reverse();
    const expr = ['interpolate', ['linear'], ['get', ind.key]];
    ind.stops.forEach(function (s, i) { expr.push(s, colours[i]); });
    section.querySelector('#kpi-legend').innerHTML = ind.stops.map(function (s, i) {
      return '<span><i style="background:' + colours[i] + '"></i>' + esc(fmt(s)) + '</span>';
    }).join('') + '<span><i style="background:#9e9e9e"></i>' + esc(t('kpi.not_measured')) + '</span>';
    const map = window.map;
    if (!map || !map.getLayer(LAYER)) return;
    map.setPaintProperty(LAYER, 'fill-color',
      ['case', ['==', ['typeof', ['get', ind.key]], 'number'], expr, '#9e9e9e']);
    if (show === false) return;
    if (window.mashaer && window.mashaer.setGroupVisible) window.mashaer.setGroupVisible('kpi_zones', true);
    else map.setLayoutProperty(LAYER, 'visibility', 'visible');
  }

  // ------------------------------------------------------------------ data

  function selectZone(id) {
    state.zoneId = id;
    return getJSON('/kpi/zones/' + encodeURIComponent(id)).then(function (doc) {
      if (state.zoneId !== id) return;
      state.zone = doc.zone;
      renderZone();
    }).catch(function (e) {
      state.error = e.message;
      section.querySelector('#kpi-status').textContent = t('kpi.zone_failed', { id: id, error: e.message });
    });
  }

  function refresh() {
    return getJSON('/kpi').then(function (doc) {
      state.overall = doc.overall;
      state.zones = doc.zones;
      state.time = doc.time;
      state.error = '';
      section.querySelector('#kpi-status').textContent = t('kpi.as_of', { time: I18N.dateTime(Date.parse(doc.time)),
        zone: t('time.zone') }) + (doc.network ? '' : ' ' + t('kpi.no_network'));
      renderOverall();
      renderZoneList();
      state.lines = doc.counting_lines || [];
      renderLines();
      drawHistory('#kpi-chart', null, function (c) { overallChart = c; }, overallChart);
      if (state.zoneId) selectZone(state.zoneId);
      const map = window.map;
      if (map && map.getSource(SOURCE) && typeof map.refreshTiles === 'function' && map.isSourceLoaded(SOURCE))
        map.refreshTiles(SOURCE);
      window.mashaerKpi.ready = true;
    }).catch(function (e) {
      state.error = e.message;
      section.querySelector('#kpi-status').textContent = t('kpi.failed', { error: e.message });
    });
  }

  function onMapReady(map) {
    map.on('click', LAYER, function (e) {
      const f = e.features && e.features[0];
      if (f && f.properties && f.properties.zone_id) selectZone(f.properties.zone_id);
    });
    if (map.isStyleLoaded()) colourBy(state.indicator, false);
    else map.once('load', function () { colourBy(state.indicator, false); });
  }

  window.mashaerKpi = {
    ready: false,
    state: function () {
      const shown = {};
      section.querySelectorAll('[data-kpi]').forEach(function (el) {
        shown[(el.closest('#kpi-zone') ? 'zone.' : 'overall.') + el.getAttribute('data-kpi')] = el.getAttribute('data-raw');
      });
      return { overall: state.overall, zones: state.zones, zone: state.zone, indicator: state.indicator, shown: shown,
        error: state.error, lines: state.lines, lineChart: state.lineChart };
    },
    selectZone: selectZone,
    selectLine: selectLine,
    colourBy: colourBy,
    refresh: refresh
  };

  (function waitForMap() {
    if (window.map && typeof window.map.on === 'function') onMapReady(window.map);
    else setTimeout(waitForMap, 100);
  })();
  refresh();
  setInterval(function () { if (!document.hidden) refresh(); }, REFRESH_MS);
})();
