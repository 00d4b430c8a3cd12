/*
 * signals: dispositions and sigaction flags, masks and pending sets,
 * queueing of standard vs real-time signals, alternate stacks, the kill
 * family and rt_sigqueueinfo, SIGCHLD/SIGPIPE semantics, sigsuspend and
 * sigtimedwait, and synchronous fault signals.
 */
#include "common.h"

#include <pthread.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <ucontext.h>

static volatile int hits, last_sig, last_code, last_int, blocked_inside, nested_max, depth;
static volatile int last_pid_self, last_status;
static volatile int order[16], norder;

static void reset(void)
{
	hits = last_sig = last_code = last_int = blocked_inside = nested_max = depth = 0;
	norder = 0;
}

static void h_count(int sig)
{
	hits++;
	last_sig = sig;
	if (norder < 16)
		order[norder++] = sig;
}

static void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_int = si->si_value.sival_int;
	last_pid_self = si->si_pid == getpid();
	last_status = si->si_status;
}

static void h_mask(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	blocked_inside = (sigismember(&cur, sig) ? 1 : 0) | (sigismember(&cur, SIGUSR2) ? 2 : 0);
	hits++;
}

static volatile int raised;

/* Raises itself twice: nests with SA_NODEFER, runs sequentially without. */
static void h_nest(int sig)
{
	depth++;
	if (depth > nested_max)
		nested_max = depth;
	if (raised < 2) {
		raised++;
		raise(sig);
	}
	depth--;
	hits++;
}

