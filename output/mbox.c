/*
 * mbox.c - the --mbox FILE writer (format and rules: mbox.h). mboxrd quoting
 * as described in https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml
 * (and by qmail's mbox(5)); From_ line in the form mutt's is_from() and
 * Dovecot's mbox_from_parse() read: "From <sender> <ctime date> <more>".
 *
 * Owns the mbox file descriptor and the quoting state machine. Knows nothing of
 * POP or MIME: an entry is an envelope (numbers, addresses) plus a file to copy.
 */
#include "mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	MBOX_Q_BOL,    /* at the start of a line: counting '>' */
	MBOX_Q_FROM,   /* after the '>' run, q->fm octets of "From " matched */
	MBOX_Q_MID,    /* in a line that needs no quoting */
};

static const char mbox_from[] = "From ";

struct mbox {
	int fd;
	int err;      /* errno of the first failure, 0: none */
	size_t used;
	uint8_t buf[MBOX_BUFFER]; /* output, written once full and at each entry's end */
	uint8_t in[MBOX_BUFFER];  /* the message being copied in */
};

struct mbox *mbox_open(const char *path, char *err, size_t errn)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errn, "mbox '%s' is a symbolic link; refusing it", path);
		else
			snprintf(err, errn, "cannot open mbox '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errn, "mbox '%s' is not a regular file", path);
		close(fd);
		return NULL;
	}
	struct mbox *m = malloc(sizeof(*m));
	if (!m) {
		close(fd);
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	m->fd = fd;
	m->err = 0;
	m->used = 0;
	return m;
}

