/* render_gate.c: a fair counting gate for PNG renders (see render_gate.h). */
#include "http/render_gate.h"

#include <stdbool.h>

void msh_render_gate_init(msh_render_gate *g, unsigned slots)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->next = g->done = g->waited = 0;
    g->slots = slots ? slots : 1;
}

void msh_render_gate_destroy(msh_render_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

uint64_t msh_render_gate_enter(msh_render_gate *g)
{
    pthread_mutex_lock(&g->mu);
    /* tickets are admitted in order: ticket t runs once t - done < slots, i.e. once all but
     * slots - 1 of the renders admitted before it have finished */
    uint64_t t = g->next++;
    if (t >= g->done + g->slots) {
        g->waited++;
        while (t >= g->done + g->slots)
            pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return t;
}

void msh_render_gate_leave(msh_render_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->done++;
    bool waiters = g->next > g->done + g->slots - 1;
    pthread_mutex_unlock(&g->mu);
    if (waiters)
        pthread_cond_broadcast(&g->cv);
}