static int set(int sig, void (*h)(int), int flags)
{
	struct sigaction sa = {.sa_handler = h, .sa_flags = flags};
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static int seti(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = {.sa_sigaction = h, .sa_flags = flags | SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static const char *disp(int sig)
{
	KEEP_E;
	struct sigaction sa;
	if (C(sigaction(sig, NULL, &sa)) < 0)
		return RESTORE_E((const char *)(r_(-1)));
	char *b = sbuf();
	const char *h = sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" : "handler";
	/* SA_RESTORER is glibc's business; hide it. */
	snprintf(b, 2048, "%s flags=%#x", h, sa.sa_flags & ~0x04000000);
	return RESTORE_E((const char *)(b));
}

static void g_sigaction(void)
{
	reset();
	T("sigaction.install", set(SIGUSR1, h_count, 0));
	CASE("sigaction.query", "%s", disp(SIGUSR1));
	raise(SIGUSR1);
	CASE("sigaction.delivered", "hits=%d sig=%s", hits, signame(last_sig));
	T("sigaction.sigkill", set(SIGKILL, h_count, 0));
	T("sigaction.sigstop", set(SIGSTOP, h_count, 0));
	T("sigaction.sigkill_ign", set(SIGKILL, SIG_IGN, 0));
	T("sigaction.sigkill_query", ({ struct sigaction o; sigaction(SIGKILL, NULL, &o); }));
	T("sigaction.sig0", set(0, h_count, 0));
	T("sigaction.sig65", set(65, h_count, 0));
	T("sigaction.rtmax", set(SIGRTMAX, h_count, 0));
	T("sigaction.unknown_flag", set(SIGUSR2, h_count, 0x00000100));
	CASE("sigaction.unknown_flag_query", "%s", disp(SIGUSR2));
	T("rt_sigaction.bad_sigsetsize", ({ struct sigaction sa = {0}; syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 4); }));

	/* SA_SIGINFO: si_code by origin. */
	reset();
	seti(SIGUSR1, h_info, 0);
	raise(SIGUSR1);
	CASE("siginfo.raise", "code=%d self=%d", last_code, last_pid_self);
	kill(getpid(), SIGUSR1);
	CASE("siginfo.kill", "code=%d self=%d", last_code, last_pid_self);
	union sigval v = {.sival_int = 4242};
	sigqueue(getpid(), SIGUSR1, v);
	CASE("siginfo.sigqueue", "code=%d int=%d self=%d", last_code, last_int, last_pid_self);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	CASE("siginfo.tgkill", "code=%d", last_code);

	/* SA_RESETHAND restores SIG_DFL after one delivery; implies NODEFER. */
	reset();
	set(SIGUSR1, h_mask, SA_RESETHAND);
	raise(SIGUSR1);
	CASE("sa_resethand.after", "%s hits=%d blocked_inside=%d", disp(SIGUSR1), hits, blocked_inside);
	/* Default: the signal is blocked inside its handler. */
	reset();
	set(SIGUSR1, h_mask, 0);
	raise(SIGUSR1);
	CASE("handler.self_blocked", "%d", blocked_inside);
	reset();
	set(SIGUSR1, h_mask, SA_NODEFER);
	raise(SIGUSR1);
	CASE("sa_nodefer.not_blocked", "%d", blocked_inside);
	reset();
	{
		struct sigaction sa = {.sa_handler = h_mask};
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGUSR2);
		sigaction(SIGUSR1, &sa, NULL);
		raise(SIGUSR1);
		CASE("sa_mask.applied", "%d", blocked_inside);
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		CASE("sa_mask.restored", "%d", sigismember(&cur, SIGUSR2));
	}
	reset();
	raised = 0;
	set(SIGUSR1, h_nest, SA_NODEFER);
	raise(SIGUSR1);
	CASE("sa_nodefer.nesting", "depth=%d hits=%d", nested_max, hits);
	reset();
	raised = 0;
	set(SIGUSR1, h_nest, 0);
	raise(SIGUSR1);
	CASE("defer.nesting", "depth=%d hits=%d", nested_max, hits);

	/* SA_RESTART: a blocking read interrupted by a handled signal. */
	for (int restart = 0; restart < 2; restart++) {
		int p[2];
		pipe(p);
		set(SIGALRM, h_count, restart ? SA_RESTART : 0);
		pid_t c = fork();
		if (c == 0) {
			sleep_ms(300);
			write(p[1], "late", 4);
			_exit(0);
		}
		struct itimerval it = {{0, 0}, {0, 50000}};
		setitimer(ITIMER_REAL, &it, NULL);
		char buf[8];
		long r = C(read(p[0], buf, sizeof buf));
		CASE(restart ? "sa_restart.read_restarted" : "sa_restart.read_eintr", "%s", r < 0 ? r_(r) : quoted(buf, r));
		waitchild(c);
		close(p[0]);
		close(p[1]);
	}
	/* nanosleep is never restarted with SA_RESTART (returns EINTR). */
	set(SIGALRM, h_count, SA_RESTART);
	{
		struct itimerval it = {{0, 0}, {0, 30000}};
		setitimer(ITIMER_REAL, &it, NULL);
		struct timespec ts = {1, 0}, rem = {0, 0};
		long r = C(nanosleep(&ts, &rem));
		CASE("sa_restart.nanosleep_eintr", "%s rem_positive=%d", r_(r), rem.tv_sec > 0 || rem.tv_nsec > 0);
	}
	/* Ignoring SIGCHLD: children are reaped automatically. */
	signal(SIGCHLD, SIG_IGN);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	sleep_ms(50);
	T("sigchld_ign.wait_echild", waitpid(c, NULL, 0));
	signal(SIGCHLD, SIG_DFL);
	{
		struct sigaction sa = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
		sigaction(SIGCHLD, &sa, NULL);
		c = fork();
		if (c == 0)
			_exit(0);
		sleep_ms(50);
		T("sa_nocldwait.wait_echild", waitpid(c, NULL, 0));
		sa.sa_flags = 0;
		sigaction(SIGCHLD, &sa, NULL);
	}
}

static void g_masks(void)
{
	reset();
	set(SIGUSR1, h_count, 0);
	sigset_t m, old, pend;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	T("sigprocmask.block", sigprocmask(SIG_BLOCK, &m, &old));
	raise(SIGUSR1);
	sigpending(&pend);
	CASE("sigpending.blocked_raised", "pending=%d hits=%d", sigismember(&pend, SIGUSR1), hits);
	raise(SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	CASE("sigprocmask.unblock_delivers_once", "hits=%d", hits);
	sigfillset(&m);
	sigprocmask(SIG_SETMASK, &m, NULL);
	sigprocmask(SIG_SETMASK, NULL, &old);
	CASE("sigprocmask.kill_stop_unblockable", "KILL=%d STOP=%d USR1=%d", sigismember(&old, SIGKILL), sigismember(&old, SIGSTOP), sigismember(&old, SIGUSR1));
	sigemptyset(&m);
	sigprocmask(SIG_SETMASK, &m, NULL);
	T("sigprocmask.bad_how", sigprocmask(99, &m, NULL));
	T("rt_sigprocmask.bad_size", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, NULL, 4));
	T("rt_sigpending.bad_size", syscall(SYS_rt_sigpending, &pend, 4));

	/* Real-time signals queue; standard ones coalesce. */
	reset();
	set(SIGRTMIN, h_count, 0);
	set(SIGRTMIN + 1, h_count, 0);
	set(SIGUSR1, h_count, 0);
	set(SIGUSR2, h_count, 0);
	sigfillset(&m);
	sigprocmask(SIG_BLOCK, &m, NULL);
	union sigval v = {0};
	for (int i = 0; i < 3; i++)
		sigqueue(getpid(), SIGRTMIN, v);
	raise(SIGUSR1);
	raise(SIGUSR1);
	sigemptyset(&m);
	sigprocmask(SIG_SETMASK, &m, NULL);
	CASE("rt.queued_vs_coalesced", "hits=%d", hits);
	reset();
	sigfillset(&m);
	sigprocmask(SIG_BLOCK, &m, NULL);
	sigqueue(getpid(), SIGRTMIN + 1, v);
	raise(SIGUSR2);
	sigqueue(getpid(), SIGRTMIN, v);
	raise(SIGUSR1);
	sigemptyset(&m);
	sigprocmask(SIG_SETMASK, &m, NULL);
	{
		char *b = sbuf();
		int k = 0;
		for (int i = 0; i < norder; i++)
			k += snprintf(b + k, 2048 - k, "%s%s", i ? "," : "", signame(order[i]));
		CASE("delivery_order", "%s", b);
	}
	/* Ignored-but-blocked signals stay pending; setting SIG_IGN flushes. */
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	raise(SIGUSR1);
	sigpending(&pend);
	CASE("pending.ignored_blocked", "%d", sigismember(&pend, SIGUSR1));
	signal(SIGUSR1, h_count);
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_IGN);
	sigpending(&pend);
	CASE("pending.flushed_by_sig_ign", "%d", sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	/* Pending signals are not inherited across fork; the mask is. */
	sigprocmask(SIG_BLOCK, &m, NULL);
	signal(SIGUSR1, h_count);
	raise(SIGUSR1);
	pid_t c = fork();
	if (c == 0) {
		sigset_t p2, m2;
		sigpending(&p2);
		sigprocmask(SIG_BLOCK, NULL, &m2);
		_exit(sigismember(&p2, SIGUSR1) * 10 + sigismember(&m2, SIGUSR1));
	}
	CASE("fork.pending_cleared_mask_kept", "%s", waitchild(c));
	sigprocmask(SIG_UNBLOCK, &m, NULL);

	/* RLIMIT_SIGPENDING bounds queued rt signals. */
	c = fork();
	if (c == 0) {
		/*
		 * The limit counts every pending signal of the user, so use a
		 * uid nothing else on the host runs as.
		 */
		struct rlimit rl = {5, 5};
		setrlimit(RLIMIT_SIGPENDING, &rl);
		setgid(4242);
		setuid(4242);
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		int ok = 0;
		long r = 0;
		for (int i = 0; i < 20; i++) {
			r = C(sigqueue(getpid(), SIGRTMIN + 2, v));
			if (r < 0)
				break;
			ok++;
		}
		CASE("rlimit_sigpending.queue", "queued=%d then %s", ok, r_(r));
		_exit(0);
	}
	waitchild(c);

	/* sigsuspend returns EINTR after the handler and restores the mask. */
	reset();
	set(SIGUSR1, h_count, 0);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	pid_t me = getpid();
	c = fork();
	if (c == 0) {
		sleep_ms(50);
		kill(me, SIGUSR1);
		_exit(0);
	}
	sigset_t wait_mask;
	sigemptyset(&wait_mask);
	long r = C(sigsuspend(&wait_mask));
	sigset_t after;
	sigprocmask(SIG_BLOCK, NULL, &after);
	CASE("sigsuspend", "%s hits=%d mask_restored=%d", r_(r), hits, sigismember(&after, SIGUSR1));
	waitchild(c);
	/* sigtimedwait / sigwaitinfo. */
	raise(SIGUSR1);
	siginfo_t si;
	struct timespec ts = {0, 0};
	long s = C(sigtimedwait(&m, &si, &ts));
	CASE("sigtimedwait.pending", "%s code=%d", s > 0 ? signame(s) : r_(s), si.si_code);
	ts.tv_nsec = 20000000;
	T("sigtimedwait.timeout", sigtimedwait(&m, &si, &ts));
	ts.tv_nsec = -1;
	T("sigtimedwait.bad_timeout", sigtimedwait(&m, &si, &ts));
	union sigval v2 = {.sival_int = 31};
	sigqueue(getpid(), SIGUSR1, v2);
	s = C(sigwaitinfo(&m, &si));
	CASE("sigwaitinfo.queued", "%s code=%d int=%d", s > 0 ? signame(s) : r_(s), si.si_code, si.si_value.sival_int);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	/* pause returns EINTR. */
	struct itimerval it = {{0, 0}, {0, 20000}};
	set(SIGALRM, h_count, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	T("pause.eintr", pause());
}

static char *alt_base;
static size_t alt_size;
static volatile int on_alt, ss_flags_inside;

static void h_alt(int sig)
{
	(void)sig;
	char local;
	on_alt = &local >= alt_base && &local < alt_base + alt_size;
	stack_t cur;
	sigaltstack(NULL, &cur);
	ss_flags_inside = cur.ss_flags;
	stack_t ns = {.ss_sp = alt_base, .ss_size = alt_size};
	ss_flags_inside |= sigaltstack(&ns, NULL) < 0 && errno == EPERM ? 0x100 : 0;
}

static sigjmp_buf jb;
static volatile int seg_on_alt;

static void h_segv(int sig)
{
	(void)sig;
	char local;
	seg_on_alt = &local >= alt_base && &local < alt_base + alt_size;
	siglongjmp(jb, 1);
}

static int recurse(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void g_altstack(void)
{
	alt_size = 64 * 1024;
	alt_base = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size}, old;
	T("sigaltstack.query_initial", ({ sigaltstack(NULL, &old) < 0 ? -1 : old.ss_flags; }));
	T("sigaltstack.set", sigaltstack(&ss, &old));
	sigaltstack(NULL, &old);
	CASE("sigaltstack.query", "flags=%d size=%zu same_base=%d", old.ss_flags, old.ss_size, old.ss_sp == alt_base);
	set(SIGUSR1, h_alt, SA_ONSTACK);
	raise(SIGUSR1);
	CASE("sigaltstack.handler_on_stack", "on_alt=%d flags=%#x", on_alt, ss_flags_inside);
	set(SIGUSR1, h_alt, 0);
	raise(SIGUSR1);
	CASE("sigaltstack.no_onstack_flag", "on_alt=%d", on_alt);
	stack_t small = {.ss_sp = alt_base, .ss_size = 1024};
	T("sigaltstack.too_small", sigaltstack(&small, NULL));
	stack_t bad = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0x8};
	T("sigaltstack.bad_flags", sigaltstack(&bad, NULL));
	stack_t autod = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = (1U << 31) /* SS_AUTODISARM */};
	T("sigaltstack.autodisarm", sigaltstack(&autod, NULL));
	stack_t dis = {.ss_flags = SS_DISABLE};
	T("sigaltstack.disable", sigaltstack(&dis, NULL));
	sigaltstack(NULL, &old);
	CASE("sigaltstack.disabled_query", "flags=%d", old.ss_flags);
	/* Stack overflow is survivable only on an alternate stack. */
	sigaltstack(&ss, NULL);
	struct sigaction sa = {.sa_handler = h_segv, .sa_flags = SA_ONSTACK};
	sigaction(SIGSEGV, &sa, NULL);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = {1 << 20, 1 << 20};
		setrlimit(RLIMIT_STACK, &rl);
		if (sigsetjmp(jb, 1) == 0)
			recurse(0);
		CASE("sigaltstack.stack_overflow_caught", "on_alt=%d", seg_on_alt);
		_exit(0);
	}
	CASE("sigaltstack.stack_overflow_status", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		stack_t d = {.ss_flags = SS_DISABLE};
		sigaltstack(&d, NULL);
		struct rlimit rl = {1 << 20, 1 << 20};
		setrlimit(RLIMIT_STACK, &rl);
		recurse(0);
		_exit(0);
	}
	CASE("sigaltstack.overflow_without_altstack", "%s", waitchild(c));
}

