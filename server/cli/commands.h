/* commands.h: the subcommands of the `mashaer` program. Each returns a process exit code. */
#ifndef MSH_COMMANDS_H
#define MSH_COMMANDS_H

int msh_cmd_serve(int argc, char **argv);
int msh_cmd_import(int argc, char **argv);
int msh_cmd_layers(int argc, char **argv);
int msh_cmd_token(int argc, char **argv);
int msh_cmd_simulate(int argc, char **argv);
int msh_cmd_render(int argc, char **argv);
int msh_cmd_export(int argc, char **argv);
int msh_cmd_package(int argc, char **argv);

#endif
