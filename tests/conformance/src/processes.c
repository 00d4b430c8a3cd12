/*
 * processes: fork/vfork/clone, execve (argument limits, shebang scripts,
 * inherited state), wait4/waitid, pidfds, prctl, resource limits,
 * namespaces via unshare, sessions, scheduling and ptrace basics.
 *
 * The program re-executes itself ("/proc/self/exe --child <mode>") to observe
 * what a freshly exec'd image sees; those children print CASE lines too.
 * Pids are never printed: relations ("self", "parent", "child") are.
 */
#include "common.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <linux/sched.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

#define DIR_ "/tmp/cproc"
static const char *SELF = "/proc/self/exe";
static char self_path[256];

extern char **environ;

/* ---- exec'd child modes ---- */

static int child_main(int argc, char **argv)
{
	if (strcmp(argv[1], "--child script") == 0) {
		/*
		 * Invoked as a shebang interpreter: the kernel passed the whole
		 * optional argument as one string, then the script path, then
		 * the original argv[1..].
		 */
		char *b = sbuf();
		int k = 0;
		for (int i = 2; i < argc && k < 1800; i++) {
			const char *a = argv[i];
			if (strncmp(a, DIR_ "/", strlen(DIR_) + 1) == 0)
				a += strlen(DIR_) + 1;
			k += snprintf(b + k, 2048 - k, "%s[%s]", i > 2 ? "," : "", a);
		}
		CASE("exec.shebang_args", "argc=%d %s", argc, b);
		return 0;
	}
	const char *mode = argv[2];
	if (strcmp(mode, "argv") == 0) {
		char *b = sbuf();
		int k = 0;
		for (int i = 3; i < argc && k < 1800; i++)
			k += snprintf(b + k, 2048 - k, "%s[%s]", i > 3 ? "," : "", argv[i]);
		int nenv = 0;
		const char *cv = "unset";
		for (char **e = environ; *e; e++) {
			nenv++;
			if (strncmp(*e, "CONF_VAR=", 9) == 0)
				cv = *e + 9;
		}
		char name[64];
		snprintf(name, sizeof name, "exec.argv_env.%s", argv[0]);
		CASE(name, "argc=%d args=%s nenv=%d CONF_VAR=%s", argc, b, nenv, cv);
		return 0;
	}
	if (strcmp(mode, "inherit") == 0) {
		/* What survives execve: fds without CLOEXEC, masks, ignored signals. */
		CASE("exec.fd_no_cloexec_kept", "%s", r_(C(fcntl(10, F_GETFD))));
		CASE("exec.fd_cloexec_closed", "%s", r_(C(fcntl(11, F_GETFD))));
		sigset_t m;
		sigprocmask(SIG_BLOCK, NULL, &m);
		CASE("exec.sigmask_kept", "USR1=%d USR2=%d", sigismember(&m, SIGUSR1), sigismember(&m, SIGUSR2));
		struct sigaction sa;
		sigaction(SIGUSR2, NULL, &sa);
		CASE("exec.ignored_kept", "%s", sa.sa_handler == SIG_IGN ? "SIG_IGN" : sa.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");
		sigaction(SIGTERM, NULL, &sa);
		CASE("exec.handler_reset", "%s", sa.sa_handler == SIG_IGN ? "SIG_IGN" : sa.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");
		sigset_t p;
		sigpending(&p);
		CASE("exec.pending_kept", "USR1=%d", sigismember(&p, SIGUSR1));
		char name[32] = {0};
		prctl(PR_GET_NAME, name);
		CASE("exec.comm_is_basename", "%s", name);
		CASE("exec.umask_kept", "%04o", umask(0));
		CASE("exec.nnp_kept", "%s", r_(C(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0))));
		CASE("exec.pdeathsig_cleared", "%s", ({ int s = -1; prctl(PR_GET_PDEATHSIG, &s); s == 0 ? "0" : "kept"; }));
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		CASE("exec.rlimit_kept", "%llu", (unsigned long long)rl.rlim_cur);
		CASE("exec.dumpable", "%s", r_(C(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))));
		char cwd[256];
		CASE("exec.cwd_kept", "%s", getcwd(cwd, sizeof cwd) ? cwd : r_(-1));
		return 0;
	}
	if (strcmp(mode, "exit") == 0)
		return atoi(argv[3]);
	return 99;
}

/* ---- fork / vfork / clone ---- */

static volatile int shared_counter;

static int clone_fn(void *arg)
{
	shared_counter = 42;
	if (arg)
		close(*(int *)arg);
	return 7;
}

