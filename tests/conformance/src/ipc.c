/*
 * ipc: SysV message queues and semaphores, POSIX message queues, POSIX
 * shared memory and semaphores, and futexes. Every container has its own
 * IPC namespace, so fixed keys are safe.
 */
#include "common.h"

#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct msgbuf_ {
	long mtype;
	char mtext[256];
};

static void noop(int s)
{
	(void)s;
}

static const char *msgrecv(int q, long type, int flags, size_t size)
{
	KEEP_E;
	struct msgbuf_ m;
	memset(&m, 0, sizeof m);
	long n = C(msgrcv(q, &m, size, type, flags | IPC_NOWAIT));
	if (n < 0)
		return RESTORE_E(r_(n));
	char *b = sbuf();
	snprintf(b, 2048, "type=%ld %s", m.mtype, quoted(m.mtext, n));
	return RESTORE_E((const char *)b);
}

static int msgsend(int q, long type, const char *text, int flags)
{
	struct msgbuf_ m;
	m.mtype = type;
	strncpy(m.mtext, text, sizeof m.mtext);
	return msgsnd(q, &m, strlen(text), flags);
}

static void g_msg(void)
{
	int q = C(msgget(IPC_PRIVATE, IPC_CREAT | 0600));
	CASE("msg.get_private", "%s", q >= 0 ? "ok" : r_(q));
	T("msg.send_type1", msgsend(q, 1, "one", 0));
	T("msg.send_type2", msgsend(q, 2, "two", 0));
	T("msg.send_type3", msgsend(q, 3, "three", 0));
	T("msg.send_type1b", msgsend(q, 1, "uno", 0));
	struct msqid_ds ds;
	T("msg.stat", msgctl(q, IPC_STAT, &ds));
	CASE("msg.stat_fields", "qnum=%lu cbytes=%lu mode=%o", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, ds.msg_perm.mode & 0777);
	CASE("msg.recv_type2", "%s", msgrecv(q, 2, 0, 256));
	CASE("msg.recv_negative_type", "%s", msgrecv(q, -3, 0, 256));
	CASE("msg.recv_except", "%s", msgrecv(q, 1, MSG_EXCEPT, 256));
	CASE("msg.recv_any", "%s", msgrecv(q, 0, 0, 256));
	CASE("msg.recv_empty", "%s", msgrecv(q, 0, 0, 256));
	msgsend(q, 5, "truncate-me", 0);
	CASE("msg.recv_too_small", "%s", msgrecv(q, 0, 0, 4));
	CASE("msg.recv_noerror", "%s", msgrecv(q, 0, MSG_NOERROR, 4));
	msgsend(q, 6, "copyable", 0);
	CASE("msg.recv_copy", "%s", msgrecv(q, 0, MSG_COPY, 256));
	CASE("msg.recv_after_copy", "%s", msgrecv(q, 0, 0, 256));
	T("msg.send_type0", msgsend(q, 0, "x", 0));
	T("msg.send_negative_type", msgsend(q, -1, "x", 0));
	{
		struct msgbuf_ m = {1, "x"};
		T("msg.send_too_big", msgsnd(q, &m, 100000, 0));
		T("msg.send_negative_size", msgsnd(q, &m, (size_t)-1, 0));
		T("msg.send_zero_size", msgsnd(q, &m, 0, 0));
		CASE("msg.recv_zero_size", "%s", msgrecv(q, 0, 0, 256));
	}
	/* Fill the queue (msgmnb bytes) without blocking. */
	{
		char big[1024];
		memset(big, 'f', sizeof big);
		struct {
			long t;
			char d[1024];
		} m;
		m.t = 1;
		memcpy(m.d, big, sizeof big);
		int sent = 0;
		long r = 0;
		for (int i = 0; i < 1000; i++) {
			r = C(msgsnd(q, &m, sizeof m.d, IPC_NOWAIT));
			if (r < 0)
				break;
			sent++;
		}
		CASE("msg.fill_queue", "sent=%d then %s", sent, r_(r));
		msgctl(q, IPC_STAT, &ds);
		CASE("msg.qbytes_default", "%lu", (unsigned long)ds.msg_qbytes);
		ds.msg_qbytes = 100000;
		T("msg.raise_qbytes", msgctl(q, IPC_SET, &ds));
		ds.msg_qbytes = 2048;
		T("msg.lower_qbytes", msgctl(q, IPC_SET, &ds));
	}
	/* Blocking receive interrupted by a signal. */
	int q2 = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct sigaction sa = {.sa_handler = noop};
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	{
		struct msgbuf_ m;
		long long t0 = now_ns(CLOCK_MONOTONIC);
		long r = C(msgrcv(q2, &m, 256, 0, 0));
		CASE("msg.recv_interrupted", "%s after>=0.5s:%d", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 500000000LL);
	}
	/* A blocked receiver wakes when another process sends. */
	pid_t c = fork();
	if (c == 0) {
		sleep_ms(50);
		msgsend(q2, 9, "wake", 0);
		_exit(0);
	}
	{
		struct msgbuf_ m;
		alarm(3);
		long r = C(msgrcv(q2, &m, 256, 9, 0));
		alarm(0);
		CASE("msg.recv_blocking_wakes", "%s", r >= 0 ? quoted(m.mtext, r) : r_(r));
	}
	waitchild(c);
	/* Removing wakes blocked receivers with EIDRM. */
	c = fork();
	if (c == 0) {
		struct msgbuf_ m;
		alarm(3);
		long r = C(msgrcv(q2, &m, 256, 0, 0));
		_exit(r < 0 ? E : 0);
	}
	wait_blocked(c);
	T("msg.rmid", msgctl(q2, IPC_RMID, NULL));
	CASE("msg.rmid_wakes_receiver", "%s", waitchild(c));
	T("msg.send_removed", msgsend(q2, 1, "x", 0));
	T("msg.stat_removed", msgctl(q2, IPC_STAT, &ds));
	/* Keys. */
	int k = C(msgget(0x4d53, IPC_CREAT | IPC_EXCL | 0640));
	CASE("msg.get_key_create", "%s", k >= 0 ? "ok" : r_(k));
	T("msg.get_key_excl", msgget(0x4d53, IPC_CREAT | IPC_EXCL | 0640));
	int k2 = C(msgget(0x4d53, 0));
	CASE("msg.get_key_existing", "%s", k2 == k ? "same" : r_(k2));
	T("msg.get_missing_key", msgget(0x4d54, 0));
	T("msg.ctl_bad_cmd", msgctl(k, 999, &ds));
	T("msg.ctl_bad_id", msgctl(0x7fffffff, IPC_STAT, &ds));
	c = fork();
	if (c == 0) {
		setgid(1000);
		setuid(1000);
		_exit(msgsend(k, 1, "x", IPC_NOWAIT) == 0 ? 0 : errno);
	}
	CASE("msg.user_send_0640", "%s", waitchild(c));
	struct msginfo mi;
	long r = C(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi));
	CASE("msg.ipc_info", "%s msgmax=%d msgmnb=%d msgmni=%d", r >= 0 ? "ok" : r_(r), mi.msgmax, mi.msgmnb, mi.msgmni);
	msgctl(k, IPC_RMID, NULL);
	msgctl(q, IPC_RMID, NULL);
}

