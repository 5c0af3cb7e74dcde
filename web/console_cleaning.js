/* console_cleaning.js: the cleaning panel of the operations console (a tab of web/console.js).
 *
 * Tasks: the `cleaning_tasks` collection (README "Cleaning tasks"), filtered by status and crew on
 * the server (equality filters) and by service zone in the page (the zone holding the middle of the
 * task's area: tasks carry no zone of their own). Each row: the task, its route, crew, status, due
 * time (overdue in red) and its progress as a bar with the percentage the server computes.
 * New task: a cleaning route (its id from `cleaning_routes`), a crew (the live `crews` of kind
 * cleaning, or any id typed), a due time from now: POST, 201 names the task.
 * A chosen task: its fields; assign another crew (PATCH `crew`); its next statuses as buttons (start,
 * done, cancel with a note; done and cancel asked first), every write with the ETag read (the console's
 * write(): a 412 shows both versions). The map goes to the task and draws its area and its route's
 * 10 m pieces from `cleaning_progress`: swept for this task in green, the rest grey.
 * Live: a `change` on cleaning_tasks (the server writes `progress` once a second) reloads the list and
 * the chosen task; `cleaning_overdue` events mark the task overdue.
 *
 * Words: web/i18n.js; requests, messages, dialogs, writes and map overlays: the console's kit.
 * For browser tests: window.mashaerCleaning.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc, props = k.props;

  const COLL = 'cleaning_tasks';
  const STATUSES = ['open', 'in_progress', 'done', 'cancelled'];
  const NEXT = { open: ['in_progress', 'cancelled'], in_progress: ['done', 'cancelled'], done: [], cancelled: [] };
  const ASK = { done: true, cancelled: true }; // asked first
  const DUE_HOURS = [1, 2, 4, 8, 12];
  const PIECES_MAX = 2000;

  const st = { tasks: [], zones: [], routes: [], crews: [], sel: null, overdue: {}, pieces: 0, swept: 0 };

  const draw = k.overlay('console-cleaning', [
    { id: 'area', type: 'line', filter: ['==', ['get', 'part'], 'area'], paint: { 'line-color': '#1f5f3a', 'line-width': 2, 'line-dasharray': [2, 1] } },
    { id: 'pieces', type: 'line', filter: ['==', ['get', 'part'], 'piece'],
      paint: { 'line-color': ['case', ['get', 'swept'], '#2e7d32', '#9e9e9e'], 'line-width': ['case', ['get', 'swept'], 5, 3] } }
  ], 'cleaning');

  // ---- geometry in the page: which zone holds a task

  function ringHas(ring, x, y) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i], b = ring[j];
      if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) inside = !inside;
    }
    return inside;
  }
  function polygons(g) { return !g ? [] : g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : []; }
  function bounds(g) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    polygons(g).forEach(function (p) { p[0].forEach(function (c) {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    }); });
    return isFinite(b[0]) ? b : null;
  }
  function zoneOf(f) {
    const b = bounds(f.geometry);
    if (!b) return '';
    const x = (b[0] + b[2]) / 2, y = (b[1] + b[3]) / 2;
    const z = st.zones.find(function (zf) {
      return polygons(zf.geometry).some(function (p) { return ringHas(p[0], x, y) && !p.slice(1).some(function (h) { return ringHas(h, x, y); }); });
    });
    return z ? props(z).zone_id : '';
  }

  // ---- reference lists: zones, routes, crews

  function reloadRefs() {
    return Promise.all([
      k.api('GET', '/ogc/collections/service_zones/items?limit=200'),
      k.api('GET', '/ogc/collections/cleaning_routes/items?limit=1000'),
      k.api('GET', '/ogc/collections/crews/items?kind=cleaning&limit=500')
    ]).then(function (r) {
      st.zones = r[0].ok ? r[0].json.features || [] : [];
      st.routes = r[1].ok ? r[1].json.features || [] : [];
      st.crews = r[2].ok ? (r[2].json.features || []).map(function (f) { return props(f).id; }).filter(Boolean).sort() : [];
      const zsel = k.el('ct-f-zone'), keep = zsel.value;
      zsel.innerHTML = k.opt('', t('console.ct.all_zones')) + st.zones.map(function (f) {
        const p = props(f);
        return k.opt(p.zone_id, (I18N.lang === 'ar' ? p.name_ar || p.name : p.name || p.name_ar) + ' (' + p.zone_id + ')');
      }).join('');
      zsel.value = keep;
      k.el('ct-new-route').innerHTML = st.routes.map(function (f) {
        const p = props(f);
        return k.opt(f.id, t('console.ct.route_option', { id: p.route_id || f.id, site: k.code(p.site), length: k.metres(p.length_m || 0) }));
      }).join('');
      k.el('ct-crews').innerHTML = st.crews.map(function (c) { return '<option value="' + esc(c) + '"></option>'; }).join('');
      renderTasks();
    }, k.netFail);
  }

  // ---- the tasks

  function query() {
    let q = '/ogc/collections/' + COLL + '/items?limit=200';
    const status = k.el('ct-f-status').value, crew = k.el('ct-f-crew').value.trim();
    if (status) q += '&status=' + encodeURIComponent(status);
    if (crew) q += '&crew=' + encodeURIComponent(crew);
    return q;
  }

  function reloadTasks() {
    return k.api('GET', query()).then(function (res) {
      if (!res.ok) return k.fail(res);
      st.tasks = (res.json.features || []).slice().sort(function (a, b) { return b.id - a.id; });
      renderTasks();
      if (st.sel) loadTask(st.sel.fid, false);
    }, k.netFail);
  }

  function isOverdue(p) {
    return (p.status === 'open' || p.status === 'in_progress') && p.due && Date.parse(p.due) < k.clock.now(); // the server's clock
  }

  function routeName(p) {
    const r = st.routes.find(function (f) { return f.id === p.route; });
    return p.route === null || p.route === undefined ? t('console.ct.area') : t('console.ct.route', { id: r ? props(r).route_id : p.route });
  }

  function bar(pct) {
    const n = Math.max(0, Math.min(100, Number(pct) || 0));
    return '<span class="ct-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + n + '"><span style="inline-size:' +
      n + '%"></span></span> <b class="ct-pct">' + esc(t('unit.pct', { n: I18N.num(n) })) + '</b>';
  }

  function renderTasks() {
    const list = k.el('ct-list');
    const zone = k.el('ct-f-zone').value;
    const shown = st.tasks.filter(function (f) { return !zone || zoneOf(f) === zone; });
    k.el('ct-count').textContent = t('console.ct.count', { n: I18N.num(shown.length) });
    if (!shown.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.ct.none')) + '</li>';
      return;
    }
    list.innerHTML = shown.map(function (f) {
      const p = props(f);
      const late = isOverdue(p) || st.overdue[f.id];
      return '<li class="console-item ct-item' + (st.sel && st.sel.fid === f.id ? ' selected' : '') + '" data-fid="' + esc(f.id) +
        '" data-status="' + esc(p.status) + '" data-progress="' + esc(p.progress || 0) + '">' +
        '<button type="button" class="console-item-main"><b>' + esc(t('console.ct.title', { id: f.id })) + '</b> · ' + esc(routeName(p)) +
        ' · <span dir="ltr">' + esc(p.crew || '—') + '</span> · <span class="console-badge" data-status="' + esc(p.status) + '">' +
        esc(k.code(p.status)) + '</span><br>' + bar(p.progress) + ' <span class="muted' + (late ? ' ct-late' : '') + '">' +
        esc(late ? t('console.ct.overdue') : p.due ? t('console.ct.due', { time: I18N.dateTime(Date.parse(p.due)) }) : '') + '</span></button></li>';
    }).join('');
    list.querySelectorAll('li[data-fid] button').forEach(function (b) {
      b.addEventListener('click', function () { loadTask(Number(b.parentNode.dataset.fid), true); });
    });
  }

  function loadTask(fid, go) {
    return k.api('GET', k.itemPath(COLL, fid)).then(function (res) {
      if (!res.ok) { st.sel = null; renderDetail(); return k.fail(res); }
      st.sel = { fid: fid, etag: res.etag, feature: res.json };
      renderDetail();
      renderTasks();
      drawTask(go);
    }, k.netFail);
  }

  function renderDetail() {
    const box = k.el('ct-detail');
    if (!st.sel) { k.refill(box, null, ''); return; }
    const f = st.sel.feature, p = props(f);
    const drawn = k.refill(box, st.sel.fid + ':' + p.status, '<div class="console-card" data-fid="' + esc(st.sel.fid) + '"><h4>' + esc(t('console.ct.title', { id: st.sel.fid })) +
      ' · ' + esc(routeName(p)) + '</h4>' + bar(p.progress) +
      k.fieldRows(Object.assign({ zone_id: zoneOf(f) || null }, p), ['status', 'crew', 'zone_id', 'due', 'shift_start', 'shift_end', 'note']) +
      '<p class="muted" id="ct-pieces"></p>' +
      (NEXT[p.status].length ? '<form id="ct-assign" class="console-row"><label for="ct-assign-crew">' + esc(t('console.ct.assign_label')) +
        '</label><input id="ct-assign-crew" list="ct-crews" dir="ltr" autocomplete="off" value="' + esc(p.crew || '') + '">' +
        '<button type="submit">' + esc(t('console.ct.assign')) + '</button></form>' +
        '<label for="ct-note">' + esc(t('console.ct.note_label')) + '</label><input id="ct-note" dir="auto" autocomplete="off">' +
        '<div class="console-buttons">' + NEXT[p.status].map(function (s) {
          return '<button type="button" class="ct-to' + (ASK[s] ? ' danger' : ' primary') + '" data-to="' + s + '">' + esc(t('console.ct.to.' + s)) + '</button>';
        }).join('') + '</div>' : '<p class="muted">' + esc(t('console.ct.final')) + '</p>') + '</div>');
    showPieces();
    if (!drawn) return;
    const form = k.el('ct-assign');
    if (form) {
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        const crew = k.el('ct-assign-crew').value.trim();
        if (!crew) return k.say(t('console.ct.need_crew'), true);
        save({ crew: crew });
      });
    }
    box.querySelectorAll('.ct-to').forEach(function (b) {
      b.addEventListener('click', function () {
        const to = b.dataset.to, note = k.el('ct-note').value.trim();
        const patch = { status: to };
        if (to === 'cancelled') {
          if (!note) return k.say(t('console.need_reason'), true);
          patch.note = note;
        } else if (note) patch.note = note;
        if (!ASK[to]) return save(patch);
        k.confirmAction(t('console.ct.confirm.' + to, { id: st.sel.fid }), t('console.ct.to.' + to)).then(function (yes) { if (yes) save(patch); });
      });
    });
  }

  function save(patch) {
    const sel = st.sel;
    return k.write({ coll: COLL, fid: sel.fid, etag: sel.etag, base: props(sel.feature), patch: patch,
      done: function () { k.el('ct-detail').dataset.key = ''; reloadTasks(); }, keep: function () { loadTask(sel.fid, false); } });
  }

  // The task's area and its route's pieces (swept for this task, or not) on the map.
  function drawTask(go) {
    const f = st.sel && st.sel.feature;
    const b = f && bounds(f.geometry);
    if (!b) { draw.set(null); return; }
    if (go) k.fit(b, 18);
    const p = props(f);
    const q = '/ogc/collections/cleaning_progress/items?limit=' + PIECES_MAX + '&bbox=' + b.join(',') +
      (p.route !== null && p.route !== undefined ? '&route=' + encodeURIComponent(p.route) : '');
    const fid = f.id;
    return k.api('GET', q).then(function (res) {
      if (!st.sel || st.sel.fid !== fid) return;
      const pieces = res.ok ? res.json.features || [] : [];
      const feats = [{ type: 'Feature', geometry: f.geometry, properties: { part: 'area' } }];
      st.pieces = pieces.length;
      st.swept = 0;
      pieces.forEach(function (x) {
        const swept = !!props(x).swept && props(x).task === fid;
        if (swept) st.swept++;
        feats.push({ type: 'Feature', geometry: x.geometry, properties: { part: 'piece', swept: swept, piece: x.id } });
      });
      draw.set({ type: 'FeatureCollection', features: feats });
      showPieces();
    }, k.netFail);
  }
  function showPieces() {
    const e = k.el('ct-pieces');
    if (e) e.textContent = t('console.ct.pieces', { swept: I18N.num(st.swept), n: I18N.num(st.pieces) });
  }

  // ---- a new task

  function create(e) {
    e.preventDefault();
    const route = Number(k.el('ct-new-route').value), crew = k.el('ct-new-crew').value.trim();
    if (!route) return k.say(t('console.ct.need_route'), true);
    if (!crew) return k.say(t('console.ct.need_crew'), true);
    const due = k.clock.iso(Number(k.el('ct-new-due').value) * 3600000); // hours from the server's now
    k.api('POST', '/ogc/collections/' + COLL + '/items', { type: 'Feature', properties: { route: route, crew: crew, due: due } },
      { ctype: 'application/geo+json' }).then(function (res) {
      if (!res.ok) return k.fail(res);
      const fid = (res.json && res.json.id) || Number(String(res.location || '').split('/').pop());
      k.say(t('console.ct.created', { id: fid }));
      k.el('ct-new-form').hidden = true;
      reloadTasks().then(function () { loadTask(fid, true); });
    }, k.netFail);
  }

  // ---- the panel

  C.addPanel({
    id: 'cleaning',
    types: ['cleaning_overdue'],
    init: function (pane) {
      pane.innerHTML =
        '<button type="button" id="ct-new" class="primary">' + esc(t('console.ct.new')) + '</button>' +
        '<form id="ct-new-form" class="console-form" hidden>' +
        '<label for="ct-new-route">' + esc(t('console.ct.route_label')) + '</label><select id="ct-new-route"></select>' +
        '<label for="ct-new-crew">' + esc(t('console.ct.crew_label')) + '</label>' +
        '<input id="ct-new-crew" list="ct-crews" dir="ltr" autocomplete="off" spellcheck="false">' +
        '<label for="ct-new-due">' + esc(t('console.ct.due_label')) + '</label><select id="ct-new-due">' +
        DUE_HOURS.map(function (h) { return k.opt(h, t('console.bc.hours', { n: I18N.num(h) })); }).join('') + '</select>' +
        '<div class="console-buttons"><button type="submit" class="primary">' + esc(t('console.ct.create')) + '</button>' +
        '<button type="button" id="ct-new-cancel">' + esc(t('console.back')) + '</button></div></form>' +
        '<datalist id="ct-crews"></datalist>' +
        '<fieldset class="ct-filters"><legend>' + esc(t('console.filters')) + '</legend><div class="console-row">' +
        '<label for="ct-f-status">' + esc(t('console.ct.status_label')) + '</label><select id="ct-f-status">' +
        k.opt('', t('console.all')) + STATUSES.map(function (s) { return k.opt(s, k.code(s)); }).join('') + '</select>' +
        '<label for="ct-f-zone">' + esc(t('console.ct.zone_label')) + '</label><select id="ct-f-zone"></select>' +
        '<label for="ct-f-crew">' + esc(t('console.ct.crew_label')) + '</label>' +
        '<input id="ct-f-crew" list="ct-crews" dir="ltr" size="9" autocomplete="off"></div></fieldset>' +
        '<h3>' + esc(t('console.ct.list_heading')) + ' <span id="ct-count" class="muted"></span></h3>' +
        '<ul id="ct-list" class="console-list"></ul><div id="ct-detail"></div>';
      k.el('ct-new-due').value = '2';
      k.el('ct-new').addEventListener('click', function () { k.el('ct-new-form').hidden = false; k.el('ct-new-route').focus(); });
      k.el('ct-new-cancel').addEventListener('click', function () { k.el('ct-new-form').hidden = true; });
      k.el('ct-new-form').addEventListener('submit', create);
      k.el('ct-f-status').addEventListener('change', reloadTasks);
      k.el('ct-f-crew').addEventListener('change', reloadTasks);
      k.el('ct-f-zone').addEventListener('change', renderTasks);
    },
    stop: function () { st.sel = null; draw.set(null); },
    reload: function () { reloadRefs(); reloadTasks(); },
    show: function () { drawTask(false); },
    event: function (type, d) {
      if (type === 'change' && d.collection === COLL) k.soon('ct', reloadTasks);
      if (type === 'cleaning_overdue' && d.task !== undefined) { st.overdue[d.task] = true; renderTasks(); }
    }
  });

  window.mashaerCleaning = {
    state: function () {
      return { tasks: st.tasks.map(function (f) { return { id: f.id, status: props(f).status, progress: props(f).progress, crew: props(f).crew }; }),
        selected: st.sel && st.sel.fid, pieces: st.pieces, swept: st.swept, routes: st.routes.length, crews: st.crews.slice(), layers: draw.ids };
    }
  };
})();