static volatile pid_t thread_tid;
static volatile int thread_got;

static void h_thread(int sig)
{
	(void)sig;
	thread_got = syscall(SYS_gettid) == thread_tid ? 1 : 2;
}

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	for (int i = 0; i < 200 && !thread_got; i++)
		sleep_ms(5);
	return NULL;
}

static void g_kill(void)
{
	T("kill.self_sig0", kill(getpid(), 0));
	T("kill.missing", kill(999999, 0));
	T("kill.bad_signal", kill(getpid(), 65));
	T("kill.negative_signal", kill(getpid(), -1));
	T("kill.pgrp0_sig0", kill(0, 0));
	T("kill.all_sig0", kill(-1, 0));
	T("kill.init_sig0", kill(1, 0));
	T("tgkill.bad_tgid", syscall(SYS_tgkill, 999999, syscall(SYS_gettid), 0));
	T("tgkill.wrong_pair", syscall(SYS_tgkill, 1, syscall(SYS_gettid), 0));
	T("tgkill.zero_tid", syscall(SYS_tgkill, getpid(), 0, 0));
	T("tkill.self", syscall(SYS_tkill, syscall(SYS_gettid), 0));
	/* A signal sent to a thread by tgkill runs on that thread. */
	set(SIGUSR2, h_thread, 0);
	pthread_t t;
	thread_tid = 0;
	thread_got = 0;
	pthread_create(&t, NULL, thread_main, NULL);
	while (!thread_tid)
		sleep_ms(1);
	T("tgkill.thread", syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2));
	pthread_join(t, NULL);
	CASE("tgkill.thread_handler_ran_on_thread", "%d", thread_got);
	T("tgkill.exited_thread", syscall(SYS_tgkill, getpid(), thread_tid, 0));

	/* rt_sigqueueinfo: si_code >= 0 only allowed towards oneself. */
	siginfo_t si;
	reset();
	seti(SIGUSR1, h_info, 0);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 99;
	T("rt_sigqueueinfo.self_queue", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
	CASE("rt_sigqueueinfo.self_queue_received", "code=%d int=%d", last_code, last_int);
	si.si_code = SI_USER;
	T("rt_sigqueueinfo.self_si_user", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
	si.si_code = SI_KERNEL;
	T("rt_sigqueueinfo.self_si_kernel", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
	pid_t c = fork();
	if (c == 0) {
		signal(SIGUSR1, SIG_IGN);
		sleep_ms(2000);
		_exit(0);
	}
	sleep_ms(20);
	si.si_code = SI_USER;
	T("rt_sigqueueinfo.other_si_user", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &si));
	si.si_code = SI_TKILL;
	T("rt_sigqueueinfo.other_si_tkill", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &si));
	si.si_code = SI_QUEUE;
	T("rt_sigqueueinfo.other_si_queue", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &si));
	T("rt_tgsigqueueinfo.self", syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGUSR1, &si));
	kill(c, SIGKILL);
	waitchild(c);
	/* An unprivileged process cannot signal root's process. */
	pid_t target = fork();
	if (target == 0) {
		sleep_ms(2000);
		_exit(0);
	}
	c = fork();
	if (c == 0) {
		setgid(1000);
		setuid(1000);
		_exit(kill(target, 0) == 0 ? 0 : errno);
	}
	CASE("kill.unprivileged_to_root", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		setuid(1000);
		/* SIGCONT within the same session is always allowed. */
		_exit(kill(target, SIGCONT) == 0 ? 0 : errno);
	}
	CASE("kill.unprivileged_sigcont_same_session", "%s", waitchild(c));
	kill(target, SIGKILL);
	waitchild(target);
}