static void g_fork(void)
{
	pid_t me = getpid();
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		char r = getppid() == me ? 'P' : 'x';
		write(p[1], &r, 1);
		shared_counter = 1;
		_exit(42);
	}
	char r = 0;
	read(p[0], &r, 1);
	CASE("fork.child_ppid", "%s", r == 'P' ? "parent" : "other");
	CASE("fork.returns_child", "%s", c > 0 ? "positive" : r_(c));
	CASE("fork.exit_status", "%s", waitchild(c));
	CASE("fork.memory_separate", "%d", shared_counter);
	CASE("fork.gettid_eq_pid", "%d", (pid_t)syscall(SYS_gettid) == getpid());

	volatile int vf = 0;
	c = vfork();
	if (c == 0) {
		vf = 5;
		_exit(3);
	}
	CASE("vfork.shares_memory", "%d", vf);
	CASE("vfork.status", "%s", waitchild(c));

	/* clone with various flag combinations. */
	char *stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	char *top = stack + (1 << 16);
	shared_counter = 0;
	c = C(clone(clone_fn, top, CLONE_VM | SIGCHLD, NULL));
	{
		const char *st = c > 0 ? waitchild(c) : r_(c);
		CASE("clone.vm", "%s counter=%d", st, shared_counter);
	}
	shared_counter = 0;
	c = C(clone(clone_fn, top, SIGCHLD, NULL));
	{
		const char *st = c > 0 ? waitchild(c) : r_(c);
		CASE("clone.no_vm", "%s counter=%d", st, shared_counter);
	}
	int fd = dup(0);
	c = C(clone(clone_fn, top, CLONE_VM | CLONE_FILES | SIGCHLD, &fd));
	waitchild(c);
	CASE("clone.files_shared_close", "%s", r_(C(fcntl(fd, F_GETFD))));
	fd = dup(0);
	c = C(clone(clone_fn, top, CLONE_VM | SIGCHLD, &fd));
	waitchild(c);
	CASE("clone.files_private_close", "%s", r_(C(fcntl(fd, F_GETFD))));
	close(fd);
	T("clone.sighand_without_vm", clone(clone_fn, top, CLONE_SIGHAND | SIGCHLD, NULL));
	T("clone.thread_without_sighand", clone(clone_fn, top, CLONE_THREAD | CLONE_VM | SIGCHLD, NULL));
	T("clone.newns", ({ long x = clone(clone_fn, top, CLONE_NEWNS | SIGCHLD, NULL); if (x > 0) waitchild(x); x > 0 ? 0 : -1; }));
	T("clone.newuser", ({ long x = clone(clone_fn, top, CLONE_NEWUSER | SIGCHLD, NULL); if (x > 0) waitchild(x); x > 0 ? 0 : -1; }));
	T("clone.newpid", ({ long x = clone(clone_fn, top, CLONE_NEWPID | SIGCHLD, NULL); if (x > 0) waitchild(x); x > 0 ? 0 : -1; }));
	T("clone.fs_and_newns", clone(clone_fn, top, CLONE_FS | CLONE_NEWNS | SIGCHLD, NULL));
	{
		pid_t ptid = 0;
		c = C(clone(clone_fn, top, CLONE_VM | CLONE_PARENT_SETTID | SIGCHLD, NULL, &ptid));
		CASE("clone.parent_settid", "%s", ptid == c ? "match" : "mismatch");
		waitchild(c);
		int pidfd = -1;
		c = C(clone(clone_fn, top, CLONE_VM | CLONE_PIDFD | SIGCHLD, NULL, &pidfd));
		CASE("clone.pidfd", "%s pidfd=%s", c > 0 ? "ok" : r_(c), pidfd >= 0 ? "fd" : "none");
		if (c > 0)
			waitchild(c);
		if (pidfd >= 0)
			close(pidfd);
		T("clone.pidfd_with_detached", clone(clone_fn, top, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, NULL, &pidfd));
	}
	/* clone with a non-SIGCHLD exit signal needs __WALL/__WCLONE. */
	signal(SIGUSR1, SIG_IGN);
	c = clone(clone_fn, top, CLONE_VM | SIGUSR1, NULL);
	{
		int st;
		sleep_ms(20);
		long w = C(waitpid(c, &st, WNOHANG));
		CASE("clone.nonsigchld_waitpid_default", "%s", w == c ? "reaped" : r_(w));
		w = C(waitpid(c, &st, __WCLONE));
		CASE("clone.nonsigchld_wclone", "%s", w == c ? waitstatus(st) : r_(w));
	}
	/* clone3 */
	{
		struct clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.exit_signal = SIGCHLD;
		long x = C(syscall(SYS_clone3, &ca, sizeof ca));
		if (x == 0)
			_exit(9);
		CASE("clone3.basic", "%s %s", x > 0 ? "ok" : r_(x), x > 0 ? waitchild(x) : "");
		T("clone3.small_size", syscall(SYS_clone3, &ca, 8));
		ca.flags = CLONE_SIGHAND;
		T("clone3.bad_combo", syscall(SYS_clone3, &ca, sizeof ca));
		memset(&ca, 0, sizeof ca);
		ca.exit_signal = 200;
		T("clone3.bad_exit_signal", syscall(SYS_clone3, &ca, sizeof ca));
	}
	munmap(stack, 1 << 16);

	/* Threads: SYS_gettid differs from getpid; exit_group ends all. */
	c = fork();
	if (c == 0) {
		char *st2 = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		shared_counter = 0;
		long t = clone(clone_fn, st2 + (1 << 16), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
		for (int i = 0; i < 400 && shared_counter != 42; i++)
			sleep_ms(5);
		CASE("thread.created", "%s tid_differs=%d counter=%d", t > 0 ? "ok" : "fail", t != getpid(), shared_counter);
		T("thread.waitpid_thread", waitpid(t, NULL, WNOHANG));
		_exit(0);
	}
	CASE("thread.parent_status", "%s", waitchild(c));
}

static void term_handler(int sig)
{
	(void)sig;
}

/*
 * exec_in_child runs execve in a child so that an exec the sandbox lets
 * through does not replace the test process: the result is either the
 * errno of the failed exec or the exit status of what ran.
 */
