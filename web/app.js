/* Mashaer operations viewer.
 *
 * Plain script, no bundler. Served by the Mashaer server:
 *   /styles/operations.json   MapLibre style (sources point at /tiles/...)
 *   /catalog                  {"layers":[{id, kind, geometry_type, bounds, minzoom,
 *                              maxzoom, fields, feature_count, version}]}
 *   /vendor/maplibre-gl/...   maplibre-gl from web/node_modules
 *   /vendor/@mapbox/mapbox-gl-rtl-text/...  MapLibre's RTL text plugin (Arabic shaping)
 *   /fonts/..., /sprites/...  the style's SDF glyphs and icons, made by the server
 *
 * Style layers carry metadata {"mashaer:group": "<data layer id>"}; the layer
 * list toggles every style layer of a group together.
 *
 * Live layers (kind "live" in /catalog: movement, incidents, crews, gates, sensors)
 * come from the style's second source, "live", which is refreshed every 2 s (see
 * "live refresh" below); the incidents panel lists the open incidents in view.
 * `positions` (individual people) is ops only and never in the public style.
 *
 * Words, numbers and times come from web/i18n.js (window.I18N): none is written here. In Arabic the
 * page is right to left: the panel on the right, MapLibre's controls mirrored, labels in Arabic.
 *
 * For browser tests: window.map is the maplibregl.Map; window.mashaerReady
 * becomes true after the map's first "idle"; window.mashaer is a small API.
 */
