/*
 * workers_child.c - one worker process of --workers N (workers.h): the whole
 * capture-to-events path of a single popsift run, on the packets of its
 * address pairs. Files: from its ring (workers_ring.h), with the frame
 * numbers, file names and clock the reader gave them; live: from its own
 * socket in the kernel's fanout group. Its JSON events go into the events
 * pipe, the sessions it opens and ends and its statistics into the control
 * pipe (workers_int.h). Cross-session alerts are the parent's: off here.
 *
 * A worker never returns into main(): it ends with _exit(), so it never
 * flushes the parent's stdio buffers it inherited.
 */
#include "workers_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../output/output.h"
#include "exitcode.h"
#include "session.h"
#include "workers_line.h"
#include "tls/tls_keylog.h"

#define WORKER_PIPE_BUFFER (256 * 1024)
#define WORKER_FENCE_EVERY 64      /* records between fenced looks for a waiting parent */
#define WORKER_WAIT_MS 100          /* the longest sleep on an empty ring (a wake-up can be missed
				       only if the parent died: then the worker is killed anyway) */

/* The events written straight to the output (direct_fd), whole lines per write(). */
struct wdirect {
	int fd;
	FILE *notify;    /* the events pipe: the failed logins the parent reads back */
	FILE *ctl;       /* the control pipe: the session events written (WMSG_ENDED) */
	char *tail;      /* a line not yet whole */
	size_t len, cap;
	bool failed;
};

struct wchild {
	const struct workers_config *cfg;
	struct wdirect direct;
	FILE *direct_fp; /* NULL: events go into the pipe */
	struct capture *cap; /* live */
	FILE *ev, *ctl;
	struct session_table sessions;
	struct output *out;
	uint64_t frame;  /* files: the frame being processed, 0 between */
	int room_fd;     /* files: the parent's eventfd for room in the ring */
	int32_t file;    /* files: the index of its capture file */
};

/*
 * One message, in one fwrite(): with an output thread, the session events'
 * notices (WMSG_ENDED) come from it while the capture thread writes the rest.
 */
static void wmsg_put(FILE *ctl, uint32_t type, const void *p, uint32_t len)
{
	struct {
		struct wmsg_hdr h;
		uint8_t p[sizeof(struct wmsg_stats) > sizeof(struct wmsg_open) ? sizeof(struct wmsg_stats)
										: sizeof(struct wmsg_open)];
	} m = { .h = { type, len } };
	if (len > sizeof(m.p))
		return;
	if (len)
		memcpy(m.p, p, len);
	fwrite(&m, sizeof(m.h) + len, 1, ctl);
}

static void wc_msg(struct wchild *c, uint32_t type, const void *p, uint32_t len)
{
	wmsg_put(c->ctl, type, p, len);
}

static void wc_on_open(void *ctx, const struct flow *f)
{
	struct wchild *c = ctx;
	struct wmsg_open m;
	memset(&m, 0, sizeof(m));
	m.flow = *f;
	m.flow.pcap_file = NULL;
	m.flow.app_proto = NULL;
	snprintf(m.app_proto, sizeof(m.app_proto), "%s", f->app_proto ? f->app_proto : "");
	m.file = c->cfg->live ? -1 : c->file;
	wc_msg(c, WMSG_OPEN, &m, sizeof(m));
}

/* Only a session without events is closed here: the parent sees the others' session events. */
static void wc_on_close(void *ctx, const struct flow *f, bool with_events)
{
	if (!with_events)
		wc_msg(ctx, WMSG_CLOSE, &f->flow_id, sizeof(f->flow_id));
}

/* The ring is empty: the parent knows the open sessions, then the worker sleeps until a record. */
static void wc_idle(struct wchild *c, struct wring *r)
{
	fflush(c->ctl);
	wring_wait(r, WORKER_WAIT_MS);
}

static void wc_secrets(struct wchild *c, const uint8_t *p, size_t n)
{
	struct tls_keylog **keys = c->cfg->keys;
	if (!*keys && !(*keys = tls_keylog_new()))
		return;
	tls_keylog_add_text(*keys, (const char *)p, n);
	c->sessions.keys = *keys;
}

/* One record of the ring; returns true at its end (WRING_END: *why the sessions end with). */
static bool wc_record(struct wchild *c, const struct wring_rec *h, enum end_reason *why)
{
	const uint8_t *p = (const uint8_t *)(h + 1);
	struct timeval ts = { .tv_sec = h->sec, .tv_usec = h->usec };
	switch ((enum wring_type)h->type) {
	case WRING_PACKET:
		c->frame = h->frame;
		c->file = h->file;
		reasm_tick(ts.tv_sec);
		const char *path = c->cfg->paths[h->file];
		if (h->aux)
			reasm_ipv6(&ts, p, h->len, path);
		else
			reasm_ipv4(&ts, p, h->len, path);
		break;
	case WRING_TICK:
		c->frame = h->frame;
		reasm_tick(ts.tv_sec);
		fflush(c->ctl);
		break;
	case WRING_SECRETS: wc_secrets(c, p, h->len); break;
	case WRING_SYNC: /* every event of the frames so far in the pipe, then the marker */
		output_flush(c->out);
		fprintf(c->ev, "#sync %llu\n", (unsigned long long)h->frame);
		fflush(c->ev);
		break;
	case WRING_END: /* the capture's last packet: what one process ends the open sessions at */
		if (h->sec || h->usec)
			reasm_clock(&ts);
		*why = (enum end_reason)h->aux;
		return true;
	case WRING_PAD: break;
	}
	c->frame = 0;
	return false;
}