static const char *exec_in_child(const char *path, char *const av[], char *const ev[])
{
	KEEP_E;
	int p[2];
	pipe2(p, O_CLOEXEC);
	pid_t c = fork();
	if (c == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execve(path, av, ev);
		int e = errno;
		write(p[1], &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	long n = read(p[0], &e, sizeof e);
	close(p[0]);
	const char *st = waitchild(c);
	if (n == sizeof e) {
		E = e;
		return RESTORE_E((const char *)(r_(-1)));
	}
	char *b = sbuf();
	snprintf(b, 2048, "executed: %s", st);
	return RESTORE_E((const char *)(b));
}

#define TEXEC(name, path, av, ev) CASE(name, "%s", exec_in_child(path, av, ev))

static void g_exec(void)
{
	rmtree(DIR_);
	mkdir(DIR_, 0755);
	pid_t c;
	/* argv and envp reach the new image. */
	c = fork();
	if (c == 0) {
		char *av[] = {"argv0", "--child", "argv", "a b", "", "c", NULL};
		char *ev[] = {"CONF_VAR=x=y", "OTHER=1", NULL};
		execve(self_path, av, ev);
		_exit(127);
	}
	CASE("exec.argv_status", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		char *av[] = {"emptyenv", "--child", "argv", NULL};
		char *ev[] = {NULL};
		execve(self_path, av, ev);
		_exit(127);
	}
	CASE("exec.empty_env_status", "%s", waitchild(c));
	/* One argument longer than MAX_ARG_STRLEN (32 pages). */
	{
		char *big = malloc(131073);
		memset(big, 'a', 131072);
		big[131072] = 0;
		char *av[] = {"x", "--child", "exit", "0", big, NULL};
		TEXEC("exec.arg_over_max_arg_strlen", self_path, av, environ);
		big[131071] = 0;
		c = fork();
		if (c == 0) {
			execve(self_path, av, environ);
			_exit(127);
		}
		CASE("exec.arg_at_max_arg_strlen", "%s", waitchild(c));
		free(big);
	}
	/* Total size beyond the stack-derived limit. */
	{
		int n = 200;
		char **av = calloc(n + 5, sizeof(char *));
		char *chunk = malloc(100001);
		memset(chunk, 'b', 100000);
		chunk[100000] = 0;
		av[0] = "x";
		av[1] = "--child";
		av[2] = "exit";
		av[3] = "0";
		for (int i = 0; i < n; i++)
			av[4 + i] = chunk;
		TEXEC("exec.total_args_e2big", self_path, av, environ);
		char **ev = calloc(n + 1, sizeof(char *));
		for (int i = 0; i < n; i++)
			ev[i] = chunk;
		char *av2[] = {"x", "--child", "exit", "0", NULL};
		TEXEC("exec.total_env_e2big", self_path, av2, ev);
		/* Many small arguments within the limit still work. */
		int m = 100000;
		char **av3 = calloc(m + 5, sizeof(char *));
		av3[0] = "x";
		av3[1] = "--child";
		av3[2] = "exit";
		av3[3] = "5";
		for (int i = 0; i < m; i++)
			av3[4 + i] = "s";
		c = fork();
		if (c == 0) {
			execve(self_path, av3, environ);
			_exit(127);
		}
		CASE("exec.many_small_args", "%s", waitchild(c));
	}
	{
		char *av[] = {"x", NULL};
		TEXEC("exec.missing", DIR_ "/missing", av, environ);
		TEXEC("exec.directory", DIR_, av, environ);
		writefile(DIR_ "/noexec", "#!/bin/sh\n", 0644);
		TEXEC("exec.no_x_bit", DIR_ "/noexec", av, environ);
		writefile(DIR_ "/garbage", "\x01\x02\x03garbage", 0755);
		TEXEC("exec.garbage", DIR_ "/garbage", av, environ);
		writefile(DIR_ "/empty", "", 0755);
		TEXEC("exec.empty_file", DIR_ "/empty", av, environ);
		writefile(DIR_ "/badinterp", "#!" DIR_ "/nointerp\n", 0755);
		TEXEC("exec.shebang_missing_interp", DIR_ "/badinterp", av, environ);
		writefile(DIR_ "/onlybang", "#!\n", 0755);
		TEXEC("exec.shebang_empty", DIR_ "/onlybang", av, environ);
		TEXEC("exec.through_file", DIR_ "/noexec/x", av, environ);
		writefile("/dev/shm/cproc-x", "#!/bin/sh\n", 0755);
		TEXEC("exec.dev_shm_noexec", "/dev/shm/cproc-x", av, environ);
		unlink("/dev/shm/cproc-x");
		/* Open for writing: ETXTBSY. */
		int w = open(DIR_ "/busy", O_CREAT | O_WRONLY, 0755);
		write(w, "#!/bin/sh\n", 10);
		TEXEC("exec.open_for_write", DIR_ "/busy", av, environ);
		close(w);
	}
	/* Shebang scripts. */
	{
		char script[512];
		snprintf(script, sizeof script, "#!%s --child script\n", self_path);
		/* The interpreter gets: interp, "--child script" as ONE arg, script path, args. */
		writefile(DIR_ "/s1", script, 0755);
		c = fork();
		if (c == 0) {
			char *av[] = {"s1-argv0", "one", "two", NULL};
			execve(DIR_ "/s1", av, environ);
			_exit(127);
		}
		CASE("exec.shebang_status", "%s", waitchild(c));
		/* Interpreter path only: self --child must come from argv here. */
		writefile(DIR_ "/s2", "#!/bin/sh\necho \"CASE processes.exec.shebang_sh_$CONF_TAG $# ${1#/tmp/cproc/}\"\n", 0755);
		c = fork();
		if (c == 0) {
			char *av[] = {"s2", "arg1", NULL};
			char *ev[] = {"CONF_TAG=direct", NULL};
			execve(DIR_ "/s2", av, ev);
			_exit(127);
		}
		CASE("exec.shebang_sh_status", "%s", waitchild(c));
		/* Script whose interpreter is another script. */
		writefile(DIR_ "/s3", "#!" DIR_ "/s2\n", 0755);
		c = fork();
		if (c == 0) {
			char *av[] = {"s3", NULL};
			char *ev[] = {"CONF_TAG=nested", NULL};
			execve(DIR_ "/s3", av, ev);
			_exit(127);
		}
		CASE("exec.shebang_nested_status", "%s", waitchild(c));
		/* Whitespace handling and a long line. */
		writefile(DIR_ "/s4", "#!   /bin/sh   \necho \"CASE processes.exec.shebang_spaces ok\"\n", 0755);
		c = fork();
		if (c == 0) {
			char *av[] = {"s4", NULL};
			execve(DIR_ "/s4", av, environ);
			_exit(127);
		}
		CASE("exec.shebang_spaces_status", "%s", waitchild(c));
		char longl[400];
		memset(longl, ' ', sizeof longl);
		memcpy(longl, "#!/bin/sh", 9);
		memcpy(longl + 380, "-x\n", 3);
		longl[383] = 0;
		writefile(DIR_ "/s5", longl, 0755);
		c = fork();
		if (c == 0) {
			int nul = open("/dev/null", O_WRONLY);
			dup2(nul, 2);
			char *av[] = {"s5", NULL};
			execve(DIR_ "/s5", av, environ);
			_exit(127);
		}
		CASE("exec.shebang_long_line", "%s", waitchild(c));
		/* Script loop. */
		writefile(DIR_ "/loop", "#!" DIR_ "/loop\n", 0755);
		char *av[] = {"loop", NULL};
		TEXEC("exec.shebang_loop", DIR_ "/loop", av, environ);
	}
	/* What crosses execve. */
	c = fork();
	if (c == 0) {
		dup2(0, 10);
		dup3(0, 11, O_CLOEXEC);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR1);
		sigprocmask(SIG_BLOCK, &m, NULL);
		raise(SIGUSR1);
		signal(SIGUSR2, SIG_IGN);
		signal(SIGTERM, term_handler);
		umask(027);
		prctl(PR_SET_PDEATHSIG, SIGUSR2);
		chdir(DIR_);
		char *av[] = {"renamed", "--child", "inherit", NULL};
		execve(self_path, av, environ);
		_exit(127);
	}
	CASE("exec.inherit_status", "%s", waitchild(c));
	/* execveat / fexecve */
	{
		int fd = open(self_path, O_RDONLY | O_CLOEXEC);
		c = fork();
		if (c == 0) {
			char *av[] = {"x", "--child", "exit", "11", NULL};
			syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
			_exit(100 + errno);
		}
		CASE("execveat.empty_path_cloexec_fd", "%s", waitchild(c));
		int pfd = open(self_path, O_PATH);
		c = fork();
		if (c == 0) {
			char *av[] = {"x", "--child", "exit", "12", NULL};
			syscall(SYS_execveat, pfd, "", av, environ, AT_EMPTY_PATH);
			_exit(100 + errno);
		}
		CASE("execveat.o_path_fd", "%s", waitchild(c));
		int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
		c = fork();
		if (c == 0) {
			char *av[] = {"x", "--child", "exit", "13", NULL};
			syscall(SYS_execveat, dfd, "exe", av, environ, 0);
			_exit(100 + errno);
		}
		CASE("execveat.relative", "%s", waitchild(c));
		char *av[] = {"x", NULL};
		T("execveat.bad_flags", syscall(SYS_execveat, fd, "", av, environ, 0x4));
		T("execveat.symlink_nofollow", syscall(SYS_execveat, AT_FDCWD, "/proc/self/exe", av, environ, AT_SYMLINK_NOFOLLOW));
		close(fd);
		close(pfd);
	}
	/* argv == NULL: the kernel substitutes an empty argv[0]. */
	c = fork();
	if (c == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		syscall(SYS_execve, "/bin/true", NULL, NULL);
		_exit(100 + errno);
	}
	CASE("exec.null_argv", "%s", waitchild(c));
	/* Exec from a multithreaded process kills the other threads. */
	c = fork();
	if (c == 0) {
		char *st = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		clone(clone_fn, st + (1 << 16), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, NULL);
		char *av[] = {"x", "--child", "exit", "14", NULL};
		execve(self_path, av, environ);
		_exit(127);
	}
	CASE("exec.from_thread_group", "%s", waitchild(c));
	rmtree(DIR_);
}

static void g_wait(void)
{
	pid_t c = fork();
	if (c == 0) {
		sleep_ms(200);
		_exit(1);
	}
	int st;
	T("waitpid.wnohang_running", waitpid(c, &st, WNOHANG));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	T("waitid.wnohang_running", waitid(P_PID, c, &si, WEXITED | WNOHANG));
	CASE("waitid.wnohang_running_pid", "%d", si.si_pid);
	kill(c, SIGKILL);
	memset(&si, 0, sizeof si);
	T("waitid.killed", waitid(P_PID, c, &si, WEXITED));
	CASE("waitid.killed_info", "code=%d status=%s pid=%s", si.si_code, signame(si.si_status), si.si_pid == c ? "child" : "other");

	c = fork();
	if (c == 0)
		_exit(77);
	memset(&si, 0, sizeof si);
	T("waitid.wnowait", waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	CASE("waitid.wnowait_info", "code=%d status=%d", si.si_code, si.si_status);
	memset(&si, 0, sizeof si);
	T("waitid.after_wnowait", waitid(P_PID, c, &si, WEXITED));
	CASE("waitid.after_wnowait_info", "code=%d status=%d uid=%d", si.si_code, si.si_status, si.si_uid);
	T("waitid.no_children", waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
	T("waitpid.no_children", waitpid(-1, &st, 0));
	T("waitid.no_options", waitid(P_ALL, 0, &si, 0));
	T("waitid.bad_idtype", waitid(99, 0, &si, WEXITED));
	T("waitpid.bad_options", waitpid(-1, &st, 0x1000000));

	/* Stop and continue. */
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGSTOP);
	long w = C(waitpid(c, &st, WUNTRACED));
	CASE("waitpid.stopped", "%s %s", w == c ? "child" : r_(w), waitstatus(st));
	kill(c, SIGCONT);
	w = C(waitpid(c, &st, WCONTINUED));
	CASE("waitpid.continued", "%s %s", w == c ? "child" : r_(w), waitstatus(st));
	kill(c, SIGSTOP);
	memset(&si, 0, sizeof si);
	waitid(P_PID, c, &si, WSTOPPED);
	CASE("waitid.stopped", "code=%d status=%s", si.si_code, signame(si.si_status));
	kill(c, SIGCONT);
	memset(&si, 0, sizeof si);
	waitid(P_PID, c, &si, WCONTINUED);
	CASE("waitid.continued", "code=%d status=%s", si.si_code, signame(si.si_status));
	kill(c, SIGTERM);
	CASE("waitpid.terminated", "%s", waitchild(c));

	/* wait4 rusage and process groups. */
	c = fork();
	if (c == 0) {
		/* Burn 100ms of CPU so that tick-based accounting sees it too. */
		while (now_ns(CLOCK_PROCESS_CPUTIME_ID) < 100000000LL)
			for (volatile int i = 0; i < 100000; i++)
				;
		_exit(0);
	}
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	w = C(wait4(c, &st, 0, &ru));
	CASE("wait4.rusage", "%s utime_or_stime>0=%d maxrss>0=%d", w == c ? "child" : r_(w), ru.ru_utime.tv_sec + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec > 0, ru.ru_maxrss > 0);
	getrusage(RUSAGE_CHILDREN, &ru);
	CASE("getrusage.children", "maxrss>0=%d", ru.ru_maxrss > 0);
	T("getrusage.bad_who", getrusage(99, &ru));
	T("getrusage.thread", getrusage(RUSAGE_THREAD, &ru));
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		sleep_ms(50);
		_exit(4);
	}
	setpgid(c, c);
	memset(&si, 0, sizeof si);
	T("waitid.p_pgid", waitid(P_PGID, c, &si, WEXITED));
	CASE("waitid.p_pgid_info", "code=%d status=%d", si.si_code, si.si_status);
	c = fork();
	if (c == 0)
		_exit(0);
	w = C(waitpid(-c, &st, 0));
	CASE("waitpid.negative_pgid_other_group", "%s", r_(w));
	waitpid(c, &st, 0);

	/* Zombie visible in /proc until reaped. */
	c = fork();
	if (c == 0)
		_exit(0);
	{
		/* Poll: under load the child may take a while to finish exiting. */
		char path[64], st = '?';
		snprintf(path, sizeof path, "/proc/%d/stat", c);
		for (int i = 0; i < 400 && st != 'Z'; i++) {
			char *s = readfile(path, NULL);
			char *q = s ? strrchr(s, ')') : NULL;
			st = q ? q[2] : '?';
			free(s);
			if (st != 'Z')
				sleep_ms(5);
		}
		CASE("zombie.proc_state", "%c", st);
	}
	waitchild(c);
	/* Orphans are reparented; with a subreaper, to it. */
	T("subreaper.set", prctl(PR_SET_CHILD_SUBREAPER, 1));
	int sr = -1;
	prctl(PR_GET_CHILD_SUBREAPER, &sr);
	CASE("subreaper.get", "%d", sr);
	int p[2];
	pipe(p);
	pid_t me = getpid();
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			/* Wait (bounded) for the middle process to be gone. */
			pid_t mid = getppid();
			for (int i = 0; i < 600 && getppid() == mid; i++)
				sleep_ms(5);
			char r = getppid() == me ? 'S' : 'x';
			write(p[1], &r, 1);
			_exit(0);
		}
		_exit(0);
	}
	waitchild(c);
	char r = 0;
	read(p[0], &r, 1);
	CASE("subreaper.orphan_reparented", "%s", r == 'S' ? "to subreaper" : "elsewhere");
	w = C(waitpid(-1, &st, 0));
	CASE("subreaper.reaps_orphan", "%s", w > 0 ? waitstatus(st) : r_(w));
}

