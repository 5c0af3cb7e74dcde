/* console_forecast.js: the forecast panel of the operations console (a tab of web/console.js).
 *
 * A time slider from now to 30 minutes ahead (the server's horizons: 0, 5, 10, 15, 20, 30) switches
 * the map's forecast layer (GET /tiles/forecast/{z}/{x}/{y}.mvt?minutes=M, drawn in the colours of
 * the density legend the server publishes, /heatmaps/density/legend) and lists the service zones by
 * their predicted peak density up to that time (GET /forecast/zones?minutes=M: the peak, its level
 * of service and when it is reached). Under it, the `forecast` warnings of the console's event
 * stream as they come (raised and updated ones kept per place, cleared ones taken away), each with a
 * button that shows the place on the map. A new forecast (any `forecast` event) reloads the list and
 * the layer's tiles. The slider runs in the page's direction: from right to left in Arabic.
 *
 * Words: web/i18n.js; requests, messages and dialogs: the console's (window.mashaerConsole.kit).
 * For browser tests: window.mashaerForecast.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc;

  const MINUTES = [0, 5, 10, 15, 20, 30];
  const START = 2; // 10 minutes ahead
  const SRC = 'console-forecast';
  const FILL = 'console-forecast-fill';
  const LINE = 'console-forecast-line';

  const st = { minutes: MINUTES[START], zones: [], warnings: {}, colours: null, started: false, status: 'idle', issued: null };

  function tileUrl(m) { return location.origin + '/tiles/forecast/{z}/{x}/{y}.mvt?minutes=' + m; }
  function shown() { return st.started && k.el('fc-show').checked; }

  // The layer in the legend's colours (one per level of service), added once the style and the legend are in.
  function colourExpr() {
    const e = ['match', ['get', 'los']];
    Object.keys(st.colours).forEach(function (los) { e.push(los, st.colours[los]); });
    e.push('#888888');
    return e;
  }
  function ensureLayer() {
    if (!st.colours || !k.styleReady()) return;
    if (!map.getSource(SRC)) map.addSource(SRC, { type: 'vector', tiles: [tileUrl(st.minutes)], minzoom: 0, maxzoom: 22 });
    const vis = shown() ? 'visible' : 'none';
    if (!map.getLayer(FILL)) {
      map.addLayer({ id: FILL, type: 'fill', source: SRC, 'source-layer': 'forecast', layout: { visibility: vis },
        paint: { 'fill-color': colourExpr(), 'fill-opacity': 0.55 } });
      map.addLayer({ id: LINE, type: 'line', source: SRC, 'source-layer': 'forecast', layout: { visibility: vis },
        paint: { 'line-color': colourExpr(), 'line-width': 1 } });
    }
    [FILL, LINE].forEach(function (id) { map.setLayoutProperty(id, 'visibility', vis); });
  }
  map.on('styledata', function () { if (st.started && !map.getSource(SRC)) ensureLayer(); });
  map.on('load', ensureLayer);

  function loadColours() {
    if (st.colours) return Promise.resolve();
    return k.api('GET', '/heatmaps/density/legend').then(function (res) {
      if (!res.ok) return;
      st.colours = {};
      (res.json.levels || []).forEach(function (lv) { st.colours[lv.los] = lv.colour; });
      ensureLayer();
    }, k.netFail);
  }

  function minutesText(m) { return m ? t('console.fc.ahead', { n: I18N.num(m) }) : t('console.fc.now'); }

  function setMinutes(m) {
    st.minutes = m;
    k.el('fc-minutes').textContent = minutesText(m);
    k.el('fc-slider').setAttribute('aria-valuetext', minutesText(m));
    const src = map.getSource(SRC);
    if (src) src.setTiles([tileUrl(m)]);
    reloadZones();
  }

  function reloadZones() {
    const m = st.minutes;
    return k.api('GET', '/forecast/zones?minutes=' + m).then(function (res) {
      if (m !== st.minutes) return; // the slider moved on
      const status = k.el('fc-status');
      if (!res.ok) {
        st.zones = [];
        st.status = res.status === 404 ? 'off' : res.status === 503 ? 'not_ready' : 'error';
        status.textContent = res.status === 404 ? t('console.fc.off') : res.status === 503 ? t('console.fc.not_ready') : k.errorText(res);
        renderZones();
        return;
      }
      st.status = 'ok';
      st.issued = res.json.issued_at;
      status.textContent = t('console.fc.issued', { time: I18N.time(Date.parse(res.json.issued_at)) });
      st.zones = (res.json.zones || []).slice().sort(function (a, b) { return b.peak_density - a.peak_density; });
      renderZones();
    }, k.netFail);
  }

  function renderZones() {
    const list = k.el('fc-zones');
    if (!st.zones.length) {
      list.innerHTML = st.status === 'ok' ? '<li class="muted">' + esc(t('console.fc.zones_none')) + '</li>' : '';
      return;
    }
    list.innerHTML = st.zones.map(function (z) {
      const when = z.peak_minutes ? t('console.fc.when', { time: I18N.time(Date.parse(z.peak_at)), n: I18N.num(z.peak_minutes) }) :
        t('console.fc.when_now');
      return '<li class="console-item fc-zone" data-zone="' + esc(z.zone) + '" data-los="' + esc(z.los) + '" data-minutes="' +
        esc(z.peak_minutes) + '"><span><b dir="ltr">' + esc(t('console.fc.zone', { id: z.zone })) + '</b> · ' +
        esc(t('console.fc.peak', { density: I18N.num(z.peak_density, 2) })) + ' · ' + esc(when) + '</span>' +
        '<span class="fc-los" data-los="' + esc(z.los) + '">' + esc(t('console.fc.level', { los: z.los })) + '</span></li>';
    }).join('');
    list.querySelectorAll('.fc-los').forEach(function (b) {
      if (st.colours && st.colours[b.dataset.los]) b.style.borderInlineStartColor = st.colours[b.dataset.los];
    });
  }

  // ---- warnings (SSE `forecast`: raised, updated, cleared, one place each)

  function renderWarnings() {
    const list = k.el('fc-warnings');
    const all = Object.keys(st.warnings).map(function (c) { return st.warnings[c]; })
      .sort(function (a, b) { return (b.level > a.level) - (b.level < a.level) || a.minutes - b.minutes; });
    if (!all.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.fc.warnings_none')) + '</li>';
      return;
    }
    list.innerHTML = all.map(function (w) {
      return '<li class="console-item fc-warning" data-cell="' + esc(w.cell) + '" data-level="' + esc(w.level) + '"><span>' +
        esc(t('console.fc.warning', { level: w.level, n: I18N.num(w.minutes), density: I18N.num(w.density, 2) })) + '</span>' +
        '<button type="button">' + esc(t('console.fc.show_place')) + '</button></li>';
    }).join('');
    list.querySelectorAll('li[data-cell] button').forEach(function (b) {
      b.addEventListener('click', function () {
        const w = st.warnings[b.parentNode.dataset.cell];
        if (w) map.flyTo({ center: [w.lon, w.lat], zoom: Math.max(map.getZoom(), 17) });
      });
    });
  }

  function onForecast(d) {
    if (!d.cell) return;
    if (d.state === 'cleared') delete st.warnings[d.cell];
    else st.warnings[d.cell] = d;
    renderWarnings();
    // a refresh published a new forecast: its zones and tiles
    k.soon('fc-zones', function () {
      reloadZones();
      const src = map.getSource(SRC);
      if (src) src.setTiles([tileUrl(st.minutes)]);
    });
  }

  // ---- the panel

  C.addPanel({
    id: 'forecast',
    types: ['forecast'],
    init: function (pane) {
      const ticks = MINUTES.map(function (m, i) { return '<option value="' + i + '" label="' + esc(minutesText(m)) + '"></option>'; }).join('');
      pane.innerHTML =
        '<h3>' + esc(t('console.fc.heading')) + '</h3>' +
        '<div class="fc-slider-row"><label for="fc-slider">' + esc(t('console.fc.slider')) + '</label>' +
        '<input id="fc-slider" type="range" min="0" max="' + (MINUTES.length - 1) + '" step="1" value="' + START + '" list="fc-ticks">' +
        '<datalist id="fc-ticks">' + ticks + '</datalist>' +
        '<output id="fc-minutes" for="fc-slider" class="fc-minutes"></output></div>' +
        '<label class="console-radio"><input type="checkbox" id="fc-show" checked> ' + esc(t('console.fc.show')) + '</label>' +
        '<p id="fc-status" class="muted" role="status"></p>' +
        '<h4>' + esc(t('console.fc.zones_heading')) + '</h4><ul id="fc-zones" class="console-list"></ul>' +
        '<h4>' + esc(t('console.fc.warnings_heading')) + '</h4><ul id="fc-warnings" class="console-list" aria-live="polite"></ul>';
      k.el('fc-minutes').textContent = minutesText(st.minutes);
      k.el('fc-slider').addEventListener('input', function (e) { setMinutes(MINUTES[Number(e.target.value)]); });
      k.el('fc-show').addEventListener('change', ensureLayer);
      renderWarnings();
    },
    start: function () {
      st.started = true;
      loadColours().then(ensureLayer);
    },
    stop: function () {
      st.started = false;
      if (map.getLayer(FILL)) ensureLayer();
    },
    reload: reloadZones,
    event: function (type, d) { if (type === 'forecast') onForecast(d); }
  });

  window.mashaerForecast = {
    state: function () {
      return { minutes: st.minutes, status: st.status, issued: st.issued, layer: !!map.getLayer(FILL),
        zones: st.zones.map(function (z) { return { zone: z.zone, los: z.los, peak_minutes: z.peak_minutes }; }),
        warnings: Object.keys(st.warnings) };
    }
  };
})();
