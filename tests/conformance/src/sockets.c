/*
 * sockets: AF_UNIX stream/dgram/seqpacket (paths, abstract names, autobind,
 * SCM_RIGHTS, SCM_CREDENTIALS, peer credentials), TCP and UDP over IPv4 and
 * IPv6 loopback, shutdown, common socket options and non-blocking connect.
 * Ephemeral ports are never printed. Sockets that a case reads from use
 * timeouts or MSG_DONTWAIT so that a difference cannot hang the group.
 */
#include "common.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/sockios.h>

#define DIR_ "/tmp/csock"

static void rcvtimeo(int fd, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static const char *recvstr(int fd, int len, int flags)
{
	KEEP_E;
	char buf[2048];
	if (len > (int)sizeof buf)
		len = sizeof buf;
	long n = C(recv(fd, buf, len, flags));
	return RESTORE_E((const char *)(quoted(buf, n)));
}

static socklen_t unaddr(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (abstract) {
		strcpy(a->sun_path + 1, path);
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	}
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static const char *unname(const struct sockaddr_un *a, socklen_t len)
{
	char *b = sbuf();
	int n = (int)len - (int)offsetof(struct sockaddr_un, sun_path);
	if (n <= 0)
		snprintf(b, 2048, "unnamed(len=%u)", len);
	else if (a->sun_path[0] == 0)
		snprintf(b, 2048, "@%.*s", n - 1, a->sun_path + 1);
	else
		snprintf(b, 2048, "%s(len=%u)", a->sun_path, len);
	return b;
}

static const char *getopt_int(int fd, int level, int opt)
{
	KEEP_E;
	int v = -12345;
	socklen_t l = sizeof v;
	long r = C(getsockopt(fd, level, opt, &v, &l));
	if (r < 0)
		return RESTORE_E((const char *)(r_(r)));
	char *b = sbuf();
	snprintf(b, 2048, "%d", v);
	return RESTORE_E((const char *)(b));
}

static void g_unix_stream(void)
{
	rmtree(DIR_);
	mkdir(DIR_, 0755);
	struct sockaddr_un a, b;
	socklen_t al;
	int l = TFD("unix_stream.socket", socket(AF_UNIX, SOCK_STREAM, 0));
	al = unaddr(&a, DIR_ "/s", 0);
	T("unix_stream.bind", bind(l, (struct sockaddr *)&a, al));
	CASE("unix_stream.socket_file", "%s", statdesc(DIR_ "/s", 1));
	T("unix_stream.bind_again", bind(l, (struct sockaddr *)&a, al));
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	T("unix_stream.bind_in_use", bind(l2, (struct sockaddr *)&a, al));
	close(l2);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	T("unix_stream.connect_not_listening", connect(c, (struct sockaddr *)&a, al));
	close(c);
	T("unix_stream.listen", listen(l, 5));
	CASE("unix_stream.acceptconn", "%s", getopt_int(l, SOL_SOCKET, SO_ACCEPTCONN));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	rcvtimeo(c, 1000);
	T("unix_stream.connect", connect(c, (struct sockaddr *)&a, al));
	T("unix_stream.connect_again", connect(c, (struct sockaddr *)&a, al));
	int s = TFD("unix_stream.accept", accept(l, (struct sockaddr *)&b, (al = sizeof b, &al)));
	rcvtimeo(s, 1000);
	CASE("unix_stream.accept_peer_addr", "%s", unname(&b, al));
	al = sizeof b;
	getsockname(s, (struct sockaddr *)&b, &al);
	CASE("unix_stream.accepted_sockname", "%s", unname(&b, al));
	al = sizeof b;
	getpeername(c, (struct sockaddr *)&b, &al);
	CASE("unix_stream.client_peername", "%s", unname(&b, al));
	al = sizeof b;
	getsockname(c, (struct sockaddr *)&b, &al);
	CASE("unix_stream.client_sockname", "%s", unname(&b, al));
	T("unix_stream.send", send(c, "hello", 5, 0));
	T("unix_stream.send2", send(c, "world", 5, 0));
	CASE("unix_stream.recv_peek", "%s", recvstr(s, 3, MSG_PEEK));
	T("unix_stream.fionread", ({ int n = -1; ioctl(s, FIONREAD, &n) < 0 ? -1 : n; }));
	CASE("unix_stream.recv_merges", "%s", recvstr(s, 100, 0));
	CASE("unix_stream.recv_dontwait_empty", "%s", recvstr(s, 100, MSG_DONTWAIT));
	{
		struct ucred cr;
		socklen_t cl = sizeof cr;
		long r = C(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl));
		CASE("unix_stream.peercred", "%s pid=%s uid=%u gid=%u", r_(r), cr.pid == getpid() ? "self" : "other", cr.uid, cr.gid);
	}
	CASE("unix_stream.so_type", "%s", getopt_int(s, SOL_SOCKET, SO_TYPE));
	CASE("unix_stream.so_domain", "%s", getopt_int(s, SOL_SOCKET, SO_DOMAIN));
	CASE("unix_stream.so_protocol", "%s", getopt_int(s, SOL_SOCKET, SO_PROTOCOL));
	CASE("unix_stream.so_error", "%s", getopt_int(s, SOL_SOCKET, SO_ERROR));
	CASE("unix_stream.so_passcred_default", "%s", getopt_int(s, SOL_SOCKET, SO_PASSCRED));
	CASE("unix_stream.so_sndbuf", "%s", getopt_int(s, SOL_SOCKET, SO_SNDBUF));
	/* MSG_WAITALL collects across sends. */
	send(c, "ab", 2, 0);
	pid_t k = fork();
	if (k == 0) {
		sleep_ms(50);
		send(c, "cd", 2, 0);
		_exit(0);
	}
	CASE("unix_stream.waitall", "%s", recvstr(s, 4, MSG_WAITALL));
	waitchild(k);
	T("unix_stream.shutdown_wr", shutdown(c, SHUT_WR));
	CASE("unix_stream.recv_after_peer_shutdown", "%s", recvstr(s, 10, 0));
	T("unix_stream.send_after_shutdown", send(c, "x", 1, MSG_NOSIGNAL));
	T("unix_stream.peer_can_still_send", send(s, "back", 4, 0));
	CASE("unix_stream.recv_after_own_shutdown_wr", "%s", recvstr(c, 10, 0));
	T("unix_stream.shutdown_bad_how", shutdown(c, 7));
	close(s);
	CASE("unix_stream.recv_after_peer_close", "%s", recvstr(c, 10, 0));
	T("unix_stream.send_after_peer_close", send(c, "x", 1, MSG_NOSIGNAL));
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	T("unix_stream.send_unconnected", send(c, "x", 1, MSG_NOSIGNAL));
	T("unix_stream.recv_unconnected", recv(c, (char[4]){0}, 4, MSG_DONTWAIT));
	T("unix_stream.accept_not_listening", accept(c, NULL, NULL));
	T("unix_stream.shutdown_unconnected", shutdown(c, SHUT_RDWR));
	al = unaddr(&a, DIR_ "/missing", 0);
	T("unix_stream.connect_missing", connect(c, (struct sockaddr *)&a, al));
	writefile(DIR_ "/regular", "", 0644);
	al = unaddr(&a, DIR_ "/regular", 0);
	T("unix_stream.connect_regular_file", connect(c, (struct sockaddr *)&a, al));
	{
		struct sockaddr_un big;
		memset(&big, 'x', sizeof big);
		big.sun_family = AF_UNIX;
		T("unix_stream.bind_path_unterminated_full", bind(c, (struct sockaddr *)&big, sizeof big));
		T("unix_stream.bind_len_too_big", bind(c, (struct sockaddr *)&big, sizeof big + 1));
	}
	T("unix_stream.bind_wrong_family", ({ struct sockaddr_in in = {.sin_family = AF_INET}; bind(c, (struct sockaddr *)&in, sizeof in); }));
	close(c);
	/* Abstract namespace and autobind. */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	al = unaddr(&a, "conf-abstract", 1);
	T("unix_abstract.bind", bind(l, (struct sockaddr *)&a, al));
	al = sizeof b;
	getsockname(l, (struct sockaddr *)&b, &al);
	CASE("unix_abstract.sockname", "%s", unname(&b, al));
	listen(l, 1);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	al = unaddr(&a, "conf-abstract", 1);
	T("unix_abstract.connect", connect(c, (struct sockaddr *)&a, al));
	al = unaddr(&a, "conf-abstract-missing", 1);
	int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	T("unix_abstract.connect_missing", connect(c2, (struct sockaddr *)&a, al));
	close(c2);
	close(c);
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	a.sun_family = AF_UNIX;
	T("unix_autobind.bind", bind(c, (struct sockaddr *)&a, sizeof(sa_family_t)));
	al = sizeof b;
	getsockname(c, (struct sockaddr *)&b, &al);
	CASE("unix_autobind.shape", "len=%u abstract=%d", al, b.sun_path[0] == 0);
	close(c);
	/* Connecting needs write permission on the socket file. */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	al = unaddr(&a, DIR_ "/perm", 0);
	bind(l, (struct sockaddr *)&a, al);
	listen(l, 1);
	chmod(DIR_ "/perm", 0644);
	k = fork();
	if (k == 0) {
		setgid(1000);
		setuid(1000);
		int x = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(x, (struct sockaddr *)&a, al) == 0 ? 0 : errno);
	}
	CASE("unix_stream.connect_no_write_perm", "%s", waitchild(k));
	close(l);
	/* Backlog: non-blocking connects beyond the backlog. */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	al = unaddr(&a, DIR_ "/backlog", 0);
	bind(l, (struct sockaddr *)&a, al);
	listen(l, 1);
	int ok = 0;
	long r = 0;
	for (int i = 0; i < 10; i++) {
		int x = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		r = C(connect(x, (struct sockaddr *)&a, al));
		if (r < 0)
			break;
		ok++;
	}
	CASE("unix_stream.backlog_1_nonblock", "connected=%d then %s", ok, r_(r));
	close(l);
	rmtree(DIR_);
}

