/*
 * memory: mappings, protections and faults, madvise/mremap/mincore/mlock,
 * SysV shared memory and memfd seals. Faults are caught with a SIGSEGV /
 * SIGBUS handler that records si_code and whether si_addr was the address
 * touched, then siglongjmps out; addresses themselves are never printed.
 */
#include "common.h"

#include <setjmp.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#define PG 4096L

static sigjmp_buf jb;
static volatile void *fault_expect;
static volatile int fault_sig, fault_code, fault_addr_ok;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr_ok = si->si_addr == fault_expect;
	siglongjmp(jb, 1);
}

static void install_fault_handlers(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static const char *codename(int sig, int code)
{
	char *b = sbuf();
	if (sig == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR";
	if (sig == SIGSEGV && code == SEGV_ACCERR)
		return "SEGV_ACCERR";
	if (sig == SIGSEGV && code == SEGV_PKUERR)
		return "SEGV_PKUERR";
	if (sig == SIGBUS && code == BUS_ADRERR)
		return "BUS_ADRERR";
	if (sig == SIGBUS && code == BUS_ADRALN)
		return "BUS_ADRALN";
	if (sig == SIGBUS && code == BUS_OBJERR)
		return "BUS_OBJERR";
	snprintf(b, 2048, "code=%d", code);
	return b;
}

/* touch reads (write=0) or writes one byte and reports what happened. */
static const char *touch(volatile char *p, int write, char val)
{
	char *b = sbuf();
	fault_expect = p;
	fault_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		if (write) {
			*p = val;
			snprintf(b, 2048, "ok");
		} else {
			char c = *p;
			snprintf(b, 2048, "ok %s", quoted(&c, 1));
		}
		return b;
	}
	snprintf(b, 2048, "%s %s addr=%s", signame(fault_sig), codename(fault_sig, fault_code), fault_addr_ok ? "match" : "other");
	return b;
}

static const char *mres(void *p)
{
	if (p == MAP_FAILED)
		return r_(-1);
	return "ok";
}

#define MM(expr) ({ errno = 0; void *_m = (expr); E = errno; _m; })

static void g_mmap(void)
{
	install_fault_handlers();
	char *p = MM(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE("mmap.anon_private", "%s", mres(p));
	CASE("mmap.anon_zero_filled", "%s", touch(p + 100, 0, 0));
	CASE("mmap.anon_write", "%s", touch(p, 1, 'A'));
	CASE("mmap.anon_readback", "%s", touch(p, 0, 0));
	CASE("mmap.page_aligned", "%d", ((uintptr_t)p & (PG - 1)) == 0);
	T("munmap.basic", munmap(p, 2 * PG));
	CASE("munmap.access_after", "%s", touch(p, 0, 0));
	T("munmap.again", munmap(p, 2 * PG));
	T("munmap.unaligned", munmap(p + 1, PG));
	T("munmap.zero_len", munmap(p, 0));
	CASE("mmap.zero_len", "%s", mres(MM(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))));
	CASE("mmap.no_share_type", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0))));
	CASE("mmap.private_and_shared", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0))));
	CASE("mmap.bad_fd", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 999, 0))));
	CASE("mmap.huge_len", "%s", mres(MM(mmap(NULL, 1UL << 50, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))));
	CASE("mmap.len_overflow", "%s", mres(MM(mmap(NULL, ~0UL - 100, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))));
	CASE("mmap.validate_unknown_flag", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000, -1, 0))));
	CASE("mmap.validate_anon", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0))));
	CASE("mmap.bad_prot", "%s", mres(MM(mmap(NULL, PG, 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))));
	{
		char *q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0));
		CASE("mmap.map_32bit", "%s below4g=%d", mres(q), q != MAP_FAILED && (uintptr_t)q < (1UL << 32));
		q = MM(mmap(NULL, 2 * 1024 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0));
		CASE("mmap.hugetlb", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
		CASE("mmap.populate", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
		CASE("mmap.growsdown", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
		CASE("mmap.locked", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x4000000 /* MAP_UNINITIALIZED */, -1, 0));
		CASE("mmap.uninitialized_flag_ignored", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0));
		CASE("mmap.sync_private", "%s", mres(q));
		q = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0));
		CASE("mmap.sync_validate_anon", "%s", mres(q));
		q = MM(mmap((void *)0x1000, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		CASE("mmap.fixed_below_mmap_min_addr", "%s", mres(q));
		q = MM(mmap((void *)0x1001, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		CASE("mmap.fixed_unaligned", "%s", mres(q));
	}

	/* MAP_FIXED and MAP_FIXED_NOREPLACE over an existing mapping. */
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[PG] = 'x';
	char *q = MM(mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	CASE("mmap.fixed_noreplace_overlap", "%s", mres(q));
	q = MM(mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CASE("mmap.fixed_replace", "%s same=%d", mres(q), q == p + PG);
	CASE("mmap.fixed_replace_zeroed", "%s", touch(p + PG, 0, 0));
	munmap(p + 2 * PG, PG);
	q = MM(mmap(p + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	CASE("mmap.fixed_noreplace_free", "%s same=%d", mres(q), q == p + 2 * PG);
	q = MM(mmap(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	CASE("mmap.hint_kept_when_free", "%s", mres(q));
	munmap(p, 3 * PG);

	/* File mappings. */
	rmtree("/tmp/cmem");
	mkdir("/tmp/cmem", 0755);
	int fd = open("/tmp/cmem/f", O_CREAT | O_RDWR, 0644);
	ftruncate(fd, PG + 100);
	pwrite(fd, "filedata", 8, 0);
	char *s = MM(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	CASE("mmap.file_shared", "%s", mres(s));
	CASE("mmap.file_shared_read", "%s", touch(s, 0, 0));
	s[1] = 'I';
	CASE("mmap.file_shared_write_visible", "%s", preadstr(fd, 8, 0));
	pwrite(fd, "L", 1, 2);
	CASE("mmap.file_write_visible_in_map", "%s", touch(s + 2, 0, 0));
	CASE("mmap.file_tail_of_last_page", "%s", touch(s + PG + 200, 0, 0));
	CASE("mmap.file_beyond_eof_page", "%s", touch(s + 2 * PG - 1, 0, 0));
	T("msync.sync", msync(s, PG, MS_SYNC));
	T("msync.async", msync(s, PG, MS_ASYNC));
	T("msync.both", msync(s, PG, MS_SYNC | MS_ASYNC));
	T("msync.unaligned", msync(s + 1, PG, MS_SYNC));
	T("msync.invalidate", msync(s, PG, MS_INVALIDATE));
	char *pr = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	pr[0] = 'P';
	CASE("mmap.file_private_write_hidden", "%s", preadstr(fd, 4, 0));
	pwrite(fd, "f", 1, 0);
	CASE("mmap.file_private_cow_kept", "%s", touch(pr, 0, 0));
	CASE("mmap.file_private_unwritten_sees_file", "%s", touch(pr + 1, 0, 0));
	ftruncate(fd, 10);
	CASE("mmap.file_truncated_under_map", "%s", touch(s + PG + 5, 0, 0));
	munmap(s, 2 * PG);
	munmap(pr, PG);
	CASE("mmap.file_offset_unaligned", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 1))));
	CASE("mmap.file_offset_beyond_eof", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 100 * PG))));
	close(fd);
	fd = open("/tmp/cmem/f", O_RDONLY);
	CASE("mmap.shared_write_on_rdonly_fd", "%s", mres(MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))));
	CASE("mmap.private_write_on_rdonly_fd", "%s", mres(MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0))));
	s = MM(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	T("mprotect.shared_ro_fd_to_write", mprotect(s, PG, PROT_READ | PROT_WRITE));
	munmap(s, PG);
	close(fd);
	fd = open("/tmp/cmem/f", O_WRONLY);
	CASE("mmap.wronly_fd", "%s", mres(MM(mmap(NULL, PG, PROT_WRITE, MAP_SHARED, fd, 0))));
	close(fd);
	fd = open("/tmp/cmem", O_RDONLY);
	CASE("mmap.directory", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0))));
	close(fd);
	{
		int pp[2];
		pipe(pp);
		CASE("mmap.pipe", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pp[0], 0))));
		close(pp[0]);
		close(pp[1]);
	}
	fd = open("/dev/zero", O_RDWR);
	s = MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	CASE("mmap.dev_zero_shared", "%s", mres(s));
	close(fd);
	if (s != MAP_FAILED) {
		s[0] = 'z';
		pid_t c = fork();
		if (c == 0) {
			s[0] = 'Z';
			_exit(0);
		}
		waitchild(c);
		CASE("mmap.dev_zero_shared_across_fork", "%s", quoted(s, 1));
	}
	fd = open("/dev/null", O_RDWR);
	CASE("mmap.dev_null", "%s", mres(MM(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0))));
	close(fd);

	/* Sharing semantics across fork. */
	char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *pv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh[0] = 'a';
	pv[0] = 'a';
	pid_t c = fork();
	if (c == 0) {
		sh[0] = 'b';
		pv[0] = 'b';
		_exit(0);
	}
	waitchild(c);
	CASE("fork.shared_anon_visible", "%s", quoted(sh, 1));
	CASE("fork.private_anon_cow", "%s", quoted(pv, 1));
	rmtree("/tmp/cmem");
}

