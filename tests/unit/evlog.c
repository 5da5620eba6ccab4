/*
 * evlog.c - event log sink and chunking driver for dissector unit tests.
 */
#include "evlog.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct evlog {
	struct event_sink sink;
	char *text;
	size_t len, cap;
	char *msg; /* body bytes of the message in flight */
	size_t msg_len, msg_cap;
};

static void grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	*buf = realloc(*buf, c);
	assert_non_null(*buf);
	*cap = c;
}

__attribute__((format(printf, 2, 3))) static void logf_(struct evlog *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grow(&l->text, &l->cap, l->len + (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(l->text + l->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	l->len += (size_t)n;
}

/* Bytes as C-escaped text, so logs compare and print cleanly. */
static void log_bytes(struct evlog *l, struct bytes b)
{
	for (size_t i = 0; i < b.n; i++) {
		uint8_t c = b.p[i];
		if (c == '\\')
			logf_(l, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			logf_(l, "%c", c);
		else if (c == '\r')
			logf_(l, "\\r");
		else if (c == '\n')
			logf_(l, "\\n");
		else
			logf_(l, "\\x%02x", c);
	}
}

static void log_auth(struct evlog *l, const struct ev_auth *a)
{
	logf_(l, "auth mech=%s user=", a->mechanism);
	log_bytes(l, a->username);
	logf_(l, " pass=");
	if (a->cleartext)
		log_bytes(l, a->password);
	else
		logf_(l, "-");
	logf_(l, " cleartext=%d result=%s reply=", a->cleartext, auth_result_name(a->result));
	log_bytes(l, a->reply);
	const struct { const char *k; struct bytes v; } extra[] = {
		{ "authzid", a->authzid }, { "realm", a->realm }, { "workstation", a->workstation },
		{ "hash", a->hash },
	};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (!extra[i].v.n)
			continue;
		logf_(l, " %s=", extra[i].k);
		log_bytes(l, extra[i].v);
	}
	if (a->hash.n)
		logf_(l, " hash_format=%s mode=%d", a->hash_format, a->hashcat_mode);
	if (a->response_code)
		logf_(l, " code=%s", a->response_code);
	if (a->result == AUTH_RESULT_FAILURE && a->failure)
		logf_(l, " failure=%s", a->failure);
	if (a->stls_offered)
		logf_(l, " stls_offered");
	if (a->trusted_user.n) {
		logf_(l, " trusted=");
		log_bytes(l, a->trusted_user);
	}
	if (a->challenge.n || a->response.n) {
		logf_(l, " challenge=");
		log_bytes(l, a->challenge);
		logf_(l, " response=");
		log_bytes(l, a->response);
	}
	logf_(l, "\n");
}

static void log_session(struct evlog *l, const struct ev_session *s)
{
	logf_(l, "session proto=%s state=%s user=", s->app_proto, s->state);
	log_bytes(l, s->username);
	logf_(l, " auth=%d sasl_layer=%d quit=%d commands=%u retrieved=%u deleted=%u apop=",
	      s->authenticated, s->sasl_layer, s->quit, s->commands, s->messages_retrieved,
	      s->messages_deleted);
	log_bytes(l, s->apop_timestamp);
	logf_(l, " caps=");
	for (size_t i = 0; i < s->n_capabilities; i++) {
		logf_(l, i ? "|" : "");
		log_bytes(l, s->capabilities[i]);
	}
	/* Deletion truth matters only when something was marked. */
	static const char *const commits[] = { "unknown", "yes", "no" };
	for (size_t i = 0, k = 0; i < s->n_mailbox; i++) {
		if (!s->mailbox[i].marked)
			continue;
		if (k++ == 0)
			logf_(l, " commit=%s marked=%u", commits[s->deletions_committed], s->mailbox[i].number);
		else
			logf_(l, ",%u", s->mailbox[i].number);
	}
	if (s->n_folders)
		logf_(l, " folders=");
	for (size_t i = 0; i < s->n_folders; i++) {
		logf_(l, i ? "|" : "");
		log_bytes(l, s->folders[i]);
	}
	logf_(l, "\n");
}

static void evlog_emit(struct event_sink *sink, const struct event *ev)
{
	struct evlog *l = (struct evlog *)sink;
	switch (ev->type) {
	case EV_AUTH: log_auth(l, &ev->u.auth); break;
	case EV_MESSAGE_BEGIN:
		/* The folder is checked by test_pop2.c's own sink; logs stay POP3-shaped. */
		logf_(l, "message_begin cmd=%s n=%u announced=%lld", ev->u.message_begin.command,
		      ev->u.message_begin.number, (long long)ev->u.message_begin.announced);
		if (ev->u.message_begin.uid.n) {
			logf_(l, " uid=");
			log_bytes(l, ev->u.message_begin.uid);
		}
		if (ev->u.message_begin.list_size >= 0)
			logf_(l, " list_size=%lld", (long long)ev->u.message_begin.list_size);
		logf_(l, "\n");
		l->msg_len = 0;
		break;
	case EV_MESSAGE_DATA:
		grow(&l->msg, &l->msg_cap, l->msg_len + ev->u.message_data.n + 1);
		memcpy(l->msg + l->msg_len, ev->u.message_data.p, ev->u.message_data.n);
		l->msg_len += ev->u.message_data.n;
		break;
	case EV_MESSAGE_END:
		logf_(l, "message_end complete=%d size=%zu data=", ev->u.message_end.complete, l->msg_len);
		log_bytes(l, bytes_of(l->msg, l->msg_len));
		logf_(l, "\n");
		l->msg_len = 0;
		break;
	case EV_TLS:
		logf_(l, "tls cmd=%s result=%s\n", ev->u.tls.command, auth_result_name(ev->u.tls.result));
		break;
	case EV_COMMAND: {
		struct bytes req = ev->u.command.request;
		logf_(l, "command req=");
		if (ev->u.command.secret_at < req.n) {
			log_bytes(l, bytes_of(req.p, ev->u.command.secret_at));
			logf_(l, "<secret>");
		} else {
			log_bytes(l, req);
		}
		logf_(l, " result=%s\n", auth_result_name(ev->u.command.result));
		break;
	}
	case EV_ANOMALY:
		logf_(l, "anomaly %s dir=%d sample=", anomaly_id(ev->u.anomaly.id), ev->u.anomaly.dir);
		log_bytes(l, ev->u.anomaly.sample);
		logf_(l, "\n");
		break;
	case EV_SESSION: log_session(l, &ev->u.session); break;
	case EV_TYPE_COUNT: break;
	}
}

/*
 * The engine's side of a hand-over (session_info.handover): logged, and the
 * rest of the buffer is given back to the dissector, as the session layer
 * gives it what a layer carries; here the layer carries the bytes unchanged,
 * so a test writes the dialogue after STLS in clear.
 */
struct handover {
	struct evlog *log;
	bool fired;
	size_t used;
};

static void evlog_handover(void *engine, enum dir dir, size_t used)
{
	struct handover *h = engine;
	logf_(h->log, "handover dir=%d\n", dir);
	h->fired = true;
	h->used = used;
}

static void feed(const struct dissector *d, void *st, struct handover *h, enum dir dir,
		 const uint8_t *p, size_t n)
{
	while (n) {
		h->fired = false;
		d->data(st, dir, p, n);
		if (!h->fired)
			return;
		assert_true(h->used <= n);
		p += h->used;
		n -= h->used;
	}
}

/* Feeds the script with each step cut into pieces of the sizes `cut` chooses. */
typedef size_t (*cut_fn)(size_t left, unsigned *state);

static size_t cut_whole(size_t left, unsigned *st) { (void)st; return left; }
static size_t cut_bytes(size_t left, unsigned *st) { (void)st; (void)left; return 1; }
static size_t cut_random(size_t left, unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	size_t n = 1 + (*st >> 16) % 17;
	return n < left ? n : left;
}

static char *run_once(const struct dissector *d, const struct step *steps, size_t n, int partial,
		      cut_fn cut, unsigned seed, size_t split_at)
{
	struct evlog l = { .sink.emit = evlog_emit };
	struct handover h = { .log = &l };
	struct session_info info = { .client_port = 40000, .server_port = 110, .partial = partial,
				     .handover = evlog_handover, .engine = &h };
	void *st = d->create(&info, &l.sink);
	assert_non_null(st);
	unsigned state = seed;
	for (size_t i = 0; i < n; i++) {
		if (!steps[i].s) {
			d->gap(st, steps[i].dir, steps[i].n);
			continue;
		}
		size_t len = steps[i].n ? steps[i].n : strlen(steps[i].s);
		size_t off = 0;
		while (off < len) {
			size_t k = cut(len - off, &state);
			if (split_at && off < split_at && off + k > split_at)
				k = split_at - off; /* also cut every step at one chosen offset */
			/* An exact-size copy, so ASan catches any read past the chunk. */
			uint8_t *chunk = malloc(k);
			assert_non_null(chunk);
			memcpy(chunk, steps[i].s + off, k);
			feed(d, st, &h, steps[i].dir, chunk, k);
			free(chunk);
			off += k;
		}
	}
	d->end(st, END_FIN);
	d->destroy(st);
	free(l.msg);
	if (!l.text)
		l.text = calloc(1, 1);
	return l.text;
}

char *evlog_run(const struct dissector *d, const struct step *steps, size_t n, int partial)
{
	char *ref = run_once(d, steps, n, partial, cut_whole, 0, 0);
	size_t longest = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = steps[i].s ? (steps[i].n ? steps[i].n : strlen(steps[i].s)) : 0;
		longest = len > longest ? len : longest;
	}
	char *other = run_once(d, steps, n, partial, cut_bytes, 0, 0);
	if (strcmp(ref, other) != 0)
		fail_msg("byte-at-a-time differs:\n--- whole\n%s--- bytes\n%s", ref, other);
	free(other);
	for (unsigned seed = 1; seed <= 8; seed++) {
		other = run_once(d, steps, n, partial, cut_random, seed, 0);
		if (strcmp(ref, other) != 0)
			fail_msg("random split %u differs:\n--- whole\n%s--- split\n%s", seed, ref, other);
		free(other);
	}
	for (size_t at = 1; at < longest && at < 4096; at++) {
		other = run_once(d, steps, n, partial, cut_whole, 0, at);
		if (strcmp(ref, other) != 0)
			fail_msg("split at %zu differs:\n--- whole\n%s--- split\n%s", at, ref, other);
		free(other);
	}
	return ref;
}

void evlog_expect(const char *log, const char *needle)
{
	if (!strstr(log, needle))
		fail_msg("expected\n  %s\nin the log:\n%s", needle, log);
}

void evlog_expect_not(const char *log, const char *needle)
{
	if (strstr(log, needle))
		fail_msg("did not expect\n  %s\nin the log:\n%s", needle, log);
}

int evlog_count(const char *log, const char *prefix)
{
	int n = 0;
	size_t pn = strlen(prefix);
	for (const char *p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, pn) == 0;
	return n;
}