static void g_unix_dgram(void)
{
	rmtree(DIR_);
	mkdir(DIR_, 0755);
	struct sockaddr_un a, b;
	socklen_t al, bl;
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	rcvtimeo(srv, 1000);
	al = unaddr(&a, DIR_ "/d", 0);
	T("unix_dgram.bind", bind(srv, (struct sockaddr *)&a, al));
	int cl = socket(AF_UNIX, SOCK_DGRAM, 0);
	rcvtimeo(cl, 1000);
	T("unix_dgram.sendto", sendto(cl, "one", 3, 0, (struct sockaddr *)&a, al));
	T("unix_dgram.sendto2", sendto(cl, "second", 6, 0, (struct sockaddr *)&a, al));
	bl = sizeof b;
	char buf[64];
	long n = C(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&b, &bl));
	CASE("unix_dgram.recv_boundary", "%s from=%s", quoted(buf, n), unname(&b, bl));
	struct iovec iov = {buf, 3};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	n = C(recvmsg(srv, &mh, 0));
	CASE("unix_dgram.recv_truncated", "%s flags_trunc=%d", quoted(buf, n), !!(mh.msg_flags & MSG_TRUNC));
	sendto(cl, "abcdef", 6, 0, (struct sockaddr *)&a, al);
	T("unix_dgram.recv_msg_trunc_returns_full", recv(srv, buf, 2, MSG_TRUNC));
	T("unix_dgram.recv_empty_dontwait", recv(srv, buf, sizeof buf, MSG_DONTWAIT));
	T("unix_dgram.send_zero_len", sendto(cl, "", 0, 0, (struct sockaddr *)&a, al));
	T("unix_dgram.recv_zero_len", recv(srv, buf, sizeof buf, MSG_DONTWAIT));
	T("unix_dgram.send_unconnected_no_addr", send(cl, "x", 1, 0));
	T("unix_dgram.connect", connect(cl, (struct sockaddr *)&a, al));
	T("unix_dgram.send_connected", send(cl, "conn", 4, 0));
	CASE("unix_dgram.recv_connected", "%s", recvstr(srv, 64, 0));
	struct sockaddr_un m;
	socklen_t ml = unaddr(&m, DIR_ "/nope", 0);
	T("unix_dgram.sendto_missing", sendto(cl, "x", 1, 0, (struct sockaddr *)&m, ml));
	{
		int big = 300000;
		char *p = calloc(1, big);
		T("unix_dgram.send_too_big", sendto(cl, p, big, 0, (struct sockaddr *)&a, al));
		free(p);
	}
	/* Receiver gone: ECONNREFUSED on the connected sender. */
	close(srv);
	unlink(DIR_ "/d");
	T("unix_dgram.send_after_peer_close", send(cl, "x", 1, 0));
	close(cl);
	/* Queue limit: a non-blocking sender eventually gets EAGAIN. */
	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	al = unaddr(&a, DIR_ "/q", 0);
	bind(srv, (struct sockaddr *)&a, al);
	cl = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	connect(cl, (struct sockaddr *)&a, al);
	int sent = 0;
	long r = 0;
	for (int i = 0; i < 5000; i++) {
		r = C(send(cl, "q", 1, 0));
		if (r < 0)
			break;
		sent++;
	}
	CASE("unix_dgram.queue_fills", "%s then %s", sent > 0 && sent < 5000 ? "some" : sent == 0 ? "none" : "all", r_(r));
	close(srv);
	close(cl);
	/* socketpair variants. */
	int sv[2];
	T("socketpair.dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	send(sv[0], "p1", 2, 0);
	send(sv[0], "p22", 3, 0);
	CASE("socketpair.dgram_boundaries", "%s %s", recvstr(sv[1], 64, MSG_DONTWAIT), recvstr(sv[1], 64, MSG_DONTWAIT));
	close(sv[0]);
	T("socketpair.dgram_send_after_peer_close", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);
	T("socketpair.seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	send(sv[0], "s1", 2, 0);
	send(sv[0], "s22", 3, MSG_EOR);
	CASE("seqpacket.boundaries", "%s %s", recvstr(sv[1], 64, MSG_DONTWAIT), recvstr(sv[1], 64, MSG_DONTWAIT));
	send(sv[0], "truncated", 9, 0);
	{
		char tb[4];
		struct iovec ti = {tb, 4};
		struct msghdr th = {.msg_iov = &ti, .msg_iovlen = 1};
		n = C(recvmsg(sv[1], &th, MSG_DONTWAIT));
		CASE("seqpacket.truncated", "%s trunc=%d", quoted(tb, n), !!(th.msg_flags & MSG_TRUNC));
		CASE("seqpacket.rest_discarded", "%s", recvstr(sv[1], 64, MSG_DONTWAIT));
	}
	close(sv[0]);
	CASE("seqpacket.recv_after_peer_close", "%s", recvstr(sv[1], 64, MSG_DONTWAIT));
	close(sv[1]);
	T("socketpair.inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	T("socketpair.bad_type", socketpair(AF_UNIX, 99, 0, sv));
	T("socketpair.bad_protocol", socketpair(AF_UNIX, SOCK_STREAM, 5, sv));
	T("socketpair.nonblock_cloexec", ({ long x = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv); x < 0 ? x : (long)((fcntl(sv[0], F_GETFL) & O_NONBLOCK ? 1 : 0) + (fcntl(sv[0], F_GETFD) & FD_CLOEXEC ? 2 : 0)); }));
	/* Seqpacket listener. */
	int sl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	al = unaddr(&a, DIR_ "/sp", 0);
	bind(sl, (struct sockaddr *)&a, al);
	T("seqpacket.listen", listen(sl, 1));
	int sc = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T("seqpacket.connect", connect(sc, (struct sockaddr *)&a, al));
	int sa = accept(sl, NULL, NULL);
	send(sc, "m", 1, 0);
	CASE("seqpacket.accepted_recv", "%s", recvstr(sa, 10, MSG_DONTWAIT));
	T("seqpacket.listen_dgram", ({ int d = socket(AF_UNIX, SOCK_DGRAM, 0); listen(d, 1); }));
	close(sa);
	close(sc);
	close(sl);
	rmtree(DIR_);
}

static void g_unix_scm(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	rcvtimeo(sv[1], 1000);
	int p[2];
	pipe(p);
	write(p[1], "via-fd", 6);
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {"x", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int))};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
	T("scm_rights.send", sendmsg(sv[0], &mh, 0));
	close(p[0]);
	char rb[8];
	char rc[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec riov = {rb, sizeof rb};
	struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc};
	long n = C(recvmsg(sv[1], &rh, MSG_CMSG_CLOEXEC));
	CASE("scm_rights.recv", "%s", r_(n));
	struct cmsghdr *rcm = CMSG_FIRSTHDR(&rh);
	if (rcm && rcm->cmsg_type == SCM_RIGHTS) {
		int fd;
		memcpy(&fd, CMSG_DATA(rcm), sizeof fd);
		CASE("scm_rights.level_type_len", "level=%d type=%d len=%zu", rcm->cmsg_level, rcm->cmsg_type, (size_t)rcm->cmsg_len);
		CASE("scm_rights.received_fd_reads", "%s", readstr(fd, 10));
		CASE("scm_rights.cmsg_cloexec", "%ld", (long)fcntl(fd, F_GETFD));
		close(fd);
	} else
		CASE("scm_rights.level_type_len", "no cmsg");
	/* Control buffer too small: MSG_CTRUNC and the fd is dropped. */
	pipe(p);
	memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
	sendmsg(sv[0], &mh, 0);
	rh.msg_controllen = CMSG_LEN(0);
	rh.msg_flags = 0;
	n = C(recvmsg(sv[1], &rh, 0));
	CASE("scm_rights.ctrunc", "%s ctrunc=%d", r_(n), !!(rh.msg_flags & MSG_CTRUNC));
	/* Sending a non-fd. */
	int bad = 999;
	memcpy(CMSG_DATA(cm), &bad, sizeof(int));
	T("scm_rights.bad_fd", sendmsg(sv[0], &mh, 0));
	/* More than SCM_MAX_FD (253). */
	{
		int cnt = 254;
		size_t sz = CMSG_SPACE(sizeof(int) * cnt);
		char *big = calloc(1, sz);
		struct msghdr bh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = big, .msg_controllen = sz};
		struct cmsghdr *bc = CMSG_FIRSTHDR(&bh);
		bc->cmsg_level = SOL_SOCKET;
		bc->cmsg_type = SCM_RIGHTS;
		bc->cmsg_len = CMSG_LEN(sizeof(int) * cnt);
		int *fds = (int *)CMSG_DATA(bc);
		for (int i = 0; i < cnt; i++)
			fds[i] = 0;
		T("scm_rights.too_many", sendmsg(sv[0], &bh, 0));
		cnt = 253;
		bh.msg_controllen = CMSG_SPACE(sizeof(int) * cnt);
		bc->cmsg_len = CMSG_LEN(sizeof(int) * cnt);
		T("scm_rights.max", sendmsg(sv[0], &bh, 0));
		free(big);
	}
	close(p[0]);
	close(p[1]);
	/* Passing a unix socket over itself (garbage collection case). */
	memcpy(CMSG_DATA(cm), &sv[0], sizeof(int));
	rh.msg_controllen = sizeof rc;
	T("scm_rights.send_own_socket", sendmsg(sv[0], &mh, 0));
	close(sv[0]);
	close(sv[1]);

	/* SCM_CREDENTIALS */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int on = 1;
	T("scm_creds.passcred", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	send(sv[0], "c", 1, 0);
	char cc[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr ch = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cc, .msg_controllen = sizeof cc};
	n = C(recvmsg(sv[1], &ch, MSG_DONTWAIT));
	struct cmsghdr *ccm = CMSG_FIRSTHDR(&ch);
	if (n >= 0 && ccm && ccm->cmsg_type == SCM_CREDENTIALS) {
		struct ucred cr;
		memcpy(&cr, CMSG_DATA(ccm), sizeof cr);
		CASE("scm_creds.implicit", "pid=%s uid=%u gid=%u", cr.pid == getpid() ? "self" : "other", cr.uid, cr.gid);
	} else
		CASE("scm_creds.implicit", "%s no creds", r_(n));
	/* Explicit credentials: own values are fine, others need privilege. */
	struct ucred mine = {getpid(), getuid(), getgid()};
	char sc[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr sh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = sc, .msg_controllen = sizeof sc};
	struct cmsghdr *scm = CMSG_FIRSTHDR(&sh);
	scm->cmsg_level = SOL_SOCKET;
	scm->cmsg_type = SCM_CREDENTIALS;
	scm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	memcpy(CMSG_DATA(scm), &mine, sizeof mine);
	T("scm_creds.send_own", sendmsg(sv[0], &sh, 0));
	recv(sv[1], rb, sizeof rb, MSG_DONTWAIT);
	struct ucred other = {getppid(), 0, 0};
	memcpy(CMSG_DATA(scm), &other, sizeof other);
	T("scm_creds.send_other_pid", sendmsg(sv[0], &sh, 0));
	struct ucred otheruid = {getpid(), 1000, 0};
	memcpy(CMSG_DATA(scm), &otheruid, sizeof otheruid);
	T("scm_creds.send_other_uid_as_root", sendmsg(sv[0], &sh, 0));
	close(sv[0]);
	close(sv[1]);
	/* SO_PEERCRED on a socketpair; SO_PEERSEC / SO_PEERGROUPS. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct ucred pc;
	socklen_t pl = sizeof pc;
	long r = C(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pc, &pl));
	CASE("socketpair.peercred", "%s pid=%s uid=%u", r_(r), pc.pid == getpid() ? "self" : "other", pc.uid);
	char sec[256];
	socklen_t secl = sizeof sec;
	T("socketpair.peersec", getsockopt(sv[0], SOL_SOCKET, SO_PEERSEC, sec, &secl));
	gid_t groups[64];
	socklen_t gl = sizeof groups;
	r = C(getsockopt(sv[0], SOL_SOCKET, SO_PEERGROUPS, groups, &gl));
	CASE("socketpair.peergroups", "%s len=%u", r_(r), gl);
	close(sv[0]);
	close(sv[1]);
}

struct inet {
	int family;
	const char *name;
	struct sockaddr_storage lo;
	socklen_t len;
};

static void loaddr(struct inet *in, int family)
{
	memset(in, 0, sizeof *in);
	in->family = family;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&in->lo;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->len = sizeof *a;
		in->name = "v4";
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&in->lo;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		in->len = sizeof *a;
		in->name = "v6";
	}
}

static void setport(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int getport(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static const char *addrstr(const struct sockaddr_storage *ss, int showport)
{
	char *b = sbuf();
	char h[64];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
		snprintf(b, 2048, "%s%s", h, showport ? (a->sin_port ? ":port" : ":0") : "");
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
		snprintf(b, 2048, "[%s]%s", h, showport ? (a->sin6_port ? ":port" : ":0") : "");
	} else
		snprintf(b, 2048, "family=%d", ss->ss_family);
	return b;
}

static char nm[128];
static const char *NM(struct inet *in, const char *proto, const char *name)
{
	snprintf(nm, sizeof nm, "%s_%s.%s", proto, in->name, name);
	return nm;
}

static void tcp_suite(int family)
{
	struct inet in;
	loaddr(&in, family);
	int l = socket(family, SOCK_STREAM, 0);
	CASE(NM(&in, "tcp", "socket"), "%s", r_fd(l));
	struct sockaddr_storage a = in.lo, b;
	long r = C(bind(l, (struct sockaddr *)&a, in.len));
	CASE(NM(&in, "tcp", "bind_loopback_port0"), "%s", r_(r));
	if (r < 0) {
		close(l);
		return;
	}
	int port = getport(l);
	CASE(NM(&in, "tcp", "ephemeral_port"), "%s", port >= 1024 ? "assigned" : "unexpected");
	setport(&a, port);
	T(NM(&in, "tcp", "listen"), listen(l, 8));
	CASE(NM(&in, "tcp", "acceptconn"), "%s", getopt_int(l, SOL_SOCKET, SO_ACCEPTCONN));
	int x = socket(family, SOCK_STREAM, 0);
	T(NM(&in, "tcp", "bind_in_use"), bind(x, (struct sockaddr *)&a, in.len));
	int one = 1;
	setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	T(NM(&in, "tcp", "bind_in_use_reuseaddr_listening"), bind(x, (struct sockaddr *)&a, in.len));
	close(x);
	int c = socket(family, SOCK_STREAM, 0);
	rcvtimeo(c, 1000);
	T(NM(&in, "tcp", "connect"), connect(c, (struct sockaddr *)&a, in.len));
	socklen_t bl = sizeof b;
	int s = accept4(l, (struct sockaddr *)&b, &bl, SOCK_CLOEXEC);
	CASE(NM(&in, "tcp", "accept4"), "%s peer=%s cloexec=%ld", r_fd(s), addrstr(&b, 1), (long)fcntl(s, F_GETFD));
	rcvtimeo(s, 1000);
	bl = sizeof b;
	getpeername(c, (struct sockaddr *)&b, &bl);
	CASE(NM(&in, "tcp", "getpeername"), "%s len=%u", addrstr(&b, 1), bl);
	bl = sizeof b;
	getsockname(s, (struct sockaddr *)&b, &bl);
	CASE(NM(&in, "tcp", "accepted_sockname_same_port"), "%s", getport(s) == port ? "yes" : "no");
	T(NM(&in, "tcp", "send"), send(c, "tcpdata", 7, 0));
	CASE(NM(&in, "tcp", "recv"), "%s", recvstr(s, 64, 0));
	T(NM(&in, "tcp", "send_oob"), send(c, "U", 1, MSG_OOB));
	sleep_ms(20);
	{
		int atmark = -1;
		long ar = C(ioctl(s, SIOCATMARK, &atmark));
		CASE(NM(&in, "tcp", "siocatmark"), "%s mark=%d", r_(ar), atmark);
	}
	CASE(NM(&in, "tcp", "recv_oob"), "%s", recvstr(s, 1, MSG_OOB | MSG_DONTWAIT));
	CASE(NM(&in, "tcp", "recv_after_oob"), "%s", recvstr(s, 64, MSG_DONTWAIT));
	/* Options. */
	CASE(NM(&in, "tcp", "so_type"), "%s", getopt_int(s, SOL_SOCKET, SO_TYPE));
	CASE(NM(&in, "tcp", "so_protocol"), "%s", getopt_int(s, SOL_SOCKET, SO_PROTOCOL));
	CASE(NM(&in, "tcp", "nodelay_default"), "%s", getopt_int(s, IPPROTO_TCP, TCP_NODELAY));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	CASE(NM(&in, "tcp", "nodelay_set"), "%s", getopt_int(s, IPPROTO_TCP, TCP_NODELAY));
	CASE(NM(&in, "tcp", "keepalive_default"), "%s", getopt_int(s, SOL_SOCKET, SO_KEEPALIVE));
	CASE(NM(&in, "tcp", "keepidle_default"), "%s", getopt_int(s, IPPROTO_TCP, TCP_KEEPIDLE));
	CASE(NM(&in, "tcp", "keepintvl_default"), "%s", getopt_int(s, IPPROTO_TCP, TCP_KEEPINTVL));
	CASE(NM(&in, "tcp", "keepcnt_default"), "%s", getopt_int(s, IPPROTO_TCP, TCP_KEEPCNT));
	int v = 0;
	T(NM(&in, "tcp", "keepidle_zero"), setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
	CASE(NM(&in, "tcp", "reuseaddr_default"), "%s", getopt_int(s, SOL_SOCKET, SO_REUSEADDR));
	CASE(NM(&in, "tcp", "cork_default"), "%s", getopt_int(s, IPPROTO_TCP, TCP_CORK));
	CASE(NM(&in, "tcp", "maxseg_established"), "%s", getopt_int(s, IPPROTO_TCP, TCP_MAXSEG));
	CASE(NM(&in, "tcp", "defer_accept"), "%s", getopt_int(l, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	CASE(NM(&in, "tcp", "user_timeout"), "%s", getopt_int(s, IPPROTO_TCP, TCP_USER_TIMEOUT));
	CASE(NM(&in, "tcp", "quickack"), "%s", getopt_int(s, IPPROTO_TCP, TCP_QUICKACK));
	CASE(NM(&in, "tcp", "syncnt"), "%s", getopt_int(s, IPPROTO_TCP, TCP_SYNCNT));
	CASE(NM(&in, "tcp", "window_clamp_positive"), "%s", ({ const char *w = getopt_int(s, IPPROTO_TCP, TCP_WINDOW_CLAMP); atoi(w) > 0 ? "yes" : w; }));
	{
		char cong[32] = {0};
		socklen_t cl = sizeof cong;
		r = C(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cong, &cl));
		CASE(NM(&in, "tcp", "congestion"), "%s %s", r_(r), r == 0 ? cong : "");
		T(NM(&in, "tcp", "congestion_set_bogus"), setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "bogus", 5));
		struct tcp_info ti;
		socklen_t til = sizeof ti;
		memset(&ti, 0, sizeof ti);
		r = C(getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &til));
		CASE(NM(&in, "tcp", "tcp_info"), "%s state=%u", r_(r), ti.tcpi_state);
	}
	{
		struct linger lg = {1, 5}, lg2;
		socklen_t ll = sizeof lg2;
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &ll);
		CASE(NM(&in, "tcp", "linger"), "onoff=%d linger=%d", lg2.l_onoff != 0, lg2.l_linger);
		int sz = 4096;
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		CASE(NM(&in, "tcp", "sndbuf_set_4096"), "%s", getopt_int(s, SOL_SOCKET, SO_SNDBUF));
		sz = 1;
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		CASE(NM(&in, "tcp", "rcvbuf_set_1"), "%s", getopt_int(s, SOL_SOCKET, SO_RCVBUF));
		struct timeval tv = {0, 50000}, tv2;
		socklen_t tl = sizeof tv2;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tl);
		CASE(NM(&in, "tcp", "rcvtimeo_readback"), "%ld.%06ld", (long)tv2.tv_sec, (long)tv2.tv_usec);
		long long t0 = now_ns(CLOCK_MONOTONIC);
		char ch;
		r = C(recv(c, &ch, 1, 0));
		CASE(NM(&in, "tcp", "rcvtimeo_expires"), "%s elapsed>=50ms:%d", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 50000000);
		tv.tv_usec = 2000000;
		T(NM(&in, "tcp", "rcvtimeo_bad_usec"), setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
		rcvtimeo(c, 1000);
	}
	if (family == AF_INET) {
		CASE(NM(&in, "tcp", "ip_ttl_default"), "%s", getopt_int(s, IPPROTO_IP, IP_TTL));
		int tos = 0x10;
		setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
		CASE(NM(&in, "tcp", "ip_tos_set"), "%s", getopt_int(s, IPPROTO_IP, IP_TOS));
	} else {
		CASE(NM(&in, "tcp", "v6only_default"), "%s", getopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY));
		CASE(NM(&in, "tcp", "unicast_hops_default"), "%s", getopt_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
	}
	T(NM(&in, "tcp", "getsockopt_bad_level"), ({ int q; socklen_t ql = sizeof q; getsockopt(s, 12345, 1, &q, &ql); }));
	T(NM(&in, "tcp", "getsockopt_bad_opt"), ({ int q; socklen_t ql = sizeof q; getsockopt(s, SOL_SOCKET, 9999, &q, &ql); }));
	T(NM(&in, "tcp", "setsockopt_short_len"), ({ char q = 1; setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &q, 1); }));
	T(NM(&in, "tcp", "getsockopt_short_len"), ({ char q[2]; socklen_t ql = 2; long rr = getsockopt(s, SOL_SOCKET, SO_TYPE, q, &ql); rr < 0 ? rr : (long)ql; }));
	T(NM(&in, "tcp", "siocoutq"), ({ int q = -1; ioctl(s, SIOCOUTQ, &q) < 0 ? -1 : q; }));
	/* Shutdown. */
	T(NM(&in, "tcp", "shutdown_wr"), shutdown(c, SHUT_WR));
	CASE(NM(&in, "tcp", "peer_reads_eof"), "%s", recvstr(s, 10, 0));
	T(NM(&in, "tcp", "send_after_shutdown_wr"), send(c, "x", 1, MSG_NOSIGNAL));
	send(s, "rev", 3, 0);
	CASE(NM(&in, "tcp", "half_closed_reverse"), "%s", recvstr(c, 10, 0));
	T(NM(&in, "tcp", "shutdown_rd"), shutdown(s, SHUT_RD));
	CASE(NM(&in, "tcp", "recv_after_shutdown_rd"), "%s", recvstr(s, 10, MSG_DONTWAIT));
	T(NM(&in, "tcp", "shutdown_bad_how"), shutdown(s, 5));
	close(s);
	close(c);
	/* Reset on close with unread data. */
	c = socket(family, SOCK_STREAM, 0);
	rcvtimeo(c, 1000);
	connect(c, (struct sockaddr *)&a, in.len);
	s = accept(l, NULL, NULL);
	send(c, "unread", 6, 0);
	sleep_ms(20);
	close(s);
	sleep_ms(20);
	CASE(NM(&in, "tcp", "rst_unread_data_recv"), "%s", recvstr(c, 10, 0));
	T(NM(&in, "tcp", "rst_then_send"), send(c, "x", 1, MSG_NOSIGNAL));
	CASE(NM(&in, "tcp", "so_error_after_rst"), "%s", getopt_int(c, SOL_SOCKET, SO_ERROR));
	close(c);
	/* SO_LINGER {1,0}: abortive close. */
	c = socket(family, SOCK_STREAM, 0);
	rcvtimeo(c, 1000);
	connect(c, (struct sockaddr *)&a, in.len);
	s = accept(l, NULL, NULL);
	struct linger lz = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lz, sizeof lz);
	close(s);
	sleep_ms(20);
	CASE(NM(&in, "tcp", "linger0_peer_recv"), "%s", recvstr(c, 10, 0));
	close(c);
	/* Accepted socket does not inherit O_NONBLOCK from the listener. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	T(NM(&in, "tcp", "accept_nonblock_empty"), accept(l, NULL, NULL));
	c = socket(family, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, in.len);
	sleep_ms(20);
	s = accept(l, NULL, NULL);
	CASE(NM(&in, "tcp", "accept_inherits_nonblock"), "%d", s >= 0 && (fcntl(s, F_GETFL) & O_NONBLOCK) ? 1 : 0);
	close(s);
	close(c);
	fcntl(l, F_SETFL, 0);
	/* Non-blocking connect. */
	c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = C(connect(c, (struct sockaddr *)&a, in.len));
	CASE(NM(&in, "tcp", "nonblock_connect"), "%s", r_(r));
	struct pollfd pf = {c, POLLOUT, 0};
	poll(&pf, 1, 1000);
	CASE(NM(&in, "tcp", "nonblock_connect_pollout"), "revents=%#x so_error=%s", pf.revents, getopt_int(c, SOL_SOCKET, SO_ERROR));
	T(NM(&in, "tcp", "nonblock_connect_again"), connect(c, (struct sockaddr *)&a, in.len));
	s = accept(l, NULL, NULL);
	close(s);
	close(c);
	/* Connection refused, blocking and non-blocking. */
	struct sockaddr_storage closed = a;
	{
		int t = socket(family, SOCK_STREAM, 0);
		struct sockaddr_storage z = in.lo;
		bind(t, (struct sockaddr *)&z, in.len);
		setport(&closed, getport(t));
		close(t);
	}
	c = socket(family, SOCK_STREAM, 0);
	T(NM(&in, "tcp", "connect_refused"), connect(c, (struct sockaddr *)&closed, in.len));
	close(c);
	c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = C(connect(c, (struct sockaddr *)&closed, in.len));
	pf = (struct pollfd){c, POLLOUT, 0};
	poll(&pf, 1, 1000);
	CASE(NM(&in, "tcp", "nonblock_connect_refused"), "%s so_error=%s", r_(r), getopt_int(c, SOL_SOCKET, SO_ERROR));
	close(c);
	/* Binding to an address that is not local. */
	c = socket(family, SOCK_STREAM, 0);
	struct sockaddr_storage nl = in.lo;
	if (family == AF_INET)
		inet_pton(AF_INET, "192.0.2.1", &((struct sockaddr_in *)&nl)->sin_addr);
	else
		inet_pton(AF_INET6, "2001:db8::1", &((struct sockaddr_in6 *)&nl)->sin6_addr);
	T(NM(&in, "tcp", "bind_nonlocal"), bind(c, (struct sockaddr *)&nl, in.len));
	setsockopt(c, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof one);
	T(NM(&in, "tcp", "bind_nonlocal_freebind"), bind(c, (struct sockaddr *)&nl, in.len));
	close(c);
	c = socket(family, SOCK_STREAM, 0);
	T(NM(&in, "tcp", "bind_short_len"), bind(c, (struct sockaddr *)&in.lo, 4));
	T(NM(&in, "tcp", "listen_unbound"), listen(c, 1));
	CASE(NM(&in, "tcp", "listen_unbound_port"), "%s", getport(c) > 0 ? "assigned" : "none");
	close(c);
	c = socket(family, SOCK_STREAM, 0);
	T(NM(&in, "tcp", "bind_privileged_port_root"), ({ struct sockaddr_storage p = in.lo; setport(&p, 81); bind(c, (struct sockaddr *)&p, in.len); }));
	close(c);
	/* SO_REUSEPORT lets two sockets bind the same port. */
	{
		int r1 = socket(family, SOCK_STREAM, 0), r2 = socket(family, SOCK_STREAM, 0);
		setsockopt(r1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		setsockopt(r2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		struct sockaddr_storage z = in.lo;
		bind(r1, (struct sockaddr *)&z, in.len);
		setport(&z, getport(r1));
		T(NM(&in, "tcp", "reuseport_second_bind"), bind(r2, (struct sockaddr *)&z, in.len));
		close(r1);
		close(r2);
	}
	/* Large transfer through a child. */
	c = socket(family, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, in.len);
	s = accept(l, NULL, NULL);
	pid_t k = fork();
	if (k == 0) {
		char *buf = malloc(1 << 20);
		memset(buf, 'z', 1 << 20);
		long left = 4 << 20;
		while (left > 0) {
			long w = send(c, buf, left > (1 << 20) ? (1 << 20) : left, 0);
			if (w <= 0)
				_exit(1);
			left -= w;
		}
		close(c);
		_exit(0);
	}
	close(c);
	long total = 0;
	{
		char buf[65536];
		rcvtimeo(s, 3000);
		for (;;) {
			long n = recv(s, buf, sizeof buf, 0);
			if (n <= 0)
				break;
			total += n;
		}
	}
	CASE(NM(&in, "tcp", "bulk_4mib"), "received=%ld sender=%s", total, waitchild(k));
	close(s);
	/* Dual stack: a v6 socket accepts v4-mapped connections. */
	if (family == AF_INET6) {
		int d = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
		bind(d, (struct sockaddr *)&any, sizeof any);
		listen(d, 1);
		int dp = getport(d);
		int c4 = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(dp), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		T("tcp_v6.dualstack_v4_connect", connect(c4, (struct sockaddr *)&v4, sizeof v4));
		struct sockaddr_storage pb;
		socklen_t pbl = sizeof pb;
		int as = accept4(d, (struct sockaddr *)&pb, &pbl, SOCK_NONBLOCK);
		CASE("tcp_v6.dualstack_peer", "%s %s", r_fd(as), as >= 0 ? addrstr(&pb, 0) : "");
		close(as);
		close(c4);
		close(d);
		d = socket(AF_INET6, SOCK_STREAM, 0);
		setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		bind(d, (struct sockaddr *)&any, sizeof any);
		listen(d, 1);
		v4.sin_port = htons(getport(d));
		c4 = socket(AF_INET, SOCK_STREAM, 0);
		T("tcp_v6.v6only_v4_connect", connect(c4, (struct sockaddr *)&v4, sizeof v4));
		close(c4);
		close(d);
	}
	close(l);
}

static void udp_suite(int family)
{
	struct inet in;
	loaddr(&in, family);
	int s = socket(family, SOCK_DGRAM, 0);
	CASE(NM(&in, "udp", "socket"), "%s", r_fd(s));
	struct sockaddr_storage a = in.lo, b;
	long r = C(bind(s, (struct sockaddr *)&a, in.len));
	CASE(NM(&in, "udp", "bind"), "%s", r_(r));
	if (r < 0) {
		close(s);
		return;
	}
	setport(&a, getport(s));
	rcvtimeo(s, 1000);
	int c = socket(family, SOCK_DGRAM, 0);
	rcvtimeo(c, 1000);
	T(NM(&in, "udp", "sendto"), sendto(c, "dgram1", 6, 0, (struct sockaddr *)&a, in.len));
	T(NM(&in, "udp", "sendto2"), sendto(c, "dg2", 3, 0, (struct sockaddr *)&a, in.len));
	CASE(NM(&in, "udp", "sender_autobound"), "%s", getport(c) > 0 ? "yes" : "no");
	socklen_t bl = sizeof b;
	char buf[70000];
	long n = C(recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&b, &bl));
	CASE(NM(&in, "udp", "recvfrom"), "%s from=%s", quoted(buf, n), addrstr(&b, 1));
	T(NM(&in, "udp", "peek_len"), recv(s, buf, sizeof buf, MSG_PEEK));
	struct iovec iov = {buf, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	n = C(recvmsg(s, &mh, 0));
	CASE(NM(&in, "udp", "truncated"), "%s trunc=%d", quoted(buf, n), !!(mh.msg_flags & MSG_TRUNC));
	T(NM(&in, "udp", "recv_empty_dontwait"), recv(s, buf, sizeof buf, MSG_DONTWAIT));
	T(NM(&in, "udp", "zero_length"), sendto(c, "", 0, 0, (struct sockaddr *)&a, in.len));
	T(NM(&in, "udp", "recv_zero_length"), recv(s, buf, sizeof buf, 0));
	int maxp = family == AF_INET ? 65507 : 65527;
	T(NM(&in, "udp", "max_payload"), sendto(c, buf, maxp, 0, (struct sockaddr *)&a, in.len));
	T(NM(&in, "udp", "recv_max_payload"), recv(s, buf, sizeof buf, 0));
	T(NM(&in, "udp", "over_max_payload"), sendto(c, buf, maxp + 1, 0, (struct sockaddr *)&a, in.len));
	T(NM(&in, "udp", "send_unconnected_no_addr"), send(c, "x", 1, 0));
	T(NM(&in, "udp", "connect"), connect(c, (struct sockaddr *)&a, in.len));
	T(NM(&in, "udp", "send_connected"), send(c, "cx", 2, 0));
	CASE(NM(&in, "udp", "recv_connected"), "%s", recvstr(s, 64, 0));
	bl = sizeof b;
	getpeername(c, (struct sockaddr *)&b, &bl);
	CASE(NM(&in, "udp", "getpeername"), "%s", addrstr(&b, 1));
	/* A connected socket only receives from its peer. */
	int o = socket(family, SOCK_DGRAM, 0);
	struct sockaddr_storage ca;
	socklen_t cal = sizeof ca;
	getsockname(c, (struct sockaddr *)&ca, &cal);
	sendto(o, "stranger", 8, 0, (struct sockaddr *)&ca, cal);
	sendto(s, "peer", 4, 0, (struct sockaddr *)&ca, cal);
	CASE(NM(&in, "udp", "connected_filters"), "%s", recvstr(c, 64, 0));
	close(o);
	struct sockaddr_storage un = {.ss_family = AF_UNSPEC};
	T(NM(&in, "udp", "disconnect_af_unspec"), connect(c, (struct sockaddr *)&un, sizeof un));
	T(NM(&in, "udp", "getpeername_after_disconnect"), ({ socklen_t q = sizeof b; getpeername(c, (struct sockaddr *)&b, &q); }));
	/* ICMP port unreachable becomes ECONNREFUSED on a connected socket. */
	struct sockaddr_storage closed = in.lo;
	{
		int t = socket(family, SOCK_DGRAM, 0);
		bind(t, (struct sockaddr *)&closed, in.len);
		setport(&closed, getport(t));
		close(t);
	}
	connect(c, (struct sockaddr *)&closed, in.len);
	send(c, "x", 1, 0);
	sleep_ms(50);
	T(NM(&in, "udp", "refused_recv"), recv(c, buf, sizeof buf, 0));
	send(c, "x", 1, 0);
	sleep_ms(50);
	CASE(NM(&in, "udp", "refused_so_error"), "%s", getopt_int(c, SOL_SOCKET, SO_ERROR));
	close(c);
	/* sendmmsg / recvmmsg */
	c = socket(family, SOCK_DGRAM, 0);
	struct mmsghdr mm[3];
	struct iovec mv[3] = {{"m1", 2}, {"m22", 3}, {"m333", 4}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &mv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &a;
		mm[i].msg_hdr.msg_namelen = in.len;
	}
	T(NM(&in, "udp", "sendmmsg"), sendmmsg(c, mm, 3, 0));
	char rb[3][16];
	struct iovec rv[3] = {{rb[0], 16}, {rb[1], 16}, {rb[2], 16}};
	struct mmsghdr rm[3];
	memset(rm, 0, sizeof rm);
	for (int i = 0; i < 3; i++) {
		rm[i].msg_hdr.msg_iov = &rv[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	sleep_ms(10);
	n = C(recvmmsg(s, rm, 3, MSG_DONTWAIT, NULL));
	CASE(NM(&in, "udp", "recvmmsg"), "%s lens=%u,%u,%u", r_(n), rm[0].msg_len, rm[1].msg_len, rm[2].msg_len);
	/* Ancillary data. */
	int one = 1;
	if (family == AF_INET)
		T(NM(&in, "udp", "ip_pktinfo"), setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof one));
	else
		T(NM(&in, "udp", "ipv6_recvpktinfo"), setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one));
	T(NM(&in, "udp", "so_timestamp"), setsockopt(s, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one));
	sendto(c, "anc", 3, 0, (struct sockaddr *)&a, in.len);
	{
		char cb[512];
		struct iovec ai = {buf, 64};
		struct msghdr ah = {.msg_iov = &ai, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
		n = C(recvmsg(s, &ah, 0));
		char *names[8];
		int k = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&ah); cm && k < 8; cm = CMSG_NXTHDR(&ah, cm)) {
			char *e = sbuf();
			snprintf(e, 2048, "%d/%d", cm->cmsg_level, cm->cmsg_type);
			names[k++] = e;
		}
		CASE(NM(&in, "udp", "ancillary"), "%s cmsgs=%s", r_(n), joinsorted(names, k, ","));
	}
	CASE(NM(&in, "udp", "so_rcvbuf_positive"), "%s", atoi(getopt_int(s, SOL_SOCKET, SO_RCVBUF)) > 0 ? "yes" : "no");
	CASE(NM(&in, "udp", "broadcast_default"), "%s", getopt_int(s, SOL_SOCKET, SO_BROADCAST));
	if (family == AF_INET) {
		CASE(NM(&in, "udp", "multicast_loop_default"), "%s", getopt_int(s, IPPROTO_IP, IP_MULTICAST_LOOP));
		CASE(NM(&in, "udp", "multicast_ttl_default"), "%s", getopt_int(s, IPPROTO_IP, IP_MULTICAST_TTL));
		struct sockaddr_in bc = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
		T(NM(&in, "udp", "broadcast_without_opt"), sendto(c, "b", 1, 0, (struct sockaddr *)&bc, sizeof bc));
	} else
		CASE(NM(&in, "udp", "multicast_loop_default"), "%s", getopt_int(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP));
	T(NM(&in, "udp", "listen"), listen(s, 1));
	T(NM(&in, "udp", "accept"), accept(s, NULL, NULL));
	T(NM(&in, "udp", "shutdown_unconnected"), shutdown(c, SHUT_RD));
	close(c);
	close(s);
}

