"""PMTiles v3 archives written by hand, from the specification alone (nothing of mashaer's writer),
for the tests of `mashaer serve --tiles`: a well-formed archive in a few shapes, and hostile ones
that a reader must refuse.

    build(tiles, ...) -> bytes
        tiles: {(z, x, y): bytes}; identical contents are stored once; leaf=N puts the entries in
        leaf directories of N entries each; internal="gzip"|"none"; tile_type 1 (mvt) or 2 (png);
        tile_comp 1 (none) or 2 (gzip).
    hostile() -> {name: bytes}: archives each broken in one way (see the names).

Run as a script, it writes the hostile archives and two good ones into a folder (the fuzz corpus).
"""

import gzip
import json
import struct
import sys


def tile_id(z, x, y):
    """The specification's Hilbert tile id."""
    acc = ((1 << (2 * z)) - 1) // 3
    n = 1 << z
    d = 0
    s = n // 2
    tx, ty = x, y
    while s > 0:
        rx = 1 if tx & s else 0
        ry = 1 if ty & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                tx, ty = n - 1 - tx, n - 1 - ty
            tx, ty = ty, tx
        s //= 2
    return acc + d


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def directory(entries):
    """entries: [(tile_id, offset, length, run)] sorted; every offset written explicitly (+1)."""
    out = bytearray(varint(len(entries)))
    last = 0
    for e in entries:
        out += varint(e[0] - last)
        last = e[0]
    for e in entries:
        out += varint(e[3])
    for e in entries:
        out += varint(e[2])
    for e in entries:
        out += varint(e[1] + 1)
    return bytes(out)


def pos(lon, lat):
    return struct.pack("<ii", round(lon * 1e7), round(lat * 1e7))


def assemble(root, meta, leaves, data, *, internal=2, tile_comp=2, tile_type=1, minzoom=0, maxzoom=0,
             bounds=(-180, -85, 180, 85), counts=(0, 0, 0), override=None):
    """The header and sections back to back; override: {field offset: packed bytes} patched in."""
    ro = 127
    mo = ro + len(root)
    lo = mo + len(meta)
    do = lo + len(leaves)
    h = bytearray(b"PMTiles" + bytes([3]))
    h += struct.pack("<QQQQQQQQQQQ", ro, len(root), mo, len(meta), lo, len(leaves), do, len(data), *counts)
    h += bytes([1, internal, tile_comp, tile_type, minzoom, maxzoom])
    h += pos(bounds[0], bounds[1]) + pos(bounds[2], bounds[3])
    h += bytes([minzoom]) + pos((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    assert len(h) == 127, len(h)
    for off, b in (override or {}).items():
        h[off:off + len(b)] = b
    return bytes(h) + root + meta + leaves + data


def build(tiles, *, leaf=0, internal="gzip", tile_type=1, tile_comp=2, metadata=None, bounds=(-180, -85, 180, 85)):
    comp = (lambda b: gzip.compress(b, mtime=0)) if internal == "gzip" else (lambda b: b)
    data = bytearray()
    where = {}
    entries = []
    for (z, x, y), content in sorted(tiles.items(), key=lambda kv: tile_id(*kv[0])):
        if content not in where:
            where[content] = len(data)
            data += content
        tid = tile_id(z, x, y)
        last = entries[-1] if entries else None
        if last and last[1] == where[content] and last[0] + last[3] == tid:
            entries[-1] = (last[0], last[1], last[2], last[3] + 1)
        else:
            entries.append((tid, where[content], len(content), 1))
    leaves = b""
    if leaf:
        ptrs = []
        buf = bytearray()
        for i in range(0, len(entries), leaf):
            d = comp(directory(entries[i:i + leaf]))
            ptrs.append((entries[i][0], len(buf), len(d), 0))
            buf += d
        root, leaves = comp(directory(ptrs)), bytes(buf)
    else:
        root = comp(directory(entries))
    zooms = [k[0] for k in tiles]
    meta = comp(json.dumps(metadata if metadata is not None else {}).encode())
    return assemble(root, meta, leaves, bytes(data), internal=2 if internal == "gzip" else 1, tile_comp=tile_comp,
                    tile_type=tile_type, minzoom=min(zooms), maxzoom=max(zooms), bounds=bounds,
                    counts=(len(tiles), len(entries), len(where)))


def _parts(tiles, leaf=0):
    """A small valid archive's sections (internal compression none) to break."""
    return build(tiles, leaf=leaf, internal="none")


def hostile():
    tiles = {(1, 0, 0): b"\x1f\x8b" + b"a" * 20, (1, 1, 0): b"b" * 30, (1, 1, 1): b"c" * 10}
    good = _parts(tiles)
    out = {}
    # the tile data section claimed past the end of the file
    out["data_past_end"] = assemble(directory([(1, 0, 20, 1)]), b"", b"", b"x" * 20, internal=1,
                                    override={64: struct.pack("<Q", 1 << 40)})
    # an entry whose bytes lie past the tile data
    out["entry_past_data"] = assemble(directory([(1, 0, 5000, 1)]), b"", b"", b"x" * 20, internal=1)
    # a leaf directory that points at itself (a loop)
    self_leaf = directory([(1, 0, 0, 0)])  # length patched below
    self_leaf = directory([(1, 0, len(self_leaf), 0)])
    out["leaf_loop"] = assemble(directory([(1, 0, len(self_leaf), 0)]), b"", self_leaf, b"x" * 20, internal=1)
    # two root entries pointing at the same leaf (a repeat)
    leafd = directory([(1, 0, 5, 1)])
    out["leaf_twice"] = assemble(directory([(1, 0, len(leafd), 0), (2, 0, len(leafd), 0)]), b"", leafd, b"x" * 20,
                                 internal=1)
    # a directory whose entry count is huge for its bytes
    out["huge_count"] = assemble(varint(1 << 40) + b"\x01\x01\x01\x01", b"", b"", b"x" * 20, internal=1)
    # a gzip bomb as the root directory (decompresses far past the cap)
    out["gzip_bomb"] = assemble(gzip.compress(b"\x00" * (80 << 20), 9), b"", b"", b"x", internal=2)
    # a varint that never ends
    out["endless_varint"] = assemble(b"\xff" * 40, b"", b"", b"x", internal=1)
    # a tile length of 0
    out["zero_length"] = assemble(directory([(1, 0, 0, 1)]), b"", b"", b"x" * 20, internal=1)
    # ids going backwards
    out["out_of_order"] = assemble(bytes([2]) + varint(5) + varint(0) + b"\x01\x01" + b"\x05\x05" + b"\x01\x01",
                                   b"", b"", b"x" * 20, internal=1)
    # a version this reader does not know, and no magic
    out["version_2"] = good[:7] + b"\x02" + good[8:]
    out["no_magic"] = b"PMTilez" + good[7:]
    out["truncated"] = good[:100]
    return out


if __name__ == "__main__":
    import os
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    tiles = {(z, x, y): bytes([z, x, y]) * 7 for z in range(0, 3) for x in range(1 << z) for y in range(1 << z)}
    samples = dict(hostile())
    samples["good_root"] = build(tiles)
    samples["good_leaves"] = build(tiles, leaf=4, internal="none")
    for name, b in samples.items():
        if name == "gzip_bomb":
            continue  # 80 KiB: kept out of the corpus (the unit test and the integration test build it)
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)