static enum end_reason wc_files(struct wchild *c, struct wring *r)
{
	enum end_reason why = END_CAPTURE_END;
	static const uint64_t one = 1;
	unsigned records = 0;
	for (;;) {
		const struct wring_rec *h = wring_peek(r);
		if (!h) {
			wc_idle(c, r);
			continue;
		}
		bool end = wc_record(c, h, &why);
		wring_next(r);
		if (wring_room_made(r, ++records % WORKER_FENCE_EVERY == 0)) {
			ssize_t w = write(c->room_fd, &one, sizeof(one));
			(void)w; /* failing, the parent looks again within its poll's timeout anyway */
		}
		if (end)
			return why;
	}
}

static uint64_t wc_drops_between(void *ctx, const struct timeval *from, const struct timeval *to)
{
	return capture_drops_between(ctx, from, to);
}

static void wc_nothing(void *ctx)
{
	(void)ctx;
}

static void wc_stats(const struct wchild *c, struct wmsg_stats *st)
{
	memset(st, 0, sizeof(*st));
	reasm_get_stats(&st->rs);
	if (c->cap)
		capture_get_stats(c->cap, &st->cs);
	st->opened_total = c->sessions.opened_total;
	st->tls_sessions = c->sessions.tls_sessions;
	st->tls_decrypted = c->sessions.tls_decrypted;
}

/* Live, every second: the counts so far, for the parent's SIGUSR1 summary. */
static void wc_tick(void *ctx, time_t now)
{
	(void)now;
	struct wchild *c = ctx;
	struct wmsg_stats st;
	wc_stats(c, &st);
	wc_msg(c, WMSG_PROGRESS, &st, sizeof(st));
	fflush(c->ctl);
}

/* Live: this worker's socket in the fanout group, read until SIGINT or SIGTERM. */
static void wc_live(struct wchild *c, unsigned n, uint16_t group)
{
	struct live_config lc = *c->cfg->live;
	lc.fanout_n = n;
	lc.fanout_group = group;
	struct capture *cap = capture_open_live(&lc);
	if (!cap)
		_exit(EXIT_INPUT); /* capture_open_live said why */
	c->cap = cap;
	if (c->cfg->shard)
		capture_set_shard(cap, c->cfg->shard);
	wc_msg(c, WMSG_READY, NULL, 0);
	fflush(c->ctl);
	session_table_count_drops(&c->sessions, wc_drops_between, cap);
	c->sessions.frame = capture_frame_number(cap);
	struct capture_hooks hooks = { .reopen = wc_nothing, .report = wc_nothing, .tick = wc_tick,
				       .ctx = c };
	capture_run(cap, &hooks);
}

/* Files: a stop is the parent's (it reads the input); live: capture.c's handlers are set later. */
static void wc_signals(const struct workers_config *cfg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE, SIGCHLD };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], cfg->live || sigs[i] == SIGPIPE || sigs[i] == SIGCHLD ? SIG_DFL : SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* the parent gone, nobody reads the events */
}

static bool wd_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* The lines of p[0..n) the parent reads back, into the events pipe. */
static void wd_notify(struct wdirect *d, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	bool any = false;
	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		struct wline_env e;
		size_t len = (size_t)(nl - p);
		if (!wline_envelope(p, len, &e))
			continue;
		if (wline_is(&e, p, len, "session")) {
			wmsg_put(d->ctl, WMSG_ENDED, &e.flow_id, sizeof(e.flow_id));
			any = true;
		} else if (wline_failed_login(&e, p, len)) {
			fwrite(p, 1, len + 1, d->notify);
			any = true;
		}
	}
	if (any) { /* written to the file first: a death between costs a duplicate, never a loss */
		fflush(d->notify);
		fflush(d->ctl);
	}
}

/* Keeps p[0..n) after the tail (a line not yet whole); false when out of memory. */
static bool wd_keep(struct wdirect *d, const char *p, size_t n)
{
	if (d->len + n > d->cap) {
		size_t cap = (d->len + n) * 2;
		char *t = realloc(d->tail, cap);
		if (!t)
			return false;
		d->tail = t;
		d->cap = cap;
	}
	memcpy(d->tail + d->len, p, n);
	d->len += n;
	return true;
}

