/* pgfront.c: the smallest fair HTTP front for PostGIS tiles (benchmark peer, not part of Mashaer).
 *
 * It does what Martin and pg_tileserv do per request, and nothing else: parse
 * /tiles/{layers}/{z}/{x}/{y}.mvt, take a connection from a fixed pool, run one prepared
 * statement that concatenates the per-layer tile functions made by bench/peers/postgis.sql
 * (tile_{layer}(z, x, y) -> bytea, ST_AsMVT over ST_AsMVTGeom), and answer 200 with the
 * bytes or 204 when the tile is empty.  Each pooled connection prepares one statement per
 * distinct layer list on first use, so later requests skip parsing and planning.
 *
 * Build (bench/run.sh does this):
 *   cc -O2 -Wall -o pgfront bench/peers/pgfront.c -I$(pg_config --includedir) -lpq -lmicrohttpd -lpthread
 * Run:
 *   pgfront --port 8081 --conninfo "host=127.0.0.1 port=5433 dbname=bench user=postgres" \
 *           [--pool 4] [--threads 4]
 * It prints "pgfront: listening on http://127.0.0.1:PORT" once ready and stops on SIGTERM/SIGINT.
 */
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_POOL 64
#define MAX_STMTS 32
#define MAX_LAYERS_LEN 512

typedef struct {
    PGconn *conn;
    int nstmts;
    char stmts[MAX_STMTS][MAX_LAYERS_LEN]; /* layer list of prepared statement "t<i>" */
    int busy;
} pooled;

typedef struct {
    pooled conns[MAX_POOL];
    int n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} pool;

static pool g_pool; /* one per process: this is a benchmark helper, not library code */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static pooled *pool_take(pool *p)
{
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (int i = 0; i < p->n; i++) {
            if (!p->conns[i].busy) {
                p->conns[i].busy = 1;
                pthread_mutex_unlock(&p->lock);
                return &p->conns[i];
            }
        }
        pthread_cond_wait(&p->cond, &p->lock);
    }
}

static void pool_give(pool *p, pooled *c)
{
    pthread_mutex_lock(&p->lock);
    c->busy = 0;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *ctype, const void *data,
                              size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return answer(conn, status, "text/plain", msg, strlen(msg));
}

/* Parse /tiles/{layers}/{z}/{x}/{y}.mvt; layers must be [a-z0-9_] names separated by commas. */
static int parse_path(const char *url, char *layers, size_t cap, int *z, int *x, int *y)
{
    if (strncmp(url, "/tiles/", 7))
        return -1;
    const char *s = url + 7;
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= cap || slash == s)
        return -1;
    for (const char *p = s; p < slash; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == ','))
            return -1;
    memcpy(layers, s, (size_t)(slash - s));
    layers[slash - s] = 0;
    char tail[8];
    if (sscanf(slash + 1, "%d/%d/%d%7s", z, x, y, tail) != 4 || strcmp(tail, ".mvt"))
        return -1;
    if (*z < 0 || *z > 24 || *x < 0 || *y < 0 || *x >= (1 << *z) || *y >= (1 << *z))
        return -1;
    return 0;
}