(function () {
  'use strict';

  const STYLE_URL = '/styles/operations.json';
  const CATALOG_URL = '/catalog';
  const GROUP_KEY = 'mashaer:group';
  const LIVE_SOURCE = 'live';
  const LIVE_REFRESH_MS = 2000;
  const START = { center: [39.90, 21.40], zoom: 12.5 };
  const I18N = window.I18N;
  const t = I18N.t;
  const CLOCK = window.mashaerClock; // the server's clock (web/clock.js): what "now" is here
  const RTL = I18N.dir === 'rtl';
  const K_ANON = 5; // movement cells with fewer people are left out (mashaer serve --k-anon)

  // Site extents (lon/lat) of the demo site; see docs/HAJJ-FACTS.md.
  const PLACES = [
    { id: 'all', bounds: [39.8203, 21.3420, 40.0070, 21.4334] },
    { id: 'haram', bounds: [39.8203, 21.4171, 39.8329, 21.4280] },
    { id: 'jamarat', bounds: [39.8565, 21.4163, 39.8757, 21.4275] },
    { id: 'mina', bounds: [39.8768, 21.4060, 39.9032, 21.4334] },
    { id: 'muzdalifah', bounds: [39.9060, 21.3765, 39.9520, 21.4015] },
    { id: 'arafat', bounds: [39.9700, 21.3420, 40.0070, 21.3725] }
  ];

  // How the known data layers are listed (titles and notes: "group.<id>" in i18n.js; others by id).
  const GROUP_INFO = {
    movement: { legend: false },
    sensors: { unit: 'unit.degc' },
    kpi_zones: { legend: false }
  };
  // Fields whose values are codes with words in the catalogue ("value.<code>"); others are data.
  const CODED_FIELDS = ['kind', 'status', 'severity', 'site', 'site_id', 'service', 'shift', 'los'];

  // Fruin walkway level of service, persons/m² (docs/HAJJ-FACTS.md; the server's msh_fruin_los).
  const FRUIN = [
    { los: 'A', from: null, to: 0.31 },
    { los: 'B', from: 0.31, to: 0.43 },
    { los: 'C', from: 0.43, to: 0.72 },
    { los: 'D', from: 0.72, to: 1.08 },
    { los: 'E', from: 1.08, to: 2.15 },
    { los: 'F', from: 2.15, to: null }
  ];

  const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, informational: 4 };
  const MAX_INCIDENTS_LISTED = 30;

  // Properties that name a feature, best first (the name in the page's language first).
  const TITLE_KEYS = [I18N.lang === 'ar' ? 'name_ar' : 'name', 'name', 'camp_id', 'zone_id', 'route_id', 'asset_id', 'site_id', 'id'];

  const GEOMETRY_NOUN = {
    Point: 'geom.points', MultiPoint: 'geom.points',
    LineString: 'geom.lines', MultiLineString: 'geom.lines',
    Polygon: 'geom.areas', MultiPolygon: 'geom.areas'
  };

  const panel = document.getElementById('panel');
  const toggle = document.getElementById('panel-toggle');
  const layerList = document.getElementById('layer-list');
  const flyto = document.getElementById('flyto');
  const statusEl = document.getElementById('status');
  const incidentList = document.getElementById('incident-list');
  const incidentCount = document.getElementById('incident-count');
  const liveStatusEl = document.getElementById('live-status');
  const losLegend = document.getElementById('los-legend');

  // ---------------------------------------------------------------- helpers

  function esc(value) {
    return String(value)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  }

  function fieldLabel(key) { return I18N.label('field', key); }
  function codeLabel(value) { return I18N.label('value', value); }

  function codeLabels(v) { return Array.isArray(v) ? v.map(codeLabel).join(t('list.sep')) : codeLabel(v); }

  function groupTitle(id) {
    // an imported layer's own name (any script) when its id had to be transliterated
    const c = (catalogLayers || []).find(function (l) { return l.id === id; });
    if (!I18N.has('group.' + id) && c && c.title && c.title !== id) return c.title;
    return I18N.label('group', id);
  }

  function formatNumber(n, maxFrac) { return I18N.num(n, maxFrac); }

  function formatValue(key, v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'boolean') return t(v ? 'value.yes' : 'value.no');
    if (typeof v === 'number') {
      if (key === 'fill_level' && v >= 0 && v <= 1) return t('unit.pct', { n: formatNumber(v * 100, 0) });
      return Number.isInteger(v) ? formatNumber(v, 0) : formatNumber(v, 4);
    }
    if (typeof v === 'object') return JSON.stringify(v);
    // an ISO 8601 instant (reported_at, updated_at, time): the date and time in Makkah time
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) && isFinite(Date.parse(v))) return I18N.dateTime(Date.parse(v));
    if (CODED_FIELDS.indexOf(key) >= 0 && I18N.has('value.' + v)) return codeLabel(v);
    return String(v);
  }

  function isColor(s) {
    return typeof s === 'string' && /^(#|rgb|hsl)/i.test(s.trim());
  }

  // First colour found in a paint value (plain colour or expression).
  function firstColor(v) {
    if (isColor(v)) return v;
    if (Array.isArray(v)) {
      for (let i = 1; i < v.length; i++) {
        const c = firstColor(v[i]);
        if (c) return c;
      }
    }
    return null;
  }

  // Legend entries from a ["match", ["get", field], v1, c1, v2, c2, ..., fallback].
  // The property a match/step reads: ["get", f], or the first of ["coalesce", ["get", f], ...].
  function inputField(e) {
    if (!Array.isArray(e)) return null;
    if (e[0] === 'get') return e[1];
    if (e[0] === 'coalesce') {
      for (let i = 1; i < e.length; i++) {
        const f = inputField(e[i]);
        if (f) return f;
      }
    }
    return null;
  }

  function matchLegend(v) {
    if (!Array.isArray(v) || v[0] !== 'match' || !inputField(v[1])) return null;
    const items = [];
    for (let i = 2; i + 1 < v.length; i += 2) {
      if (!isColor(v[i + 1])) return null;
      const label = Array.isArray(v[i]) ? v[i].join(', ') : String(v[i]);
      items.push({ label: label, value: v[i], color: v[i + 1] });
    }
    return items.length ? { field: inputField(v[1]), items: items } : null;
  }

  // Legend entries from a ["step", ["get", field], c0, t1, c1, ..., tn, cn] (numeric classes).
  function stepLegend(v, unit) {
    if (!Array.isArray(v) || v[0] !== 'step' || !Array.isArray(v[1]) || v[1][0] !== 'get') return null;
    const stops = [];
    for (let i = 3; i + 1 < v.length; i += 2) {
      if (typeof v[i] !== 'number' || !isColor(v[i + 1])) return null;
      stops.push(v[i]);
    }
    if (!stops.length || !isColor(v[2])) return null;
    const u = function (x) { return unit ? t(unit, { n: x }) : x; };
    const items = [{ label: '< ' + u(formatNumber(stops[0])), color: v[2] }];
    for (let i = 0; i < stops.length; i++) {
      items.push({
        label: i + 1 < stops.length ? u(formatNumber(stops[i]) + '–' + formatNumber(stops[i + 1])) :
          '> ' + u(formatNumber(stops[i])),
        color: v[4 + 2 * i]
      });
    }
    return { field: v[1][1], items: items, raw: true };
  }

  // The first match or step legend found in a paint value (also inside case/coalesce).
  function findLegend(v, unit) {
    if (!Array.isArray(v)) return null;
    const own = matchLegend(v) || stepLegend(v, unit);
    if (own) return own;
    for (let i = 1; i < v.length; i++) {
      const inner = findLegend(v[i], unit);
      if (inner) return inner;
    }
    return null;
  }

  function setStatus(text) {
    statusEl.textContent = text;
  }

  // ---------------------------------------------------------------- map

  if (typeof maplibregl === 'undefined') {
    setStatus(t('status.lib_failed', { url: '/vendor/maplibre-gl/maplibre-gl.js' }));
    return;
  }

  // Arabic labels: the RTL text plugin joins and orders Arabic (to presentation forms, which the
  // server's glyph ranges carry) before MapLibre places glyphs. Registered before the map exists
  // and loaded at once (not lazily), so the first labels drawn are already right. Absolute URL:
  // the plugin is loaded inside MapLibre's workers.
  const RTL_PLUGIN_URL = new URL('/vendor/@mapbox/mapbox-gl-rtl-text/mapbox-gl-rtl-text.js', location.href).href;
  if (maplibregl.getRTLTextPluginStatus() === 'unavailable') {
    maplibregl.setRTLTextPlugin(RTL_PLUGIN_URL, false).catch(function (e) {
      setStatus(t('status.rtl_failed', { url: RTL_PLUGIN_URL, error: e.message }));
    });
  }

  // The data licence's credit: a legal notice, the same words in every language (ODbL).
  const OSM_CREDIT = '© OpenStreetMap contributors';
  const startedWithHash = !!location.hash; // a shared link (#zoom/lat/lon) keeps its view

  const map = new maplibregl.Map({
    container: 'map',
    style: STYLE_URL,
    center: START.center,
    zoom: START.zoom,
    hash: true,
    attributionControl: false,
    maxPitch: 0,
    dragRotate: false,
    locale: I18N.group('maplibre.') // the words of MapLibre's own controls
  });
  window.map = map;
  window.mashaerReady = false;
  map.touchZoomRotate.disableRotation();

  // Controls on the side away from the panel: mirrored in Arabic (the panel is on the right there).
  const END = RTL ? 'left' : 'right', START_SIDE = RTL ? 'right' : 'left';
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-' + END);
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-' + START_SIDE);
  map.addControl(new maplibregl.AttributionControl({
    compact: false,
    customAttribution: OSM_CREDIT
  }), 'bottom-' + END);

  // True once the style is loaded (map "load"). Not map.isStyleLoaded(), which
  // is false again whenever tiles are loading.
  let styleReady = false;
  let lastError = '';
  let lastErrorSource = null;
  // Live refresh state (see "live refresh" below).
  let liveRound = null;   // the refresh in flight: {started, failed}
  let liveOkAt = 0;       // when the last complete refresh started (ms), 0 before the first
  let liveFailedAt = 0;   // when the last failed refresh started (ms)
  map.on('error', function (e) {
    if (e && e.sourceId === LIVE_SOURCE && liveRound) liveRound.failed = true;
    // Handled here so that MapLibre does not print it as a console error.
    lastError = (e && e.error && e.error.message) || t('status.map_error');
    lastErrorSource = (e && e.sourceId) || null;
    console.warn('[mashaer]', lastError);
    updateStatus();
  });

  // Ready: the first time the style and every visible tile are loaded. "idle" says so, but it can
  // be starved: the live source refreshes every 2 s and each refresh re-runs label placement, so
  // on a slow renderer the map may never be idle; a check every 250 ms after "load" covers that.
  function setReady() {
    if (window.mashaerReady) return;
    window.mashaerReady = true;
    document.documentElement.setAttribute('data-ready', 'true');
  }
  map.once('idle', setReady);
  map.once('load', function () {
    const poll = setInterval(function () {
      if (window.mashaerReady || (map.loaded() && map.areTilesLoaded())) {
        clearInterval(poll);
        setReady();
      }
    }, 250);
  });

  // Map padding that keeps the panel (on the left, or on the right in Arabic) and the controls clear.
  function panelPadding() {
    const open = !panel.classList.contains('collapsed') && window.innerWidth > 700;
    const r = panel.getBoundingClientRect();
    const beside = open ? (RTL ? window.innerWidth - r.left : r.right) + 16 : 24;
    return RTL ? { top: 24, bottom: 40, left: 56, right: beside } : { top: 24, bottom: 40, left: beside, right: 56 };
  }

  function fitPlace(place, animate) {
    const b = place.bounds;
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {
      padding: panelPadding(),
      animate: animate !== false,
      duration: 1200,
      maxZoom: 17
    });
  }

  // Narrow screens: start on a view that still shows Haram to Arafat.
  map.once('load', function () {
    if (startedWithHash) return;
    const cam = map.cameraForBounds(
      [[PLACES[0].bounds[0], PLACES[0].bounds[1]], [PLACES[0].bounds[2], PLACES[0].bounds[3]]],
      { padding: panelPadding() });
    if (cam && cam.zoom < START.zoom) map.jumpTo(cam);
  });

  // ---------------------------------------------------------------- fly-to buttons

  PLACES.forEach(function (place) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'flyto-btn';
    b.dataset.site = place.id;
    b.textContent = t('place.' + place.id);
    b.addEventListener('click', function () { fitPlace(place, true); });
    flyto.appendChild(b);
  });

  // ---------------------------------------------------------------- panel

  function setPanel(open) {
    panel.classList.toggle('collapsed', !open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    toggle.title = t(open ? 'panel.hide' : 'panel.show');
  }
  toggle.addEventListener('click', function () {
    setPanel(panel.classList.contains('collapsed'));
  });
  if (window.innerWidth < 700) setPanel(false);

  // ---------------------------------------------------------------- layers

  // group id -> [style layer ids] in style order
  function styleGroups() {
    const groups = new Map();
    const style = map.getStyle();
    ((style && style.layers) || []).forEach(function (l) {
      const g = l.metadata && l.metadata[GROUP_KEY];
      if (!g) return;
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(l);
    });
    return groups;
  }

  let groupLayerIds = null; // style layers that belong to a data layer, in style order
  function interactiveLayerIds() {
    if (groupLayerIds === null) {
      groupLayerIds = [];
      styleGroups().forEach(function (layers) {
        layers.forEach(function (l) { groupLayerIds.push(l.id); });
      });
    }
    return groupLayerIds.filter(function (id) {
      return map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none';
    });
  }

  function setGroupVisible(group, visible) {
    const layers = styleGroups().get(group) || [];
    layers.forEach(function (l) {
      map.setLayoutProperty(l.id, 'visibility', visible ? 'visible' : 'none');
    });
    const box = document.getElementById('layer-toggle-' + group);
    if (box) box.checked = !!visible;
    if (group === 'movement') updateLosLegend();
    if (group === 'incidents') scheduleIncidents();
    return layers.length;
  }

  function groupVisible(group) {
    return (styleGroups().get(group) || []).some(function (l) {
      return map.getLayoutProperty(l.id, 'visibility') !== 'none';
    });
  }

  // Swatch and legend for a group, read from its style layers.
  function groupLook(layers, unit) {
    const byType = {};
    // The topmost layer of each type speaks for the group (e.g. incidents, not its halo).
    layers.slice().reverse().forEach(function (l) { if (!byType[l.type]) byType[l.type] = l; });
    const main = byType.circle || byType.fill || byType.line || layers[0];
    const prop = { circle: 'circle-color', fill: 'fill-color', line: 'line-color' }[main.type];
    const paint = prop ? map.getPaintProperty(main.id, prop) : null;
    let border = null;
    if (main.type === 'fill' && byType.line) border = firstColor(map.getPaintProperty(byType.line.id, 'line-color'));
    return {
      type: main.type,
      color: firstColor(paint) || '#999999',
      border: border,
      dashed: main.type === 'line' && !!map.getPaintProperty(main.id, 'line-dasharray'),
      legend: findLegend(paint, unit)
    };
  }

  function swatchHTML(look) {
    const style = look.type === 'line'
      ? 'border-top-color:' + look.color + (look.dashed ? ';border-top-style:dashed' : '')
      : 'background:' + look.color + (look.border ? ';border-color:' + look.border : '');
    return '<span class="swatch swatch-' + esc(look.type) + '" style="' + esc(style) + '" aria-hidden="true"></span>';
  }

  let catalogLayers = null; // array from /catalog, or [] on failure
  let catalogError = '';

  function buildLayerList() {
    if (catalogLayers === null || !styleReady) return;
    const groups = styleGroups();
    const catalogById = new Map();
    catalogLayers.forEach(function (l) { if (l && l.id) catalogById.set(String(l.id), l); });

    // Order: as drawn, topmost first; then catalog layers the style does not show.
    const order = Array.from(groups.keys()).reverse();
    catalogLayers.forEach(function (l) {
      if (l && l.id && !groups.has(String(l.id))) order.push(String(l.id));
    });

    layerList.innerHTML = '';
    if (!order.length) {
      layerList.innerHTML = '<li class="muted">' + esc(t('layer.none')) + '</li>';
      return;
    }
    order.forEach(function (id) {
      const styleLayers = groups.get(id) || [];
      const cat = catalogById.get(id);
      const li = document.createElement('li');
      li.className = 'layer-item';
      li.dataset.layer = id;
      if (cat) {
        li.dataset.minzoom = typeof cat.minzoom === 'number' ? String(cat.minzoom) : '';
      }

      const visible = styleLayers.some(function (l) {
        return map.getLayoutProperty(l.id, 'visibility') !== 'none';
      });
      const info = GROUP_INFO[id] || {};
      const look = styleLayers.length ? groupLook(styleLayers, info.unit) : null;
      const live = !!cat && cat.kind === 'live';
      const opsOnly = !!cat && !!cat.access && cat.access !== 'public';
      if (live) li.classList.add('layer-live');
      let count = '';
      // A live layer's catalog count is a snapshot of when the page opened, a derived one's (kpi_zones)
      // is not kept: not shown.
      if (!live && cat && cat.kind !== 'derived' && typeof cat.feature_count === 'number') {
        count = t(GEOMETRY_NOUN[cat.geometry_type] || 'geom.features', { n: cat.feature_count });
      }

      let html = '<div class="layer-row">' +
        '<input type="checkbox" id="layer-toggle-' + esc(id) + '" data-layer="' + esc(id) + '"' +
        (visible ? ' checked' : '') + (styleLayers.length ? '' : ' disabled') + '>' +
        '<label for="layer-toggle-' + esc(id) + '">' +
        (look ? swatchHTML(look) : '<span class="swatch swatch-none" aria-hidden="true"></span>') +
        '<span class="layer-name" dir="auto">' + esc(groupTitle(id)) + '</span></label>' +
        (live ? '<span class="live-badge" title="' + esc(t('layer.live_title', { s: LIVE_REFRESH_MS / 1000 })) + '">' +
          esc(t('layer.live')) + '</span>' : '') +
        '<span class="layer-count">' + esc(count) + '</span>';
      if (cat && Array.isArray(cat.bounds) && cat.bounds.length === 4 &&
          cat.bounds.every(function (n) { return typeof n === 'number' && isFinite(n); })) {
        const zoomTo = esc(t('layer.zoom_to', { name: groupTitle(id) }));
        html += '<button type="button" class="zoom-btn" title="' + zoomTo + '" aria-label="' + zoomTo + '">⤢</button>';
      }
      html += '</div>';
      if (!styleLayers.length) {
        html += opsOnly
          ? '<div class="layer-note muted ops-only">' + esc(t('layer.ops_only')) + '</div>'
          : '<div class="layer-note muted">' + esc(t('layer.not_drawn')) + '</div>';
      }
      if (look && look.legend && info.legend !== false) {
        html += '<ul class="legend" aria-label="' + esc(t('layer.legend_label', { field: fieldLabel(look.legend.field) })) + '">';
        look.legend.items.forEach(function (it) {
          html += '<li><span class="swatch swatch-' + esc(look.type) + ' swatch-small" style="' +
            esc((look.type === 'line' ? 'border-top-color:' : 'background:') + it.color) +
            '" aria-hidden="true"></span>' + esc(look.legend.raw ? it.label : codeLabels(it.value)) + '</li>';
        });
        html += '</ul>';
      }
      if (I18N.has('group.' + id + '.note')) html += '<div class="layer-note">' + esc(t('group.' + id + '.note', { k: K_ANON })) + '</div>';
      li.innerHTML = html;

      const box = li.querySelector('input');
      box.addEventListener('change', function () { setGroupVisible(id, box.checked); });
      const zb = li.querySelector('.zoom-btn');
      if (zb) {
        zb.addEventListener('click', function () {
          fitPlace({ bounds: cat.bounds }, true);
        });
      }
      layerList.appendChild(li);
    });
    if (catalogError) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = t('layer.catalog_failed', { error: catalogError });
      layerList.appendChild(li);
    }
    updateZoomHints();
  }

  function updateZoomHints() {
    const z = map.getZoom();
    layerList.querySelectorAll('.layer-item').forEach(function (li) {
      // Tiles are over-zoomed past maxzoom, so only minzoom hides a layer.
      const minz = li.dataset.minzoom ? Number(li.dataset.minzoom) : null;
      const out = minz !== null && isFinite(minz) && z < minz;
      li.classList.toggle('out-of-range', out);
      li.title = out ? t('layer.zoom_in', { z: minz }) : '';
    });
  }

  fetch(CATALOG_URL, { headers: { Accept: 'application/json' }, cache: 'no-cache' })
    .then(function (r) {
      CLOCK.note(r);
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    })
    .then(function (cat) {
      catalogLayers = (cat && Array.isArray(cat.layers)) ? cat.layers : [];
    })
    .catch(function (err) {
      catalogLayers = [];
      catalogError = err && err.message ? err.message : String(err);
      console.warn('[mashaer] catalog:', catalogError);
    })
    .then(function () {
      buildLayerList();
    });
  // ---------------------------------------------------------------- map labels in the page's language

  // The served style labels places in both languages (["format", name_ar, "\n", name]), which the
  // English page keeps: signs at the holy sites are bilingual. The Arabic page shows the Arabic
  // name alone, the English one where a feature has no Arabic name: each label's name_ar section
  // becomes ["coalesce", name_ar, name, ""] and its name section (and the line break before it) goes.
  function isGet(e, field) { return Array.isArray(e) && e[0] === 'get' && e[1] === field; }

  function arabicLabel(field) {
    if (!Array.isArray(field) || field[0] !== 'format') return null;
    const parts = [];
    let changed = false;
    for (let i = 1; i < field.length; i += 2) {
      const content = field[i], opts = field[i + 1] || {};
      if (isGet(content, 'name')) { changed = true; continue; }
      if (isGet(content, 'name_ar')) {
        changed = true;
        parts.push([['coalesce', ['get', 'name_ar'], ['get', 'name'], ''], opts]);
      } else {
        parts.push([content, opts]);
      }
    }
    // separators (plain strings of spaces and line breaks) only between two kept sections
    const kept = parts.filter(function (p, i) {
      const sep = typeof p[0] === 'string' && !p[0].trim();
      return !sep || (i > 0 && i + 1 < parts.length && !(typeof parts[i + 1][0] === 'string' && !parts[i + 1][0].trim()));
    });
    if (!changed || !kept.length) return null;
    const out = ['format'];
    kept.forEach(function (p) { out.push(p[0], p[1]); });
    return out;
  }

  function localizeLabels() {
    if (I18N.lang !== 'ar') return;
    ((map.getStyle() || {}).layers || []).forEach(function (l) {
      if (l.type !== 'symbol' || !l.layout || !l.layout['text-field']) return;
      const f = arabicLabel(l.layout['text-field']);
      if (f) map.setLayoutProperty(l.id, 'text-field', f);
    });
  }

  map.once('load', function () {
    styleReady = true;
    localizeLabels();
    buildLayerList();
    buildLosLegend();
    scheduleIncidents();
  });

  // ---------------------------------------------------------------- popups

  const popup = new maplibregl.Popup({ maxWidth: '380px', closeButton: true, className: 'feature-popup' });

  function featureKey(f) {
    return (f.layer.metadata && f.layer.metadata[GROUP_KEY]) + '|' + JSON.stringify(f.properties);
  }

  function featureTitle(f) {
    const p = f.properties || {};
    for (let i = 0; i < TITLE_KEYS.length; i++) {
      if (p[TITLE_KEYS[i]] !== undefined && p[TITLE_KEYS[i]] !== null && p[TITLE_KEYS[i]] !== '') {
        return String(p[TITLE_KEYS[i]]);
      }
    }
    return f.id !== undefined ? '#' + f.id : '';
  }

  // A stale live item (a bin, a sensor, a crew gone quiet): how long since its last reading by the
  // server's clock, in minutes or hours; '' when it is not stale.
  function silentFor(p) {
    const at = Date.parse(p.updated_at || p.time || '');
    if (p.stale !== true || !isFinite(at)) return '';
    const min = Math.max(0, Math.round((CLOCK.now() - at) / 60000));
    return min < 120 ? t('unit.min', { n: formatNumber(min, 0) }) : t('unit.h', { n: formatNumber(min / 60, 1) });
  }

  function popupHTML(feats) {
    const f = feats[0];
    const group = f.layer.metadata[GROUP_KEY];
    const p = f.properties || {};
    const title = featureTitle(f);
    let html = '<div class="popup-layer">' + esc(groupTitle(group)) + '</div>' +
      '<div class="popup-title" dir="auto">' + esc(title) + '</div>';
    // the name in the other language under the title
    const other = I18N.lang === 'ar' ? p.name : p.name_ar;
    if (other && other !== title) html += '<div class="popup-title-alt" dir="auto">' + esc(other) + '</div>';
    html += '<table class="popup-table"><tbody>';
    Object.keys(p).forEach(function (k) {
      html += '<tr><th scope="row" title="' + esc(k) + '">' + esc(fieldLabel(k)) + '</th>' +
        '<td dir="auto">' + esc(formatValue(k, p[k])) + '</td></tr>';
    });
    const silent = silentFor(p);
    if (silent) {
      html += '<tr class="popup-stale"><th scope="row">' + esc(t('popup.silent_for')) + '</th><td>' + esc(silent) + '</td></tr>';
    }
    if (f.id !== undefined && f.id !== null && !('id' in p)) {
      html += '<tr><th scope="row">' + esc(t('popup.feature_id')) + '</th><td dir="auto">' + esc(f.id) + '</td></tr>';
    }
    html += '</tbody></table>';
    if (feats.length > 1) {
      html += '<div class="popup-more"><span>' + esc(t('popup.also')) + '</span><ul>';
      feats.slice(1, 5).forEach(function (o) {
        html += '<li dir="auto">' + esc(groupTitle(o.layer.metadata[GROUP_KEY])) + ': ' +
          esc(featureTitle(o)) + '</li>';
      });
      html += '</ul></div>';
    }
    return html;
  }

  function featuresAt(point, radius) {
    if (!styleReady) return [];
    const layers = interactiveLayerIds();
    if (!layers.length) return [];
    const box = [[point.x - radius, point.y - radius], [point.x + radius, point.y + radius]];
    const seen = new Set();
    const out = [];
    map.queryRenderedFeatures(box, { layers: layers }).forEach(function (f) {
      const k = featureKey(f);
      if (seen.has(k)) return;
      seen.add(k);
      out.push(f);
    });
    return out;
  }

  map.on('click', function (e) {
    if (window.mashaerRoute && window.mashaerRoute.picking()) return; // route.js takes this click
    if (window.mashaerConsole && window.mashaerConsole.picking()) return; // console.js: a new incident's place
    const feats = featuresAt(e.point, 4);
    if (!feats.length) {
      popup.remove();
      return;
    }
    popup.setLngLat(e.lngLat).setHTML(popupHTML(feats)).addTo(map);
  });

  // ---------------------------------------------------------------- hover + status line

  let cursor = null;
  let hoverPending = null;
  map.on('mousemove', function (e) {
    cursor = e.lngLat;
    hoverPending = e.point;
    requestAnimationFrame(function () {
      if (!hoverPending) return;
      const pt = hoverPending;
      hoverPending = null;
      map.getCanvas().style.cursor = featuresAt(pt, 3).length ? 'pointer' : '';
    });
    updateStatus();
  });
  map.getCanvasContainer().addEventListener('mouseleave', function () {
    cursor = null;
    map.getCanvas().style.cursor = '';
    updateStatus();
  });

  function sourceLoading(id) {
    return !!(styleReady && map.getSource(id)) && !map.isSourceLoaded(id);
  }

  function updateStatus() {
    let s = t('status.zoom', { z: I18N.num(map.getZoom(), 2, 2) });
    if (cursor) s += ' · ' + t('status.cursor', { lon: I18N.num(cursor.lng, 5, 5), lat: I18N.num(cursor.lat, 5, 5) });
    // Not map.areTilesLoaded(): the live source reloads every 2 s and would blink "loading".
    const loading = !styleReady || sourceLoading('mashaer') || (!liveOkAt && sourceLoading(LIVE_SOURCE));
    if (loading) s += ' · ' + t('status.loading');
    if (lastError) s += ' · ' + lastError;
    setStatus(s);
  }
  map.on('move', updateStatus);
  map.on('idle', updateStatus);
  map.on('zoomend', updateZoomHints);

  // ---------------------------------------------------------------- LoS legend

  // Crowd density key on the map: colours from the style's movement-fill, thresholds Fruin's.
  function buildLosLegend() {
    const layers = styleGroups().get('movement') || [];
    const fill = layers.find(function (l) { return l.type === 'fill'; });
    const legend = fill ? findLegend(map.getPaintProperty(fill.id, 'fill-color')) : null;
    if (!legend) {
      losLegend.hidden = true;
      return;
    }
    const colorOf = {};
    legend.items.forEach(function (it) { colorOf[String(it.value)] = it.color; });
    let html = '<div class="map-legend-title">' + esc(t('legend.title')) + '</div>' +
      '<div class="map-legend-sub">' + esc(t('legend.sub')) + '</div>' +
      '<ul class="los-list">';
    FRUIN.forEach(function (f) {
      const range = f.from === null ? '< ' + formatNumber(f.to) : f.to === null ? '> ' + formatNumber(f.from) :
        formatNumber(f.from) + ' – ' + formatNumber(f.to);
      html += '<li data-los="' + esc(f.los) + '"><span class="los-swatch" style="background:' +
        esc(colorOf[f.los] || '#999999') + '" aria-hidden="true"></span><b>' + esc(f.los) + '</b>' +
        '<span class="los-range" dir="ltr">' + esc(range) + '</span></li>';
    });
    html += '</ul>';
    losLegend.innerHTML = html;
    updateLosLegend();
  }

  function updateLosLegend() {
    if (!losLegend.innerHTML) return;
    losLegend.hidden = !groupVisible('movement');
  }

  // ---------------------------------------------------------------- incidents panel

  let severityColors = null; // severity -> colour, read from the style's incidents layer

  function incidentColor(severity) {
    if (!severityColors) {
      severityColors = {};
      const layers = (styleGroups().get('incidents') || []).filter(function (l) { return l.type === 'circle'; });
      const top = layers[layers.length - 1];
      const legend = top ? findLegend(map.getPaintProperty(top.id, 'circle-color')) : null;
      if (legend) legend.items.forEach(function (it) { severityColors[String(it.value)] = it.color; });
    }
    return severityColors[severity] || '#777777';
  }

  function incidentTime(p) {
    const t = Date.parse(p.reported_at || p.updated_at || '');
    return isFinite(t) ? t : null;
  }

  function formatAge(ms) {
    if (ms === null) return '';
    const s = Math.max(0, Math.round((CLOCK.now() - ms) / 1000)); // by the server's clock
    if (s < 60) return s < 10 ? t('age.now') : t('age.s', { n: s });
    const m = Math.floor(s / 60);
    if (m < 60) return t('age.min', { n: m });
    const h = Math.floor(m / 60);
    if (h < 48) return t('age.h_min', { h: h, m: m % 60 });
    return t('age.d', { n: Math.floor(h / 24) });
  }

  // Open incidents whose point is in the current view: from the live tiles already loaded,
  // deduplicated by id (a point near a tile edge is in several tiles), most severe first,
  // then the longest waiting first.
  function openIncidentsInView() {
    if (!styleReady || !map.getSource(LIVE_SOURCE)) return [];
    const bounds = map.getBounds();
    const byId = new Map();
    map.querySourceFeatures(LIVE_SOURCE, { sourceLayer: 'incidents' }).forEach(function (f) {
      const p = f.properties || {};
      if (!p.id || p.status === 'resolved') return;
      if (!f.geometry || f.geometry.type !== 'Point') return;
      const c = f.geometry.coordinates;
      if (!bounds.contains(c)) return;
      const old = byId.get(p.id);
      if (old && String(old.properties.updated_at || '') >= String(p.updated_at || '')) return;
      byId.set(p.id, { properties: p, lngLat: c, time: incidentTime(p) });
    });
    const rank = function (s) { return s in SEVERITY_RANK ? SEVERITY_RANK[s] : 9; };
    return Array.from(byId.values()).sort(function (a, b) {
      const r = rank(a.properties.severity) - rank(b.properties.severity);
      if (r) return r;
      const ta = a.time === null ? Infinity : a.time, tb = b.time === null ? Infinity : b.time;
      if (ta !== tb) return ta - tb;
      return String(a.properties.id) < String(b.properties.id) ? -1 : 1;
    });
  }

  let incidentsShown = [];
  let incidentsSignature = null;
  let incidentsTimer = null;

  function scheduleIncidents() {
    if (incidentsTimer) return;
    incidentsTimer = setTimeout(function () {
      incidentsTimer = null;
      renderIncidents();
    }, 150);
  }

  function renderIncidents() {
    if (!styleReady) return;
    if (!groupVisible('incidents')) {
      incidentsShown = [];
      incidentsSignature = 'hidden';
      incidentCount.textContent = '';
      incidentList.innerHTML = '<li class="muted">' + esc(t('incident.off')) + '</li>';
      return;
    }
    const list = openIncidentsInView();
    const sig = JSON.stringify(list.map(function (i) {
      const p = i.properties;
      return [p.id, p.severity, p.status, p.kind, p.reported_at, p.description, i.lngLat];
    }));
    incidentCount.textContent = String(list.length);
    if (sig === incidentsSignature) {
      updateIncidentAges(); // same list: only the ages move (no DOM churn under the pointer)
      return;
    }
    incidentsSignature = sig;
    incidentsShown = list;
    incidentList.innerHTML = '';
    if (!list.length) {
      incidentList.innerHTML = '<li class="muted">' + esc(t('incident.none')) + '</li>';
      return;
    }
    list.slice(0, MAX_INCIDENTS_LISTED).forEach(function (inc) {
      const p = inc.properties;
      const li = document.createElement('li');
      li.className = 'incident sev-' + String(p.severity || 'unknown').replace(/[^a-z_]/g, '');
      li.dataset.id = p.id;
      li.dataset.severity = p.severity || '';
      li.dataset.status = p.status || '';
      li.innerHTML =
        '<button type="button" class="incident-btn" title="' + esc((p.description ? p.description + ' · ' : '') +
          t('incident.show')) + '">' +
        '<span class="sev-dot" style="background:' + esc(incidentColor(p.severity)) + '" aria-hidden="true"></span>' +
        '<span class="incident-main">' +
          '<span class="incident-line">' +
            '<span class="incident-kind">' + esc(p.kind ? codeLabel(p.kind) : t('incident.kind')) + '</span>' +
            '<span class="incident-age" data-t="' + (inc.time === null ? '' : inc.time) + '">' + esc(formatAge(inc.time)) + '</span>' +
          '</span>' +
          '<span class="incident-line incident-sub">' +
            '<span><span class="sev-label">' + esc(p.severity ? codeLabel(p.severity) : '') + '</span> · ' +
              '<span class="incident-status">' + esc(p.status ? codeLabel(p.status) : t('incident.unknown')) + '</span></span>' +
          '</span>' +
        '</span></button>';
      li.querySelector('button').addEventListener('click', function () { showIncident(inc); });
      incidentList.appendChild(li);
    });
    if (list.length > MAX_INCIDENTS_LISTED) {
      const more = document.createElement('li');
      more.className = 'muted';
      more.textContent = t('incident.more', { n: list.length - MAX_INCIDENTS_LISTED });
      incidentList.appendChild(more);
    }
  }

  function updateIncidentAges() {
    incidentList.querySelectorAll('.incident-age').forEach(function (el) {
      const t = el.dataset.t ? Number(el.dataset.t) : null;
      el.textContent = formatAge(t);
    });
  }

  function showIncident(inc) {
    // offset: keep the incident clear of the panel (not `padding`, which would stay on the map)
    const pad = panelPadding();
    map.flyTo({
      center: inc.lngLat,
      zoom: Math.max(map.getZoom(), 16),
      offset: [(pad.left - pad.right) / 2, 0], // away from the panel, on whichever side it is
      duration: 1000
    });
    map.once('moveend', function () {
      const fake = { layer: { metadata: { [GROUP_KEY]: 'incidents' } }, properties: inc.properties };
      popup.setLngLat(inc.lngLat).setHTML(popupHTML([fake])).addTo(map);
    });
  }

  map.on('sourcedata', function (e) {
    if (e.sourceId === LIVE_SOURCE && (e.tile || e.sourceDataType === 'visibility')) scheduleIncidents();
  });
  map.on('moveend', scheduleIncidents);

  // ---------------------------------------------------------------- live refresh

  // Every 2 s, map.refreshTiles('live') (public API of MapLibre 5.x) reloads the live tiles
  // in view in place. How that stays cheap and flicker-free:
  //  - the tiles are re-requested at their own URLs; the server answers them
  //    `Cache-Control: no-cache` with an ETag from the data under the tile, so the browser
  //    revalidates (If-None-Match) and an unchanged tile comes back as a bodiless 304;
  //  - MapLibre (5.24, web/node_modules) compares the tile's ETag with the one it holds and skips parsing
  //    an unchanged tile altogether (no new buckets, no repaint, no "data" event);
  //  - a reloading tile stays renderable ("expired" state), so its old features are drawn
  //    until the new ones are ready: nothing blinks.
  // Rejected: setTiles() with a changing query parameter (new URLs: every tile refetched in
  // full each time, and the tiles are dropped and redrawn); the internal
  // style.sourceCaches[...].reload() (gone in 5.x, and reload() without `true` only
  // re-parses what the worker already holds). A round starts only when the previous one has
  // finished, while the page is visible and the map is not moving. Rounds are timed by this
  // machine's clock (how long between two of its readings: right even when it is set wrong); the
  // time of day shown is the server's (CLOCK.at).
  function liveTick() {
    if (!styleReady || !map.getSource(LIVE_SOURCE)) return;
    const loaded = map.isSourceLoaded(LIVE_SOURCE);
    const now = Date.now();
    if (liveRound && (loaded || now - liveRound.started > 15000)) { // 15 s: give up on a hung round
      if (liveRound.failed || !loaded) liveFailedAt = liveRound.started;
      else liveOkAt = liveRound.started;
      liveRound = null;
      if (liveOkAt > liveFailedAt && lastErrorSource === LIVE_SOURCE && lastError) {
        lastError = ''; // the live feed is back: drop its error from the status line
        updateStatus();
      }
    }
    if (!liveOkAt && !liveRound && loaded) liveOkAt = now; // the first load
    renderLiveStatus();
    updateIncidentAges();
    if (liveRound || !loaded || document.hidden || map.isMoving()) return;
    if (typeof map.refreshTiles !== 'function') return; // MapLibre older than 5.x
    liveRound = { started: now, failed: false };
    map.refreshTiles(LIVE_SOURCE);
  }
  setInterval(liveTick, LIVE_REFRESH_MS);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) liveTick(); });

  function clockTime(localMs) { return I18N.time(CLOCK.at(localMs)); } // Makkah time, by the server's clock

  function renderLiveStatus() {
    // stale: the last round failed, or the one in flight hangs (server gone, network down)
    const stale = liveFailedAt > liveOkAt || (!!liveRound && Date.now() - liveRound.started > 8000);
    liveStatusEl.classList.toggle('stale', stale);
    if (!liveOkAt && !stale) {
      liveStatusEl.textContent = t('live.waiting');
      return;
    }
    if (stale) {
      liveStatusEl.innerHTML = '<span class="live-dot" aria-hidden="true"></span>' +
        esc(t('live.unreachable', { time: liveOkAt ? clockTime(liveOkAt) : t('live.never') }));
      return;
    }
    liveStatusEl.innerHTML = '<span class="live-dot" aria-hidden="true"></span>' +
      esc(t('live.ok', { time: clockTime(liveOkAt) }));
  }

  // ---------------------------------------------------------------- alerts (Server-Sent Events)

  // Density alerts (Fruin LoS E/F, critical density, crowd pressure) and gates over capacity,
  // pushed by the server on /events; raised alerts stay listed until the server clears them.
  const alertListEl = document.getElementById('alert-list');
  const activeAlerts = new Map(); // key -> {title, detail, lngLat, seq}: seq, the order they came in (newest first)
  let alertSeq = 0;
  function renderAlerts() {
    if (!activeAlerts.size) {
      alertListEl.innerHTML = '<li class="muted">' + esc(t('alerts.none')) + '</li>';
      return;
    }
    const rows = Array.from(activeAlerts.entries()).sort(function (a, b) { return b[1].seq - a[1].seq; });
    alertListEl.innerHTML = rows.map(function (r) {
      return '<li class="alert-item" data-key="' + esc(r[0]) + '"><button type="button" class="incident-row">' +
        '<b>' + esc(r[1].title) + '</b> <span class="muted">' + esc(r[1].detail) + '</span></button></li>';
    }).join('');
    alertListEl.querySelectorAll('.alert-item').forEach(function (li) {
      li.querySelector('button').addEventListener('click', function () {
        const a = activeAlerts.get(li.dataset.key);
        if (a && a.lngLat) map.flyTo({ center: a.lngLat, zoom: Math.max(map.getZoom(), 17) });
      });
    });
  }
  if (typeof EventSource !== 'undefined') {
    const events = new EventSource('/events?types=density,gate');
    events.addEventListener('density', function (e) {
      const d = JSON.parse(e.data);
      const key = 'cell:' + d.cell;
      if (d.state === 'cleared') {
        activeAlerts.delete(key);
      } else {
        const why = [d.level_of_service_alert ? t('alert.los', { los: d.los }) : null,
          d.density_alert ? t('alert.critical') : null,
          d.pressure_alert ? t('alert.pressure', { p: d.pressure }) : null].filter(Boolean).join(t('list.sep'));
        activeAlerts.set(key, { title: t('alert.crowd', { density: d.density, why: why }),
          detail: t('alert.people', { n: d.count }), lngLat: [d.lon, d.lat], seq: ++alertSeq });
      }
      renderAlerts();
    });
    events.addEventListener('gate', function (e) {
      const d = JSON.parse(e.data);
      const key = 'gate:' + d.gate;
      if (d.state === 'back_under_capacity') {
        activeAlerts.delete(key);
      } else {
        activeAlerts.set(key, { title: t('alert.gate', { id: d.gate }),
          detail: t('alert.gate_flow', { flow: Math.round(d.flow_per_hour), cap: d.capacity }), lngLat: null,
          seq: ++alertSeq });
      }
      renderAlerts();
    });
  }

  // ---------------------------------------------------------------- playback (time slider)

  // The last hours of crowd density (GET /playback: the minutes the server keeps, --playback-hours).
  // Moving the slider or pressing play puts the map in the past: the movement cells and the density
  // heatmap come from `?time=ISO` tiles (a source of their own, its URL changed per minute with
  // setTiles; past tiles are cached a year, so playing a stretch twice asks nothing again) and the
  // live movement layers are hidden. "Live" puts them back with one click. The slider runs in the
  // page's direction: in Arabic the earliest minute is on the right.
  const PB_SOURCE = 'playback', PB_HEAT = 'playback-heat', PB_PREFIX = 'playback-';
  const PB_SPEEDS = [1, 5, 15, 60]; // minutes of the past per second of playing
  const pb = { first: 0, last: 0, minutes: 0, at: 0, past: false, playing: null, hidden: [] };
  const pbSection = document.createElement('section');
  pbSection.className = 'playback-section';
  pbSection.setAttribute('aria-labelledby', 'playback-heading');
  pbSection.hidden = true;
  pbSection.innerHTML =
    '<h2 id="playback-heading">' + esc(t('playback.heading')) + '</h2>' +
    '<div id="playback-clock" class="live-status" aria-live="polite"></div>' +
    '<input id="playback-slider" type="range" min="0" max="0" step="1" value="0" style="width:100%" aria-label="' +
      esc(t('playback.slider')) + '">' +
    '<div class="playback-controls" style="display:flex;gap:.5em;align-items:center;flex-wrap:wrap">' +
    '<button id="playback-play" type="button"></button>' +
    '<label>' + esc(t('playback.speed')) + ' <select id="playback-speed">' + PB_SPEEDS.map(function (n) {
      return '<option value="' + n + '">' + esc(t('playback.speed_n', { n: n })) + '</option>';
    }).join('') + '</select></label>' +
    '<button id="playback-live" type="button">' + esc(t('playback.live')) + '</button></div>';
  const layersSection = layerList.closest('section');
  layersSection.parentNode.insertBefore(pbSection, layersSection);
  const pbSlider = document.getElementById('playback-slider');
  const pbClock = document.getElementById('playback-clock');
  const pbPlay = document.getElementById('playback-play');
  const pbSpeed = document.getElementById('playback-speed');
  const pbLive = document.getElementById('playback-live');

  function pbIso(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

  function pbRender() {
    pbClock.textContent = pb.past ? t('playback.at', { time: I18N.dateTime(pb.at) }) : t('playback.now');
    pbPlay.textContent = t(pb.playing ? 'playback.pause' : 'playback.play');
    pbLive.disabled = !pb.past;
    pbSlider.value = String(pb.past ? Math.round((pb.at - pb.first) / 60000) : pb.minutes - 1);
  }

  // The kept window, again every minute while live (it moves on).
  function pbWindow() {
    return fetch('/playback').then(function (r) { CLOCK.note(r); return r.ok ? r.json() : null; }).then(function (w) {
      if (!w || !w.first) { pbSection.hidden = true; return; }
      pb.first = Date.parse(w.first);
      pb.last = Date.parse(w.last);
      pb.minutes = Math.round((pb.last - pb.first) / 60000) + 1;
      pbSlider.max = String(pb.minutes - 1);
      pbSection.hidden = false;
      pbRender();
    }).catch(function () { /* no playback: the section stays hidden */ });
  }

  function pbUrls(ms) {
    const q = '?time=' + encodeURIComponent(pbIso(ms));
    return { mvt: location.origin + '/tiles/movement/{z}/{x}/{y}.mvt' + q,
      png: location.origin + '/heatmaps/density/{z}/{x}/{y}.png' + q };
  }

  // Into the past: a source for the minute's cells and one for its heatmap, drawn as the live
  // movement layers are (their style copied), which are hidden meanwhile.
  function pbEnter(ms) {
    const u = pbUrls(ms);
    const live = (styleGroups().get('movement') || []).filter(function (l) { return l['source-layer'] === 'movement'; });
    map.addSource(PB_HEAT, { type: 'raster', tiles: [u.png], tileSize: 256, maxzoom: 22 });
    map.addSource(PB_SOURCE, { type: 'vector', tiles: [u.mvt], maxzoom: 22 });
    const before = live.length ? live[0].id : undefined;
    map.addLayer({ id: PB_HEAT, type: 'raster', source: PB_HEAT, paint: { 'raster-opacity': 0.75 } }, before);
    live.forEach(function (l) {
      const copy = Object.assign({}, l, { id: PB_PREFIX + l.id, source: PB_SOURCE,
        metadata: { 'mashaer:playback': l.id }, layout: Object.assign({}, l.layout, { visibility: 'visible' }) });
      map.addLayer(copy, before);
    });
    pb.hidden = (styleGroups().get('movement') || []).filter(function (l) {
      return map.getLayoutProperty(l.id, 'visibility') !== 'none';
    }).map(function (l) { return l.id; });
    pb.hidden.forEach(function (id) { map.setLayoutProperty(id, 'visibility', 'none'); });
    pb.past = true;
  }

  function pbShow(ms) {
    if (!styleReady || !pb.minutes) return;
    pb.at = Math.max(pb.first, Math.min(pb.last, ms - ms % 60000));
    if (!pb.past) pbEnter(pb.at);
    else {
      const u = pbUrls(pb.at);
      map.getSource(PB_SOURCE).setTiles([u.mvt]);
      map.getSource(PB_HEAT).setTiles([u.png]);
    }
    pbRender();
  }

  function pbStop() {
    if (pb.playing) clearInterval(pb.playing);
    pb.playing = null;
  }

  // Back to live: the past's layers and sources removed, the live movement layers shown again.
  function pbToLive() {
    pbStop();
    if (pb.past) {
      ((map.getStyle() || {}).layers || []).forEach(function (l) {
        if (l.id === PB_HEAT || l.id.indexOf(PB_PREFIX) === 0) map.removeLayer(l.id);
      });
      map.removeSource(PB_SOURCE);
      map.removeSource(PB_HEAT);
      pb.hidden.forEach(function (id) { if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', 'visible'); });
      pb.hidden = [];
      pb.past = false;
    }
    pbRender();
    pbWindow();
  }

  function pbToggle() {
    if (pb.playing) { pbStop(); pbRender(); return; }
    if (!pb.past || pb.at >= pb.last) pbShow(Math.max(pb.first, pb.last - 3 * 3600000)); // the last 3 hours
    pb.playing = setInterval(function () {
      const next = pb.at + Number(pbSpeed.value) * 60000;
      if (next > pb.last) { pbStop(); pbRender(); return; }
      pbShow(next);
    }, 1000);
    pbRender();
  }

  pbSlider.addEventListener('input', function () { pbShow(pb.first + Number(pbSlider.value) * 60000); });
  pbPlay.addEventListener('click', pbToggle);
  pbLive.addEventListener('click', pbToLive);
  map.once('load', pbWindow);
  setInterval(function () { if (!pb.past) pbWindow(); }, 60000);

  // Small API for tests and the console.
  window.mashaer = {
    // the style is loaded (map "load" has fired): sources and layers may be added
    styleReady: function () { return styleReady; },
    setGroupVisible: setGroupVisible,
    styleGroups: function () {
      const out = {};
      styleGroups().forEach(function (layers, g) { out[g] = layers.map(function (l) { return l.id; }); });
      return out;
    },
    flyTo: function (siteId) {
      const place = PLACES.find(function (p) { return p.id === siteId; });
      if (place) fitPlace(place, false);
      return !!place;
    },
    // open incidents in view, as listed in the panel
    incidents: function () {
      return openIncidentsInView().map(function (i) {
        return Object.assign({ lngLat: i.lngLat }, i.properties);
      });
    },
    live: function () {
      return { refreshMs: LIVE_REFRESH_MS, okAt: liveOkAt, failedAt: liveFailedAt, inFlight: !!liveRound };
    },
    refreshLive: liveTick,
    // playback: the kept window, the minute shown (0: live), show a minute, back to live
    playback: function () { return { first: pb.first, last: pb.last, minutes: pb.minutes, at: pb.past ? pb.at : 0,
      playing: !!pb.playing }; },
    showMinute: pbShow,
    toLive: pbToLive,
    alerts: function () { return Array.from(activeAlerts.values()).map(function (a) { return a.title; }); }
  };
})();
