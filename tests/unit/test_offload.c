/* test_offload.c: the offload pool (server/http/offload.h) runs every job submitted, at most
 * `threads` at once and all of them at the same time when there are that many; close waits
 * for the jobs queued and running, and a submit after it is refused (the caller runs the job). */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "http/offload.h"

#define JOBS 64
#define THREADS 3

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running, max_running, ran;
static bool release; /* the first THREADS jobs wait for it: all threads busy at once */

static void job(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    running++;
    if (running > max_running)
        max_running = running;
    pthread_cond_broadcast(&cv);
    while (!release)
        pthread_cond_wait(&cv, &mu);
    running--;
    ran++;
    pthread_mutex_unlock(&mu);
}

int main(void)
{
    msh_offload *p = msh_offload_new(THREADS);
    CHECK(p != NULL);
    for (int i = 0; i < JOBS; i++)
        CHECK(msh_offload_submit(p, job, NULL));
    /* barrier: every thread holds a job */
    pthread_mutex_lock(&mu);
    while (running < THREADS)
        pthread_cond_wait(&cv, &mu);
    release = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    msh_offload_close(p);
    CHECK(ran == JOBS);
    CHECK(max_running == THREADS);
    CHECK(!msh_offload_submit(p, job, NULL));
    msh_offload_free(p);
    msh_offload_free(NULL);
    CHECK_DONE();
}
