/*
 * files: path and file operations. Most groups run twice, once on tmpfs
 * (/dev/shm) and once on the container root filesystem (/var/tmp), because
 * the two are different filesystems under runc (tmpfs, overlayfs) and take
 * different code paths under gVisor (tmpfs, overlay over the gofer).
 */
#include "common.h"

#include <dirent.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>

static const char *FS;   /* "tmpfs" or "rootfs": case name prefix */
static const char *BASE; /* scratch directory on that filesystem */

static char *P(const char *rel)
{
	char *b = sbuf();
	snprintf(b, 2048, "%s/%s", BASE, rel);
	return b;
}

static char *N(const char *name)
{
	char *b = sbuf();
	snprintf(b, 2048, "%s.%s", FS, name);
	return b;
}

static void fresh(void)
{
	rmtree(BASE);
	mkdir(BASE, 0755);
	umask(022);
}

static int mkf(const char *rel, const char *content)
{
	return writefile(P(rel), content, 0644);
}

static const char *slurp(const char *rel)
{
	long n;
	char *d = readfile(P(rel), &n);
	if (!d)
		return r_(-1);
	const char *q = quoted(d, n);
	free(d);
	return q;
}

static void g_open(void)
{
	fresh();
	int fd;
	fd = TFD(N("open.creat_excl_new"), open(P("a"), O_CREAT | O_EXCL | O_RDWR, 0644));
	close(fd);
	TFD(N("open.creat_excl_exists"), open(P("a"), O_CREAT | O_EXCL | O_RDWR, 0644));
	TFD(N("open.missing"), open(P("nope"), O_RDONLY));
	TFD(N("open.dir_wronly"), open(BASE, O_WRONLY));
	TFD(N("open.dir_rdwr"), open(BASE, O_RDWR));
	fd = TFD(N("open.dir_rdonly"), open(BASE, O_RDONLY));
	close(fd);
	TFD(N("open.file_as_directory"), open(P("a"), O_RDONLY | O_DIRECTORY));
	TFD(N("open.through_file"), open(P("a/x"), O_RDONLY));
	TFD(N("open.creat_directory"), open(P("newdir"), O_CREAT | O_DIRECTORY | O_RDWR, 0644));
	CASE(N("open.creat_directory_leftover"), "%s", statdesc(P("newdir"), 1));
	TFD(N("open.creat_on_dir"), open(BASE, O_CREAT | O_RDONLY, 0644));
	TFD(N("open.excl_without_creat"), open(P("a"), O_EXCL | O_RDONLY));
	TFD(N("open.empty_path"), open("", O_RDONLY));
	TFD(N("open.trailing_slash_file"), open(P("a/"), O_RDONLY));
	TFD(N("open.trailing_slash_creat"), open(P("b/"), O_CREAT | O_RDWR, 0644));

	mkf("t", "0123456789");
	fd = TFD(N("open.trunc"), open(P("t"), O_RDWR | O_TRUNC));
	CASE(N("open.trunc_size"), "%s", fstatdesc(fd));
	close(fd);
	mkf("t", "0123456789");
	fd = open(P("t"), O_RDONLY | O_TRUNC);
	CASE(N("open.rdonly_trunc_size"), "%s %s", r_fd(fd), statdesc(P("t"), 0));
	close(fd);

	/* O_APPEND: writes land at EOF regardless of the offset, pwrite too. */
	mkf("ap", "abc");
	fd = open(P("ap"), O_WRONLY | O_APPEND);
	lseek(fd, 0, SEEK_SET);
	T(N("append.write"), write(fd, "XY", 2));
	T(N("append.offset_after_write"), lseek(fd, 0, SEEK_CUR));
	T(N("append.pwrite"), pwrite(fd, "Z", 1, 0));
	CASE(N("append.content"), "%s", slurp("ap"));
	CASE(N("append.getfl"), "%s", openflags(fcntl(fd, F_GETFL)));
	T(N("append.clear_setfl"), fcntl(fd, F_SETFL, 0));
	lseek(fd, 0, SEEK_SET);
	T(N("append.write_after_clear"), write(fd, "Q", 1));
	CASE(N("append.content_after_clear"), "%s", slurp("ap"));
	close(fd);
	{
		struct iovec iov = {"W", 1};
		fd = open(P("ap"), O_WRONLY);
		T(N("append.pwritev2_rwf_append"), pwritev2(fd, &iov, 1, 0, RWF_APPEND));
		CASE(N("append.pwritev2_content"), "%s", slurp("ap"));
		close(fd);
	}

	/* Flags reported back by F_GETFL. */
	fd = open(P("a"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
	CASE(N("getfl.rdwr_nonblock"), "%s", openflags(fcntl(fd, F_GETFL)));
	CASE(N("getfd.cloexec"), "%s", r_(C(fcntl(fd, F_GETFD))));
	close(fd);
	fd = open(P("a"), O_WRONLY | O_SYNC);
	CASE(N("getfl.sync"), "%s", openflags(fcntl(fd, F_GETFL)));
	close(fd);
	fd = open(P("a"), O_RDONLY | O_NOATIME);
	CASE(N("getfl.noatime"), "%s", openflags(C(fcntl(fd, F_GETFL))));
	close(fd);
	fd = C(open(P("a"), O_RDONLY | O_DIRECT));
	CASE(N("open.o_direct"), "%s", r_fd(fd));
	if (fd >= 0) {
		CASE(N("getfl.o_direct"), "%s", openflags(fcntl(fd, F_GETFL)));
		close(fd);
	}

	/* Symlinks and O_NOFOLLOW / O_PATH. */
	symlink("a", P("lnk"));
	TFD(N("nofollow.symlink"), open(P("lnk"), O_RDONLY | O_NOFOLLOW));
	fd = TFD(N("nofollow.path_symlink"), open(P("lnk"), O_PATH | O_NOFOLLOW));
	CASE(N("nofollow.path_fstat"), "%s", fstatdesc(fd));
	close(fd);
	fd = TFD(N("opath.open"), open(P("a"), O_PATH));
	{
		char c;
		T(N("opath.read"), read(fd, &c, 1));
		T(N("opath.fchmod"), fchmod(fd, 0600));
		CASE(N("opath.getfl"), "%s", openflags(fcntl(fd, F_GETFL)));
		CASE(N("opath.fstat"), "%s", fstatdesc(fd));
		T(N("opath.fstatat_empty_path"), ({ struct stat st; fstatat(fd, "", &st, AT_EMPTY_PATH); }));
		char pp[64];
		snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
		int fd2 = TFD(N("opath.reopen_proc"), open(pp, O_RDONLY));
		close(fd2);
	}
	close(fd);

	/* openat: relative to dirfd, to AT_FDCWD, to a non-directory. */
	int dfd = open(BASE, O_RDONLY | O_DIRECTORY);
	fd = TFD(N("openat.rel_dirfd"), openat(dfd, "a", O_RDONLY));
	close(fd);
	int ffd = open(P("a"), O_RDONLY);
	TFD(N("openat.rel_nondir_fd"), openat(ffd, "a", O_RDONLY));
	fd = TFD(N("openat.abs_ignores_dirfd"), openat(ffd, P("a"), O_RDONLY));
	close(fd);
	TFD(N("openat.bad_dirfd"), openat(999, "a", O_RDONLY));
	chdir(BASE);
	fd = TFD(N("openat.at_fdcwd"), openat(AT_FDCWD, "a", O_RDONLY));
	close(fd);
	chdir("/");
	close(ffd);
	close(dfd);

	/* Long names. */
	{
		char name[300];
		memset(name, 'n', 256);
		name[256] = 0;
		TFD(N("open.name_256"), open(P(name), O_CREAT | O_RDWR, 0644));
		name[255] = 0;
		fd = TFD(N("open.name_255"), open(P(name), O_CREAT | O_RDWR, 0644));
		close(fd);
		unlink(P(name));
		char *longp = malloc(5000);
		memset(longp, 'x', 4999);
		longp[0] = '/';
		longp[4999] = 0;
		TFD(N("open.path_too_long"), open(longp, O_RDONLY));
		free(longp);
	}
}

static void g_openat2(void)
{
	fresh();
	mkdir(P("root"), 0755);
	mkdir(P("root/sub"), 0755);
	writefile(P("root/file"), "inside", 0644);
	writefile(P("outside"), "outside", 0644);
	symlink("/file", P("root/abslink"));
	symlink("../outside", P("root/uplink"));
	symlink("file", P("root/rellink"));
	int root = open(P("root"), O_RDONLY | O_DIRECTORY);
	struct open_how how;
	long fd;
#define OA2(name, path, fl, res)                                              \
	do {                                                                      \
		memset(&how, 0, sizeof how);                                          \
		how.flags = (fl);                                                     \
		how.resolve = (res);                                                  \
		fd = C(syscall(SYS_openat2, root, path, &how, sizeof how));           \
		if (fd >= 0) {                                                        \
			char d[64];                                                       \
			long n = C(read((int)fd, d, sizeof d));                              \
			CASE(N(name), "fd %s", quoted(d, n));                             \
			close((int)fd);                                                   \
		} else                                                                \
			CASE(N(name), "%s", r_(fd));                                      \
	} while (0)
	OA2("openat2.plain", "file", O_RDONLY, 0);
	OA2("openat2.beneath_ok", "sub/../file", O_RDONLY, RESOLVE_BENEATH);
	OA2("openat2.beneath_dotdot", "../outside", O_RDONLY, RESOLVE_BENEATH);
	OA2("openat2.beneath_abs", "/etc/passwd", O_RDONLY, RESOLVE_BENEATH);
	OA2("openat2.beneath_abslink", "abslink", O_RDONLY, RESOLVE_BENEATH);
	OA2("openat2.beneath_uplink", "uplink", O_RDONLY, RESOLVE_BENEATH);
	OA2("openat2.in_root_abslink", "abslink", O_RDONLY, RESOLVE_IN_ROOT);
	OA2("openat2.in_root_dotdot", "../../../file", O_RDONLY, RESOLVE_IN_ROOT);
	OA2("openat2.in_root_abs", "/file", O_RDONLY, RESOLVE_IN_ROOT);
	OA2("openat2.no_symlinks_rel", "rellink", O_RDONLY, RESOLVE_NO_SYMLINKS);
	OA2("openat2.no_symlinks_plain", "file", O_RDONLY, RESOLVE_NO_SYMLINKS);
	OA2("openat2.no_symlinks_path_nofollow", "rellink", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	OA2("openat2.no_xdev_same", "sub/../file", O_RDONLY, RESOLVE_NO_XDEV);
	OA2("openat2.no_xdev_cross", "/proc/self/comm", O_RDONLY, RESOLVE_NO_XDEV);
	OA2("openat2.beneath_in_root", "file", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
	OA2("openat2.unknown_resolve", "file", O_RDONLY, 1ULL << 40);
	OA2("openat2.unknown_flag", "file", O_RDONLY | (1 << 30), 0);
	OA2("openat2.cached", "file", O_RDONLY, RESOLVE_CACHED);
	{
		int f = open(P("root/file"), O_RDONLY);
		char pp[64];
		snprintf(pp, sizeof pp, "/proc/self/fd/%d", f);
		OA2("openat2.no_magiclinks", pp, O_RDONLY, RESOLVE_NO_MAGICLINKS);
		OA2("openat2.magiclink_allowed", pp, O_RDONLY, 0);
		close(f);
	}
	memset(&how, 0, sizeof how);
	how.flags = O_RDONLY;
	how.mode = 0644;
	T(N("openat2.mode_without_creat"), syscall(SYS_openat2, root, "file", &how, sizeof how));
	memset(&how, 0, sizeof how);
	T(N("openat2.size_too_small"), syscall(SYS_openat2, root, "file", &how, 8));
	{
		char big[64] = {0};
		T(N("openat2.size_bigger_zeroed"), ({ long r = syscall(SYS_openat2, root, "file", big, sizeof big); if (r >= 0) close(r); r >= 0 ? 0 : r; }));
		big[40] = 1;
		T(N("openat2.size_bigger_nonzero"), syscall(SYS_openat2, root, "file", big, sizeof big));
	}
	close(root);
}

static void g_tmpfile(void)
{
	fresh();
	int fd = TFD(N("tmpfile.open"), open(BASE, O_TMPFILE | O_RDWR, 0600));
	if (fd >= 0) {
		T(N("tmpfile.write"), write(fd, "tmp", 3));
		CASE(N("tmpfile.fstat"), "%s", fstatdesc(fd));
		char pp[64];
		snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
		T(N("tmpfile.linkat"), linkat(AT_FDCWD, pp, AT_FDCWD, P("linked"), AT_SYMLINK_FOLLOW));
		CASE(N("tmpfile.linked_content"), "%s", slurp("linked"));
		CASE(N("tmpfile.fstat_after_link"), "%s", fstatdesc(fd));
		T(N("tmpfile.linkat_empty_path"), linkat(fd, "", AT_FDCWD, P("linked2"), AT_EMPTY_PATH));
		close(fd);
	}
	fd = TFD(N("tmpfile.excl_open"), open(BASE, O_TMPFILE | O_RDWR | O_EXCL, 0600));
	if (fd >= 0) {
		char pp[64];
		snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
		T(N("tmpfile.excl_linkat"), linkat(AT_FDCWD, pp, AT_FDCWD, P("linked3"), AT_SYMLINK_FOLLOW));
		close(fd);
	}
	TFD(N("tmpfile.rdonly"), open(BASE, O_TMPFILE | O_RDONLY, 0600));
	mkf("f", "x");
	TFD(N("tmpfile.on_file"), open(P("f"), O_TMPFILE | O_RDWR, 0600));
	TFD(N("tmpfile.missing_dir"), open(P("nodir"), O_TMPFILE | O_RDWR, 0600));
	{
		char *names[64];
		int n = 0;
		DIR *d = opendir(BASE);
		struct dirent *de;
		while (d && (de = readdir(d)) && n < 64)
			if (de->d_name[0] != '.')
				names[n++] = strdup(de->d_name);
		if (d)
			closedir(d);
		CASE(N("tmpfile.dir_listing"), "%s", joinsorted(names, n, ","));
	}
}

static void g_rename(void)
{
	fresh();
	mkf("a", "A");
	mkf("b", "B");
	mkdir(P("d1"), 0755);
	mkdir(P("d2"), 0755);
	mkdir(P("full"), 0755);
	mkf("full/x", "x");
	T(N("rename.replace_file"), rename(P("a"), P("b")));
	CASE(N("rename.replace_result"), "%s a=%s", slurp("b"), statdesc(P("a"), 1));
	T(N("rename.file_over_dir"), rename(P("b"), P("d1")));
	T(N("rename.dir_over_file"), rename(P("d1"), P("b")));
	T(N("rename.dir_over_empty_dir"), rename(P("d1"), P("d2")));
	T(N("rename.dir_over_nonempty"), rename(P("d2"), P("full")));
	T(N("rename.dir_into_self"), rename(P("full"), P("full/sub")));
	T(N("rename.same_file"), rename(P("b"), P("b")));
	T(N("rename.missing"), rename(P("zz"), P("yy")));
	T(N("rename.dot"), rename(P("full/."), P("q")));
	T(N("rename.to_missing_dir"), rename(P("b"), P("nodir/b")));
	link(P("b"), P("b2"));
	T(N("rename.hardlinks_same_inode"), rename(P("b"), P("b2")));
	CASE(N("rename.hardlinks_both_remain"), "b=%s b2=%s", statdesc(P("b"), 1), statdesc(P("b2"), 1));

	mkf("x", "X");
	mkf("y", "Y");
	T(N("renameat2.noreplace_exists"), renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("y"), RENAME_NOREPLACE));
	T(N("renameat2.noreplace_new"), renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("x2"), RENAME_NOREPLACE));
	T(N("renameat2.exchange"), renameat2(AT_FDCWD, P("x2"), AT_FDCWD, P("y"), RENAME_EXCHANGE));
	CASE(N("renameat2.exchange_result"), "x2=%s y=%s", slurp("x2"), slurp("y"));
	T(N("renameat2.exchange_missing"), renameat2(AT_FDCWD, P("x2"), AT_FDCWD, P("none"), RENAME_EXCHANGE));
	T(N("renameat2.exchange_file_dir"), renameat2(AT_FDCWD, P("x2"), AT_FDCWD, P("full"), RENAME_EXCHANGE));
	CASE(N("renameat2.exchange_file_dir_result"), "x2=%s full=%s", statdesc(P("x2"), 1), statdesc(P("full"), 1));
	T(N("renameat2.noreplace_exchange"), renameat2(AT_FDCWD, P("x2"), AT_FDCWD, P("y"), RENAME_NOREPLACE | RENAME_EXCHANGE));
	T(N("renameat2.bad_flag"), renameat2(AT_FDCWD, P("x2"), AT_FDCWD, P("y"), 1 << 10));
	T(N("renameat2.whiteout"), renameat2(AT_FDCWD, P("y"), AT_FDCWD, P("y3"), RENAME_WHITEOUT));
	CASE(N("renameat2.whiteout_left"), "%s", statdesc(P("y"), 1));
}

static void g_links(void)
{
	fresh();
	mkf("f", "data");
	T(N("link.create"), link(P("f"), P("h")));
	CASE(N("link.nlink"), "%s", statdesc(P("f"), 1));
	T(N("link.exists"), link(P("f"), P("h")));
	mkdir(P("d"), 0755);
	T(N("link.dir"), link(P("d"), P("dh")));
	T(N("link.missing"), link(P("nope"), P("n2")));
	T(N("unlink.one_link"), unlink(P("h")));
	CASE(N("link.nlink_after_unlink"), "%s", statdesc(P("f"), 1));
	symlink("f", P("s"));
	T(N("linkat.symlink_nofollow"), linkat(AT_FDCWD, P("s"), AT_FDCWD, P("sl"), 0));
	CASE(N("linkat.symlink_nofollow_type"), "%s", statdesc(P("sl"), 1));
	T(N("linkat.symlink_follow"), linkat(AT_FDCWD, P("s"), AT_FDCWD, P("sf"), AT_SYMLINK_FOLLOW));
	CASE(N("linkat.symlink_follow_type"), "%s", statdesc(P("sf"), 1));
	{
		int fd = open(P("f"), O_RDONLY);
		T(N("linkat.empty_path_regular"), linkat(fd, "", AT_FDCWD, P("ep"), AT_EMPTY_PATH));
		close(fd);
	}

	T(N("symlink.create"), symlink("target/x", P("sym")));
	T(N("symlink.exists"), symlink("t", P("sym")));
	T(N("symlink.empty_target"), symlink("", P("empty")));
	{
		char buf[64];
		long n = C(readlink(P("sym"), buf, sizeof buf));
		CASE(N("readlink.value"), "%s", quoted(buf, n));
		n = C(readlink(P("sym"), buf, 3));
		CASE(N("readlink.truncated"), "%s", quoted(buf, n));
		T(N("readlink.not_link"), readlink(P("f"), buf, sizeof buf));
		T(N("readlink.missing"), readlink(P("zz"), buf, sizeof buf));
		T(N("readlink.zero_buf"), readlink(P("sym"), buf, 0));
		int fd = open(P("sym"), O_PATH | O_NOFOLLOW);
		n = C(readlinkat(fd, "", buf, sizeof buf));
		CASE(N("readlinkat.empty_path"), "%s", quoted(buf, n));
		close(fd);
	}
	CASE(N("symlink.lstat"), "%s", statdesc(P("sym"), 1));
	CASE(N("symlink.stat_dangling"), "%s", statdesc(P("sym"), 0));
	TFD(N("symlink.open_dangling"), open(P("sym"), O_RDONLY));
	symlink("made", P("dang"));
	int fd = TFD(N("symlink.creat_through_dangling"), open(P("dang"), O_CREAT | O_WRONLY, 0644));
	close(fd);
	CASE(N("symlink.creat_through_dangling_target"), "%s", statdesc(P("made"), 1));
	TFD(N("symlink.creat_excl_dangling"), open(P("sym"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	symlink("loop2", P("loop1"));
	symlink("loop1", P("loop2"));
	TFD(N("symlink.loop"), open(P("loop1"), O_RDONLY));
	{
		/* 40 nested links is the limit. */
		char a[32], b[32];
		writefile(P("c0"), "end", 0644);
		for (int i = 1; i <= 41; i++) {
			snprintf(a, sizeof a, "c%d", i - 1);
			snprintf(b, sizeof b, "c%d", i);
			symlink(a, P(b));
		}
		fd = TFD(N("symlink.chain_40"), open(P("c40"), O_RDONLY));
		close(fd);
		TFD(N("symlink.chain_41"), open(P("c41"), O_RDONLY));
	}
	symlink("d", P("dl"));
	T(N("symlink.rmdir_via_link"), rmdir(P("dl")));
	T(N("symlink.unlink_link_to_dir"), unlink(P("dl")));
	T(N("symlink.trailing_slash_lstat"), ({ struct stat st; symlink("d", P("dl2")); lstat(P("dl2/"), &st) == 0 ? (long)(st.st_mode & S_IFMT) : -1L; }));

	T(N("unlink.dir"), unlink(P("d")));
	T(N("rmdir.file"), rmdir(P("f")));
	mkf("d/x", "");
	T(N("rmdir.nonempty"), rmdir(P("d")));
	T(N("rmdir.dot"), rmdir(P("d/.")));
	T(N("rmdir.dotdot"), rmdir(P("d/..")));
	T(N("mkdir.exists"), mkdir(P("d"), 0755));
	T(N("mkdir.missing_parent"), mkdir(P("q/r"), 0755));
	T(N("mkdir.trailing_slash"), mkdir(P("ts/"), 0755));
	T(N("unlinkat.removedir_file"), unlinkat(AT_FDCWD, P("f"), AT_REMOVEDIR));
	unlink(P("d/x"));
	T(N("unlinkat.removedir"), unlinkat(AT_FDCWD, P("d"), AT_REMOVEDIR));
	T(N("unlinkat.bad_flag"), unlinkat(AT_FDCWD, P("f"), 0x4));
	T(N("mknod.fifo"), mknod(P("fifo"), S_IFIFO | 0644, 0));
	CASE(N("mknod.fifo_stat"), "%s", statdesc(P("fifo"), 1));
	T(N("mknod.reg"), mknod(P("reg"), S_IFREG | 0644, 0));
	T(N("mknod.chr_null"), mknod(P("null"), S_IFCHR | 0666, makedev(1, 3)));
	fd = TFD(N("mknod.chr_null_open"), open(P("null"), O_WRONLY));
	if (fd >= 0) {
		T(N("mknod.chr_null_write"), write(fd, "x", 1));
		close(fd);
	}
	T(N("mknod.bad_type"), mknod(P("bad"), 0170000 | 0644, 0));
	T(N("mkfifo.exists"), mkfifo(P("fifo"), 0644));
	fd = TFD(N("fifo.open_nonblock_rdonly"), open(P("fifo"), O_RDONLY | O_NONBLOCK));
	TFD(N("fifo.open_nonblock_wronly_with_reader"), open(P("fifo"), O_WRONLY | O_NONBLOCK));
	close(fd);
	TFD(N("fifo.open_nonblock_wronly_no_reader"), open(P("fifo"), O_WRONLY | O_NONBLOCK));
}

static int as_user_access(void *arg)
{
	const char *path = arg;
	if (setgid(1000) || setuid(1000))
		return 100;
	int fd = open(path, O_RDONLY);
	int e = errno;
	if (fd >= 0)
		return 0;
	return e == EACCES ? 13 : 99;
}

static int as_user_unlink(void *arg)
{
	if (setgid(1000) || setuid(1000))
		return 100;
	return unlink((const char *)arg) == 0 ? 0 : errno;
}

static int as_user_chmod(void *arg)
{
	if (setgid(1000) || setuid(1000))
		return 100;
	return chmod((const char *)arg, 0777) == 0 ? 0 : errno;
}

static int as_user_create(void *arg)
{
	if (setgid(1000) || setuid(1000))
		return 100;
	int fd = open((const char *)arg, O_CREAT | O_WRONLY, 0644);
	return fd >= 0 ? 0 : errno;
}

static void g_perms(void)
{
	fresh();
	umask(022);
	int fd = open(P("u1"), O_CREAT | O_WRONLY, 0666);
	close(fd);
	CASE(N("umask.022_file"), "%s", statdesc(P("u1"), 1));
	CASE(N("umask.set_returns_old"), "%04o", umask(077));
	mkdir(P("u2"), 0777);
	CASE(N("umask.077_dir"), "%s", statdesc(P("u2"), 1));
	fd = open(P("u3"), O_CREAT | O_WRONLY, 0666);
	close(fd);
	CASE(N("umask.077_file"), "%s", statdesc(P("u3"), 1));
	umask(0);
	fd = open(P("u4"), O_CREAT | O_WRONLY, 07777);
	close(fd);
	CASE(N("umask.0_file_07777"), "%s", statdesc(P("u4"), 1));
	umask(022);

	mkf("m", "m");
	T(N("chmod.setuid"), chmod(P("m"), 04755));
	CASE(N("chmod.setuid_stat"), "%s", statdesc(P("m"), 1));
	T(N("chmod.sticky_file"), chmod(P("m"), 01644));
	CASE(N("chmod.sticky_file_stat"), "%s", statdesc(P("m"), 1));
	symlink("m", P("ml"));
	T(N("fchmodat.nofollow_symlink"), syscall(SYS_fchmodat, AT_FDCWD, P("ml"), 0600, AT_SYMLINK_NOFOLLOW));
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
	T(N("fchmodat2.nofollow_symlink"), syscall(SYS_fchmodat2, AT_FDCWD, P("ml"), 0600, AT_SYMLINK_NOFOLLOW));
	T(N("fchmodat2.nofollow_file"), syscall(SYS_fchmodat2, AT_FDCWD, P("m"), 0640, AT_SYMLINK_NOFOLLOW));
	CASE(N("fchmodat2.nofollow_file_stat"), "%s", statdesc(P("m"), 1));
	T(N("chown.to_user"), chown(P("m"), 1000, 1000));
	CASE(N("chown.to_user_stat"), "%s", statdesc(P("m"), 1));
	chmod(P("m"), 06755);
	T(N("chown.clears_setid"), chown(P("m"), 1000, 1000));
	CASE(N("chown.clears_setid_stat"), "%s", statdesc(P("m"), 1));
	T(N("lchown.symlink"), lchown(P("ml"), 1000, 1000));
	CASE(N("lchown.symlink_stat"), "%s", statdesc(P("ml"), 1));
	T(N("chown.minus_one"), chown(P("m"), -1, 0));
	CASE(N("chown.minus_one_stat"), "%s", statdesc(P("m"), 1));

	/* Root bypasses read/write permission, but not exec with no x bit. */
	mkf("secret", "s");
	chmod(P("secret"), 0);
	fd = TFD(N("access.root_reads_0000"), open(P("secret"), O_RDONLY));
	close(fd);
	T(N("access.root_x_on_0644"), access(P("secret"), X_OK));
	chmod(P("secret"), 0100);
	T(N("access.root_x_on_0100"), access(P("secret"), X_OK));
	chmod(P("secret"), 0600);
	chmod(BASE, 0755);
	CASE(N("access.user_reads_0600"), "%s", subproc(as_user_access, P("secret")));
	chmod(P("secret"), 0644);
	CASE(N("access.user_reads_0644"), "%s", subproc(as_user_access, P("secret")));
	T(N("faccessat.eaccess"), faccessat(AT_FDCWD, P("secret"), R_OK | W_OK, AT_EACCESS));
	T(N("faccessat.bad_mode"), faccessat(AT_FDCWD, P("secret"), 0100, 0));
	T(N("faccessat2.symlink_nofollow"), syscall(439 /* faccessat2 */, AT_FDCWD, P("ml"), F_OK, AT_SYMLINK_NOFOLLOW));
	T(N("access.missing"), access(P("zz"), F_OK));

	/* Sticky directory: a user cannot remove root's file. */
	mkdir(P("sticky"), 01777);
	chmod(P("sticky"), 01777);
	writefile(P("sticky/rootfile"), "r", 0644);
	CASE(N("sticky.user_unlink_root_file"), "%s", subproc(as_user_unlink, P("sticky/rootfile")));
	CASE(N("perm.user_chmod_root_file"), "%s", subproc(as_user_chmod, P("sticky/rootfile")));
	CASE(N("perm.user_create_in_sticky"), "%s", subproc(as_user_create, P("sticky/userfile")));
	CASE(N("perm.user_created_owner"), "%s", statdesc(P("sticky/userfile"), 1));
	mkdir(P("ro"), 0555);
	CASE(N("perm.user_create_in_0555"), "%s", subproc(as_user_create, P("ro/f")));
	/* setgid directory: new entries inherit the group. */
	mkdir(P("sg"), 0755);
	chown(P("sg"), 0, 1000);
	chmod(P("sg"), 02775);
	mkdir(P("sg/sub"), 0755);
	writefile(P("sg/f"), "", 0644);
	CASE(N("setgid_dir.file_group"), "%s", statdesc(P("sg/f"), 1));
	CASE(N("setgid_dir.subdir_inherits"), "%s", statdesc(P("sg/sub"), 1));

	/* utimensat with explicit times reads back exactly. */
	struct timespec ts[2] = {{1000000000, 5}, {1100000000, 7}};
	T(N("utimensat.set"), utimensat(AT_FDCWD, P("secret"), ts, 0));
	{
		struct stat st;
		stat(P("secret"), &st);
		CASE(N("utimensat.readback"), "atime=%ld.%09ld mtime=%ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		struct timespec om[2] = {{0, UTIME_OMIT}, {1200000000, 0}};
		utimensat(AT_FDCWD, P("secret"), om, 0);
		stat(P("secret"), &st);
		CASE(N("utimensat.omit_atime"), "atime=%ld mtime=%ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
		struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
		T(N("utimensat.bad_nsec"), utimensat(AT_FDCWD, P("secret"), bad, 0));
		T(N("utimensat.symlink_nofollow"), utimensat(AT_FDCWD, P("ml"), ts, AT_SYMLINK_NOFOLLOW));
		lstat(P("ml"), &st);
		CASE(N("utimensat.symlink_nofollow_readback"), "mtime=%ld", (long)st.st_mtim.tv_sec);
	}
}

static void g_xattr(void)
{
	fresh();
	mkf("x", "x");
	char buf[256];
	T(N("xattr.set_user"), setxattr(P("x"), "user.test", "value1", 6, 0));
	long n = C(getxattr(P("x"), "user.test", buf, sizeof buf));
	CASE(N("xattr.get_user"), "%s", quoted(buf, n));
	T(N("xattr.get_size_query"), getxattr(P("x"), "user.test", NULL, 0));
	T(N("xattr.get_small_buffer"), getxattr(P("x"), "user.test", buf, 2));
	T(N("xattr.get_missing"), getxattr(P("x"), "user.none", buf, sizeof buf));
	T(N("xattr.create_existing"), setxattr(P("x"), "user.test", "v", 1, XATTR_CREATE));
	T(N("xattr.replace_missing"), setxattr(P("x"), "user.other", "v", 1, XATTR_REPLACE));
	T(N("xattr.replace_existing"), setxattr(P("x"), "user.test", "v2", 2, XATTR_REPLACE));
	T(N("xattr.set_empty_value"), setxattr(P("x"), "user.empty", "", 0, 0));
	T(N("xattr.get_empty_value"), getxattr(P("x"), "user.empty", buf, sizeof buf));
	T(N("xattr.bad_flags"), setxattr(P("x"), "user.test", "v", 1, 4));
	T(N("xattr.no_namespace"), setxattr(P("x"), "test", "v", 1, 0));
	T(N("xattr.unknown_namespace"), setxattr(P("x"), "foo.test", "v", 1, 0));
	T(N("xattr.empty_name"), setxattr(P("x"), "", "v", 1, 0));
	T(N("xattr.trusted"), setxattr(P("x"), "trusted.test", "v", 1, 0));
	T(N("xattr.security"), setxattr(P("x"), "security.test", "v", 1, 0));
	{
		char big[70000];
		memset(big, 'v', sizeof big);
		T(N("xattr.value_too_big"), setxattr(P("x"), "user.big", big, sizeof big, 0));
		char name[300];
		memset(name, 'n', sizeof name);
		memcpy(name, "user.", 5);
		name[299] = 0;
		T(N("xattr.name_too_long"), setxattr(P("x"), name, "v", 1, 0));
	}
	{
		char list[1024];
		n = C(listxattr(P("x"), list, sizeof list));
		if (n < 0) {
			CASE(N("xattr.list"), "%s", r_(n));
		} else {
			char *names[64];
			int k = 0;
			for (char *p = list; p < list + n && k < 64; p += strlen(p) + 1)
				names[k++] = p;
			CASE(N("xattr.list"), "%s", joinsorted(names, k, ","));
		}
		T(N("xattr.list_size_query"), listxattr(P("x"), NULL, 0));
		T(N("xattr.list_small_buffer"), listxattr(P("x"), list, 3));
	}
	T(N("xattr.remove"), removexattr(P("x"), "user.test"));
	T(N("xattr.remove_missing"), removexattr(P("x"), "user.test"));
	int fd = open(P("x"), O_RDONLY);
	T(N("xattr.fset"), fsetxattr(fd, "user.f", "fv", 2, 0));
	n = C(fgetxattr(fd, "user.f", buf, sizeof buf));
	CASE(N("xattr.fget"), "%s", quoted(buf, n));
	close(fd);
	symlink("x", P("l"));
	T(N("xattr.lset_symlink_user"), lsetxattr(P("l"), "user.l", "v", 1, 0));
	T(N("xattr.lget_symlink"), lgetxattr(P("l"), "user.f", buf, sizeof buf));
	n = C(getxattr(P("l"), "user.f", buf, sizeof buf));
	CASE(N("xattr.get_through_symlink"), "%s", quoted(buf, n));
	mkdir(P("d"), 0755);
	T(N("xattr.set_dir"), setxattr(P("d"), "user.d", "v", 1, 0));
	mkfifo(P("fifo"), 0644);
	T(N("xattr.set_fifo"), setxattr(P("fifo"), "user.f", "v", 1, 0));
	chmod(P("d"), 01777);
	T(N("xattr.set_sticky_dir_root"), setxattr(P("d"), "user.s", "v", 1, 0));
}

static void g_size(void)
{
	fresh();
	mkf("t", "0123456789");
	T(N("truncate.grow"), truncate(P("t"), 16));
	{
		int fd = open(P("t"), O_RDONLY);
		CASE(N("truncate.grow_reads_zeros"), "%s", preadstr(fd, 32, 8));
		close(fd);
	}
	T(N("truncate.shrink"), truncate(P("t"), 4));
	CASE(N("truncate.shrink_content"), "%s", slurp("t"));
	T(N("truncate.negative"), truncate(P("t"), -1));
	T(N("truncate.dir"), truncate(BASE, 0));
	T(N("truncate.missing"), truncate(P("zz"), 0));
	int fd = open(P("t"), O_RDONLY);
	T(N("ftruncate.rdonly"), ftruncate(fd, 0));
	close(fd);
	fd = open(P("t"), O_RDWR);
	T(N("ftruncate.rdwr"), ftruncate(fd, 100));
	CASE(N("ftruncate.size"), "%s", fstatdesc(fd));
	T(N("ftruncate.huge"), ftruncate(fd, 1LL << 62));
	T(N("ftruncate.huge_negative"), ftruncate(fd, -5));
	ftruncate(fd, 100);
	T(N("lseek.end"), lseek(fd, 0, SEEK_END));
	T(N("lseek.past_end"), lseek(fd, 50, SEEK_END));
	T(N("lseek.negative"), lseek(fd, -1, SEEK_SET));
	T(N("lseek.bad_whence"), lseek(fd, 0, 7));
	close(fd);

	/* Sparse files and SEEK_DATA/SEEK_HOLE. */
	fd = open(P("sparse"), O_CREAT | O_RDWR, 0644);
	pwrite(fd, "D", 1, 1 << 20);
	T(N("lseek.data_from_0"), lseek(fd, 0, SEEK_DATA));
	T(N("lseek.hole_from_0"), lseek(fd, 0, SEEK_HOLE));
	T(N("lseek.data_past_eof"), lseek(fd, (1 << 20) + 10, SEEK_DATA));
	T(N("lseek.hole_at_end"), lseek(fd, 1 << 20, SEEK_HOLE));
	close(fd);

	/* fallocate modes. */
	fd = open(P("fa"), O_CREAT | O_RDWR, 0644);
	write(fd, "abcdefgh", 8);
	T(N("fallocate.extend"), fallocate(fd, 0, 0, 8192));
	CASE(N("fallocate.extend_size"), "%s", fstatdesc(fd));
	T(N("fallocate.keep_size"), fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536));
	CASE(N("fallocate.keep_size_size"), "%s", fstatdesc(fd));
	T(N("fallocate.punch_hole_no_keep"), fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4));
	T(N("fallocate.punch_hole"), fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3));
	CASE(N("fallocate.punch_hole_content"), "%s", preadstr(fd, 8, 0));
	T(N("fallocate.zero_range"), fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 2));
	CASE(N("fallocate.zero_range_content"), "%s", preadstr(fd, 8, 0));
	T(N("fallocate.collapse_range"), fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
	T(N("fallocate.insert_range"), fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096));
	T(N("fallocate.zero_len"), fallocate(fd, 0, 0, 0));
	T(N("fallocate.negative_off"), fallocate(fd, 0, -1, 10));
	T(N("fallocate.bad_mode"), fallocate(fd, 0x100, 0, 10));
	close(fd);
	fd = open(P("fa"), O_RDONLY);
	T(N("fallocate.rdonly"), fallocate(fd, 0, 0, 10));
	close(fd);
	int pfd[2];
	pipe(pfd);
	T(N("fallocate.pipe"), fallocate(pfd[1], 0, 0, 10));
	T(N("ftruncate.pipe"), ftruncate(pfd[1], 0));
	T(N("lseek.pipe"), lseek(pfd[0], 0, SEEK_CUR));
	close(pfd[0]);
	close(pfd[1]);
	fd = open(BASE, O_RDONLY);
	T(N("fallocate.dir"), fallocate(fd, 0, 0, 10));
	close(fd);
	{
		struct stat st;
		fd = open(P("blk"), O_CREAT | O_RDWR | O_TRUNC, 0644);
		fstat(fd, &st);
		CASE(N("stat.empty_blocks"), "blocks=%lld blksize=%ld", (long long)st.st_blocks, (long)st.st_blksize);
		write(fd, "x", 1);
		fsync(fd);
		fstat(fd, &st);
		CASE(N("stat.onebyte_blocks_positive"), "%d", st.st_blocks > 0);
		close(fd);
	}
}

static void g_copy(void)
{
	fresh();
	mkf("src", "hello, world");
	int in = open(P("src"), O_RDONLY);
	int out = open(P("dst"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	off_t off = 7;
	T(N("sendfile.file_to_file_offset"), sendfile(out, in, &off, 100));
	CASE(N("sendfile.offset_updated"), "%lld cur=%lld", (long long)off, (long long)lseek(in, 0, SEEK_CUR));
	T(N("sendfile.file_to_file_nooffset"), sendfile(out, in, NULL, 5));
	CASE(N("sendfile.result"), "%s", slurp("dst"));
	T(N("sendfile.at_eof"), sendfile(out, in, &off, 100));
	int p[2];
	pipe2(p, O_NONBLOCK);
	lseek(in, 0, SEEK_SET);
	T(N("sendfile.file_to_pipe"), sendfile(p[1], in, NULL, 5));
	CASE(N("sendfile.pipe_content"), "%s", readstr(p[0], 64));
	write(p[1], "pipedata", 8);
	T(N("sendfile.pipe_to_file"), sendfile(out, p[0], NULL, 8));
	T(N("sendfile.rdonly_out"), sendfile(in, in, NULL, 1));
	T(N("sendfile.negative_offset"), ({ off_t o = -1; sendfile(out, in, &o, 1); }));
	close(p[0]);
	close(p[1]);

	/* splice through a pipe. */
	pipe2(p, O_NONBLOCK);
	lseek(in, 0, SEEK_SET);
	loff_t lo = 0;
	T(N("splice.file_to_pipe"), splice(in, &lo, p[1], NULL, 5, 0));
	int out2 = open(P("spl"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	T(N("splice.pipe_to_file"), splice(p[0], NULL, out2, NULL, 5, 0));
	CASE(N("splice.result"), "%s", slurp("spl"));
	T(N("splice.no_pipe"), splice(in, NULL, out2, NULL, 5, 0));
	T(N("splice.offset_on_pipe"), ({ loff_t o = 0; splice(p[0], &o, out2, NULL, 5, 0); }));
	T(N("splice.bad_flags_ok"), splice(in, &lo, p[1], NULL, 1, 0x100));
	T(N("splice.empty_pipe_nonblock"), ({ loff_t o = 0; splice(p[0], NULL, out2, &o, 5, SPLICE_F_NONBLOCK); }));
	{
		int q[2];
		pipe2(q, O_NONBLOCK);
		write(p[1], "teedata", 7);
		T(N("tee.pipe_to_pipe"), tee(p[0], q[1], 100, 0));
		CASE(N("tee.copy_content"), "%s", readstr(q[0], 64));
		CASE(N("tee.source_kept"), "%s", readstr(p[0], 64));
		T(N("tee.non_pipe"), tee(in, q[1], 10, 0));
		T(N("tee.same_pipe"), tee(p[0], p[1], 10, 0));
		write(p[1], "pp", 2);
		T(N("splice.pipe_to_pipe"), splice(p[0], NULL, q[1], NULL, 10, 0));
		CASE(N("splice.pipe_to_pipe_content"), "%s", readstr(q[0], 64));
		struct iovec iov = {"vmsp", 4};
		T(N("vmsplice.to_pipe"), vmsplice(q[1], &iov, 1, 0));
		CASE(N("vmsplice.content"), "%s", readstr(q[0], 64));
		close(q[0]);
		close(q[1]);
	}
	close(p[0]);
	close(p[1]);

	/* copy_file_range. */
	int out3 = open(P("cfr"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	loff_t a = 0, b = 0;
	T(N("copy_file_range.whole"), copy_file_range(in, &a, out3, &b, 100, 0));
	CASE(N("copy_file_range.offsets"), "in=%lld out=%lld", (long long)a, (long long)b);
	CASE(N("copy_file_range.result"), "%s", slurp("cfr"));
	T(N("copy_file_range.bad_flags"), copy_file_range(in, NULL, out3, NULL, 10, 1));
	a = 0;
	b = 2;
	T(N("copy_file_range.overlap_same_file"), copy_file_range(out3, &a, out3, &b, 5, 0));
	a = 0;
	b = 100;
	T(N("copy_file_range.same_file_disjoint"), copy_file_range(out3, &a, out3, &b, 5, 0));
	T(N("copy_file_range.to_rdonly"), copy_file_range(out3, NULL, in, NULL, 5, 0));
	{
		int q[2];
		pipe(q);
		T(N("copy_file_range.to_pipe"), copy_file_range(in, NULL, q[1], NULL, 5, 0));
		close(q[0]);
		close(q[1]);
	}
	{
		/* Across filesystems: tmpfs <-> rootfs. */
		const char *other = strcmp(FS, "tmpfs") == 0 ? "/var/tmp/cf-xfs" : "/dev/shm/cf-xfs";
		int x = open(other, O_CREAT | O_RDWR | O_TRUNC, 0644);
		a = 0;
		T(N("copy_file_range.cross_fs"), copy_file_range(in, &a, x, NULL, 5, 0));
		close(x);
		unlink(other);
	}
	a = 1000;
	T(N("copy_file_range.past_eof"), copy_file_range(in, &a, out3, NULL, 5, 0));

	/* readv/writev and p* variants. */
	{
		int fd = open(P("iov"), O_CREAT | O_RDWR | O_TRUNC, 0644);
		struct iovec w[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
		T(N("writev.basic"), writev(fd, w, 3));
		char r1[2], r2[10];
		struct iovec rv[2] = {{r1, 2}, {r2, 10}};
		T(N("preadv.basic"), preadv(fd, rv, 2, 0));
		CASE(N("preadv.content"), "%s|%s", quoted(r1, 2), quoted(r2, 3));
		T(N("writev.iovcnt_too_big"), syscall(SYS_writev, fd, w, 1025));
		T(N("writev.negative_iovcnt"), syscall(SYS_writev, fd, w, -1));
		T(N("preadv2.nowait"), preadv2(fd, rv, 2, 0, RWF_NOWAIT));
		T(N("preadv2.bad_flag"), preadv2(fd, rv, 2, 0, 0x80));
		T(N("pwritev2.dsync"), pwritev2(fd, w, 1, 0, RWF_DSYNC));
		T(N("pread.negative"), pread(fd, r1, 1, -1));
		T(N("fsync"), fsync(fd));
		T(N("fdatasync"), fdatasync(fd));
		T(N("syncfs"), syncfs(fd));
		T(N("sync_file_range"), sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
		T(N("sync_file_range.bad_flags"), sync_file_range(fd, 0, 0, 0x10));
		T(N("posix_fadvise.sequential"), posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
		T(N("fadvise.bad_advice"), syscall(SYS_fadvise64, fd, 0, 0, 99));
		T(N("readahead"), readahead(fd, 0, 10));
		close(fd);
	}
}

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void g_dents(void)
{
	fresh();
	mkf("file", "");
	mkdir(P("dir"), 0755);
	symlink("file", P("link"));
	mkfifo(P("fifo"), 0644);
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof name, "many%02d", i);
		mkf(name, "");
	}
	int fd = open(BASE, O_RDONLY | O_DIRECTORY);
	char buf[1 << 16];
	char *names[128];
	int n = 0, calls = 0;
	long r;
	while ((r = C(syscall(SYS_getdents64, fd, buf, sizeof buf))) > 0) {
		calls++;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *e = malloc(300);
			const char *t = d->d_type == DT_REG ? "reg" : d->d_type == DT_DIR ? "dir" : d->d_type == DT_LNK ? "lnk" : d->d_type == DT_FIFO ? "fifo" : d->d_type == DT_UNKNOWN ? "unknown" : "other";
			snprintf(e, 300, "%s:%s", d->d_name, t);
			if (strncmp(d->d_name, "many", 4) != 0 && n < 128)
				names[n++] = e;
			off += d->d_reclen;
		}
	}
	qsort(names, n, sizeof names[0], cmp_dent);
	CASE(N("getdents.types_sorted"), "%s", joinsorted(names, n, ","));
	CASE(N("getdents.end"), "%s", r_(r));
	T(N("getdents.again_at_eof"), syscall(SYS_getdents64, fd, buf, sizeof buf));
	lseek(fd, 0, SEEK_SET);
	int total = 0;
	while ((r = syscall(SYS_getdents64, fd, buf, 64)) > 0)
		for (long off = 0; off < r; off += ((struct dirent64 *)(buf + off))->d_reclen)
			total++;
	CASE(N("getdents.small_buffer_total"), "%d", total);
	lseek(fd, 0, SEEK_SET);
	T(N("getdents.buffer_too_small"), syscall(SYS_getdents64, fd, buf, 8));
	close(fd);
	fd = open(P("file"), O_RDONLY);
	T(N("getdents.on_file"), syscall(SYS_getdents64, fd, buf, sizeof buf));
	close(fd);
	fd = open(P("dir"), O_RDONLY | O_DIRECTORY);
	n = 0;
	r = syscall(SYS_getdents64, fd, buf, sizeof buf);
	for (long off = 0; off < r; off += ((struct dirent64 *)(buf + off))->d_reclen)
		names[n++] = ((struct dirent64 *)(buf + off))->d_name;
	CASE(N("getdents.empty_dir"), "%s", joinsorted(names, n, ","));
	/* Entries removed while reading are not returned twice. */
	lseek(fd, 0, SEEK_SET);
	close(fd);
	fd = open(P("dir"), O_RDONLY | O_DIRECTORY);
	rmdir(P("dir"));
	T(N("getdents.removed_dir"), syscall(SYS_getdents64, fd, buf, sizeof buf));
	close(fd);
	fd = open(P("."), O_RDONLY | O_DIRECTORY);
	T(N("lseek.dir_end"), lseek(fd, 0, SEEK_END));
	close(fd);
}

static void g_stat(void)
{
	fresh();
	mkf("f", "12345");
	struct statx sx;
	long r = C(statx(AT_FDCWD, P("f"), 0, STATX_BASIC_STATS | STATX_BTIME, &sx));
	CASE(N("statx.basic"), "%s mask_basic=%d size=%lld mode=%o", r_(r), (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, (long long)sx.stx_size, sx.stx_mode);
	CASE(N("statx.btime_reported"), "%d", !!(sx.stx_mask & STATX_BTIME));
	T(N("statx.bad_flags"), statx(AT_FDCWD, P("f"), 0x10000000, STATX_BASIC_STATS, &sx));
	T(N("statx.reserved_mask"), statx(AT_FDCWD, P("f"), 0, 0x80000000, &sx));
	T(N("statx.empty_path_no_flag"), statx(AT_FDCWD, "", 0, STATX_BASIC_STATS, &sx));
	int fd = open(P("f"), O_RDONLY);
	r = C(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	CASE(N("statx.empty_path_fd"), "%s size=%lld", r_(r), (long long)sx.stx_size);
	close(fd);
	struct statfs sf;
	r = C(statfs(BASE, &sf));
	CASE(N("statfs.type"), "%s type=%#lx namelen=%ld", r_(r), (unsigned long)sf.f_type, (long)sf.f_namelen);
	T(N("statfs.missing"), statfs(P("zz"), &sf));
	char cwd[8];
	chdir(BASE);
	T(N("getcwd.small_buffer"), getcwd(cwd, sizeof cwd) ? 0 : -1);
	{
		char big[512];
		CASE(N("getcwd.value"), "%s", getcwd(big, sizeof big) ? (strcmp(big, BASE) == 0 ? "match" : big) : r_(-1));
	}
	mkdir(P("gone"), 0755);
	chdir(P("gone"));
	rmdir(P("gone"));
	{
		char big[512];
		char *g = getcwd(big, sizeof big);
		E = errno;
		CASE(N("getcwd.removed"), "%s", g ? big + strlen(BASE) : r_(-1));
		T(N("getcwd.removed_syscall"), syscall(SYS_getcwd, big, sizeof big) > 0 ? 1 : -1);
		T(N("open.dot_in_removed"), open(".", O_RDONLY) >= 0 ? 0 : -1);
		T(N("creat.in_removed"), open("x", O_CREAT | O_RDWR, 0644));
	}
	chdir("/");
	fd = open(BASE, O_RDONLY);
	T(N("fchdir.dir"), fchdir(fd));
	close(fd);
	fd = open(P("f"), O_RDONLY);
	T(N("fchdir.file"), fchdir(fd));
	close(fd);
	chdir("/");
	T(N("chdir.file"), chdir(P("f")));

	/* flock on two open file descriptions of one file. */
	int a = open(P("f"), O_RDONLY), b = open(P("f"), O_RDONLY);
	T(N("flock.ex"), flock(a, LOCK_EX));
	T(N("flock.ex_conflict_nb"), flock(b, LOCK_EX | LOCK_NB));
	T(N("flock.sh_conflict_nb"), flock(b, LOCK_SH | LOCK_NB));
	T(N("flock.relock_same"), flock(a, LOCK_SH));
	T(N("flock.sh_shared"), flock(b, LOCK_SH | LOCK_NB));
	T(N("flock.upgrade_conflict"), flock(b, LOCK_EX | LOCK_NB));
	T(N("flock.unlock"), flock(a, LOCK_UN));
	T(N("flock.upgrade_ok"), flock(b, LOCK_EX | LOCK_NB));
	T(N("flock.bad_op"), flock(a, 0x40));
	int c = dup(b);
	close(b);
	T(N("flock.held_via_dup"), flock(a, LOCK_EX | LOCK_NB));
	close(c);
	T(N("flock.released_on_last_close"), flock(a, LOCK_EX | LOCK_NB));
	close(a);
}

static void g_devices(void)
{
	int fd = open("/dev/null", O_RDWR);
	T("dev.null_write", write(fd, "abc", 3));
	CASE("dev.null_read", "%s", readstr(fd, 10));
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	CASE("dev.zero_read", "%s", readstr(fd, 4));
	close(fd);
	fd = open("/dev/full", O_WRONLY);
	T("dev.full_write", write(fd, "a", 1));
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	{
		char b[16];
		T("dev.urandom_read", read(fd, b, 16));
	}
	close(fd);
	{
		char b[16];
		T("getrandom.basic", getrandom(b, 16, 0));
		T("getrandom.nonblock", getrandom(b, 16, GRND_NONBLOCK));
		T("getrandom.bad_flags", getrandom(b, 16, 0x40));
	}
	TFD("dev.tty_no_ctty", open("/dev/tty", O_RDWR));
	fd = TFD("dev.ptmx", open("/dev/ptmx", O_RDWR | O_NOCTTY));
	if (fd >= 0) {
		T("dev.ptmx_grantpt", grantpt(fd));
		T("dev.ptmx_unlockpt", unlockpt(fd));
		char name[64];
		int r = ptsname_r(fd, name, sizeof name);
		CASE("dev.ptmx_ptsname_prefix", "%d %s", r, r == 0 && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : name);
		int s = TFD("dev.pts_open", open(name, O_RDWR | O_NOCTTY));
		if (s >= 0) {
			write(fd, "hi\n", 3);
			sleep_ms(20);
			char b[16];
			long n = C(read(s, b, sizeof b));
			CASE("dev.pts_read", "%s", quoted(b, n));
			close(s);
		}
		close(fd);
	}
	struct stat st;
	long r = C(lstat("/dev/fd", &st));
	CASE("dev.fd_is_symlink", "%s %s", r_(r), r == 0 ? ftype(st.st_mode) : "");
	TFD("dev.stdin_exists", open("/dev/stdin", O_RDONLY));
}

static void fs_suite(const char *fs, const char *base)
{
	FS = fs;
	BASE = base;
	run_group(N("open"), g_open, 20);
	run_group(N("openat2"), g_openat2, 20);
	run_group(N("tmpfile"), g_tmpfile, 20);
	run_group(N("rename"), g_rename, 20);
	run_group(N("links"), g_links, 20);
	run_group(N("perms"), g_perms, 20);
	run_group(N("xattr"), g_xattr, 20);
	run_group(N("size"), g_size, 20);
	run_group(N("copy"), g_copy, 20);
	run_group(N("dents"), g_dents, 20);
	run_group(N("stat"), g_stat, 20);
	rmtree(base);
}

int main(void)
{
	g_area = "files";
	signal(SIGPIPE, SIG_IGN);
	fs_suite("tmpfs", "/dev/shm/cf");
	fs_suite("rootfs", "/var/tmp/cf");
	run_group("devices", g_devices, 20);
	return 0;
}