static bool mbox_flush(struct mbox *m)
{
	size_t off = 0;
	while (!m->err && off < m->used) {
		ssize_t w = write(m->fd, m->buf + off, m->used - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			m->err = w < 0 ? errno : ENOSPC;
		else
			off += (size_t)w;
	}
	m->used = 0;
	return m->err == 0;
}

/* mbox_out_fn into m's buffer. */
static bool mbox_put(void *ctx, const uint8_t *p, size_t n)
{
	struct mbox *m = ctx;
	while (n) {
		if (m->used == sizeof(m->buf) && !mbox_flush(m))
			return false;
		size_t k = sizeof(m->buf) - m->used;
		if (k > n)
			k = n;
		memcpy(m->buf + m->used, p, k);
		m->used += k;
		p += k;
		n -= k;
	}
	return m->err == 0;
}

bool mbox_close(struct mbox *m)
{
	if (!m)
		return true;
	bool ok = mbox_flush(m);
	int e = m->err;
	if (close(m->fd) != 0 && ok) {
		ok = false;
		e = errno;
	}
	free(m);
	errno = e;
	return ok;
}

void mbox_quote_init(struct mbox_quote *q)
{
	memset(q, 0, sizeof(*q));
	q->state = MBOX_Q_BOL;
}

/* Writes n '>' octets. */
static bool mbox_gts(uint64_t n, mbox_out_fn out, void *ctx)
{
	static const uint8_t gts[64] = { [0 ... 63] = '>' };
	while (n) {
		size_t k = n < sizeof(gts) ? (size_t)n : sizeof(gts);
		if (!out(ctx, gts, k))
			return false;
		n -= k;
	}
	return true;
}

/* The start of the line is known not to be a From_ line: writes what was held back. */
static bool mbox_release(struct mbox_quote *q, mbox_out_fn out, void *ctx)
{
	bool ok = mbox_gts(q->gt, out, ctx) && (!q->fm || out(ctx, (const uint8_t *)mbox_from, q->fm));
	q->gt = 0;
	q->fm = 0;
	q->state = MBOX_Q_MID;
	return ok;
}

/*
 * Mid-line: copies up to and including the next line end, turning CRLF into LF.
 * Returns octets consumed, or (size_t)-1 when out() failed.
 */
static size_t mbox_mid(struct mbox_quote *q, const uint8_t *p, size_t n, mbox_out_fn out, void *ctx)
{
	static const uint8_t lf = '\n';
	const uint8_t *nl = memchr(p, '\n', n);
	if (!nl) {
		size_t k = n;
		if (p[n - 1] == '\r') {
			k--; /* held back: an LF may follow in the next span */
			q->cr = true;
		}
		return !k || out(ctx, p, k) ? n : (size_t)-1;
	}
	size_t k = (size_t)(nl - p);
	size_t body = k && p[k - 1] == '\r' ? k - 1 : k;
	if ((body && !out(ctx, p, body)) || !out(ctx, &lf, 1))
		return (size_t)-1;
	q->state = MBOX_Q_BOL;
	return k + 1;
}

bool mbox_quote_feed(struct mbox_quote *q, const uint8_t *p, size_t n, mbox_out_fn out, void *ctx)
{
	static const uint8_t cr = '\r', lf = '\n';
	size_t i = 0;
	while (i < n) {
		if (q->cr) { /* a CR ended the previous span */
			q->cr = false;
			if (p[i] == '\n') {
				if (!out(ctx, &lf, 1))
					return false;
				q->state = MBOX_Q_BOL;
				i++;
				continue;
			}
			if (!out(ctx, &cr, 1))
				return false;
		}
		if (q->state == MBOX_Q_MID) {
			size_t k = mbox_mid(q, p + i, n - i, out, ctx);
			if (k == (size_t)-1)
				return false;
			i += k;
			continue;
		}
		uint8_t c = p[i];
		if (q->state == MBOX_Q_BOL && c == '>') {
			q->gt++;
			i++;
			continue;
		}
		if (c == (uint8_t)mbox_from[q->fm]) {
			q->state = MBOX_Q_FROM;
			i++;
			if (++q->fm < sizeof(mbox_from) - 1)
				continue;
			/* /^>*From / : one more '>' in front (mboxrd) */
			q->gt++;
			if (!mbox_release(q, out, ctx))
				return false;
			continue;
		}
		if (!mbox_release(q, out, ctx)) /* c is then handled mid-line */
			return false;
	}
	return true;
}

bool mbox_quote_end(struct mbox_quote *q, mbox_out_fn out, void *ctx)
{
	static const uint8_t cr = '\r', lf = '\n';
	bool at_bol = q->state == MBOX_Q_BOL && !q->gt && !q->cr;
	if (q->state != MBOX_Q_MID && !at_bol && !mbox_release(q, out, ctx))
		return false;
	if (q->cr && !out(ctx, &cr, 1))
		return false;
	if (!at_bol && !out(ctx, &lf, 1))
		return false;
	mbox_quote_init(q);
	return out(ctx, &lf, 1);
}

/* "From popsift <ctime> flow=... " into buf; returns its length. */
static size_t mbox_from_line(const struct mbox_entry *e, char *buf, size_t n)
{
	char date[40], start[40];
	struct tm tm;
	time_t t = e->time.tv_sec;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	t = e->flow->start.tv_sec;
	gmtime_r(&t, &tm);
	size_t len = strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(start + len, sizeof(start) - len, ".%06ldZ", (long)e->flow->start.tv_usec % 1000000);
	char cmd[16];
	size_t o = 0;
	for (const char *c = e->command ? e->command : "?"; *c && o + 1 < sizeof(cmd); c++)
		cmd[o++] = *c == ' ' ? '_' : *c;
	cmd[o] = 0;
	int w = snprintf(buf, n, "From popsift %s flow=%llu client=%s.%u server=%s.%u start=%s "
			 "command=%s number=%lu%s\n", date, (unsigned long long)e->flow->flow_id,
			 e->flow->client_ip, (unsigned)e->flow->client_port, e->flow->server_ip,
			 (unsigned)e->flow->server_port, start, cmd, (unsigned long)e->number,
			 e->complete ? "" : " partial");
	return w < 0 ? 0 : (size_t)w >= n ? n - 1 : (size_t)w;
}

/* Copies fd[0..size) through the quoter into m. */
static bool mbox_copy(struct mbox *m, int fd, uint64_t size)
{
	uint8_t *in = m->in;
	struct mbox_quote q;
	mbox_quote_init(&q);
	uint64_t off = 0;
	while (off < size) {
		size_t want = size - off < MBOX_BUFFER ? (size_t)(size - off) : MBOX_BUFFER;
		ssize_t r = pread(fd, in, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the file is shorter than the message */
			break;
		}
		if (!mbox_quote_feed(&q, in, (size_t)r, mbox_put, m))
			return false;
		off += (uint64_t)r;
	}
	int e = off < size ? errno : 0;
	/* The entry is closed even when the copy fell short, so the mbox stays readable. */
	bool ok = mbox_quote_end(&q, mbox_put, m);
	if (e) {
		errno = e;
		return false;
	}
	return ok;
}

bool mbox_append(struct mbox *m, const struct mbox_entry *e, int fd, uint64_t size)
{
	if (m->err) {
		errno = m->err;
		return false;
	}
	char line[512];
	size_t n = mbox_from_line(e, line, sizeof(line));
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	bool locked = fcntl(m->fd, F_SETLKW, &lk) == 0;
	bool ok = mbox_put(m, (const uint8_t *)line, n) && mbox_copy(m, fd, size);
	int err = ok ? 0 : errno;
	ok = mbox_flush(m) && ok;
	if (!err && !ok)
		err = m->err;
	if (locked) {
		lk.l_type = F_UNLCK;
		fcntl(m->fd, F_SETLK, &lk);
	}
	errno = err;
	return ok;
}