static void g_pidfd(void)
{
	int self = TFD("pidfd_open.self", syscall(SYS_pidfd_open, getpid(), 0));
	CASE("pidfd_open.self_cloexec", "%ld", (long)fcntl(self, F_GETFD));
	T("pidfd_open.missing", syscall(SYS_pidfd_open, 999999, 0));
	T("pidfd_open.bad_flags", syscall(SYS_pidfd_open, getpid(), 1));
	T("pidfd_open.nonblock", ({ long f = syscall(SYS_pidfd_open, getpid(), PIDFD_NONBLOCK); f >= 0 ? 0 : -1; }));
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	int pfd = TFD("pidfd_open.child", syscall(SYS_pidfd_open, c, 0));
	struct pollfd_ {
		int fd;
		short events, revents;
	};
	T("pidfd_send_signal.zero", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
	T("pidfd_send_signal.bad_flags", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 1));
	T("pidfd_send_signal.non_pidfd", syscall(SYS_pidfd_send_signal, 0, SIGTERM, NULL, 0));
	T("pidfd_send_signal.term", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
	{
		extern int poll(void *, unsigned long, int);
		struct pollfd_ pf = {pfd, 1, 0};
		long r = C(poll(&pf, 1, 2000));
		CASE("pidfd.poll_after_exit", "%s revents=%#x", r_(r), pf.revents);
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	T("waitid.p_pidfd", waitid(3 /* P_PIDFD */, pfd, &si, WEXITED));
	CASE("waitid.p_pidfd_info", "code=%d status=%s", si.si_code, signame(si.si_status));
	T("pidfd_send_signal.after_reap", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
	close(pfd);
	c = fork();
	if (c == 0) {
		sleep_ms(5000);
		_exit(0);
	}
	pfd = syscall(SYS_pidfd_open, c, 0);
	int fd = open("/dev/null", O_RDONLY);
	(void)fd;
	T("pidfd_getfd.child", ({ long x = syscall(SYS_pidfd_getfd, pfd, 0, 0); x >= 0 ? 0 : -1; }));
	T("pidfd_getfd.bad_fd", syscall(SYS_pidfd_getfd, pfd, 555, 0));
	T("pidfd_getfd.bad_flags", syscall(SYS_pidfd_getfd, pfd, 0, 1));
	siginfo_t q;
	memset(&q, 0, sizeof q);
	q.si_signo = SIGKILL;
	q.si_code = SI_QUEUE;
	T("pidfd_send_signal.siginfo_queue", syscall(SYS_pidfd_send_signal, pfd, SIGKILL, &q, 0));
	CASE("pidfd.killed_status", "%s", waitchild(c));
	close(pfd);
	close(self);
}

static void g_prctl(void)
{
	char name[32] = {0};
	T("prctl.set_name", prctl(PR_SET_NAME, "conf-proc-name-long"));
	prctl(PR_GET_NAME, name);
	CASE("prctl.get_name_truncated", "%s", name);
	char *comm = readfile("/proc/self/comm", NULL);
	CASE("prctl.comm_file", "%s", comm ? comm : r_(-1));
	free(comm);
	{
		int fd = open("/proc/self/comm", O_WRONLY);
		long r = C(write(fd, "viafile", 7));
		close(fd);
		prctl(PR_GET_NAME, name);
		CASE("prctl.write_comm_file", "%s name=%s", r_(r), name);
	}
	int sig = -1;
	T("prctl.set_pdeathsig", prctl(PR_SET_PDEATHSIG, SIGUSR1));
	prctl(PR_GET_PDEATHSIG, &sig);
	CASE("prctl.get_pdeathsig", "%s", signame(sig));
	T("prctl.set_pdeathsig_bad", prctl(PR_SET_PDEATHSIG, 200));
	/* Parent dies: the child gets its death signal. */
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			sigset_t m;
			sigemptyset(&m);
			sigaddset(&m, SIGUSR2);
			sigprocmask(SIG_BLOCK, &m, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR2);
			write(p[1], "r", 1);
			struct timespec ts = {3, 0};
			int s = sigtimedwait(&m, NULL, &ts);
			char r = s == SIGUSR2 ? 'D' : 'x';
			write(p[1], &r, 1);
			_exit(0);
		}
		char ch;
		read(p[0], &ch, 1);
		_exit(0);
	}
	waitchild(c);
	char r = 0;
	read(p[0], &r, 1);
	CASE("prctl.pdeathsig_delivered", "%s", r == 'D' ? "yes" : "no");
	/* Fork clears the death signal. */
	c = fork();
	if (c == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		_exit(s);
	}
	CASE("prctl.pdeathsig_cleared_on_fork", "%s", waitchild(c));

	T("prctl.get_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T("prctl.set_no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	T("prctl.get_no_new_privs_after", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T("prctl.unset_no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T("prctl.set_no_new_privs_bad_args", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
	T("prctl.get_dumpable", prctl(PR_GET_DUMPABLE));
	T("prctl.set_dumpable_0", prctl(PR_SET_DUMPABLE, 0));
	T("prctl.get_dumpable_after", prctl(PR_GET_DUMPABLE));
	T("prctl.set_dumpable_2", prctl(PR_SET_DUMPABLE, 2));
	prctl(PR_SET_DUMPABLE, 1);
	T("prctl.get_keepcaps", prctl(PR_GET_KEEPCAPS));
	T("prctl.set_keepcaps", prctl(PR_SET_KEEPCAPS, 1));
	T("prctl.set_keepcaps_bad", prctl(PR_SET_KEEPCAPS, 2));
	T("prctl.get_seccomp", prctl(PR_GET_SECCOMP));
	T("prctl.capbset_read_chown", prctl(PR_CAPBSET_READ, 0));
	T("prctl.capbset_read_sys_admin", prctl(PR_CAPBSET_READ, 21));
	T("prctl.capbset_read_bad", prctl(PR_CAPBSET_READ, 100));
	T("prctl.get_timerslack", prctl(PR_GET_TIMERSLACK));
	T("prctl.set_timerslack", prctl(PR_SET_TIMERSLACK, 100000));
	T("prctl.get_timerslack_after", prctl(PR_GET_TIMERSLACK));
	T("prctl.get_thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	T("prctl.set_thp_disable", prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	T("prctl.get_child_subreaper_default", ({ int v = -1; prctl(PR_GET_CHILD_SUBREAPER, &v); v; }));
	T("prctl.set_mm", prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0x1000, 0, 0));
	T("prctl.bad_option", prctl(9999));
	T("prctl.get_securebits", prctl(PR_GET_SECUREBITS));
	T("prctl.get_tsc", ({ int v = -1; prctl(PR_GET_TSC, &v) < 0 ? -1 : v; }));
	T("prctl.get_endian", ({ int v = -1; prctl(PR_GET_ENDIAN, &v); }));
	T("prctl.get_fp_mode", prctl(PR_GET_FP_MODE));
	T("prctl.get_speculation_ssb", prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0) >= 0 ? 0 : -1);
	T("prctl.set_vma_anon_name", ({ void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, m, 4096, "conf"); }));
	T("prctl.mce_kill_get", prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	T("prctl.get_io_flusher", prctl(PR_GET_IO_FLUSHER, 0, 0, 0, 0));
	T("prctl.cap_ambient_is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0));
	T("prctl.get_name_bad_ptr", prctl(PR_GET_NAME, (void *)1));
	T("arch_prctl.get_fs", ({ unsigned long v = 0; syscall(SYS_arch_prctl, 0x1003, &v); }));
	T("arch_prctl.bad_code", syscall(SYS_arch_prctl, 0x9999, 0));
	T("arch_prctl.get_cpuid", syscall(SYS_arch_prctl, 0x1011, 0));
}

static void g_rlimit(void)
{
	static const struct {
		int res;
		const char *name;
	} rs[] = {{RLIMIT_CPU, "cpu"}, {RLIMIT_FSIZE, "fsize"}, {RLIMIT_DATA, "data"}, {RLIMIT_STACK, "stack"}, {RLIMIT_CORE, "core"}, {RLIMIT_RSS, "rss"}, {RLIMIT_NPROC, "nproc"}, {RLIMIT_NOFILE, "nofile"}, {RLIMIT_MEMLOCK, "memlock"}, {RLIMIT_AS, "as"}, {RLIMIT_LOCKS, "locks"}, {RLIMIT_SIGPENDING, "sigpending"}, {RLIMIT_MSGQUEUE, "msgqueue"}, {RLIMIT_NICE, "nice"}, {RLIMIT_RTPRIO, "rtprio"}, {RLIMIT_RTTIME, "rttime"}};
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		struct rlimit rl;
		char name[64];
		snprintf(name, sizeof name, "getrlimit.%s", rs[i].name);
		long r = C(getrlimit(rs[i].res, &rl));
		char cur[32], max[32];
		snprintf(cur, sizeof cur, rl.rlim_cur == RLIM_INFINITY ? "inf" : "%llu", (unsigned long long)rl.rlim_cur);
		snprintf(max, sizeof max, rl.rlim_max == RLIM_INFINITY ? "inf" : "%llu", (unsigned long long)rl.rlim_max);
		CASE(name, "%s cur=%s max=%s", r_(r), cur, max);
	}
	struct rlimit rl;
	T("getrlimit.bad_resource", getrlimit(99, &rl));
	getrlimit(RLIMIT_NOFILE, &rl);
	struct rlimit orig = rl;
	rl.rlim_cur = 100;
	T("setrlimit.lower_soft", setrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = rl.rlim_max + 1;
	T("setrlimit.soft_above_hard", setrlimit(RLIMIT_NOFILE, &rl));
	rl = orig;
	rl.rlim_max = orig.rlim_max + 1;
	T("setrlimit.raise_hard", setrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = rl.rlim_max = 2000000000;
	T("setrlimit.nofile_above_nr_open", setrlimit(RLIMIT_NOFILE, &rl));
	rl = orig;
	rl.rlim_max = orig.rlim_max - 1;
	rl.rlim_cur = rl.rlim_cur > rl.rlim_max ? rl.rlim_max : rl.rlim_cur;
	T("setrlimit.lower_hard", setrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_max = orig.rlim_max;
	T("setrlimit.raise_hard_back", setrlimit(RLIMIT_NOFILE, &rl));
	struct rlimit old;
	struct rlimit nw = {50, 60};
	T("prlimit.self_set", prlimit(0, RLIMIT_CORE, &nw, &old));
	T("prlimit.self_get", prlimit(getpid(), RLIMIT_CORE, NULL, &old));
	CASE("prlimit.self_get_value", "cur=%llu max=%llu", (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
	T("prlimit.missing_pid", prlimit(999999, RLIMIT_CORE, NULL, &old));
	pid_t c = fork();
	if (c == 0) {
		sleep_ms(2000);
		_exit(0);
	}
	nw.rlim_cur = nw.rlim_max = 10;
	T("prlimit.child_set", prlimit(c, RLIMIT_CORE, &nw, NULL));
	prlimit(c, RLIMIT_CORE, NULL, &old);
	CASE("prlimit.child_get", "cur=%llu", (unsigned long long)old.rlim_cur);
	kill(c, SIGKILL);
	waitchild(c);
	/* Exceeding RLIMIT_FSIZE: SIGXFSZ, or EFBIG when ignored. */
	c = fork();
	if (c == 0) {
		struct rlimit f = {10, 10};
		setrlimit(RLIMIT_FSIZE, &f);
		int fd = open("/tmp/cproc-fsize", O_CREAT | O_WRONLY | O_TRUNC, 0644);
		write(fd, "0123456789abc", 13);
		_exit(0);
	}
	CASE("rlimit_fsize.signal", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit f = {10, 10};
		setrlimit(RLIMIT_FSIZE, &f);
		int fd = open("/tmp/cproc-fsize", O_CREAT | O_WRONLY | O_TRUNC, 0644);
		long a = C(write(fd, "0123456789abc", 13));
		CASE("rlimit_fsize.partial_write", "%s", r_(a));
		long b = C(write(fd, "x", 1));
		CASE("rlimit_fsize.write_at_limit", "%s", r_(b));
		T("rlimit_fsize.ftruncate_over", ftruncate(fd, 100));
		_exit(0);
	}
	waitchild(c);
	unlink("/tmp/cproc-fsize");
	c = fork();
	if (c == 0) {
		struct rlimit a = {64 << 20, 64 << 20};
		setrlimit(RLIMIT_AS, &a);
		void *m = mmap(NULL, 128 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CASE("rlimit_as.mmap_over", "%s", m == MAP_FAILED ? "ENOMEM-ish failed" : "mapped");
		_exit(0);
	}
	waitchild(c);
	c = fork();
	if (c == 0) {
		struct rlimit a = {1, 1};
		setrlimit(RLIMIT_CPU, &a);
		for (volatile long i = 0;; i++)
			;
	}
	CASE("rlimit_cpu.exceeded", "%s", waitchild(c));
}

static void g_ns(void)
{
	static const struct {
		int flag;
		const char *name;
	} ns[] = {{CLONE_NEWNS, "newns"}, {CLONE_NEWUTS, "newuts"}, {CLONE_NEWIPC, "newipc"}, {CLONE_NEWNET, "newnet"}, {CLONE_NEWPID, "newpid"}, {CLONE_NEWCGROUP, "newcgroup"}, {CLONE_NEWUSER, "newuser"}, {0x80 /* CLONE_NEWTIME */, "newtime"}, {CLONE_FILES, "files"}, {CLONE_FS, "fs"}, {CLONE_SYSVSEM, "sysvsem"}, {CLONE_THREAD, "thread"}, {CLONE_SIGHAND, "sighand"}, {CLONE_VM, "vm"}};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		pid_t c = fork();
		if (c == 0) {
			long r = C(unshare(ns[i].flag));
			char name[64];
			snprintf(name, sizeof name, "unshare.%s", ns[i].name);
			CASE(name, "%s", r_(r));
			if (r == 0 && ns[i].flag == CLONE_NEWUSER) {
				CASE("unshare.newuser_ids", "uid=%d gid=%d", getuid(), getgid());
				char *m = readfile("/proc/self/uid_map", NULL);
				CASE("unshare.newuser_uid_map_empty", "%s", m && !*m ? "empty" : m ? "nonempty" : r_(-1));
				free(m);
				int fd = open("/proc/self/setgroups", O_WRONLY);
				long w = C(write(fd, "deny", 4));
				CASE("unshare.newuser_setgroups_deny", "%s", r_(w));
				close(fd);
				fd = open("/proc/self/uid_map", O_WRONLY);
				w = C(write(fd, "0 0 1", 5));
				CASE("unshare.newuser_write_uid_map", "%s", r_(w));
				close(fd);
				CASE("unshare.newuser_uid_after_map", "%d", getuid());
			}
			if (r == 0 && ns[i].flag == CLONE_NEWUTS) {
				T("unshare.newuts_sethostname", sethostname("confhost", 8));
			}
			if (r == 0 && ns[i].flag == CLONE_NEWPID) {
				pid_t g = fork();
				if (g == 0)
					_exit(getpid() == 1 ? 1 : 2);
				CASE("unshare.newpid_child_is_pid1", "%s", waitchild(g));
			}
			_exit(0);
		}
		waitchild(c);
	}
	T("unshare.bad_flag", unshare(0x1));
	T("unshare.zero", unshare(0));
	T("setns.bad_fd", setns(999, 0));
	{
		int fd = open("/proc/self/ns/uts", O_RDONLY);
		long r = C(setns(fd, CLONE_NEWUTS));
		CASE("setns.own_uts", "%s", r_(r));
		T("setns.wrong_type", setns(fd, CLONE_NEWNET));
		close(fd);
	}
	T("sethostname.no_cap", sethostname("x", 1));
	struct utsname u;
	uname(&u);
	CASE("uname.sysname", "%s", u.sysname);
	CASE("uname.machine", "%s", u.machine);
	CASE("uname.release", "%s", u.release);
	CASE("uname.nodename_nonempty", "%d", u.nodename[0] != 0);
	CASE("uname.domainname", "%s", u.domainname);
	T("chroot.tmp", ({ pid_t c = fork(); if (c == 0) _exit(chroot("/tmp") == 0 ? 0 : errno); int st; waitpid(c, &st, 0); WEXITSTATUS(st) ? -1 : 0; }));
	T("pivot_root.no_cap", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	T("mount.no_cap", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
	T("umount.no_cap", syscall(SYS_umount2, "/tmp", 0));
}

static void g_session(void)
{
	pid_t me = getpid();
	CASE("getsid.self", "%s", getsid(0) == me ? "self" : "other");
	CASE("getpgid.self", "%s", getpgid(0) == me ? "self" : "other");
	T("setsid.as_leader", setsid());
	T("getpgid.missing", getpgid(999999));
	T("getsid.missing", getsid(999999));
	pid_t c = fork();
	if (c == 0) {
		pid_t s = setsid();
		CASE("setsid.child", "%s", s == getpid() ? "new session" : r_(s));
		CASE("setsid.child_pgid", "%s", getpgid(0) == getpid() ? "self" : "other");
		T("setpgid.session_leader", setpgid(0, 0));
		T("setpgid.other_session_group", setpgid(0, getppid()));
		_exit(0);
	}
	waitchild(c);
	c = fork();
	if (c == 0) {
		sleep_ms(500);
		_exit(0);
	}
	T("setpgid.child", setpgid(c, c));
	T("setpgid.child_into_self", setpgid(c, me));
	T("setpgid.negative", setpgid(c, -1));
	T("setpgid.missing", setpgid(999999, 0));
	T("kill.process_group", kill(-c, SIGKILL) == 0 ? 0 : -1);
	CASE("kill.process_group_status", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		char *av[] = {"x", "--child", "exit", "0", NULL};
		execve(self_path, av, environ);
		_exit(127);
	}
	waitchild(c);
	T("setpgid.after_exec", setpgid(c, c));
	/* Scheduling. */
	T("sched_getscheduler", sched_getscheduler(0));
	struct sched_param sp = {.sched_priority = 10};
	T("sched_setscheduler.fifo", sched_setscheduler(0, SCHED_FIFO, &sp));
	sp.sched_priority = 0;
	T("sched_setscheduler.batch", sched_setscheduler(0, SCHED_BATCH, &sp));
	T("sched_getscheduler.after", sched_getscheduler(0));
	T("sched_setscheduler.idle", sched_setscheduler(0, SCHED_IDLE, &sp));
	T("sched_setscheduler.other", sched_setscheduler(0, SCHED_OTHER, &sp));
	T("sched_setscheduler.bad_policy", sched_setscheduler(0, 99, &sp));
	T("sched_get_priority_max.fifo", sched_get_priority_max(SCHED_FIFO));
	T("sched_get_priority_min.fifo", sched_get_priority_min(SCHED_FIFO));
	T("sched_get_priority_max.other", sched_get_priority_max(SCHED_OTHER));
	T("sched_get_priority_max.bad", sched_get_priority_max(99));
	T("sched_getparam", ({ struct sched_param q; sched_getparam(0, &q) < 0 ? -1 : q.sched_priority; }));
	T("sched_yield", sched_yield());
	{
		struct timespec ts;
		long r = C(sched_rr_get_interval(0, &ts));
		CASE("sched_rr_get_interval", "%s", r_(r));
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	long r = C(sched_getaffinity(0, sizeof set, &set));
	CASE("sched_getaffinity", "%s count=%d", r >= 0 ? "ok" : r_(r), CPU_COUNT(&set));
	CASE("sched_getaffinity.matches_nprocs_onln", "%d", CPU_COUNT(&set) == sysconf(_SC_NPROCESSORS_ONLN));
	T("sched_getaffinity.small_size", sched_getaffinity(0, 1, &set));
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	T("sched_setaffinity.cpu0", sched_setaffinity(0, sizeof one, &one));
	CPU_ZERO(&one);
	T("sched_setaffinity.empty", sched_setaffinity(0, sizeof one, &one));
	T("sched_setaffinity.restore", sched_setaffinity(0, sizeof set, &set));
	T("getpriority.self", ({ errno = 0; int p = getpriority(PRIO_PROCESS, 0); errno ? -1 : p; }));
	T("setpriority.raise_nice", setpriority(PRIO_PROCESS, 0, 5));
	T("setpriority.lower_nice", setpriority(PRIO_PROCESS, 0, -5));
	CASE("nice.plus1", "%s", ({ errno = 0; int n = nice(1); E = errno; char *b = sbuf(); snprintf(b, 2048, "nice=%d", n); E ? r_(-1) : (const char *)b; }));
	T("getcpu", ({ unsigned cpu = 999, node = 999; long x = syscall(SYS_getcpu, &cpu, &node, NULL); x < 0 ? x : (long)(cpu < 1024 && node == 0); }));
	T("personality.query", personality(0xffffffff));
	T("personality.set_linux", personality(0));
	T("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
	T("sched_setattr.deadline", ({ unsigned int a[14] = {56, 6 /* SCHED_DEADLINE */}; syscall(SYS_sched_setattr, 0, a, 0); }));
	T("sched_getattr", ({ unsigned int a[14] = {0}; long x = syscall(SYS_sched_getattr, 0, a, 56, 0); x < 0 ? x : (long)a[0]; }));
}

static void g_ptrace(void)
{
	static volatile long magic = 0x5a5a1234;
	long a;
	pid_t c = fork();
	if (c == 0) {
		long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
		if (r < 0)
			_exit(90);
		raise(SIGSTOP);
		magic = 0x77;
		_exit(5);
	}
	int st;
	long w = C(waitpid(c, &st, 0));
	CASE("ptrace.traceme_stop", "%s %s", w == c ? "child" : r_(w), waitstatus(st));
	if (w == c && WIFSTOPPED(st)) {
		errno = 0;
		long v = ptrace(PTRACE_PEEKDATA, c, (void *)&magic, 0);
		E = errno;
		CASE("ptrace.peekdata", "%s", E ? r_(-1) : v == 0x5a5a1234 ? "match" : "mismatch");
		T("ptrace.pokedata", ptrace(PTRACE_POKEDATA, c, (void *)&magic, (void *)0x1111));
		struct iovec liov = {&w, sizeof w}, riov = {(void *)&magic, sizeof magic};
		long pr = C(process_vm_readv(c, &liov, 1, &riov, 1, 0));
		CASE("process_vm_readv.traced_child", "%s value=%s", r_(pr), w == 0x1111 ? "poked" : "other");
		T("ptrace.getregs", ({ char regs[27 * 8]; ptrace(PTRACE_GETREGS, c, 0, regs); }));
		T("ptrace.setoptions", ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT));
		T("ptrace.cont", ptrace(PTRACE_CONT, c, 0, 0));
		w = waitpid(c, &st, 0);
		CASE("ptrace.exit_event", "%s event=%d", waitstatus(st), st >> 16);
		ptrace(PTRACE_CONT, c, 0, 0);
		w = waitpid(c, &st, 0);
		CASE("ptrace.final_status", "%s", waitstatus(st));
	} else if (w == c)
		;
	T("ptrace.attach_missing", ptrace(PTRACE_ATTACH, 999999, 0, 0));
	c = fork();
	if (c == 0) {
		sleep_ms(3000);
		_exit(0);
	}
	T("ptrace.peek_not_traced", ptrace(PTRACE_PEEKDATA, c, 0, 0));
	a = C(ptrace(PTRACE_ATTACH, c, 0, 0));
	CASE("ptrace.attach_child", "%s", r_(a));
	if (a == 0) {
		w = waitpid(c, &st, 0);
		CASE("ptrace.attach_stop", "%s", waitstatus(st));
		T("ptrace.detach_attached", ptrace(PTRACE_DETACH, c, 0, 0));
	}
	kill(c, SIGKILL);
	waitchild(c);
	c = fork();
	if (c == 0) {
		sleep_ms(3000);
		_exit(0);
	}
	a = C(ptrace(PTRACE_SEIZE, c, 0, 0));
	CASE("ptrace.seize_child", "%s", r_(a));
	if (a == 0) {
		T("ptrace.interrupt", ptrace(PTRACE_INTERRUPT, c, 0, 0));
		w = waitpid(c, &st, 0);
		CASE("ptrace.interrupt_stop", "%s event=%d", waitstatus(st), st >> 16);
		T("ptrace.detach", ptrace(PTRACE_DETACH, c, 0, 0));
	}
	kill(c, SIGKILL);
	waitchild(c);
}

int main(int argc, char **argv)
{
	g_area = "processes";
	if ((argc >= 3 && strcmp(argv[1], "--child") == 0) || (argc >= 2 && strcmp(argv[1], "--child script") == 0))
		return child_main(argc, argv);
	/* Exec tests need a stable path to this binary (not /proc/self/exe). */
	long n = readlink(SELF, self_path, sizeof self_path - 1);
	if (n > 0)
		self_path[n] = 0;
	else
		strcpy(self_path, SELF);
	signal(SIGPIPE, SIG_IGN);
	/* The program is the container's init; its groups run as children. */
	CASE("init.getpid_is_1", "%d", getpid() == 1);
	CASE("init.getppid_is_0", "%d", getppid() == 0);
	run_group("fork", g_fork, 20);
	run_group("exec", g_exec, 30);
	run_group("wait", g_wait, 20);
	run_group("pidfd", g_pidfd, 20);
	run_group("prctl", g_prctl, 20);
	run_group("rlimit", g_rlimit, 20);
	run_group("ns", g_ns, 20);
	run_group("session", g_session, 20);
	run_group("ptrace", g_ptrace, 20);
	return 0;
}
