/* console_tracking.js: the tracking panel of the operations console (a tab of web/console.js): the
 * lost-person search and the groups' dispersion alerts.
 *
 * Search: by a person's id or by a group id (GET /tracking/search?id= or ?group=, README "HTTP
 * endpoints"; ops only). A person: their last position and time, whether it still counts, the trail
 * of the last hours drawn on the map as a line with a dot per position (oldest pale) and the last one
 * ringed; their group's members below. A group: its members (active of all, the spread from the
 * centroid against the radius), those outside the radius first and marked, each with the distance to
 * the centroid and to the nearest other member; a click on a member searches them. Members are dots
 * on the map (outside ones red), the centroid a ring; the map goes to what was found.
 * Alerts: `group` events (raised with the members outside, cleared) listed at the top, each with
 * *Show* (searches the group).
 *
 * Words: web/i18n.js; requests, messages and map overlays: the console's kit.
 * For browser tests: window.mashaerTracking.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc;

  const st = { found: null, alerts: {}, trail: 0, members: 0 };

  const draw = k.overlay('console-tracking', [
    { id: 'trail', type: 'line', filter: ['==', ['get', 'part'], 'trail'], paint: { 'line-color': '#6a1b9a', 'line-width': 4, 'line-opacity': 0.8 } },
    { id: 'members', type: 'circle', filter: ['==', ['get', 'part'], 'member'], paint: { 'circle-radius': 5,
      'circle-color': ['case', ['get', 'outside'], '#b3261e', '#1565c0'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } },
    { id: 'points', type: 'circle', filter: ['==', ['get', 'part'], 'point'], paint: { 'circle-radius': ['case', ['get', 'last'], 8, 4],
      'circle-color': '#6a1b9a', 'circle-opacity': ['case', ['get', 'last'], 1, 0.5], 'circle-stroke-color': '#fff', 'circle-stroke-width': ['case', ['get', 'last'], 3, 1] } },
    { id: 'centroid', type: 'circle', filter: ['==', ['get', 'part'], 'centroid'], paint: { 'circle-radius': 10, 'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': '#1565c0', 'circle-stroke-width': 3 } }
  ], 'tracking');

  function pt(p) { return p && isFinite(p.lon) && isFinite(p.lat) ? { type: 'Point', coordinates: [p.lon, p.lat] } : null; }
  function when(iso) { return iso && isFinite(Date.parse(iso)) ? I18N.dateTime(Date.parse(iso)) : '—'; }

  function search(kind, value) {
    const v = String(value || '').trim();
    if (!v) return k.say(t('console.tr.need_id'), true);
    k.el('tr-kind-' + kind).checked = true;
    k.el('tr-id').value = v;
    return k.api('GET', '/tracking/search?' + kind + '=' + encodeURIComponent(v)).then(function (res) {
      if (res.status === 404) {
        st.found = null;
        render();
        return k.say(t(kind === 'id' ? 'console.tr.no_person' : 'console.tr.no_group', { id: v }), true);
      }
      if (!res.ok) return k.fail(res);
      k.say('');
      st.found = { kind: kind, value: v, json: res.json };
      render();
      drawFound(true);
    }, k.netFail);
  }

  function groupOf(j) { return j.group_members || (j.members ? j : null); }

  function render() {
    const box = k.el('tr-result');
    const f = st.found;
    if (!f) { box.innerHTML = ''; draw.set(null); return; }
    const j = f.json, g = groupOf(j);
    let html = '';
    if (f.kind === 'id') {
      const last = j.last || {}, tp = (j.track && j.track.properties) || {};
      html += '<div class="console-card tr-person" data-id="' + esc(j.id) + '"><h4>' + esc(t('console.tr.person', { id: j.id })) + '</h4>' +
        '<dl class="console-fields"><dt>' + esc(t('console.tr.last_seen')) + '</dt><dd class="tr-last">' + esc(when(last.time)) +
        (last.active === false ? ' · ' + esc(t('console.tr.inactive')) : '') + '</dd><dt>' + esc(t('console.tr.group')) + '</dt><dd dir="ltr">' +
        (j.group ? '<button type="button" class="tr-goto-group" data-group="' + esc(j.group) + '">' + esc(j.group) + '</button>' : '—') + '</dd>' +
        '<dt>' + esc(t('console.tr.trail')) + '</dt><dd class="tr-points">' + esc(t('console.tr.points', { n: I18N.num(tp.points || 0), h: I18N.num(tp.hours || 0) })) +
        '</dd></dl></div>';
    }
    if (g) {
      const members = (g.members || []).slice().sort(function (a, b) { return (b.outside - a.outside) || b.to_centroid_m - a.to_centroid_m; });
      html += '<div class="console-card tr-group" data-group="' + esc(g.group) + '"><h4>' + esc(t('console.tr.group_heading', { id: g.group })) + '</h4>' +
        '<p class="tr-summary">' + esc(t('console.tr.group_summary', { active: I18N.num(g.active), n: I18N.num(g.count),
          spread: k.metres(g.spread_m || 0), radius: k.metres(g.radius_m || 0) })) + (g.truncated ? ' · ' + esc(t('console.tr.truncated')) : '') + '</p>' +
        '<ul class="console-list tr-members">' + members.map(function (m) {
          return '<li class="console-item tr-member' + (m.outside ? ' tr-outside' : '') + '" data-id="' + esc(m.id) + '"' + (m.outside ? ' data-outside="1"' : '') +
            '><button type="button" class="console-item-main"><b dir="ltr">' + esc(m.id) + '</b>' + (m.outside ? ' · <span class="console-badge" data-status="closed">' +
            esc(t('console.tr.outside')) + '</span>' : '') + '<br><span class="muted">' + esc(t('console.tr.member_line', { d: k.metres(m.to_centroid_m || 0),
              near: m.nearest || '—', nd: k.metres(m.nearest_m || 0), time: when(m.last && m.last.time) })) + '</span></button></li>';
        }).join('') + '</ul></div>';
    }
    box.innerHTML = html;
    box.querySelectorAll('.tr-member button').forEach(function (b) {
      b.addEventListener('click', function () { search('id', b.parentNode.dataset.id); });
    });
    box.querySelectorAll('.tr-goto-group').forEach(function (b) {
      b.addEventListener('click', function () { search('group', b.dataset.group); });
    });
  }

  function drawFound(go) {
    const f = st.found;
    if (!f) { draw.set(null); return; }
    const j = f.json, g = groupOf(j), feats = [];
    st.trail = 0;
    st.members = 0;
    const track = j.track && j.track.geometry;
    if (track && track.type === 'LineString') {
      feats.push({ type: 'Feature', geometry: track, properties: { part: 'trail' } });
      track.coordinates.forEach(function (c, i) {
        feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { part: 'point', last: i === track.coordinates.length - 1, n: i } });
      });
      st.trail = track.coordinates.length;
    } else if (track && track.type === 'Point') {
      feats.push({ type: 'Feature', geometry: track, properties: { part: 'point', last: true, n: 0 } });
      st.trail = 1;
    }
    if (g) {
      (g.members || []).forEach(function (m) {
        const geom = pt(m.last);
        if (geom && m.id !== j.id) {
          feats.push({ type: 'Feature', geometry: geom, properties: { part: 'member', id: m.id, outside: !!m.outside } });
          st.members++;
        }
      });
      if (pt(g.centroid)) feats.push({ type: 'Feature', geometry: pt(g.centroid), properties: { part: 'centroid' } });
    }
    draw.set({ type: 'FeatureCollection', features: feats });
    if (!go || !feats.length) return;
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    feats.forEach(function (x) {
      (x.geometry.type === 'Point' ? [x.geometry.coordinates] : x.geometry.coordinates).forEach(function (c) {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      });
    });
    k.fit(b, 18);
  }

  function renderAlerts() {
    const ids = Object.keys(st.alerts).sort();
    k.el('tr-alerts').innerHTML = ids.map(function (id) {
      const d = st.alerts[id];
      return '<li class="console-item tr-alert" data-group="' + esc(id) + '"><span>' + esc(t('console.tr.alert', { group: id, spread: k.metres(d.spread_m || 0),
        radius: k.metres(d.radius_m || 0), n: I18N.num(d.outside_count || 0) })) + '</span><button type="button">' + esc(t('console.tr.show')) + '</button></li>';
    }).join('');
    k.el('tr-alerts').querySelectorAll('li button').forEach(function (b) {
      b.addEventListener('click', function () { search('group', b.parentNode.dataset.group); });
    });
  }

  C.addPanel({
    id: 'tracking',
    types: ['group'],
    init: function (pane) {
      pane.innerHTML = '<h3>' + esc(t('console.tr.alerts_heading')) + '</h3><ul id="tr-alerts" class="console-list" aria-live="polite"></ul>' +
        '<h3>' + esc(t('console.tr.search_heading')) + '</h3><form id="tr-form" class="console-form">' +
        '<fieldset><legend>' + esc(t('console.tr.by')) + '</legend><label class="console-radio"><input type="radio" name="tr-kind" id="tr-kind-id" value="id" checked> ' +
        esc(t('console.tr.by_id')) + '</label><label class="console-radio"><input type="radio" name="tr-kind" id="tr-kind-group" value="group"> ' +
        esc(t('console.tr.by_group')) + '</label></fieldset><label for="tr-id">' + esc(t('console.tr.id_label')) + '</label>' +
        '<input id="tr-id" dir="ltr" autocomplete="off" spellcheck="false"><div class="console-buttons"><button type="submit" class="primary">' +
        esc(t('console.tr.search')) + '</button><button type="button" id="tr-clear">' + esc(t('console.tr.clear')) + '</button></div></form>' +
        '<p class="muted">' + esc(t('console.tr.help')) + '</p><div id="tr-result"></div>';
      k.el('tr-form').addEventListener('submit', function (e) {
        e.preventDefault();
        search(k.el('tr-kind-group').checked ? 'group' : 'id', k.el('tr-id').value);
      });
      k.el('tr-clear').addEventListener('click', function () { st.found = null; render(); });
    },
    stop: function () { st.found = null; draw.set(null); },
    show: function () { drawFound(false); },
    event: function (type, d) {
      if (type !== 'group' || !d.group) return;
      if (d.state === 'cleared') delete st.alerts[d.group];
      else st.alerts[d.group] = d;
      renderAlerts();
    }
  });

  window.mashaerTracking = {
    state: function () {
      return { found: st.found && { kind: st.found.kind, value: st.found.value }, trail: st.trail, members: st.members,
        alerts: Object.keys(st.alerts), layers: draw.ids };
    }
  };
})();
