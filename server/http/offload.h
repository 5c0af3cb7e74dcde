/* offload.h: the threads that run admitted expensive requests, off libmicrohttpd's workers.
 *
 * Design: each libmicrohttpd worker thread serves many connections in turn. A handler that
 * computes for seconds on it (an isochrone) stalls every other connection that thread holds:
 * a keep-alive connection of a web map, or a /health check it accepted a moment before. So a
 * request the admission gate lets through (admission.h) is handed to this pool: its connection
 * is suspended, a pool thread runs the handler, then resumes the connection, and the worker
 * thread queues the answer (http.c, defer.c). The pool has as many threads as --admit-slots:
 * the gate never admits more at once, so a job does not wait for a thread.
 *
 * Lock contract: `mu` guards the queue, `closing` and `running`; jobs run without it. After
 * msh_offload_close a submit is refused (the caller runs the job itself) and close returns
 * once every job submitted before it has run: no connection stays suspended when the HTTP
 * daemon stops.
 */
#ifndef MSH_OFFLOAD_H
#define MSH_OFFLOAD_H

#include <stdbool.h>

typedef struct msh_offload msh_offload;

/** A pool of `threads` threads; NULL when out of memory or no thread could start. */
msh_offload *msh_offload_new(unsigned threads);
/** Run fn(arg) on a pool thread; false (nothing queued) when the pool is closing or out of memory. */
bool msh_offload_submit(msh_offload *p, void (*fn)(void *arg), void *arg);
/** Refuse new jobs and wait for those queued and running. */
void msh_offload_close(msh_offload *p);
/** Close, stop and join the threads, free. NULL is a no-op. */
void msh_offload_free(msh_offload *p);

#endif