static bool wd_writev_all(int fd, struct iovec *v, int n)
{
	while (n) {
		ssize_t w = writev(fd, v, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		for (; n && (size_t)w >= v->iov_len; v++, n--)
			w -= (ssize_t)v->iov_len;
		if (n) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return true;
}

/*
 * Whole lines of tail + p[0..n) to the file in one writev() (whole on
 * O_APPEND), the rest kept: only the line that spans two calls is copied.
 */
static ssize_t wd_write(void *cookie, const char *buf, size_t n)
{
	struct wdirect *d = cookie;
	const char *p = buf, *last = memrchr(p, '\n', n);
	if (!last)
		return wd_keep(d, p, n) ? (ssize_t)n : -1;
	size_t whole = (size_t)(last - p) + 1; /* p[0..whole): to the file now */
	struct iovec v[2] = { { d->tail, d->len }, { (void *)p, whole } };
	d->failed = d->failed || !wd_writev_all(d->fd, d->len ? v : v + 1, d->len ? 2 : 1);
	if (d->len) { /* the line the tail began, made whole, for wd_notify() */
		size_t head = (size_t)((const char *)memchr(p, '\n', whole) - p) + 1;
		if (!wd_keep(d, p, head))
			return -1;
		wd_notify(d, d->tail, d->len);
		d->len = 0;
		p += head;
		whole -= head;
	}
	wd_notify(d, p, whole);
	size_t rest = (size_t)(buf + n - (p + whole));
	if (rest && !wd_keep(d, p + whole, rest))
		return -1;
	return d->failed ? -1 : (ssize_t)n;
}

static int wd_close(void *cookie)
{
	struct wdirect *d = cookie;
	bool ok = !d->failed && wd_write_all(d->fd, d->tail, d->len); /* nothing: events end in a newline */
	free(d->tail);
	return ok ? 0 : -1;
}

static FILE *wc_direct(struct wchild *c, int fd)
{
	c->direct = (struct wdirect){ .fd = fd, .notify = c->ev, .ctl = c->ctl };
	cookie_io_functions_t io = { .write = wd_write, .close = wd_close };
	FILE *fp = fopencookie(&c->direct, "w", io);
	if (!fp)
		_exit(EXIT_INTERNAL);
	setvbuf(fp, NULL, _IOFBF, WORKER_PIPE_BUFFER);
	return fp;
}

static FILE *wc_stream(int fd)
{
	FILE *fp = fdopen(fd, "w");
	if (!fp)
		_exit(EXIT_INTERNAL);
	setvbuf(fp, NULL, _IOFBF, WORKER_PIPE_BUFFER);
	return fp;
}

static void wc_start(struct wchild *c)
{
	struct output_config oc = c->cfg->out;
	oc.fp = c->direct_fp ? c->direct_fp : c->ev;
	if (!(c->out = output_open(&oc)))
		_exit(EXIT_INPUT);
	session_table_init(&c->sessions, c->out);
	c->sessions.keys = *c->cfg->keys;
	c->sessions.sensor = c->cfg->sensor;
	c->sessions.on_open = wc_on_open;
	c->sessions.on_close = wc_on_close;
	c->sessions.watch_ctx = c;
	c->sessions.frame = &c->frame;
	struct reasm_config rc = c->cfg->reasm;
	rc.sessions = &c->sessions;
	char err[256];
	if (!reasm_init(&rc, err, sizeof(err))) {
		fprintf(stderr, "popsift: %s\n", err);
		_exit(EXIT_INTERNAL);
	}
}

void worker_main(const struct workers_config *cfg, struct wring *ring, unsigned k, uint16_t group,
		 int ev_fd, int ctl_fd, int room_fd, int direct_fd)
{
	wc_signals(cfg);
	struct wchild c = { .cfg = cfg, .ev = wc_stream(ev_fd), .ctl = wc_stream(ctl_fd),
			    .room_fd = room_fd };
	if (direct_fd >= 0)
		c.direct_fp = wc_direct(&c, direct_fd);
	wc_start(&c);
	enum end_reason why = END_CAPTURE_END;
	if (cfg->live) {
		wc_live(&c, cfg->n, group);
	} else {
		wc_msg(&c, WMSG_READY, NULL, 0);
		why = wc_files(&c, &ring[k]);
	}
	reasm_finish_as(why);
	output_flush(c.out); /* every event written: the count is final */
	uint64_t events = output_events_written(c.out);
	bool ok = output_close(c.out);
	struct wmsg_stats st;
	wc_stats(&c, &st);
	if (c.direct_fp) {
		st.events = events;
		ok = fclose(c.direct_fp) == 0 && ok;
	}
	wc_msg(&c, WMSG_STATS, &st, sizeof(st));
	ok = fclose(c.ev) == 0 && ok;
	ok = fclose(c.ctl) == 0 && ok;
	_exit(ok ? 0 : EXIT_INPUT);
}