static void g_sem(void)
{
	int s = C(semget(IPC_PRIVATE, 3, IPC_CREAT | 0600));
	CASE("sem.get_private", "%s", s >= 0 ? "ok" : r_(s));
	union semun u;
	T("sem.getval_initial", semctl(s, 0, GETVAL));
	u.val = 5;
	T("sem.setval", semctl(s, 0, SETVAL, u));
	T("sem.getval", semctl(s, 0, GETVAL));
	unsigned short all[3] = {1, 2, 3}, got[3] = {0};
	u.array = all;
	T("sem.setall", semctl(s, 0, SETALL, u));
	u.array = got;
	T("sem.getall", semctl(s, 0, GETALL, u));
	CASE("sem.getall_values", "%u,%u,%u", got[0], got[1], got[2]);
	struct semid_ds ds;
	u.buf = &ds;
	T("sem.stat", semctl(s, 0, IPC_STAT, u));
	CASE("sem.stat_fields", "nsems=%lu mode=%o otime_zero=%d", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777, ds.sem_otime == 0);
	struct sembuf op = {0, -1, IPC_NOWAIT};
	T("sem.op_decrement", semop(s, &op, 1));
	T("sem.op_would_block", semop(s, &op, 1));
	op = (struct sembuf){1, 0, IPC_NOWAIT};
	T("sem.op_wait_zero_nonzero", semop(s, &op, 1));
	op = (struct sembuf){0, 0, IPC_NOWAIT};
	T("sem.op_wait_zero_ok", semop(s, &op, 1));
	struct sembuf two[2] = {{1, -2, IPC_NOWAIT}, {2, -4, IPC_NOWAIT}};
	T("sem.op_atomic_fails", semop(s, two, 2));
	u.array = got;
	semctl(s, 0, GETALL, u);
	CASE("sem.op_atomic_unchanged", "%u,%u,%u", got[0], got[1], got[2]);
	op = (struct sembuf){5, 1, 0};
	T("sem.op_bad_num", semop(s, &op, 1));
	T("sem.op_zero_nsops", semop(s, &op, 0));
	u.val = 40000;
	T("sem.setval_over_semvmx", semctl(s, 0, SETVAL, u));
	u.val = -1;
	T("sem.setval_negative", semctl(s, 0, SETVAL, u));
	op = (struct sembuf){0, 32767, 0};
	u.val = 1;
	semctl(s, 0, SETVAL, u);
	T("sem.op_overflow", semop(s, &op, 1));
	/* SEM_UNDO is reverted when the process exits. */
	u.val = 0;
	semctl(s, 2, SETVAL, u);
	pid_t c = fork();
	if (c == 0) {
		struct sembuf up = {2, 3, SEM_UNDO};
		semop(s, &up, 1);
		_exit(semctl(s, 2, GETVAL));
	}
	CASE("sem.undo_child_saw", "%s", waitchild(c));
	T("sem.undo_reverted", semctl(s, 2, GETVAL));
	T("sem.getpid_last_op", semctl(s, 2, GETPID) == c ? 1 : 0);
	/* Waiters: GETNCNT / GETZCNT and wake-up. */
	u.val = 0;
	semctl(s, 0, SETVAL, u);
	c = fork();
	if (c == 0) {
		struct sembuf dn = {0, -1, 0};
		alarm(3);
		_exit(semop(s, &dn, 1) == 0 ? 0 : errno);
	}
	wait_blocked(c);
	T("sem.getncnt", semctl(s, 0, GETNCNT));
	T("sem.getzcnt", semctl(s, 0, GETZCNT));
	op = (struct sembuf){0, 1, 0};
	semop(s, &op, 1);
	CASE("sem.waiter_woken", "%s", waitchild(c));
	struct timespec ts = {0, 30000000};
	op = (struct sembuf){0, -1, 0};
	long long t0 = now_ns(CLOCK_MONOTONIC);
	long r = C(semtimedop(s, &op, 1, &ts));
	CASE("sem.timedop_timeout", "%s elapsed>=30ms:%d", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 30000000);
	ts.tv_nsec = -1;
	T("sem.timedop_bad_timeout", semtimedop(s, &op, 1, &ts));
	/* Removal wakes waiters with EIDRM. */
	c = fork();
	if (c == 0) {
		struct sembuf dn = {0, -1, 0};
		alarm(3);
		_exit(semop(s, &dn, 1) == 0 ? 0 : errno);
	}
	wait_blocked(c);
	T("sem.rmid", semctl(s, 0, IPC_RMID));
	CASE("sem.rmid_wakes", "%s", waitchild(c));
	T("sem.op_removed", semop(s, &op, 1));
	T("sem.get_too_many", semget(IPC_PRIVATE, 100000, IPC_CREAT | 0600));
	T("sem.get_zero_private", semget(IPC_PRIVATE, 0, IPC_CREAT | 0600) >= 0 ? 0 : -1);
	int k = semget(0x5e4a, 2, IPC_CREAT | 0600);
	T("sem.get_key_more_sems", semget(0x5e4a, 5, 0));
	T("sem.get_key_fewer_sems", semget(0x5e4a, 1, 0) == k ? 0 : -1);
	struct seminfo si;
	u.__buf = &si;
	r = C(semctl(0, 0, IPC_INFO, u));
	CASE("sem.ipc_info", "%s semmsl=%d semopm=%d semvmx=%d", r >= 0 ? "ok" : r_(r), si.semmsl, si.semopm, si.semvmx);
	semctl(k, 0, IPC_RMID);
}

