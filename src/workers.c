/*
 * workers.c - the parent of --workers N (workers.h): starts the workers
 * (workers_child.c), hands them the packets of the files it reads, merges
 * their event lines into one stream, derives what spans workers (replay.h)
 * and ends the sessions of a worker that died as "worker_lost", then starts
 * it again.
 *
 * Owns the workers' processes, pipes and rings, the merge (whole lines only:
 * each pipe's bytes are collected until a newline, and a line is written with
 * one fwrite), what each worker has open (workers_open.h) and the summary of
 * the run. Alerts, the mailbox report and the text summary are replay.c's:
 * the events of every worker go through the same evread/replay path as
 * `popsift report`, so they cannot differ from what one process decides.
 */
#include "workers_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../output/evread.h"
#include "../output/json.h"
#include "../output/writer.h"
#include "capfile.h"
#include "exitcode.h"
#include "pairhash.h"
#include "tls/tls_keylog.h"
#include "workers_line.h"
#include "workers_open.h"
#include "workers_order.h"

#define WORKER_RESTARTS_MAX 8          /* per worker; then its packets are counted as lost */
#define WORKERS_LINE_MAX (64u << 20)   /* the longest event line (popsift report's bound) */
#define WORKERS_READ (256u * 1024)     /* read() size, and the most read from a pipe per look */
#define WORKERS_PUMP_EVERY 4096        /* packets handed on between looks at the pipes */
#define WORKERS_PIPE_SIZE (1 << 20)    /* each pipe's capacity in the kernel */
#define WORKERS_WAKE_EVERY 4096         /* records between fenced wake-ups (workers_ring.h) */
#define WORKERS_ROOM_WAIT_MS 100       /* the longest wait for room before looking again */
#define WORKERS_SYNC_EVERY 32768       /* frames between markers (workers_order.h) */

struct wpipe {
	int fd;          /* -1: closed (end of file seen) */
	char *buf;
	size_t len, cap;
	bool skipping;   /* a line over WORKERS_LINE_MAX is being dropped */
};

struct wproc {
	pid_t pid;       /* 0: not running */
	struct wpipe ev, ctl;
	bool ready;      /* this life said WMSG_READY */
	bool finished;   /* this life sent its statistics */
	bool given_up;   /* died too often (or could not start): not started again */
	unsigned restarts;
	uint64_t lost_packets; /* files: handed to it while given up */
	unsigned unwoken; /* files: packets put without wring_wake()'s fence */
	int room_fd;     /* files: an eventfd the worker signals when it made room the parent waits for */
	struct wopen_table open;   /* sessions opened whose session event has not come */
	struct wopen_table early;  /* session events that came before their session's opening */
	struct wmsg_stats sum; /* over its lives that ended */
	struct wmsg_stats cur; /* live: this life's so far (WMSG_PROGRESS) */
	double cpu;            /* user + system seconds of its lives that ended (and their helpers) */
};

struct workers {
	const struct workers_config *cfg;
	struct wring *rings;     /* files */
	uint16_t group;          /* live: the fanout group */
	struct wproc w[WORKERS_MAX];
	struct evread *er;
	struct replay *rp;
	struct worder *order;    /* files: the order events are read back in */
	struct writer *json;     /* worker_lost sessions, as a worker would write them */
	FILE *lost_fp;           /* json writes there (a memory stream) */
	char *lost_buf;
	size_t lost_len;
	bool parse_all;          /* text or mailbox report: every event read back */
	unsigned long lines;     /* event lines written */
	unsigned long unreadable; /* lines evread refused */
	unsigned deaths;
	uint64_t lost_sessions;
	bool failed;             /* a worker could not be started or kept running */
	int start_failed;        /* a worker could not open its input: its exit status */
	bool ended;              /* files: WRING_END handed to every ring */
	enum end_reason end_why;
	bool stopping;           /* live: the workers were told to stop */
	struct timeval clock;    /* the latest packet's time */
	const char *last_path;   /* files: the index of the latest path */
	uint16_t last_file;
	bool lost_now;           /* the lines are worker_lost sessions (wopen_drain() runs) */
	bool write_failed;       /* writing the events failed (errno says why) */
	bool direct;             /* the workers write the events to the output themselves */
	FILE *alert_fp;          /* direct: the parent's own lines (alerts) wait here (a memory stream) */
	char *alert_buf;
	size_t alert_len;
	unsigned since_pump;     /* files: packets handed on since the pipes were read */
	unsigned since_sync;     /* files: packets handed on since the last marker */
	int sfd;                 /* live: the parent's signals; -1 */
	int waiting_room;        /* files: the worker whose ring is full and awaited; -1 */
	FILE *fp;
};

