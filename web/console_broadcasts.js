/* console_broadcasts.js: the broadcasts panel of the operations console (a tab of web/console.js).
 *
 * Compose: the target is one of a service zone (chosen from the `service_zones` layer's zone ids),
 * a camp (its id typed) or an area drawn on the map (a click a corner, Finish to close it); the
 * message in Arabic (required: asked for before anything is sent) and in as many of the other
 * languages as the officer writes (each text field in its own direction: Urdu and Persian right to
 * left); a severity; an expiry from now. Sent as POST /broadcasts (README "Broadcasts"): 201 names
 * the broadcast; a refusal is told in the officer's language, the server's reasons for a body
 * (unknown zone or camp, a bad polygon, an expiry, a message) each by a sentence of its own.
 *
 * The active broadcasts (GET /broadcasts, reloaded on every `broadcast` event of the console's
 * stream): severity, target, message in the officer's language (else Arabic), expiry, and Withdraw
 * (DELETE /broadcasts/{id}, asked first). Their target areas are drawn on the map, coloured by
 * severity; the area being drawn too.
 *
 * Words: web/i18n.js; requests, messages and dialogs: the console's (window.mashaerConsole.kit).
 * For browser tests: window.mashaerBroadcasts.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc;

  // the languages offered (the server takes more: README), right-to-left ones marked
  const LANGS = [['ar', true], ['en', false], ['ur', true], ['id', false], ['tr', false], ['fr', false], ['bn', false],
    ['ms', false], ['fa', true]];
  const SEVERITIES = ['info', 'warning', 'danger'];
  const EXPIRY_MIN = [15, 30, 60, 120, 360, 1440];
  const SEV_COLOUR = { info: '#1565c0', warning: '#c77700', danger: '#b3261e' };
  const AREAS = 'console-broadcasts';
  const DRAFT = 'console-broadcast-draft';
  const EMPTY = { type: 'FeatureCollection', features: [] };

  const st = { active: [], zones: [], drawing: false, corners: [], started: false };

  function target() { return (document.querySelector('input[name="bc-target"]:checked') || {}).value || 'zone'; }

  // ---- the map: the active areas and the draft

  function draftData() {
    const c = st.corners;
    const feats = c.map(function (p) { return { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }; });
    if (c.length >= 2) {
      feats.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: c.concat(st.drawing ? [] : [c[0]]) } });
    }
    return { type: 'FeatureCollection', features: feats };
  }

  function ensureLayers() {
    if (!st.started || !k.styleReady()) return;
    if (!map.getSource(AREAS)) {
      map.addSource(AREAS, { type: 'geojson', data: EMPTY });
      const colour = ['match', ['get', 'severity'], 'danger', SEV_COLOUR.danger, 'warning', SEV_COLOUR.warning, SEV_COLOUR.info];
      map.addLayer({ id: AREAS + '-fill', type: 'fill', source: AREAS, paint: { 'fill-color': colour, 'fill-opacity': 0.15 } });
      map.addLayer({ id: AREAS + '-line', type: 'line', source: AREAS, paint: { 'line-color': colour, 'line-width': 2, 'line-dasharray': [2, 1] } });
    }
    if (!map.getSource(DRAFT)) {
      map.addSource(DRAFT, { type: 'geojson', data: EMPTY });
      map.addLayer({ id: DRAFT + '-line', type: 'line', source: DRAFT, paint: { 'line-color': '#6a1b9a', 'line-width': 2 } });
      map.addLayer({ id: DRAFT + '-points', type: 'circle', source: DRAFT, filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 4, 'circle-color': '#6a1b9a' } });
    }
    map.getSource(AREAS).setData({ type: 'FeatureCollection', features: st.active.map(function (f) {
      return { type: 'Feature', geometry: f.geometry, properties: { id: f.id, severity: f.properties.severity } };
    }) });
    map.getSource(DRAFT).setData(draftData());
  }
  map.on('styledata', function () { if (st.started && !map.getSource(AREAS)) ensureLayers(); });
  map.on('load', ensureLayers);

  function showCorners() {
    k.el('bc-draw-count').textContent = t('console.bc.draw_points', { n: I18N.num(st.corners.length) });
    k.el('bc-draw').setAttribute('aria-pressed', String(st.drawing));
    k.el('bc-draw').textContent = t(st.drawing ? 'console.bc.draw_done' : 'console.bc.draw');
    map.getCanvas().style.cursor = st.drawing ? 'crosshair' : '';
    ensureLayers();
  }

  // ---- compose

  function zoneLabel(p) {
    const name = I18N.lang === 'ar' ? p.name_ar || p.name : p.name || p.name_ar;
    return name ? name + ' (' + p.zone_id + ')' : p.zone_id;
  }

  function reloadZones() {
    return k.api('GET', '/ogc/collections/service_zones/items?limit=200').then(function (res) {
      const sel = k.el('bc-zone');
      st.zones = res.ok ? (res.json.features || []).map(function (f) { return f.properties || {}; })
        .filter(function (p) { return p.zone_id; }).sort(function (a, b) { return String(a.zone_id).localeCompare(String(b.zone_id)); }) : [];
      const keep = sel.value;
      sel.innerHTML = st.zones.length ? st.zones.map(function (p) { return k.opt(p.zone_id, zoneLabel(p)); }).join('') :
        '<option value="">' + esc(t('console.bc.zones_none')) + '</option>';
      if (keep && st.zones.some(function (p) { return p.zone_id === keep; })) sel.value = keep;
    }, k.netFail);
  }

  // The body of POST /broadcasts from the form; null after telling the officer what is missing.
  function body() {
    const kind = target();
    let tgt;
    if (kind === 'zone') {
      if (!k.el('bc-zone').value) { k.say(t('console.bc.need_zone'), true); return null; }
      tgt = { zone: k.el('bc-zone').value };
    } else if (kind === 'camp') {
      const id = k.el('bc-camp').value.trim();
      if (!id) { k.say(t('console.bc.need_camp'), true); return null; }
      tgt = { camp: id };
    } else {
      if (st.corners.length < 3) { k.say(t('console.bc.need_area'), true); return null; }
      tgt = { geometry: { type: 'Polygon', coordinates: [st.corners.concat([st.corners[0]])] } };
    }
    const message = {};
    LANGS.forEach(function (l) {
      const v = k.el('bc-msg-' + l[0]).value.trim();
      if (v) message[l[0]] = v;
    });
    if (!message.ar) { k.say(t('console.bc.need_ar'), true); k.el('bc-msg-ar').focus(); return null; }
    const minutes = Number(k.el('bc-expiry').value);
    return { target: tgt, message: message, severity: k.el('bc-severity').value,
      expires: k.clock.iso(minutes * 60000) }; // from the server's now: it refuses a time past, or over 7 days on
  }

  // A refusal in the officer's words: the server's reasons for a body each have a sentence.
  function refusal(res) {
    const msg = String((res.json || {}).error || '');
    let m;
    if ((m = msg.match(/^target\.(zone|camp): no \w+ '([^']*)'/))) return t('console.bc.err.no_' + m[1], { id: m[2] });
    if ((m = msg.match(/^target\.(?:zone|camp): '([^']*)' has no polygon/))) return t('console.bc.err.no_polygon', { id: m[1] });
    if (/^target\.geometry/.test(msg)) return t('console.bc.err.geometry');
    if (/^message\.ar/.test(msg)) return t('console.bc.need_ar');
    if (/^message/.test(msg)) return t('console.bc.err.message');
    if (/^expires/.test(msg)) return t('console.bc.err.expires');
    return k.errorText(res);
  }

  function send(e) {
    e.preventDefault();
    const b = body();
    if (!b) return;
    k.api('POST', '/broadcasts', b).then(function (res) {
      if (!res.ok) {
        if (res.status === 401 || res.status === 403) return k.fail(res);
        return k.say(refusal(res), true);
      }
      const id = (res.json && res.json.id) || String(res.location || '').split('/').pop();
      k.say(t('console.bc.sent', { id: id }));
      LANGS.forEach(function (l) { k.el('bc-msg-' + l[0]).value = ''; });
      st.corners = [];
      st.drawing = false;
      showCorners();
      reloadActive();
    }, k.netFail);
  }

  // ---- the active ones

  function reloadActive() {
    return k.api('GET', '/broadcasts').then(function (res) {
      if (!res.ok) return k.fail(res);
      st.active = (res.json.features || []).slice().sort(function (a, b) {
        return String(b.properties.created || '').localeCompare(String(a.properties.created || ''));
      });
      renderActive();
      ensureLayers();
    }, k.netFail);
  }

  function targetText(p) {
    const tg = p.target || {};
    return tg.zone ? t('console.bc.to_zone', { id: tg.zone }) : tg.camp ? t('console.bc.to_camp', { id: tg.camp }) : t('console.bc.to_area');
  }

  function renderActive() {
    const list = k.el('bc-list');
    if (!st.active.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.bc.none')) + '</li>';
      return;
    }
    list.innerHTML = st.active.map(function (f) {
      const p = f.properties || {};
      const msg = p.message || {};
      const lang = msg[I18N.lang] ? I18N.lang : 'ar';
      const dir = (p.dir || {})[lang] || (lang === 'ar' ? 'rtl' : 'auto');
      const until = p.expires && isFinite(Date.parse(p.expires)) ? t('console.bc.until', { time: I18N.dateTime(Date.parse(p.expires)) }) : '';
      return '<li class="console-item bc-item" data-id="' + esc(f.id) + '" data-severity="' + esc(p.severity) + '"><span>' +
        '<span class="console-sev bc-sev" data-severity="' + esc(p.severity) + '">' +
        esc(t('console.bc.sev.' + p.severity)) + '</span> <b dir="auto">' + esc(targetText(p)) + '</b><br>' +
        '<span class="bc-text" lang="' + esc(lang) + '" dir="' + esc(dir) + '">' + esc(msg[lang] || '') + '</span><br>' +
        '<span class="muted">' + esc(until) + '</span></span>' +
        '<button type="button" class="danger bc-withdraw">' + esc(t('console.bc.withdraw')) + '</button></li>';
    }).join('');
    list.querySelectorAll('.bc-withdraw').forEach(function (b) {
      b.addEventListener('click', function () {
        const id = b.parentNode.dataset.id;
        k.confirmAction(t('console.bc.confirm_withdraw', { id: id }), t('console.bc.withdraw')).then(function (yes) {
          if (!yes) return;
          k.api('DELETE', '/broadcasts/' + encodeURIComponent(id)).then(function (res) {
            if (!res.ok) return k.fail(res);
            k.say(t('console.bc.withdrawn', { id: id }));
            reloadActive();
          }, k.netFail);
        });
      });
    });
  }

  // ---- the panel

  function langField(l) {
    const code = l[0], rtl = l[1];
    return '<label for="bc-msg-' + code + '">' + esc(t('console.bc.lang.' + code)) + '</label>' +
      '<textarea id="bc-msg-' + code + '" rows="2" lang="' + code + '" dir="' + (rtl ? 'rtl' : 'ltr') + '"></textarea>';
  }

  C.addPanel({
    id: 'broadcasts',
    types: ['broadcast'],
    init: function (pane) {
      const radio = function (v, checked) {
        return '<label class="console-radio"><input type="radio" name="bc-target" value="' + v + '"' + (checked ? ' checked' : '') + '> ' +
          esc(t('console.bc.target.' + v)) + '</label>';
      };
      pane.innerHTML =
        '<h3>' + esc(t('console.bc.new_heading')) + '</h3>' +
        '<form id="bc-form" class="console-form" novalidate>' +
        '<fieldset><legend>' + esc(t('console.bc.target')) + '</legend>' + radio('zone', true) + radio('camp') + radio('geometry') + '</fieldset>' +
        '<div id="bc-t-zone" class="console-form"><label for="bc-zone">' + esc(t('console.bc.zone_label')) + '</label><select id="bc-zone"></select></div>' +
        '<div id="bc-t-camp" class="console-form" hidden><label for="bc-camp">' + esc(t('console.bc.camp_label')) + '</label>' +
        '<input id="bc-camp" dir="ltr" autocomplete="off" spellcheck="false"></div>' +
        '<div id="bc-t-geometry" class="console-form" hidden><p class="muted">' + esc(t('console.bc.draw_help')) + '</p>' +
        '<div class="console-row"><button type="button" id="bc-draw" aria-pressed="false"></button>' +
        '<button type="button" id="bc-draw-clear">' + esc(t('console.bc.draw_clear')) + '</button>' +
        '<span id="bc-draw-count" class="muted"></span></div></div>' +
        LANGS.slice(0, 2).map(langField).join('') +
        '<details><summary>' + esc(t('console.bc.more_langs')) + '</summary><div class="console-form">' +
        LANGS.slice(2).map(langField).join('') + '</div></details>' +
        '<label for="bc-severity">' + esc(t('console.bc.severity')) + '</label><select id="bc-severity">' +
        SEVERITIES.map(function (s) { return k.opt(s, t('console.bc.sev.' + s)); }).join('') + '</select>' +
        '<label for="bc-expiry">' + esc(t('console.bc.expiry')) + '</label><select id="bc-expiry">' +
        EXPIRY_MIN.map(function (m) {
          return k.opt(m, m < 60 ? t('unit.min', { n: I18N.num(m) }) : t('console.bc.hours', { n: I18N.num(m / 60) }));
        }).join('') + '</select>' +
        '<div class="console-buttons"><button type="submit" class="primary">' + esc(t('console.bc.send')) + '</button></div></form>' +
        '<h3>' + esc(t('console.bc.active_heading')) + '</h3><ul id="bc-list" class="console-list"></ul>';
      k.el('bc-severity').value = 'warning';
      k.el('bc-expiry').value = '60';
      pane.querySelectorAll('input[name="bc-target"]').forEach(function (r) {
        r.addEventListener('change', function () {
          ['zone', 'camp', 'geometry'].forEach(function (v) { k.el('bc-t-' + v).hidden = v !== target(); });
          if (target() !== 'geometry' && st.drawing) { st.drawing = false; showCorners(); }
        });
      });
      k.el('bc-draw').addEventListener('click', function () { st.drawing = !st.drawing; showCorners(); });
      k.el('bc-draw-clear').addEventListener('click', function () { st.corners = []; showCorners(); });
      k.el('bc-form').addEventListener('submit', send);
      showCorners();
    },
    start: function () { st.started = true; ensureLayers(); },
    stop: function () {
      st.started = false;
      st.drawing = false;
      [AREAS, DRAFT].forEach(function (s) { if (map.getSource(s)) map.getSource(s).setData(EMPTY); });
    },
    reload: function () { reloadZones(); reloadActive(); },
    event: function (type) { if (type === 'broadcast') k.soon('bc', reloadActive); },
    mapClick: function (e) {
      if (!st.drawing) return false;
      st.corners.push([Number(e.lngLat.lng.toFixed(7)), Number(e.lngLat.lat.toFixed(7))]);
      showCorners();
      return true;
    },
    picking: function () { return st.drawing; }
  });

  window.mashaerBroadcasts = {
    state: function () {
      return { active: st.active.map(function (f) { return f.id; }), corners: st.corners.length, drawing: st.drawing,
        zones: st.zones.length };
    }
  };
})();
