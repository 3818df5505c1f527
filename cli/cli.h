/*
 * cli.h - the subcommands of the pyprof command, one file each, as git's
 * builtin/: main.c finds the one named on the command line and calls it
 * with argv[0] the subcommand's name.
 *
 * The cli/ files are the only ones that print to the user or exit.  Exit
 * status: 0, EXIT_INPUT for bad input (a file that cannot be read, a write
 * error), EXIT_USAGE for bad usage; `run` exits as its command did.
 */
#ifndef PYPROF_CLI_H
#define PYPROF_CLI_H

#define EXIT_INPUT 1
#define EXIT_USAGE 2

int cmd_report(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_attach(int argc, char **argv);

/* libpyprof.so (run.c): $PYPROF_LIB, else the build tree's when this
 * binary runs from it, else the installed one.  Owned by the caller. */
char *run_library(void);
int cmd_pack(int argc, char **argv);

#endif
