/* route.js: walking guidance in the operations viewer.
 *
 *   GET /route?from=&to=          the walking route (live crowd costs, closures), drawn as a line
 *   GET /query/nearest            the nearest working water point, toilet or clinic by walking
 *   GET /isochrone                the area reachable on foot in 10 minutes
 *
 * The route's steps are the server's own sentences in the page's language (/route?lang=ar|en); every
 * other word comes from web/i18n.js (window.I18N).
 *
 * The panel section "Walking guidance": "Set start" / "Set end" then a click on the map (the
 * feature popup waits while a point is being picked). For browser tests:
 * window.mashaerRoute.setStart([lon, lat]) / setEnd / nearest(kind) / isochrone(minutes) return
 * promises; state() returns what the section shows.
 */
(function () {
  'use strict';

  const map = window.map;
  if (!map) return;
  const I18N = window.I18N;
  const t = I18N.t;
  const NEAREST = ['water_point', 'toilet', 'clinic'];
  const ISO_MINUTES = 10;
  const state = { start: null, end: null, picking: null, route: null, nearest: null, iso: null, error: null };

  function muted(key) { return '<span class="muted">' + esc(t(key)) + '</span>'; }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function km(m) {
    return m >= 1000 ? t('unit.km', { n: I18N.num(m / 1000, 2, 2) }) : t('unit.m', { n: I18N.num(Math.round(m), 0) });
  }
  function minutes(s) {
    return s < 90 ? t('unit.s', { n: I18N.num(Math.round(s), 0) }) : t('unit.min', { n: I18N.num(Math.round(s / 60), 0) });
  }
  function ll(p) { return p[0].toFixed(6) + ',' + p[1].toFixed(6); }

  // ------------------------------------------------------------ the panel section
  const body = document.getElementById('panel-body');
  const sec = document.createElement('section');
  sec.setAttribute('aria-labelledby', 'guide-heading');
  sec.className = 'guide-section';
  sec.innerHTML =
    '<h2 id="guide-heading">' + esc(t('guide.heading')) + '</h2>' +
    '<div class="guide-buttons">' +
    '<button type="button" id="guide-start" aria-pressed="false">' + esc(t('guide.start')) + '</button>' +
    '<button type="button" id="guide-end" aria-pressed="false">' + esc(t('guide.end')) + '</button>' +
    '<button type="button" id="guide-clear">' + esc(t('guide.clear')) + '</button></div>' +
    '<div class="guide-buttons" role="group" aria-label="' + esc(t('guide.nearest_group')) + '">' +
    NEAREST.map(function (kind) {
      return '<button type="button" data-kind="' + kind + '">' + esc(t('guide.nearest.' + kind)) + '</button>';
    }).join('') +
    '<button type="button" id="guide-iso">' + esc(t('guide.iso', { n: ISO_MINUTES })) + '</button></div>' +
    '<div id="guide-out" class="guide-out" aria-live="polite">' + muted('guide.pick') + '</div>';
  const firstSection = body.querySelector('section');
  body.insertBefore(sec, firstSection ? firstSection.nextSibling : null);
  const out = sec.querySelector('#guide-out');
  const bStart = sec.querySelector('#guide-start'), bEnd = sec.querySelector('#guide-end');

  function setPicking(which) {
    state.picking = which;
    bStart.setAttribute('aria-pressed', String(which === 'start'));
    bEnd.setAttribute('aria-pressed', String(which === 'end'));
    map.getCanvas().style.cursor = which ? 'crosshair' : '';
    if (which) out.innerHTML = muted(which === 'start' ? 'guide.click_start' : 'guide.click_end');
  }
  bStart.addEventListener('click', function () { setPicking(state.picking === 'start' ? null : 'start'); });
  bEnd.addEventListener('click', function () { setPicking(state.picking === 'end' ? null : 'end'); });
  sec.querySelector('#guide-clear').addEventListener('click', clear);
  sec.querySelectorAll('button[data-kind]').forEach(function (b) {
    b.addEventListener('click', function () { nearest(b.getAttribute('data-kind')); });
  });
  sec.querySelector('#guide-iso').addEventListener('click', function () { isochrone(ISO_MINUTES); });

  // ------------------------------------------------------------ map layers
  const EMPTY = { type: 'FeatureCollection', features: [] };
  function ensureLayers() {
    if (map.getSource('guide-route')) return;
    map.addSource('guide-iso', { type: 'geojson', data: EMPTY });
    map.addSource('guide-route', { type: 'geojson', data: EMPTY });
    map.addSource('guide-points', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'guide-iso-fill', type: 'fill', source: 'guide-iso',
      paint: { 'fill-color': '#7b3294', 'fill-opacity': 0.18 } });
    map.addLayer({ id: 'guide-iso-line', type: 'line', source: 'guide-iso',
      paint: { 'line-color': '#7b3294', 'line-width': 1.5 } });
    map.addLayer({ id: 'guide-route-casing', type: 'line', source: 'guide-route',
      layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': '#ffffff', 'line-width': 8 } });
    map.addLayer({ id: 'guide-route-line', type: 'line', source: 'guide-route',
      layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': '#1565c0', 'line-width': 4.5 } });
    map.addLayer({ id: 'guide-points', type: 'circle', source: 'guide-points',
      paint: { 'circle-radius': 7, 'circle-stroke-width': 2, 'circle-stroke-color': '#ffffff',
        'circle-color': ['match', ['get', 'role'], 'start', '#2e7d32', 'end', '#c62828', '#f9a825'] } });
  }
  function drawPoints() {
    ensureLayers();
    const f = [];
    if (state.start) f.push({ type: 'Feature', properties: { role: 'start' }, geometry: { type: 'Point', coordinates: state.start } });
    if (state.end) f.push({ type: 'Feature', properties: { role: 'end' }, geometry: { type: 'Point', coordinates: state.end } });
    ((state.nearest && state.nearest.features) || []).forEach(function (n) {
      f.push({ type: 'Feature', properties: { role: 'nearest' }, geometry: n.geometry });
    });
    map.getSource('guide-points').setData({ type: 'FeatureCollection', features: f });
  }

  // The answer's JSON; a failure throws the catalogue's words for its status, which in English are
  // the server's own message ("guide.error": "{detail}"), with the server's message kept as `detail`.
  async function getJSON(url) {
    const r = await fetch(url);
    const doc = await r.json().catch(function () { return {}; });
    if (!r.ok) {
      const detail = doc.error || String(r.status);
      const e = new Error(t('guide.error', { status: r.status, detail: detail }));
      e.detail = detail;
      throw e;
    }
    return doc;
  }
  function showError(e) {
    state.error = e.message;
    out.innerHTML = '<p class="guide-error" role="alert" title="' + esc(e.detail || '') + '">' + esc(e.message) + '</p>';
  }

  // ------------------------------------------------------------ actions
  async function route() {
    if (!state.start || !state.end) return null;
    try {
      const doc = await getJSON('/route?from=' + ll(state.start) + '&to=' + ll(state.end) + '&lang=' + I18N.lang);
      state.route = doc;
      state.error = null;
      ensureLayers();
      map.getSource('guide-route').setData(doc);
      const p = doc.properties;
      const notes = [];
      if (p.los_f_edges) notes.push(t('guide.los_f', { n: p.los_f_edges }));
      if (p.slowed_edges) notes.push(t('guide.slowed', { n: p.slowed_edges }));
      if (p.closed_edges) notes.push(t('guide.closed'));
      if (p.leaves_closure) notes.push(t('guide.leaves'));
      // the summary's figures in bold: the sentence is escaped, then its two figures wrapped
      const len = km(p.length_m), dur = minutes(p.duration_s);
      const summary = esc(t(p.live_costs ? 'guide.summary_live' : 'guide.summary', { length: '\u0001', time: '\u0002' }))
        .replace('\u0001', '<strong>' + esc(len) + '</strong>').replace('\u0002', '<strong>' + esc(dur) + '</strong>');
      out.innerHTML = '<p class="guide-summary">' + summary + '</p>' +
        (notes.length ? '<p class="muted">' + esc(notes.join(t('guide.note_sep'))) + '</p>' : '') +
        '<ol class="guide-steps">' + p.steps.slice(0, 12).map(function (s) {
          return '<li data-maneuver="' + esc(s.maneuver || '') + '">' + esc(s.instruction) +
            (s.distance_m ? ' · ' + esc(km(s.distance_m)) : '') + '</li>';
        }).join('') + (p.steps.length > 12 ? '<li class="muted">' + esc(t('guide.more', { n: p.steps.length - 12 })) + '</li>' : '') +
        '</ol>';
      return doc;
    } catch (e) {
      state.route = null; // an old line must not stand for a route that was not found
      if (map.getSource('guide-route')) map.getSource('guide-route').setData(EMPTY);
      showError(e);
      return null;
    }
  }

  async function nearest(kind) {
    if (!state.start) { out.innerHTML = muted('guide.need_start'); return null; }
    const filter = "kind='" + kind + "' AND status='working'";
    try {
      const doc = await getJSON('/query/nearest?lon=' + state.start[0].toFixed(6) + '&lat=' + state.start[1].toFixed(6) +
        '&layer=assets&limit=3&filter=' + encodeURIComponent(filter));
      state.nearest = doc;
      state.error = null;
      drawPoints();
      out.innerHTML = doc.features.length
        ? '<ol class="guide-steps">' + doc.features.map(function (f) {
          return '<li><button type="button" class="linkish" data-lon="' + f.geometry.coordinates[0] + '" data-lat="' +
            f.geometry.coordinates[1] + '">' + esc(f.properties.asset_id || f.id) + '</button> · ' +
            esc(t('guide.walk', { walk: km(f.properties.walking_m), straight: km(f.properties.straight_m) })) + '</li>';
        }).join('') + '</ol>'
        : muted('guide.none');
      out.querySelectorAll('button[data-lon]').forEach(function (b) {
        b.addEventListener('click', function () {
          setEnd([Number(b.getAttribute('data-lon')), Number(b.getAttribute('data-lat'))]);
        });
      });
      return doc;
    } catch (e) {
      showError(e);
      return null;
    }
  }

  async function isochrone(min) {
    if (!state.start) { out.innerHTML = muted('guide.need_start'); return null; }
    try {
      const doc = await getJSON('/isochrone?lon=' + state.start[0].toFixed(6) + '&lat=' + state.start[1].toFixed(6) +
        '&minutes=' + min);
      state.iso = doc;
      ensureLayers();
      map.getSource('guide-iso').setData(doc);
      out.innerHTML = '<p class="guide-summary">' + esc(t('guide.iso_result', { min: min,
        area: t('unit.km2', { n: I18N.num(doc.properties.area_m2 / 1e6, 2, 2) }) })) + '</p>';
      return doc;
    } catch (e) {
      showError(e);
      return null;
    }
  }

  function setStart(p) { state.start = p; setPicking(null); drawPoints(); return state.end ? route() : Promise.resolve(null); }
  function setEnd(p) { state.end = p; setPicking(null); drawPoints(); return state.start ? route() : Promise.resolve(null); }
  function clear() {
    Object.assign(state, { start: null, end: null, route: null, nearest: null, iso: null, error: null });
    setPicking(null);
    if (map.getSource('guide-route')) {
      ['guide-route', 'guide-iso', 'guide-points'].forEach(function (s) { map.getSource(s).setData(EMPTY); });
    }
    out.innerHTML = muted('guide.pick');
  }

  map.on('click', function (e) {
    if (!state.picking) return;
    const p = [e.lngLat.lng, e.lngLat.lat];
    if (state.picking === 'start') setStart(p); else setEnd(p);
  });

  window.mashaerRoute = {
    picking: function () { return !!state.picking; },
    setStart: setStart,
    setEnd: setEnd,
    nearest: nearest,
    isochrone: isochrone,
    clear: clear,
    state: function () {
      return { start: state.start, end: state.end, error: state.error, text: out.textContent,
        route: state.route && state.route.properties, nearest: state.nearest && state.nearest.features.map(function (f) {
          return { id: f.properties.asset_id, walking_m: f.properties.walking_m };
        }), iso: state.iso && state.iso.properties };
    }
  };
})();
