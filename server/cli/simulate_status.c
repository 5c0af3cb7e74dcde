/* simulate_status.c: what `mashaer simulate` tells the user on stderr: load line, notes, status line. */
#include <stdio.h>

#include "cli/simulate.h"
#include "core/msh_time.h"

/* "1,234,567" */
static const char *grouped(char *out, size_t cap, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && o + 2 < (int)cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
    return out;
}

void msh_simulate_note(void *ud, const char *msg)
{
    const sim_cmd *c = ud;
    if (!c->quiet)
        fprintf(stderr, "  note: %s\n", msg);
}

void msh_simulate_load_line(const sim_cmd *c, const msh_sim_opts *so, double load_s)
{
    if (c->quiet)
        return;
    msh_sim_stats ss;
    msh_sim_get_stats(c->sim, &ss);
    fprintf(stderr,
            "mashaer simulate: %u pilgrims in %llu groups, %u crews, walkway graph %u nodes, %u camps, %u gates, "
            "%u sensors, %u bins (%.1f s); %s %.0f positions/s, %.0fx time\n",
            so->pilgrims, (unsigned long long)ss.groups, so->crews, ss.net_nodes, ss.camps, ss.gates, ss.sensors, ss.bins,
            load_s, c->dry_run ? "writing" : "sending", c->rate, c->speedup);
}

void msh_simulate_status_line(sim_cmd *c, int final)
{
    double now = msh_simulate_now();
    msh_sim_stats ss;
    msh_sim_get_stats(c->sim, &ss);
    char line[1024], a[32], b[32], d[32];
    msh_time_parts lt; /* Makkah, UTC+3 */
    msh_time_split(ss.time_ms + 3 * 3600 * 1000LL, &lt);
    int n = snprintf(line, sizeof line, "%s %04d-%02d-%02d %02d:%02d Makkah |", final ? "done:" : "sim", lt.year,
                     lt.month, lt.day, lt.hour, lt.minute);
    for (int p = 0; p < MSH_SIM_NPHASES && n < (int)sizeof line - 64; p++)
        if (ss.in_phase[p])
            n += snprintf(line + n, sizeof line - (size_t)n, " %s %s", msh_sim_phase_name(p),
                          grouped(a, sizeof a, ss.in_phase[p]));
    double span = final ? now - c->t0 : now - c->last_status;
    uint64_t dsent = final ? c->st.sent : c->st.sent - c->last.sent;
    snprintf(line + n, sizeof line - (size_t)n,
             " | %s %s (%s/s) accepted %s rejected %llu | http errors %llu, connection errors %llu, dropped %llu |"
             " incidents open %u, max density %.1f/m2",
             c->dry_run ? "written" : "sent", grouped(a, sizeof a, c->st.sent),
             grouped(b, sizeof b, span > 0 ? (uint64_t)(dsent / span) : 0),
             c->dry_run ? "-" : grouped(d, sizeof d, c->st.accepted), (unsigned long long)c->st.rejected,
             (unsigned long long)c->st.http_errors, (unsigned long long)c->st.conn_errors,
             (unsigned long long)c->st.dropped, ss.incidents_open, ss.max_density);
    fprintf(stderr, "%s\n", line);
    c->last = c->st;
    c->last_status = now;
}
