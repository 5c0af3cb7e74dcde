/* feeds.h: the six live feeds, their records, validation and a compact binary form.
 *
 * A record arrives as a JSON object (an NDJSON line, or a GeoJSON feature
 * turned into one), is checked field by field against the feed's rules
 * (docs/FEEDS.md: FIWARE names and short names, location, time not in the
 * future, coordinates on the globe), and becomes an msh_feed_rec. Accepted
 * records go into the write-ahead log in a compact binary form (about 40
 * bytes a position) that replays without parsing JSON again; snapshots
 * (snapshot.h) store the small tables' records in it too.
 *
 * The compact binary form of one record (msh_feed_encode), little endian,
 * floats IEEE 754; a string is [u8 length][that many bytes of UTF-8]:
 *
 *   id        string, 1..64 bytes
 *   has       u32   the MSH_FR_* presence bits below
 *   t_ms      i64   Unix epoch milliseconds
 *   then, only for the bits set in `has`, in this order:
 *   LOC       f64 lon, f64 lat (degrees, WGS 84)
 *   GROUP     string (positions: group), 0..64 bytes
 *   SPEED     f32 m/s          HEADING  f32 degrees     ACCURACY f32 metres
 *   KIND      string, 0..32 bytes
 *   STATUS    u8 msh_inc_status (0..3), then string (crews: their status text), 0..64 bytes
 *   SEVERITY  u8 0..4
 *   TEXT      string, 0..200 bytes
 *   IN, OUT, CAPACITY   i32 each
 *   TEMP, HUMIDITY, AQI, PM25, NOISE   f32 each
 *   SCANS     i32 valid, i32 denied (gates: permit scans of this report)
 *   FILL      f32 (bins: fillingLevel, 0..1)
 *
 * Nothing marks where a record ends: a reader decodes them one after another,
 * so a change to this form is a change to the WAL and the snapshot format.
 */
#ifndef MSH_FEEDS_H
#define MSH_FEEDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "jsonrec.h"

typedef enum {
    MSH_FEED_POSITIONS = 0,
    MSH_FEED_CREWS,
    MSH_FEED_INCIDENTS,
    MSH_FEED_GATES,
    MSH_FEED_SENSORS,
    MSH_FEED_BINS, /* FIWARE WasteContainer: fill level and temperature of a waste bin */
    MSH_FEED_COUNT
} msh_feed;

typedef enum { MSH_INC_REPORTED = 0, MSH_INC_DISPATCHED, MSH_INC_ON_SCENE, MSH_INC_RESOLVED } msh_inc_status;

#define MSH_FEED_ID_MAX 64
#define MSH_FEED_TEXT_MAX 200

/* Presence bits of the optional fields. */
enum {
    MSH_FR_GROUP = 1 << 0,
    MSH_FR_SPEED = 1 << 1,
    MSH_FR_HEADING = 1 << 2,
    MSH_FR_ACCURACY = 1 << 3,
    MSH_FR_KIND = 1 << 4,
    MSH_FR_STATUS = 1 << 5,
    MSH_FR_SEVERITY = 1 << 6,
    MSH_FR_TEXT = 1 << 7,
    MSH_FR_IN = 1 << 8,
    MSH_FR_OUT = 1 << 9,
    MSH_FR_CAPACITY = 1 << 10,
    MSH_FR_TEMP = 1 << 11,
    MSH_FR_HUMIDITY = 1 << 12,
    MSH_FR_AQI = 1 << 13,
    MSH_FR_PM25 = 1 << 14,
    MSH_FR_NOISE = 1 << 15,
    MSH_FR_LOC = 1 << 16,
    MSH_FR_SCANS = 1 << 20, /* gates: scans_valid and scans_denied (both, per report) */
    MSH_FR_FILL = 1 << 21   /* bins: fillingLevel */
};

typedef struct msh_feed_rec {
    uint32_t has;                    /* MSH_FR_* bits */
    uint8_t id_len;
    char id[MSH_FEED_ID_MAX + 1];
    double lon, lat;
    int64_t t_ms;                    /* Unix epoch milliseconds */
    char group[MSH_FEED_ID_MAX + 1]; /* positions: group; crews/incidents: kind */
    char kind[33];
    char text[MSH_FEED_TEXT_MAX + 1];/* name (crews) or description (incidents) */
    float speed, heading, accuracy;
    uint8_t status;                  /* incidents: msh_inc_status; crews: free text in kind */
    uint8_t severity;                /* 0 informational .. 4 critical */
    int32_t in, out, capacity;
    float temperature, humidity, aqi, pm25, noise;
    int32_t scans_valid, scans_denied; /* gates: permit scans since the gate's previous report */
    float fill;                      /* bins: fillingLevel, 0 empty .. 1 full */
} msh_feed_rec;

const char *msh_feed_name(msh_feed f);
/** The feed named `s[0..n)`; false if none. */
bool msh_feed_lookup(const char *s, size_t n, msh_feed *out);
const char *msh_inc_status_name(int s);
const char *msh_severity_name(int s);

/**
 * Check one JSON record for `feed` and fill *out. `now_ms` is the receive time
 * (times more than 5 minutes after it are refused). Returns 0, or -1 with a
 * reason in why[cap].
 */
int msh_feed_rec_from_json(msh_feed feed, const msh_jrec *j, int64_t now_ms, msh_feed_rec *out, char *why,
                           size_t cap);

/** Append the compact binary form of `n` records to `out`. */
msh_rc msh_feed_encode(const msh_feed_rec *recs, size_t n, msh_buf *out);
/** Decode one record at *p (advancing it); false on malformed input. */
bool msh_feed_decode(const uint8_t **p, const uint8_t *end, msh_feed_rec *out);

#endif
