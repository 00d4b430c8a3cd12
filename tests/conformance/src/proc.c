/*
 * proc: the shape of well-known /proc and /sys files. Values vary with the
 * machine and the moment, so what is recorded is presence, readability and
 * a "shape": every run of digits becomes N and long hex words become X<len>,
 * e.g. "Cpus_allowed_list: 0-1" -> "N-N". Constants fixed by the ABI
 * (cmdline, exe, page size) are recorded as values.
 */
#include "common.h"

#include <dirent.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>

static const char *shape(const char *v)
{
	char *b = sbuf();
	int k = 0;
	const char *p = v;
	while (*p && k < 1900) {
		if (*p == ' ' || *p == '\t') {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p && *p != '\n')
				b[k++] = ' ';
			continue;
		}
		if (*p == '\n') {
			b[k++] = '|';
			p++;
			continue;
		}
		/* A UUID (boot_id, random/uuid) in any digit/letter mix. */
		int uuid = strlen(p) >= 36;
		for (int i = 0; uuid && i < 36; i++)
			uuid = (i == 8 || i == 13 || i == 18 || i == 23) ? p[i] == '-' : strchr("0123456789abcdef", p[i]) != NULL && p[i] != 0;
		if (uuid) {
			k += snprintf(b + k, 2048 - k, "UUID");
			p += 36;
			continue;
		}
		/* A whole token of hex digits with a letter and >= 8 chars. */
		const char *q = p;
		int hexlen = 0, letter = 0;
		while (q[hexlen] && strchr("0123456789abcdef", q[hexlen])) {
			if (q[hexlen] >= 'a')
				letter = 1;
			hexlen++;
		}
		char end = q[hexlen];
		if (hexlen >= 8 && letter && (end == 0 || end == ' ' || end == '\t' || end == '\n' || end == ',' || end == ')' || end == ']' || end == '-' || end == ':')) {
			k += snprintf(b + k, 2048 - k, "X%d", hexlen);
			p += hexlen;
			continue;
		}
		if (*p >= '0' && *p <= '9') {
			while (*p >= '0' && *p <= '9')
				p++;
			b[k++] = 'N';
			continue;
		}
		b[k++] = *p++;
	}
	while (k > 0 && (b[k - 1] == ' ' || b[k - 1] == '|'))
		k--;
	b[k] = 0;
	return b;
}

/* fileshape: errno, "empty", or the shape of the first max_lines lines. */
static const char *fileshape(const char *path, int max_lines)
{
	long n;
	char *d = readfile(path, &n);
	if (!d)
		return r_(-1);
	if (n == 0) {
		free(d);
		return "empty";
	}
	char *p = d;
	for (int i = 0; i < max_lines && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p)
		*p = 0;
	const char *s = shape(d);
	free(d);
	return s;
}

/* kvget finds "Key:" at a line start in text and returns the value. */
static const char *kvget(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, kl) == 0 && (p[kl] == ':' || p[kl] == '\t' || p[kl] == ' ')) {
			const char *v = p + kl;
			while (*v == ':' || *v == ' ' || *v == '\t')
				v++;
			const char *e = strchr(v, '\n');
			char *b = sbuf();
			snprintf(b, 2048, "%.*s", e ? (int)(e - v) : (int)strlen(v), v);
			return b;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static void kvcases(const char *prefix, const char *path, const char *const *keys, int shaped)
{
	char *d = readfile(path, NULL);
	char name[128];
	if (!d) {
		snprintf(name, sizeof name, "%s.readable", prefix);
		CASE(name, "%s", r_(-1));
		return;
	}
	for (int i = 0; keys[i]; i++) {
		const char *v = kvget(d, keys[i]);
		snprintf(name, sizeof name, "%s.%s", prefix, keys[i]);
		CASE(name, "%s", v ? (shaped ? shape(v) : v) : "absent");
	}
	free(d);
}

static const char *readable(const char *path)
{
	KEEP_E;
	int fd = C(open(path, O_RDONLY));
	if (fd < 0)
		return RESTORE_E(r_(fd));
	char buf[4096];
	long n = C(read(fd, buf, sizeof buf));
	close(fd);
	if (n < 0)
		return RESTORE_E(r_(n));
	return RESTORE_E((const char *)(n > 0 ? "readable" : "empty"));
}

static const char *listdir(const char *path, int shaped)
{
	DIR *d = opendir(path);
	if (!d) {
		E = errno;
		return r_(-1);
	}
	char *v[512];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 512) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		v[n++] = strdup(shaped ? shape(e->d_name) : e->d_name);
	}
	closedir(d);
	/* Shaped names collapse: keep each shape once. */
	qsort(v, n, sizeof v[0], cmpstr);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (m == 0 || strcmp(v[m - 1], v[i]) != 0)
			v[m++] = v[i];
	return joinsorted(v, m, ",");
}

