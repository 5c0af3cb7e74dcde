// pmtiles_read.mjs: read a PMTiles archive with the reference decoder (the `pmtiles` npm package,
// from web/node_modules) for test_export.py, so that the archive is judged by a reader no one here wrote.
//
// Usage: node pmtiles_read.mjs SOURCE_DIR ARCHIVE < tiles.json   (tiles.json: [[z, x, y], ...])
// ARCHIVE is a file, or an http:// URL read with the library's own FetchSource (range requests).
// Prints one JSON object: {header, metadata, tiles: [sha256 hex of the tile as the library returns
// it (decompressed), or null when the archive has no such tile], ids: [the library's tile id of each]}.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [src, archive] = process.argv.slice(2);
const require = createRequire(path.resolve(src, 'web', 'package.json'));
const { PMTiles, zxyToTileId } = await import(pathToFileURL(require.resolve('pmtiles')).href);

// A Source reading the file with positioned reads: what the library asks for, nothing more.
class FileRangeSource {
  constructor(fh, name) { this.fh = fh; this.name = name; this.reads = 0; }
  getKey() { return this.name; }
  async getBytes(offset, length) {
    this.reads++;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, offset);
    return { data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytesRead) };
  }
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const want = JSON.parse(input || '[]');
const remote = /^https?:\/\//.test(archive);
const fh = remote ? null : await open(archive, 'r');
try {
  const p = new PMTiles(remote ? archive : new FileRangeSource(fh, archive));
  const header = await p.getHeader();
  const metadata = await p.getMetadata();
  const tiles = [];
  for (const [z, x, y] of want) {
    const t = await p.getZxy(z, x, y);
    tiles.push(t ? createHash('sha256').update(Buffer.from(t.data)).digest('hex') : null);
  }
  process.stdout.write(JSON.stringify({ header, metadata, tiles, ids: want.map(([z, x, y]) => zxyToTileId(z, x, y)) }));
} finally {
  if (fh) await fh.close();
}