static void g_mprotect(void)
{
	install_fault_handlers();
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 'a';
	T("mprotect.read_only", mprotect(p, PG, PROT_READ));
	CASE("mprotect.write_to_readonly", "%s", touch(p, 1, 'b'));
	CASE("mprotect.read_readonly", "%s", touch(p, 0, 0));
	T("mprotect.none", mprotect(p + PG, PG, PROT_NONE));
	CASE("mprotect.read_none", "%s", touch(p + PG, 0, 0));
	CASE("mprotect.write_none", "%s", touch(p + PG, 1, 'x'));
	T("mprotect.unaligned", mprotect(p + 1, PG, PROT_READ));
	T("mprotect.bad_prot", mprotect(p, PG, 0x1000));
	T("mprotect.growsup_growsdown", mprotect(p, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
	T("mprotect.exec", mprotect(p + 2 * PG, PG, PROT_READ | PROT_EXEC));
	T("mprotect.write_exec", mprotect(p + 2 * PG, PG, PROT_READ | PROT_WRITE | PROT_EXEC));
	T("mprotect.zero_len", mprotect(p, 0, PROT_READ));
	munmap(p + 3 * PG, PG);
	T("mprotect.partially_unmapped", mprotect(p + 2 * PG, 2 * PG, PROT_READ));
	CASE("mprotect.partial_applied_first_page", "%s", touch(p + 2 * PG, 1, 'q'));
	T("mprotect.unmapped", mprotect(p + 3 * PG, PG, PROT_READ));
	CASE("fault.unmapped_read", "%s", touch(p + 3 * PG, 0, 0));
	CASE("fault.null_read", "%s", touch((char *)0, 0, 0));
	CASE("fault.kernel_address", "%s", touch((char *)0xffff800000000000UL, 0, 0));
	CASE("fault.noncanonical", "%s", touch((char *)0x0000900000000000UL, 0, 0));
	/* Execute from a non-exec page. */
	{
		char *code = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		code[0] = (char)0xc3; /* ret */
		fault_expect = code;
		fault_sig = 0;
		const char *res;
		if (sigsetjmp(jb, 1) == 0) {
			((void (*)(void))code)();
			res = "executed";
		} else {
			char *b = sbuf();
			snprintf(b, 2048, "%s %s addr=%s", signame(fault_sig), codename(fault_sig, fault_code), fault_addr_ok ? "match" : "other");
			res = b;
		}
		CASE("fault.exec_nonexec_page", "%s", res);
		mprotect(code, PG, PROT_READ | PROT_EXEC);
		if (sigsetjmp(jb, 1) == 0) {
			((void (*)(void))code)();
			res = "executed";
		} else
			res = "fault";
		CASE("fault.exec_after_mprotect", "%s", res);
	}
	/* pkeys */
	long k = C(syscall(SYS_pkey_alloc, 0, 0));
	CASE("pkey.alloc", "%s", k >= 0 ? "ok" : r_(k));
	if (k >= 0)
		T("pkey.free", syscall(SYS_pkey_free, k));
	T("pkey.mprotect_default_key", syscall(SYS_pkey_mprotect, p, PG, PROT_READ, 0));
}

static void g_madvise(void)
{
	install_fault_handlers();
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'a', 4 * PG);
	T("madvise.dontneed", madvise(p, PG, MADV_DONTNEED));
	CASE("madvise.dontneed_private_zeroed", "%s", touch(p, 0, 0));
	T("madvise.free", madvise(p + PG, PG, MADV_FREE));
	T("madvise.willneed", madvise(p, PG, MADV_WILLNEED));
	T("madvise.sequential", madvise(p, PG, MADV_SEQUENTIAL));
	T("madvise.random", madvise(p, PG, MADV_RANDOM));
	T("madvise.normal", madvise(p, PG, MADV_NORMAL));
	T("madvise.hugepage", madvise(p, 4 * PG, MADV_HUGEPAGE));
	T("madvise.nohugepage", madvise(p, 4 * PG, MADV_NOHUGEPAGE));
	T("madvise.mergeable", madvise(p, 4 * PG, MADV_MERGEABLE));
	T("madvise.cold", madvise(p, PG, MADV_COLD));
	T("madvise.pageout", madvise(p, PG, MADV_PAGEOUT));
	T("madvise.dontdump", madvise(p, PG, MADV_DONTDUMP));
	T("madvise.populate_read", madvise(p, PG, 22 /* MADV_POPULATE_READ */));
	T("madvise.populate_write", madvise(p, PG, 23 /* MADV_POPULATE_WRITE */));
	T("madvise.collapse", madvise(p, 4 * PG, 25 /* MADV_COLLAPSE */));
	T("madvise.bad_advice", madvise(p, PG, 999));
	T("madvise.unaligned", madvise(p + 1, PG, MADV_NORMAL));
	T("madvise.unmapped", madvise((void *)0x10000, PG, MADV_NORMAL));
	{
		char *hw = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		hw[0] = 1;
		T("madvise.hwpoison", madvise(hw, PG, MADV_HWPOISON));
	}
	T("madvise.remove_private", madvise(p, PG, MADV_REMOVE));
	char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s[0] = 's';
	T("madvise.dontneed_shared", madvise(s, PG, MADV_DONTNEED));
	CASE("madvise.dontneed_shared_kept", "%s", touch(s, 0, 0));
	T("madvise.remove_shared", madvise(s, PG, MADV_REMOVE));
	CASE("madvise.remove_shared_zeroed", "%s", touch(s, 0, 0));
	/* Fork-related advice. */
	p[2 * PG] = 'd';
	p[3 * PG] = 'w';
	T("madvise.dontfork", madvise(p + 2 * PG, PG, MADV_DONTFORK));
	T("madvise.wipeonfork", madvise(p + 3 * PG, PG, MADV_WIPEONFORK));
	T("madvise.wipeonfork_shared", madvise(s, PG, MADV_WIPEONFORK));
	pid_t c = fork();
	if (c == 0) {
		install_fault_handlers();
		CASE("madvise.dontfork_child", "%s", touch(p + 2 * PG, 0, 0));
		CASE("madvise.wipeonfork_child", "%s", touch(p + 3 * PG, 0, 0));
		_exit(0);
	}
	waitchild(c);
	CASE("madvise.dontfork_parent_kept", "%s", touch(p + 2 * PG, 0, 0));
	CASE("madvise.wipeonfork_parent_kept", "%s", touch(p + 3 * PG, 0, 0));

	/* mincore */
	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 1;
	unsigned char vec[3] = {0xff, 0xff, 0xff};
	T("mincore.basic", mincore(m, 3 * PG, vec));
	CASE("mincore.touched_resident", "%d", vec[0] & 1);
	CASE("mincore.untouched", "%d", vec[2] & 1);
	T("mincore.unaligned", mincore(m + 1, PG, vec));
	munmap(m + 2 * PG, PG);
	T("mincore.unmapped", mincore(m, 3 * PG, vec));
	T("mincore.bad_vec", mincore(m, PG, (unsigned char *)1));

	/* mremap */
	char *r = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(r, "remap");
	char *blk = mmap(r + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *nr = MM(mremap(r, 2 * PG, 4 * PG, 0));
	CASE("mremap.grow_blocked_no_move", "%s", mres(nr));
	nr = MM(mremap(r, 2 * PG, 4 * PG, MREMAP_MAYMOVE));
	CASE("mremap.grow_maymove", "%s moved=%d", mres(nr), nr != r);
	CASE("mremap.contents_kept", "%s", nr != MAP_FAILED ? quoted(nr, 5) : "");
	CASE("mremap.old_gone", "%s", touch(r, 0, 0));
	CASE("mremap.new_tail_zero", "%s", nr != MAP_FAILED ? touch(nr + 3 * PG, 0, 0) : "");
	char *sh = MM(mremap(nr, 4 * PG, PG, 0));
	CASE("mremap.shrink", "%s same=%d", mres(sh), sh == nr);
	CASE("mremap.shrunk_tail_gone", "%s", touch(nr + 2 * PG, 0, 0));
	CASE("mremap.fixed_without_maymove", "%s", mres(MM(mremap(nr, PG, PG, MREMAP_FIXED, blk))));
	CASE("mremap.bad_flags", "%s", mres(MM(mremap(nr, PG, PG, 0x80))));
	CASE("mremap.unaligned", "%s", mres(MM(mremap(nr + 1, PG, PG, 0))));
	CASE("mremap.unmapped", "%s", mres(MM(mremap((void *)0x10000, PG, PG, 0))));
	char *dst = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *fx = MM(mremap(nr, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	CASE("mremap.fixed_over_mapping", "%s at_dst=%d data=%s", mres(fx), fx == dst, fx != MAP_FAILED ? quoted(fx, 5) : "");
	char *dn = MM(mremap(fx, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	CASE("mremap.dontunmap", "%s", mres(dn));
	if (dn != MAP_FAILED) {
		CASE("mremap.dontunmap_new_data", "%s", quoted(dn, 5));
		CASE("mremap.dontunmap_old_zero", "%s", touch(fx, 0, 0));
	}
	char *shm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shm[0] = 'S';
	char *dup = MM(mremap(shm, 0, PG, MREMAP_MAYMOVE));
	CASE("mremap.dup_shared_old_size_0", "%s", mres(dup));
	if (dup != MAP_FAILED) {
		dup[1] = 'D';
		CASE("mremap.dup_shared_aliases", "%s", quoted(shm, 2));
	}
	CASE("mremap.dup_private_old_size_0", "%s", mres(MM(mremap(p, 0, PG, MREMAP_MAYMOVE))));

	/* mlock */
	char *l = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T("mlock.small", mlock(l, PG));
	T("munlock.small", munlock(l, PG));
	T("mlock2.onfault", mlock2(l, PG, MLOCK_ONFAULT));
	T("mlock2.bad_flags", mlock2(l, PG, 0x10));
	T("mlock.unmapped", mlock((void *)0x10000, PG));
	T("mlockall.current", mlockall(MCL_CURRENT));
	T("munlockall", munlockall());
	T("mlockall.bad_flags", mlockall(0x100));
	T("mlockall.onfault_alone", mlockall(MCL_ONFAULT));
	T("mlock.two_pages", mlock(l, 2 * PG));
	munlock(l, 2 * PG);
	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	rl.rlim_cur = 0;
	setrlimit(RLIMIT_MEMLOCK, &rl);
	T("mlock.rlimit_zero", mlock(l, PG));

	/* brk */
	void *b0 = sbrk(0);
	void *b1 = sbrk(PG);
	void *b2 = sbrk(0);
	CASE("brk.grow", "%s", b1 == b0 && (char *)b2 == (char *)b0 + PG ? "ok" : "unexpected");
	long br = syscall(SYS_brk, 0);
	CASE("brk.query_matches_sbrk", "%d", (void *)br == b2);
	long bad = syscall(SYS_brk, 1);
	CASE("brk.too_low_returns_current", "%d", bad == br);
}

static void g_shm(void)
{
	install_fault_handlers();
	int id = C(shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600));
	CASE("shm.get_private", "%s", id >= 0 ? "ok" : r_(id));
	/*
	 * Attach over a reserved PROT_NONE region so that the page after the
	 * rounded-up segment is known to be inaccessible.
	 */
	char *resv = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a = MM(shmat(id, resv, SHM_REMAP));
	CASE("shm.attach_remap", "%s", a == (void *)-1 ? r_(-1) : a == resv ? "at requested address" : "elsewhere");
	int remapped = a == resv;
	if (a == (void *)-1) {
		a = MM(shmat(id, NULL, 0));
		CASE("shm.attach", "%s", a == (void *)-1 ? r_(-1) : "ok");
		if (a == (void *)-1)
			return;
	}
	char *b = shmat(id, NULL, 0);
	strcpy(a, "shared");
	CASE("shm.second_attach_sees", "%s", quoted(b, 6));
	struct shmid_ds ds;
	T("shm.stat", shmctl(id, IPC_STAT, &ds));
	CASE("shm.stat_fields", "segsz=%zu nattch=%lu mode=%o uid=%u cuid=%u", ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777, ds.shm_perm.uid, ds.shm_perm.cuid);
	CASE("shm.round_up_tail_accessible", "%s", touch(a + 12287, 0, 0));
	CASE("shm.beyond_rounded", "%s", remapped ? touch(a + 12288, 0, 0) : "not tested: no SHM_REMAP");
	pid_t c = fork();
	if (c == 0) {
		a[0] = 'S';
		shmctl(id, IPC_STAT, &ds);
		CASE("shm.child_nattch", "%lu", (unsigned long)ds.shm_nattch);
		_exit(0);
	}
	waitchild(c);
	CASE("shm.child_write_visible", "%s", quoted(b, 1));
	T("shm.rmid", shmctl(id, IPC_RMID, NULL));
	shmctl(id, IPC_STAT, &ds);
	CASE("shm.after_rmid_mode_dest", "%d nattch=%lu", !!(ds.shm_perm.mode & SHM_DEST), (unsigned long)ds.shm_nattch);
	CASE("shm.after_rmid_still_mapped", "%s", quoted(a, 6));
	T("shm.dt", shmdt(a));
	T("shm.dt_again", shmdt(a));
	T("shm.dt_unaligned", shmdt(b + 1));
	shmdt(b);
	T("shm.stat_after_destroy", shmctl(id, IPC_STAT, &ds));
	T("shm.attach_after_destroy", shmat(id, NULL, 0) == (void *)-1 ? -1 : 0);

	int k = C(shmget(0x5eed, 4096, IPC_CREAT | IPC_EXCL | 0644));
	CASE("shm.get_key_create", "%s", k >= 0 ? "ok" : r_(k));
	int k2 = C(shmget(0x5eed, 4096, 0));
	CASE("shm.get_key_existing", "%s", k2 == k ? "same" : r_(k2));
	T("shm.get_key_excl", shmget(0x5eed, 4096, IPC_CREAT | IPC_EXCL | 0644));
	T("shm.get_key_bigger", shmget(0x5eed, 8192, 0));
	T("shm.get_missing_key", shmget(0x5eee, 4096, 0));
	T("shm.get_size_zero", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
	T("shm.get_huge", shmget(IPC_PRIVATE, 1UL << 50, IPC_CREAT | 0600));
	char *ro = MM(shmat(k, NULL, SHM_RDONLY));
	CASE("shm.attach_rdonly", "%s", ro == (void *)-1 ? r_(-1) : "ok");
	if (ro != (void *)-1)
		CASE("shm.write_rdonly", "%s", touch(ro, 1, 'x'));
	T("shm.attach_unaligned_addr", shmat(k, (void *)0x10001, 0) == (void *)-1 ? -1 : 0);
	char *rnd = MM(shmat(k, (void *)0x10001000UL + 5, SHM_RND));
	CASE("shm.attach_rnd", "%s", rnd == (void *)-1 ? r_(-1) : "ok");
	ds.shm_perm.mode = 0600;
	T("shm.set_mode", shmctl(k, IPC_SET, &ds));
	shmctl(k, IPC_STAT, &ds);
	CASE("shm.set_mode_readback", "%o", ds.shm_perm.mode & 0777);
	T("shm.bad_cmd", shmctl(k, 999, &ds));
	T("shm.lock", shmctl(k, SHM_LOCK, NULL));
	T("shm.unlock", shmctl(k, SHM_UNLOCK, NULL));
	struct shminfo si;
	long mx = C(shmctl(0, IPC_INFO, (struct shmid_ds *)&si));
	CASE("shm.ipc_info", "%s", mx >= 0 ? "ok" : r_(mx));
	shmctl(k, IPC_RMID, NULL);
}

static void g_memfd(void)
{
	install_fault_handlers();
	int fd = TFD("memfd.create", memfd_create("conf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	char link[256];
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = C(readlink(path, link, sizeof link));
	CASE("memfd.proc_link", "%s", quoted(link, n));
	CASE("memfd.fstat", "%s", fstatdesc(fd));
	CASE("memfd.cloexec", "%ld", (long)fcntl(fd, F_GETFD));
	CASE("memfd.getfl", "%s", openflags(fcntl(fd, F_GETFL)));
	T("memfd.get_seals_initial", fcntl(fd, F_GET_SEALS));
	T("memfd.write", write(fd, "memfd!", 6));
	char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CASE("memfd.mmap_shared_sees", "%s", quoted(m, 6));
	T("memfd.seal_write_while_mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(m, PG);
	T("memfd.seal_write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	T("memfd.write_sealed", write(fd, "x", 1));
	T("memfd.pwrite_sealed", pwrite(fd, "x", 1, 0));
	CASE("memfd.mmap_shared_write_sealed", "%s", mres(MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))));
	CASE("memfd.mmap_private_write_sealed", "%s", mres(MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0))));
	T("memfd.ftruncate_grow_no_grow_seal", ftruncate(fd, 100));
	T("memfd.seal_shrink", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	T("memfd.ftruncate_shrink_sealed", ftruncate(fd, 10));
	T("memfd.seal_grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	T("memfd.ftruncate_grow_sealed", ftruncate(fd, 200));
	T("memfd.fallocate_grow_sealed", fallocate(fd, 0, 0, 4096));
	T("memfd.get_seals", fcntl(fd, F_GET_SEALS));
	T("memfd.seal_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	T("memfd.add_after_seal_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	T("memfd.add_bad_seal", fcntl(fd, F_ADD_SEALS, 0x1000));
	close(fd);
	fd = memfd_create("noseal", 0);
	T("memfd.no_sealing_get_seals", fcntl(fd, F_GET_SEALS));
	T("memfd.no_sealing_add", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CASE("memfd.no_cloexec", "%ld", (long)fcntl(fd, F_GETFD));
	close(fd);
	fd = memfd_create("future", MFD_ALLOW_SEALING);
	write(fd, "abc", 3);
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T("memfd.seal_future_write_mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	CASE("memfd.future_write_existing_map", "%s", touch(m, 1, 'A'));
	T("memfd.future_write_write", write(fd, "x", 1));
	CASE("memfd.future_write_new_map", "%s", mres(MM(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))));
	close(fd);
	{
		char name[300];
		memset(name, 'n', sizeof name);
		name[299] = 0;
		T("memfd.name_too_long", memfd_create(name, 0));
		name[249] = 0;
		long f = C(memfd_create(name, 0));
		CASE("memfd.name_249", "%s", r_fd(f));
	}
	T("memfd.bad_flags", memfd_create("x", 0x100));
	T("memfd.hugetlb", ({ long f = memfd_create("h", MFD_HUGETLB); f >= 0 ? 0 : -1; }));
	T("memfd.noexec_seal", ({ long f = memfd_create("ne", 0x8 /* MFD_NOEXEC_SEAL */); if (f >= 0) { CASE("memfd.noexec_seal_seals", "%s", r_(C(fcntl(f, F_GET_SEALS)))); CASE("memfd.noexec_seal_mode", "%s", fstatdesc(f)); } f >= 0 ? 0 : -1; }));
	T("memfd.exec_flag", ({ long f = memfd_create("ex", 0x10 /* MFD_EXEC */); f >= 0 ? 0 : -1; }));
	fd = memfd_create("sz", 0);
	ftruncate(fd, 3 * PG);
	CASE("memfd.ftruncate_size", "%s", fstatdesc(fd));
	T("memfd.lseek_hole", lseek(fd, 0, SEEK_HOLE));
	close(fd);
}

int main(void)
{
	g_area = "memory";
	run_group("mmap", g_mmap, 20);
	run_group("mprotect", g_mprotect, 20);
	run_group("madvise", g_madvise, 20);
	run_group("shm", g_shm, 20);
	run_group("memfd", g_memfd, 20);
	return 0;
}
