/*
 * identity: user and group ids (set*uid/set*gid/setgroups/setfs*id),
 * capabilities (capget/capset, bounding and ambient sets, securebits) and
 * how they gate real operations (chown, DAC, kill, binding low ports).
 * The program runs as root in the container; every credential change is
 * made in a forked child so cases stay independent.
 */
#include "common.h"

#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/xattr.h>

#define DIR_ "/tmp/cid"

static int capget_(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capget, &h, d);
}

static int capset_(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capset, &h, d);
}

static const char *caps(void)
{
	KEEP_E;
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	long r = C(capget_(d));
	if (r < 0)
		return RESTORE_E(r_(r));
	char *b = sbuf();
	snprintf(b, 2048, "eff=%08x%08x prm=%08x%08x inh=%08x%08x", d[1].effective, d[0].effective, d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
	return RESTORE_E((const char *)b);
}

static const char *ids(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	char *b = sbuf();
	snprintf(b, 2048, "uid=%u,%u,%u gid=%u,%u,%u fsuid=%d", r, e, s, rg, eg, sg, setfsuid(-1));
	return b;
}

static const char *groups(void)
{
	gid_t g[256];
	int n = getgroups(256, g);
	char *b = sbuf();
	if (n < 0)
		return r_(-1);
	char *v[256];
	for (int i = 0; i < n; i++) {
		v[i] = sbuf();
		snprintf(v[i], 2048, "%05u", g[i]);
	}
	snprintf(b, 2048, "n=%d [%s]", n, joinsorted(v, n, ","));
	return b;
}

/* In a child: run fn and report its CASE lines; the parent records status. */
#define CHILD(name, ...)                             \
	do {                                             \
		pid_t _c = fork();                           \
		if (_c == 0) {                               \
			__VA_ARGS__;                             \
			_exit(0);                                \
		}                                            \
		CASE(name ".status", "%s", waitchild(_c)); \
	} while (0)

static void g_ids(void)
{
	CASE("initial.ids", "%s", ids());
	CASE("initial.groups", "%s", groups());
	CASE("initial.caps", "%s", caps());
	T("getgroups.size_zero", getgroups(0, NULL));
	T("getgroups.too_small", ({ gid_t g[1]; getgroups(0, NULL) > 1 ? getgroups(1, g) : (errno = EINVAL, -1L); }));
	CHILD("setgroups", {
		gid_t g[3] = {3, 1, 2};
		T("setgroups.three", setgroups(3, g));
		CASE("setgroups.readback", "%s", groups());
		T("setgroups.empty", setgroups(0, NULL));
		CASE("setgroups.empty_readback", "%s", groups());
		T("setgroups.too_many", setgroups(70000, g));
		T("setgroups.negative", setgroups(-1, g));
	});
	CHILD("setuid_drop", {
		T("setuid.to_1000", setuid(1000));
		CASE("setuid.ids_after", "%s", ids());
		CASE("setuid.caps_after", "%s", caps());
		T("setuid.back_to_0", setuid(0));
		T("setgid.after_drop", setgid(0));
		T("setgroups.after_drop", setgroups(0, NULL));
		T("seteuid.other_after_drop", seteuid(2000));
		CASE("setuid.proc_status_uid", "%s", ({ char *s = readfile("/proc/self/status", NULL); char *u = s ? strstr(s, "Uid:") : NULL; char *b = sbuf(); if (u) { char *e = strchr(u, '\n'); snprintf(b, 2048, "%.*s", (int)(e - u), u); } free(s); (const char *)b; }));
	});
	CHILD("seteuid", {
		T("seteuid.to_1000", seteuid(1000));
		CASE("seteuid.ids", "%s", ids());
		CASE("seteuid.caps", "%s", caps());
		T("seteuid.back_to_0", seteuid(0));
		CASE("seteuid.caps_restored", "%s", caps());
	});
	CHILD("setresuid", {
		T("setresuid.mixed", setresuid(1000, 2000, 0));
		CASE("setresuid.ids", "%s", ids());
		T("setresuid.unchanged_minus1", setresuid(-1, -1, -1));
		T("setresuid.swap_to_saved", setresuid(0, 0, 0));
		CASE("setresuid.ids_restored", "%s", ids());
	});
	CHILD("setreuid", {
		T("setreuid.real_and_effective", setreuid(1000, 1000));
		CASE("setreuid.ids", "%s", ids());
	});
	CHILD("keepcaps", {
		prctl(PR_SET_KEEPCAPS, 1);
		T("keepcaps.setresuid", setresuid(1000, 1000, 1000));
		CASE("keepcaps.caps_after", "%s", caps());
		T("keepcaps.cleared_flag", prctl(PR_GET_KEEPCAPS));
	});
	CHILD("setgid", {
		T("setgid.to_1000", setgid(1000));
		T("setresgid.mixed", setresgid(1000, 2000, 3000));
		CASE("setresgid.ids", "%s", ids());
		T("setegid.to_saved", setegid(3000));
		T("setregid.both", setregid(5, 6));
		CASE("setregid.ids", "%s", ids());
	});
	CHILD("setfsuid", {
		CASE("setfsuid.returns_previous", "%d", setfsuid(1000));
		CASE("setfsuid.now", "%d", setfsuid(-1));
		mkdir(DIR_, 0777);
		chmod(DIR_, 0777);
		int fd = open(DIR_ "/fsuid", O_CREAT | O_WRONLY, 0644);
		close(fd);
		CASE("setfsuid.file_owner", "%s", statdesc(DIR_ "/fsuid", 1));
		CASE("setfsgid.returns_previous", "%d", setfsgid(1000));
		CASE("setfsuid.caps", "%s", caps());
		unlink(DIR_ "/fsuid");
	});
}

static void g_caps(void)
{
	struct __user_cap_header_struct h = {0, 0};
	struct __user_cap_data_struct d[2];
	T("capget.version_probe", syscall(SYS_capget, &h, NULL));
	CASE("capget.version_written", "%#x", h.version);
	h.version = _LINUX_CAPABILITY_VERSION_1;
	T("capget.v1", syscall(SYS_capget, &h, d));
	h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, 0};
	T("capget.v3", syscall(SYS_capget, &h, d));
	h.pid = getppid();
	T("capget.other_pid", syscall(SYS_capget, &h, d));
	h.pid = 999999;
	T("capget.missing_pid", syscall(SYS_capget, &h, d));
	h.pid = getppid();
	capget_(d);
	T("capset.other_pid", syscall(SYS_capset, &h, d));
	{
		unsigned long long bnd = 0;
		for (int c = 0; c < 64; c++)
			if (prctl(PR_CAPBSET_READ, c) == 1)
				bnd |= 1ULL << c;
		CASE("bounding.set", "%016llx", bnd);
		int last = -1;
		for (int c = 0; c < 64; c++)
			if (prctl(PR_CAPBSET_READ, c) >= 0)
				last = c;
		CASE("bounding.last_valid", "%d", last);
		char *cl = readfile("/proc/sys/kernel/cap_last_cap", NULL);
		CASE("proc.cap_last_cap", "%s", cl ? cl : r_(-1));
		free(cl);
	}
	CHILD("capset_drop_chown", {
		struct __user_cap_data_struct c[2];
		capget_(c);
		c[0].effective &= ~(1u << CAP_CHOWN);
		T("capset.drop_effective_chown", capset_(c));
		CASE("capset.after_drop", "%s", caps());
		mkdir(DIR_, 0777);
		writefile(DIR_ "/c", "", 0644);
		T("chown.without_cap_chown", chown(DIR_ "/c", 1000, 1000));
		T("chown.own_group_without_cap", chown(DIR_ "/c", 0, 0));
		c[0].effective |= 1u << CAP_CHOWN;
		T("capset.raise_back_from_permitted", capset_(c));
		T("chown.with_cap_chown", chown(DIR_ "/c", 1000, 1000));
		c[0].permitted &= ~(1u << CAP_CHOWN);
		c[0].effective &= ~(1u << CAP_CHOWN);
		T("capset.drop_permitted", capset_(c));
		c[0].effective |= 1u << CAP_CHOWN;
		T("capset.raise_not_permitted", capset_(c));
		c[0].effective &= ~(1u << CAP_CHOWN);
		c[0].inheritable |= 1u << CAP_SYS_ADMIN;
		T("capset.inheritable_outside_bounding", capset_(c));
		c[0].inheritable = 1u << CAP_KILL;
		T("capset.inheritable_from_permitted", capset_(c));
		CASE("capset.inheritable_readback", "%s", caps());
		T("ambient.raise_kill", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
		T("ambient.is_set_kill", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
		T("ambient.raise_not_inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0));
		T("ambient.clear_all", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
		T("ambient.bad_op", prctl(PR_CAP_AMBIENT, 99, 0, 0, 0));
		unlink(DIR_ "/c");
	});
	CHILD("dac", {
		mkdir(DIR_, 0777);
		writefile(DIR_ "/secret", "s", 0600);
		chown(DIR_ "/secret", 1000, 1000);
		chmod(DIR_ "/secret", 0);
		int fd = TFD("dac.root_opens_0000", open(DIR_ "/secret", O_RDONLY));
		close(fd);
		struct __user_cap_data_struct c[2];
		capget_(c);
		c[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
		capset_(c);
		TFD("dac.without_override", open(DIR_ "/secret", O_RDONLY));
		T("fowner.chmod_others_file", chmod(DIR_ "/secret", 0600));
		c[0].effective &= ~(1u << CAP_FOWNER);
		capset_(c);
		T("fowner.chmod_without_cap", chmod(DIR_ "/secret", 0644));
		T("fowner.utime_without_cap", utimensat(AT_FDCWD, DIR_ "/secret", (struct timespec[2]){{0, 0}, {0, 0}}, 0));
		unlink(DIR_ "/secret");
	});
	CHILD("kill_cap", {
		int ready[2];
		pipe(ready);
		pid_t t = fork();
		if (t == 0) {
			setuid(2000);
			write(ready[1], "r", 1);
			sleep_ms(2000);
			_exit(0);
		}
		char ch;
		read(ready[0], &ch, 1);
		T("kill.cap_kill_other_uid", kill(t, 0));
		struct __user_cap_data_struct c[2];
		capget_(c);
		c[0].effective &= ~(1u << CAP_KILL);
		capset_(c);
		T("kill.without_cap_kill", kill(t, 0));
		kill(t, SIGKILL);
		waitchild(t);
	});
	CHILD("bind_cap", {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(82), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		T("bind.low_port_root", bind(s, (struct sockaddr *)&a, sizeof a));
		close(s);
		struct __user_cap_data_struct c[2];
		capget_(c);
		c[0].effective &= ~(1u << CAP_NET_BIND_SERVICE);
		capset_(c);
		s = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_port = htons(83);
		T("bind.low_port_without_cap", bind(s, (struct sockaddr *)&a, sizeof a));
		close(s);
		char *v = readfile("/proc/sys/net/ipv4/ip_unprivileged_port_start", NULL);
		CASE("sysctl.ip_unprivileged_port_start", "%s", v ? v : r_(-1));
		free(v);
	});
	CHILD("bounding_drop", {
		T("bounding.drop_sys_chroot", prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT));
		T("bounding.read_after_drop", prctl(PR_CAPBSET_READ, CAP_SYS_CHROOT));
		T("bounding.drop_invalid", prctl(PR_CAPBSET_DROP, 200));
		struct __user_cap_data_struct c[2];
		capget_(c);
		c[0].effective &= ~(1u << CAP_SETPCAP);
		capset_(c);
		T("bounding.drop_without_setpcap", prctl(PR_CAPBSET_DROP, CAP_MKNOD));
	});
	CHILD("securebits", {
		T("securebits.get", prctl(PR_GET_SECUREBITS));
		T("securebits.set_noroot", prctl(PR_SET_SECUREBITS, 1 /* SECBIT_NOROOT */));
		T("securebits.get_after", prctl(PR_GET_SECUREBITS));
		T("securebits.set_locked_then_change", ({ prctl(PR_SET_SECUREBITS, 3); prctl(PR_SET_SECUREBITS, 1); }));
	});
	CHILD("privileged_ops", {
		mkdir(DIR_, 0777);
		T("sethostname", sethostname("x", 1));
		T("setdomainname", setdomainname("x", 1));
		/* LINUX_REBOOT_CMD_CAD_OFF only toggles ctrl-alt-del: harmless if allowed. */
		T("reboot.cad_off", syscall(SYS_reboot, 0xfee1dead, 672274793, 0, NULL));
		T("syslog.read_all", syscall(SYS_syslog, 3, NULL, 0));
		T("iopl", syscall(SYS_iopl, 3));
		T("ioperm", syscall(SYS_ioperm, 0x80, 1, 1));
		T("swapon", syscall(SYS_swapon, "/nonexistent", 0));
		T("acct", syscall(SYS_acct, NULL));
		T("init_module", syscall(SYS_init_module, NULL, 0, ""));
		T("quotactl", syscall(SYS_quotactl, 0, "/", 0, NULL));
		CASE("keyctl.get_keyring", "%s", r_ok(C(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0))));
		CASE("add_key", "%s", r_ok(C(syscall(SYS_add_key, "user", "conf", "x", 1, -3))));
		T("bpf.prog_load", syscall(SYS_bpf, 5, NULL, 0));
		T("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
		T("userfaultfd", syscall(SYS_userfaultfd, 0));
		T("mknod.block_device", mknod(DIR_ "/blk", S_IFBLK | 0600, 0x0801));
		T("chroot.allowed", chroot("/"));
		CASE("nice.negative", "%s", ({ errno = 0; int n = nice(-1); E = errno; char *b = sbuf(); snprintf(b, 2048, "nice=%d", n); E ? r_(-1) : (const char *)b; }));
		T("setxattr.security_capability", ({ mkdir(DIR_, 0777); writefile(DIR_ "/fcap", "", 0755); char v[20] = {0}; v[0] = 2; v[3] = 2; setxattr(DIR_ "/fcap", "security.capability", v, 20, 0); }));
		T("lookup_dcookie", syscall(SYS_lookup_dcookie, 0, NULL, 0));
		T("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
		T("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
		T("name_to_handle_at", ({ char hbuf[128] = {0}; *(unsigned *)hbuf = 64; int mid; syscall(SYS_name_to_handle_at, AT_FDCWD, "/", hbuf, &mid, 0); }));
		T("vhangup", syscall(SYS_vhangup));
		T("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
	});
	rmtree(DIR_);
}

static void g_user(void)
{
	/* As a plain user: what an unprivileged process can and cannot do. */
	CHILD("user", {
		setgroups(0, NULL);
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		CASE("user.caps", "%s", caps());
		CASE("user.groups", "%s", groups());
		T("user.setgroups", setgroups(0, NULL));
		T("user.setuid_same", setuid(1000));
		T("user.setuid_other", setuid(2000));
		T("user.setresuid_permute", setresuid(1000, 1000, 1000));
		struct __user_cap_data_struct c[2];
		memset(c, 0, sizeof c);
		c[0].effective = 1;
		T("user.capset_raise", capset_(c));
		T("user.prctl_no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
		T("user.dumpable", prctl(PR_GET_DUMPABLE));
		T("user.chown_own_file", ({ writefile("/tmp/cid-user", "", 0644); chown("/tmp/cid-user", 2000, 2000); }));
		T("user.chgrp_not_member", chown("/tmp/cid-user", -1, 2000));
		T("user.read_pid1_environ", ({ long fd = open("/proc/1/environ", O_RDONLY); if (fd >= 0) close(fd); fd >= 0 ? 0 : -1; }));
		T("user.read_proc_self_environ", ({ long fd = open("/proc/self/environ", O_RDONLY); if (fd >= 0) close(fd); fd >= 0 ? 0 : -1; }));
		T("user.mlock_small", ({ static char pg[4096] __attribute__((aligned(4096))); mlock(pg, 4096); }));
		T("user.setpriority_lower", setpriority(PRIO_PROCESS, 0, -1));
		T("user.setrlimit_raise_hard", ({ struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_max++; setrlimit(RLIMIT_NOFILE, &rl); }));
		unlink("/tmp/cid-user");
	});
	CASE("nobody.exists_in_passwd", "%d", ({ char *p = readfile("/etc/passwd", NULL); int r = p && strstr(p, "nobody:") != NULL; free(p); r; }));
}

int main(void)
{
	g_area = "identity";
	run_group("ids", g_ids, 20);
	run_group("caps", g_caps, 20);
	run_group("user", g_user, 20);
	return 0;
}
