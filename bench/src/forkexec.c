/*
 * forkexec: process creation latency, fork + execve + waitpid of a tiny
 * static program (nop, built beside this one), so no dynamic loader or
 * shell start-up is measured; "fork" alone (child _exits at once) splits out
 * the exec part.
 *
 *   forkexec exec N [PROGRAM]   PROGRAM defaults to nop next to argv[0]
 *   forkexec fork N
 */
#include "common.h"

#include <sys/wait.h>
#include <unistd.h>

static char prog[4096];
static int do_exec;

static void op_spawn(long long n, void *arg)
{
	(void)arg;
	char *const child_argv[] = {prog, NULL};
	char *const child_env[] = {NULL};
	for (long long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			if (do_exec) {
				execve(prog, child_argv, child_env);
				_exit(127);
			}
			_exit(0);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "child failed (status %d): %s\n", status, prog);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s exec|fork N [PROGRAM]\n", argv[0]);
		return 2;
	}
	do_exec = strcmp(argv[1], "exec") == 0;
	if (!do_exec && strcmp(argv[1], "fork") != 0) {
		fprintf(stderr, "unknown op %s\n", argv[1]);
		return 2;
	}
	long long n = parse_n(argv[2]);
	if (argc > 3) {
		snprintf(prog, sizeof prog, "%s", argv[3]);
	} else {
		/* nop lives in the same directory as this binary. */
		snprintf(prog, sizeof prog, "%s", argv[0]);
		char *slash = strrchr(prog, '/');
		size_t dir = slash ? (size_t)(slash - prog + 1) : 0;
		snprintf(prog + dir, sizeof prog - dir, "nop");
	}
	measure(do_exec ? "fork_exec_wait" : "fork_wait", n, op_spawn, NULL);
	return 0;
}
