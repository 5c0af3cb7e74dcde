/* cli_stop.c: the stop flag of the long commands (see cli_stop.h). */
#include "cli/cli_stop.h"

#include <string.h>

atomic_int msh_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&msh_cli_stop, 1);
}

void msh_cli_stop_catch(struct sigaction old[2])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    atomic_store(&msh_cli_stop, 0);
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
}

void msh_cli_stop_release(const struct sigaction old[2])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
}
