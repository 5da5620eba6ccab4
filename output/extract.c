/*
 * extract.c - the files of -x/--extract DIR (naming and safety rules: extract.h).
 *
 * Owns the directory descriptor, the naming of each message file, its write
 * buffer and the .partial rename. It knows nothing of POP, MIME or JSON: bytes
 * come in, a file name goes out. Every path operation is relative to the
 * directory descriptor (openat, renameat2, linkat), never to a path string, so
 * symlinks inside DIR are never followed (POSIX O_EXCL|O_CREAT fails on any
 * existing entry, dangling symlinks included).
 */
#include "extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct extract {
	int dfd; /* the directory, O_DIRECTORY|O_NOFOLLOW */
};

struct extract_file {
	struct extract *x;  /* NULL for a spool file */
	int fd;
	int err;            /* errno of the first failed write, 0: none */
	size_t used;        /* bytes waiting in buf */
	struct extract_name name; /* its flow points at `flow` below */
	struct flow flow;   /* a copy: the caller's may be gone by the .partial rename */
	unsigned k;         /* collision counter of the current name */
	char path[EXTRACT_NAME_MAX + 1];
	uint8_t buf[EXTRACT_BUFFER];
};

struct extract *extract_open(const char *dir, char *err, size_t errn)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errn, "cannot create extraction directory '%s': %s", dir, strerror(errno));
			return NULL;
		}
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (dfd < 0) {
		struct stat st;
		if ((errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			snprintf(err, errn, "extraction directory '%s' is a symbolic link; refusing it "
				 "(give the real directory)", dir);
		else
			snprintf(err, errn, "cannot use extraction directory '%s': %s", dir, strerror(errno));
		return NULL;
	}
	struct extract *x = calloc(1, sizeof(*x));
	if (!x) {
		close(dfd);
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	x->dfd = dfd;
	return x;
}

void extract_close(struct extract *x)
{
	if (!x)
		return;
	close(x->dfd);
	free(x);
}

/* The command as a short lower-case word for names; never from wire bytes. */
static const char *extract_cmd_word(const char *cmd, char *buf, size_t n)
{
	if (!cmd || !*cmd)
		return "cmd";
	if (strcmp(cmd, "RETR") == 0)
		return "retr";
	if (strcmp(cmd, "TOP") == 0)
		return "top";
	if (strcmp(cmd, "XTND XMIT") == 0)
		return "xmit";
	size_t o = 0;
	for (const char *c = cmd; *c && o + 1 < n; c++) {
		if (*c >= 'A' && *c <= 'Z')
			buf[o++] = (char)(*c - 'A' + 'a');
		else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
			buf[o++] = *c;
	}
	buf[o] = 0;
	return o ? buf : "cmd";
}

/* An address as a name part: letters, digits and dots kept, anything else '-'. */
static void extract_addr(const char *ip, char *out, size_t n)
{
	size_t o = 0;
	for (const char *c = ip; *c && o + 1 < n; c++) {
		bool keep = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') || *c == '.';
		out[o++] = keep ? *c : '-';
	}
	out[o] = 0;
}

size_t extract_format_name(const struct extract_name *n, bool partial, unsigned k, char *out)
{
	char when[32], cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN], word[12], counter[16] = "";
	struct tm tm;
	time_t t = n->time.tv_sec;
	gmtime_r(&t, &tm);
	size_t len = strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(when + len, sizeof(when) - len, ".%06ldZ", (long)n->time.tv_usec % 1000000);
	extract_addr(n->flow->client_ip, cli, sizeof(cli));
	extract_addr(n->flow->server_ip, srv, sizeof(srv));
	if (k > 1)
		snprintf(counter, sizeof(counter), ".%u", k);
	int w = snprintf(out, EXTRACT_NAME_MAX + 1, "%s_%llu_%s.%u_%s.%u_%lu.%s%s%s.eml", when,
			 (unsigned long long)n->flow->flow_id, cli, (unsigned)n->flow->client_port, srv,
			 (unsigned)n->flow->server_port, (unsigned long)n->number,
			 extract_cmd_word(n->command, word, sizeof(word)), partial ? ".partial" : "",
			 counter);
	return w < 0 ? 0 : (size_t)w > EXTRACT_NAME_MAX ? EXTRACT_NAME_MAX : (size_t)w;
}

struct extract_file *extract_file_create(struct extract *x, const struct extract_name *n)
{
	struct extract_file *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	f->x = x;
	f->err = 0;
	f->used = 0;
	f->name = *n;
	f->flow = *n->flow;
	f->name.flow = &f->flow;
	for (unsigned k = 1; k <= EXTRACT_TRIES; k++) {
		extract_format_name(n, false, k, f->path);
		f->fd = openat(x->dfd, f->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd >= 0) {
			f->k = k;
			return f;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(f);
	errno = e;
	return NULL;
}

struct extract_file *extract_spool_create(void)
{
	struct extract_file *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	memset(f, 0, offsetof(struct extract_file, buf));
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	f->fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		/* No O_TMPFILE on that file system: a named file, unlinked at once. */
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/popsift-spool.XXXXXX", dir);
		f->fd = mkostemp(tmpl, O_CLOEXEC);
		if (f->fd >= 0)
			unlink(tmpl);
	}
	if (f->fd < 0) {
		int e = errno;
		free(f);
		errno = e;
		return NULL;
	}
	return f;
}

/* Writes all of p[0..n) to fd; returns false with errno set on an error. */
static bool extract_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		if (w == 0) {
			errno = ENOSPC;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool extract_flush(struct extract_file *f)
{
	if (f->err)
		return false;
	if (f->used && !extract_write_all(f->fd, f->buf, f->used))
		f->err = errno;
	f->used = 0;
	return f->err == 0;
}

bool extract_file_write(struct extract_file *f, const uint8_t *p, size_t n)
{
	if (f->err)
		return false;
	if (n <= sizeof(f->buf) - f->used) {
		memcpy(f->buf + f->used, p, n);
		f->used += n;
		return true;
	}
	if (!extract_flush(f))
		return false;
	if (n < sizeof(f->buf)) {
		memcpy(f->buf, p, n);
		f->used = n;
		return true;
	}
	/* A span at least as big as the buffer goes straight to the file. */
	if (!extract_write_all(f->fd, p, n))
		f->err = errno;
	return f->err == 0;
}

/*
 * Renames from -> to within DIR without ever replacing an entry: renameat2's
 * RENAME_NOREPLACE, or link + unlink where the file system lacks it. Returns 0,
 * or an errno (EEXIST: to is taken).
 */
static int extract_rename(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return errno;
	if (linkat(dfd, from, dfd, to, 0) != 0)
		return errno;
	unlinkat(dfd, from, 0);
	return 0;
}

bool extract_file_finish(struct extract_file *f, bool complete)
{
	bool ok = extract_flush(f);
	if (complete || !f->x)
		return ok;
	char to[EXTRACT_NAME_MAX + 1];
	for (unsigned k = 1; k <= EXTRACT_TRIES; k++) {
		extract_format_name(&f->name, true, k, to);
		int e = extract_rename(f->x->dfd, f->path, to);
		if (e == 0) {
			memcpy(f->path, to, sizeof(to));
			break;
		}
		if (e != EEXIST)
			break; /* keeps its first name; the event still says complete: false */
	}
	return ok;
}

int extract_file_fd(const struct extract_file *f)
{
	return f->fd;
}

const char *extract_file_name(const struct extract_file *f)
{
	return f->x ? f->path : NULL;
}

int extract_file_error(const struct extract_file *f)
{
	return f->err;
}

void extract_file_close(struct extract_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}
