// validate_styles.mjs: every style in styles/ passes the official MapLibre style validator
// (@maplibre/maplibre-gl-style-spec, the library behind gl-style-validate).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const src = process.argv[2];
const require = createRequire(path.join(src, 'web', 'package.json'));
const { validateStyleMin } = require('@maplibre/maplibre-gl-style-spec');
let passed = 0, failed = 0;
for (const f of readdirSync(path.join(src, 'styles')).filter((f) => f.endsWith('.json')).sort()) {
  const style = JSON.parse(readFileSync(path.join(src, 'styles', f), 'utf8'));
  const errors = validateStyleMin(style);
  const usesGroups = style.layers.every((l) => l.type === 'background' || (l.metadata && l.metadata['mashaer:group']));
  if (errors.length === 0 && usesGroups && style.layers.length > 3) { passed++; console.log('ok   ' + f); }
  else { failed++; console.log('FAIL ' + f + ' ' + JSON.stringify(errors.slice(0, 5)) + (usesGroups ? '' : ' (layer without mashaer:group)')); }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