static void g_inet(void)
{
	signal(SIGPIPE, SIG_IGN);
	tcp_suite(AF_INET);
	udp_suite(AF_INET);
}

static void g_inet6(void)
{
	signal(SIGPIPE, SIG_IGN);
	tcp_suite(AF_INET6);
	udp_suite(AF_INET6);
}

static void g_misc(void)
{
	T("socket.bad_domain", socket(12345, SOCK_STREAM, 0));
	T("socket.bad_type", socket(AF_INET, 12345, 0));
	T("socket.proto_mismatch", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	T("socket.unix_bad_protocol", socket(AF_UNIX, SOCK_STREAM, 1));
	T("socket.bad_flags", socket(AF_INET, SOCK_STREAM | 0x1000, 0));
	{
		static const struct {
			int d, t, p;
			const char *name;
		} ks[] = {
		    {AF_INET, SOCK_RAW, IPPROTO_ICMP, "raw_icmp"},
		    {AF_INET, SOCK_DGRAM, IPPROTO_ICMP, "ping_dgram"},
		    {AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "raw_icmpv6"},
		    {AF_PACKET, SOCK_RAW, 0, "packet_raw"},
		    {AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */, "netlink_route"},
		    {AF_NETLINK, SOCK_RAW, 15 /* NETLINK_KOBJECT_UEVENT */, "netlink_uevent"},
		    {AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */, "netlink_audit"},
		    {AF_INET, SOCK_STREAM, IPPROTO_SCTP, "sctp"},
		    {AF_INET, SOCK_DCCP, 0, "dccp"},
		    {AF_VSOCK, SOCK_STREAM, 0, "vsock"},
		    {AF_ALG, SOCK_SEQPACKET, 0, "alg"},
		    {AF_KEY, SOCK_RAW, 2, "key"},
		    {AF_BLUETOOTH, SOCK_STREAM, 0, "bluetooth"},
		    {AF_INET, SOCK_SEQPACKET, 0, "inet_seqpacket"},
		    {AF_INET6, SOCK_STREAM, IPPROTO_MPTCP, "mptcp6"},
		};
		for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
			char name[64];
			snprintf(name, sizeof name, "socket.%s", ks[i].name);
			int fd = C(socket(ks[i].d, ks[i].t, ks[i].p));
			CASE(name, "%s", r_fd(fd));
			if (fd >= 0)
				close(fd);
		}
	}
	int fd = open("/dev/null", O_RDONLY);
	T("getsockopt.not_socket", ({ int q; socklen_t ql = sizeof q; getsockopt(fd, SOL_SOCKET, SO_TYPE, &q, &ql); }));
	T("send.not_socket", send(fd, "x", 1, 0));
	T("shutdown.not_socket", shutdown(fd, SHUT_RD));
	close(fd);
	/* Netlink route dump: the loopback interface is listed. */
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (nl >= 0) {
		struct {
			struct {
				uint32_t len;
				uint16_t type, flags;
				uint32_t seq, pid;
			} h;
			struct {
				unsigned char family, pad;
				unsigned short type;
				int index;
				unsigned flags, change;
			} ifi;
		} req = {{sizeof req, 18 /* RTM_GETLINK */, 0x301 /* NLM_F_REQUEST|NLM_F_DUMP */, 1, 0}, {0}};
		T("netlink.getlink_send", send(nl, &req, sizeof req, 0));
		rcvtimeo(nl, 1000);
		char buf[32768];
		long n = C(recv(nl, buf, sizeof buf, 0));
		int found_lo = 0;
		for (long i = 0; i + 3 < n; i++)
			if (memcmp(buf + i, "lo\0", 3) == 0)
				found_lo = 1;
		CASE("netlink.getlink_lo", "%s found_lo=%d", n > 0 ? "ok" : r_(n), found_lo);
		close(nl);
	}
	/* Interface ioctls. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	{
		struct {
			char name[16];
			union {
				short flags;
				int ivalue;
				struct sockaddr addr;
			};
			char pad[16];
		} ifr;
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.name, "lo");
		long r = C(ioctl(s, SIOCGIFFLAGS, &ifr));
		CASE("ioctl.siocgifflags_lo", "%s up=%d loopback=%d", r_(r), !!(ifr.flags & 1), !!(ifr.flags & 8));
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.name, "lo");
		r = C(ioctl(s, SIOCGIFMTU, &ifr));
		CASE("ioctl.siocgifmtu_lo", "%s mtu=%d", r_(r), ifr.ivalue);
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.name, "lo");
		r = C(ioctl(s, SIOCGIFINDEX, &ifr));
		CASE("ioctl.siocgifindex_lo", "%s index=%d", r_(r), ifr.ivalue);
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.name, "nosuchif0");
		T("ioctl.siocgifflags_missing", ioctl(s, SIOCGIFFLAGS, &ifr));
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.name, "lo");
		r = C(ioctl(s, SIOCGIFADDR, &ifr));
		CASE("ioctl.siocgifaddr_lo", "%s %s", r_(r), r == 0 ? addrstr((struct sockaddr_storage *)&ifr.addr, 0) : "");
	}
	close(s);
}

int main(void)
{
	g_area = "sockets";
	signal(SIGPIPE, SIG_IGN);
	run_group("unix_stream", g_unix_stream, 20);
	run_group("unix_dgram", g_unix_dgram, 20);
	run_group("unix_scm", g_unix_scm, 20);
	run_group("inet", g_inet, 30);
	run_group("inet6", g_inet6, 30);
	run_group("misc", g_misc, 20);
	return 0;
}
