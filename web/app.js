/* Mashaer operations viewer.
 *
 * Plain script, no bundler. Served by the Mashaer server:
 *   /styles/operations.json   MapLibre style (sources point at /tiles/...)
 *   /catalog                  {"layers":[{id, kind, geometry_type, bounds, minzoom,
 *                              maxzoom, fields, feature_count, version}]}
 *   /vendor/maplibre-gl/...   maplibre-gl from web/node_modules
 *
 * Style layers carry metadata {"mashaer:group": "<data layer id>"}; the layer
 * list toggles every style layer of a group together.
 *
 * For browser tests: window.map is the maplibregl.Map; window.mashaerReady
 * becomes true after the map's first "idle".
 */
(function () {
  'use strict';

  const STYLE_URL = '/styles/operations.json';
  const CATALOG_URL = '/catalog';
  const GROUP_KEY = 'mashaer:group';
  const START = { center: [39.90, 21.40], zoom: 12.5 };

  // Site extents (lon/lat) of the demo site; see docs/HAJJ-FACTS.md.
  const PLACES = [
    { id: 'all', label: 'All sites', ar: 'كل المشاعر', bounds: [39.8203, 21.3420, 40.0070, 21.4334] },
    { id: 'haram', label: 'Haram', ar: 'المسجد الحرام', bounds: [39.8203, 21.4171, 39.8329, 21.4280] },
    { id: 'jamarat', label: 'Jamarat', ar: 'الجمرات', bounds: [39.8565, 21.4163, 39.8757, 21.4275] },
    { id: 'mina', label: 'Mina', ar: 'منى', bounds: [39.8768, 21.4060, 39.9032, 21.4334] },
    { id: 'muzdalifah', label: 'Muzdalifah', ar: 'مزدلفة', bounds: [39.9060, 21.3765, 39.9520, 21.4015] },
    { id: 'arafat', label: 'Arafat', ar: 'عرفات', bounds: [39.9700, 21.3420, 40.0070, 21.3725] }
  ];

  // Friendly names of the known data layers (others are shown by id).
  const GROUP_INFO = {
    sites: { title: 'Holy sites', ar: 'المشاعر' },
    service_zones: { title: 'Service zones', ar: 'مناطق الخدمة' },
    camps: { title: 'Camps', ar: 'المخيمات' },
    walkways: { title: 'Walkways (OSM)', ar: 'ممرات المشاة' },
    cleaning_routes: { title: 'Cleaning routes', ar: 'مسارات النظافة' },
    assets: { title: 'Assets', ar: 'المرافق', note: 'Red ring: faulty or under maintenance' }
  };

  // Properties that name a feature, best first.
  const TITLE_KEYS = ['name', 'camp_id', 'zone_id', 'route_id', 'asset_id', 'site_id', 'id'];

  const GEOMETRY_NOUN = {
    Point: 'points', MultiPoint: 'points',
    LineString: 'lines', MultiLineString: 'lines',
    Polygon: 'areas', MultiPolygon: 'areas'
  };

  const panel = document.getElementById('panel');
  const toggle = document.getElementById('panel-toggle');
  const layerList = document.getElementById('layer-list');
  const flyto = document.getElementById('flyto');
  const statusEl = document.getElementById('status');

  // ---------------------------------------------------------------- helpers

  function esc(value) {
    return String(value)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  }

  const LABELS = { ac_unit: 'AC unit' };

  function humanize(key) {
    if (LABELS[key]) return LABELS[key];
    const s = String(key).replace(/_/g, ' ').replace(/ km2$/, ' (km²)').replace(/ m$/, ' (m)');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function groupTitle(id) {
    return (GROUP_INFO[id] && GROUP_INFO[id].title) || humanize(id);
  }

  function formatNumber(n, maxFrac) {
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: maxFrac });
  }

  function formatValue(key, v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'number') {
      if (key === 'fill_level' && v >= 0 && v <= 1) return formatNumber(v * 100, 0) + ' %';
      return Number.isInteger(v) ? formatNumber(v, 0) : formatNumber(v, 4);
    }
    if (typeof v === 'object') return JSON.stringify(v);
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
  function matchLegend(v) {
    if (!Array.isArray(v) || v[0] !== 'match' || !Array.isArray(v[1]) || v[1][0] !== 'get') return null;
    const items = [];
    for (let i = 2; i + 1 < v.length; i += 2) {
      if (!isColor(v[i + 1])) return null;
      const label = Array.isArray(v[i]) ? v[i].join(', ') : String(v[i]);
      items.push({ label: label, color: v[i + 1] });
    }
    return items.length ? { field: v[1][1], items: items } : null;
  }

  function setStatus(text) {
    statusEl.textContent = text;
  }

  // ---------------------------------------------------------------- map

  if (typeof maplibregl === 'undefined') {
    setStatus('Map library failed to load (/vendor/maplibre-gl/maplibre-gl.js).');
    return;
  }

  const startedWithHash = !!location.hash; // a shared link (#zoom/lat/lon) keeps its view

  const map = new maplibregl.Map({
    container: 'map',
    style: STYLE_URL,
    center: START.center,
    zoom: START.zoom,
    hash: true,
    attributionControl: false,
    maxPitch: 0,
    dragRotate: false
  });
  window.map = map;
  window.mashaerReady = false;
  map.touchZoomRotate.disableRotation();

  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');
  map.addControl(new maplibregl.AttributionControl({
    compact: false,
    customAttribution: '© OpenStreetMap contributors'
  }), 'bottom-right');

  // True once the style is loaded (map "load"). Not map.isStyleLoaded(), which
  // is false again whenever tiles are loading.
  let styleReady = false;
  let lastError = '';
  map.on('error', function (e) {
    // Handled here so that MapLibre does not print it as a console error.
    lastError = (e && e.error && e.error.message) || 'map error';
    console.warn('[mashaer]', lastError);
    updateStatus();
  });

  map.once('idle', function () {
    window.mashaerReady = true;
    document.documentElement.setAttribute('data-ready', 'true');
  });

  function panelPadding() {
    const open = !panel.classList.contains('collapsed') && window.innerWidth > 700;
    const left = open ? panel.getBoundingClientRect().right + 16 : 24;
    return { top: 24, bottom: 40, left: left, right: 56 };
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
    b.innerHTML = esc(place.label) + ' <span lang="ar" dir="rtl">' + esc(place.ar) + '</span>';
    b.addEventListener('click', function () { fitPlace(place, true); });
    flyto.appendChild(b);
  });

  // ---------------------------------------------------------------- panel

  function setPanel(open) {
    panel.classList.toggle('collapsed', !open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    toggle.title = open ? 'Hide panel' : 'Show panel';
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
    return layers.length;
  }

  // Swatch and legend for a group, read from its style layers.
  function groupLook(layers) {
    const byType = {};
    layers.forEach(function (l) { if (!byType[l.type]) byType[l.type] = l; });
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
      legend: matchLegend(paint)
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
      layerList.innerHTML = '<li class="muted">No layers.</li>';
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
      const look = styleLayers.length ? groupLook(styleLayers) : null;
      const info = GROUP_INFO[id] || {};
      let count = '';
      if (cat && typeof cat.feature_count === 'number') {
        count = formatNumber(cat.feature_count, 0) + ' ' + (GEOMETRY_NOUN[cat.geometry_type] || 'features');
      }

      let html = '<div class="layer-row">' +
        '<input type="checkbox" id="layer-toggle-' + esc(id) + '" data-layer="' + esc(id) + '"' +
        (visible ? ' checked' : '') + (styleLayers.length ? '' : ' disabled') + '>' +
        '<label for="layer-toggle-' + esc(id) + '">' +
        (look ? swatchHTML(look) : '<span class="swatch swatch-none" aria-hidden="true"></span>') +
        '<span class="layer-name">' + esc(groupTitle(id)) +
        (info.ar ? ' <span class="layer-ar" lang="ar" dir="rtl">' + esc(info.ar) + '</span>' : '') +
        '</span></label>' +
        '<span class="layer-count">' + esc(count) + '</span>';
      if (cat && Array.isArray(cat.bounds) && cat.bounds.length === 4 &&
          cat.bounds.every(function (n) { return typeof n === 'number' && isFinite(n); })) {
        html += '<button type="button" class="zoom-btn" title="Zoom to ' + esc(groupTitle(id)) +
          '" aria-label="Zoom to ' + esc(groupTitle(id)) + '">⤢</button>';
      }
      html += '</div>';
      if (!styleLayers.length) {
        html += '<div class="layer-note muted">Not drawn by this style</div>';
      }
      if (look && look.legend) {
        html += '<ul class="legend" aria-label="' + esc(humanize(look.legend.field)) + ' colours">';
        look.legend.items.forEach(function (it) {
          html += '<li><span class="swatch swatch-' + esc(look.type) + ' swatch-small" style="' +
            esc((look.type === 'line' ? 'border-top-color:' : 'background:') + it.color) +
            '" aria-hidden="true"></span>' + esc(humanize(it.label)) + '</li>';
        });
        html += '</ul>';
      }
      if (info.note) html += '<div class="layer-note">' + esc(info.note) + '</div>';
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
      li.textContent = 'Layer catalog unavailable (' + catalogError + '); counts not shown.';
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
      li.title = out ? 'Zoom in to level ' + minz + ' to see this layer' : '';
    });
  }

  fetch(CATALOG_URL, { headers: { Accept: 'application/json' } })
    .then(function (r) {
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
  map.once('load', function () {
    styleReady = true;
    buildLayerList();
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

  function popupHTML(feats) {
    const f = feats[0];
    const group = f.layer.metadata[GROUP_KEY];
    const p = f.properties || {};
    let html = '<div class="popup-layer">' + esc(groupTitle(group)) + '</div>' +
      '<div class="popup-title" dir="auto">' + esc(featureTitle(f)) + '</div>';
    if (p.name_ar) html += '<div class="popup-title-ar" dir="auto" lang="ar">' + esc(p.name_ar) + '</div>';
    html += '<table class="popup-table"><tbody>';
    Object.keys(p).forEach(function (k) {
      html += '<tr><th scope="row" title="' + esc(k) + '">' + esc(humanize(k)) + '</th>' +
        '<td dir="auto">' + esc(formatValue(k, p[k])) + '</td></tr>';
    });
    if (f.id !== undefined && f.id !== null && !('id' in p)) {
      html += '<tr><th scope="row">Feature id</th><td dir="auto">' + esc(f.id) + '</td></tr>';
    }
    html += '</tbody></table>';
    if (feats.length > 1) {
      html += '<div class="popup-more"><span>Also here:</span><ul>';
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

  function updateStatus() {
    let s = 'Zoom ' + map.getZoom().toFixed(2);
    if (cursor) s += ' · lon ' + cursor.lng.toFixed(5) + ' · lat ' + cursor.lat.toFixed(5);
    if (!map.areTilesLoaded()) s += ' · loading…';
    if (lastError) s += ' · ' + lastError;
    setStatus(s);
  }
  map.on('move', updateStatus);
  map.on('idle', updateStatus);
  map.on('zoomend', updateZoomHints);

  // Small API for tests and the console.
  window.mashaer = {
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
    }
  };
})();
