/* render_gate.h: at most N PNG renders at once, admitted first come, first served.
 *
 * Design: the server runs more worker threads than cores (workers also wait in fdatasync for
 * feed batches), so without a gate 8 tile renders on 2 cores share them and every one takes 4
 * times as long: a z14 tile's p99 went from 20 ms to 53 ms. The gate admits as many renders as
 * there are cores (--render-threads) and queues the rest in arrival order (a ticket counter, not
 * a semaphore, whose wake-up order is unspecified), so a tile waits for the renders ahead of it
 * and then gets a whole core. Only CPU-bound drawing and encoding go through it; cache hits,
 * ETag checks and vector tiles never wait. After the wait a caller looks in the cache again: the
 * same tile may have been drawn meanwhile for another client (many screens asking for one tile
 * after a data change draw it once or twice, not once per screen).
 */
#ifndef MSH_RENDER_GATE_H
#define MSH_RENDER_GATE_H

#include <pthread.h>
#include <stdint.h>

typedef struct msh_render_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t next;   /* the next ticket to hand out */
    uint64_t done;   /* renders finished */
    unsigned slots;  /* renders at once */
    uint64_t waited; /* renders that had to queue (for /metrics) */
} msh_render_gate;

void msh_render_gate_init(msh_render_gate *g, unsigned slots);
void msh_render_gate_destroy(msh_render_gate *g);
/* Every enter is followed by one leave. */
/** Wait for a turn; returns the caller's ticket (0, 1, 2, ...: the order of arrival). */
uint64_t msh_render_gate_enter(msh_render_gate *g);
void msh_render_gate_leave(msh_render_gate *g);

#endif
