/* clock.js: the server's clock in the browser, for every "now" the page compares with.
 *
 * A duty officer's PC or a worker's phone may keep the wrong time. What the page tells against now
 * (how long an item has been silent or an incident waiting, how late a report is, whether a task is
 * overdue, when a new task or broadcast ends, the window a list or a chart covers) is told by the
 * server's clock instead: every answer of the server carries `Mashaer-Time`, its clock as it answered
 * (README "HTTP endpoints"), and note(response) keeps how far that is from this machine's clock (the
 * trip back is milliseconds). now() is this machine's clock moved by that offset; before any answer is
 * noted it is this machine's clock as it is.
 *
 * Noted: answers asked for past the browser's cache (cache 'no-store', or a server answer that is
 * always checked again, `no-cache`): a stored copy carries the time it was first made. Never a
 * playback tile (its Mashaer-Time names the minute it shows): MapLibre fetches those, not this page.
 * The viewer notes /catalog, /playback (every minute) and /kpi (every 15 s); the console every request
 * of its kit and its event stream.
 *
 * Loaded before the viewer's other scripts (web/index.html). For browser tests: window.mashaerClock.state().
 */
(function () {
  'use strict';

  let offset = 0; // the server's clock minus this machine's, ms
  let noted = 0;  // how many answers have set it

  // Keep the offset an answer (a fetch Response) gives; returns its Mashaer-Time in ms, NaN without one.
  function note(res) {
    const at = Date.parse((res && res.headers && res.headers.get('Mashaer-Time')) || '');
    if (isFinite(at)) {
      offset = at - Date.now();
      noted++;
    }
    return at;
  }

  // The server's clock now, ms since 1970.
  function now() { return Date.now() + offset; }

  // The server's clock at an instant this machine's clock read as `localMs` (a Date.now() kept earlier).
  function at(localMs) { return localMs + offset; }

  // The server's clock `deltaMs` from now, as the server reads a time: ISO 8601 UTC to the second.
  function iso(deltaMs) { return new Date(now() + (deltaMs || 0)).toISOString().replace(/\.\d+Z$/, 'Z'); }

  window.mashaerClock = {
    note: note, now: now, at: at, iso: iso,
    state: function () { return { offset: offset, noted: noted }; }
  };
})();
