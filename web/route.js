/* route.js: walking guidance in the operations viewer.
 *
 *   GET /route?from=&to=          the walking route (live crowd costs, closures), drawn as a line
 *   GET /query/nearest            the nearest working water point, toilet or clinic by walking
 *   GET /isochrone                the area reachable on foot in 10 minutes
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
  const NEAREST = [
    { kind: 'water_point', label: 'Water', ar: 'ماء' },
    { kind: 'toilet', label: 'Toilets', ar: 'دورات مياه' },
    { kind: 'clinic', label: 'Clinic', ar: 'عيادة' }
  ];
  const state = { start: null, end: null, picking: null, route: null, nearest: null, iso: null, error: null };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function km(m) { return m >= 1000 ? (m / 1000).toFixed(2) + ' km' : Math.round(m) + ' m'; }
  function minutes(s) { return s < 90 ? Math.round(s) + ' s' : Math.round(s / 60) + ' min'; }
  function ll(p) { return p[0].toFixed(6) + ',' + p[1].toFixed(6); }

  // ------------------------------------------------------------ the panel section
  const body = document.getElementById('panel-body');
  const sec = document.createElement('section');
  sec.setAttribute('aria-labelledby', 'guide-heading');
  sec.className = 'guide-section';
  sec.innerHTML =
    '<h2 id="guide-heading"><span>Walking guidance</span> <span lang="ar" dir="rtl">الإرشاد للمشي</span></h2>' +
    '<div class="guide-buttons">' +
    '<button type="button" id="guide-start" aria-pressed="false">Set start <span lang="ar" dir="rtl">البداية</span></button>' +
    '<button type="button" id="guide-end" aria-pressed="false">Set end <span lang="ar" dir="rtl">الوجهة</span></button>' +
    '<button type="button" id="guide-clear">Clear</button></div>' +
    '<div class="guide-buttons" role="group" aria-label="Nearest from the start">' +
    NEAREST.map(function (n) {
      return '<button type="button" data-kind="' + n.kind + '">Nearest ' + esc(n.label) +
        ' <span lang="ar" dir="rtl">' + esc(n.ar) + '</span></button>';
    }).join('') +
    '<button type="button" id="guide-iso">10 min on foot</button></div>' +
    '<div id="guide-out" class="guide-out" aria-live="polite"><span class="muted">Pick a start point on the map.</span></div>';
  const firstSection = body.querySelector('section');
  body.insertBefore(sec, firstSection ? firstSection.nextSibling : null);
  const out = sec.querySelector('#guide-out');
  const bStart = sec.querySelector('#guide-start'), bEnd = sec.querySelector('#guide-end');

  function setPicking(which) {
    state.picking = which;
    bStart.setAttribute('aria-pressed', String(which === 'start'));
    bEnd.setAttribute('aria-pressed', String(which === 'end'));
    map.getCanvas().style.cursor = which ? 'crosshair' : '';
    if (which) out.innerHTML = '<span class="muted">Click the map to set the ' + which + '.</span>';
  }
  bStart.addEventListener('click', function () { setPicking(state.picking === 'start' ? null : 'start'); });
  bEnd.addEventListener('click', function () { setPicking(state.picking === 'end' ? null : 'end'); });
  sec.querySelector('#guide-clear').addEventListener('click', clear);
  sec.querySelectorAll('button[data-kind]').forEach(function (b) {
    b.addEventListener('click', function () { nearest(b.getAttribute('data-kind')); });
  });
  sec.querySelector('#guide-iso').addEventListener('click', function () { isochrone(10); });

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

  async function getJSON(url) {
    const r = await fetch(url);
    const doc = await r.json().catch(function () { return {}; });
    if (!r.ok) throw new Error(doc.error || ('HTTP ' + r.status));
    return doc;
  }
  function showError(e) {
    state.error = e.message;
    out.innerHTML = '<p class="guide-error" role="alert">' + esc(e.message) + '</p>';
  }

  // ------------------------------------------------------------ actions
  async function route() {
    if (!state.start || !state.end) return null;
    try {
      const doc = await getJSON('/route?from=' + ll(state.start) + '&to=' + ll(state.end));
      state.route = doc;
      state.error = null;
      ensureLayers();
      map.getSource('guide-route').setData(doc);
      const p = doc.properties;
      const notes = [];
      if (p.los_f_edges) notes.push('passes ' + p.los_f_edges + ' crowded segment(s): no other way');
      if (p.slowed_edges) notes.push(p.slowed_edges + ' segment(s) slowed by the crowd');
      if (p.closed_edges) notes.push('avoids walkways closed by incidents');
      if (p.leaves_closure) notes.push('starts or ends inside a closed area');
      out.innerHTML = '<p class="guide-summary"><strong>' + km(p.length_m) + '</strong> · about <strong>' +
        minutes(p.duration_s) + '</strong> on foot' + (p.live_costs ? ' at current crowd speeds' : '') + '</p>' +
        (notes.length ? '<p class="muted">' + esc(notes.join('; ')) + '</p>' : '') +
        '<ol class="guide-steps">' + p.steps.slice(0, 12).map(function (s) {
          return '<li>' + esc(s.instruction) + (s.heading ? ' ' + esc(s.heading) : '') +
            (s.distance_m ? ' · ' + km(s.distance_m) : '') + '</li>';
        }).join('') + (p.steps.length > 12 ? '<li class="muted">… ' + (p.steps.length - 12) + ' more</li>' : '') +
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
    if (!state.start) { out.innerHTML = '<span class="muted">Set a start point first.</span>'; return null; }
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
            km(f.properties.walking_m) + ' walk (' + km(f.properties.straight_m) + ' straight)</li>';
        }).join('') + '</ol>'
        : '<span class="muted">None within reach.</span>';
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
    if (!state.start) { out.innerHTML = '<span class="muted">Set a start point first.</span>'; return null; }
    try {
      const doc = await getJSON('/isochrone?lon=' + state.start[0].toFixed(6) + '&lat=' + state.start[1].toFixed(6) +
        '&minutes=' + min);
      state.iso = doc;
      ensureLayers();
      map.getSource('guide-iso').setData(doc);
      out.innerHTML = '<p class="guide-summary">Reachable on foot in ' + min + ' min: <strong>' +
        (doc.properties.area_m2 / 1e6).toFixed(2) + ' km²</strong></p>';
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
    out.innerHTML = '<span class="muted">Pick a start point on the map.</span>';
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
