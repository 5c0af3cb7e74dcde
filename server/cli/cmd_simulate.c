/* cmd_simulate.c: `mashaer simulate`, the main loop: step the crowd model, make and hand on each tick's records. */
/*
 * The crowd model is importers/sim; --dry-run writes the records to stdout. One thread does
 * everything: it steps the model once a tick, writes each batch straight into the body buffer of a
 * free transfer and hands it to the sender (simulate_send.c), which keeps the connections busy
 * while the next batch is made. The options are in simulate_args.c, the status line in
 * simulate_status.c (see simulate.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/simulate.h"
#include "core/msh_time.h"

const char *const msh_simulate_feed[F_N] = {"positions", "crews", "gates", "sensors", "incidents", "bins"};
const int msh_simulate_keep[F_N] = {0, 0, 1, 0, 1, 0};

volatile sig_atomic_t msh_simulate_stop;

static void on_signal(int sig)
{
    (void)sig;
    msh_simulate_stop = msh_simulate_stop ? 2 : 1;
}

double msh_simulate_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -1 when stdout is gone; a reader that closed the pipe (| head) is a normal end, not an error. */
static int out_write(sim_cmd *c, const msh_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len) {
        if (errno == EPIPE)
            c->out_closed = 1;
        else if (!msh_simulate_stop)
            fprintf(stderr, "mashaer simulate: cannot write to stdout: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- one tick */

static msh_rc emit_small(sim_cmd *c, int f, msh_buf *b, uint32_t *n, msh_err *err)
{
    switch (f) {
    case F_CREWS: return msh_sim_emit_crews(c->sim, b, n, err);
    case F_GATES: return msh_sim_emit_gates(c->sim, b, n, err);
    case F_SENSORS: return msh_sim_emit_sensors(c->sim, b, n, err);
    case F_BINS: return msh_sim_emit_bins(c->sim, b, n, err);
    default: return msh_sim_emit_incidents(c->sim, b, n, err);
    }
}

/* Forget the records of feed f waiting to be sent. */
static void drop_pending(sim_cmd *c, int f)
{
    c->st.dropped += c->pending_n[f];
    msh_buf_reset(&c->pending[f]);
    c->pending_n[f] = 0;
}

/* One small feed: its records of this tick, written or added to what waits, and sent when its
 * last request is done. -1 on an error (said), 1 when stopping, else 0. */
static int small_feed(sim_cmd *c, int f, int sending, msh_buf *dry)
{
    msh_err err;
    uint32_t n = 0;
    msh_buf *b = c->dry_run ? dry : &c->pending[f];
    if (c->dry_run)
        msh_buf_reset(dry);
    if (!c->feed_on[f])
        return 0;
    if (emit_small(c, f, b, &n, &err)) {
        if (err.code != MSH_ETOOBIG) {
            fprintf(stderr, "mashaer simulate: %s\n", err.msg);
            return -1;
        }
        drop_pending(c, f); /* the server has been away too long: start afresh */
        return 0;
    }
    c->st.generated += n;
    if (c->dry_run) {
        c->st.sent += n;
        c->st.by_feed[f] += n;
        return out_write(c, dry);
    }
    c->pending_n[f] += n;
    if (!msh_simulate_keep[f] && !sending) /* stale by the next tick anyway */
        drop_pending(c, f);
    if (!sending || c->inflight[f] || !c->pending[f].len)
        return 0;
    xfer *x = msh_simulate_free_xfer(c);
    if (!x)
        return 1;
    msh_buf t = x->body;
    x->body = c->pending[f];
    c->pending[f] = t;
    msh_buf_reset(&c->pending[f]);
    msh_simulate_start(c, x, f, c->pending_n[f]);
    c->pending_n[f] = 0;
    return 0;
}

/* This tick's quota of positions, in batches of --batch; -1 on an error (said). */
static int positions(sim_cmd *c, uint64_t quota, msh_buf *dry)
{
    msh_err err;
    while (quota && !msh_simulate_stop && !c->fatal) {
        uint32_t n = quota < c->batch ? (uint32_t)quota : c->batch, w;
        msh_buf *b = dry;
        xfer *x = NULL;
        if (!c->dry_run) {
            if (c->down && msh_simulate_now() < c->down_until) { /* went down during this tick */
                c->st.dropped += quota;
                break;
            }
            if (!(x = msh_simulate_free_xfer(c)))
                break;
            b = &x->body;
        }
        msh_buf_reset(b);
        if (msh_sim_emit_positions(c->sim, n, b, &w, &err)) {
            fprintf(stderr, "mashaer simulate: %s\n", err.msg);
            return -1;
        }
        c->st.generated += w;
        quota -= w;
        if (c->dry_run) {
            c->st.sent += w;
            c->st.by_feed[F_POSITIONS] += w;
            if (out_write(c, dry))
                return -1;
        } else {
            msh_simulate_start(c, x, F_POSITIONS, w);
            msh_simulate_pump(c, 0);
        }
    }
    return 0;
}

/* The records of one tick: the small feeds first (incidents and gates before the flood of
 * positions), then the positions. -1 on an error or a closed stdout. */
static int tick(sim_cmd *c, msh_sim_pacer *pacer, msh_buf *dry)
{
    int64_t stamp = c->stamp_sim ? msh_sim_time_ms(c->sim) : msh_now_ms();
    msh_sim_set_stamp(c->sim, stamp);
    int sending = !c->dry_run && !(c->down && msh_simulate_now() < c->down_until);
    static const int order[] = {F_INCIDENTS, F_GATES, F_CREWS, F_SENSORS, F_BINS};
    for (int k = 0; k < 5; k++) {
        int r = small_feed(c, order[k], sending, dry);
        if (r)
            return r < 0 ? -1 : 0;
    }
    uint64_t quota = msh_sim_pacer_next(pacer);
    if (!c->feed_on[F_POSITIONS])
        return 0;
    if (!c->dry_run && !sending) {
        c->st.dropped += quota;
        return 0;
    }
    return positions(c, quota, dry);
}

/* ---------------------------------------------------------------- the loop */

/* Until the wall clock reaches `deadline` (or at once with --fast), letting the transfers run and
 * the status line come every 5 s. */
static void wait_tick(sim_cmd *c, double deadline)
{
    do {
        double now = msh_simulate_now(), left = deadline - now;
        if (c->duration > 0 && now - c->t0 >= c->duration)
            break;
        if (!c->quiet && now - c->last_status >= 5)
            msh_simulate_status_line(c, 0);
        if (c->fast || left <= 0) {
            if (!c->dry_run)
                msh_simulate_pump(c, 0);
            break;
        }
        if (c->dry_run) {
            double w = left < 0.2 ? left : 0.2;
            struct timespec ts = {(time_t)w, (long)((w - (time_t)w) * 1e9)};
            nanosleep(&ts, NULL);
        } else {
            msh_simulate_pump(c, left < 0.2 ? left : 0.2);
        }
    } while (!msh_simulate_stop && !c->fatal);
}

/* Tick until stopped, done (--ticks, --duration) or failed; the exit code. */
static int run(sim_cmd *c, msh_buf *dry)
{
    msh_err err;
    msh_sim_pacer pacer;
    msh_sim_pacer_init(&pacer, c->rate, c->tick_ms);
    double tick_s = c->tick_ms / 1000.0;
    c->t0 = c->last_status = msh_simulate_now();
    int rc = 0;
    for (uint64_t k = 0; !msh_simulate_stop && !c->fatal; k++) {
        if (c->ticks && k >= c->ticks)
            break;
        if (c->duration > 0 && msh_simulate_now() - c->t0 >= c->duration)
            break;
        if (msh_sim_step(c->sim, tick_s * c->speedup, &err)) {
            fprintf(stderr, "mashaer simulate: %s\n", err.msg);
            rc = 1;
            break;
        }
        if (tick(c, &pacer, dry)) {
            rc = c->out_closed || msh_simulate_stop ? 0 : 1;
            break;
        }
        if (c->dry_run && fflush(stdout) && errno == EPIPE)
            break;
        wait_tick(c, c->t0 + (double)(k + 1) * tick_s);
    }
    return c->fatal ? 1 : rc;
}

/* --schedule-out: the departures the run made, into the file opened before it (closed here); -1 when
 * it cannot be written (said). */
static int write_schedule(sim_cmd *c)
{
    msh_err err;
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    int rc = msh_sim_write_schedule(c->sim, &b, &err) ? -1 : 0;
    if (rc)
        fprintf(stderr, "mashaer simulate: --schedule-out: %s\n", err.msg);
    FILE *f = c->schedule_f;
    c->schedule_f = NULL;
    if (!rc && fwrite(b.data, 1, b.len, f) != b.len) {
        fprintf(stderr, "mashaer simulate: cannot write %s: %s\n", c->schedule_out, strerror(errno));
        rc = -1;
    }
    if (fclose(f) && !rc) {
        fprintf(stderr, "mashaer simulate: cannot write %s: %s\n", c->schedule_out, strerror(errno));
        rc = -1;
    }
    if (!rc && rename(c->schedule_tmp, c->schedule_out)) {
        fprintf(stderr, "mashaer simulate: cannot write %s: %s\n", c->schedule_out, strerror(errno));
        rc = -1;
    }
    if (rc)
        unlink(c->schedule_tmp);
    msh_buf_free(&b);
    uint64_t written, off_net, dropped;
    msh_sim_departure_counts(c->sim, &written, &off_net, &dropped);
    if (!rc && !c->quiet)
        fprintf(stderr, "mashaer simulate: %llu group departures written to %s (%llu across open ground left out)\n",
                (unsigned long long)written, c->schedule_out, (unsigned long long)off_net);
    if (dropped)
        fprintf(stderr, "mashaer simulate: --schedule-out: %llu departures past the first %llu were not written\n",
                (unsigned long long)dropped, (unsigned long long)written);
    return rc;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    msh_simulate_stop = 0;
}

int msh_cmd_simulate(int argc, char **argv)
{
    sim_cmd c;
    memset(&c, 0, sizeof c);
    msh_sim_opts so;
    int rc = msh_simulate_args(argc, argv, &c, &so);
    if (rc >= 0)
        return rc;
    if (c.schedule_out) {
        if ((size_t)snprintf(c.schedule_tmp, sizeof c.schedule_tmp, "%s.part", c.schedule_out) >= sizeof c.schedule_tmp) {
            fprintf(stderr, "mashaer simulate: --schedule-out: the path is too long\n");
            return 2;
        }
        if (!(c.schedule_f = fopen(c.schedule_tmp, "w"))) {
            fprintf(stderr, "mashaer simulate: --schedule-out: cannot write %s: %s\n", c.schedule_tmp, strerror(errno));
            return 2;
        }
    }
    rc = 1;
    catch_signals();
    msh_buf dry;
    msh_buf_init(&dry, (size_t)c.batch * RECORD_MAX + ((size_t)8 << 20));
    for (int f = 0; f < F_N; f++)
        msh_buf_init(&c.pending[f], PENDING_LIMIT);
    so.note = msh_simulate_note;
    so.ud = &c;
    msh_err err;
    double t_load = msh_simulate_now();
    if (msh_sim_create(&so, &c.sim, &err)) {
        fprintf(stderr, "mashaer simulate: %s\n", err.msg);
    } else {
        msh_simulate_load_line(&c, &so, msh_simulate_now() - t_load);
        if (c.schedule_out)
            msh_sim_log_departures(c.sim);
        if (c.dry_run || !msh_simulate_send_open(&c)) {
            rc = run(&c, &dry);
            if (c.schedule_out && write_schedule(&c))
                rc = 1;
            if (!c.dry_run)
                msh_simulate_send_drain(&c);
            if (!c.quiet)
                msh_simulate_status_line(&c, 1);
        }
    }
    if (c.schedule_f) { /* the model did not load: no run, no schedule (the old one, if any, stays) */
        fclose(c.schedule_f);
        unlink(c.schedule_tmp);
    }
    msh_simulate_send_close(&c);
    for (int f = 0; f < F_N; f++)
        msh_buf_free(&c.pending[f]);
    msh_buf_free(&dry);
    msh_sim_destroy(c.sim);
    return rc;
}
