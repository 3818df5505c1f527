/*
 * main.c - the pyprof command: finds the subcommand and calls it (one file
 * each, declared in cli.h); only usage and --version are answered here.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cli/cli.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"report", cmd_report},
	{"info", cmd_info},
	{"run", cmd_run},
	{"diff", cmd_diff},
	{"top", cmd_top},
	{"dump", cmd_dump},
	{"ctl", cmd_ctl},
	{"attach", cmd_attach},
	{"pack", cmd_pack},
};

static void usage(FILE *f)
{
	fputs("Usage: pyprof COMMAND [OPTION...] [ARG...]\n"
	      "\n"
	      "A sampling profiler for CPython.\n"
	      "\n"
	      "Commands:\n"
	      "  report [OPTION...] FILE|DIR...        render a report from .pyprof files\n"
	      "  info FILE...                          describe .pyprof files\n"
	      "  run [OPTION...] -- COMMAND [ARG...]   profile COMMAND, then report\n"
	      "  diff [OPTION...] BASE NEW             compare two profiles by function\n"
	      "  top [OPTION...] PID|FILE              the hottest functions now, refreshed\n"
	      "  dump [OPTION...] PID|FILE             each thread's latest stack\n"
	      "  ctl PID start|stop|mark|status        control a process's recording\n"
	      "  attach [OPTION...] PID                start recording in a running CPython 3.14+\n"
	      "  pack [OPTION...] FILE...              pack finished files small for keeping\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help       show this help\n"
	      "  --version        show the version\n"
	      "\n"
	      "Run 'pyprof COMMAND --help' for the options of a command; see pyprof(1).\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *cmd;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C"); /* reports use "1.5", whatever the locale */
	g_set_prgname("pyprof");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("pyprof %s\n", PACKAGE_VERSION);
		return 0;
	}
	{
		/* GOption prints g_get_prgname() in "Usage:" */
		char *name = g_strconcat("pyprof ", cmd, NULL);
		g_set_prgname(name);
		g_free(name);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pyprof: unknown command '%s'\nTry 'pyprof --help'.\n", cmd);
	return EXIT_USAGE;
}
