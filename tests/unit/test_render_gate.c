/* test_render_gate.c: the PNG render gate (server/render_gate.h) admits at most `slots` renders
 * at once, reaches that many under contention, and admits in order of arrival. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "http/render_gate.h"

#define THREADS 12
#define ROUNDS 40

typedef struct {
    msh_render_gate gate;
    pthread_mutex_t mu;
    int running, max_running;
    uint64_t admitted[THREADS * ROUNDS]; /* tickets in the order they got in */
    size_t nadmitted;
    int out_of_order; /* with one slot: a ticket admitted before a smaller one */
} shared;

static void *worker(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t = msh_render_gate_enter(&s->gate);
        pthread_mutex_lock(&s->mu);
        s->running++;
        if (s->running > s->max_running) s->max_running = s->running;
        if (s->nadmitted && s->gate.slots == 1 && t < s->admitted[s->nadmitted - 1]) s->out_of_order++;
        s->admitted[s->nadmitted++] = t;
        pthread_mutex_unlock(&s->mu);
        struct timespec ts = {0, 200 * 1000}; /* "render" for 0.2 ms */
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s->mu);
        s->running--;
        pthread_mutex_unlock(&s->mu);
        msh_render_gate_leave(&s->gate);
    }
    return NULL;
}

static void run(unsigned slots)
{
    static shared s;
    memset(&s, 0, sizeof s);
    msh_render_gate_init(&s.gate, slots);
    pthread_mutex_init(&s.mu, NULL);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, worker, &s) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    CHECK(s.nadmitted == THREADS * ROUNDS);
    CHECK(s.max_running <= (int)slots);
    CHECK(s.max_running == (int)slots); /* 12 threads on a few slots: every slot gets used */
    CHECK(s.gate.waited > 0);
    CHECK(s.gate.next == THREADS * ROUNDS && s.gate.done == THREADS * ROUNDS);
    if (slots == 1) CHECK(s.out_of_order == 0);
    /* with any number of slots, ticket t gets in only after all but slots - 1 earlier ones */
    for (size_t i = 0; i < s.nadmitted; i++) CHECK(s.admitted[i] < i + slots);
    msh_render_gate_destroy(&s.gate);
    pthread_mutex_destroy(&s.mu);
}

int main(void)
{
    run(1);
    run(2);
    run(3);
    /* no contention: nobody waits */
    msh_render_gate g;
    msh_render_gate_init(&g, 4);
    for (int i = 0; i < 10; i++) {
        CHECK(msh_render_gate_enter(&g) == (uint64_t)i);
        msh_render_gate_leave(&g);
    }
    CHECK(g.waited == 0);
    msh_render_gate_destroy(&g);
    CHECK_DONE();
}
