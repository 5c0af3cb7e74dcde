/* simulate_args.c: the options of `mashaer simulate`: defaults, parsing, checks and --help. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/simulate.h"
#include "core/msh_time.h"

#ifndef MSH_DEMO_DIR
#define MSH_DEMO_DIR "data/demo"
#endif

enum {
    O_URL = 256, O_TOKEN, O_PILGRIMS, O_RATE, O_BATCH, O_TICK, O_SPEEDUP, O_START, O_DAY8, O_SEED, O_DURATION,
    O_TICKS, O_CREWS, O_INCIDENTS, O_FEEDS, O_STAMP, O_DATA, O_WALKWAYS, O_CONNECTIONS, O_RUNID, O_FAST, O_DRY,
    O_TOKEN_FILE, O_SCHEDULE_OUT
};

static const struct option k_opts[] = {
    {"url", required_argument, 0, O_URL},           {"token", required_argument, 0, O_TOKEN},
    {"token-file", required_argument, 0, O_TOKEN_FILE},
    {"pilgrims", required_argument, 0, O_PILGRIMS}, {"rate", required_argument, 0, O_RATE},
    {"batch", required_argument, 0, O_BATCH},       {"tick-ms", required_argument, 0, O_TICK},
    {"speedup", required_argument, 0, O_SPEEDUP},   {"start", required_argument, 0, O_START},
    {"day8", required_argument, 0, O_DAY8},         {"seed", required_argument, 0, O_SEED},
    {"duration", required_argument, 0, O_DURATION}, {"ticks", required_argument, 0, O_TICKS},
    {"crews", required_argument, 0, O_CREWS},       {"incidents-per-hour", required_argument, 0, O_INCIDENTS},
    {"feeds", required_argument, 0, O_FEEDS},       {"stamp", required_argument, 0, O_STAMP},
    {"data", required_argument, 0, O_DATA},         {"walkways", required_argument, 0, O_WALKWAYS},
    {"connections", required_argument, 0, O_CONNECTIONS}, {"run-id", required_argument, 0, O_RUNID},
    {"schedule-out", required_argument, 0, O_SCHEDULE_OUT},
    {"fast", no_argument, 0, O_FAST},               {"dry-run", no_argument, 0, O_DRY},
    {"quiet", no_argument, 0, 'q'},                 {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer simulate --url URL --token-file FILE [options]\n"
            "       mashaer simulate --dry-run [options] > records.ndjson\n"
            "\n"
            "Play a Hajj crowd into a server's live feeds (POST URL/feeds/{feed}, docs/FEEDS.md): pilgrims in\n"
            "groups walk the walkway network and move between the sites on the schedule of 8-13 Dhul Hijjah\n"
            "(docs/HAJJ-FACTS.md) at a speed that falls with the local density (Weidmann); cleaning and\n"
            "emergency crews, gate counts, sensor readings, waste bins filling with the crowd (emptied by the\n"
            "cleaning crews that pass) and incidents come with them. The simulated clock\n"
            "runs --speedup times faster than the wall clock and starts over after the 13th.\n"
            "\n"
            "Options:\n"
            "  --url URL               the server (http://localhost:8080)\n"
            "  --token-file FILE       a token of role feed or higher (mashaer token add), read from the\n"
            "                          first line of FILE; or $MASHAER_TOKEN\n"
            "  --token TOKEN           the same on the command line: discouraged, any user can read it in ps\n"
            "  --pilgrims N            pilgrims simulated (default 100000), in groups of 20-250\n"
            "  --rate R                position updates per second in all (default 20000): each pilgrim\n"
            "                          reports every N/R seconds\n"
            "  --batch N               records per POST (default 5000)\n"
            "  --tick-ms MS            one tick of the model and the feeds (default 1000)\n"
            "  --speedup X             simulated seconds per wall second (default 60: an hour a minute)\n"
            "  --start TIME            simulated start, UTC (default 2026-05-25T06:00:00Z, 09:00 on the 8th)\n"
            "  --day8 DATE             the date of 8 Dhul Hijjah (default 2026-05-25, for 1447 AH)\n"
            "  --seed N                random seed (default 1): the same seed plays the same crowd\n"
            "  --duration S            stop after S wall seconds (default 0: run until stopped)\n"
            "  --ticks N               stop after N ticks (default 0: no limit)\n"
            "  --crews N               cleaning and emergency teams (default 40)\n"
            "  --incidents-per-hour X  random incidents per simulated hour (default 6; crowding comes on top)\n"
            "  --feeds LIST            feeds to drive (default positions,crews,gates,sensors,incidents,bins)\n"
            "  --stamp wall|sim        the records' time: the wall clock (default; the server refuses times\n"
            "                          more than 5 minutes ahead) or the simulated clock\n"
            "  --data DIR              sites, camps, assets, cleaning_routes, service_zones (default %s)\n"
            "  --walkways FILE         the walkway network (default DIR/walkways.geojson)\n"
            "  --connections N         concurrent keep-alive connections (default 2)\n"
            "  --run-id ID             tag for incident ids, unique per run (default: the start time)\n"
            "  --schedule-out FILE     when the run ends, write the group departures it made onto the\n"
            "                          walkways to FILE as a forecast schedule (serve --forecast-schedule),\n"
            "                          each with where the group rested and its stay at the destination:\n"
            "                          with --dry-run --ticks N, the plan of those N ticks for a forecast\n"
            "  --fast                  do not wait for the wall clock between ticks (benchmarks, tests)\n"
            "  --dry-run               write the NDJSON records to stdout instead of sending them\n"
            "  -q, --quiet             no status lines\n"
            "  -h, --help              this help\n"
            "\n"
            "A status line goes to stderr every 5 seconds. Ctrl-C (SIGINT) or SIGTERM stops cleanly.\n"
            "Exit status: 0 when stopped or done, 1 when the server refuses the token or the data cannot\n"
            "be loaded, 2 for bad usage.\n",
            MSH_DEMO_DIR);
}

/* ---------------------------------------------------------------- values */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* --start: "2026-05-25T06:00:00Z" (seconds and zone optional: UTC), --day8: "2026-05-25" -> Unix ms. The
 * refusal names the option, the field and the form. */