static void g_mq(void)
{
	mq_unlink("/confq");
	struct mq_attr at = {0};
	mqd_t q = C(mq_open("/confq", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, NULL));
	CASE("mq.open_create", "%s", r_fd(q));
	T("mq.open_excl_exists", mq_open("/confq", O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
	T("mq.getattr", mq_getattr(q, &at));
	CASE("mq.default_attr", "maxmsg=%ld msgsize=%ld curmsgs=%ld nonblock=%d", at.mq_maxmsg, at.mq_msgsize, at.mq_curmsgs, !!(at.mq_flags & O_NONBLOCK));
	T("mq.send_prio1", mq_send(q, "low", 3, 1));
	T("mq.send_prio5", mq_send(q, "high", 4, 5));
	T("mq.send_prio1b", mq_send(q, "low2", 4, 1));
	char buf[8192];
	unsigned prio = 0;
	long n = C(mq_receive(q, buf, sizeof buf, &prio));
	CASE("mq.receive_highest_first", "%s prio=%u", quoted(buf, n), prio);
	n = C(mq_receive(q, buf, sizeof buf, &prio));
	CASE("mq.receive_fifo_within_prio", "%s prio=%u", quoted(buf, n), prio);
	T("mq.receive_small_buffer", mq_receive(q, buf, 10, &prio));
	mq_receive(q, buf, sizeof buf, &prio);
	T("mq.receive_empty_nonblock", mq_receive(q, buf, sizeof buf, &prio));
	T("mq.send_too_big", mq_send(q, buf, 8193, 0));
	T("mq.send_bad_prio", mq_send(q, "x", 1, 40000));
	int sent = 0;
	long r = 0;
	for (int i = 0; i < 20; i++) {
		r = C(mq_send(q, "f", 1, 0));
		if (r < 0)
			break;
		sent++;
	}
	CASE("mq.fill", "sent=%d then %s", sent, r_(r));
	{
		struct pollfd pf = {q, POLLIN | POLLOUT, 0};
		long pr = C(poll(&pf, 1, 0));
		CASE("mq.poll_full", "%s revents=%#x", r_(pr), pf.revents);
	}
	struct mq_attr na = {.mq_flags = 0}, old;
	T("mq.setattr_blocking", mq_setattr(q, &na, &old));
	CASE("mq.setattr_old_nonblock", "%d", !!(old.mq_flags & O_NONBLOCK));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 30000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	T("mq.timedsend_full_timeout", mq_timedsend(q, "x", 1, 0, &ts));
	while (mq_receive(q, buf, sizeof buf, NULL) >= 0 && (mq_getattr(q, &at), at.mq_curmsgs > 0))
		;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 30000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	T("mq.timedreceive_empty_timeout", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));
	ts.tv_nsec = 2000000000;
	T("mq.timedreceive_bad_timeout", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));
	/* Notification by signal when a message arrives on an empty queue. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1, .sigev_value.sival_int = 17};
	T("mq.notify", mq_notify(q, &sev));
	T("mq.notify_again_busy", mq_notify(q, &sev));
	pid_t c = fork();
	if (c == 0) {
		mqd_t q2 = mq_open("/confq", O_WRONLY);
		mq_send(q2, "n", 1, 0);
		_exit(0);
	}
	waitchild(c);
	siginfo_t si;
	struct timespec wt = {2, 0};
	long s = C(sigtimedwait(&m, &si, &wt));
	CASE("mq.notify_signal", "%s code=%d int=%d", s > 0 ? signame(s) : r_(s), si.si_code, si.si_value.sival_int);
	T("mq.notify_rearm", mq_notify(q, &sev));
	T("mq.notify_remove", mq_notify(q, NULL));
	mq_close(q);
	T("mq.close_again", mq_close(q));
	T("mq.unlink", mq_unlink("/confq"));
	T("mq.unlink_missing", mq_unlink("/confq"));
	T("mq.open_missing", mq_open("/confq", O_RDONLY));
	T("mq.open_no_slash", syscall(SYS_mq_open, "noslash", O_CREAT | O_RDWR, 0600, NULL) >= 0 ? 0 : -1);
	syscall(SYS_mq_unlink, "noslash");
	T("mq.open_slash_inside", syscall(SYS_mq_open, "a/b", O_CREAT | O_RDWR, 0600, NULL));
	struct mq_attr big = {.mq_maxmsg = 11, .mq_msgsize = 16};
	T("mq.open_maxmsg_over_limit", mq_open("/confbig", O_CREAT | O_RDWR, 0600, &big));
	mq_unlink("/confbig");
	big = (struct mq_attr){.mq_maxmsg = 0, .mq_msgsize = 16};
	T("mq.open_maxmsg_zero", mq_open("/confzero", O_CREAT | O_RDWR, 0600, &big));
	big = (struct mq_attr){.mq_maxmsg = 5, .mq_msgsize = 16};
	q = C(mq_open("/confsmall", O_CREAT | O_RDWR, 0600, &big));
	CASE("mq.open_custom_attr", "%s", r_fd(q));
	if (q >= 0) {
		mq_getattr(q, &at);
		CASE("mq.custom_attr", "maxmsg=%ld msgsize=%ld", at.mq_maxmsg, at.mq_msgsize);
		mq_close(q);
	}
	mq_unlink("/confsmall");
	/* The queue filesystem, if mounted. */
	struct stat st;
	CASE("mq.dev_mqueue", "%s", C(stat("/dev/mqueue", &st)) == 0 ? ftype(st.st_mode) : r_(-1));
	char *v = readfile("/proc/sys/fs/mqueue/msg_max", NULL);
	CASE("mq.proc_msg_max", "%s", v ? (atoi(v) > 0 ? "number" : v) : r_(-1));
	free(v);
}

