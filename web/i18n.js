/* i18n.js: the viewer's languages, Arabic and English: every word the viewer shows, and how it
 * writes numbers and times. Loaded before app.js, kpi.js and route.js; they take every string from
 * here (window.I18N.t), none is written in their code (tests/browser/check_strings.mjs checks it).
 *
 * The language: ?lang=ar|en, else the one chosen before (localStorage "mashaer.lang"), else the
 * first of the browser's languages (navigator.languages) that the viewer speaks, else Arabic.
 * A choice from the URL or the switch is remembered. Switching reloads the page: the map view
 * stays (it is in the URL's #zoom/lat/lon) and every part is drawn once, in one language.
 *
 * Arabic: <html lang="ar" dir="rtl">, so the CSS (logical properties only) mirrors the layout.
 *
 * Numbers: Intl.NumberFormat of "ar-SA" with Latin digits (u-nu-latn), "en-GB" in English. The
 * choice of Latin digits in Arabic: what operations staff read next to numbers on screen is
 * written in Latin digits (camp numbers M-0001, gate and incident ids, coordinates, radio call
 * signs, the server's own times), so one set of digits avoids misreadings between them; Saudi
 * government apps for the Hajj show Latin digits in Arabic too. Arabic-Indic digits are one change:
 * NUMBERING below ("arab").
 * Times: Asia/Riyadh (Makkah time, UTC+3 all year), 24-hour clock, whatever the browser's zone.
 *
 * Messages: t(key, {name: value}) replaces {name}; a number param picks a plural form where the
 * message has them (key + "#" + Intl.PluralRules category: zero, one, two, few, many, other).
 */