static const char *linkshape(const char *path)
{
	char buf[512];
	long n = C(readlink(path, buf, sizeof buf - 1));
	if (n < 0)
		return r_(n);
	buf[n] = 0;
	return shape(buf);
}

static void g_self(void)
{
	static const char *const status_keys[] = {"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages", "CoreDumping", "THP_enabled", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", "Speculation_Store_Bypass", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", NULL};
	kvcases("self_status", "/proc/self/status", status_keys, 1);
	{
		char *s = readfile("/proc/self/status", NULL);
		CASE("self_status.first_key", "%s", s ? (strncmp(s, "Name:", 5) == 0 ? "Name" : "other") : r_(-1));
		const char *u = s ? kvget(s, "Umask") : NULL;
		CASE("self_status.umask_value", "%s", u ? u : "absent");
		const char *st = s ? kvget(s, "State") : NULL;
		CASE("self_status.state_value", "%s", st ? st : "absent");
		const char *th = s ? kvget(s, "Threads") : NULL;
		CASE("self_status.threads_value", "%s", th ? th : "absent");
		free(s);
	}
	/* stat: "pid (comm) state ..." with 52 fields on current kernels. */
	{
		char *s = readfile("/proc/self/stat", NULL);
		char *rp = s ? strrchr(s, ')') : NULL;
		int fields = 0;
		if (rp) {
			fields = 2;
			for (char *t = strtok(rp + 1, " \n"); t; t = strtok(NULL, " \n"))
				fields++;
		}
		CASE("self_stat.fields", "%d", fields);
		char comm[32] = {0};
		prctl(PR_GET_NAME, comm);
		char *lp = s ? strchr(s, '(') : NULL;
		CASE("self_stat.comm_in_parens", "%d", lp && rp && (size_t)(rp - lp - 1) == strlen(comm) && strncmp(lp + 1, comm, strlen(comm)) == 0);
		CASE("self_stat.state", "%c", rp ? rp[2] : '?');
		free(s);
	}
	CASE("self_statm.shape", "%s", fileshape("/proc/self/statm", 1));
	/* maps */
	{
		void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *s = readfile("/proc/self/maps", NULL);
		int all = 1, found = 0;
		char *names[64];
		int nn = 0;
		for (char *line = s ? strtok(s, "\n") : NULL; line; line = strtok(NULL, "\n")) {
			unsigned long lo, hi, off;
			char perms[8], dev[16];
			unsigned long ino;
			int pos = 0;
			if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &lo, &hi, perms, &off, dev, &ino, &pos) < 6) {
				all = 0;
				continue;
			}
			if (lo == (unsigned long)m && strcmp(perms, "r--p") == 0)
				found = 1;
			const char *nm = line + pos;
			if (*nm == '[' && nn < 64) {
				int dup = 0;
				for (int i = 0; i < nn; i++)
					if (strcmp(names[i], nm) == 0)
						dup = 1;
				if (!dup)
					names[nn++] = strdup(nm);
			}
		}
		CASE("self_maps.readable", "%s", s ? "yes" : r_(-1));
		CASE("self_maps.all_lines_parse", "%d", all);
		CASE("self_maps.new_mapping_listed", "%d", found);
		CASE("self_maps.special_names", "%s", joinsorted(names, nn, ","));
		free(s);
		s = readfile("/proc/self/maps", NULL);
		CASE("self_maps.exe_listed", "%d", s && strstr(s, "/conf/proc") != NULL);
		free(s);
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, m, 4096, "conf-anon");
		s = readfile("/proc/self/maps", NULL);
		CASE("self_maps.anon_name", "%d", s && strstr(s, "[anon:conf-anon]") != NULL);
		free(s);
	}
	{
		char *s = readfile("/proc/self/smaps", NULL);
		CASE("self_smaps.keys", "%s", s ? ({ char *b = sbuf(); snprintf(b, 2048, "Size=%d Rss=%d Pss=%d Swap=%d VmFlags=%d", kvget(s, "Size") != NULL, kvget(s, "Rss") != NULL, kvget(s, "Pss") != NULL, kvget(s, "Swap") != NULL, kvget(s, "VmFlags") != NULL); (const char *)b; }) : r_(-1));
		free(s);
		CASE("self_smaps_rollup", "%s", readable("/proc/self/smaps_rollup"));
	}
	/* fd and fdinfo */
	CASE("self_fd.entries", "%s", listdir("/proc/self/fd", 0));
	CASE("self_fd.0", "%s", linkshape("/proc/self/fd/0"));
	CASE("self_fd.1", "%s", linkshape("/proc/self/fd/1"));
	CASE("self_fd.2", "%s", linkshape("/proc/self/fd/2"));
	{
		char *s = readfile("/proc/self/fdinfo/0", NULL);
		char *keys[16];
		int n = 0;
		for (char *line = s ? strtok(s, "\n") : NULL; line && n < 16; line = strtok(NULL, "\n")) {
			char *c = strchr(line, ':');
			if (c) {
				*c = 0;
				keys[n++] = strdup(line);
			}
		}
		CASE("self_fdinfo.keys", "%s", s ? joinsorted(keys, n, ",") : r_(-1));
		free(s);
	}
	{
		long n;
		char *s = readfile("/proc/self/cmdline", &n);
		CASE("self_cmdline", "%s", s ? quoted(s, n) : r_(-1));
		free(s);
		s = readfile("/proc/self/environ", &n);
		char *names[64];
		int k = 0;
		for (long i = 0; s && i < n && k < 64; i += strlen(s + i) + 1) {
			char *eq = strchr(s + i, '=');
			names[k++] = strndup(s + i, eq ? (size_t)(eq - (s + i)) : strlen(s + i));
		}
		CASE("self_environ.names", "%s", s ? joinsorted(names, k, ",") : r_(-1));
		free(s);
	}
	/* mounts */
	{
		char *s = readfile("/proc/self/mounts", NULL);
		int bad = 0;
		char *mps[256];
		int n = 0;
		const char *roottype = "absent", *proctype = "absent", *tmptype = "absent", *shmtype = "absent", *devtype = "absent", *systype = "absent";
		for (char *line = s ? strtok(s, "\n") : NULL; line; line = strtok(NULL, "\n")) {
			char src[256], mp[256], type[64], opts[512];
			int a, b;
			if (sscanf(line, "%255s %255s %63s %511s %d %d", src, mp, type, opts, &a, &b) != 6) {
				bad++;
				continue;
			}
			if (n < 256)
				mps[n++] = strdup(mp);
			char *t = strdup(type);
			if (strcmp(mp, "/") == 0)
				roottype = t;
			if (strcmp(mp, "/proc") == 0)
				proctype = t;
			if (strcmp(mp, "/tmp") == 0)
				tmptype = t;
			if (strcmp(mp, "/dev/shm") == 0)
				shmtype = t;
			if (strcmp(mp, "/dev") == 0)
				devtype = t;
			if (strcmp(mp, "/sys") == 0)
				systype = t;
		}
		CASE("self_mounts.readable", "%s", s ? "yes" : r_(-1));
		CASE("self_mounts.unparseable_lines", "%d", bad);
		CASE("self_mounts.root_type", "%s", roottype);
		CASE("self_mounts.proc_type", "%s", proctype);
		CASE("self_mounts.sys_type", "%s", systype);
		CASE("self_mounts.dev_type", "%s", devtype);
		CASE("self_mounts.dev_shm_type", "%s", shmtype);
		CASE("self_mounts.tmp_type", "%s", tmptype);
		CASE("self_mounts.mountpoints", "%s", joinsorted(mps, n, ","));
		free(s);
		s = readfile("/proc/self/mountinfo", NULL);
		int ok = 1, lines = 0;
		for (char *line = s ? strtok(s, "\n") : NULL; line; line = strtok(NULL, "\n")) {
			lines++;
			if (!strstr(line, " - "))
				ok = 0;
		}
		CASE("self_mountinfo.shape", "%s", s ? (ok && lines > 0 ? "separator on every line" : "malformed") : r_(-1));
		free(s);
		CASE("proc_mounts_is_link", "%s", linkshape("/proc/mounts"));
	}
	CASE("self_exe", "%s", linkshape("/proc/self/exe"));
	CASE("self_cwd", "%s", linkshape("/proc/self/cwd"));
	CASE("self_root", "%s", linkshape("/proc/self/root"));
	CASE("self_link", "%s", linkshape("/proc/self"));
	CASE("thread_self_link", "%s", linkshape("/proc/thread-self"));
	{
		char *s = readfile("/proc/self/comm", NULL);
		CASE("self_comm", "%s", s ? s : r_(-1));
		free(s);
	}
	{
		char *s = readfile("/proc/self/limits", NULL);
		CASE("self_limits.header", "%s", s ? ({ char *e = strchr(s, '\n'); char *b = sbuf(); snprintf(b, 2048, "%.*s", e ? (int)(e - s) : 0, s); shape(b); }) : r_(-1));
		static const char *const lims[] = {"Max cpu time", "Max file size", "Max data size", "Max stack size", "Max core file size", "Max resident set", "Max processes", "Max open files", "Max locked memory", "Max address space", "Max file locks", "Max pending signals", "Max msgqueue size", "Max nice priority", "Max realtime priority", "Max realtime timeout", NULL};
		int present = 0, total = 0;
		for (int i = 0; lims[i]; i++, total++)
			if (s && strstr(s, lims[i]))
				present++;
		CASE("self_limits.rows", "%d/%d", present, total);
		free(s);
	}
	{
		/* Hierarchy ids and controllers only: the path names the container. */
		char *s = readfile("/proc/self/cgroup", NULL);
		char *v[32];
		int n = 0;
		for (char *line = s ? strtok(s, "\n") : NULL; line && n < 32; line = strtok(NULL, "\n")) {
			char *c = strrchr(line, ':');
			if (c)
				*c = 0;
			v[n++] = strdup(line);
		}
		CASE("self_cgroup.hierarchies", "%s", s ? joinsorted(v, n, ";") : r_(-1));
		free(s);
	}
	CASE("self_ns.entries", "%s", listdir("/proc/self/ns", 0));
	CASE("self_ns.mnt_link", "%s", linkshape("/proc/self/ns/mnt"));
	CASE("self_ns.user_link", "%s", linkshape("/proc/self/ns/user"));
	{
		char *s = readfile("/proc/self/oom_score_adj", NULL);
		CASE("self_oom_score_adj", "%s", s ? s : r_(-1));
		free(s);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY);
		long w = C(write(fd, "100", 3));
		close(fd);
		s = readfile("/proc/self/oom_score_adj", NULL);
		CASE("self_oom_score_adj.write", "%s now=%s", r_(w), s ? s : "?");
		free(s);
		fd = open("/proc/self/oom_score_adj", O_WRONLY);
		T("self_oom_score_adj.write_negative_needs_sys_resource", write(fd, "-100", 4));
		close(fd);
		CASE("self_oom_score", "%s", fileshape("/proc/self/oom_score", 1));
	}
	{
		char self[32];
		snprintf(self, sizeof self, "%d", getpid());
		const char *t = listdir("/proc/self/task", 0);
		CASE("self_task", "%s", strcmp(t, self) == 0 ? "only self" : t[0] == '-' ? t : "other");
	}
	/* auxv via getauxval. */
	CASE("auxv.pagesz", "%lu", getauxval(AT_PAGESZ));
	CASE("auxv.clktck", "%lu", getauxval(AT_CLKTCK));
	CASE("auxv.secure", "%lu", getauxval(AT_SECURE));
	CASE("auxv.uid", "%lu", getauxval(AT_UID));
	CASE("auxv.hwcap_nonzero", "%d", getauxval(AT_HWCAP) != 0);
	CASE("auxv.hwcap2_present", "%d", ({ errno = 0; getauxval(AT_HWCAP2); errno == 0; }));
	CASE("auxv.random_present", "%d", getauxval(AT_RANDOM) != 0);
	CASE("auxv.sysinfo_ehdr_present", "%d", getauxval(AT_SYSINFO_EHDR) != 0);
	CASE("auxv.execfn", "%s", getauxval(AT_EXECFN) ? (const char *)getauxval(AT_EXECFN) : "absent");
	CASE("auxv.platform", "%s", getauxval(AT_PLATFORM) ? (const char *)getauxval(AT_PLATFORM) : "absent");
	CASE("auxv.minsigstksz_present", "%d", getauxval(51 /* AT_MINSIGSTKSZ */) != 0);
	CASE("auxv.file_readable", "%s", readable("/proc/self/auxv"));
	static const char *const misc[] = {"io", "personality", "wchan", "schedstat", "sched", "timerslack_ns", "coredump_filter", "setgroups", "uid_map", "gid_map", "loginuid", "sessionid", "stack", "syscall", "attr/current", "mountstats", "net/dev", "net/tcp", "net/tcp6", "net/udp", "net/unix", "net/if_inet6", "net/route", "net/snmp", "numa_maps", "pagemap", "mem", "clear_refs", "cpuset", "autogroup", "patch_state", "projid_map", "arch_status", "ksm_stat", "ksm_merging_pages", "timens_offsets", "children", NULL};
	for (int i = 0; misc[i]; i++) {
		char path[128], name[128];
		snprintf(path, sizeof path, "/proc/self/%s", misc[i]);
		snprintf(name, sizeof name, "self_misc.%s", misc[i]);
		for (char *q = name; *q; q++)
			if (*q == '/')
				*q = '_';
		CASE(name, "%s", readable(path));
	}
	CASE("self_uid_map.shape", "%s", fileshape("/proc/self/uid_map", 4));
	CASE("self_setgroups.value", "%s", fileshape("/proc/self/setgroups", 1));
	CASE("self_personality.value", "%s", fileshape("/proc/self/personality", 1));
	CASE("self_net_dev.header", "%s", fileshape("/proc/self/net/dev", 2));
	CASE("self_net_tcp.header", "%s", fileshape("/proc/self/net/tcp", 1));
	CASE("self_net_unix.header", "%s", fileshape("/proc/self/net/unix", 1));
	CASE("pid1_cmdline", "%s", ({ long n; char *s = readfile("/proc/1/cmdline", &n); const char *q = s ? quoted(s, n) : r_(-1); free(s); q; }));
	CASE("pid1_comm", "%s", ({ char *s = readfile("/proc/1/comm", NULL); const char *q = s ? shape(s) : r_(-1); free(s); q; }));
	CASE("proc_root.numeric_entries_present", "%d", ({ DIR *d = opendir("/proc"); int f = 0; struct dirent *e; while (d && (e = readdir(d))) if (e->d_name[0] >= '1' && e->d_name[0] <= '9') f = 1; if (d) closedir(d); f; }));
}

