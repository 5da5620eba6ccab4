/*
 * replay.c - hands records read back from events to the writers (replay.h).
 *
 * Owns the writer set of a `popsift report` run and the cross-session state
 * of the alert policy (bruteforce.h). Records go to the writers in the order
 * of the events, as output.c hands them during a capture run; each login is
 * followed by the alerts alerts_derive() gives for it, each TLS session by
 * those of alerts_for_tls(), so the alert events of the input are skipped
 * rather than repeated.
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "json.h"
#include "report_html.h"
#include "report_mailbox.h"
#include "text.h"
#include "writer.h"

#define REPLAY_WRITERS_MAX 3 /* alerts/text/events, mailbox report, HTML */

struct replay {
	struct writer *writers[REPLAY_WRITERS_MAX];
	size_t n_writers;
	struct bruteforce *bf;
};

/* ---- the cross-session alerts alone: a JSON writer behind a filter ------- */

struct cross_alerts {
	struct writer w; /* first */
	struct writer *json;
};

static void xa_alert(struct writer *w, const struct flow *f, const struct alert_record *a)
{
	struct cross_alerts *x = (struct cross_alerts *)w;
	if (a->cross_session) {
		x->json->ops->alert(x->json, f, a);
		atomic_store(&w->events, atomic_load(&x->json->events));
	}
}

static bool xa_flush(struct writer *w)
{
	struct cross_alerts *x = (struct cross_alerts *)w;
	return x->json->ops->flush(x->json);
}

static void xa_free(struct writer *w)
{
	struct cross_alerts *x = (struct cross_alerts *)w;
	x->json->ops->free(x->json);
	free(x);
}

static const struct writer_ops xa_ops = {
	.alert = xa_alert,
	.flush = xa_flush,
	.free = xa_free,
};

static struct writer *xa_open(FILE *fp)
{
	struct cross_alerts *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->json = json_writer_open(fp, false);
	if (!x->json) {
		free(x);
		return NULL;
	}
	x->w.ops = &xa_ops;
	return &x->w;
}

/* ---- the writer set ------------------------------------------------------- */

static bool replay_add(struct replay *r, struct writer *w)
{
	if (w)
		r->writers[r->n_writers++] = w;
	return w != NULL;
}

static struct writer *replay_main_writer(const struct replay_config *c)
{
	switch (c->format) {
	case REPLAY_TEXT: return text_writer_open(c->fp, c->show_passwords);
	case REPLAY_EVENTS: return json_writer_open(c->fp, c->show_passwords);
	case REPLAY_ALERTS: break;
	}
	return xa_open(c->fp);
}

static void replay_free(struct replay *r)
{
	for (size_t i = 0; i < r->n_writers; i++)
		r->writers[i]->ops->free(r->writers[i]);
	bf_free(r->bf);
	free(r);
}

struct replay *replay_open(const struct replay_config *c)
{
	struct replay *r = calloc(1, sizeof(*r));
	if (!r || !(r->bf = bf_new(&c->bruteforce)) || !replay_add(r, replay_main_writer(c)))
		goto oom;
	mbr_format_fn format = c->format == REPLAY_TEXT ? text_mailbox_report : json_mailbox_report;
	if (c->mailbox_report && !replay_add(r, mbr_writer_open(c->mailbox_report, c->fp, format)))
		goto oom;
	if (c->html) {
		struct html_config hc = { .path = c->html, .show_passwords = c->show_passwords,
					  .extract_dir = c->extract_dir };
		if (!replay_add(r, html_writer_open(&hc))) {
			replay_free(r);
			return NULL; /* html_writer_open said why */
		}
	}
	return r;
oom:
	fprintf(stderr, "popsift: out of memory\n");
	if (r)
		replay_free(r);
	return NULL;
}

/* Hands a record to every writer that takes records of its kind. */
#define REPLAY_WRITE(r, op, f, rec) \
	do { \
		for (size_t i_ = 0; i_ < (r)->n_writers; i_++) \
			if ((r)->writers[i_]->ops->op) \
				(r)->writers[i_]->ops->op((r)->writers[i_], (f), (rec)); \
	} while (0)

/* A login and the alerts it raises, as output.c's out_auth() hands them. */
static void replay_auth(struct replay *r, const struct flow *f, const struct ev_auth *a)
{
	REPLAY_WRITE(r, auth, f, a);
	struct alert_record alerts[ALERTS_MAX];
	size_t n = alerts_derive(r->bf, f, a, alerts);
	for (size_t i = 0; i < n; i++)
		REPLAY_WRITE(r, alert, f, &alerts[i]);
}

/* A TLS session and the alerts its handshake raises, as output.c's out_tls() hands them. */
static void replay_tls(struct replay *r, const struct flow *f, const struct ev_tls *t)
{
	REPLAY_WRITE(r, tls, f, t);
	struct alert_record alerts[ALERTS_PER_TLS_MAX];
	size_t n = alerts_for_tls(t, f->now.tv_sec, alerts);
	for (size_t i = 0; i < n; i++)
		REPLAY_WRITE(r, alert, f, &alerts[i]);
}

void replay_event(struct replay *r, const struct evread_event *ev)
{
	const struct flow *f = &ev->flow;
	switch (ev->kind) {
	case EVR_AUTH: replay_auth(r, f, &ev->u.auth); break;
	case EVR_MESSAGE: REPLAY_WRITE(r, message, f, &ev->u.message); break;
	case EVR_TLS: replay_tls(r, f, &ev->u.tls); break;
	case EVR_COMMAND: REPLAY_WRITE(r, command, f, &ev->u.command); break;
	case EVR_SESSION: REPLAY_WRITE(r, session, f, &ev->u.session); break;
	case EVR_ALERT: /* derived again from its login */
	case EVR_OTHER:
	case EVR_NEWER:
	case EVR_INVALID: break;
	}
}

bool replay_close(struct replay *r)
{
	bool ok = true;
	for (size_t i = 0; i < r->n_writers; i++)
		if (r->writers[i]->ops->finish)
			r->writers[i]->ops->finish(r->writers[i]);
	for (size_t i = 0; i < r->n_writers; i++)
		if (r->writers[i]->ops->flush)
			ok = r->writers[i]->ops->flush(r->writers[i]) && ok;
	int e = errno;
	replay_free(r);
	errno = e;
	return ok;
}