(function () {
  'use strict';

  const LANGS = ['ar', 'en'];
  const STORE_KEY = 'mashaer.lang';
  const NUMBERING = 'latn';
  const TIME_ZONE = 'Asia/Riyadh';
  const LOCALE = { ar: 'ar-SA-u-nu-' + NUMBERING, en: 'en-GB' };

  const MESSAGES = {
    en: {
      'app.title': 'Mashaer — Operations map',
      'app.map_label': 'Operations map',
      'lang.switch': 'العربية',
      'lang.switch_title': 'Show the viewer in Arabic',
      'panel.label': 'Map controls',
      'panel.hide': 'Hide panel',
      'panel.show': 'Show panel',
      'sites.heading': 'Go to',
      'incidents.heading': 'Open incidents',
      'alerts.heading': 'Crowd and gate alerts',
      'layers.heading': 'Layers',
      'hint': 'Click a feature on the map to see its details.',
      'loading': 'Loading…',
      'layers.loading': 'Loading layers…',
      'live.waiting': 'Waiting for live data…',
      'alerts.none': 'No alerts.',
      'legend.label': 'Crowd density key',
      'status.loading_map': 'Loading map…',
      'status.lib_failed': 'Map library failed to load ({url}).',
      'status.rtl_failed': 'Arabic text support failed to load ({url}): {error}',
      'status.zoom': 'Zoom {z}',
      'status.cursor': 'lon {lon} · lat {lat}',
      'status.loading': 'loading…',
      'status.map_error': 'map error',
      'place.all': 'All sites', 'place.haram': 'Haram', 'place.jamarat': 'Jamarat', 'place.mina': 'Mina',
      'place.muzdalifah': 'Muzdalifah', 'place.arafat': 'Arafat',
      'group.sites': 'Holy sites',
      'group.service_zones': 'Service zones',
      'group.camps': 'Camps',
      'group.walkways': 'Walkways (OSM)',
      'group.site_walkways': 'Site streets and paths',
      'group.site_walkways.note': 'Walking guidance routes along these; names along the streets',
      'group.cleaning_routes': 'Cleaning routes',
      'group.assets': 'Assets',
      'group.assets.note': 'Red ring: faulty or under maintenance',
      'group.work_orders': 'Work orders',
      'group.flow': 'Crowd flow',
      'group.flow.note': 'Arrows: where the crowd walks; red where two streams meet head on (counter-flow)',
      'group.movement': 'Crowd density',
      'group.movement.note': 'Fruin level of service (key on the map); only cells with {k} or more people',
      'group.incidents': 'Incidents',
      'group.incidents.note': 'Open only (resolved are hidden); big halo: high or critical',
      'group.crews': 'Field crews',
      'group.gates': 'Gate flow',
      'group.gates.note': 'Size: utilisation; red ring: over capacity',
      'group.sensors': 'Sensors',
      'group.sensor_readings': 'Sensor readings (history)',
      'group.gate_counts': 'Gate counts (every 5 minutes)',
      'group.counting_lines': 'Counting lines',
      'group.counting_line_counts': 'Counting line crossings (per minute)',
      'group.sensors.note': 'Heat index by NWS level (caution, extreme caution, danger, extreme danger); grey: no reading or stale',
      'group.positions': 'Tracked positions',
      'group.kpi_zones': 'Zone KPIs',
      'group.kpi_zones.note': 'Coloured by the indicator picked in the KPI panel',
      'geom.points#one': '{n} point', 'geom.points': '{n} points',
      'geom.lines#one': '{n} line', 'geom.lines': '{n} lines',
      'geom.areas#one': '{n} area', 'geom.areas': '{n} areas',
      'geom.features#one': '{n} feature', 'geom.features': '{n} features',
      'layer.live': 'LIVE',
      'layer.live_title': 'Live: refreshed every {s} s',
      'layer.zoom_to': 'Zoom to {name}',
      'layer.ops_only': 'Ops only: individual people are never on the public map',
      'layer.not_drawn': 'Not drawn by this style',
      'layer.legend_label': '{field} colours',
      'layer.none': 'No layers.',
      'layer.catalog_failed': 'Layer catalog unavailable ({error}); counts not shown.',
      'layer.zoom_in': 'Zoom in to level {z} to see this layer',
      'popup.feature_id': 'Feature id',
      'popup.also': 'Also here:',
      'value.yes': 'yes', 'value.no': 'no',
      'legend.title': 'Crowd density',
      'legend.sub': 'Fruin level of service · persons/m²',
      'incident.off': 'Incidents layer is off.',
      'incident.none': 'No open incidents in view.',
      'incident.show': 'Show on map',
      'incident.more': '+{n} more in view: zoom in',
      'incident.kind': 'Incident',
      'incident.unknown': 'Unknown',
      'age.now': 'now', 'age.s': '{n} s', 'age.min': '{n} min', 'age.h_min': '{h} h {m} min', 'age.d': '{n} d',
      'live.ok': 'Live · updated {time}',
      'live.unreachable': 'Live data unreachable · last update {time}',
      'live.never': 'none',
      'alert.crowd': 'Crowd: {density} p/m² ({why})',
      'alert.los': 'LoS {los}',
      'alert.critical': 'critical density',
      'alert.pressure': 'crowd pressure {p}',
      'alert.people': '{n} people',
      'alert.gate': 'Gate {id} over capacity',
      'alert.gate_flow': '{flow}/h of {cap}/h',
      'list.sep': ', ',
      'unit.m': '{n} m', 'unit.km': '{n} km', 'unit.km2': '{n} km²', 'unit.s': '{n} s', 'unit.min': '{n} min',
      'unit.pct': '{n} %', 'unit.degc': '{n} °C',
      'time.zone': 'Makkah time',
      // field names (popups) and coded values; other fields are shown by their own names
      'field.name': 'Name', 'field.name_ar': 'Arabic name', 'field.camp_id': 'Camp', 'field.company': 'Company',
      'field.company_ar': 'Company (Arabic)', 'field.capacity': 'Capacity', 'field.blocks': 'Blocks',
      'field.blocks_x': 'Blocks across', 'field.blocks_y': 'Blocks along', 'field.site': 'Site', 'field.zone_id': 'Zone',
      'field.entrance_lon': 'Entrance lon', 'field.entrance_lat': 'Entrance lat', 'field.asset_id': 'Asset',
      'field.kind': 'Kind', 'field.status': 'Status', 'field.site_id': 'Site', 'field.area_km2': 'Area (km²)',
      'field.service': 'Service', 'field.population_capacity': 'Population capacity', 'field.route_id': 'Route',
      'field.crew': 'Crew', 'field.shift': 'Shift', 'field.length_m': 'Length (m)', 'field.path_id': 'Path',
      'field.width_m': 'Width (m)', 'field.from_node': 'From node', 'field.to_node': 'To node', 'field.id': 'Id',
      'field.severity': 'Severity', 'field.description': 'Description', 'field.reported_at': 'Reported at',
      'field.updated_at': 'Updated at', 'field.count': 'People', 'field.density': 'Density (persons/m²)',
      'field.los': 'Level of service', 'field.utilisation': 'Utilisation', 'field.flow_per_hour': 'Flow per hour',
      'field.temperature': 'Temperature (°C)', 'field.relative_humidity': 'Relative humidity',
      'field.fill_level': 'Fill level', 'field.time': 'Time', 'field.speed': 'Speed', 'field.heading': 'Heading',
      'field.heat_index': 'Heat index (°C)', 'field.wbgt': 'WBGT, estimated (°C)', 'field.heat_risk': 'Heat risk',
      'field.wbgt_flag': 'WBGT flag', 'field.pm25': 'PM2.5 (µg/m³)', 'field.pm25_level': 'PM2.5 level (WHO 2021)',
      'field.air_quality_index': 'Air quality index', 'field.noise_laeq': 'Noise LAeq (dB)',
      'field.noise_level': 'Noise level', 'field.stale': 'No recent reading', 'field.queue_people': 'People queuing',
      'field.queue_density': 'Queue density (persons/m²)', 'field.queue_los': 'Queue level of service',
      'field.counter_flow': 'Counter-flow', 'field.cell_m': 'Cell size (m)', 'field.counter_axis': 'Counter-flow axis',
      'value.toilet': 'Toilet', 'value.water_point': 'Water point', 'value.clinic': 'Clinic', 'value.waste_bin': 'Waste bin',
      'value.lighting': 'Lighting', 'value.gate': 'Gate', 'value.ac_unit': 'AC unit',
      'value.working': 'Working', 'value.faulty': 'Faulty', 'value.maintenance': 'Maintenance',
      'value.caution': 'Caution', 'value.extreme_caution': 'Extreme caution', 'value.danger': 'Danger',
      'value.extreme_danger': 'Extreme danger', 'value.green': 'Green', 'value.yellow': 'Yellow', 'value.red': 'Red',
      'value.black': 'Black', 'value.guideline': 'Within the guideline', 'value.it4': 'Interim target 4',
      'value.it3': 'Interim target 3', 'value.it2': 'Interim target 2', 'value.it1': 'Interim target 1',
      'value.above_it1': 'Above interim target 1', 'value.quiet': 'Quiet', 'value.loud': 'Loud', 'value.harmful': 'Harmful',
      'value.critical': 'Critical', 'value.high': 'High', 'value.medium': 'Medium', 'value.low': 'Low',
      'value.informational': 'Informational',
      'value.reported': 'Reported', 'value.dispatched': 'Dispatched', 'value.on_scene': 'On scene',
      'value.resolved': 'Resolved', 'value.cancelled': 'Cancelled', 'value.on_route': 'On route',
      'value.available': 'Available',
      'value.medical': 'Medical', 'value.fire': 'Fire', 'value.lost_person': 'Lost person', 'value.crowding': 'Crowding',
      'value.crush': 'Crush', 'value.security': 'Security', 'value.heat': 'Heat', 'value.heat_stress': 'Heat stress',
      'value.fall': 'Fall', 'value.cleaning': 'Cleaning', 'value.spill': 'Spill', 'value.traffic': 'Traffic',
      'value.other': 'Other', 'value.emergency': 'Emergency',
      'value.haram': 'Haram', 'value.jamarat': 'Jamarat', 'value.mina': 'Mina', 'value.muzdalifah': 'Muzdalifah',
      'value.arafat': 'Arafat',
      'value.health': 'Health', 'value.crowd_management': 'Crowd management', 'value.waste': 'Waste',
      'value.mixed': 'Mixed', 'value.morning': 'Morning', 'value.evening': 'Evening', 'value.night': 'Night',
      'value.trunk': 'Trunk path', 'value.street': 'Street', 'value.connector': 'Connector',
      // KPI panel (kpi.js)
      'kpi.heading': 'Service KPIs',
      'kpi.chart_label': 'Service index over the last hours',
      'kpi.colour_by': 'Colour zones by',
      'kpi.not_measured': 'not measured',
      'kpi.close': 'Close',
      'kpi.caption_index': 'service index (left)',
      'kpi.caption_peak': 'peak persons/m² (right), last {h} h',
      'kpi.series_index': 'index',
      'kpi.series_peak': 'peak p/m²',
      'kpi.history_failed': 'History unavailable: {error}',
      'kpi.lines_heading': 'Counting lines',
      'kpi.lines_pick': 'Line',
      'kpi.lines_totals': 'left to right {ab}, right to left {ba}',
      'kpi.lines_caption': 'people crossing per minute, last {h} h',
      'kpi.series_ab': 'left to right',
      'kpi.series_ba': 'right to left',
      'kpi.zone_failed': 'Zone {id}: {error}',
      'kpi.as_of': 'As of {time} ({zone})',
      'kpi.no_network': '(no walking network: coverage not measured)',
      'kpi.failed': 'KPIs unavailable: {error}',
      'kpi.ind.index_composite': 'Service index (0-100)',
      'kpi.ind.crowd_peak_density': 'Peak density (persons/m²)',
      'kpi.ind.crowd_occupancy': 'Occupancy (people / zone capacity)',
      'kpi.ind.crowd_minutes_los_ef': 'Minutes at Fruin E/F',
      'kpi.ind.coverage_toilet_capacity': 'Toilets within reach (share of capacity)',
      'kpi.ind.coverage_water_capacity': 'Water within reach (share of capacity)',
      'kpi.ind.coverage_clinic_capacity': 'Clinic within reach (share of capacity)',
      'kpi.ind.emergency_open': 'Open incidents',
      'kpi.ind.emergency_on_scene_p90_s': 'Time to scene, p90 (s)',
      'kpi.ind.gates_utilisation': 'Gate utilisation',
      'kpi.ind.environment_hours_above_heat': 'Hours above the heat threshold',
      'kpi.ind.environment_hours_heat_danger': 'Hours at heat index danger (NWS)',
      'kpi.ind.assets_share_working': 'Assets working (share)',
      'kpi.ind.cleaning_share_covered': 'Cleaning routes swept (share)',
      'kpi.head.index.composite': 'Service index',
      'kpi.head.crowd.people': 'People tracked',
      'kpi.head.crowd.peak_los': 'Peak level of service',
      'kpi.head.crowd.minutes_los_ef': 'Minutes at E/F (window)',
      'kpi.head.coverage.toilet_capacity': 'Toilets within reach',
      'kpi.head.coverage.water_capacity': 'Water within reach',
      'kpi.head.coverage.clinic_capacity': 'Clinic within reach',
      'kpi.head.emergency.open': 'Open incidents',
      'kpi.head.emergency.on_scene_p50_s': 'Time to scene p50',
      'kpi.head.emergency.on_scene_p90_s': 'Time to scene p90',
      'kpi.head.gates.utilisation': 'Gate utilisation',
      'kpi.head.environment.temperature_max': 'Hottest sensor',
      'kpi.head.environment.heat_index_max': 'Highest heat index',
      'kpi.head.assets.share_working': 'Assets working',
      'kpi.head.cleaning.share_covered': 'Routes swept',
      'kpi.group.index': 'index', 'kpi.group.crowd': 'crowd', 'kpi.group.coverage': 'coverage',
      'kpi.group.emergency': 'emergency', 'kpi.group.gates': 'gates', 'kpi.group.environment': 'environment',
      'kpi.group.assets': 'assets', 'kpi.group.cleaning': 'cleaning',
      'kpi.key.composite': 'composite', 'kpi.key.people': 'people', 'kpi.key.peak_density': 'peak density',
      'kpi.key.occupancy': 'occupancy', 'kpi.key.capacity': 'capacity',
      'kpi.key.peak_los': 'peak los', 'kpi.key.minutes_los_ef': 'minutes los ef',
      'kpi.key.share_los_a': 'share los a', 'kpi.key.share_los_b': 'share los b', 'kpi.key.share_los_c': 'share los c',
      'kpi.key.share_los_d': 'share los d', 'kpi.key.share_los_e': 'share los e', 'kpi.key.share_los_f': 'share los f',
      'kpi.key.camps': 'camps', 'kpi.key.toilet_camps': 'toilet camps', 'kpi.key.water_camps': 'water camps',
      'kpi.key.clinic_camps': 'clinic camps', 'kpi.key.toilet_capacity': 'toilet capacity',
      'kpi.key.water_capacity': 'water capacity', 'kpi.key.clinic_capacity': 'clinic capacity',
      'kpi.key.open': 'open', 'kpi.key.on_scene_p50_s': 'on scene p50 s', 'kpi.key.on_scene_p90_s': 'on scene p90 s',
      'kpi.key.resolved_p50_s': 'resolved p50 s', 'kpi.key.resolved_p90_s': 'resolved p90 s',
      'kpi.key.within_target': 'within target', 'kpi.key.incidents': 'incidents', 'kpi.key.utilisation': 'utilisation',
      'kpi.key.flow_per_hour': 'flow per hour', 'kpi.key.capacity_per_hour': 'capacity per hour',
      'kpi.key.over_capacity': 'over capacity', 'kpi.key.temperature_max': 'temperature max',
      'kpi.key.hours_above_heat': 'hours above heat', 'kpi.key.sensors': 'sensors',
      'kpi.key.heat_index_max': 'heat index max', 'kpi.key.hours_heat_caution': 'hours at caution',
      'kpi.key.hours_heat_extreme_caution': 'hours at extreme caution', 'kpi.key.hours_heat_danger': 'hours at danger',
      'kpi.key.hours_heat_extreme_danger': 'hours at extreme danger', 'kpi.key.pm25_max': 'PM2.5 max',
      'kpi.key.sensors_stale': 'stale sensors',
      'kpi.key.share_working': 'share working', 'kpi.key.working': 'working', 'kpi.key.share_covered': 'share covered',
      'kpi.key.covered_m': 'covered m', 'kpi.key.route_m': 'route m', 'kpi.key.gates': 'gates',
      // walking guidance (route.js)
      'guide.heading': 'Walking guidance',
      'guide.start': 'Set start',
      'guide.end': 'Set end',
      'guide.clear': 'Clear',
      'guide.nearest_group': 'Nearest from the start',
      'guide.nearest.water_point': 'Nearest water',
      'guide.nearest.toilet': 'Nearest toilets',
      'guide.nearest.clinic': 'Nearest clinic',
      'guide.iso': '{n} min on foot',
      'guide.pick': 'Pick a start point on the map.',
      'guide.click_start': 'Click the map to set the start.',
      'guide.click_end': 'Click the map to set the end.',
      'guide.need_start': 'Set a start point first.',
      'guide.none': 'None within reach.',
      'guide.summary': '{length} · about {time} on foot',
      'guide.summary_live': '{length} · about {time} on foot at current crowd speeds',
      'guide.los_f': 'passes {n} crowded segment(s): no other way',
      'guide.slowed': '{n} segment(s) slowed by the crowd',
      'guide.closed': 'avoids walkways closed by incidents',
      'guide.leaves': 'starts or ends inside a closed area',
      'guide.note_sep': '; ',
      'guide.more': '… {n} more',
      'guide.walk': '{walk} walk ({straight} straight)',
      'guide.iso_result': 'Reachable on foot in {min} min: {area}',
      'guide.error': '{detail}',
      // operations console (console.js)
      'console.sign_in': 'Sign in',
      'console.sign_in_title': 'Sign in to the operations console',
      'console.sign_out': 'Sign out',
      'console.signin_help': 'Paste the access token you were given. It is kept in this browser tab only and forgotten when the tab is closed.',
      'console.token_label': 'Access token',
      'console.signing_in': 'Checking the token…',
      'console.back': 'Back',
      'console.who': '{name} · {role}',
      'console.who_title': 'Signed in as {name}, role: {role}',
      'console.role.ops': 'Operations', 'console.role.admin': 'Administrator', 'console.role.feed': 'Data feed',
      'console.role.reporter': 'Reporter', 'console.role.import': 'Import',
      'console.no_access': 'Signed in as {role}: the operations console needs an operations or administrator token. The map stays view-only.',
      'console.expired': 'Your token is no longer accepted: sign in again.',
      'console.forbidden': 'Your role may not do this.',
      'console.err.token': 'This token was not accepted. Check it and try again.',
      'console.err.empty_token': 'Paste a token first.',
      'console.err.network': 'The server could not be reached: {error}',
      'console.err.server': 'The server refused ({status}): {detail}',
      'console.err.transition': 'Not allowed: from {from} to {to}. Allowed next: {allowed}.',
      'console.err.final': 'none (closed)',
      'console.title': 'Operations console',
      'console.tabs': 'Console sections',
      'console.tab.asset': 'Assets', 'console.tab.workorders': 'Work orders', 'console.tab.incidents': 'Incidents',
      'console.tab.gates': 'Gates',
      'console.live.on': 'Live updates on',
      'console.live.off': 'Live updates lost: reconnecting…',
      'console.saved': 'Saved.',
      'console.need_reason': 'Write the reason first.',
      'console.confirm_title': 'Please confirm',
      'console.confirm_no': 'No, go back',
      'console.history': 'History',
      'console.history_title': 'History of {what}',
      'console.history.none': 'No recorded versions.',
      'console.history.first': 'first version',
      'console.history.geometry': 'location changed',
      'console.history.deleted': 'deleted',
      'console.history.unavailable': 'History is not available for this item: {error}',
      'console.history.more': 'Older versions',
      'console.op.import': 'Imported', 'console.op.create': 'Created', 'console.op.update': 'Updated',
      'console.op.replace': 'Replaced', 'console.op.delete': 'Deleted',
      'console.conflict.title': 'Someone else changed this item first',
      'console.conflict.help': 'Your change was not saved. Compare the two versions, then choose.',
      'console.conflict.field': 'Field',
      'console.conflict.mine': 'Your version',
      'console.conflict.current': 'Current version',
      'console.conflict.reapply': 'Apply my change again',
      'console.conflict.keep': 'Keep the current version',
      'console.asset.find_label': 'Asset id',
      'console.asset.find': 'Find',
      'console.asset.hint': 'Click an asset on the map, or type its id.',
      'console.asset.not_found': 'No asset {id}.',
      'console.asset.status_now': 'Status now: {status}',
      'console.asset.change_status': 'Change status',
      'console.asset.save': 'Save status',
      'console.asset.saved': 'Saved: {id} is now {status}.',
      'console.asset.changed_elsewhere': 'Someone else changed this asset while you were choosing. Saving will show both versions.',
      'console.asset.wo_heading': 'Work orders of this asset',
      'console.wo.none': 'No work orders.',
      'console.wo.none_open': 'No open work orders.',
      'console.wo.fault_label': 'Fault (what is wrong)',
      'console.wo.open_btn': 'Open a work order',
      'console.wo.opened': 'Work order {id} opened.',
      'console.wo.need_fault': 'Describe the fault first.',
      'console.wo.list_heading': 'Open and assigned work orders',
      'console.wo.title': 'Work order {id}',
      'console.wo.crew_label': 'Crew to assign',
      'console.wo.assign': 'Assign',
      'console.wo.need_crew': 'Type the crew first.',
      'console.wo.done': 'Mark done',
      'console.wo.confirm_done': 'Mark work order {id} done? The asset goes back to working.',
      'console.wo.note_label': 'Reason for cancelling',
      'console.wo.cancel': 'Cancel work order',
      'console.wo.confirm_cancel': 'Cancel work order {id}? This cannot be undone.',
      'console.wo.unavailable': 'Work orders are not available on this server yet.',
      'console.inc.new': 'Report a new incident',
      'console.inc.pick': 'Click the map where the incident is (Esc to stop).',
      'console.inc.at': 'Location: {lat}, {lon}',
      'console.inc.kind_label': 'Kind',
      'console.inc.severity_label': 'Severity',
      'console.inc.desc_label': 'Description',
      'console.inc.create': 'Create incident',
      'console.inc.created': 'Incident {id} created.',
      'console.inc.list_heading': 'Open incidents, most severe first',
      'console.inc.none': 'No open incidents.',
      'console.inc.title': 'Incident {id}',
      'console.inc.triage': 'Save severity',
      'console.inc.responders': 'Find responders',
      'console.inc.responders_heading': 'Nearest available responders, by walking time',
      'console.inc.no_responders': 'No available responder.',
      'console.inc.eta': 'arrives in {time}',
      'console.inc.assign': 'Dispatch',
      'console.inc.assign_title': 'Dispatch {crew} to this incident',
      'console.inc.on_scene': 'Responder on scene',
      'console.inc.resolve': 'Mark resolved',
      'console.inc.confirm_resolve': 'Mark incident {id} resolved? It leaves the live map.',
      'console.inc.reason_label': 'Reason for cancelling',
      'console.inc.cancel': 'Cancel incident',
      'console.inc.confirm_cancel': 'Cancel incident {id}? This cannot be undone.',
      'console.inc.assigned_to': 'Assigned to {crew}',
      'console.inc.reported': 'reported {time}',
      'console.inc.escalation': 'Escalation: incident {id} ({severity}) is still not dispatched',
      'console.inc.show': 'Show on map',
      'console.gates.heading': 'All gates',
      'console.gates.none': 'No gates reported yet.',
      'console.gate.title': 'Gate {id}',
      'console.gate.open': 'Open gate',
      'console.gate.close': 'Close gate',
      'console.gate.reason_label': 'Reason for closing',
      'console.gate.confirm_close': 'Close gate {id}? Walking routes will go around it at once.',
      'console.gate.confirm_open': 'Open gate {id}? Walking routes may pass through it again.',
      'console.gate.closed_because': 'Closed: {reason}',
      'field.assigned_crew': 'Assigned crew', 'field.fault': 'Fault', 'field.note': 'Note', 'field.opened_at': 'Opened at',
      'field.assigned_at': 'Assigned at', 'field.done_at': 'Done at', 'field.reason': 'Reason',
      'field.dispatched_at': 'Dispatched at', 'field.on_scene_at': 'On scene at', 'field.resolved_at': 'Resolved at',
      'field.state': 'State', 'field.closed_reason': 'Reason closed',
      'value.open': 'Open', 'value.closed': 'Closed', 'value.assigned': 'Assigned', 'value.done': 'Done',
      'value.standby': 'Standby', 'value.returning': 'Returning', 'value.en_route': 'En route',
      // MapLibre's own controls (the map's `locale` option)
      'maplibre.Map.Title': 'Map',
      'maplibre.NavigationControl.ZoomIn': 'Zoom in',
      'maplibre.NavigationControl.ZoomOut': 'Zoom out',
      'maplibre.NavigationControl.ResetBearing': 'Reset bearing to north',
      'maplibre.AttributionControl.ToggleAttribution': 'Toggle attribution',
      'maplibre.AttributionControl.MapFeedback': 'Map feedback',
      'maplibre.ScaleControl.Meters': 'm',
      'maplibre.ScaleControl.Kilometers': 'km',
      'maplibre.Popup.Close': 'Close popup'
    },
    ar: {
      'app.title': 'مشاعر — خريطة العمليات',
      'app.map_label': 'خريطة العمليات',
      'lang.switch': 'English',
      'lang.switch_title': 'عرض الواجهة بالإنجليزية',
      'panel.label': 'أدوات الخريطة',
      'panel.hide': 'إخفاء اللوحة',
      'panel.show': 'إظهار اللوحة',
      'sites.heading': 'انتقل إلى',
      'incidents.heading': 'البلاغات المفتوحة',
      'alerts.heading': 'تنبيهات الحشود والبوابات',
      'layers.heading': 'الطبقات',
      'hint': 'انقر على أي عنصر في الخريطة لعرض تفاصيله.',
      'loading': 'جارٍ التحميل…',
      'layers.loading': 'جارٍ تحميل الطبقات…',
      'live.waiting': 'بانتظار البيانات المباشرة…',
      'alerts.none': 'لا توجد تنبيهات.',
      'legend.label': 'مفتاح كثافة الحشود',
      'status.loading_map': 'جارٍ تحميل الخريطة…',
      'status.lib_failed': 'تعذّر تحميل مكتبة الخريطة ({url}).',
      'status.rtl_failed': 'تعذّر تحميل دعم النص العربي ({url}): {error}',
      'status.zoom': 'التكبير {z}',
      'status.cursor': 'خط الطول {lon} · خط العرض {lat}',
      'status.loading': 'جارٍ التحميل…',
      'status.map_error': 'خطأ في الخريطة',
      'place.all': 'كل المشاعر', 'place.haram': 'المسجد الحرام', 'place.jamarat': 'الجمرات', 'place.mina': 'منى',
      'place.muzdalifah': 'مزدلفة', 'place.arafat': 'عرفات',
      'group.sites': 'المشاعر المقدسة',
      'group.service_zones': 'مناطق الخدمة',
      'group.camps': 'المخيمات',
      'group.walkways': 'ممرات المشاة (OSM)',
      'group.site_walkways': 'شوارع وممرات المشاعر',
      'group.site_walkways.note': 'يسير الإرشاد للمشي على هذه الممرات؛ أسماء الشوارع على امتدادها',
      'group.cleaning_routes': 'مسارات النظافة',
      'group.assets': 'المرافق',
      'group.assets.note': 'حلقة حمراء: معطّل أو تحت الصيانة',
      'group.work_orders': 'أوامر العمل',
      'group.flow': 'اتجاه الحشود',
      'group.flow.note': 'الأسهم: اتجاه سير الحشود؛ بالأحمر حيث يلتقي تياران متعاكسان',
      'group.movement': 'كثافة الحشود',
      'group.movement.note': 'مستوى الخدمة حسب فروين (المفتاح على الخريطة)؛ الخلايا التي فيها {k} أشخاص أو أكثر فقط',
      'group.incidents': 'البلاغات',
      'group.incidents.note': 'المفتوحة فقط (المغلقة مخفية)؛ الهالة الكبيرة: خطورة مرتفعة أو حرجة',
      'group.crews': 'الفرق الميدانية',
      'group.gates': 'تدفق البوابات',
      'group.gates.note': 'الحجم: نسبة الاستخدام؛ حلقة حمراء: فوق الطاقة',
      'group.sensors': 'أجهزة الاستشعار',
      'group.sensor_readings': 'قراءات أجهزة الاستشعار (السجل)',
      'group.gate_counts': 'عدادات البوابات (كل 5 دقائق)',
      'group.counting_lines': 'خطوط العد',
      'group.counting_line_counts': 'العبور من خطوط العد (في الدقيقة)',
      'group.sensors.note': 'مؤشر الحرارة بمستويات هيئة الأرصاد الأمريكية (حذر، حذر شديد، خطر، خطر شديد)؛ رمادي: لا توجد قراءة أو توقف الجهاز',
      'group.positions': 'المواقع الفردية',
      'group.kpi_zones': 'مؤشرات المناطق',
      'group.kpi_zones.note': 'ملوّنة حسب المؤشر المختار في لوحة المؤشرات',
      'geom.points#one': 'نقطة واحدة', 'geom.points#two': 'نقطتان', 'geom.points#few': '{n} نقاط', 'geom.points': '{n} نقطة',
      'geom.lines#one': 'خط واحد', 'geom.lines#two': 'خطان', 'geom.lines#few': '{n} خطوط', 'geom.lines': '{n} خطًا',
      'geom.areas#one': 'مساحة واحدة', 'geom.areas#two': 'مساحتان', 'geom.areas#few': '{n} مساحات', 'geom.areas': '{n} مساحة',
      'geom.features#one': 'عنصر واحد', 'geom.features#two': 'عنصران', 'geom.features#few': '{n} عناصر',
      'geom.features': '{n} عنصرًا',
      'layer.live': 'مباشر',
      'layer.live_title': 'مباشر: يُحدَّث كل {s} ثانية',
      'layer.zoom_to': 'تكبير إلى {name}',
      'layer.ops_only': 'للعمليات فقط: لا تظهر مواقع الأفراد على الخريطة العامة',
      'layer.not_drawn': 'لا يرسمها هذا النمط',
      'layer.legend_label': 'ألوان {field}',
      'layer.none': 'لا توجد طبقات.',
      'layer.catalog_failed': 'فهرس الطبقات غير متاح ({error})؛ الأعداد غير معروضة.',
      'layer.zoom_in': 'قرّب إلى المستوى {z} لرؤية هذه الطبقة',
      'popup.feature_id': 'معرّف العنصر',
      'popup.also': 'هنا أيضًا:',
      'value.yes': 'نعم', 'value.no': 'لا',
      'legend.title': 'كثافة الحشود',
      'legend.sub': 'مستوى الخدمة حسب فروين · شخص/م²',
      'incident.off': 'طبقة البلاغات مخفية.',
      'incident.none': 'لا توجد بلاغات مفتوحة في العرض.',
      'incident.show': 'اعرض على الخريطة',
      'incident.more': '+{n} أخرى في العرض: قرّب الخريطة',
      'incident.kind': 'بلاغ',
      'incident.unknown': 'غير معروف',
      'age.now': 'الآن', 'age.s': '{n} ث', 'age.min': '{n} د', 'age.h_min': '{h} س {m} د', 'age.d': '{n} يوم',
      'live.ok': 'مباشر · آخر تحديث {time}',
      'live.unreachable': 'تعذّر تحديث البيانات المباشرة · آخر تحديث {time}',
      'live.never': 'لا يوجد',
      'alert.crowd': 'حشد: {density} شخص/م² ({why})',
      'alert.los': 'مستوى الخدمة {los}',
      'alert.critical': 'كثافة حرجة',
      'alert.pressure': 'ضغط الحشد {p}',
      'alert.people': '{n} شخص',
      'alert.gate': 'البوابة {id} فوق طاقتها',
      'alert.gate_flow': '{flow} في الساعة من {cap} في الساعة',
      'list.sep': '، ',
      'unit.m': '{n} م', 'unit.km': '{n} كم', 'unit.km2': '{n} كم²', 'unit.s': '{n} ث', 'unit.min': '{n} دقيقة',
      'unit.pct': '{n}٪', 'unit.degc': '{n} °م',
      'time.zone': 'بتوقيت مكة المكرمة',
      'field.name': 'الاسم', 'field.name_ar': 'الاسم العربي', 'field.camp_id': 'المخيم', 'field.company': 'الشركة',
      'field.company_ar': 'الشركة (بالعربية)', 'field.capacity': 'السعة', 'field.blocks': 'المربعات',
      'field.blocks_x': 'المربعات عرضًا', 'field.blocks_y': 'المربعات طولًا', 'field.site': 'المشعر',
      'field.zone_id': 'المنطقة', 'field.entrance_lon': 'خط طول المدخل', 'field.entrance_lat': 'خط عرض المدخل',
      'field.asset_id': 'المرفق', 'field.kind': 'النوع', 'field.status': 'الحالة', 'field.site_id': 'المشعر',
      'field.area_km2': 'المساحة (كم²)', 'field.service': 'الخدمة', 'field.population_capacity': 'الطاقة الاستيعابية',
      'field.route_id': 'المسار', 'field.crew': 'الفريق', 'field.shift': 'الوردية', 'field.length_m': 'الطول (م)',
      'field.path_id': 'الممر', 'field.width_m': 'العرض (م)', 'field.from_node': 'من العقدة', 'field.to_node': 'إلى العقدة',
      'field.id': 'المعرّف', 'field.severity': 'الخطورة', 'field.description': 'الوصف', 'field.reported_at': 'وقت البلاغ',
      'field.updated_at': 'آخر تحديث', 'field.count': 'عدد الأشخاص', 'field.density': 'الكثافة (شخص/م²)',
      'field.los': 'مستوى الخدمة', 'field.utilisation': 'نسبة الاستخدام', 'field.flow_per_hour': 'التدفق في الساعة',
      'field.temperature': 'درجة الحرارة (°م)', 'field.relative_humidity': 'الرطوبة النسبية',
      'field.fill_level': 'نسبة الامتلاء', 'field.time': 'الوقت', 'field.speed': 'السرعة', 'field.heading': 'الاتجاه',
      'field.heat_index': 'مؤشر الحرارة (°م)', 'field.wbgt': 'درجة حرارة الكرة الرطبة التقديرية (°م)',
      'field.heat_risk': 'خطر الحرارة', 'field.wbgt_flag': 'علم الإجهاد الحراري', 'field.pm25': 'الجسيمات الدقيقة PM2.5 (ميكروغرام/م³)',
      'field.pm25_level': 'مستوى PM2.5 (منظمة الصحة العالمية 2021)', 'field.air_quality_index': 'مؤشر جودة الهواء',
      'field.noise_laeq': 'الضوضاء LAeq (ديسيبل)', 'field.noise_level': 'مستوى الضوضاء',
      'field.stale': 'لا توجد قراءة حديثة', 'field.queue_people': 'الأشخاص في الطابور',
      'field.queue_density': 'كثافة الطابور (شخص/م²)', 'field.queue_los': 'مستوى خدمة الطابور',
      'field.counter_flow': 'تدفق معاكس', 'field.cell_m': 'حجم الخلية (م)', 'field.counter_axis': 'محور التدفق المعاكس',
      'value.toilet': 'دورة مياه', 'value.water_point': 'نقطة مياه', 'value.clinic': 'عيادة', 'value.waste_bin': 'حاوية نفايات',
      'value.lighting': 'إنارة', 'value.gate': 'بوابة', 'value.ac_unit': 'وحدة تكييف',
      'value.working': 'يعمل', 'value.faulty': 'معطّل', 'value.maintenance': 'تحت الصيانة',
      'value.caution': 'حذر', 'value.extreme_caution': 'حذر شديد', 'value.danger': 'خطر', 'value.extreme_danger': 'خطر شديد',
      'value.green': 'أخضر', 'value.yellow': 'أصفر', 'value.red': 'أحمر', 'value.black': 'أسود',
      'value.guideline': 'ضمن الحد الإرشادي', 'value.it4': 'الهدف المرحلي 4', 'value.it3': 'الهدف المرحلي 3',
      'value.it2': 'الهدف المرحلي 2', 'value.it1': 'الهدف المرحلي 1', 'value.above_it1': 'فوق الهدف المرحلي 1',
      'value.quiet': 'هادئ', 'value.loud': 'مرتفع', 'value.harmful': 'ضار',
      'value.critical': 'حرج', 'value.high': 'مرتفع', 'value.medium': 'متوسط', 'value.low': 'منخفض',
      'value.informational': 'للعلم',
      'value.reported': 'مُبلَّغ', 'value.dispatched': 'أُرسل فريق', 'value.on_scene': 'في الموقع',
      'value.resolved': 'مُغلق', 'value.cancelled': 'مُلغى', 'value.on_route': 'في الطريق', 'value.available': 'متاح',
      'value.medical': 'طبي', 'value.fire': 'حريق', 'value.lost_person': 'شخص تائه', 'value.crowding': 'ازدحام',
      'value.crush': 'تدافع', 'value.security': 'أمني', 'value.heat': 'إجهاد حراري', 'value.heat_stress': 'إجهاد حراري',
      'value.fall': 'سقوط', 'value.cleaning': 'نظافة', 'value.spill': 'انسكاب', 'value.traffic': 'مرور',
      'value.other': 'أخرى', 'value.emergency': 'طوارئ',
      'value.haram': 'المسجد الحرام', 'value.jamarat': 'الجمرات', 'value.mina': 'منى', 'value.muzdalifah': 'مزدلفة',
      'value.arafat': 'عرفات',
      'value.health': 'صحة', 'value.crowd_management': 'إدارة الحشود', 'value.waste': 'نفايات', 'value.mixed': 'متعددة',
      'value.morning': 'صباحية', 'value.evening': 'مسائية', 'value.night': 'ليلية',
      'value.trunk': 'طريق مشاة رئيسي', 'value.street': 'شارع', 'value.connector': 'ممر موصل',
      'kpi.heading': 'مؤشرات أداء الخدمات',
      'kpi.chart_label': 'مؤشر الخدمة خلال الساعات الأخيرة',
      'kpi.colour_by': 'تلوين المناطق حسب',
      'kpi.not_measured': 'غير مقيس',
      'kpi.close': 'إغلاق',
      'kpi.caption_index': 'مؤشر الخدمة (يسار)',
      'kpi.caption_peak': 'ذروة الكثافة شخص/م² (يمين)، آخر {h} ساعات',
      'kpi.series_index': 'المؤشر',
      'kpi.series_peak': 'ذروة شخص/م²',
      'kpi.history_failed': 'السجل غير متاح: {error}',
      'kpi.lines_heading': 'خطوط العد',
      'kpi.lines_pick': 'الخط',
      'kpi.lines_totals': 'من اليسار إلى اليمين {ab}، من اليمين إلى اليسار {ba}',
      'kpi.lines_caption': 'العابرون في الدقيقة، آخر {h} ساعات',
      'kpi.series_ab': 'من اليسار إلى اليمين',
      'kpi.series_ba': 'من اليمين إلى اليسار',
      'kpi.zone_failed': 'المنطقة {id}: {error}',
      'kpi.as_of': 'حتى {time} ({zone})',
      'kpi.no_network': '(لا توجد شبكة مشاة: التغطية غير مقيسة)',
      'kpi.failed': 'المؤشرات غير متاحة: {error}',
      'kpi.ind.index_composite': 'مؤشر الخدمة (0-100)',
      'kpi.ind.crowd_peak_density': 'ذروة الكثافة (شخص/م²)',
      'kpi.ind.crowd_occupancy': 'الإشغال (الأشخاص / الطاقة الاستيعابية للمنطقة)',
      'kpi.ind.crowd_minutes_los_ef': 'الدقائق عند مستوى فروين E/F',
      'kpi.ind.coverage_toilet_capacity': 'دورات المياه في المتناول (نسبة من السعة)',
      'kpi.ind.coverage_water_capacity': 'المياه في المتناول (نسبة من السعة)',
      'kpi.ind.coverage_clinic_capacity': 'العيادات في المتناول (نسبة من السعة)',
      'kpi.ind.emergency_open': 'البلاغات المفتوحة',
      'kpi.ind.emergency_on_scene_p90_s': 'زمن الوصول للموقع، المئين 90 (ث)',
      'kpi.ind.gates_utilisation': 'نسبة استخدام البوابات',
      'kpi.ind.environment_hours_above_heat': 'الساعات فوق حد الحرارة',
      'kpi.ind.environment_hours_heat_danger': 'ساعات مؤشر الحرارة في مستوى الخطر',
      'kpi.ind.assets_share_working': 'المرافق العاملة (نسبة)',
      'kpi.ind.cleaning_share_covered': 'مسارات النظافة المنجزة (نسبة)',
      'kpi.head.index.composite': 'مؤشر الخدمة',
      'kpi.head.crowd.people': 'الأشخاص المتتبَّعون',
      'kpi.head.crowd.peak_los': 'أسوأ مستوى خدمة',
      'kpi.head.crowd.minutes_los_ef': 'الدقائق عند E/F (النافذة)',
      'kpi.head.coverage.toilet_capacity': 'دورات المياه في المتناول',
      'kpi.head.coverage.water_capacity': 'المياه في المتناول',
      'kpi.head.coverage.clinic_capacity': 'العيادات في المتناول',
      'kpi.head.emergency.open': 'البلاغات المفتوحة',
      'kpi.head.emergency.on_scene_p50_s': 'زمن الوصول، الوسيط',
      'kpi.head.emergency.on_scene_p90_s': 'زمن الوصول، المئين 90',
      'kpi.head.gates.utilisation': 'استخدام البوابات',
      'kpi.head.environment.temperature_max': 'أعلى حرارة مقيسة',
      'kpi.head.environment.heat_index_max': 'أعلى مؤشر حرارة',
      'kpi.head.assets.share_working': 'المرافق العاملة',
      'kpi.head.cleaning.share_covered': 'المسارات المنجزة',
      'kpi.group.index': 'المؤشر', 'kpi.group.crowd': 'الحشود', 'kpi.group.coverage': 'التغطية',
      'kpi.group.emergency': 'الطوارئ', 'kpi.group.gates': 'البوابات', 'kpi.group.environment': 'البيئة',
      'kpi.group.assets': 'المرافق', 'kpi.group.cleaning': 'النظافة',
      'kpi.key.composite': 'المؤشر المركب', 'kpi.key.people': 'الأشخاص', 'kpi.key.peak_density': 'ذروة الكثافة',
      'kpi.key.occupancy': 'الإشغال', 'kpi.key.capacity': 'الطاقة الاستيعابية',
      'kpi.key.peak_los': 'أسوأ مستوى خدمة', 'kpi.key.minutes_los_ef': 'دقائق عند E/F',
      'kpi.key.share_los_a': 'نسبة المستوى A', 'kpi.key.share_los_b': 'نسبة المستوى B',
      'kpi.key.share_los_c': 'نسبة المستوى C', 'kpi.key.share_los_d': 'نسبة المستوى D',
      'kpi.key.share_los_e': 'نسبة المستوى E', 'kpi.key.share_los_f': 'نسبة المستوى F',
      'kpi.key.camps': 'المخيمات', 'kpi.key.toilet_camps': 'مخيمات قرب دورات المياه',
      'kpi.key.water_camps': 'مخيمات قرب المياه', 'kpi.key.clinic_camps': 'مخيمات قرب العيادات',
      'kpi.key.toilet_capacity': 'سعة دورات المياه', 'kpi.key.water_capacity': 'سعة المياه',
      'kpi.key.clinic_capacity': 'سعة العيادات', 'kpi.key.open': 'مفتوحة',
      'kpi.key.on_scene_p50_s': 'زمن الوصول الوسيط (ث)', 'kpi.key.on_scene_p90_s': 'زمن الوصول المئين 90 (ث)',
      'kpi.key.resolved_p50_s': 'زمن الإغلاق الوسيط (ث)', 'kpi.key.resolved_p90_s': 'زمن الإغلاق المئين 90 (ث)',
      'kpi.key.within_target': 'ضمن المستهدف', 'kpi.key.incidents': 'البلاغات', 'kpi.key.utilisation': 'نسبة الاستخدام',
      'kpi.key.flow_per_hour': 'التدفق في الساعة', 'kpi.key.capacity_per_hour': 'السعة في الساعة',
      'kpi.key.over_capacity': 'فوق الطاقة', 'kpi.key.temperature_max': 'أعلى حرارة',
      'kpi.key.hours_above_heat': 'ساعات فوق حد الحرارة', 'kpi.key.sensors': 'أجهزة الاستشعار',
      'kpi.key.heat_index_max': 'أعلى مؤشر حرارة', 'kpi.key.hours_heat_caution': 'ساعات الحذر',
      'kpi.key.hours_heat_extreme_caution': 'ساعات الحذر الشديد', 'kpi.key.hours_heat_danger': 'ساعات الخطر',
      'kpi.key.hours_heat_extreme_danger': 'ساعات الخطر الشديد', 'kpi.key.pm25_max': 'أعلى PM2.5',
      'kpi.key.sensors_stale': 'أجهزة متوقفة عن الإرسال',
      'kpi.key.share_working': 'نسبة العاملة', 'kpi.key.working': 'العاملة', 'kpi.key.share_covered': 'نسبة المنجز',
      'kpi.key.covered_m': 'المنجز (م)', 'kpi.key.route_m': 'طول المسارات (م)', 'kpi.key.gates': 'البوابات',
      'guide.heading': 'الإرشاد للمشي',
      'guide.start': 'تحديد البداية',
      'guide.end': 'تحديد الوجهة',
      'guide.clear': 'مسح',
      'guide.nearest_group': 'الأقرب من نقطة البداية',
      'guide.nearest.water_point': 'أقرب ماء',
      'guide.nearest.toilet': 'أقرب دورات مياه',
      'guide.nearest.clinic': 'أقرب عيادة',
      'guide.iso': '{n} دقائق سيرًا',
      'guide.pick': 'اختر نقطة البداية على الخريطة.',
      'guide.click_start': 'انقر على الخريطة لتحديد البداية.',
      'guide.click_end': 'انقر على الخريطة لتحديد الوجهة.',
      'guide.need_start': 'حدّد نقطة البداية أولًا.',
      'guide.none': 'لا شيء في المتناول.',
      'guide.summary': '{length} · نحو {time} سيرًا على الأقدام',
      'guide.summary_live': '{length} · نحو {time} سيرًا على الأقدام بسرعات الحشود الحالية',
      'guide.los_f': 'يمر بمقاطع مزدحمة ({n}): لا طريق آخر',
      'guide.slowed': 'مقاطع أبطأها الحشد: {n}',
      'guide.closed': 'يتجنب الممرات المغلقة بسبب البلاغات',
      'guide.leaves': 'يبدأ أو ينتهي داخل منطقة مغلقة',
      'guide.note_sep': '؛ ',
      'guide.more': '… {n} أخرى',
      'guide.walk': '{walk} سيرًا ({straight} في خط مستقيم)',
      'guide.iso_result': 'ما يمكن بلوغه سيرًا في {min} دقائق: {area}',
      'guide.error#400': 'تعذّر فهم الطلب.',
      'guide.error#404': 'لا يوجد طريق مشاة بين هاتين النقطتين.',
      'guide.error#422': 'النقطة بعيدة عن شبكة المشاة.',
      'guide.error#503': 'لا توجد شبكة مشاة محمّلة على الخادم.',
      'guide.error': 'تعذّر على الخادم الإجابة ({status}).',
      'console.sign_in': 'تسجيل الدخول',
      'console.sign_in_title': 'تسجيل الدخول إلى لوحة العمليات',
      'console.sign_out': 'تسجيل الخروج',
      'console.signin_help': 'الصق رمز الدخول الذي تسلّمته. يُحفَظ في علامة التبويب هذه فقط ويُنسى عند إغلاقها.',
      'console.token_label': 'رمز الدخول',
      'console.signing_in': 'جارٍ التحقق من الرمز…',
      'console.back': 'رجوع',
      'console.who': '{name} · {role}',
      'console.who_title': 'مسجّل الدخول باسم {name}، الدور: {role}',
      'console.role.ops': 'العمليات', 'console.role.admin': 'مدير النظام', 'console.role.feed': 'مغذّي بيانات',
      'console.role.reporter': 'مُبلِّغ', 'console.role.import': 'استيراد',
      'console.no_access': 'سجّلت الدخول بدور {role}: تحتاج لوحة العمليات رمزًا بدور العمليات أو مدير النظام. تبقى الخريطة للعرض فقط.',
      'console.expired': 'لم يعد رمزك مقبولًا: سجّل الدخول مجددًا.',
      'console.forbidden': 'لا يسمح دورك بهذا الإجراء.',
      'console.err.token': 'لم يُقبل هذا الرمز. تحقّق منه وحاول مرة أخرى.',
      'console.err.empty_token': 'الصق الرمز أولًا.',
      'console.err.network': 'تعذّر الوصول إلى الخادم: {error}',
      'console.err.server': 'رفض الخادم الطلب ({status}): {detail}',
      'console.err.transition': 'غير مسموح: من {from} إلى {to}. المسموح تاليًا: {allowed}.',
      'console.err.final': 'لا شيء (مغلق)',
      'console.title': 'لوحة العمليات',
      'console.tabs': 'أقسام اللوحة',
      'console.tab.asset': 'المرافق', 'console.tab.workorders': 'أوامر العمل', 'console.tab.incidents': 'البلاغات',
      'console.tab.gates': 'البوابات',
      'console.live.on': 'التحديث المباشر يعمل',
      'console.live.off': 'انقطع التحديث المباشر: جارٍ إعادة الاتصال…',
      'console.saved': 'تم الحفظ.',
      'console.need_reason': 'اكتب السبب أولًا.',
      'console.confirm_title': 'يرجى التأكيد',
      'console.confirm_no': 'لا، رجوع',
      'console.history': 'السجل',
      'console.history_title': 'سجل {what}',
      'console.history.none': 'لا توجد نسخ مسجّلة.',
      'console.history.first': 'النسخة الأولى',
      'console.history.geometry': 'تغيّر الموقع',
      'console.history.deleted': 'حُذف',
      'console.history.unavailable': 'السجل غير متاح لهذا العنصر: {error}',
      'console.history.more': 'نسخ أقدم',
      'console.op.import': 'استيراد', 'console.op.create': 'إنشاء', 'console.op.update': 'تعديل',
      'console.op.replace': 'استبدال', 'console.op.delete': 'حذف',
      'console.conflict.title': 'عدّل شخص آخر هذا العنصر قبلك',
      'console.conflict.help': 'لم يُحفَظ تعديلك. قارن النسختين ثم اختر.',
      'console.conflict.field': 'الحقل',
      'console.conflict.mine': 'نسختك',
      'console.conflict.current': 'النسخة الحالية',
      'console.conflict.reapply': 'تطبيق تعديلي مجددًا',
      'console.conflict.keep': 'الإبقاء على النسخة الحالية',
      'console.asset.find_label': 'رقم المرفق',
      'console.asset.find': 'بحث',
      'console.asset.hint': 'انقر على مرفق في الخريطة أو اكتب رقمه.',
      'console.asset.not_found': 'لا يوجد مرفق بالرقم {id}.',
      'console.asset.status_now': 'الحالة الآن: {status}',
      'console.asset.change_status': 'تغيير الحالة',
      'console.asset.save': 'حفظ الحالة',
      'console.asset.saved': 'تم الحفظ: حالة {id} الآن {status}.',
      'console.asset.changed_elsewhere': 'عدّل شخص آخر هذا المرفق أثناء اختيارك. عند الحفظ ستظهر النسختان.',
      'console.asset.wo_heading': 'أوامر عمل هذا المرفق',
      'console.wo.none': 'لا توجد أوامر عمل.',
      'console.wo.none_open': 'لا توجد أوامر عمل مفتوحة.',
      'console.wo.fault_label': 'العطل (ما المشكلة)',
      'console.wo.open_btn': 'فتح أمر عمل',
      'console.wo.opened': 'فُتح أمر العمل {id}.',
      'console.wo.need_fault': 'صِف العطل أولًا.',
      'console.wo.list_heading': 'أوامر العمل المفتوحة والمكلَّف بها',
      'console.wo.title': 'أمر العمل {id}',
      'console.wo.crew_label': 'الفريق المكلَّف',
      'console.wo.assign': 'تكليف',
      'console.wo.need_crew': 'اكتب الفريق أولًا.',
      'console.wo.done': 'تم الإنجاز',
      'console.wo.confirm_done': 'تأكيد إنجاز أمر العمل {id}؟ سيعود المرفق إلى حالة «يعمل».',
      'console.wo.note_label': 'سبب الإلغاء',
      'console.wo.cancel': 'إلغاء أمر العمل',
      'console.wo.confirm_cancel': 'إلغاء أمر العمل {id}؟ لا يمكن التراجع عن ذلك.',
      'console.wo.unavailable': 'أوامر العمل غير متاحة على هذا الخادم بعد.',
      'console.inc.new': 'تسجيل بلاغ جديد',
      'console.inc.pick': 'انقر على موقع البلاغ في الخريطة (Esc للإيقاف).',
      'console.inc.at': 'الموقع: {lat}، {lon}',
      'console.inc.kind_label': 'النوع',
      'console.inc.severity_label': 'الخطورة',
      'console.inc.desc_label': 'الوصف',
      'console.inc.create': 'إنشاء البلاغ',
      'console.inc.created': 'أُنشئ البلاغ {id}.',
      'console.inc.list_heading': 'البلاغات المفتوحة، الأخطر أولًا',
      'console.inc.none': 'لا توجد بلاغات مفتوحة.',
      'console.inc.title': 'البلاغ {id}',
      'console.inc.triage': 'حفظ الخطورة',
      'console.inc.responders': 'البحث عن المستجيبين',
      'console.inc.responders_heading': 'أقرب المستجيبين المتاحين، حسب زمن المشي',
      'console.inc.no_responders': 'لا يوجد مستجيب متاح.',
      'console.inc.eta': 'يصل خلال {time}',
      'console.inc.assign': 'إرسال',
      'console.inc.assign_title': 'إرسال {crew} إلى هذا البلاغ',
      'console.inc.on_scene': 'المستجيب في الموقع',
      'console.inc.resolve': 'تمت المعالجة',
      'console.inc.confirm_resolve': 'تأكيد معالجة البلاغ {id}؟ سيختفي من الخريطة المباشرة.',
      'console.inc.reason_label': 'سبب الإلغاء',
      'console.inc.cancel': 'إلغاء البلاغ',
      'console.inc.confirm_cancel': 'إلغاء البلاغ {id}؟ لا يمكن التراجع عن ذلك.',
      'console.inc.assigned_to': 'مكلَّف به: {crew}',
      'console.inc.reported': 'أُبلغ {time}',
      'console.inc.escalation': 'تصعيد: البلاغ {id} ({severity}) لم يُرسَل إليه أحد بعد',
      'console.inc.show': 'اعرض على الخريطة',
      'console.gates.heading': 'كل البوابات',
      'console.gates.none': 'لم تُسجَّل بوابات بعد.',
      'console.gate.title': 'البوابة {id}',
      'console.gate.open': 'فتح البوابة',
      'console.gate.close': 'إغلاق البوابة',
      'console.gate.reason_label': 'سبب الإغلاق',
      'console.gate.confirm_close': 'إغلاق البوابة {id}؟ ستتجنبها مسارات المشي فورًا.',
      'console.gate.confirm_open': 'فتح البوابة {id}؟ قد تمر بها مسارات المشي مجددًا.',
      'console.gate.closed_because': 'مغلقة: {reason}',
      'field.assigned_crew': 'الفريق المكلَّف', 'field.fault': 'العطل', 'field.note': 'ملاحظة', 'field.opened_at': 'وقت الفتح',
      'field.assigned_at': 'وقت التكليف', 'field.done_at': 'وقت الإنجاز', 'field.reason': 'السبب',
      'field.dispatched_at': 'وقت الإرسال', 'field.on_scene_at': 'وقت الوصول للموقع', 'field.resolved_at': 'وقت المعالجة',
      'field.state': 'الحالة', 'field.closed_reason': 'سبب الإغلاق',
      'value.open': 'مفتوح', 'value.closed': 'مغلق', 'value.assigned': 'مكلَّف به', 'value.done': 'منجز',
      'value.standby': 'في الانتظار', 'value.returning': 'عائد', 'value.en_route': 'في الطريق',
      'maplibre.Map.Title': 'الخريطة',
      'maplibre.NavigationControl.ZoomIn': 'تكبير',
      'maplibre.NavigationControl.ZoomOut': 'تصغير',
      'maplibre.NavigationControl.ResetBearing': 'إعادة الاتجاه إلى الشمال',
      'maplibre.AttributionControl.ToggleAttribution': 'إظهار المصادر أو إخفاؤها',
      'maplibre.AttributionControl.MapFeedback': 'ملاحظات على الخريطة',
      'maplibre.ScaleControl.Meters': 'م',
      'maplibre.ScaleControl.Kilometers': 'كم',
      'maplibre.Popup.Close': 'إغلاق النافذة'
    }
  };

  // ------------------------------------------------------------------ which language

  function supported(tag) {
    const primary = String(tag || '').toLowerCase().split('-')[0];
    return LANGS.indexOf(primary) >= 0 ? primary : null;
  }

  function stored() {
    try { return supported(localStorage.getItem(STORE_KEY)); } catch (e) { return null; }
  }

  function remember(lang) {
    try { localStorage.setItem(STORE_KEY, lang); } catch (e) { /* private mode: not remembered */ }
  }

  function choose() {
    const fromUrl = supported(new URLSearchParams(location.search).get('lang'));
    if (fromUrl) {
      remember(fromUrl);
      return fromUrl;
    }
    const kept = stored();
    if (kept) return kept;
    const prefs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    for (let i = 0; i < prefs.length; i++) {
      const l = supported(prefs[i]);
      if (l) return l;
    }
    return 'ar';
  }

  const lang = choose();
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  const locale = LOCALE[lang];
  const messages = MESSAGES[lang];
  const plural = new Intl.PluralRules(lang);
  document.documentElement.lang = lang;
  document.documentElement.dir = dir;

  // ------------------------------------------------------------------ messages

  function has(key) {
    return Object.prototype.hasOwnProperty.call(messages, key);
  }

  // The message for key with {name} replaced by params.name (numbers formatted for the locale);
  // a plural form (key#one, key#few, ...) or a form for a code (key#404, params.status) first.
  function t(key, params) {
    const p = params || {};
    let k = key;
    if (p.status !== undefined && has(key + '#' + p.status)) k = key + '#' + p.status;
    else if (typeof p.n === 'number' && has(key + '#' + plural.select(p.n))) k = key + '#' + plural.select(p.n);
    let s = has(k) ? messages[k] : (MESSAGES.en[k] !== undefined ? MESSAGES.en[k] : key);
    return s.replace(/\{(\w+)\}/g, function (m, name) {
      if (!(name in p)) return m;
      const v = p[name];
      return typeof v === 'number' ? num(v) : String(v);
    });
  }

  // A field name or key shown as words: "population_capacity" -> "Population capacity".
  function humanize(key) {
    const s = String(key).replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  // prefix + '.' + value from the catalogue, else the value as words (data the catalogue does not know).
  function label(prefix, value) {
    const k = prefix + '.' + value;
    return has(k) ? messages[k] : humanize(value);
  }

  // Every message under `prefix`, keyed by the rest of its key (e.g. MapLibre's `locale` option).
  function group(prefix) {
    const out = {};
    Object.keys(MESSAGES.en).forEach(function (k) {
      if (k.indexOf(prefix) === 0) out[k.slice(prefix.length)] = t(k);
    });
    return out;
  }

  // ------------------------------------------------------------------ numbers and times

  const numberFormats = new Map();
  function num(n, maxFrac, minFrac) {
    const key = (maxFrac === undefined ? 3 : maxFrac) + '/' + (minFrac || 0);
    let f = numberFormats.get(key);
    if (!f) {
      f = new Intl.NumberFormat(locale, { maximumFractionDigits: maxFrac === undefined ? 3 : maxFrac,
        minimumFractionDigits: minFrac || 0 });
      numberFormats.set(key, f);
    }
    return f.format(Number(n));
  }

  const clock = new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23' });
  const stamp = new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, calendar: 'gregory', year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  // HH:MM:SS in Makkah time
  function time(ms) { return clock.format(new Date(ms)); }
  // date and time in Makkah time
  function dateTime(ms) { return stamp.format(new Date(ms)); }

  // ------------------------------------------------------------------ the page

  // Fill every element marked with data-i18n (text), data-i18n-title, data-i18n-aria-label.
  function apply(root) {
    const r = root || document;
    r.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
    r.querySelectorAll('[data-i18n-title]').forEach(function (el) { el.title = t(el.getAttribute('data-i18n-title')); });
    r.querySelectorAll('[data-i18n-aria-label]').forEach(function (el) {
      el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label')));
    });
  }

  // Remember the language and draw the page again in it (the map view is kept in the URL's hash).
  function setLang(l) {
    const next = supported(l);
    if (!next) return false;
    remember(next);
    const url = new URL(location.href);
    url.searchParams.delete('lang');
    if (url.href !== location.href) location.replace(url.href);
    else location.reload();
    return true;
  }

  document.title = t('app.title');
  apply(document);
  const sw = document.getElementById('lang-switch');
  if (sw) {
    const other = lang === 'ar' ? 'en' : 'ar';
    sw.lang = other;
    sw.dir = other === 'ar' ? 'rtl' : 'ltr';
    sw.dataset.lang = other;
    sw.addEventListener('click', function () { setLang(other); });
  }

  window.I18N = {
    lang: lang, dir: dir, locale: locale, timeZone: TIME_ZONE, langs: LANGS.slice(), storeKey: STORE_KEY,
    t: t, has: has, label: label, group: group, humanize: humanize, num: num, time: time, dateTime: dateTime,
    apply: apply, setLang: setLang,
    messages: MESSAGES
  };
})();
