/* console_sites.js: the sites panel of the operations console (a tab of web/console.js): the Smart
 * Hajj gate application, people at each site counted at its gates.
 *
 * Sites: GET /kpi/sites (README "KPIs"): each site's people now (its gates' in minus out since the
 * day's start or its reset), in, out, gates, since when; *Count from zero* (POST /kpi/sites/{site}/reset,
 * asked first). A chosen site lists its gates (the `assets` of kind gate naming the site, matched by
 * `asset_id` to the live `gates` items): the gate's name, people in and out over the last 5 minutes
 * (the newest `gate_counts` window), utilisation, the queue in front of it with its level of service
 * (`queue_los`, Fruin's queuing levels), and the permit scans' denied share; the site's denied share is
 * the sum over its gates. The gates are drawn on the map coloured by queue level (grey without one),
 * ringed red where permits are being denied; the map goes to the site.
 * Live: `permit` events (raised, cleared) list the gates denying permits at the top; `gate` events
 * and the Refresh button reload; every 15 s while the tab is shown, the counts are read again.
 *
 * Words: web/i18n.js; requests, messages, dialogs and map overlays: the console's kit.
 * For browser tests: window.mashaerSites.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, map = k.map, I18N = k.I18N, t = I18N.t, esc = k.esc, props = k.props;

  const EVERY_MS = 15000;
  const WINDOW_MS = 10 * 60000; // the newest 5-minute windows of gate_counts: those that started in the last 10 minutes
  const LOS_COLOUR = ['match', ['get', 'queue_los'], 'A', '#2e7d32', 'B', '#7cb342', 'C', '#fbc02d', 'D', '#fb8c00', 'E', '#e53935',
    'F', '#7b1010', '#9e9e9e'];

  const st = { sites: [], site: null, gateAssets: [], live: {}, counts: {}, permits: {}, timer: null };

  const draw = k.overlay('console-sites', [
    { id: 'gates', type: 'circle', paint: { 'circle-radius': 7, 'circle-color': LOS_COLOUR,
      'circle-stroke-color': ['case', ['get', 'denying'], '#b3261e', '#ffffff'], 'circle-stroke-width': ['case', ['get', 'denying'], 3, 1] } }
  ], 'sites');

  function pct(x) { return x === null || x === undefined ? '—' : t('unit.pct', { n: I18N.num(Math.round(x * 1000) / 10) }); }
  function num(x) { return x === null || x === undefined ? '—' : I18N.num(x); }

  // ---- sites

  function reloadSites() {
    return k.api('GET', '/kpi/sites').then(function (res) {
      if (!res.ok) return k.fail(res);
      st.sites = res.json.sites || [];
      renderSites();
      if (st.site) return reloadGates();
    }, k.netFail);
  }

  function renderSites() {
    const list = k.el('gs-sites');
    if (!st.sites.length) { list.innerHTML = '<li class="muted">' + esc(t('console.gs.none')) + '</li>'; return; }
    list.innerHTML = st.sites.map(function (s) {
      return '<li class="console-item gs-site' + (st.site === s.site ? ' selected' : '') + '" data-site="' + esc(s.site) + '" data-people="' +
        esc(s.people) + '"><button type="button" class="console-item-main"><b>' + esc(k.code(s.site)) + '</b> · <span class="gs-people">' +
        esc(t('console.gs.people', { n: I18N.num(s.people) })) + '</span><br><span class="muted">' +
        esc(t('console.gs.in_out', { in: I18N.num(s.in), out: I18N.num(s.out), gates: I18N.num(s.gates) })) + (s.clamped ? ' · ' +
        esc(t('console.gs.clamped')) : '') + '</span></button><button type="button" class="gs-reset">' + esc(t('console.gs.reset')) + '</button></li>';
    }).join('');
    list.querySelectorAll('li[data-site]').forEach(function (li) {
      const site = li.dataset.site;
      li.querySelector('.console-item-main').addEventListener('click', function () { chooseSite(site); });
      li.querySelector('.gs-reset').addEventListener('click', function () {
        k.confirmAction(t('console.gs.confirm_reset', { site: k.code(site) }), t('console.gs.reset')).then(function (yes) {
          if (!yes) return;
          k.api('POST', '/kpi/sites/' + encodeURIComponent(site) + '/reset').then(function (res) {
            if (!res.ok) return k.fail(res);
            k.say(t('console.gs.was_reset', { site: k.code(site) }));
            reloadSites();
          }, k.netFail);
        });
      });
    });
  }

  function chooseSite(site) {
    st.site = site;
    renderSites();
    return k.api('GET', '/ogc/collections/assets/items?kind=gate&site=' + encodeURIComponent(site) + '&limit=500').then(function (res) {
      if (!res.ok) return k.fail(res);
      st.gateAssets = (res.json.features || []).slice().sort(function (a, b) {
        return String(props(a).asset_id).localeCompare(String(props(b).asset_id));
      });
      const pts = st.gateAssets.filter(function (f) { return f.geometry && f.geometry.type === 'Point'; }).map(function (f) { return f.geometry.coordinates; });
      if (pts.length) {
        const b = pts.reduce(function (a, c) { return [Math.min(a[0], c[0]), Math.min(a[1], c[1]), Math.max(a[2], c[0]), Math.max(a[3], c[1])]; },
          [Infinity, Infinity, -Infinity, -Infinity]);
        k.fit(b, 17);
      }
      return reloadGates();
    }, k.netFail);
  }

  // ---- the gates of the chosen site

  function reloadGates() {
    const since = k.clock.iso(-WINDOW_MS); // by the server's clock
    return Promise.all([
      k.api('GET', '/ogc/collections/gates/items?limit=1000'),
      k.api('GET', '/ogc/collections/gate_counts/items?limit=2000&datetime=' + encodeURIComponent(since + '/..'))
    ]).then(function (r) {
      st.live = {};
      if (r[0].ok) (r[0].json.features || []).forEach(function (f) { st.live[props(f).id] = props(f); });
      st.counts = {};
      if (r[1].ok) {
        (r[1].json.features || []).forEach(function (f) { // the newest window of each gate
          const p = props(f), had = st.counts[p.gate];
          if (!had || had.time < p.time) st.counts[p.gate] = p;
        });
      }
      renderGates();
    }, k.netFail);
  }

  function gateRows() {
    return st.gateAssets.map(function (f) {
      const a = props(f), live = st.live[a.asset_id] || {}, c = st.counts[a.asset_id] || {};
      return { id: a.asset_id, name: I18N.lang === 'ar' ? a.name_ar || a.name : a.name || a.name_ar, geometry: f.geometry, live: live, c: c,
        denying: !!st.permits[a.asset_id] };
    });
  }

  function renderGates() {
    const box = k.el('gs-gates');
    if (!st.site) { box.innerHTML = ''; draw.set(null); return; }
    const rows = gateRows();
    let valid = 0, denied = 0, inn = 0, out = 0;
    rows.forEach(function (g) { valid += g.c.scans_valid || 0; denied += g.c.scans_denied || 0; inn += g.c.in || 0; out += g.c.out || 0; });
    const site = st.sites.find(function (s) { return s.site === st.site; }) || {};
    box.innerHTML = '<div class="console-card" data-site="' + esc(st.site) + '"><h4>' + esc(t('console.gs.site_heading', { site: k.code(st.site) })) + '</h4>' +
      '<p class="gs-summary"><b class="gs-occupancy">' + esc(t('console.gs.people', { n: I18N.num(site.people || 0) })) + '</b> · ' +
      esc(t('console.gs.last5', { in: I18N.num(inn), out: I18N.num(out) })) + ' · <span class="gs-denied-share">' +
      esc(t('console.gs.denied_share', { share: valid + denied ? pct(denied / (valid + denied)) : '—' })) + '</span></p>' +
      '<table class="gs-table"><thead><tr><th scope="col">' + esc(t('console.gs.col.gate')) + '</th><th scope="col">' + esc(t('console.gs.col.in')) +
      '</th><th scope="col">' + esc(t('console.gs.col.out')) + '</th><th scope="col">' + esc(t('console.gs.col.util')) + '</th><th scope="col">' +
      esc(t('console.gs.col.queue')) + '</th><th scope="col">' + esc(t('console.gs.col.denied')) + '</th></tr></thead><tbody>' +
      rows.map(function (g) {
        const los = g.live.queue_los || '';
        return '<tr data-gate="' + esc(g.id) + '" data-los="' + esc(los) + '"' + (g.denying ? ' class="gs-denying"' : '') + '><th scope="row"><span dir="auto">' +
          esc(g.name || g.id) + '</span><br><span class="muted" dir="ltr">' + esc(g.id) + '</span>' + (g.live.state === 'closed' ?
          ' <span class="console-badge" data-status="closed">' + esc(k.code('closed')) + '</span>' : '') + '</th><td>' + esc(num(g.c.in)) +
          '</td><td>' + esc(num(g.c.out)) + '</td><td>' + esc(pct(g.live.utilisation)) + '</td><td>' + (los ? '<span class="fc-los gs-los">' +
          esc(t('console.gs.los', { los: los, n: num(g.live.queue_people) })) + '</span>' : '—') + '</td><td class="gs-denied">' +
          esc(pct(g.c.denied_share)) + '</td></tr>';
      }).join('') + '</tbody></table></div>';
    draw.set({ type: 'FeatureCollection', features: rows.filter(function (g) { return g.geometry; }).map(function (g) {
      return { type: 'Feature', geometry: g.geometry, properties: { gate: g.id, queue_los: g.live.queue_los || '', denying: g.denying } };
    }) });
  }

  // ---- permit alerts

  function renderPermits() {
    const ids = Object.keys(st.permits).sort();
    k.el('gs-permits').innerHTML = ids.map(function (id) {
      const d = st.permits[id];
      return '<li class="gs-permit" data-gate="' + esc(id) + '">' + esc(t('console.gs.permit', { gate: id, share: pct(d.denied_share),
        denied: I18N.num(d.scans_denied || 0), n: I18N.num((d.scans_valid || 0) + (d.scans_denied || 0)) })) + '</li>';
    }).join('');
  }

  function tick() {
    if (k.canOperate() && C.state().tab === 'sites') reloadSites();
  }

  C.addPanel({
    id: 'sites',
    types: ['permit'],
    init: function (pane) {
      pane.innerHTML = '<ul id="gs-permits" class="console-list gs-permits" aria-live="polite"></ul>' +
        '<div class="console-row"><h3>' + esc(t('console.gs.heading')) + '</h3><button type="button" id="gs-refresh">' + esc(t('console.gs.refresh')) +
        '</button></div><p class="muted">' + esc(t('console.gs.help')) + '</p>' +
        '<ul id="gs-sites" class="console-list"></ul><div id="gs-gates"></div>';
      k.el('gs-refresh').addEventListener('click', reloadSites);
    },
    start: function () { if (!st.timer) st.timer = setInterval(tick, EVERY_MS); },
    stop: function () {
      clearInterval(st.timer);
      st.timer = null;
      st.site = null;
      draw.set(null);
    },
    reload: reloadSites,
    show: reloadSites,
    event: function (type, d) {
      if (type === 'permit' && d.gate) {
        if (d.state === 'cleared') delete st.permits[d.gate];
        else st.permits[d.gate] = d;
        renderPermits();
        if (st.site) renderGates();
      } else if (type === 'gate' && st.site) {
        k.soon('gs', reloadSites);
      }
    }
  });

  window.mashaerSites = {
    state: function () {
      return { sites: st.sites.map(function (s) { return { site: s.site, people: s.people }; }), site: st.site, gates: st.gateAssets.length,
        permits: Object.keys(st.permits), layers: draw.ids };
    }
  };
})();
