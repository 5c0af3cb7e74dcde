-- postgis.sql: one tile function per loaded table, the way Martin / pg_tileserv serve
-- "function sources" (benchmark peer, not part of Mashaer).
--
-- bench/run.sh loads every demo GeoJSON with
--   ogr2ogr -f PostgreSQL PG:... FILE -nln LAYER -t_srs EPSG:3857 -lco GEOMETRY_NAME=geom
-- (so the geometries are already in Web Mercator and have a GiST index), then runs this
-- file.  For every table with a geometry column it creates
--   tile_{table}(z int, x int, y int) RETURNS bytea
-- a plpgsql function (plans are cached per session) with static SQL:
--   ST_AsMVT over ST_AsMVTGeom(geom, ST_TileEnvelope(z,x,y), extent 4096, buffer 64, clip)
-- for the rows whose geometry meets the tile envelope grown by the same 64/4096 margin.
-- Every attribute column but the key is written, like Mashaer does.
-- pgfront concatenates the per-layer tiles of a composite request (MVT layers concatenate).

DO $do$
DECLARE
    t record;
    cols text;
BEGIN
    FOR t IN SELECT f_table_name AS name FROM geometry_columns WHERE f_table_schema = 'public' LOOP
        SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
          FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = t.name AND column_name NOT IN ('geom', 'ogc_fid');
        EXECUTE format($f$
CREATE OR REPLACE FUNCTION public.%I(z integer, x integer, y integer) RETURNS bytea
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $body$
DECLARE
    mvt bytea;
BEGIN
    SELECT ST_AsMVT(q, %L, 4096, 'geom') INTO mvt FROM (
        SELECT ST_AsMVTGeom(geom, ST_TileEnvelope(z, x, y), 4096, 64, true) AS geom%s
          FROM public.%I
         WHERE geom && ST_TileEnvelope(z, x, y, margin => (64.0 / 4096))
    ) AS q WHERE q.geom IS NOT NULL;
    RETURN mvt;
END
$body$
$f$, 'tile_' || t.name, t.name, coalesce(', ' || cols, ''), t.name);
        EXECUTE format('ANALYZE public.%I', t.name);
    END LOOP;
END
$do$;