/* ---- the merge ------------------------------------------------------------ */

static void wk_write_block(struct workers *W, const char *p, size_t n);

/* Direct: the parent's own lines (alerts), whole, written as the workers write theirs. */
static void wk_drain_alerts(struct workers *W)
{
	if (!W->alert_fp || fflush(W->alert_fp) != 0)
		return;
	off_t len = ftello(W->alert_fp);
	if (len <= 0)
		return;
	wk_write_block(W, W->alert_buf, (size_t)len);
	fseeko(W->alert_fp, 0, SEEK_SET);
}

/* A line read back for the reports and alerts, in workers_order.h's order. */
static void wk_deliver(void *ctx, const char *line, size_t n)
{
	struct workers *W = ctx;
	struct evread_event ev;
	char err[EVREAD_ERR_MAX];
	enum evread_kind k = evread_line(W->er, line, n, &ev, err);
	if (k == EVR_INVALID || k == EVR_NEWER)
		W->unreadable++;
	else
		replay_event(W->rp, &ev);
	wk_drain_alerts(W);
}

/* A session event of worker k: the session is no longer open there. */
static void wk_session_ended(struct wproc *w, uint64_t id)
{
	if (!wopen_remove(&w->open, id)) { /* its opening is still on the way */
		struct wmsg_open m = { .flow.flow_id = id };
		wopen_add(&w->early, &m);
	}
}

/*
 * Whether the parent reads the line back: every event for -T text and the
 * mailbox report; for the alerts alone, the failed logins (the only ones
 * bruteforce.h counts: a login's own alerts are the worker's).
 */
static bool wk_wanted(const struct workers *W, const struct wline_env *e, const char *line, size_t n)
{
	if (W->parse_all)
		return true;
	return wline_failed_login(e, line, n);
}

/*
 * Whole lines of a worker's pipe, written as they are: one write() for many
 * lines, past stdio (its buffer, where the parent's own lines wait, first).
 */
