// check_strings.mjs: no English words written in the viewer's code outside its message catalogue.
// Every string literal of web/app.js, kpi.js, route.js, console.js and its panels (console_*.js), and every text of web/index.html, is
// read; what a person would read (text outside HTML tags that has a capitalised word followed by
// another word, or three words in a row) fails the check unless it is one of the few literals
// named below with the reason. Words belong in web/i18n.js, reached by I18N.t(key).
//   node check_strings.mjs SOURCE_DIR
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const src = process.argv[2];
const ALLOWED = new Map([
  ['© OpenStreetMap contributors', 'the data licence\'s credit (ODbL), the same words in every language'],
]);
const SENTENCE = /\b[A-Z][a-z]+\s+[a-z]+\b|\b[a-z]{2,}\s+[a-z]{2,}\s+[a-z]{2,}\b/;

// The string literals of a script ('...', "...", `...` without ${}), comments skipped.
function literals(code) {
  const out = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i], d = code[i + 1];
    if (c === '/' && d === '/') { i = code.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && d === '*') { i = code.indexOf('*/', i + 2) + 2; if (i < 2) break; continue; }
    if (c === '/' && /[(,=:!&|?{};]\s*$/.test(code.slice(Math.max(0, i - 20), i))) { // a regular expression
      let j = i + 1;
      while (j < code.length && code[j] !== '/') j += code[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1, s = '';
      while (j < code.length && code[j] !== c) {
        if (code[j] === '\\') { s += code[j + 1]; j += 2; } else { s += code[j]; j++; }
      }
      out.push({ text: s, line: code.slice(0, i).split('\n').length });
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

const readable = (s) => s.replace(/<[^>]*>/g, ' ').replace(/<[^>]*$/, ' ').replace(/^[^<]*>/, ' ');
const bad = [];
const SCRIPTS = ['app.js', 'kpi.js', 'route.js', 'console.js']
  .concat(readdirSync(path.join(src, 'web')).filter((f) => /^console_\w+\.js$/.test(f)).sort());
for (const f of SCRIPTS) {
  for (const l of literals(readFileSync(path.join(src, 'web', f), 'utf8'))) {
    if (ALLOWED.has(l.text)) continue;
    if (SENTENCE.test(readable(l.text))) bad.push(`web/${f}:${l.line}: ${JSON.stringify(l.text)}`);
  }
}
const html = readFileSync(path.join(src, 'web', 'index.html'), 'utf8').replace(/<!--[\s\S]*?-->/g, '')
  .replace(/<(script|style)[\s\S]*?<\/\1>/g, '');
const text = html.replace(/<[^>]*>/g, '\n').split('\n').map((s) => s.trim()).filter((s) => /[A-Za-z]{2,}/.test(s));
for (const s of text) if (s !== 'Mashaer') bad.push('web/index.html: text ' + JSON.stringify(s));
for (const m of html.matchAll(/\s(title|aria-label|placeholder|alt)="([^"]*)"/g)) bad.push('web/index.html: ' + m[1] + '="' + m[2] + '"');

// Every key the code asks for exists in both languages (I18N.t('...') with a plain key).
const { messages } = await (async () => {
  const code = readFileSync(path.join(src, 'web', 'i18n.js'), 'utf8');
  const m = code.match(/const MESSAGES = (\{[\s\S]*?\n  \});/);
  return { messages: Function('return ' + m[1])() };
})();
for (const f of SCRIPTS) {
  const code = readFileSync(path.join(src, 'web', f), 'utf8');
  for (const m of code.matchAll(/\bt\('([a-z0-9_.]+)'[,)]/g)) {
    for (const lang of ['en', 'ar']) {
      if (!(m[1] in messages[lang])) bad.push(`web/${f}: key '${m[1]}' missing in ${lang}`);
    }
  }
}
const only = (a, b) => Object.keys(messages[a]).filter((k) => !(k in messages[b]) && !k.includes('#'));
for (const k of only('en', 'ar')) bad.push(`web/i18n.js: '${k}' has no Arabic`);
for (const k of only('ar', 'en')) bad.push(`web/i18n.js: '${k}' has no English`);

for (const b of bad) console.log('FAIL ' + b);
console.log(bad.length ? `${bad.length} strings outside the catalogue` : 'ok   every viewer string is in web/i18n.js, in both languages');
process.exit(bad.length ? 1 : 0);
