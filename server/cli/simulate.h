/* simulate.h: what the files of `mashaer simulate` share (private to server/cli). */
/*
 * The parts (cli/cmd_simulate.c runs them in order):
 *   simulate_args.c    options, defaults and --help into sim_cmd and msh_sim_opts;
 *   simulate_send.c    the HTTP sender: libcurl transfers, answers, backoff;
 *   simulate_status.c  what the user reads on stderr: the load line, notes, the status line;
 *   cmd_simulate.c     the ticks: step the model, make the records, write or send them.
 */
#ifndef MSH_CLI_SIMULATE_H
#define MSH_CLI_SIMULATE_H

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "sim.h"

enum { F_POSITIONS, F_CREWS, F_GATES, F_SENSORS, F_INCIDENTS, F_BINS, F_N };
/** The feeds' names, as in URL/feeds/{feed}. */
extern const char *const msh_simulate_feed[F_N];
/** Kept and sent again after a failure: counts are deltas, incident changes are history. */
extern const int msh_simulate_keep[F_N];

#define RECORD_MAX 256              /* bytes a position record can take, with room to spare */
#define PENDING_LIMIT ((size_t)8 << 20)
#define RESP_LIMIT ((size_t)1 << 20)
#define MAX_SHOWN_REJECTIONS 5

/** Set by the signal handler (1, 2 on a second signal), read everywhere: the one mutable global, as signals need. */
extern volatile sig_atomic_t msh_simulate_stop;

typedef struct xfer {
    CURL *h;
    msh_buf body, resp;
    int feed;
    uint64_t records;
    int busy;
} xfer;

typedef struct stats {
    uint64_t generated, sent, accepted, rejected, http_errors, conn_errors, dropped;
    uint64_t by_feed[F_N];
} stats;

typedef struct sim_cmd {
    /* options */
    const char *url, *token;
    const char *token_file; /* --token-file: the token is read from it (never on the command line) */
    const char *schedule_out; /* --schedule-out: the run's group departures as a forecast schedule */
    FILE *schedule_f;         /* schedule_tmp, opened before the run, so that a path that cannot be written stops it first */
    char schedule_tmp[4096];  /* schedule_out + ".part": renamed over schedule_out once whole (an old plan stays
                               * until then: a run that fails or is stopped leaves it as it was) */
    char token_buf[512];
    int dry_run, fast, quiet, stamp_sim;
    double rate, speedup, duration;
    uint32_t batch, tick_ms, connections;
    uint64_t ticks;
    int feed_on[F_N];
    char run_id[32]; /* the default --run-id */
    /* state */
    msh_sim *sim;
    CURLM *multi;
    struct curl_slist *hdrs;
    char *urls[F_N];
    xfer *x;
    uint32_t nx;
    int curl_up;
    msh_buf pending[F_N];
    uint64_t pending_n[F_N];
    int inflight[F_N];
    double down_until, backoff;
    int down;
    int fatal, out_closed;
    int shown_rejections, shown_status[600];
    stats st, last;
    double t0, last_status;
} sim_cmd;

/* cmd_simulate.c */
/** Seconds on the monotonic clock. */
double msh_simulate_now(void);

/* simulate_args.c */
/**
 * Fill `c` and `so` with the defaults and the command line. Returns -1 to go on, or the exit
 * code (0 after --help, 2 on a usage error, said on stderr).
 */
int msh_simulate_args(int argc, char **argv, sim_cmd *c, msh_sim_opts *so);

/* simulate_send.c */
/** Start libcurl: the feed URLs, the headers, one transfer per connection and one more. -1 when it cannot (said). */
int msh_simulate_send_open(sim_cmd *c);
/** Let what is in flight land, for up to 5 s (a second Ctrl-C cuts this short). */
void msh_simulate_send_drain(sim_cmd *c);
/** Free what msh_simulate_send_open made (safe when it failed half-way or never ran). */
void msh_simulate_send_close(sim_cmd *c);
/** Let libcurl work for up to `wait` seconds (0: just what is ready). */
void msh_simulate_pump(sim_cmd *c, double wait);
/** A transfer with no request in flight; waits for one (NULL when stopping). */
xfer *msh_simulate_free_xfer(sim_cmd *c);
/** Send x->body to the feed's URL. */
void msh_simulate_start(sim_cmd *c, xfer *x, int feed, uint64_t records);

/* simulate_status.c */
/** A note of the model while loading (msh_sim_opts.note; ud: the sim_cmd). */
void msh_simulate_note(void *ud, const char *msg);
/** What was loaded and what will be done, once, after `load_s` seconds of loading. */
void msh_simulate_load_line(const sim_cmd *c, const msh_sim_opts *so, double load_s);
/** The status line: since the last one, or the whole run when `final`. */
void msh_simulate_status_line(sim_cmd *c, int final);

#endif
