#!/usr/bin/env bash
# check_rooms.sh: the outside libraries each room may include (docs/ARCHITECTURE.md, "Rooms").
# The build already refuses a project header from a room above (each room's include root holds only
# the rooms below it); system headers are on every include path, so this checks them.
# Usage: scripts/check_rooms.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
# header pattern @ where it may appear (a grep -E over the path)
rules=(
  'microhttpd\.h@^server/http/'
  # NATS JetStream: the feed log's connection and consumer, and its publisher
  'nats/nats\.h@^server/services/feed_(log|pub)\.[ch]$'
  'curl/curl\.h@^server/cli/'
  'mosquitto\.h@^server/serve/mqtt\.c$'
  # SQLite belongs to the store (layers/ top level); rooms above keep their tables through store_sql.h.
  # and the MBTiles writer and reader, whose file is SQLite (an archive, not the store)
  'sqlite3\.h@^layers/[a-z_]+\.[ch]$|^exporters/mbtiles(_read)?\.c$'
  # GDAL reads in importers/ and writes the downloads (exporters/features/download.c)
  '(gdal|ogr_api|ogr_srs_api|cpl_[a-z_]+)\.h@^importers/|^exporters/features/download\.c$'
  # PROJ: the CRSs of OGC API - Features Part 2, in one file
  'proj\.h@^exporters/features/crs_ref\.c$'
  '(cairo|pango[a-z/]*)\.h@^layers/render/'
  # the importers' GEOS use: geometry cleaning (validity, MakeValid; shared by the importer and the edit
  # path), its per-feature budget and the antimeridian split
  'geos_c\.h@^layers/|^importers/(ogr_import|geom_clean|antimeridian|geos_budget)\.[ch]$'
)
for rule in "${rules[@]}"; do
  hdr=${rule%%@*}
  allowed=${rule#*@}
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    if ! grep -qE "$allowed" <<<"$f"; then
      echo "$f includes <$hdr> outside the rooms that own it ($allowed)"
      fail=1
    fi
  done < <(grep -rlE "#include <($hdr)" --include='*.c' --include='*.h' layers importers exporters server || true)
done
if [ "$fail" = 1 ]; then echo "0 passed, 1 failed"; exit 1; fi
echo "every outside library is included only in its rooms"
echo "1 passed, 0 failed"
