/* console_reports.js: the reports panel of the operations console (a tab of web/console.js).
 *
 * Reports from pilgrims' and staff's phones (README "Reports from pilgrims and staff"): the list,
 * filtered by category and status on the server (equality filters) and by SLA in the page (past its
 * deadline and still open, or not), the most urgent first (open before closed, then the earliest
 * `sla_due`). Each row: category, status, zone, when, the SLA left or passed (red), and the incident
 * or work order it became. All listed reports are dots on the map; the chosen one a larger ring.
 * A chosen report: its text (in its own direction), fields, photos (thumbnails fetched with the
 * token as blobs: an <img> cannot send it; a click shows the full photo), its next statuses
 * (acknowledged, in progress, resolved, rejected with a note; resolving and rejecting asked first),
 * *Make incident* (severity; kind from the category) and *Make work order* (an asset id, a fault),
 * both asked first: POST .../escalate; a 409 names the item it became already.
 * Live: `report` events (ops: every report's) reload the list and the chosen report.
 *
 * Words: web/i18n.js; requests, messages, dialogs, writes and map overlays: the console's kit.
 * For browser tests: window.mashaerReports.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc, props = k.props;

  const COLL = 'reports';
  const CATEGORIES = ['cleanliness', 'crowding', 'medical', 'lost_person', 'facility_fault', 'other'];
  const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'rejected'];
  const NEXT = { new: ['acknowledged', 'rejected'], acknowledged: ['in_progress', 'resolved', 'rejected'],
    in_progress: ['resolved', 'rejected'], resolved: [], rejected: [] };
  const ASK = { resolved: true, rejected: true };
  const KIND = { medical: 'medical', lost_person: 'lost_person', crowding: 'crowding' }; // the rest: other
  const SEVERITIES = ['medium', 'high', 'critical', 'low'];

  const st = { reports: [], sel: null, photos: [], urls: [] };

  const draw = k.overlay('console-reports', [
    { id: 'dots', type: 'circle', paint: {
      'circle-radius': ['case', ['get', 'selected'], 9, 5], 'circle-color': ['case', ['get', 'late'], '#b3261e', '#6a1b9a'],
      'circle-stroke-color': '#fff', 'circle-stroke-width': ['case', ['get', 'selected'], 3, 1] } }
  ], 'reports');

  function closed(p) { return p.status === 'resolved' || p.status === 'rejected'; }
  function late(p) { return !closed(p) && p.sla_due && Date.parse(p.sla_due) < k.clock.now(); } // by the server's clock

  function query() {
    let q = '/ogc/collections/' + COLL + '/items?limit=200';
    const cat = k.el('rp-f-category').value, status = k.el('rp-f-status').value;
    if (cat) q += '&category=' + encodeURIComponent(cat);
    if (status) q += '&status=' + encodeURIComponent(status);
    return q;
  }

  function reloadReports() {
    return k.api('GET', query()).then(function (res) {
      if (!res.ok) return k.fail(res);
      st.reports = (res.json.features || []).slice().sort(function (a, b) {
        const pa = props(a), pb = props(b);
        return (closed(pa) - closed(pb)) || String(pa.sla_due || '').localeCompare(String(pb.sla_due || '')) || b.id - a.id;
      });
      renderReports();
      if (st.sel) loadReport(st.sel.fid, false);
    }, k.netFail);
  }

  function slaText(p) {
    if (closed(p)) return p.closed ? t('console.rp.closed_at', { time: I18N.dateTime(Date.parse(p.closed)) }) : '';
    if (!p.sla_due) return '';
    const left = (Date.parse(p.sla_due) - k.clock.now()) / 1000;
    return left < 0 ? t('console.rp.sla_passed', { d: k.duration(-left) }) : t('console.rp.sla_left', { d: k.duration(left) });
  }
  function linkText(p) {
    return p.incident ? t('console.rp.became_incident', { id: p.incident }) :
      p.work_order ? t('console.rp.became_wo', { id: p.work_order }) : '';
  }

  function shown() {
    const sla = k.el('rp-f-sla').value;
    return st.reports.filter(function (f) { return !sla || (sla === 'late') === !!late(props(f)); });
  }

  function renderReports() {
    const list = k.el('rp-list');
    const rows = shown();
    k.el('rp-count').textContent = t('console.rp.count', { n: I18N.num(rows.length) });
    drawReports(rows);
    if (!rows.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.rp.none')) + '</li>';
      return;
    }
    list.innerHTML = rows.map(function (f) {
      const p = props(f);
      return '<li class="console-item rp-item' + (st.sel && st.sel.fid === f.id ? ' selected' : '') + '" data-fid="' + esc(f.id) +
        '" data-status="' + esc(p.status) + '" data-category="' + esc(p.category) + '"' + (late(p) ? ' data-late="1"' : '') + '>' +
        '<button type="button" class="console-item-main"><b>' + esc(t('console.rp.title', { id: f.id })) + '</b> · ' + esc(k.code(p.category)) +
        ' · <span class="console-badge" data-status="' + esc(p.status) + '">' + esc(k.code(p.status)) + '</span>' +
        (p.zone ? ' · <span dir="ltr">' + esc(p.zone) + '</span>' : '') + '<br><span class="rp-text" dir="auto">' +
        esc(String(p.text || '').slice(0, 80)) + '</span><br><span class="muted' + (late(p) ? ' ct-late' : '') + '">' + esc(slaText(p)) +
        '</span>' + (linkText(p) ? ' · <span class="muted">' + esc(linkText(p)) + '</span>' : '') + '</button></li>';
    }).join('');
    list.querySelectorAll('li[data-fid] button').forEach(function (b) {
      b.addEventListener('click', function () { loadReport(Number(b.parentNode.dataset.fid), true); });
    });
  }

  function drawReports(rows) {
    draw.set({ type: 'FeatureCollection', features: rows.filter(function (f) { return f.geometry; }).map(function (f) {
      return { type: 'Feature', geometry: f.geometry, properties: { id: f.id, late: !!late(props(f)), selected: !!st.sel && st.sel.fid === f.id } };
    }) });
  }

  function loadReport(fid, go) {
    return k.api('GET', k.itemPath(COLL, fid)).then(function (res) {
      if (!res.ok) { st.sel = null; renderDetail(); return k.fail(res); }
      const first = !st.sel || st.sel.fid !== fid;
      st.sel = { fid: fid, etag: res.etag, feature: res.json };
      renderDetail();
      renderReports();
      if (go && res.json.geometry) { const c = res.json.geometry.coordinates; k.fit([c[0], c[1], c[0], c[1]], Math.max(map.getZoom(), 17)); }
      if (first) loadPhotos(fid);
    }, k.netFail);
  }

  // ---- photos: fetched with the token, shown from blob: URLs

  function blob(path) {
    return fetch(path, { headers: { Authorization: 'Bearer ' + k.token() }, cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.blob();
    }).then(function (b) {
      const u = URL.createObjectURL(b);
      st.urls.push(u);
      return u;
    });
  }
  function local(href) { const u = new URL(href, location.href); return u.pathname + u.search; }

  function loadPhotos(fid) {
    st.urls.forEach(function (u) { URL.revokeObjectURL(u); });
    st.urls = [];
    st.photos = [];
    showPhotos();
    return k.api('GET', k.itemPath(COLL, fid) + '/attachments').then(function (res) {
      if (!res.ok || !st.sel || st.sel.fid !== fid) return;
      const list = res.json.attachments || [];
      return Promise.all(list.map(function (a) {
        return blob(local(a.thumbnail)).then(function (u) { return { id: a.id, href: local(a.href), thumb: u, width: a.width, height: a.height }; },
          function () { return { id: a.id, href: local(a.href), thumb: null }; });
      })).then(function (ph) {
        if (!st.sel || st.sel.fid !== fid) return;
        st.photos = ph;
        showPhotos();
      });
    }, k.netFail);
  }

  function showPhotos() {
    const box = k.el('rp-photos');
    if (!box) return;
    if (!st.photos.length) { box.innerHTML = '<span class="muted">' + esc(t('console.rp.no_photos')) + '</span>'; return; }
    box.innerHTML = st.photos.map(function (p) {
      return p.thumb ? '<button type="button" class="rp-photo" data-aid="' + esc(p.id) + '"><img src="' + esc(p.thumb) + '" alt="' +
        esc(t('console.rp.photo_alt', { n: p.id })) + '"></button>' : '<span class="muted">' + esc(t('console.rp.photo_failed', { n: p.id })) + '</span>';
    }).join('') + '<div id="rp-photo-full"></div>';
    box.querySelectorAll('.rp-photo').forEach(function (b) {
      b.addEventListener('click', function () {
        const p = st.photos.find(function (x) { return String(x.id) === b.dataset.aid; });
        blob(p.href).then(function (u) {
          k.el('rp-photo-full').innerHTML = '<img class="rp-photo-full" src="' + esc(u) + '" alt="' + esc(t('console.rp.photo_alt', { n: p.id })) + '">';
        }, k.netFail);
      });
    });
  }

  // ---- the chosen report

  function renderDetail() {
    const box = k.el('rp-detail');
    if (!st.sel) { k.refill(box, null, ''); return; }
    const f = st.sel.feature, p = props(f);
    const linked = p.incident || p.work_order;
    const drawn = k.refill(box, st.sel.fid + ':' + p.status + ':' + (linked || ''), '<div class="console-card" data-fid="' + esc(st.sel.fid) + '"><h4>' + esc(t('console.rp.title', { id: st.sel.fid })) + ' · ' +
      esc(k.code(p.category)) + '</h4><p class="rp-fulltext" dir="auto">' + esc(p.text || '') + '</p>' +
      k.fieldRows(p, ['status', 'zone', 'reporter', 'created', 'sla_due', 'closed', 'incident', 'work_order', 'note']) +
      '<h4>' + esc(t('console.rp.photos')) + '</h4><div id="rp-photos" class="rp-photos"></div>' +
      (NEXT[p.status].length ? '<h4>' + esc(t('console.rp.status_heading')) + '</h4>' +
        '<label for="rp-note">' + esc(t('console.ct.note_label')) + '</label><input id="rp-note" dir="auto" autocomplete="off">' +
        '<div class="console-buttons">' + NEXT[p.status].map(function (s) {
          return '<button type="button" class="rp-to' + (ASK[s] ? ' danger' : '') + '" data-to="' + s + '">' + esc(t('console.rp.to.' + s)) + '</button>';
        }).join('') + '</div>' : '') +
      (linked ? '<p class="rp-linked"><b>' + esc(linkText(p)) + '</b></p>' + (p.incident ?
        '<button type="button" id="rp-open-incident">' + esc(t('console.rp.open_incident')) + '</button>' : '') :
        '<h4>' + esc(t('console.rp.escalate_heading')) + '</h4><div class="console-row">' +
        '<label for="rp-severity">' + esc(t('console.inc.severity_label')) + '</label><select id="rp-severity">' +
        SEVERITIES.map(function (s) { return k.opt(s, k.code(s)); }).join('') + '</select>' +
        '<button type="button" id="rp-make-incident" class="primary">' + esc(t('console.rp.make_incident')) + '</button></div>' +
        '<form id="rp-wo-form" class="console-row"><label for="rp-asset">' + esc(t('console.rp.asset_label')) + '</label>' +
        '<input id="rp-asset" dir="ltr" size="10" autocomplete="off" spellcheck="false">' +
        '<button type="submit">' + esc(t('console.rp.make_wo')) + '</button></form>') + '</div>');
    if (!drawn) return;
    showPhotos();
    box.querySelectorAll('.rp-to').forEach(function (b) {
      b.addEventListener('click', function () {
        const to = b.dataset.to, note = k.el('rp-note').value.trim();
        const patch = { status: to };
        if (to === 'rejected' && !note) return k.say(t('console.need_reason'), true);
        if (note) patch.note = note;
        if (!ASK[to]) return save(patch);
        k.confirmAction(t('console.rp.confirm.' + to, { id: st.sel.fid }), t('console.rp.to.' + to)).then(function (yes) { if (yes) save(patch); });
      });
    });
    const inc = k.el('rp-make-incident');
    if (inc) {
      inc.addEventListener('click', function () {
        const sev = k.el('rp-severity').value;
        k.confirmAction(t('console.rp.confirm_incident', { id: st.sel.fid, severity: k.code(sev) }), t('console.rp.make_incident'))
          .then(function (yes) { if (yes) escalate({ to: 'incident', severity: sev, kind: KIND[p.category] || 'other' }); });
      });
      k.el('rp-wo-form').addEventListener('submit', function (e) {
        e.preventDefault();
        const asset = k.el('rp-asset').value.trim();
        if (!asset) return k.say(t('console.rp.need_asset'), true);
        k.confirmAction(t('console.rp.confirm_wo', { id: st.sel.fid, asset: asset }), t('console.rp.make_wo'))
          .then(function (yes) { if (yes) escalate({ to: 'work_order', asset_id: asset, fault: String(p.text || '').slice(0, 200) }); });
      });
    }
    const open = k.el('rp-open-incident');
    if (open) open.addEventListener('click', function () { k.selectTab('incidents'); });
  }

  function save(patch) {
    const sel = st.sel;
    return k.write({ coll: COLL, fid: sel.fid, etag: sel.etag, base: props(sel.feature), patch: patch,
      done: function () { k.el('rp-detail').dataset.key = ''; reloadReports(); }, keep: function () { loadReport(sel.fid, false); } });
  }

  function escalate(body) {
    const fid = st.sel.fid;
    return k.api('POST', k.itemPath(COLL, fid) + '/escalate', body).then(function (res) {
      const j = res.json || {};
      if (res.status === 409 && j.code === 'already_escalated') {
        k.say(t('console.rp.already', { what: j.incident ? t('console.rp.became_incident', { id: j.incident }) :
          t('console.rp.became_wo', { id: j.work_order }) }), true);
        return reloadReports();
      }
      if (!res.ok) return k.fail(res);
      const made = (j.properties && j.properties.id) || j.id || String(res.location || '').split('/').pop();
      k.say(t(body.to === 'incident' ? 'console.rp.made_incident' : 'console.rp.made_wo', { id: made, report: fid }));
      return reloadReports();
    }, k.netFail);
  }

  // ---- the panel

  C.addPanel({
    id: 'reports',
    types: ['report'],
    init: function (pane) {
      pane.innerHTML =
        '<fieldset><legend>' + esc(t('console.filters')) + '</legend><div class="console-row">' +
        '<label for="rp-f-category">' + esc(t('console.rp.category_label')) + '</label><select id="rp-f-category">' +
        k.opt('', t('console.all')) + CATEGORIES.map(function (c) { return k.opt(c, k.code(c)); }).join('') + '</select>' +
        '<label for="rp-f-status">' + esc(t('console.ct.status_label')) + '</label><select id="rp-f-status">' +
        k.opt('', t('console.all')) + STATUSES.map(function (s) { return k.opt(s, k.code(s)); }).join('') + '</select>' +
        '<label for="rp-f-sla">' + esc(t('console.rp.sla_label')) + '</label><select id="rp-f-sla">' +
        k.opt('', t('console.all')) + k.opt('late', t('console.rp.sla_late')) + k.opt('ok', t('console.rp.sla_ok')) + '</select>' +
        '</div></fieldset>' +
        '<h3>' + esc(t('console.rp.list_heading')) + ' <span id="rp-count" class="muted"></span></h3>' +
        '<ul id="rp-list" class="console-list"></ul><div id="rp-detail"></div>';
      k.el('rp-f-category').addEventListener('change', reloadReports);
      k.el('rp-f-status').addEventListener('change', reloadReports);
      k.el('rp-f-sla').addEventListener('change', renderReports);
    },
    stop: function () { st.sel = null; draw.set(null); },
    reload: reloadReports,
    show: function () { renderReports(); },
    event: function (type) { if (type === 'report') k.soon('rp', reloadReports); }
  });

  window.mashaerReports = {
    state: function () {
      return { reports: st.reports.map(function (f) { return { id: f.id, status: props(f).status, incident: props(f).incident || null }; }),
        selected: st.sel && st.sel.fid, photos: st.photos.length, layers: draw.ids };
    }
  };
})();
