/* check.h: the few assertions the unit tests use. A failed check prints and counts; main returns the count. */
#ifndef MSH_CHECK_H
#define MSH_CHECK_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

static int g_checks, g_failed;

#define CHECK(cond)                                                                                         \
    do {                                                                                                    \
        g_checks++;                                                                                         \
        if (!(cond)) {                                                                                      \
            g_failed++;                                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                                   \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                               \
    do {                                                                                                    \
        double a_ = (a), b_ = (b);                                                                          \
        g_checks++;                                                                                         \
        if (!(fabs(a_ - b_) <= (tol))) {                                                                    \
            g_failed++;                                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s = %.12g, %s = %.12g (tolerance %g)\n", __FILE__,     \
                    __LINE__, #a, a_, #b, b_, (double)(tol));                                               \
        }                                                                                                   \
    } while (0)

/* Remove a folder of plain files (the tests' scratch folders). */
static inline void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[2048];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

#define CHECK_DONE()                                                                                        \
    do {                                                                                                    \
        printf("%d checks, %d failed\n", g_checks, g_failed);                                               \
        return g_failed ? 1 : 0;                                                                            \
    } while (0)

#endif
