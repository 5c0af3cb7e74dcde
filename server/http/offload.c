/* offload.c: a small pool of job threads (see offload.h). */
#include "http/offload.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    struct job *next;
    void (*fn)(void *arg);
    void *arg;
} job;

struct msh_offload {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job queued, or stopping */
    pthread_cond_t idle; /* a job finished */
    job *head, *tail;
    unsigned running;    /* jobs taken from the queue and not finished */
    bool closing, stopping;
    pthread_t *threads;
    unsigned nthreads;
};

static void *worker(void *arg)
{
    msh_offload *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        if (!p->head)
            break; /* stopping, and nothing left */
        job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->mu);
        p->running--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

msh_offload *msh_offload_new(unsigned threads)
{
    msh_offload *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = calloc(threads ? threads : 1, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (unsigned i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (!p->nthreads) {
        msh_offload_free(p);
        return NULL;
    }
    return p;
}

bool msh_offload_submit(msh_offload *p, void (*fn)(void *arg), void *arg)
{
    job *j = malloc(sizeof *j);
    if (!j)
        return false;
    *j = (job){NULL, fn, arg};
    pthread_mutex_lock(&p->mu);
    bool ok = !p->closing;
    if (ok) {
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
    if (!ok)
        free(j);
    return ok;
}

void msh_offload_close(msh_offload *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    while (p->head || p->running)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void msh_offload_free(msh_offload *p)
{
    if (!p)
        return;
    msh_offload_close(p);
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