static int parse_time(const char *opt, const char *s, bool date_only, int64_t *out)
{
    msh_err err;
    size_t n = strlen(s);
    if (date_only && n != 10)
        msh_err_set(&err, MSH_EINVAL, "a date alone expected (YYYY-MM-DD)");
    else if (!msh_time_parse(s, n, date_only ? MSH_TIME_DATE : MSH_TIME_SHORT, out, &err))
        return 0;
    fprintf(stderr, "mashaer simulate: %s takes %s, not '%.40s': %s\n", opt,
            date_only ? "a date like 2026-05-25" : "a UTC time like 2026-05-26T03:00:00Z", s, err.msg);
    return -1;
}

/* --feeds: a comma-separated list of feed names. */
static int parse_feeds(const char *p, int feed_on[F_N])
{
    for (int f = 0; f < F_N; f++)
        feed_on[f] = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int f = 0; f < F_N; f++)
            if (n == strlen(msh_simulate_feed[f]) && !strncmp(p, msh_simulate_feed[f], n))
                feed_on[f] = found = 1;
        if (!found) {
            fprintf(stderr, "mashaer simulate: --feeds: unknown feed '%.*s' (positions, crews, gates, "
                            "sensors, incidents, bins)\n", (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ---------------------------------------------------------------- the command line */

/* The dates as given: --day8 moves the default start along with it. */
typedef struct dates {
    int64_t day8;
    int have_day8, have_start;
} dates;

enum { OPT_OK, OPT_BAD_VALUE, OPT_USAGE, OPT_HELP };

/* One option: OPT_BAD_VALUE for a value out of form or range (the caller says so), OPT_USAGE when
 * already said. */
static int apply(int optc, const char *arg, sim_cmd *c, msh_sim_opts *so, dates *d)
{
    switch (optc) {
    case O_URL: c->url = arg; return OPT_OK;
    case O_TOKEN: c->token = arg; return OPT_OK;
    case O_TOKEN_FILE: c->token_file = arg; return OPT_OK;
    case O_PILGRIMS: return parse_u32(arg, 1, 50000000, &so->pilgrims) ? OPT_BAD_VALUE : OPT_OK;
    case O_RATE: return parse_double(arg, 0, 1e8, &c->rate) ? OPT_BAD_VALUE : OPT_OK;
    case O_BATCH: return parse_u32(arg, 1, 50000, &c->batch) ? OPT_BAD_VALUE : OPT_OK;
    case O_TICK: return parse_u32(arg, 10, 3600000, &c->tick_ms) ? OPT_BAD_VALUE : OPT_OK;
    case O_SPEEDUP: return parse_double(arg, 0.001, 100000, &c->speedup) ? OPT_BAD_VALUE : OPT_OK;
    case O_START:
        d->have_start = 1;
        return parse_time("--start", arg, false, &so->start_ms) ? OPT_USAGE : OPT_OK;
    case O_DAY8:
        d->have_day8 = 1;
        return parse_time("--day8", arg, true, &d->day8) ? OPT_USAGE : OPT_OK;
    case O_SEED: return parse_u64(arg, &so->seed) ? OPT_BAD_VALUE : OPT_OK;
    case O_DURATION: return parse_double(arg, 0, 1e9, &c->duration) ? OPT_BAD_VALUE : OPT_OK;
    case O_TICKS: return parse_u64(arg, &c->ticks) ? OPT_BAD_VALUE : OPT_OK;
    case O_CREWS: return parse_u32(arg, 0, 10000, &so->crews) ? OPT_BAD_VALUE : OPT_OK;
    case O_INCIDENTS: return parse_double(arg, 0, 100000, &so->incidents_per_hour) ? OPT_BAD_VALUE : OPT_OK;
    case O_FEEDS: return parse_feeds(arg, c->feed_on) ? OPT_USAGE : OPT_OK;
    case O_STAMP:
        if (!strcmp(arg, "sim"))
            c->stamp_sim = 1;
        else if (strcmp(arg, "wall")) {
            fprintf(stderr, "mashaer simulate: --stamp is wall or sim\n");
            return OPT_USAGE;
        }
        return OPT_OK;
    case O_DATA: so->data_dir = arg; return OPT_OK;
    case O_WALKWAYS: so->walkways = arg; return OPT_OK;
    case O_CONNECTIONS: return parse_u32(arg, 1, 64, &c->connections) ? OPT_BAD_VALUE : OPT_OK;
    case O_RUNID: so->run_id = arg; return OPT_OK;
    case O_SCHEDULE_OUT: c->schedule_out = arg; return OPT_OK;
    case O_FAST: c->fast = 1; return OPT_OK;
    case O_DRY: c->dry_run = 1; return OPT_OK;
    case 'q': c->quiet = 1; return OPT_OK;
    case 'h': usage(stdout); return OPT_HELP;
    default: usage(stderr); return OPT_USAGE;
    }
}

static void defaults(sim_cmd *c, msh_sim_opts *so)
{
    c->rate = 20000;
    c->batch = 5000;
    c->tick_ms = 1000;
    c->speedup = 60;
    c->connections = 2;
    for (int f = 0; f < F_N; f++)
        c->feed_on[f] = 1;
    msh_sim_opts_init(so);
    so->data_dir = MSH_DEMO_DIR;
    snprintf(c->run_id, sizeof c->run_id, "%llx", (unsigned long long)(msh_now_ms() / 1000));
    so->run_id = c->run_id;
}

/* The token from the first line of --token-file into c->token_buf; -1 when it cannot be (said). */
static int read_token_file(sim_cmd *c)
{
    FILE *f = fopen(c->token_file, "re");
    if (!f) {
        fprintf(stderr, "mashaer simulate: cannot read the token file %s: %s\n", c->token_file, strerror(errno));
        return -1;
    }
    char *line = fgets(c->token_buf, sizeof c->token_buf, f);
    fclose(f);
    size_t n = line ? strcspn(c->token_buf, "\r\n") : 0;
    if (line && n == strlen(c->token_buf) && n == sizeof c->token_buf - 1)
        n = 0; /* no end of line within the buffer: longer than any token */
    c->token_buf[n] = 0;
    if (!n) {
        fprintf(stderr, "mashaer simulate: the token file %s holds no token on its first line\n", c->token_file);
        return -1;
    }
    c->token = c->token_buf;
    return 0;
}

/* What the options say together; 2 on a usage error (said), else -1. */
static int check(sim_cmd *c, msh_sim_opts *so, const dates *d)
{
    if (c->token_file && c->token) {
        fprintf(stderr, "mashaer simulate: --token-file and --token: give one\n");
        return 2;
    }
    if (c->token_file && read_token_file(c))
        return 2;
    if (!c->token)
        c->token = getenv("MASHAER_TOKEN");
    if (!c->dry_run && (!c->url || !c->token || !*c->token)) {
        fprintf(stderr, "mashaer simulate: %s\n\n",
                !c->url ? "--url URL is required (or --dry-run)"
                        : "--token-file FILE (or $MASHAER_TOKEN) is required");
        usage(stderr);
        return 2;
    }
    if (!c->dry_run && strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) {
        fprintf(stderr, "mashaer simulate: --url must start with http:// or https://\n");
        return 2;
    }
    if (c->token && strpbrk(c->token, "\r\n")) {
        fprintf(stderr, "mashaer simulate: the token holds a line break\n");
        return 2;
    }
    if (d->have_day8) {
        so->day8_ms = d->day8 - 3 * 3600 * 1000LL; /* 00:00 in Makkah */
        if (!d->have_start)
            so->start_ms = so->day8_ms + 9 * 3600 * 1000LL; /* 09:00 on the 8th, as the default */
    }
    if (c->batch * (size_t)RECORD_MAX > ((size_t)16 << 20))
        fprintf(stderr, "mashaer simulate: note: --batch %u makes bodies near the server's default 16 MB limit\n",
                c->batch);
    return -1;
}

int msh_simulate_args(int argc, char **argv, sim_cmd *c, msh_sim_opts *so)
{
    defaults(c, so);
    dates d = {0, 0, 0};
    int optc;
    optind = 1;
    while ((optc = getopt_long(argc, argv, "qh", k_opts, NULL)) != -1) {
        int r = apply(optc, optarg, c, so, &d);
        if (r == OPT_HELP)
            return 0;
        if (r == OPT_USAGE)
            return 2;
        if (r == OPT_BAD_VALUE) {
            for (const struct option *o = k_opts; o->name; o++)
                if (o->val == optc) {
                    fprintf(stderr, "mashaer simulate: --%s: '%s' is not a valid value (see --help)\n", o->name,
                            optarg);
                    break;
                }
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mashaer simulate: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return check(c, so, &d);
}