static void g_posix(void)
{
	/* POSIX shared memory lives in /dev/shm. */
	shm_unlink("/confshm");
	int fd = C(shm_open("/confshm", O_CREAT | O_EXCL | O_RDWR, 0600));
	CASE("shm_open.create", "%s", r_fd(fd));
	T("shm_open.excl", shm_open("/confshm", O_CREAT | O_EXCL | O_RDWR, 0600));
	CASE("shm_open.visible_in_dev_shm", "%s", statdesc("/dev/shm/confshm", 1));
	ftruncate(fd, 4096);
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	strcpy(p, "posix-shm");
	int fd2 = shm_open("/confshm", O_RDONLY, 0);
	CASE("shm_open.second_open_reads", "%s", readstr(fd2, 9));
	T("shm_unlink", shm_unlink("/confshm"));
	T("shm_unlink.missing", shm_unlink("/confshm"));
	close(fd);
	close(fd2);
	/* Named and unnamed semaphores. */
	sem_unlink("/confsem");
	sem_t *s = sem_open("/confsem", O_CREAT | O_EXCL, 0600, 2);
	CASE("sem_open.create", "%s", s == SEM_FAILED ? r_(-1) : "ok");
	if (s != SEM_FAILED) {
		T("sem_trywait.1", sem_trywait(s));
		T("sem_trywait.2", sem_trywait(s));
		T("sem_trywait.empty", sem_trywait(s));
		int v = -1;
		sem_getvalue(s, &v);
		CASE("sem_getvalue", "%d", v);
		sem_close(s);
		T("sem_unlink", sem_unlink("/confsem"));
	}
	sem_t *ps = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T("sem_init.pshared", sem_init(ps, 1, 0));
	pid_t c = fork();
	if (c == 0) {
		sleep_ms(30);
		sem_post(ps);
		_exit(0);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	T("sem_timedwait.cross_process", sem_timedwait(ps, &ts));
	waitchild(c);
}

static long futex(int *uaddr, int op, int val, const struct timespec *to, int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, to, uaddr2, val3);
}

