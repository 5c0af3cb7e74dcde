/* console.js: the operations console of the viewer: officers act on the map.
 *
 * Sign-in: a token typed (pasted) by the officer, checked once with GET /auth/whoami (its name and
 * role) and kept in sessionStorage ("mashaer.token"): this tab only, forgotten when it closes, never
 * in localStorage or a cookie. The role is shown in the panel's header. The console itself appears
 * only for ops and admin tokens; without a token (or with a feed or reporter one) the page is the
 * public, read-only viewer it always was: no control here writes anything.
 *
 * Panels (tabs), every write through the server's HTTP contract (README "HTTP endpoints"):
 *   Assets       click an asset (or type its id): status working/faulty/maintenance by PATCH with
 *                If-Match; open a work order for it; its work orders; its history.
 *   Work orders  the open and assigned ones: assign a crew, mark done, cancel with a note.
 *   Incidents    the open ones, most severe first; create one at a map click (kind, severity,
 *                description); triage (severity); the ranked responders (/incidents/{id}/responders,
 *                walking ETA) and dispatch one; on scene; resolve; cancel with a reason.
 *   Gates        open, or close with a reason.
 *   History      of any item (/ogc/collections/{c}/items/{fid}/history): who, when, what changed.
 * Destructive actions (cancel, resolve, done, close a gate) ask first in a dialog of their own.
 *
 * Ids: incidents and gates are named by their own text id (INC-OPS-3, G-1: the `id` property, the
 * one the server's Location gives) in every path the console asks: the item, its PATCH, its
 * responders and its history.
 *
 * Concurrency: every write sends the ETag read when the officer opened the item (If-Match). A 412
 * answer carries the item as it is now: the console shows the officer's version and the current one
 * field by field, and lets them apply their change again (on the new ETag) or keep the current one.
 *
 * Live: one event stream (fetch, so it can carry the token) on /events?types=change,incident,gate,
 * escalation (without escalation where the server does not know it yet): a change to an item on
 * screen reloads it (unless the officer is choosing a new value: then they are told, and saving
 * shows both versions), lists reload, assets' tiles refresh, escalations are shown at the top.
 *
 * More panels: each in a file of its own (web/console_forecast.js, web/console_broadcasts.js,
 * console_cleaning.js, console_reports.js, console_sites.js, console_tracking.js, console_bins.js), loaded after this
 * one, registered with window.mashaerConsole.addPanel(panel) (see addPanel below): a tab and its pane,
 * the event types it wants on the one stream, and hooks called as the console is opened, reloaded,
 * shown, clicked on the map or sent an event. They write through the same helpers (kit: requests,
 * messages, dialogs, If-Match writes with the conflict view, overlay() to draw on the map, and clock:
 * the server's clock, web/clock.js, for anything told against now, never Date.now()).
 *
 * Words: web/i18n.js (window.I18N), none here. Logical CSS in web/console.css mirrors it in Arabic.
 * For browser tests: window.mashaerConsole (state, picking(), ready).
 */