/* SELECT coalesce(tile_a($1,$2,$3),'') || coalesce(tile_b($1,$2,$3),'') ... */
static int build_sql(const char *layers, char *sql, size_t cap)
{
    size_t off = (size_t)snprintf(sql, cap, "SELECT ");
    const char *p = layers;
    int first = 1;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return -1;
        int w = snprintf(sql + off, cap - off, "%scoalesce(tile_%.*s($1::int,$2::int,$3::int),''::bytea)",
                         first ? "" : " || ", (int)n, p);
        if (w < 0 || (size_t)w >= cap - off)
            return -1;
        off += (size_t)w;
        first = 0;
        p += n;
        if (*p == ',')
            p++;
    }
    return first ? -1 : 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **ctx)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    (void)upload_size;
    if (!*ctx) { /* first call: headers only; answer on the second */
        *ctx = (void *)1;
        return MHD_YES;
    }
    if (strcmp(method, "GET"))
        return text(conn, 405, "GET only\n");
    char layers[MAX_LAYERS_LEN];
    int z, x, y;
    if (parse_path(url, layers, sizeof layers, &z, &x, &y))
        return text(conn, 404, "expected /tiles/{layers}/{z}/{x}/{y}.mvt\n");

    pooled *c = pool_take(&g_pool);
    char stmt[16];
    int k = -1;
    for (int i = 0; i < c->nstmts; i++)
        if (!strcmp(c->stmts[i], layers)) {
            k = i;
            break;
        }
    if (k < 0) {
        char sql[8192];
        if (c->nstmts == MAX_STMTS || build_sql(layers, sql, sizeof sql)) {
            pool_give(&g_pool, c);
            return text(conn, 400, "too many layer lists or bad layer list\n");
        }
        snprintf(stmt, sizeof stmt, "t%d", c->nstmts);
        PGresult *pr = PQprepare(c->conn, stmt, sql, 3, NULL);
        if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "prepare failed: %s", PQerrorMessage(c->conn));
            PQclear(pr);
            pool_give(&g_pool, c);
            return text(conn, 404, msg);
        }
        PQclear(pr);
        k = c->nstmts++;
        snprintf(c->stmts[k], sizeof c->stmts[k], "%s", layers);
    }
    snprintf(stmt, sizeof stmt, "t%d", k);
    char zs[12], xs[12], ys[12];
    snprintf(zs, sizeof zs, "%d", z);
    snprintf(xs, sizeof xs, "%d", x);
    snprintf(ys, sizeof ys, "%d", y);
    const char *params[3] = {zs, xs, ys};
    PGresult *res = PQexecPrepared(c->conn, stmt, 3, params, NULL, NULL, 1 /* binary result */);
    enum MHD_Result ret;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "query failed: %s", PQerrorMessage(c->conn));
        if (PQstatus(c->conn) == CONNECTION_BAD) {
            PQreset(c->conn);
            c->nstmts = 0;
        }
        ret = text(conn, 500, msg);
    } else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0) || PQgetlength(res, 0, 0) == 0) {
        ret = answer(conn, 204, NULL, "", 0);
    } else {
        ret = answer(conn, 200, "application/vnd.mapbox-vector-tile", PQgetvalue(res, 0, 0),
                     (size_t)PQgetlength(res, 0, 0));
    }
    PQclear(res);
    pool_give(&g_pool, c);
    return ret;
}

int main(int argc, char **argv)
{
    int port = 0, npool = 4, nthreads = 4;
    const char *conninfo = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pool") && i + 1 < argc)
            npool = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--conninfo") && i + 1 < argc)
            conninfo = argv[++i];
        else {
            fprintf(stderr, "usage: pgfront --port N --conninfo STR [--pool 4] [--threads 4]\n");
            return 2;
        }
    }
    if (!conninfo || port <= 0 || port > 65535 || npool < 1 || npool > MAX_POOL || nthreads < 1) {
        fprintf(stderr, "usage: pgfront --port N --conninfo STR [--pool 4] [--threads 4]\n");
        return 2;
    }
    pthread_mutex_init(&g_pool.lock, NULL);
    pthread_cond_init(&g_pool.cond, NULL);
    for (int i = 0; i < npool; i++) {
        g_pool.conns[i].conn = PQconnectdb(conninfo);
        if (PQstatus(g_pool.conns[i].conn) != CONNECTION_OK) {
            fprintf(stderr, "pgfront: cannot connect: %s", PQerrorMessage(g_pool.conns[i].conn));
            return 1;
        }
    }
    g_pool.n = npool;

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)nthreads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "pgfront: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("pgfront: listening on http://127.0.0.1:%d\n", port);
    fflush(stdout);
    while (!g_stop)
        pause();
    MHD_stop_daemon(d);
    for (int i = 0; i < g_pool.n; i++)
        PQfinish(g_pool.conns[i].conn);
    return 0;
}