static void g_child(void)
{
	/* SIGCHLD siginfo. */
	reset();
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	siginfo_t si;
	struct timespec ts = {2, 0};
	long s = C(sigtimedwait(&m, &si, &ts));
	CASE("sigchld.exit_info", "%s code=%d status=%d pid=%s", s > 0 ? signame(s) : r_(s), si.si_code, si.si_status, si.si_pid == c ? "child" : "other");
	waitchild(c);
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGSTOP);
	s = C(sigtimedwait(&m, &si, &ts));
	CASE("sigchld.stop_info", "%s code=%d status=%s", s > 0 ? signame(s) : r_(s), si.si_code, signame(si.si_status));
	kill(c, SIGCONT);
	s = C(sigtimedwait(&m, &si, &ts));
	CASE("sigchld.cont_info", "%s code=%d status=%s", s > 0 ? signame(s) : r_(s), si.si_code, signame(si.si_status));
	kill(c, SIGKILL);
	s = C(sigtimedwait(&m, &si, &ts));
	CASE("sigchld.kill_info", "%s code=%d status=%s", s > 0 ? signame(s) : r_(s), si.si_code, signame(si.si_status));
	waitchild(c);
	/* SA_NOCLDSTOP suppresses stop notifications. */
	struct sigaction sa = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDSTOP};
	sigaction(SIGCHLD, &sa, NULL);
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGSTOP);
	struct timespec shortt = {0, 100000000};
	s = C(sigtimedwait(&m, &si, &shortt));
	CASE("sa_nocldstop.no_stop_signal", "%s", s > 0 ? signame(s) : r_(s));
	kill(c, SIGKILL);
	waitchild(c);
	sigtimedwait(&m, &si, &shortt);
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &m, NULL);

	/* SIGPIPE on a pipe and a socket. */
	c = fork();
	if (c == 0) {
		signal(SIGPIPE, SIG_DFL);
		int p[2];
		pipe(p);
		close(p[0]);
		write(p[1], "x", 1);
		_exit(0);
	}
	CASE("sigpipe.default_kills", "%s", waitchild(c));
	{
		signal(SIGPIPE, SIG_IGN);
		int p[2];
		pipe(p);
		close(p[0]);
		T("sigpipe.ignored_epipe", write(p[1], "x", 1));
		close(p[1]);
		reset();
		set(SIGPIPE, h_count, 0);
		pipe(p);
		close(p[0]);
		long r = C(write(p[1], "x", 1));
		CASE("sigpipe.handled", "%s hits=%d", r_(r), hits);
		close(p[1]);
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		close(sv[1]);
		reset();
		r = C(send(sv[0], "x", 1, MSG_NOSIGNAL));
		CASE("sigpipe.msg_nosignal", "%s hits=%d", r_(r), hits);
		r = C(send(sv[0], "x", 1, 0));
		CASE("sigpipe.socket_send", "%s hits=%d", r_(r), hits);
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
	}
	/* Default actions. */
	const int sigs[] = {SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGALRM, SIGWINCH, SIGURG, SIGCHLD, SIGCONT, SIGRTMIN, SIGQUIT, SIGABRT, SIGSEGV, SIGXCPU};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		c = fork();
		if (c == 0) {
			prctl(PR_SET_DUMPABLE, 0);
			raise(sigs[i]);
			_exit(0);
		}
		char name[64];
		snprintf(name, sizeof name, "default_action.%s", signame(sigs[i]));
		CASE(name, "%s", waitchild(c));
	}
	/* Synchronous faults. */
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		volatile int z = 0;
		volatile int x = 5 / z;
		(void)x;
		_exit(0);
	}
	CASE("fault.divide_by_zero", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		__asm__ volatile("ud2");
		_exit(0);
	}
	CASE("fault.ud2", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		__asm__ volatile("int3");
		_exit(0);
	}
	CASE("fault.int3", "%s", waitchild(c));
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		__asm__ volatile("hlt");
		_exit(0);
	}
	CASE("fault.hlt", "%s", waitchild(c));
	/* A blocked synchronous fault still kills. */
	c = fork();
	if (c == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		sigset_t b;
		sigemptyset(&b);
		sigaddset(&b, SIGSEGV);
		sigprocmask(SIG_BLOCK, &b, NULL);
		*(volatile int *)0 = 1;
		_exit(0);
	}
	CASE("fault.blocked_segv", "%s", waitchild(c));
}