static void g_system(void)
{
	{
		char *s = readfile("/proc/cpuinfo", NULL);
		int procs = 0;
		for (char *p = s; p && (p = strstr(p, "processor")); p++)
			if (p == s || p[-1] == '\n')
				procs++;
		CASE("cpuinfo.processor_count_matches", "%d", procs == sysconf(_SC_NPROCESSORS_ONLN));
		static const char *const keys[] = {"processor", "vendor_id", "cpu family", "model", "model name", "stepping", "microcode", "cpu MHz", "cache size", "physical id", "siblings", "core id", "cpu cores", "apicid", "fpu", "flags", "bogomips", "clflush size", "cache_alignment", "address sizes", "power management", NULL};
		for (int i = 0; keys[i]; i++) {
			char name[64];
			snprintf(name, sizeof name, "cpuinfo.%s", keys[i]);
			for (char *q = name; *q; q++)
				if (*q == ' ')
					*q = '_';
			CASE(name, "%s", s ? (kvget(s, keys[i]) ? "present" : "absent") : r_(-1));
		}
		const char *fl = s ? kvget(s, "flags") : NULL;
		CASE("cpuinfo.flags_has_fpu", "%d", fl && strstr(fl, "fpu") != NULL);
		free(s);
	}
	static const char *const mem_keys[] = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "HugePages_Total", "HugePages_Free", "Hugepagesize", "DirectMap4k", NULL};
	kvcases("meminfo", "/proc/meminfo", mem_keys, 1);
	{
		char *s = readfile("/proc/stat", NULL);
		char *v[64];
		int n = 0;
		for (char *line = s ? strtok(s, "\n") : NULL; line && n < 64; line = strtok(NULL, "\n")) {
			char *sp = strchr(line, ' ');
			char *k = strndup(line, sp ? (size_t)(sp - line) : strlen(line));
			if (strncmp(k, "cpu", 3) == 0 && k[3])
				strcpy(k, "cpuN");
			int dup = 0;
			for (int i = 0; i < n; i++)
				if (strcmp(v[i], k) == 0)
					dup = 1;
			if (!dup)
				v[n++] = k;
		}
		CASE("stat.keys", "%s", s ? joinsorted(v, n, ",") : r_(-1));
		free(s);
		CASE("stat.cpu_line", "%s", fileshape("/proc/stat", 1));
	}
	CASE("loadavg", "%s", fileshape("/proc/loadavg", 1));
	CASE("uptime", "%s", fileshape("/proc/uptime", 1));
	{
		char *s = readfile("/proc/version", NULL);
		CASE("version.prefix", "%s", s ? (strncmp(s, "Linux version ", 14) == 0 ? "Linux version" : "other") : r_(-1));
		free(s);
		s = readfile("/proc/filesystems", NULL);
		static const char *const fss[] = {"proc", "sysfs", "tmpfs", "devpts", "mqueue", "overlay", "cgroup2", "ext4", NULL};
		for (int i = 0; fss[i]; i++) {
			char name[64], pat[64];
			snprintf(name, sizeof name, "filesystems.%s", fss[i]);
			snprintf(pat, sizeof pat, "\t%s\n", fss[i]);
			CASE(name, "%s", s ? (strstr(s, pat) ? "listed" : "absent") : r_(-1));
		}
		free(s);
	}
	static const char *const sysfiles[] = {
	    "kernel/domainname", "kernel/ostype", "kernel/osrelease", "kernel/version", "kernel/pid_max", "kernel/threads-max", "kernel/ngroups_max", "kernel/cap_last_cap", "kernel/overflowuid", "kernel/overflowgid", "kernel/random/boot_id", "kernel/random/uuid", "kernel/random/entropy_avail", "kernel/random/poolsize", "kernel/shmmax", "kernel/shmall", "kernel/shmmni", "kernel/msgmax", "kernel/msgmnb", "kernel/msgmni", "kernel/sem", "kernel/core_pattern", "kernel/dmesg_restrict", "kernel/kptr_restrict", "kernel/perf_event_paranoid", "kernel/randomize_va_space", "kernel/yama/ptrace_scope", "kernel/unprivileged_bpf_disabled", "kernel/keys/maxkeys", "kernel/printk", "kernel/panic", "kernel/tainted", "kernel/sched_child_runs_first", "kernel/unprivileged_userns_clone",
	    "vm/overcommit_memory", "vm/overcommit_ratio", "vm/max_map_count", "vm/mmap_min_addr", "vm/swappiness", "vm/dirty_ratio", "vm/min_free_kbytes", "vm/nr_hugepages",
	    "fs/file-max", "fs/file-nr", "fs/nr_open", "fs/pipe-max-size", "fs/inotify/max_user_watches", "fs/inotify/max_user_instances", "fs/inotify/max_queued_events", "fs/mqueue/msg_max", "fs/mqueue/msgsize_max", "fs/mqueue/queues_max", "fs/protected_symlinks", "fs/protected_hardlinks", "fs/aio-max-nr", "fs/epoll/max_user_watches",
	    "net/core/somaxconn", "net/core/rmem_max", "net/core/wmem_max", "net/core/rmem_default", "net/ipv4/ip_local_port_range", "net/ipv4/tcp_rmem", "net/ipv4/tcp_wmem", "net/ipv4/tcp_sack", "net/ipv4/tcp_congestion_control", "net/ipv4/tcp_available_congestion_control", "net/ipv4/ip_forward", "net/ipv4/tcp_syncookies", "net/ipv4/ping_group_range", "net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/lo/disable_ipv6",
	    NULL};
	for (int i = 0; sysfiles[i]; i++) {
		char path[160], name[160];
		snprintf(path, sizeof path, "/proc/sys/%s", sysfiles[i]);
		snprintf(name, sizeof name, "sys.%s", sysfiles[i]);
		for (char *q = name + 4; *q; q++)
			if (*q == '/')
				*q = '.';
		CASE(name, "%s", fileshape(path, 1));
	}
	/* A few values fixed by the ABI rather than by the machine. */
	CASE("sys.kernel.ostype.value", "%s", ({ char *s = readfile("/proc/sys/kernel/ostype", NULL); const char *r = s ? s : r_(-1); r; }));
	CASE("sys.kernel.ngroups_max.value", "%s", ({ char *s = readfile("/proc/sys/kernel/ngroups_max", NULL); const char *r = s ? s : r_(-1); r; }));
	CASE("sys.kernel.overflowuid.value", "%s", ({ char *s = readfile("/proc/sys/kernel/overflowuid", NULL); const char *r = s ? s : r_(-1); r; }));
	{
		char *a = readfile("/proc/sys/kernel/random/uuid", NULL);
		char *b = readfile("/proc/sys/kernel/random/uuid", NULL);
		CASE("sys.kernel.random.uuid.changes", "%s", a && b ? (strcmp(a, b) != 0 ? "yes" : "no") : r_(-1));
		char *c = readfile("/proc/sys/kernel/random/boot_id", NULL);
		char *d = readfile("/proc/sys/kernel/random/boot_id", NULL);
		CASE("sys.kernel.random.boot_id.stable", "%s", c && d ? (strcmp(c, d) == 0 ? "yes" : "no") : r_(-1));
	}
	{
		int fd = C(open("/proc/sys/kernel/hostname", O_WRONLY));
		CASE("sys.write.hostname_open", "%s", r_fd(fd));
		if (fd >= 0) {
			T("sys.write.hostname", write(fd, "x", 1));
			close(fd);
		}
		fd = C(open("/proc/sys/vm/overcommit_memory", O_WRONLY));
		CASE("sys.write.overcommit_open", "%s", r_fd(fd));
		if (fd >= 0)
			close(fd);
		struct stat st;
		CASE("sys.dir_mode", "%s", C(stat("/proc/sys", &st)) == 0 ? ftype(st.st_mode) : r_(-1));
	}
	/* Paths Docker masks under runc (bind-mounted /dev/null or tmpfs). */
	static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/latency_stats", "/proc/kallsyms", "/proc/modules", "/proc/interrupts", "/proc/vmstat", "/proc/zoneinfo", "/proc/buddyinfo", "/proc/slabinfo", "/proc/swaps", "/proc/partitions", "/proc/diskstats", "/proc/devices", "/proc/misc", "/proc/cgroups", "/proc/cmdline", "/proc/kmsg", "/proc/sysrq-trigger", "/proc/pressure/cpu", "/proc/self/net/netstat", "/sys/firmware", "/sys/kernel/security", NULL};
	for (int i = 0; masked[i]; i++) {
		char name[128];
		snprintf(name, sizeof name, "other%s", masked[i]);
		for (char *q = name; *q; q++)
			if (*q == '/')
				*q = '.';
		struct stat st;
		long r = C(stat(masked[i], &st));
		if (r < 0)
			CASE(name, "%s", r_(r));
		else if (S_ISDIR(st.st_mode))
			CASE(name, "dir entries=%s", ({ const char *l = listdir(masked[i], 1); l[0] ? "some" : "none"; }));
		else
			CASE(name, "%s %s", ftype(st.st_mode), readable(masked[i]));
	}
	/* sysfs */
	static const char *const sysfs[] = {"/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/present", "/sys/devices/system/cpu/offline", "/sys/devices/system/cpu/kernel_max", "/sys/devices/system/cpu/cpu0/online", "/sys/devices/system/cpu/cpu0/topology/core_id", "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "/sys/devices/system/node/online", "/sys/devices/system/node/node0/meminfo", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/transparent_hugepage/defrag", "/sys/class/net/lo/mtu", "/sys/class/net/lo/address", "/sys/class/net/lo/operstate", "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/kernel/hostname", NULL};
	for (int i = 0; sysfs[i]; i++) {
		char name[160];
		snprintf(name, sizeof name, "sysfs%s", sysfs[i] + 4);
		for (char *q = name; *q; q++)
			if (*q == '/')
				*q = '.';
		CASE(name, "%s", fileshape(sysfs[i], 1));
	}
	CASE("sysfs.class.net", "%s", listdir("/sys/class/net", 0));
	CASE("sysfs.devices.system.cpu.entries", "%s", listdir("/sys/devices/system/cpu", 1));
	CASE("sysfs.fs.cgroup.entries", "%s", listdir("/sys/fs/cgroup", 0));
	CASE("sysfs.mounted_ro", "%s", ({ int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_WRONLY); long e2 = fd < 0 ? errno : 0; if (fd >= 0) close(fd); E = (int)e2; fd >= 0 ? "writable" : r_(-1); }));
	CASE("dev.entries", "%s", listdir("/dev", 0));
	CASE("dev.pts.entries", "%s", listdir("/dev/pts", 1));
	CASE("dev.shm.mode", "%s", statdesc("/dev/shm", 0));
	CASE("tmp.mode", "%s", statdesc("/tmp", 0));
	CASE("root.mode", "%s", statdesc("/", 0));
	/* The hostname is the random container id: record only its length. */
	CASE("etc_hostname.length", "%s", ({ char *h = readfile("/etc/hostname", NULL); char *b = sbuf(); if (h) snprintf(b, 2048, "%zu", strcspn(h, "\n")); h ? (const char *)b : r_(-1); }));
	CASE("sys.kernel.hostname.length", "%s", ({ char *h = readfile("/proc/sys/kernel/hostname", NULL); char *b = sbuf(); if (h) snprintf(b, 2048, "%zu", strcspn(h, "\n")); h ? (const char *)b : r_(-1); }));
	CASE("etc_hosts.has_localhost", "%s", ({ char *s = readfile("/etc/hosts", NULL); const char *r = s ? (strstr(s, "localhost") ? "yes" : "no") : r_(-1); r; }));
	CASE("etc_resolv_conf", "%s", readable("/etc/resolv.conf"));
	CASE("sysconf.nprocessors_onln_eq_conf", "%d", sysconf(_SC_NPROCESSORS_ONLN) == sysconf(_SC_NPROCESSORS_CONF));
	CASE("sysconf.pagesize", "%ld", sysconf(_SC_PAGESIZE));
	CASE("sysconf.phys_pages_positive", "%d", sysconf(_SC_PHYS_PAGES) > 0);
	CASE("sysconf.open_max", "%ld", sysconf(_SC_OPEN_MAX));
	CASE("sysconf.arg_max", "%ld", sysconf(_SC_ARG_MAX));
}

int main(void)
{
	g_area = "proc";
	run_group("self", g_self, 20);
	run_group("system", g_system, 20);
	return 0;
}