static void wk_write_block(struct workers *W, const char *p, size_t n)
{
	if (!n || W->cfg->replay.format == REPLAY_TEXT || W->write_failed)
		return;
	if (fflush(W->fp) != 0) {
		W->write_failed = true;
		return;
	}
	while (n) {
		ssize_t w = write(fileno(W->fp), p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			W->write_failed = true;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static bool wk_marker(struct workers *W, unsigned k, const char *line, size_t n)
{
	if (!n || line[0] != '#')
		return false;
	if (W->order && n > 6 && memcmp(line, "#sync ", 6) == 0) /* workers_int.h */
		worder_synced(W->order, k, strtoull(line + 6, NULL, 10));
	return true;
}

/*
 * One event line of worker k: written on (unless `written`: wk_lines() writes
 * the pipe's lines in blocks) and, if needed, read back.
 */
static void wk_line(struct workers *W, unsigned k, char *line, size_t n, bool written)
{
	if (written && !W->direct)
		W->lines++;
	else if (!written && W->direct) {
		line[n] = '\n';
		wk_write_block(W, line, n + 1);
		W->lines++;
	} else if (!written && W->cfg->replay.format != REPLAY_TEXT) {
		line[n] = '\n';
		fwrite_unlocked(line, 1, n + 1, W->fp);
		W->lines++;
	}
	struct wline_env e;
	if (!wline_envelope(line, n, &e))
		return;
	if (!W->lost_now && wline_is(&e, line, n, "session"))
		wk_session_ended(&W->w[k], e.flow_id);
	if (!wk_wanted(W, &e, line, n))
		return;
	if (W->order)
		worder_line(W->order, k, line, n, e.pcap_cnt);
	else
		wk_deliver(W, line, n);
}

/*
 * The whole lines in the buffer, written once (in blocks between markers);
 * the rest kept for the next read.
 */
static void wk_lines(struct workers *W, unsigned k, struct wpipe *p)
{
	size_t start = 0, block = 0;
	char *nl;
	while ((nl = memchr(p->buf + start, '\n', p->len - start))) {
		size_t end = (size_t)(nl - p->buf);
		char *line = p->buf + start;
		if (p->skipping) {
			p->skipping = false;
			block = end + 1;
		} else if (wk_marker(W, k, line, end - start)) {
			if (!W->direct)
				wk_write_block(W, p->buf + block, start - block);
			block = end + 1;
		} else {
			wk_line(W, k, line, end - start, true);
		}
		start = end + 1;
	}
	if (!W->direct)
		wk_write_block(W, p->buf + block, start - block);
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
	if (p->len >= WORKERS_LINE_MAX) {
		fprintf(stderr, "popsift: warning: a worker wrote an event over %u MiB; dropped\n",
			WORKERS_LINE_MAX >> 20);
		p->len = 0;
		p->skipping = true;
	}
}

/* ---- control messages ----------------------------------------------------- */

static void wk_add_stats(struct wmsg_stats *sum, const struct wmsg_stats *s)
{
	uint64_t *a = (uint64_t *)&sum->rs;
	const uint64_t *b = (const uint64_t *)&s->rs;
	for (size_t i = 0; i < sizeof(s->rs) / sizeof(uint64_t); i++)
		a[i] += b[i];
	sum->cs.packets += s->cs.packets;
	sum->cs.bytes += s->cs.bytes;
	sum->cs.other += s->cs.other;
	sum->cs.truncated += s->cs.truncated;
	sum->cs.kernel_received += s->cs.kernel_received;
	sum->cs.kernel_dropped += s->cs.kernel_dropped;
	sum->cs.iface_dropped += s->cs.iface_dropped;
	sum->cs.iface_counted |= s->cs.iface_counted;
	sum->opened_total += s->opened_total;
	sum->tls_sessions += s->tls_sessions;
	sum->tls_decrypted += s->tls_decrypted;
	sum->events += s->events;
}

static void wk_control(struct wproc *w, const struct wmsg_hdr *h, const void *p)
{
	switch ((enum wmsg_type)h->type) {
	case WMSG_READY: w->ready = true; break;
	case WMSG_OPEN:
		if (h->len == sizeof(struct wmsg_open)) {
			struct wmsg_open m;
			memcpy(&m, p, sizeof(m));
			if (!wopen_remove(&w->early, m.flow.flow_id))
				wopen_add(&w->open, &m);
		}
		break;
	case WMSG_CLOSE:
		if (h->len == sizeof(uint64_t)) {
			uint64_t id;
			memcpy(&id, p, sizeof(id));
			wopen_remove(&w->open, id);
		}
		break;
	case WMSG_STATS:
		if (h->len == sizeof(struct wmsg_stats)) {
			struct wmsg_stats s;
			memcpy(&s, p, sizeof(s));
			wk_add_stats(&w->sum, &s);
			memset(&w->cur, 0, sizeof(w->cur));
			w->finished = true;
		}
		break;
	case WMSG_ENDED:
		if (h->len == sizeof(uint64_t)) {
			uint64_t id;
			memcpy(&id, p, sizeof(id));
			wk_session_ended(w, id);
		}
		break;
	case WMSG_PROGRESS:
		if (h->len == sizeof(struct wmsg_stats))
			memcpy(&w->cur, p, sizeof(w->cur));
		break;
	}
}

static void wk_controls(struct wproc *w)
{
	struct wpipe *p = &w->ctl;
	size_t at = 0;
	struct wmsg_hdr h;
	while (p->len - at >= sizeof(h)) {
		memcpy(&h, p->buf + at, sizeof(h));
		if (p->len - at - sizeof(h) < h.len)
			break;
		wk_control(w, &h, p->buf + at + sizeof(h));
		at += sizeof(h) + h.len;
	}
	memmove(p->buf, p->buf + at, p->len - at);
	p->len -= at;
}

/* ---- pipes ------------------------------------------------------------------ */

/* Reads what the pipe holds (at most WORKERS_READ); false at its end (closed then). */
static bool wp_read(struct wpipe *p)
{
	if (p->cap - p->len < WORKERS_READ) {
		size_t cap = p->cap ? p->cap * 2 : 2 * WORKERS_READ;
		char *b = realloc(p->buf, cap + 1); /* + 1: the newline written back */
		if (!b)
			return true; /* read later */
		p->buf = b;
		p->cap = cap;
	}
	ssize_t n = read(p->fd, p->buf + p->len, WORKERS_READ);
	if (n > 0) {
		p->len += (size_t)n;
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	close(p->fd);
	p->fd = -1;
	return false;
}

static void wp_init(struct wpipe *p, int fd)
{
	p->fd = fd;
	p->len = 0;
	p->skipping = false;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETPIPE_SZ, WORKERS_PIPE_SIZE); /* fewer wake-ups; the default where refused */
}

/* ---- workers' lives ------------------------------------------------------- */

static bool wk_spawn(struct workers *W, unsigned k)
{
	int ev[2], ctl[2];
	if (pipe2(ev, O_CLOEXEC) != 0)
		return false;
	if (pipe2(ctl, O_CLOEXEC) != 0) {
		close(ev[0]);
		close(ev[1]);
		return false;
	}
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(ev[0]);
		close(ctl[0]);
		worker_main(W->cfg, W->rings, k, W->group, ev[1], ctl[1], W->w[k].room_fd,
			    W->direct ? fileno(W->fp) : -1);
	}
	close(ev[1]);
	close(ctl[1]);
	if (pid < 0) {
		close(ev[0]);
		close(ctl[0]);
		return false;
	}
	struct wproc *w = &W->w[k];
	w->pid = pid;
	w->ready = w->finished = false;
	wp_init(&w->ev, ev[0]);
	wp_init(&w->ctl, ctl[0]);
	return true;
}

struct wk_lost_ctx {
	struct workers *W;
	unsigned k;
};

static void wk_end_lost(void *ctx, const struct wmsg_open *m)
{
	struct wk_lost_ctx *lc = ctx;
	struct workers *W = lc->W;
	struct flow f = m->flow;
	f.app_proto = m->app_proto[0] ? m->app_proto : NULL;
	f.sensor = W->cfg->sensor;
	f.pcap_file = m->file >= 0 && (size_t)m->file < W->cfg->n_paths ? W->cfg->paths[m->file] : NULL;
	if (W->cfg->live)
		gettimeofday(&f.now, NULL);
	else if (timercmp(&W->clock, &f.now, >))
		f.now = W->clock;
	struct evread_event ev = { .kind = EVR_SESSION, .flow = f };
	ev.u.session = (struct session_record){ .end_reason = "worker_lost" };
	ev.u.session.summary.app_proto = f.app_proto ? f.app_proto : "pop3";
	ev.u.session.summary.state = "unknown";
	fseeko(W->lost_fp, 0, SEEK_SET);
	W->json->ops->session(W->json, &ev.flow, &ev.u.session);
	off_t len = ftello(W->lost_fp);
	fflush(W->lost_fp);
	if (len > 0 && (size_t)len <= W->lost_len && W->lost_buf[len - 1] == '\n')
		wk_line(W, lc->k, W->lost_buf, (size_t)len - 1, false); /* its newline's place is there */
	W->lost_sessions++;
}

static void wk_say_death(unsigned k, pid_t pid, int status, size_t open)
{
	char how[64];
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	fprintf(stderr, "popsift: worker %u (pid %d) %s; its %zu open sessions end as \"worker_lost\"\n",
		k, (int)pid, how, open);
}

/* Live: every worker is told to end its sessions and finish (SIGTERM). */
static void wk_stop_all(struct workers *W)
{
	W->stopping = true;
	for (unsigned k = 0; k < W->cfg->n; k++)
		if (W->w[k].pid)
			kill(W->w[k].pid, SIGTERM);
}

/* A worker that died before it finished: its sessions end, and it starts again. */
static void wk_lost(struct workers *W, unsigned k, int status)
{
	struct wproc *w = &W->w[k];
	bool never_ran = !w->ready && WIFEXITED(status);
	if (!w->ready && W->stopping) { /* told to stop before its capture was open */
		w->given_up = true;
		return;
	}
	if (never_ran) { /* it said why (the capture could not be opened): the run stops */
		if (!W->start_failed)
			W->start_failed = WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_INTERNAL;
		wk_stop_all(W);
		w->given_up = true;
		return;
	}
	wk_say_death(k, w->pid, status, w->open.n);
	wk_add_stats(&w->sum, &w->cur); /* what it had counted by its last word */
	memset(&w->cur, 0, sizeof(w->cur));
	W->deaths++;
	struct wk_lost_ctx lc = { W, k };
	W->lost_now = true;
	wopen_drain(&w->open, wk_end_lost, &lc);
	W->lost_now = false;
	wopen_drain(&w->early, NULL, NULL);
	if (never_ran || w->restarts >= WORKER_RESTARTS_MAX || (W->cfg->live && W->stopping)) {
		if (!(W->cfg->live && W->stopping)) {
			if (!never_ran)
				fprintf(stderr, "popsift: worker %u died too often: not started again\n", k);
			W->failed = true;
		}
		w->given_up = true;
		if (W->order)
			worder_ended(W->order, k, true);
		return;
	}
	w->restarts++;
	if (!wk_spawn(W, k)) {
		fprintf(stderr, "popsift: cannot start worker %u again: %s\n", k, strerror(errno));
		w->given_up = W->failed = true;
		if (W->order)
			worder_ended(W->order, k, true);
		return;
	}
	fprintf(stderr, "popsift: worker %u started again (pid %d)\n", k, (int)w->pid);
	if (W->ended) { /* its predecessor may have taken the end with it */
		struct wring_rec r = { .type = WRING_END, .aux = (uint16_t)W->end_why,
				       .sec = W->clock.tv_sec, .usec = (int32_t)W->clock.tv_usec };
		wring_put(&W->rings[k], &r, NULL);
	}
}

/* Both pipes of worker k are at their end: it has exited. */
static void wk_reap(struct workers *W, unsigned k)
{
	struct wproc *w = &W->w[k];
	int status = 0;
	struct rusage ru = { 0 };
	while (wait4(w->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	w->cpu += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		  ru.ru_stime.tv_usec / 1e6;
	bool clean = w->finished && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (w->finished && !clean)
		W->failed = true; /* it said why (a write failed) */
	if (w->finished) {
		w->pid = 0;
		if (W->order)
			worder_ended(W->order, k, true);
		return;
	}
	wk_lost(W, k, status);
	if (w->given_up)
		w->pid = 0;
}

/* ---- the parent's loop ------------------------------------------------------ */

static void wk_on_signal(struct workers *W);

/* Reads the pipes that have something, waiting up to timeout_ms (-1: until one has). */
static void wk_pump(struct workers *W, int timeout_ms)
{
	struct pollfd pfd[2 * WORKERS_MAX + 2];
	struct wpipe *of[2 * WORKERS_MAX + 2];
	unsigned owner[2 * WORKERS_MAX + 2];
	nfds_t n = 0;
	for (unsigned k = 0; k < W->cfg->n; k++) {
		struct wpipe *ps[2] = { &W->w[k].ev, &W->w[k].ctl };
		for (int i = 0; i < 2; i++)
			if (W->w[k].pid && ps[i]->fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = ps[i]->fd, .events = POLLIN };
				of[n] = ps[i];
				owner[n++] = k;
			}
	}
	if (W->sfd >= 0) {
		pfd[n] = (struct pollfd){ .fd = W->sfd, .events = POLLIN };
		of[n] = NULL;
		owner[n++] = 0;
	}
	if (W->waiting_room >= 0) {
		pfd[n] = (struct pollfd){ .fd = W->w[W->waiting_room].room_fd, .events = POLLIN };
		of[n] = NULL;
		owner[n++] = 1;
	}
	if (poll(pfd, n, timeout_ms) <= 0)
		return;
	for (nfds_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (!of[i]) {
			uint64_t v;
			if (owner[i] == 0)
				wk_on_signal(W);
			else if (read(pfd[i].fd, &v, sizeof(v)) < 0)
				v = 0; /* nothing to take: a spurious wake-up */
			continue;
		}
		struct wproc *w = &W->w[owner[i]];
		bool open = wp_read(of[i]);
		if (of[i] == &w->ev)
			wk_lines(W, owner[i], of[i]);
		else
			wk_controls(w);
		if (!open && w->ev.fd < 0 && w->ctl.fd < 0)
			wk_reap(W, owner[i]);
	}
}

static bool wk_running(const struct workers *W)
{
	for (unsigned k = 0; k < W->cfg->n; k++)
		if (W->w[k].pid)
			return true;
	return false;
}

/* ---- files: the packets handed on ------------------------------------------- */

/* Hands a record to worker k, waiting for room (reading the pipes meanwhile) when its ring is full. */
static void wk_push(struct workers *W, unsigned k, const struct wring_rec *r, const void *payload)
{
	struct wproc *w = &W->w[k];
	struct wring *ring = &W->rings[k];
	while (!w->given_up && !wring_put(ring, r, payload)) {
		if (wring_wants_room(ring, r->len)) {
			W->waiting_room = (int)k;
			wk_pump(W, WORKERS_ROOM_WAIT_MS);
			W->waiting_room = -1;
		}
	}
	if (w->given_up && r->type == WRING_PACKET)
		w->lost_packets++;
	else if (r->type == WRING_END || ++w->unwoken >= WORKERS_WAKE_EVERY) {
		w->unwoken = 0;
		wring_wake(ring);
	} else {
		wring_wake_cheap(ring);
	}
}

static uint16_t wk_file_index(struct workers *W, const char *path)
{
	if (path != W->last_path) {
		for (size_t i = 0; i < W->cfg->n_paths; i++)
			if (W->cfg->paths[i] == path)
				W->last_file = (uint16_t)i;
		W->last_path = path;
	}
	return W->last_file;
}

static void wk_ip_packet(void *ctx, const struct capture_ip *p)
{
	struct workers *W = ctx;
	uint32_t h;
	unsigned k = pairhash_packet(p->ip, p->len, &h) ? pairhash_bucket(h, W->cfg->n) : 0;
	W->clock = p->ts;
	struct wring_rec r = { .type = WRING_PACKET, .frame = p->frame, .sec = p->ts.tv_sec,
			       .usec = (int32_t)p->ts.tv_usec, .aux = p->v6,
			       .file = wk_file_index(W, p->path) };
	r.len = (uint32_t)(p->len < WRING_PAYLOAD_MAX ? p->len : WRING_PAYLOAD_MAX);
	wk_push(W, k, &r, p->ip);
	if (++W->since_sync >= WORKERS_SYNC_EVERY && W->order) {
		W->since_sync = 0;
		struct wring_rec s = { .type = WRING_SYNC, .frame = p->frame };
		for (unsigned i = 0; i < W->cfg->n; i++)
			wk_push(W, i, &s, NULL);
	}
	if (++W->since_pump >= WORKERS_PUMP_EVERY) {
		W->since_pump = 0;
		wk_pump(W, 0);
	}
}

/* The clock's second changed: every worker ends the sessions idle too long, as one process would. */
static void wk_tick(void *ctx, time_t now)
{
	struct workers *W = ctx;
	struct wring_rec r = { .type = WRING_TICK, .frame = *capture_frame_number(W->cfg->cap),
			       .sec = now };
	for (unsigned k = 0; k < W->cfg->n; k++)
		wk_push(W, k, &r, NULL);
}

/*
 * A Decryption Secrets Block: kept here too (a worker started again later
 * inherits it) and handed to every worker, in pieces of whole lines.
 */
static void wk_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t n)
{
	struct workers *W = ctx;
	if (type != CAPFILE_SECRETS_TLS)
		return;
	if (*W->cfg->keys || (*W->cfg->keys = tls_keylog_new()))
		tls_keylog_add_text(*W->cfg->keys, (const char *)p, n);
	while (n) {
		size_t len = n;
		if (len > WRING_PAYLOAD_MAX) {
			const uint8_t *nl = memrchr(p, '\n', WRING_PAYLOAD_MAX);
			len = nl ? (size_t)(nl - p) + 1 : WRING_PAYLOAD_MAX; /* no line is that long */
		}
		struct wring_rec r = { .type = WRING_SECRETS, .len = (uint32_t)len };
		for (unsigned k = 0; k < W->cfg->n; k++)
			wk_push(W, k, &r, p);
		p += len;
		n -= len;
	}
}

static void wk_run_files(struct workers *W)
{
	struct capture_hooks hooks = { .tick = wk_tick, .ip_packet = wk_ip_packet,
				       .secrets = wk_secrets, .ctx = W };
	capture_run(W->cfg->cap, &hooks);
	int sig = capture_stop_signal(W->cfg->cap);
	if (sig && sig != SIGPIPE)
		fprintf(stderr, "popsift: %s: reading stopped; open sessions end as \"interrupted\"\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM");
	W->end_why = sig ? END_INTERRUPTED : END_CAPTURE_END;
	W->ended = true;
	struct wring_rec r = { .type = WRING_END, .aux = (uint16_t)W->end_why, .sec = W->clock.tv_sec,
			       .usec = (int32_t)W->clock.tv_usec };
	for (unsigned k = 0; k < W->cfg->n; k++)
		wk_push(W, k, &r, NULL);
	while (wk_running(W))
		wk_pump(W, 100);
}

/* ---- live ------------------------------------------------------------------- */

static void wk_print_summary(const struct workers *W);

/* SIGHUP: logrotate moved -o; the parent writes it, so the parent reopens it. */
static void wk_reopen(struct workers *W)
{
	const char *path = W->cfg->output_path;
	if (!path || strcmp(path, "-") == 0)
		return;
	/* freopen() keeps the FILE the replay's writers hold; tried first, as it closes it on failure */
	FILE *probe = fopen(path, "a");
	if (!probe) {
		fprintf(stderr, "popsift: warning: cannot reopen '%s': %s; still writing to the old file\n",
			path, strerror(errno));
		return;
	}
	fclose(probe);
	FILE *fp = freopen(path, "a", W->fp);
	if (!fp) {
		fprintf(stderr, "popsift: cannot reopen '%s': %s; events from now on are lost\n", path,
			strerror(errno));
		W->write_failed = true;
		return;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	capture_watch_output(fileno(fp));
}

static void wk_on_signal(struct workers *W)
{
	struct signalfd_siginfo si;
	while (read(W->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			wk_reopen(W);
		} else if (si.ssi_signo == SIGUSR1) {
			wk_print_summary(W);
		} else if (!W->stopping) { /* SIGINT, SIGTERM */
			wk_stop_all(W);
		}
	}
}

static int wk_signalfd(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void wk_run_live(struct workers *W)
{
	while (wk_running(W))
		wk_pump(W, 1000);
}

/* ---- the summary ------------------------------------------------------------ */

static void wk_sum(const struct workers *W, struct wmsg_stats *t, uint64_t *lost_packets)
{
	memset(t, 0, sizeof(*t));
	*lost_packets = 0;
	for (unsigned k = 0; k < W->cfg->n; k++) {
		wk_add_stats(t, &W->w[k].sum);
		wk_add_stats(t, &W->w[k].cur);
		*lost_packets += W->w[k].lost_packets;
	}
}

static void wk_print_kernel(const struct workers *W, const struct wmsg_stats *t)
{
	fprintf(stderr, "popsift: kernel: %llu packets received, %llu dropped (ring full) over %u "
			"workers:", (unsigned long long)t->cs.kernel_received,
		(unsigned long long)t->cs.kernel_dropped, W->cfg->n);
	for (unsigned k = 0; k < W->cfg->n; k++)
		fprintf(stderr, " %llu/%llu", (unsigned long long)(W->w[k].sum.cs.kernel_dropped +
								  W->w[k].cur.cs.kernel_dropped),
			(unsigned long long)(W->w[k].sum.cs.kernel_received + W->w[k].cur.cs.kernel_received));
	fputc('\n', stderr);
	if (t->cs.kernel_dropped)
		fprintf(stderr, "popsift: warning: the kernel dropped %llu packets; each session open "
				"then counts them in kernel_drops (a larger -B may help)\n",
			(unsigned long long)t->cs.kernel_dropped);
}

/* Where the CPU time went: the parent (reading, handing out, merging) and each worker. */
static void wk_print_cpu(const struct workers *W)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double self = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		      ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "popsift: CPU seconds: %.2f reading and merging; workers (ended):", self);
	for (unsigned k = 0; k < W->cfg->n; k++)
		fprintf(stderr, " %.2f", W->w[k].cpu);
	fputc('\n', stderr);
}

static void wk_print_summary(const struct workers *W)
{
	struct wmsg_stats t;
	uint64_t lost;
	wk_sum(W, &t, &lost);
	struct capture_stats cs = t.cs;
	if (!W->cfg->live)
		capture_get_stats(W->cfg->cap, &cs);
	char what[64];
	if (W->cfg->live)
		snprintf(what, sizeof(what), "live capture");
	else
		snprintf(what, sizeof(what), "%u file%s", cs.files, cs.files == 1 ? "" : "s");
	fprintf(stderr, "popsift: %s, %llu packets, %llu bytes; %llu TCP sessions followed; "
			"%lu events written; %u workers\n", what, (unsigned long long)cs.packets,
		(unsigned long long)cs.bytes, (unsigned long long)t.opened_total,
		W->lines + (unsigned long)t.events, W->cfg->n);
	fprintf(stderr, "popsift: %llu picked up mid-stream, %llu bytes lost in gaps, %llu ended by "
			"port reuse, %llu IPv6 packets, %llu libnids warnings\n",
		(unsigned long long)t.rs.midstream, (unsigned long long)t.rs.gap_bytes,
		(unsigned long long)t.rs.port_reuse, (unsigned long long)t.rs.ipv6,
		(unsigned long long)t.rs.nids_warnings);
	if (W->cfg->live)
		wk_print_kernel(W, &t);
	if (t.tls_sessions)
		fprintf(stderr, "popsift: %llu TLS sessions, %llu decrypted\n",
			(unsigned long long)t.tls_sessions, (unsigned long long)t.tls_decrypted);
	if (W->deaths)
		fprintf(stderr, "popsift: warning: workers died %u times; %llu sessions ended as "
				"\"worker_lost\", %llu packets of workers not started again not analysed\n",
			W->deaths, (unsigned long long)W->lost_sessions, (unsigned long long)lost);
	wk_print_cpu(W);
	if (W->unreadable)
		fprintf(stderr, "popsift: warning: %lu event lines of the workers could not be read "
				"back for the alerts and reports\n", W->unreadable);
}

/* ---- the run ------------------------------------------------------------------ */

/*
 * Whether the workers write the events to the output themselves: JSON events
 * (nothing the parent writes of all of them), into a regular file (O_APPEND:
 * each write() of whole lines lands whole, after the others) or /dev/null.
 * A pipe or a terminal takes the merge through the parent: a write() to a
 * pipe is whole only up to PIPE_BUF. Live never: SIGHUP reopens the file.
 */
static bool wk_direct_ok(const struct workers_config *cfg)
{
	if (cfg->live || cfg->replay.format != REPLAY_ALERTS || cfg->replay.mailbox_report)
		return false;
	int fd = fileno(cfg->replay.fp);
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		return false;
	bool devnull = S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3);
	int fl = fcntl(fd, F_GETFL);
	return (S_ISREG(sb.st_mode) || devnull) && fl >= 0 && fcntl(fd, F_SETFL, fl | O_APPEND) == 0;
}

static bool wk_open(struct workers *W, const struct workers_config *cfg)
{
	W->cfg = cfg;
	W->fp = cfg->replay.fp;
	W->sfd = W->waiting_room = -1;
	for (unsigned k = 0; k < cfg->n; k++)
		W->w[k].ev.fd = W->w[k].ctl.fd = W->w[k].room_fd = -1;
	for (unsigned k = 0; k < cfg->n && !cfg->live; k++)
		if ((W->w[k].room_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			return false;
	W->parse_all = cfg->replay.format == REPLAY_TEXT || cfg->replay.mailbox_report;
	struct replay_config rc = cfg->replay;
	W->direct = wk_direct_ok(cfg);
	if (W->direct && !(rc.fp = W->alert_fp = open_memstream(&W->alert_buf, &W->alert_len)))
		return false;
	if (!(W->er = evread_new()) || !(W->rp = replay_open(&rc)))
		return false;
	if (!(W->lost_fp = open_memstream(&W->lost_buf, &W->lost_len)) ||
	    !(W->json = json_writer_open(W->lost_fp, cfg->replay.show_passwords)))
		return false;
	if (!cfg->live && !(W->order = worder_new(cfg->n, wk_deliver, W)))
		return false;
	if (!cfg->live && !(W->rings = wring_map(cfg->n))) {
		fprintf(stderr, "popsift: cannot map the workers' rings: %s\n", strerror(errno));
		return false;
	}
	W->group = (uint16_t)(getpid() & 0xffff);
	return true;
}

static bool wk_start_all(struct workers *W)
{
	for (unsigned k = 0; k < W->cfg->n; k++)
		if (!wk_spawn(W, k)) {
			fprintf(stderr, "popsift: cannot start worker %u: %s\n", k, strerror(errno));
			return false;
		}
	return true;
}

static void wk_close(struct workers *W)
{
	for (unsigned k = 0; k < W->cfg->n; k++) {
		struct wproc *w = &W->w[k];
		if (w->pid) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
		}
		if (w->ev.fd >= 0)
			close(w->ev.fd);
		if (w->ctl.fd >= 0)
			close(w->ctl.fd);
		if (w->room_fd >= 0)
			close(w->room_fd);
		free(w->ev.buf);
		free(w->ctl.buf);
		wopen_free(&w->open);
		wopen_free(&w->early);
	}
	if (W->json)
		W->json->ops->free(W->json);
	if (W->lost_fp)
		fclose(W->lost_fp);
	if (W->alert_fp)
		fclose(W->alert_fp);
	free(W->alert_buf);
	free(W->lost_buf);
	worder_free(W->order);
	evread_free(W->er);
	wring_unmap(W->rings, W->cfg->n);
	if (W->sfd >= 0)
		close(W->sfd);
}

static int wk_status(struct workers *W, bool closed)
{
	int sig = W->cfg->live ? 0 : capture_stop_signal(W->cfg->cap);
	if (sig == SIGPIPE || (!closed && capture_output_gone()))
		return 128 + SIGPIPE;
	if (!closed) {
		fprintf(stderr, "popsift: writing the output failed: %s\n", strerror(errno));
		return EXIT_INPUT;
	}
	if (W->failed)
		return EXIT_INTERNAL;
	return sig ? 128 + sig : 0;
}

int workers_run(const struct workers_config *cfg)
{
	struct workers *W = calloc(1, sizeof(*W));
	if (!W)
		return EXIT_INTERNAL;
	sigset_t old;
	bool started = wk_open(W, cfg);
	if (started && cfg->live)
		W->sfd = wk_signalfd(&old);
	started = started && wk_start_all(W);
	if (started && cfg->live)
		wk_run_live(W);
	else if (started)
		wk_run_files(W);
	bool closed = started;
	if (W->order)
		worder_drain(W->order);
	if (W->rp)
		closed = replay_close(W->rp) && closed;
	wk_drain_alerts(W);
	closed = fflush(W->fp) == 0 && !W->write_failed && closed;
	if (started && !cfg->quiet && !capture_output_gone() && !W->start_failed)
		wk_print_summary(W);
	int rc = W->start_failed ? W->start_failed : started ? wk_status(W, closed) : EXIT_INTERNAL;
	wk_close(W);
	if (cfg->live && W->sfd >= 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	free(W);
	return rc;
}