(function () {
  'use strict';

  const map = window.map;
  const I18N = window.I18N;
  const CLOCK = window.mashaerClock; // the server's clock (web/clock.js), set from every answer here
  if (!map || !I18N) return;
  const t = I18N.t;

  const TOKEN_KEY = 'mashaer.token';
  const GROUP_KEY = 'mashaer:group';
  const ASSET_STATUSES = ['working', 'faulty', 'maintenance'];
  const KINDS = ['medical', 'lost_person', 'fire', 'crowding', 'security', 'other'];
  const SEVERITIES = ['critical', 'high', 'medium', 'low'];
  const SEV_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const FINAL = ['resolved', 'cancelled', 'done'];
  const TABS = ['asset', 'workorders', 'incidents', 'gates']; // the panels of other files are added (addPanel)
  const EVENT_TYPES = ['change', 'incident', 'gate', 'escalation'];
  const panels = []; // {id, types, init(pane), start(), stop(), reload(), show(), event(type, data), mapClick(e), picking()}
  const overlays = []; // the panels' map drawings (overlay() below): {tab, show(on)}
  function each(hook) {
    const args = Array.prototype.slice.call(arguments, 1);
    panels.forEach(function (p) { if (p[hook]) p[hook].apply(p, args); });
  }
  const RESPONDERS = 5;
  const LIST_LIMIT = 200; // one unit of the server's admission budget (1 + limit / 250)
  const BUSY_RETRIES = 2;
  const MERGE_PATCH = 'application/merge-patch+json';
  const GEOJSON = 'application/geo+json';

  const st = {
    token: null, who: null, tab: 'asset', picking: false, newAt: null,
    asset: null,      // {fid, etag, feature, dirty, stale}
    wo: null,         // selected work order {fid, etag, feature}
    inc: null,        // selected incident {fid, etag, feature, responders}
    incidents: [], workOrders: [], gates: [], escalated: {},
    live: false, stream: null, eventsSeen: 0
  };

  // ------------------------------------------------------------------ helpers

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function el(id) { return document.getElementById(id); }
  function code(v) { return v === null || v === undefined || v === '' ? '—' : I18N.label('value', v); }
  function fmt(key, v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'number') return I18N.num(v, Number.isInteger(v) ? 0 : 4);
    if (typeof v === 'boolean') return t(v ? 'value.yes' : 'value.no');
    if (typeof v === 'object') return JSON.stringify(v);
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) && isFinite(Date.parse(v))) return I18N.dateTime(Date.parse(v));
    if (I18N.has('value.' + v)) return code(v);
    return String(v);
  }
  function duration(s) {
    return s < 90 ? t('unit.s', { n: Math.round(s) }) : t('unit.min', { n: Math.round(s / 60) });
  }
  function metres(m) {
    return m >= 1000 ? t('unit.km', { n: I18N.num(m / 1000, 2, 2) }) : t('unit.m', { n: Math.round(m) });
  }
  function props(f) { return (f && f.properties) || {}; }
  function itemPath(coll, fid) { return '/ogc/collections/' + coll + '/items/' + encodeURIComponent(fid); }
  function sameValue(a, b) { return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b); }
  function fieldRows(p, keys) {
    return '<dl class="console-fields">' + keys.filter(function (k) { return k in p; }).map(function (k) {
      return '<dt>' + esc(I18N.label('field', k)) + '</dt><dd dir="auto" data-field="' + esc(k) + '">' +
        esc(fmt(k, p[k])) + '</dd>';
    }).join('') + '</dl>';
  }

  // One request to the server with the token; resolves to {status, ok, etag, json, location}. A read the
  // server refuses as busy (503 from its admission gate while the map loads) is asked again after its
  // Retry-After, at most BUSY_RETRIES times; a write never is (the officer decides).
  function api(method, path, body, opts) {
    const o = opts || {};
    return send(method, path, body, o).then(function (res) {
      const left = o.retries === undefined ? BUSY_RETRIES : o.retries;
      if (res.status !== 503 || method !== 'GET' || left <= 0) return res;
      return new Promise(function (resolve) { setTimeout(resolve, 1000 * Math.min(5, Math.max(1, res.retryAfter || 1))); })
        .then(function () { return api(method, path, body, Object.assign({}, o, { retries: left - 1 })); });
    });
  }

  function send(method, path, body, o) {
    const headers = { Accept: 'application/json' };
    if (st.token) headers.Authorization = 'Bearer ' + st.token;
    if (o.ifMatch) headers['If-Match'] = o.ifMatch;
    if (body !== undefined) headers['Content-Type'] = o.ctype || 'application/json';
    return fetch(path, { method: method, headers: headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        const time = CLOCK.note(r); // as the answer's head arrives, not after a long body's download
        return r.text().then(function (text) {
          let json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          // time: the server's clock when it answered (Mashaer-Time), NaN without it (an asof page)
          return { status: r.status, ok: r.ok, etag: r.headers.get('ETag'), location: r.headers.get('Location'), json: json,
            retryAfter: Number(r.headers.get('Retry-After')) || 0, time: time };
        });
      });
  }

  // What an error answer says, in the officer's words where the code is known.
  function errorText(res) {
    const j = res.json || {};
    if (res.status === 401) return t('console.expired');
    if (res.status === 403) return t('console.forbidden');
    if (res.status === 409 && j.code === 'invalid_transition') {
      const allowed = (j.allowed || []).map(code).join(t('list.sep'));
      return t('console.err.transition', { from: code(j.from), to: code(j.to), allowed: allowed || t('console.err.final') });
    }
    return t('console.err.server', { status: res.status, detail: j.description || j.error || '' });
  }

  function say(text, bad) {
    const m = el('console-msg');
    m.textContent = text;
    m.classList.toggle('bad', !!bad);
  }
  function fail(res) {
    if (res.status === 401) signOut(t('console.expired'));
    say(errorText(res), true);
  }
  function netFail(e) { say(t('console.err.network', { error: e.message }), true); }

  // ------------------------------------------------------------------ dialogs

  // Ask before a destructive action; resolves true when the officer confirms.
  function confirmAction(message, yesLabel) {
    const d = el('console-confirm');
    el('console-confirm-text').textContent = message;
    const yes = el('console-confirm-yes');
    yes.textContent = yesLabel;
    return new Promise(function (resolve) {
      function done(v) {
        yes.removeEventListener('click', onYes);
        d.removeEventListener('close', onClose);
        if (d.open) d.close();
        resolve(v);
      }
      function onYes() { done(true); }
      function onClose() { done(false); }
      yes.addEventListener('click', onYes);
      d.addEventListener('close', onClose);
      d.showModal();
      el('console-confirm-no').focus();
    });
  }

  // ------------------------------------------------------------------ the page

  const header = document.querySelector('#panel .panel-header');
  const account = document.createElement('div');
  account.className = 'console-account';
  account.innerHTML =
    '<button type="button" id="console-signin" class="console-signin">' + esc(t('console.sign_in')) + '</button>' +
    '<span id="console-who" class="console-who" hidden></span>' +
    '<button type="button" id="console-signout" class="console-signin" hidden>' + esc(t('console.sign_out')) + '</button>';
  header.insertBefore(account, el('lang-switch'));
  const noAccess = document.createElement('p');
  noAccess.id = 'console-noaccess';
  noAccess.className = 'console-noaccess';
  noAccess.setAttribute('role', 'status');
  noAccess.hidden = true;
  header.parentNode.insertBefore(noAccess, header.nextSibling);

  function opt(v, label) { return '<option value="' + esc(v) + '">' + esc(label) + '</option>'; }
  function tabButton(id) {
    return '<button type="button" role="tab" id="console-tab-' + id + '" data-tab="' + id + '" aria-controls="console-pane-' +
      id + '" aria-selected="false" tabindex="-1">' + esc(t('console.tab.' + id)) + '</button>';
  }

  const dialogs = document.createElement('div');
  dialogs.innerHTML =
    '<dialog id="console-signin-dialog" class="console-dialog" aria-labelledby="console-signin-title">' +
    '<form id="console-signin-form">' +
    '<h2 id="console-signin-title">' + esc(t('console.sign_in_title')) + '</h2>' +
    '<p class="muted">' + esc(t('console.signin_help')) + '</p>' +
    '<label for="console-token">' + esc(t('console.token_label')) + '</label>' +
    '<input id="console-token" type="password" autocomplete="off" spellcheck="false" dir="ltr">' +
    '<p id="console-signin-error" class="console-error" role="alert"></p>' +
    '<div class="console-buttons"><button type="submit" class="primary">' + esc(t('console.sign_in')) + '</button>' +
    '<button type="button" id="console-signin-cancel">' + esc(t('console.back')) + '</button></div>' +
    '</form></dialog>' +
    '<dialog id="console-confirm" class="console-dialog" aria-labelledby="console-confirm-title" aria-describedby="console-confirm-text">' +
    '<h2 id="console-confirm-title">' + esc(t('console.confirm_title')) + '</h2>' +
    '<p id="console-confirm-text"></p>' +
    '<div class="console-buttons"><button type="button" id="console-confirm-yes" class="danger"></button>' +
    '<button type="button" id="console-confirm-no">' + esc(t('console.confirm_no')) + '</button></div>' +
    '</dialog>';
  document.body.appendChild(dialogs);
  el('console-confirm-no').addEventListener('click', function () { el('console-confirm').close(); });

  const aside = document.createElement('aside');
  aside.id = 'console';
  aside.className = 'console';
  aside.hidden = true;
  aside.setAttribute('aria-labelledby', 'console-title');
  aside.innerHTML =
    '<header class="console-header"><h2 id="console-title">' + esc(t('console.title')) + '</h2>' +
    '<span id="console-live" class="console-live" role="status"></span></header>' +
    '<ul id="console-escalations" class="console-escalations" aria-live="assertive"></ul>' +
    '<div class="console-tabs" role="tablist" aria-label="' + esc(t('console.tabs')) + '">' + TABS.map(tabButton).join('') + '</div>' +
    '<div id="console-msg" class="console-msg" role="status" aria-live="polite"></div>' +
    '<div id="console-conflict" class="console-conflict" role="alert" hidden></div>' +
    '<div class="console-body">' +
    // assets
    '<section id="console-pane-asset" role="tabpanel" aria-labelledby="console-tab-asset" hidden>' +
    '<form id="asset-find" class="console-row"><label for="asset-find-id">' + esc(t('console.asset.find_label')) + '</label>' +
    '<input id="asset-find-id" dir="ltr" autocomplete="off" spellcheck="false">' +
    '<button type="submit">' + esc(t('console.asset.find')) + '</button></form>' +
    '<p class="muted">' + esc(t('console.asset.hint')) + '</p>' +
    '<div id="asset-detail"></div></section>' +
    // work orders
    '<section id="console-pane-workorders" role="tabpanel" aria-labelledby="console-tab-workorders" hidden>' +
    '<h3>' + esc(t('console.wo.list_heading')) + '</h3><ul id="wo-list" class="console-list"></ul>' +
    '<div id="wo-detail"></div></section>' +
    // incidents
    '<section id="console-pane-incidents" role="tabpanel" aria-labelledby="console-tab-incidents" hidden>' +
    '<button type="button" id="inc-new" class="primary" aria-pressed="false">' + esc(t('console.inc.new')) + '</button>' +
    '<form id="inc-new-form" class="console-form" hidden>' +
    '<p id="inc-new-at" class="muted"></p>' +
    '<label for="inc-new-kind">' + esc(t('console.inc.kind_label')) + '</label><select id="inc-new-kind">' +
    KINDS.map(function (k) { return opt(k, code(k)); }).join('') + '</select>' +
    '<label for="inc-new-severity">' + esc(t('console.inc.severity_label')) + '</label><select id="inc-new-severity">' +
    SEVERITIES.map(function (k) { return opt(k, code(k)); }).join('') + '</select>' +
    '<label for="inc-new-desc">' + esc(t('console.inc.desc_label')) + '</label><textarea id="inc-new-desc" rows="2" dir="auto"></textarea>' +
    '<div class="console-buttons"><button type="submit" class="primary">' + esc(t('console.inc.create')) + '</button>' +
    '<button type="button" id="inc-new-cancel">' + esc(t('console.back')) + '</button></div></form>' +
    '<h3>' + esc(t('console.inc.list_heading')) + '</h3><ul id="inc-list" class="console-list"></ul>' +
    '<div id="inc-detail"></div></section>' +
    // gates
    '<section id="console-pane-gates" role="tabpanel" aria-labelledby="console-tab-gates" hidden>' +
    '<h3>' + esc(t('console.gates.heading')) + '</h3><ul id="gate-list" class="console-list"></ul></section>' +
    // history of any item (over the tab that asked for it)
    '<section id="console-history" class="console-history" hidden aria-labelledby="console-history-title">' +
    '<div class="console-row"><h3 id="console-history-title"></h3>' +
    '<button type="button" id="console-history-back">' + esc(t('console.back')) + '</button></div>' +
    '<ol id="console-history-list" class="console-history-list"></ol></section>' +
    '</div>';
  document.body.appendChild(aside);

  // ------------------------------------------------------------------ sign-in

  function roleName(r) { return I18N.has('console.role.' + r) ? t('console.role.' + r) : r; }
  function canOperate() { return !!st.who && (st.who.role === 'ops' || st.who.role === 'admin'); }

  function showAccount() {
    const who = el('console-who');
    const signedIn = !!st.who;
    el('console-signin').hidden = signedIn;
    el('console-signout').hidden = !signedIn;
    who.hidden = !signedIn;
    if (signedIn) {
      who.textContent = t('console.who', { name: st.who.name, role: roleName(st.who.role) });
      who.title = t('console.who_title', { name: st.who.name, role: roleName(st.who.role) });
      who.dataset.role = st.who.role;
    }
    noAccess.hidden = !signedIn || canOperate();
    if (signedIn && !canOperate()) noAccess.textContent = t('console.no_access', { role: roleName(st.who.role) });
    aside.hidden = !canOperate();
    document.body.classList.toggle('console-open', canOperate());
    if (canOperate()) {
      selectTab(st.tab);
      each('start');
      startEvents();
      reloadAll();
    } else {
      each('stop');
      stopEvents();
    }
  }

  // Ask the server who the token is; resolves to {name, role} or rejects with the answer.
  function whoami(token) {
    return fetch('/auth/whoami', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' })
      .then(function (r) {
        CLOCK.note(r);
        if (!r.ok) throw { status: r.status };
        return r.json();
      });
  }

  function signIn(token) {
    return whoami(token).then(function (who) {
      st.token = token;
      st.who = who;
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* kept in memory only */ }
      showAccount();
      return who;
    });
  }

  function signOut(why) {
    st.token = null;
    st.who = null;
    st.asset = st.wo = st.inc = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
    stopPicking();
    showAccount();
    if (why) {
      noAccess.hidden = false;
      noAccess.textContent = why;
    }
  }

  const signinDialog = el('console-signin-dialog');
  el('console-signin').addEventListener('click', function () {
    el('console-signin-error').textContent = '';
    el('console-token').value = '';
    signinDialog.showModal();
    el('console-token').focus();
  });
  el('console-signin-cancel').addEventListener('click', function () { signinDialog.close(); });
  el('console-signout').addEventListener('click', function () { signOut(); });
  el('console-signin-form').addEventListener('submit', function (e) {
    e.preventDefault();
    const token = el('console-token').value.trim();
    const err = el('console-signin-error');
    if (!token) {
      err.textContent = t('console.err.empty_token');
      return;
    }
    err.textContent = t('console.signing_in');
    signIn(token).then(function () {
      el('console-token').value = '';
      signinDialog.close();
    }, function (x) {
      err.textContent = x && x.status ? t('console.err.token') : t('console.err.network', { error: String(x && x.message) });
    });
  });

  // ------------------------------------------------------------------ tabs

  function selectTab(id) {
    st.tab = id;
    TABS.forEach(function (x) {
      const b = el('console-tab-' + x);
      b.setAttribute('aria-selected', String(x === id));
      b.tabIndex = x === id ? 0 : -1;
      el('console-pane-' + x).hidden = x !== id;
    });
    el('console-history').hidden = true;
    overlays.forEach(function (o) { o.show(o.tab === id); });
    panels.forEach(function (p) { if (p.id === id && p.show) p.show(); });
  }
  aside.querySelector('.console-tabs').addEventListener('click', function (e) {
    const b = e.target.closest('[data-tab]');
    if (b) selectTab(b.dataset.tab);
  });
  aside.querySelector('.console-tabs').addEventListener('keydown', function (e) {
    // arrow keys move between tabs (mirrored in Arabic: the next tab is to the left)
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const dir = I18N.dir === 'rtl' ? -step : step;
    const next = TABS[(TABS.indexOf(st.tab) + dir + TABS.length) % TABS.length];
    selectTab(next);
    el('console-tab-' + next).focus();
    e.preventDefault();
  });

  // ------------------------------------------------------------------ writes and conflicts

  // PATCH an item with the ETag the officer read; a 412 shows both versions. req: {coll, fid, etag,
  // base (properties as read), patch (the properties to set), top (send them at the body's top level,
  // as the gates contract writes it), done(feature, etag)}.
  function write(req) {
    const body = req.top ? req.patch : { properties: req.patch };
    return api('PATCH', itemPath(req.coll, req.fid), body, { ifMatch: req.etag, ctype: MERGE_PATCH })
      .then(function (res) {
        if (res.status === 412) return showConflict(req, res);
        if (!res.ok) return fail(res);
        el('console-conflict').hidden = true;
        say(t('console.saved'));
        return req.done(res.json, res.etag);
      }, netFail);
  }

  function showConflict(req, res) {
    const j = res.json || {};
    const got = j.current ? Promise.resolve({ feature: j.current, etag: j.etag || res.etag }) :
      api('GET', itemPath(req.coll, req.fid)).then(function (g) { return { feature: g.json, etag: g.etag }; });
    return got.then(function (cur) {
      const now = props(cur.feature);
      const base = req.base || {};
      const keys = Object.keys(req.patch).concat(Object.keys(now).filter(function (k) {
        return !(k in req.patch) && !sameValue(base[k], now[k]);
      }));
      const box = el('console-conflict');
      box.innerHTML = '<h3>' + esc(t('console.conflict.title')) + '</h3><p>' + esc(t('console.conflict.help')) + '</p>' +
        '<table class="console-conflict-table"><thead><tr><th scope="col">' + esc(t('console.conflict.field')) + '</th><th scope="col">' +
        esc(t('console.conflict.mine')) + '</th><th scope="col">' + esc(t('console.conflict.current')) + '</th></tr></thead><tbody>' +
        keys.map(function (k) {
          const mine = k in req.patch ? req.patch[k] : base[k];
          return '<tr data-field="' + esc(k) + '" class="' + (sameValue(mine, now[k]) ? '' : 'differs') + '"><th scope="row">' +
            esc(I18N.label('field', k)) + '</th><td class="mine" dir="auto">' + esc(fmt(k, mine)) + '</td><td class="current" dir="auto">' +
            esc(fmt(k, now[k])) + '</td></tr>';
        }).join('') + '</tbody></table>' +
        '<div class="console-buttons"><button type="button" id="conflict-reapply" class="primary">' + esc(t('console.conflict.reapply')) +
        '</button><button type="button" id="conflict-keep">' + esc(t('console.conflict.keep')) + '</button></div>';
      box.hidden = false;
      say('');
      el('conflict-reapply').addEventListener('click', function () {
        box.hidden = true;
        write(Object.assign({}, req, { etag: cur.etag, base: now }));
      });
      el('conflict-keep').addEventListener('click', function () {
        box.hidden = true;
        if (req.keep) req.keep(cur.feature, cur.etag);
      });
      el('conflict-reapply').focus();
    });
  }

  // ------------------------------------------------------------------ assets

  function loadAsset(fid) {
    return api('GET', itemPath('assets', fid)).then(function (res) {
      if (!res.ok) return fail(res);
      st.asset = { fid: res.json.id, etag: res.etag, feature: res.json, dirty: false, stale: false };
      renderAsset();
      loadAssetWorkOrders();
    }, netFail);
  }

  function findAsset(assetId) {
    return api('GET', '/ogc/collections/assets/items?limit=1&asset_id=' + encodeURIComponent(assetId)).then(function (res) {
      const f = res.ok && res.json && res.json.features && res.json.features[0];
      if (!f) return say(t('console.asset.not_found', { id: assetId }), true);
      return loadAsset(f.id);
    }, netFail);
  }

  function renderAsset() {
    const box = el('asset-detail');
    if (!st.asset) {
      box.innerHTML = '';
      return;
    }
    const p = props(st.asset.feature);
    const name = p.asset_id || ('#' + st.asset.fid);
    box.innerHTML =
      '<h3 dir="auto">' + esc(code(p.kind)) + ' · <span dir="ltr">' + esc(name) + '</span></h3>' +
      '<p id="asset-status-now" data-status="' + esc(p.status) + '">' + esc(t('console.asset.status_now', { status: code(p.status) })) + '</p>' +
      (st.asset.stale ? '<p id="asset-stale" class="console-warn" role="alert">' + esc(t('console.asset.changed_elsewhere')) + '</p>' : '') +
      '<form id="asset-status-form"><fieldset><legend>' + esc(t('console.asset.change_status')) + '</legend>' +
      ASSET_STATUSES.map(function (s) {
        return '<label class="console-radio"><input type="radio" name="asset-status" value="' + s + '"' +
          (s === (st.asset.choice || p.status) ? ' checked' : '') + '> ' + esc(code(s)) + '</label>';
      }).join('') +
      '</fieldset><button type="submit" id="asset-save" class="primary">' + esc(t('console.asset.save')) + '</button></form>' +
      '<form id="wo-open-form" class="console-form"><label for="wo-fault">' + esc(t('console.wo.fault_label')) + '</label>' +
      '<input id="wo-fault" dir="auto" autocomplete="off"><button type="submit">' + esc(t('console.wo.open_btn')) + '</button></form>' +
      '<h4>' + esc(t('console.asset.wo_heading')) + '</h4><ul id="asset-wo-list" class="console-list"><li class="muted">' +
      esc(t('loading')) + '</li></ul>' +
      '<button type="button" id="asset-history">' + esc(t('console.history')) + '</button>';
    box.querySelectorAll('input[name="asset-status"]').forEach(function (r) {
      r.addEventListener('change', function () {
        st.asset.dirty = r.value !== p.status;
        st.asset.choice = r.value;
      });
    });
    el('asset-status-form').addEventListener('submit', function (e) {
      e.preventDefault();
      const chosen = box.querySelector('input[name="asset-status"]:checked');
      if (!chosen) return;
      const a = st.asset;
      write({ coll: 'assets', fid: a.fid, etag: a.etag, base: props(a.feature), patch: { status: chosen.value },
        done: function (f, etag) {
          st.asset = { fid: f.id, etag: etag, feature: f, dirty: false, stale: false };
          renderAsset();
          loadAssetWorkOrders();
          say(t('console.asset.saved', { id: props(f).asset_id, status: code(props(f).status) }));
        },
        keep: function (f, etag) {
          st.asset = { fid: f.id, etag: etag, feature: f, dirty: false, stale: false };
          renderAsset();
          loadAssetWorkOrders();
        } });
    });
    el('wo-open-form').addEventListener('submit', function (e) {
      e.preventDefault();
      openWorkOrder(el('wo-fault').value.trim());
    });
    el('asset-history').addEventListener('click', function () { showHistory('assets', st.asset.fid, name); });
  }

  // The asset changed on the server: show it, unless the officer is choosing a new status (then say so,
  // and keep their ETag: saving shows both versions).
  function assetChanged() {
    if (!st.asset) return;
    if (st.asset.dirty) {
      st.asset.stale = true;
      renderAsset();
      return;
    }
    loadAsset(st.asset.fid);
  }

  // ------------------------------------------------------------------ work orders

  function woRow(f, withActions) {
    const p = props(f);
    return '<li class="console-item" data-fid="' + esc(f.id) + '" data-status="' + esc(p.status) + '">' +
      '<button type="button" class="console-item-main"' + (withActions ? '' : ' disabled') + '><b dir="ltr">' +
      esc(t('console.wo.title', { id: f.id })) + '</b> <span dir="ltr">' + esc(p.asset_id || '') + '</span> · <span dir="auto">' +
      esc(p.fault || '') + '</span> · <span class="console-badge" data-status="' + esc(p.status) + '">' + esc(code(p.status)) + '</span>' +
      (p.assigned_crew ? ' · <span dir="ltr">' + esc(p.assigned_crew) + '</span>' : '') + '</button></li>';
  }

  function loadAssetWorkOrders() {
    if (!st.asset) return;
    const id = props(st.asset.feature).asset_id;
    api('GET', '/ogc/collections/work_orders/items?limit=' + LIST_LIMIT + '&asset_id=' + encodeURIComponent(id)).then(function (res) {
      const list = el('asset-wo-list');
      if (!list) return;
      if (!res.ok) {
        list.innerHTML = '<li class="muted">' + esc(t('console.wo.unavailable')) + '</li>';
        return;
      }
      const fs = res.json.features || [];
      list.innerHTML = fs.length ? fs.map(function (f) { return woRow(f, false); }).join('') :
        '<li class="muted">' + esc(t('console.wo.none')) + '</li>';
    }, netFail);
  }

  function openWorkOrder(fault) {
    if (!fault) return say(t('console.wo.need_fault'), true);
    const a = st.asset.feature;
    const body = { type: 'Feature', geometry: a.geometry,
      properties: { asset_id: props(a).asset_id, fault: fault, status: 'open' } };
    return api('POST', '/ogc/collections/work_orders/items', body, { ctype: GEOJSON }).then(function (res) {
      if (!res.ok) return fail(res);
      const id = res.json && res.json.id !== undefined ? res.json.id : String(res.location || '').split('/').pop();
      say(t('console.wo.opened', { id: id }));
      loadAsset(st.asset.fid);
      reloadWorkOrders();
    }, netFail);
  }

  function reloadWorkOrders() {
    const filter = encodeURIComponent("status IN ('open','assigned')");
    return api('GET', '/ogc/collections/work_orders/items?limit=' + LIST_LIMIT + '&filter=' + filter).then(function (res) {
      const list = el('wo-list');
      if (!res.ok) {
        list.innerHTML = '<li class="muted">' + esc(t('console.wo.unavailable')) + '</li>';
        return;
      }
      st.workOrders = res.json.features || [];
      list.innerHTML = st.workOrders.length ? st.workOrders.map(function (f) { return woRow(f, true); }).join('') :
        '<li class="muted">' + esc(t('console.wo.none_open')) + '</li>';
      // the open work order: gone from the list (done, cancelled) or changed by someone: shown anew;
      // unchanged: left as it is, with whatever the officer is typing
      const same = st.wo && st.workOrders.find(function (f) { return String(f.id) === String(st.wo.fid); });
      if (st.wo && !same) {
        st.wo = null;
        el('wo-detail').innerHTML = '';
      } else if (st.wo && !sameValue(props(same), props(st.wo.feature))) {
        selectWorkOrder(st.wo.fid);
      }
    }, netFail);
  }
  el('wo-list').addEventListener('click', function (e) {
    const li = e.target.closest('li[data-fid]');
    if (li) selectWorkOrder(li.dataset.fid);
  });

  function selectWorkOrder(fid) {
    return api('GET', itemPath('work_orders', fid)).then(function (res) {
      if (!res.ok) return fail(res);
      st.wo = { fid: res.json.id, etag: res.etag, feature: res.json };
      renderWorkOrder();
    }, netFail);
  }

  function renderWorkOrder() {
    const box = el('wo-detail');
    const w = st.wo;
    const p = props(w.feature);
    const open = p.status === 'open', assigned = p.status === 'assigned';
    box.innerHTML = '<div class="console-card" data-fid="' + esc(w.fid) + '"><h3>' + esc(t('console.wo.title', { id: w.fid })) + '</h3>' +
      fieldRows(p, ['asset_id', 'fault', 'status', 'assigned_crew', 'opened_at', 'assigned_at', 'done_at', 'note']) +
      (open ? '<form id="wo-assign-form" class="console-row"><label for="wo-crew">' + esc(t('console.wo.crew_label')) + '</label>' +
        '<input id="wo-crew" dir="ltr" autocomplete="off"><button type="submit" class="primary">' + esc(t('console.wo.assign')) + '</button></form>' : '') +
      (assigned ? '<button type="button" id="wo-done" class="primary">' + esc(t('console.wo.done')) + '</button>' : '') +
      (open || assigned ? '<form id="wo-cancel-form" class="console-row"><label for="wo-note">' + esc(t('console.wo.note_label')) + '</label>' +
        '<input id="wo-note" dir="auto" autocomplete="off"><button type="submit" class="danger">' + esc(t('console.wo.cancel')) + '</button></form>' : '') +
      '<button type="button" id="wo-history">' + esc(t('console.history')) + '</button></div>';
    const patch = function (changes) {
      return write({ coll: 'work_orders', fid: w.fid, etag: w.etag, base: p, patch: changes,
        done: function () { reloadWorkOrders(); if (st.asset) loadAsset(st.asset.fid); },
        keep: function (f, etag) { st.wo = { fid: f.id, etag: etag, feature: f }; renderWorkOrder(); } });
    };
    if (open) {
      el('wo-assign-form').addEventListener('submit', function (e) {
        e.preventDefault();
        const crew = el('wo-crew').value.trim();
        if (!crew) return say(t('console.wo.need_crew'), true);
        patch({ status: 'assigned', assigned_crew: crew });
      });
    }
    if (assigned) {
      el('wo-done').addEventListener('click', function () {
        confirmAction(t('console.wo.confirm_done', { id: w.fid }), t('console.wo.done')).then(function (yes) {
          if (yes) patch({ status: 'done' });
        });
      });
    }
    if (open || assigned) {
      el('wo-cancel-form').addEventListener('submit', function (e) {
        e.preventDefault();
        const note = el('wo-note').value.trim();
        if (!note) return say(t('console.need_reason'), true);
        confirmAction(t('console.wo.confirm_cancel', { id: w.fid }), t('console.wo.cancel')).then(function (yes) {
          if (yes) patch({ status: 'cancelled', note: note });
        });
      });
    }
    el('wo-history').addEventListener('click', function () { showHistory('work_orders', w.fid, t('console.wo.title', { id: w.fid })); });
  }

  // ------------------------------------------------------------------ incidents

  function incidentOpen(p) { return FINAL.indexOf(p.status) < 0; }
  // A live item's own id (the `id` property, as the server's Location names it), else the feature id.
  function liveId(f) { return String(props(f).id || f.id); }

  function reloadIncidents() {
    return api('GET', '/ogc/collections/incidents/items?limit=' + LIST_LIMIT).then(function (res) {
      if (!res.ok) return fail(res);
      st.incidents = (res.json.features || []).filter(function (f) { return incidentOpen(props(f)); }).sort(function (a, b) {
        const pa = props(a), pb = props(b);
        const r = (SEV_RANK[pa.severity] ?? 9) - (SEV_RANK[pb.severity] ?? 9);
        return r || String(pa.reported_at || '').localeCompare(String(pb.reported_at || ''));
      });
      renderIncidents();
      if (st.inc) { // as for work orders: re-shown only when it changed
        const still = st.incidents.find(function (f) { return liveId(f) === st.inc.fid; });
        if (!still) { st.inc = null; el('inc-detail').innerHTML = ''; }
        else if (!sameValue(props(still), props(st.inc.feature))) selectIncident(st.inc.fid, true);
      }
    }, netFail);
  }

  function renderIncidents() {
    const list = el('inc-list');
    if (!st.incidents.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.inc.none')) + '</li>';
      return;
    }
    list.innerHTML = st.incidents.map(function (f) {
      const p = props(f);
      const when = p.reported_at && isFinite(Date.parse(p.reported_at)) ? I18N.time(Date.parse(p.reported_at)) : '';
      return '<li class="console-item' + (st.escalated[p.id] ? ' escalated' : '') + '" data-fid="' + esc(liveId(f)) + '" data-id="' +
        esc(p.id || '') + '" data-severity="' + esc(p.severity) + '" data-status="' + esc(p.status) + '">' +
        '<button type="button" class="console-item-main"><span class="console-sev" data-severity="' + esc(p.severity) + '">' +
        esc(code(p.severity)) + '</span> <b>' + esc(code(p.kind)) + '</b> <span dir="ltr">' + esc(p.id || '') + '</span> · ' +
        '<span class="console-badge" data-status="' + esc(p.status) + '">' + esc(code(p.status)) + '</span>' +
        (when ? ' · <span class="muted">' + esc(t('console.inc.reported', { time: when })) + '</span>' : '') + '</button></li>';
    }).join('');
  }
  el('inc-list').addEventListener('click', function (e) {
    const li = e.target.closest('li[data-fid]');
    if (li) selectIncident(li.dataset.fid);
  });

  // Open an incident (its ETag as read now); `quiet`: a live reload that keeps the responders shown.
  function selectIncident(fid, quiet) {
    if (quiet && st.inc && st.inc.dirty) return Promise.resolve();
    return api('GET', itemPath('incidents', fid)).then(function (res) {
      if (!res.ok) return fail(res);
      const keep = quiet && st.inc && st.inc.fid === liveId(res.json) ? st.inc.responders : null;
      st.inc = { fid: liveId(res.json), etag: res.etag, feature: res.json, responders: keep, dirty: false };
      renderIncident();
    }, netFail);
  }

  function renderIncident() {
    const box = el('inc-detail');
    const i = st.inc;
    const p = props(i.feature);
    const open = incidentOpen(p);
    const responders = i.responders;
    box.innerHTML = '<div class="console-card" data-fid="' + esc(i.fid) + '" data-id="' + esc(p.id || '') + '">' +
      '<h3>' + esc(t('console.inc.title', { id: p.id || i.fid })) + '</h3>' +
      fieldRows(p, ['kind', 'severity', 'status', 'assigned_crew', 'description', 'reported_at', 'dispatched_at', 'on_scene_at',
        'resolved_at', 'reason']) +
      '<button type="button" id="inc-show">' + esc(t('console.inc.show')) + '</button>' +
      (open ? '<form id="inc-triage-form" class="console-row"><label for="inc-severity">' + esc(t('console.inc.severity_label')) + '</label>' +
        '<select id="inc-severity">' + SEVERITIES.map(function (s) { return opt(s, code(s)); }).join('') + '</select>' +
        '<button type="submit">' + esc(t('console.inc.triage')) + '</button></form>' : '') +
      (p.status === 'reported' ? '<button type="button" id="inc-responders" class="primary">' + esc(t('console.inc.responders')) + '</button>' +
        '<div id="inc-responders-out"></div>' : '') +
      (p.status === 'dispatched' ? '<button type="button" id="inc-onscene" class="primary">' + esc(t('console.inc.on_scene')) + '</button>' : '') +
      (p.status === 'on_scene' ? '<button type="button" id="inc-resolve" class="primary">' + esc(t('console.inc.resolve')) + '</button>' : '') +
      (open ? '<form id="inc-cancel-form" class="console-row"><label for="inc-reason">' + esc(t('console.inc.reason_label')) + '</label>' +
        '<input id="inc-reason" dir="auto" autocomplete="off"><button type="submit" class="danger">' + esc(t('console.inc.cancel')) + '</button></form>' : '') +
      '<button type="button" id="inc-history">' + esc(t('console.history')) + '</button></div>';
    const patch = function (changes) {
      return write({ coll: 'incidents', fid: i.fid, etag: i.etag, base: p, patch: changes,
        // the answer is the incident as it is now: shown at once (the officer's choice is saved, so
        // no longer "being chosen"), then the list
        done: function (f, etag) {
          if (f && f.properties && st.inc && st.inc.fid === liveId(f)) {
            st.inc = { fid: liveId(f), etag: etag, feature: f, responders: st.inc.responders, dirty: false };
            renderIncident();
          }
          reloadIncidents();
        },
        keep: function (f, etag) { st.inc = { fid: liveId(f), etag: etag, feature: f, responders: null }; renderIncident(); } });
    };
    el('inc-show').addEventListener('click', function () {
      const g = i.feature.geometry;
      if (g && g.type === 'Point') map.flyTo({ center: g.coordinates, zoom: Math.max(map.getZoom(), 17) });
    });
    if (open) {
      const sel = el('inc-severity');
      sel.value = p.severity;
      sel.addEventListener('change', function () { i.dirty = sel.value !== p.severity; });
      el('inc-triage-form').addEventListener('submit', function (e) {
        e.preventDefault();
        if (sel.value !== p.severity) patch({ severity: sel.value });
      });
      el('inc-cancel-form').addEventListener('submit', function (e) {
        e.preventDefault();
        const reason = el('inc-reason').value.trim();
        if (!reason) return say(t('console.need_reason'), true);
        confirmAction(t('console.inc.confirm_cancel', { id: p.id || i.fid }), t('console.inc.cancel')).then(function (yes) {
          if (yes) patch({ status: 'cancelled', reason: reason });
        });
      });
    }
    if (p.status === 'reported') {
      el('inc-responders').addEventListener('click', function () { loadResponders(i.fid); });
      if (responders) renderResponders(responders, patch);
    }
    if (p.status === 'dispatched') el('inc-onscene').addEventListener('click', function () { patch({ status: 'on_scene' }); });
    if (p.status === 'on_scene') {
      el('inc-resolve').addEventListener('click', function () {
        confirmAction(t('console.inc.confirm_resolve', { id: p.id || i.fid }), t('console.inc.resolve')).then(function (yes) {
          if (yes) patch({ status: 'resolved' });
        });
      });
    }
    el('inc-history').addEventListener('click', function () { showHistory('incidents', i.fid, t('console.inc.title', { id: p.id || i.fid })); });
    st.inc.patch = patch;
  }

  function loadResponders(id) {
    return api('GET', '/incidents/' + encodeURIComponent(id) + '/responders?kind=emergency&limit=' + RESPONDERS).then(function (res) {
      if (!res.ok) return fail(res);
      st.inc.responders = res.json.responders || [];
      renderResponders(st.inc.responders, st.inc.patch);
    }, netFail);
  }

  function renderResponders(list, patch) {
    const out = el('inc-responders-out');
    if (!out) return;
    out.innerHTML = '<h4>' + esc(t('console.inc.responders_heading')) + '</h4>' + (list.length ?
      '<ol class="console-responders">' + list.map(function (r) {
        return '<li data-crew="' + esc(r.crew) + '"><span><b dir="ltr">' + esc(r.crew) + '</b> <span dir="auto">' + esc(r.name || '') +
          '</span> · ' + esc(code(r.status)) + '<br><span class="muted">' + esc(metres(r.distance_m)) + ' · ' +
          esc(t('console.inc.eta', { time: duration(r.eta_s) })) + '</span></span>' +
          '<button type="button" class="primary" data-crew="' + esc(r.crew) + '" title="' + esc(t('console.inc.assign_title', { crew: r.crew })) +
          '">' + esc(t('console.inc.assign')) + '</button></li>';
      }).join('') + '</ol>' : '<p class="muted">' + esc(t('console.inc.no_responders')) + '</p>');
    out.querySelectorAll('button[data-crew]').forEach(function (b) {
      b.addEventListener('click', function () { patch({ status: 'dispatched', assigned_crew: b.dataset.crew }); });
    });
  }

  // New incident: a click on the map gives its place, then the form.
  function startPicking() {
    st.picking = true;
    el('inc-new').setAttribute('aria-pressed', 'true');
    map.getCanvas().style.cursor = 'crosshair';
    say(t('console.inc.pick'));
  }
  function stopPicking() {
    st.picking = false;
    const b = el('inc-new');
    if (b) b.setAttribute('aria-pressed', 'false');
    map.getCanvas().style.cursor = '';
  }
  el('inc-new').addEventListener('click', function () {
    if (st.picking) { stopPicking(); say(''); } else startPicking();
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && st.picking) { stopPicking(); say(''); }
  });
  function placeNew(lngLat) {
    stopPicking();
    st.newAt = [lngLat.lng, lngLat.lat];
    el('inc-new-at').textContent = t('console.inc.at', { lat: I18N.num(lngLat.lat, 5), lon: I18N.num(lngLat.lng, 5) });
    el('inc-new-form').hidden = false;
    say('');
    el('inc-new-kind').focus();
  }
  el('inc-new-cancel').addEventListener('click', function () { el('inc-new-form').hidden = true; st.newAt = null; });
  el('inc-new-form').addEventListener('submit', function (e) {
    e.preventDefault();
    if (!st.newAt) return;
    const body = { type: 'Feature', geometry: { type: 'Point', coordinates: st.newAt },
      properties: { kind: el('inc-new-kind').value, severity: el('inc-new-severity').value,
        description: el('inc-new-desc').value.trim() || null } };
    api('POST', '/ogc/collections/incidents/items', body, { ctype: GEOJSON }).then(function (res) {
      if (!res.ok) return fail(res);
      const f = res.json || {};
      const id = props(f).id || decodeURIComponent(String(res.location || '').split('/').pop());
      say(t('console.inc.created', { id: id }));
      el('inc-new-form').hidden = true;
      el('inc-new-desc').value = '';
      const at = st.newAt;
      st.newAt = null;
      map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 17) }); // jump to it
      reloadIncidents().then(function () { if (id) selectIncident(id); });
    }, netFail);
  });

  function escalation(d) {
    const id = d.id || d.incident || '';
    if (!id || st.escalated[id]) return;
    st.escalated[id] = true;
    const li = document.createElement('li');
    li.dataset.id = id;
    li.innerHTML = '<button type="button">' + esc(t('console.inc.escalation', { id: id, severity: code(d.severity) })) + '</button>';
    li.querySelector('button').addEventListener('click', function () {
      selectTab('incidents');
      const f = st.incidents.find(function (x) { return props(x).id === id; });
      if (f) selectIncident(liveId(f));
    });
    el('console-escalations').appendChild(li);
    renderIncidents();
  }

  // ------------------------------------------------------------------ gates

  function reloadGates() {
    return api('GET', '/ogc/collections/gates/items?limit=' + LIST_LIMIT).then(function (res) {
      if (!res.ok) return fail(res);
      st.gates = (res.json.features || []).slice().sort(function (a, b) {
        return liveId(a).localeCompare(liveId(b));
      });
      renderGates();
    }, netFail);
  }

  function renderGates() {
    const list = el('gate-list');
    if (!st.gates.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.gates.none')) + '</li>';
      return;
    }
    list.innerHTML = st.gates.map(function (f) {
      const p = props(f);
      const state = p.state || 'open';
      const id = liveId(f);
      return '<li class="console-item console-gate" data-fid="' + esc(id) + '" data-id="' + esc(id) + '" data-state="' + esc(state) + '">' +
        '<span><b dir="ltr">' + esc(t('console.gate.title', { id: id })) + '</b> · <span class="console-badge" data-status="' + esc(state) + '">' +
        esc(code(state)) + '</span>' + (state === 'closed' && p.closed_reason ? '<br><span class="muted" dir="auto">' +
        esc(t('console.gate.closed_because', { reason: p.closed_reason })) + '</span>' : '') + '</span>' +
        (state === 'closed' ? '<button type="button" class="gate-open">' + esc(t('console.gate.open')) + '</button>' :
          '<form class="gate-close-form console-row"><label for="gate-reason-' + esc(f.id) + '">' + esc(t('console.gate.reason_label')) +
          '</label><input id="gate-reason-' + esc(f.id) + '" dir="auto" autocomplete="off"><button type="submit" class="danger">' +
          esc(t('console.gate.close')) + '</button></form>') + '</li>';
    }).join('');
    list.querySelectorAll('li[data-fid]').forEach(function (li) {
      const fid = li.dataset.fid, id = li.dataset.id;
      const form = li.querySelector('.gate-close-form');
      if (form) {
        form.addEventListener('submit', function (e) {
          e.preventDefault();
          const reason = form.querySelector('input').value.trim();
          if (!reason) return say(t('console.need_reason'), true);
          confirmAction(t('console.gate.confirm_close', { id: id }), t('console.gate.close')).then(function (yes) {
            if (yes) gateWrite(fid, { state: 'closed', reason: reason });
          });
        });
      }
      const openBtn = li.querySelector('.gate-open');
      if (openBtn) {
        openBtn.addEventListener('click', function () {
          confirmAction(t('console.gate.confirm_open', { id: id }), t('console.gate.open')).then(function (yes) {
            if (yes) gateWrite(fid, { state: 'open' });
          });
        });
      }
    });
  }

  // A gate's state as the contract writes it: {"state":"closed","reason":"..."} (merge patch), with the
  // ETag of the gate as read when the officer pressed the button.
  function gateWrite(fid, change) {
    return api('GET', itemPath('gates', fid)).then(function (res) {
      if (!res.ok) return fail(res);
      return write({ coll: 'gates', fid: fid, etag: res.etag, base: props(res.json), patch: change, top: true,
        done: function () { reloadGates(); }, keep: function () { reloadGates(); } });
    }, netFail);
  }

  // ------------------------------------------------------------------ history

  function describeChange(prev, cur) {
    if (!cur) return [t('console.history.deleted')];
    if (!prev) return [t('console.history.first')];
    const a = props(prev), b = props(cur);
    const out = [];
    Object.keys(b).forEach(function (k) { // updated_at: the version's own time, shown already
      if (k !== 'updated_at' && !sameValue(a[k], b[k])) out.push(I18N.label('field', k) + ': ' + fmt(k, a[k]) + ' → ' + fmt(k, b[k]));
    });
    if (!sameValue(prev.geometry, cur.geometry)) out.push(t('console.history.geometry'));
    return out;
  }

  function showHistory(coll, fid, what) {
    const sec = el('console-history');
    el('console-history-title').textContent = t('console.history_title', { what: what });
    const list = el('console-history-list');
    list.innerHTML = '<li class="muted">' + esc(t('loading')) + '</li>';
    TABS.forEach(function (x) { el('console-pane-' + x).hidden = true; });
    sec.hidden = false;
    sec.dataset.collection = coll;
    sec.dataset.fid = fid;
    el('console-history-back').focus();
    const versions = [];
    function page(url) {
      return api('GET', url).then(function (res) {
        if (!res.ok) {
          list.innerHTML = '<li class="muted">' + esc(t('console.history.unavailable', { error: errorText(res) })) + '</li>';
          return;
        }
        (res.json.versions || []).forEach(function (v) { versions.push(v); });
        const next = (res.json.links || []).find(function (l) { return l.rel === 'next'; });
        if (next && versions.length < 1000) return page(new URL(next.href).pathname + new URL(next.href).search);
        renderHistory(list, versions);
      }, netFail);
    }
    return page(itemPath(coll, fid) + '/history?limit=100');
  }

  function renderHistory(list, versions) {
    if (!versions.length) {
      list.innerHTML = '<li class="muted">' + esc(t('console.history.none')) + '</li>';
      return;
    }
    // newest first: what an officer asks is "what happened last"
    const rows = versions.map(function (v, i) {
      const by = v.by || {};
      const who = by.role === 'import' ? roleName('import') : by.name ? by.name + ' · ' + roleName(by.role || '') : '';
      const when = v.at && isFinite(Date.parse(v.at)) ? I18N.dateTime(Date.parse(v.at)) : '';
      return '<li data-seq="' + esc(v.seq) + '" data-op="' + esc(v.op) + '" data-status="' + esc(props(v.feature).status || '') + '"><div><b>' +
        esc(I18N.has('console.op.' + v.op) ? t('console.op.' + v.op) : v.op) + '</b> · ' + esc(when) +
        (who ? ' · <span dir="auto">' + esc(who) + '</span>' : '') + '</div><ul>' + describeChange(i ? versions[i - 1].feature : null, v.feature).map(function (c) {
          return '<li dir="auto">' + esc(c) + '</li>';
        }).join('') + '</ul></li>';
    });
    list.innerHTML = rows.reverse().join('');
  }
  el('console-history-back').addEventListener('click', function () { selectTab(st.tab); });

  // ------------------------------------------------------------------ the map

  // A click on the map: the place of a new incident, or the asset / incident / gate under it.
  map.on('click', function (e) {
    if (!canOperate()) return;
    if (panels.some(function (p) { return p.mapClick && p.mapClick(e); })) return; // a panel's own picking
    if (st.picking) {
      placeNew(e.lngLat);
      return;
    }
    if (window.mashaerRoute && window.mashaerRoute.picking()) return;
    const box = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]];
    const hits = map.queryRenderedFeatures(box).filter(function (f) {
      const g = f.layer && f.layer.metadata && f.layer.metadata[GROUP_KEY];
      return g === 'assets' || g === 'incidents' || g === 'gates';
    });
    if (!hits.length) return;
    const f = hits[0];
    const g = f.layer.metadata[GROUP_KEY];
    if (g === 'assets' && f.id !== undefined) {
      selectTab('asset');
      loadAsset(f.id);
    } else if (g === 'incidents') {
      selectTab('incidents');
      const hit = st.incidents.find(function (x) { return props(x).id === props(f).id; });
      if (hit) selectIncident(liveId(hit));
    } else if (g === 'gates') {
      selectTab('gates');
    }
  });

  el('asset-find').addEventListener('submit', function (e) {
    e.preventDefault();
    const id = el('asset-find-id').value.trim();
    if (id) findAsset(id);
  });

  // ------------------------------------------------------------------ live events

  function setLive(on) {
    st.live = on;
    const l = el('console-live');
    l.textContent = t(on ? 'console.live.on' : 'console.live.off');
    l.classList.toggle('stale', !on);
  }

  const pending = {};
  function soon(name, fn) { // one reload for a burst of events
    if (pending[name]) return;
    pending[name] = setTimeout(function () { pending[name] = null; fn(); }, 200);
  }

  function onEvent(type, data) {
    st.eventsSeen++;
    let d = {};
    try { d = JSON.parse(data); } catch (e) { return; }
    if (type === 'change') {
      if (d.collection === 'assets') {
        if (typeof map.refreshTiles === 'function' && map.getSource('mashaer')) map.refreshTiles('mashaer');
        if (st.asset && String(d.id) === String(st.asset.fid)) assetChanged();
      } else if (d.collection === 'work_orders') {
        soon('wo', reloadWorkOrders);
        if (st.asset) soon('asset-wo', loadAssetWorkOrders);
      } else if (d.collection === 'incidents') {
        soon('inc', reloadIncidents);
      } else if (d.collection === 'gates') {
        soon('gates', reloadGates);
      }
    } else if (type === 'incident') {
      soon('inc', reloadIncidents);
    } else if (type === 'gate') {
      soon('gates', reloadGates);
    } else if (type === 'escalation') {
      escalation(d);
      soon('inc', reloadIncidents);
    }
    each('event', type, d);
  }

  // Server-Sent Events read through fetch (EventSource cannot send the token).
  function startEvents() {
    if (st.stream) return;
    const ctl = new AbortController();
    st.stream = ctl;
    function open(types) {
      const headers = { Accept: 'text/event-stream' };
      if (st.token) headers.Authorization = 'Bearer ' + st.token;
      return fetch('/events?types=' + types, { headers: headers, signal: ctl.signal, cache: 'no-store' }).then(function (r) {
        CLOCK.note(r);
        // a server without escalation events yet (400): the others still come
        if (r.status === 400 && types.indexOf('escalation') >= 0) return open(types.replace(',escalation', ''));
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        setLive(true);
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        function pump() {
          return reader.read().then(function (x) {
            if (x.done) throw new Error('end');
            buf += dec.decode(x.value, { stream: true }).replace(/\r\n?/g, '\n');
            let cut;
            while ((cut = buf.indexOf('\n\n')) >= 0) {
              const frame = buf.slice(0, cut);
              buf = buf.slice(cut + 2);
              let type = 'message', data = [];
              frame.split('\n').forEach(function (line) {
                if (line.indexOf('event:') === 0) type = line.slice(6).trim();
                else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
              });
              if (data.length) onEvent(type, data.join('\n'));
            }
            return pump();
          });
        }
        return pump();
      });
    }
    const types = EVENT_TYPES.concat.apply(EVENT_TYPES, panels.map(function (p) { return p.types || []; }));
    open(types.filter(function (x, i) { return types.indexOf(x) === i; }).join(',')).catch(function () {
      if (st.stream !== ctl || ctl.signal.aborted) return;
      setLive(false);
      st.stream = null;
      setTimeout(function () { if (canOperate()) { startEvents(); reloadAll(); } }, 3000); // reconnect
    });
  }
  function stopEvents() {
    if (st.stream) st.stream.abort();
    st.stream = null;
  }

  function reloadAll() {
    reloadIncidents();
    reloadWorkOrders();
    reloadGates();
    if (st.asset) loadAsset(st.asset.fid);
    each('reload');
  }

  // A panel of another file: its tab after the others, its pane (dir of the page's language) before the
  // history; init(pane) fills it once. Opened, reloaded and sent events with the console from then on
  // (the stream is opened again when the panel wants event types it does not carry yet).
  function addPanel(p) {
    panels.push(p);
    TABS.push(p.id);
    aside.querySelector('.console-tabs').insertAdjacentHTML('beforeend', tabButton(p.id));
    const pane = document.createElement('section');
    pane.id = 'console-pane-' + p.id;
    pane.className = 'console-pane';
    pane.setAttribute('role', 'tabpanel');
    pane.setAttribute('aria-labelledby', 'console-tab-' + p.id);
    pane.dir = I18N.dir;
    pane.hidden = true;
    el('console-history').parentNode.insertBefore(pane, el('console-history'));
    if (p.init) p.init(pane);
    if (!canOperate()) return;
    selectTab(st.tab);
    if (p.start) p.start();
    if (p.reload) p.reload();
    if (st.stream && (p.types || []).length) {
      stopEvents();
      startEvents();
    }
  }

  // A panel's own GeoJSON drawing on the map: one source and its layers (specs without id and source;
  // `id` is a suffix), added once the style is loaded and again should the style change, shown while
  // the panel's tab (`tab`) is the one selected; set(fc) replaces what it draws, set(null) empties it.
  // Returns {set, ids (the layers' ids)}.
  const EMPTY_FC = { type: 'FeatureCollection', features: [] };
  function overlay(id, layers, tab) {
    let data = EMPTY_FC;
    let visible = st.tab === tab;
    const ids = layers.map(function (l) { return id + '-' + l.id; });
    function ensure() {
      if (!styleReady() || map.getSource(id)) return;
      map.addSource(id, { type: 'geojson', data: data });
      layers.forEach(function (l, i) {
        map.addLayer(Object.assign({}, l, { id: ids[i], source: id, layout: Object.assign({}, l.layout, { visibility: visible ? 'visible' : 'none' }) }));
      });
    }
    map.on('styledata', ensure);
    map.on('load', ensure);
    overlays.push({ tab: tab, show: function (on) {
      visible = on;
      ids.forEach(function (l) { if (map.getLayer(l)) map.setLayoutProperty(l, 'visibility', on ? 'visible' : 'none'); });
    } });
    return {
      ids: ids,
      set: function (fc) {
        data = fc || EMPTY_FC;
        ensure();
        if (!map.getSource(id)) return;
        map.getSource(id).setData(data);
        // on top of the layers the viewer added since (site and zone fills would cover it)
        if (data.features.length) ids.forEach(function (l) { if (map.getLayer(l)) map.moveLayer(l); });
      }
    };
  }

  // Fit the map to a box [w, s, e, n] within the part of it the viewer's panel and the console leave
  // free (on a screen too narrow for that, the whole map).
  function fit(b, maxZoom) {
    const box = map.getContainer().getBoundingClientRect();
    const pad = { top: 40, bottom: 40, left: 40, right: 40 };
    [el('panel'), aside].forEach(function (p) {
      const r = p && !p.hidden && !p.classList.contains('collapsed') ? p.getBoundingClientRect() : null;
      if (!r || !r.width) return;
      if (r.left + r.width / 2 < box.left + box.width / 2) pad.left = Math.max(pad.left, r.right - box.left + 20);
      else pad.right = Math.max(pad.right, box.right - r.left + 20);
    });
    if (pad.left + pad.right > box.width - 120) pad.left = pad.right = 40;
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: pad, maxZoom: maxZoom || 18, duration: 0 });
  }

  // Put a panel's card in box, keeping what the officer was typing in it (the values of its fields with
  // an id, and the focus) when it is the same card again (the same key): a live reload never takes a
  // half-typed form away. A key of null forgets it (after a save: the card starts afresh).
  // The same card drawn again is left alone (answers false: its handlers are still on it); otherwise
  // the field with the focus gets its caret and selection back too (else the next key typed would
  // land at the start of the field), and it answers true.
  function refill(box, key, html) {
    const same = key !== null && box.dataset.key === String(key);
    if (same && box.mashaerHtml === html) return false;
    const kept = {};
    let focus = null;
    if (same) {
      box.querySelectorAll('input[id], select[id], textarea[id]').forEach(function (f) { kept[f.id] = f.value; });
      const a = document.activeElement;
      if (a && a.id && box.contains(a)) focus = { id: a.id, start: a.selectionStart, end: a.selectionEnd };
    }
    box.innerHTML = html;
    box.mashaerHtml = html;
    box.dataset.key = key === null ? '' : String(key);
    Object.keys(kept).forEach(function (id) {
      const f = el(id);
      if (f && box.contains(f) && (f.tagName !== 'SELECT' || f.querySelector('option[value="' + CSS.escape(kept[id]) + '"]'))) f.value = kept[id];
    });
    const f = focus && el(focus.id);
    if (f) {
      f.focus();
      try {
        if (typeof focus.start === 'number') f.setSelectionRange(focus.start, focus.end);
      } catch (e) { /* a field without a caret (select, radio) */ }
    }
    return true;
  }

  // The style is loaded, so sources and layers may be added. Not map.isStyleLoaded(): that is false again
  // whenever tiles load (every live refresh), and an overlay asked to draw then would be skipped.
  function styleReady() { return !!(window.mashaer && window.mashaer.styleReady()); }

  // What the panels of other files write with (the same requests, messages and dialogs as this file's).
  const kit = {
    map: map, I18N: I18N, api: api, esc: esc, el: el, say: say, fail: fail, netFail: netFail, errorText: errorText, confirmAction: confirmAction,
    opt: opt, code: code, fmt: fmt, soon: soon, canOperate: canOperate, selectTab: selectTab, write: write, overlay: overlay,
    itemPath: itemPath, props: props, fieldRows: fieldRows, refill: refill, fit: fit, duration: duration, metres: metres,
    token: function () { return st.token; }, styleReady: styleReady, clock: CLOCK
  };

  // ------------------------------------------------------------------ start

  window.mashaerConsole = {
    picking: function () { return st.picking || panels.some(function (p) { return p.picking && p.picking(); }); },
    addPanel: addPanel,
    kit: kit,
    state: function () {
      return { signedIn: !!st.who, role: st.who && st.who.role, tab: st.tab, live: st.live, eventsSeen: st.eventsSeen,
        asset: st.asset && { fid: st.asset.fid, etag: st.asset.etag, status: props(st.asset.feature).status, stale: st.asset.stale },
        incidents: st.incidents.map(function (f) { return props(f).id; }), workOrders: st.workOrders.map(function (f) { return f.id; }),
        gates: st.gates.map(function (f) { return props(f).id; }) };
    },
    ready: false
  };

  let kept = null;
  try { kept = sessionStorage.getItem(TOKEN_KEY); } catch (e) { kept = null; }
  if (kept) {
    signIn(kept).catch(function () { signOut(t('console.expired')); })
      .then(function () { window.mashaerConsole.ready = true; });
  } else {
    showAccount();
    window.mashaerConsole.ready = true;
  }
})();
