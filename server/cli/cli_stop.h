/* cli_stop.h: a long command's clean stop: Ctrl-C or SIGTERM sets a flag the work checks (the
 * export's workers at each chunk), so the command removes what it half wrote and exits 130. */
#ifndef MSH_CLI_STOP_H
#define MSH_CLI_STOP_H

#include <signal.h>
#include <stdatomic.h>

/** Set by SIGINT or SIGTERM between msh_cli_stop_catch and msh_cli_stop_release. */
extern atomic_int msh_cli_stop;

/** Clear the flag and catch SIGINT and SIGTERM; old[0], old[1] keep the handlers there were. */
void msh_cli_stop_catch(struct sigaction old[2]);
/** Put the handlers back. */
void msh_cli_stop_release(const struct sigaction old[2]);

#endif