static void g_futex(void)
{
	int *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	w[0] = 1;
	T("futex.wait_value_mismatch", futex(w, FUTEX_WAIT, 0, NULL, NULL, 0));
	struct timespec to = {0, 20000000};
	long long t0 = now_ns(CLOCK_MONOTONIC);
	long r = C(futex(w, FUTEX_WAIT, 1, &to, NULL, 0));
	CASE("futex.wait_timeout", "%s elapsed>=20ms:%d", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 20000000);
	T("futex.wake_none", futex(w, FUTEX_WAKE, 1, NULL, NULL, 0));
	T("futex.wait_bitset_zero", futex(w, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0));
	T("futex.bad_op", futex(w, 99, 0, NULL, NULL, 0));
	T("futex.unaligned", futex((int *)((char *)w + 1), FUTEX_WAKE, 1, NULL, NULL, 0));
	to.tv_nsec = 1000000000;
	T("futex.wait_bad_timeout", futex(w, FUTEX_WAIT, 1, &to, NULL, 0));
	/* Cross-process wake on a shared mapping. */
	pid_t c = fork();
	if (c == 0) {
		struct timespec t = {3, 0};
		long rr = futex(w, FUTEX_WAIT, 1, &t, NULL, 0);
		_exit(rr == 0 ? 0 : errno);
	}
	wait_blocked(c);
	w[0] = 2;
	long woke = C(futex(w, FUTEX_WAKE, 10, NULL, NULL, 0));
	CASE("futex.shared_wake", "woke=%s child=%s", r_(woke), waitchild(c));
	/* Private futexes do not cross processes. */
	w[0] = 1;
	c = fork();
	if (c == 0) {
		struct timespec t = {0, 200000000};
		long rr = futex(w, FUTEX_WAIT_PRIVATE, 1, &t, NULL, 0);
		_exit(rr == 0 ? 0 : errno);
	}
	wait_blocked(c);
	woke = C(futex(w, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	CASE("futex.private_not_shared", "woke=%s child=%s", r_(woke), waitchild(c));
	/* Priority-inheritance lock. */
	int *pi = w + 16;
	*pi = 0;
	T("futex.lock_pi_uncontended", futex(pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	CASE("futex.lock_pi_owner", "%s", *pi == 0 ? "unchanged" : (*pi & FUTEX_TID_MASK) == (int)syscall(SYS_gettid) ? "tid" : "other");
	T("futex.unlock_pi", futex(pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	T("futex.unlock_pi_not_owner", futex(pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	*pi = (int)syscall(SYS_gettid);
	T("futex.trylock_pi_self_owned", futex(pi, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
	/* Robust list. */
	struct {
		void *next;
		long off;
		void *pending;
	} head = {&head, 0, NULL};
	T("set_robust_list", syscall(SYS_set_robust_list, &head, sizeof head));
	T("set_robust_list.bad_len", syscall(SYS_set_robust_list, &head, 8));
	void *hp;
	size_t hl;
	T("get_robust_list", syscall(SYS_get_robust_list, 0, &hp, &hl));
	CASE("get_robust_list.value", "same=%d len=%zu", hp == &head, hl);
	T("get_robust_list.missing", syscall(SYS_get_robust_list, 999999, &hp, &hl));
	/* futex_waitv (5.16+). */
	T("futex_waitv.no_waiters", syscall(449, NULL, 0, 0, NULL, 0));
}

int main(void)
{
	g_area = "ipc";
	run_group("msg", g_msg, 20);
	run_group("sem", g_sem, 20);
	run_group("mq", g_mq, 20);
	run_group("posix", g_posix, 20);
	run_group("futex", g_futex, 20);
	return 0;
}