static volatile int fpe_code, ill_code, trap_code;
static sigjmp_buf fjb;

static void h_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGFPE)
		fpe_code = si->si_code;
	if (sig == SIGILL)
		ill_code = si->si_code;
	if (sig == SIGTRAP)
		trap_code = si->si_code;
	siglongjmp(fjb, 1);
}

static void g_faultinfo(void)
{
	seti(SIGFPE, h_fault, SA_NODEFER);
	seti(SIGILL, h_fault, SA_NODEFER);
	seti(SIGTRAP, h_fault, SA_NODEFER);
	if (sigsetjmp(fjb, 1) == 0) {
		volatile int z = 0;
		volatile int x = 5 / z;
		(void)x;
	}
	CASE("siginfo.fpe_intdiv", "code=%d", fpe_code);
	if (sigsetjmp(fjb, 1) == 0)
		__asm__ volatile("ud2");
	CASE("siginfo.ill_ud2", "code=%d", ill_code);
	if (sigsetjmp(fjb, 1) == 0)
		__asm__ volatile("int3");
	CASE("siginfo.trap_int3", "code=%d", trap_code);
	/* The ucontext carries the faulting rip; modifying it resumes elsewhere. */
	reset();
	seti(SIGUSR1, h_info, 0);
	struct sigaction q;
	sigaction(SIGUSR1, NULL, &q);
	CASE("sigaction.siginfo_flag", "%d", !!(q.sa_flags & SA_SIGINFO));
}

int main(void)
{
	g_area = "signals";
	signal(SIGPIPE, SIG_IGN);
	run_group("sigaction", g_sigaction, 20);
	run_group("masks", g_masks, 20);
	run_group("altstack", g_altstack, 20);
	run_group("kill", g_kill, 20);
	run_group("child", g_child, 30);
	run_group("faultinfo", g_faultinfo, 20);
	return 0;
}
