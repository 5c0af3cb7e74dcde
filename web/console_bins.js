/* console_bins.js: the waste bins panel of the operations console (a tab of web/console.js).
 *
 * The bins that need someone: those overflowing (the `bins` live layer's `overflowing`, decided by the
 * server at --bin-overflow with its hysteresis) and those gone quiet (`stale`: no reading for
 * --bin-stale-min), read from /ogc/collections/bins/items. Overflowing first, fullest first; then the
 * stale ones, grey, with how long they have been silent: their `updated_at` against the server's clock
 * when it answered (the page's `Mashaer-Time` header), never this machine's, which may be wrong on a
 * phone or a PC (no age is shown without it). A row names the crew the server's last `overflow` event
 * named for that bin. Clicking a row goes to the bin on the map. Live: an `overflow` event reloads
 * the list (a raise names the crew); the console's reload reads it again too.
 *
 * Words: web/i18n.js; requests and the map: the console's kit.
 * For browser tests: window.mashaerBins.state().
 */
(function () {
  'use strict';

  const C = window.mashaerConsole;
  if (!C || !C.addPanel) return;
  const k = C.kit, I18N = k.I18N, t = I18N.t, esc = k.esc, props = k.props;

  const LIMIT = 5000;
  const st = { bins: [], over: [], stale: [], crew: {}, now: NaN }; // now: the server's clock at the last answer

  function age(p) {
    const at = Date.parse(p.updated_at || '');
    if (!isFinite(at) || !isFinite(st.now)) return '';
    const min = Math.max(0, Math.round((st.now - at) / 60000));
    return min < 120 ? t('unit.min', { n: I18N.num(min) }) : t('unit.h', { n: I18N.num(Math.round(min / 6) / 10) });
  }

  function reload() {
    return k.api('GET', '/ogc/collections/bins/items?limit=' + LIMIT).then(function (res) {
      if (!res.ok) return k.fail(res);
      st.now = res.time;
      st.bins = res.json.features || [];
      st.over = st.bins.filter(function (f) { return props(f).overflowing === true && props(f).stale !== true; })
        .sort(function (a, b) { return props(b).fill_level - props(a).fill_level; });
      st.stale = st.bins.filter(function (f) { return props(f).stale === true; })
        .sort(function (a, b) { return String(props(a).updated_at).localeCompare(String(props(b).updated_at)); });
      render();
    }, k.netFail);
  }

  function row(f, stale) {
    const p = props(f), c = geometryPoint(f);
    const crew = st.crew[p.id], silent = stale ? age(p) : '';
    return '<li class="console-item bin-item' + (stale ? ' bin-stale' : ' bin-over') + '" data-id="' + esc(p.id) + '"' +
      (c ? ' data-lon="' + c[0] + '" data-lat="' + c[1] + '"' : '') + '><button type="button" class="console-item-main">' +
      '<b dir="ltr">' + esc(p.id) + '</b> · ' + esc(t('unit.pct', { n: I18N.num(Math.round((p.fill_level || 0) * 100)) })) +
      (stale ? (silent ? ' · <span class="bin-age">' + esc(t('console.bins.silent', { age: silent })) + '</span>' : '')
        : crew ? ' · ' + esc(t('console.bins.crew', { crew: crew })) : '') + '</button></li>';
  }

  function geometryPoint(f) {
    return f.geometry && f.geometry.type === 'Point' ? f.geometry.coordinates : null;
  }

  function render() {
    k.el('bins-summary').textContent = t('console.bins.summary', { n: I18N.num(st.bins.length), over: I18N.num(st.over.length),
      stale: I18N.num(st.stale.length) });
    k.el('bins-over').innerHTML = st.over.length ? st.over.slice(0, 200).map(function (f) { return row(f, false); }).join('')
      : '<li class="muted">' + esc(t('console.bins.none_over')) + '</li>';
    k.el('bins-stale').innerHTML = st.stale.length ? st.stale.slice(0, 200).map(function (f) { return row(f, true); }).join('')
      : '<li class="muted">' + esc(t('console.bins.none_stale')) + '</li>';
    document.querySelectorAll('#console-pane-bins li[data-lon] button').forEach(function (b) {
      b.addEventListener('click', function () {
        const li = b.parentNode, x = Number(li.dataset.lon), y = Number(li.dataset.lat);
        k.fit([x - 0.0005, y - 0.0005, x + 0.0005, y + 0.0005], 18);
      });
    });
  }

  C.addPanel({
    id: 'bins',
    types: ['overflow'],
    init: function (pane) {
      pane.innerHTML = '<p id="bins-summary" class="muted"></p>' +
        '<h3>' + esc(t('console.bins.over_heading')) + '</h3><ul id="bins-over" class="console-list"></ul>' +
        '<h3>' + esc(t('console.bins.stale_heading')) + '</h3><ul id="bins-stale" class="console-list"></ul>';
    },
    reload: reload,
    event: function (type, d) {
      if (type !== 'overflow' || !d.bin) return;
      if (d.state === 'raised' && d.crew && d.crew.id) st.crew[d.bin] = d.crew.id;
      k.soon('bins', reload);
    }
  });

  window.mashaerBins = {
    state: function () {
      return { bins: st.bins.length, now: st.now, over: st.over.map(function (f) { return props(f).id; }),
        stale: st.stale.map(function (f) { return props(f).id; }), crews: Object.assign({}, st.crew) };
    }
  };
})();
