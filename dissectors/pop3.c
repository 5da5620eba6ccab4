/*
 * pop3.c - the POP3 dissector: RFC 1939 state machine, RFC 2449 CAPA and
 * pipelining, RFC 2595 STLS, RFC 5034 AUTH (decoded by sasl.c).
 *
 * Owns one connection's POP3 view: the session phase (AUTHORIZATION,
 * TRANSACTION, UPDATE), the first-in first-out queue of client commands waiting
 * for their replies, the server-side reading mode (status line, multi-line lines,
 * or a message body) and the streaming dot-unstuffer. It sees bytes per
 * direction and emits events; it knows nothing of libnids, JSON or files.
 *
 * Client lines are queued raw and interpreted when their reply arrives, because
 * a pipelining client sends many commands before the first answer and the reply
 * alone decides what happened (protocol-notes §3).
 */
#include <ctype.h>
#include <stdio.h>

#include "bstr.h"
#include "dissector.h"
#include "dotbody.h"
#include "emit.h"
#include "kpop.h"
#include "linebuf.h"
#include "maildrop.h"
#include "probe.h"
#include "sasl.h"

#define POP3_LINE_MAX 8192        /* longest command or status line kept (RFC: 255/512) */
#define POP3_PENDING_MAX 256      /* pipelined commands awaiting replies */
#define POP3_PENDING_BYTES 65536  /* their bytes, all together */
#define POP3_GREETING_MAX 512     /* RFC 2449 §4 */
#define POP3_NAME_MAX 1024        /* user names kept */
#define POP3_CAPA_MAX 64          /* capabilities kept */
#define POP3_CAPA_LINE_MAX 512

enum pop3_cmd_id {
#define POP3_CMD(id, kw, ml, tr) POP3_CMD_##id,
#include "pop3_cmds.def"
#undef POP3_CMD
	POP3_CMD_COUNT
};

enum pop3_ml { ML_NEVER, ML_ALWAYS, ML_NOARG, ML_BODY };

static const struct pop3_cmd_row {
	const char *keyword;
	enum pop3_ml ml;
	bool transaction; /* valid only in TRANSACTION (RFC 1939 §5) */
} pop3_cmds[] = {
#define POP3_CMD(id, kw, ml, tr) [POP3_CMD_##id] = { kw, ml, tr },
#include "pop3_cmds.def"
#undef POP3_CMD
};
_Static_assert(ARRAY_LEN(pop3_cmds) == POP3_CMD_COUNT, "command table out of step");

enum pop3_phase {
	POP3_PH_GREETING,      /* waiting for the server's first line */
	POP3_PH_AUTHORIZATION,
	POP3_PH_TRANSACTION,
	POP3_PH_UPDATE,        /* QUIT acknowledged in TRANSACTION: deletions committed */
	POP3_PH_TLS_PENDING,   /* STLS accepted; the next bytes decide */
	POP3_PH_TLS,           /* encrypted: nothing more to read */
	POP3_PH_SASL_LAYER,    /* a SASL security layer wraps the rest: not text */
	POP3_PH_COUNT
};

static const char *const pop3_phase_names[] = {
	[POP3_PH_GREETING] = "GREETING",
	[POP3_PH_AUTHORIZATION] = "AUTHORIZATION",
	[POP3_PH_TRANSACTION] = "TRANSACTION",
	[POP3_PH_UPDATE] = "UPDATE",
	[POP3_PH_TLS_PENDING] = "TLS",
	[POP3_PH_TLS] = "TLS",
	[POP3_PH_SASL_LAYER] = "SASL-LAYER",
};
_Static_assert(ARRAY_LEN(pop3_phase_names) == POP3_PH_COUNT, "phase names out of step");

/* How the server's bytes are read right now. */
enum pop3_srv {
	POP3_SRV_STATUS, /* a status line or a SASL continuation */
	POP3_SRV_LINES,  /* lines of a multi-line reply (CAPA, LIST, UIDL, ...) */
	POP3_SRV_BODY    /* a message: streamed and dot-unstuffed, never held */
};

enum pop3_status { POP3_ST_NONE, POP3_ST_OK, POP3_ST_ERR };

/*
 * XTND XMIT (qpopper): one command, two replies, and between them the client
 * sends a dot-stuffed message (protocol-notes §8).
 */
enum pop3_xmit {
	POP3_XMIT_NONE,
	POP3_XMIT_BODY,   /* first +OK seen: client bytes are the message */
	POP3_XMIT_RESULT  /* message ended: the next server status line is the verdict */
};

struct pop3_reply {
	enum pop3_status status; /* NONE: the capture ended before the reply */
	struct bytes line;       /* the whole status line */
};

/* A client line waiting for its reply. */
struct pop3_pending {
	enum pop3_cmd_id id;
	uint8_t *line;
	size_t n;
	size_t argoff; /* where the argument starts; == n when there is none */
};

struct pop3 {
	const struct session_info *info;
	struct event_sink *sink;
	enum pop3_phase phase;
	enum pop3_srv srv;
	struct dotbody body;    /* the dot-unstuffer, shared by both directions */
	enum pop3_xmit xmit;
	bool body_holed;        /* bytes of the message in flight were lost */
	bool body_unsure;       /* begun while replies may be matched to the wrong commands */
	bool misaligned;        /* a gap hid replies of a pipelining client: until its queue
				   drains, a reply may belong to another command */
	struct linebuf lb[DIR_COUNT];
	bool resync[DIR_COUNT]; /* after a gap: skip to a line that can be trusted */
	bool seen_bytes;

	/* A ring grown on demand up to POP3_PENDING_MAX, and the capabilities
	   allocated at the first CAPA line: an idle session costs a few hundred
	   bytes, not 10 KB (100,000 concurrent sessions, issue 7). */
	struct pop3_pending *q;
	size_t qcap, qhead, qlen, qbytes;
	struct pop3_pending cur; /* the command whose multi-line reply is being read */

	struct sasl *sasl;      /* the AUTH exchange at the head of the queue */
	unsigned sasl_owed;     /* challenges not yet answered by a client line */

	struct bstr greeting;
	struct bytes apop_ts;   /* within greeting */
	struct bstr user;       /* argument of the latest USER command */
	struct bstr rejected;   /* -ERR to that USER, while no PASS followed */
	struct bstr session_user;
	struct bstr *caps;        /* POP3_CAPA_MAX of them, once a CAPA reply came */
	size_t n_caps;
	struct bytes *caps_view;  /* allocated with caps */

	bool authenticated, tls, quit, encrypted;
	bool after_quit_seen;   /* pop3.data_after_quit was reported */
	bool stls_offered;      /* CAPA listed STLS */
	struct kpop kpop;       /* the Kerberos preamble walker (KPOP, port 1109) */
	bool kpop_reported;
	bool kerberos;          /* a valid Kerberos preamble authenticated this session */
	bool state_inferred;    /* the phase was deduced from replies, not seen */
	bool gapped;            /* bytes of this session were lost */
	bool pipelining;        /* seen: the client sent commands before earlier ones were answered */
	uint32_t commands, retrieved, submitted;
	struct maildrop *maildrop; /* UIDL ids, LIST sizes, DELE marks; NULL until needed */
};

/* False once the rest of the connection is encrypted or wrapped. */
static bool pop3_is_text(const struct pop3 *p)
{
	return p->phase != POP3_PH_TLS_PENDING && p->phase != POP3_PH_TLS &&
	       p->phase != POP3_PH_SASL_LAYER;
}

/* ---- small emitters --------------------------------------------------- */

/*
 * The response code of "-ERR [CODE/sub] text" (RFC 2449 §8, RFC 3206), copied
 * into out; returns false when the reply has none.
 */
static bool pop3_resp_code(struct bytes reply, char *out, size_t n)
{
	const uint8_t *lb = memchr(reply.p, '[', reply.n < 8 ? reply.n : 8);
	if (!lb)
		return false;
	const uint8_t *rb = memchr(lb, ']', reply.n - (size_t)(lb - reply.p));
	size_t len = rb ? (size_t)(rb - lb - 1) : 0;
	if (!rb || len == 0 || len >= n)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(lb[1 + i] >= 0x20 && lb[1 + i] < 0x7f ? toupper(lb[1 + i]) : '?');
	out[len] = 0;
	return true;
}

/* Tells a credential failure apart from a lock, a delay or a server fault. */
static const char *pop3_failure_kind(const char *code)
{
	if (!code || strcmp(code, "AUTH") == 0)
		return "credentials"; /* no code at all: most likely bad credentials too */
	if (strcmp(code, "IN-USE") == 0)
		return "in-use";
	if (strcmp(code, "LOGIN-DELAY") == 0)
		return "login-delay";
	if (strncmp(code, "SYS/", 4) == 0 || strcmp(code, "SYS") == 0)
		return "system";
	return "unknown";
}

static void pop3_emit_auth(struct pop3 *p, struct ev_auth *a)
{
	char code[64];
	if (a->reply.n && pop3_resp_code(a->reply, code, sizeof(code)))
		a->response_code = code;
	if (a->result == AUTH_RESULT_FAILURE && !a->failure)
		a->failure = pop3_failure_kind(a->response_code);
	a->stls_offered = p->stls_offered && !p->tls;
	struct event ev = { .type = EV_AUTH };
	ev.u.auth = *a;
	sink_emit(p->sink, &ev);
}

static enum auth_result pop3_result(const struct pop3_reply *r)
{
	if (r->status == POP3_ST_OK)
		return AUTH_RESULT_SUCCESS;
	return r->status == POP3_ST_ERR ? AUTH_RESULT_FAILURE : AUTH_RESULT_UNKNOWN;
}

static void pop3_set_phase(struct pop3 *p, enum pop3_phase ph)
{
	p->phase = ph;
}

/* ---- the pending-command queue --------------------------------------- */

static struct pop3_pending *pop3_q_at(struct pop3 *p, size_t i)
{
	return &p->q[(p->qhead + i) % p->qcap];
}

static void pop3_pending_free(struct pop3 *p, struct pop3_pending *c)
{
	p->qbytes -= c->n;
	free(c->line);
	c->line = NULL;
	c->n = 0;
}

/* Removes the head and hands it to the caller (who frees it). */
static struct pop3_pending pop3_q_pop(struct pop3 *p)
{
	struct pop3_pending c = *pop3_q_at(p, 0);
	p->qhead = (p->qhead + 1) % p->qcap;
	p->qlen--;
	return c;
}

/* Removes entry i (i > 0), keeping the order of the others. */
static struct pop3_pending pop3_q_take(struct pop3 *p, size_t i)
{
	struct pop3_pending c = *pop3_q_at(p, i);
	for (; i + 1 < p->qlen; i++)
		*pop3_q_at(p, i) = *pop3_q_at(p, i + 1);
	p->qlen--;
	return c;
}

static enum pop3_cmd_id pop3_lookup(const uint8_t *kw, size_t n)
{
	for (int i = 0; i < POP3_CMD_UNKNOWN; i++) {
		size_t kn = strlen(pop3_cmds[i].keyword);
		if (kn == n && strncasecmp((const char *)kw, pop3_cmds[i].keyword, n) == 0)
			return (enum pop3_cmd_id)i;
	}
	return POP3_CMD_UNKNOWN;
}

/* Doubles the ring (up to POP3_PENDING_MAX), keeping the order; false when it cannot. */
static bool pop3_q_grow(struct pop3 *p)
{
	if (p->qcap == POP3_PENDING_MAX)
		return false;
	size_t cap = p->qcap ? p->qcap * 2 : 8;
	struct pop3_pending *q = calloc(cap, sizeof(*q));
	if (!q)
		return false;
	for (size_t i = 0; i < p->qlen; i++)
		q[i] = *pop3_q_at(p, i);
	free(p->q);
	p->q = q;
	p->qcap = cap;
	p->qhead = 0;
	return true;
}

/*
 * Queues a client line; the oldest is dropped (and reported) when full.
 * Returns false when out of memory (the line is not queued).
 */
static bool pop3_q_push(struct pop3 *p, const uint8_t *line, size_t n)
{
	if (p->qlen == p->qcap && !pop3_q_grow(p) && p->qcap == 0)
		return false;
	while (p->qlen > 0 && (p->qlen == p->qcap || p->qbytes + n > POP3_PENDING_BYTES)) {
		struct pop3_pending old = pop3_q_pop(p);
		emit_anomaly(p->sink, ANOM_PENDING_OVERFLOW, DIR_TO_SERVER, old.line, old.n);
		pop3_pending_free(p, &old);
	}
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return false;
	memcpy(copy, line, n);
	const uint8_t *sp = memchr(line, ' ', n);
	size_t kwlen = sp ? (size_t)(sp - line) : n;
	struct pop3_pending *c = pop3_q_at(p, p->qlen);
	c->id = pop3_lookup(line, kwlen);
	c->line = copy;
	c->n = n;
	c->argoff = sp ? kwlen + 1 : n;
	p->qlen++;
	p->qbytes += n;
	return true;
}

static struct bytes pop3_arg(const struct pop3_pending *c)
{
	return bytes_of(c->line + c->argoff, c->n - c->argoff);
}

static bool pop3_has_arg(const struct pop3_pending *c)
{
	return c->argoff < c->n;
}

/* ---- replies to authentication commands ------------------------------ */

/* A USER refused and never followed by PASS is a login attempt of its own. */
static void pop3_flush_rejected_user(struct pop3 *p)
{
	if (!p->rejected.p)
		return;
	struct ev_auth a = { .mechanism = "USER", .result = AUTH_RESULT_FAILURE };
	a.username = bstr_bytes(&p->user);
	a.reply = bstr_bytes(&p->rejected);
	pop3_emit_auth(p, &a);
	bstr_free(&p->rejected);
}

static void pop3_logged_in(struct pop3 *p, struct bytes user)
{
	p->authenticated = true;
	bstr_set(&p->session_user, user.p, user.n, POP3_NAME_MAX);
	pop3_set_phase(p, POP3_PH_TRANSACTION);
}

static void pop3_reply_user(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = pop3_arg(c);
	bstr_set(&p->user, arg.p, arg.n, POP3_NAME_MAX);
	if (r->status == POP3_ST_ERR)
		bstr_set(&p->rejected, r->line.p, r->line.n, POP3_LINE_MAX);
}

/* PASS binds to the latest USER command; the password is every byte after the SP. */
static void pop3_reply_pass(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	bstr_free(&p->rejected);
	struct ev_auth a = { .mechanism = "USER", .cleartext = true };
	if (p->kerberos) {
		/* KPOP: Kerberos authenticated; the PASS that follows is a dummy the server ignores. */
		a = (struct ev_auth){ .mechanism = "KPOP" };
	}
	a.username = bstr_bytes(&p->user);
	if (a.cleartext)
		a.password = pop3_arg(c);
	a.result = pop3_result(r);
	a.reply = r->line;
	pop3_emit_auth(p, &a);
	if (r->status == POP3_ST_OK)
		pop3_logged_in(p, a.username);
}

static bool pop3_is_lower_hex32(struct bytes d)
{
	if (d.n != 32)
		return false;
	for (size_t i = 0; i < d.n; i++)
		if (!((d.p[i] >= '0' && d.p[i] <= '9') || (d.p[i] >= 'a' && d.p[i] <= 'f')))
			return false;
	return true;
}

/* APOP name digest: parsed from the right, since names may hold spaces. */
static void pop3_reply_apop(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = pop3_arg(c);
	size_t sp = arg.n;
	while (sp > 0 && arg.p[sp - 1] != ' ')
		sp--;
	struct ev_auth a = { .mechanism = "APOP" };
	a.username = bytes_of(arg.p, sp ? sp - 1 : 0);
	a.response = bytes_of(arg.p + sp, arg.n - sp);
	a.challenge = p->apop_ts;
	a.result = pop3_result(r);
	a.reply = r->line;
	if (!pop3_is_lower_hex32(a.response))
		emit_anomaly(p->sink, ANOM_APOP_BAD_DIGEST, DIR_TO_SERVER, c->line, c->n);
	/* hashcat -m 20, md5($salt.$pass): "digest:<timestamp>", brackets included. */
	uint8_t line[POP3_GREETING_MAX + 64];
	if (p->apop_ts.n && a.response.n <= 64) {
		memcpy(line, a.response.p, a.response.n);
		line[a.response.n] = ':';
		memcpy(line + a.response.n + 1, p->apop_ts.p, p->apop_ts.n);
		a.hash = bytes_of(line, a.response.n + 1 + p->apop_ts.n);
		a.hash_format = "hashcat";
		a.hashcat_mode = 20;
	}
	if (p->apop_ts.n == 0)
		emit_anomaly(p->sink, ANOM_APOP_NO_TIMESTAMP, DIR_TO_SERVER, c->line, c->n);
	pop3_emit_auth(p, &a);
	if (r->status == POP3_ST_OK)
		pop3_logged_in(p, a.username);
}

/*
 * RPOP user (RFC 1081/1225): instead of a password, the server trusts the
 * client host for the client-side user named. No secret crosses the wire.
 */
static void pop3_reply_rpop(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	bstr_free(&p->rejected);
	struct ev_auth a = { .mechanism = "RPOP" };
	a.username = bstr_bytes(&p->user);
	a.trusted_user = pop3_arg(c);
	a.result = pop3_result(r);
	a.reply = r->line;
	pop3_emit_auth(p, &a);
	if (r->status == POP3_ST_OK)
		pop3_logged_in(p, a.username);
}

/* The final reply to AUTH mech: the outcome of the SASL exchange. */
static void pop3_reply_auth(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	if (!p->sasl)
		return; /* AUTH without argument: a mechanism list, not a login */
	(void)c;
	struct ev_auth a = { 0 };
	sasl_describe(p->sasl, &a);
	a.result = pop3_result(r);
	a.reply = r->line;
	pop3_emit_auth(p, &a);
	if (r->status == POP3_ST_OK) {
		pop3_logged_in(p, a.username);
		if (sasl_security_layer(p->sasl))
			pop3_set_phase(p, POP3_PH_SASL_LAYER);
	}
	sasl_free(p->sasl);
	p->sasl = NULL;
	p->sasl_owed = 0;
}

/* ---- replies to the other commands ----------------------------------- */

static void pop3_reply_stls(struct pop3 *p, const struct pop3_reply *r)
{
	struct event ev = { .type = EV_TLS };
	ev.u.tls.command = "STLS";
	ev.u.tls.result = pop3_result(r);
	sink_emit(p->sink, &ev);
	if (r->status == POP3_ST_OK) {
		p->tls = true;
		pop3_set_phase(p, POP3_PH_TLS_PENDING);
	}
}

static void pop3_reply_quit(struct pop3 *p, const struct pop3_reply *r)
{
	if (r->status != POP3_ST_OK)
		return;
	p->quit = true;
	if (p->phase == POP3_PH_TRANSACTION)
		pop3_set_phase(p, POP3_PH_UPDATE);
}

/*
 * The size in "+OK 1234 octets" (RFC 1939 suggests it for RETR). Evidence only:
 * servers count differently (Exchange reports compressed sizes), so it never
 * frames the data.
 */
static int64_t pop3_announced_size(const struct pop3_reply *r)
{
	uint32_t n;
	if (r->line.n <= 3 || !bytes_to_u32(r->line.p + 3, r->line.n - 3, &n))
		return -1;
	return n;
}

static void pop3_body_end(struct pop3 *p, bool complete);

/*
 * One message streams at a time (event.h), and both directions share the
 * dot-unstuffer: a server body opening while the client's XTND XMIT
 * submission is still open (a client that pipelined after XTND XMIT) ends
 * the submission first, unfinished.
 */
static void pop3_close_submission(struct pop3 *p)
{
	if (p->xmit != POP3_XMIT_BODY)
		return;
	emit_anomaly(p->sink, ANOM_MESSAGE_TRUNCATED, DIR_TO_SERVER, NULL, 0);
	pop3_body_end(p, false);
	p->xmit = POP3_XMIT_NONE;
}

static void pop3_begin_body(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	pop3_close_submission(p);
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	struct bytes arg = pop3_arg(c);
	ev.u.message_begin.announced = c->id == POP3_CMD_RETR ? pop3_announced_size(r) : -1;
	ev.u.message_begin.command = pop3_cmds[c->id].keyword;
	ev.u.message_begin.dir = DIR_TO_CLIENT;
	if (!bytes_to_u32(arg.p, arg.n, &ev.u.message_begin.number))
		ev.u.message_begin.number = 0;
	struct mailbox_entry e;
	ev.u.message_begin.list_size = -1;
	if (maildrop_get(p->maildrop, ev.u.message_begin.number, &e)) {
		ev.u.message_begin.uid = e.uid;
		ev.u.message_begin.list_size = e.size;
	}
	sink_emit(p->sink, &ev);
	p->srv = POP3_SRV_BODY;
	dotbody_start(&p->body);
	p->body_unsure = p->misaligned;
}

/*
 * A TRANSACTION-only command answered +OK while we believed AUTHORIZATION in a
 * session not wholly seen: the login was missed (capture started late, or a
 * gap ate it). The session is
 * authenticated after all (RFC 1939 §5), as Zeek infers too.
 */
static void pop3_infer_transaction(struct pop3 *p, const struct pop3_pending *c)
{
	if (p->phase != POP3_PH_AUTHORIZATION || !pop3_cmds[c->id].transaction)
		return;
	if (!p->info->partial && !p->gapped)
		return; /* the whole session was seen: a server's oddity, not a missed login */
	p->state_inferred = true;
	p->authenticated = true;
	pop3_set_phase(p, POP3_PH_TRANSACTION);
}

/*
 * XTND XMIT's first +OK opens the client's submission (a message event from
 * the client side); XTND XLST's +OK starts a multi-line listing. Returns true
 * when a multi-line server reply follows.
 */
static bool pop3_reply_xtnd(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = pop3_arg(c);
	if (r->status != POP3_ST_OK)
		return false;
	if (bytes_has_prefix_ci(arg.p, arg.n, "XLST")) {
		p->srv = POP3_SRV_LINES;
		return true;
	}
	if (!bytes_has_prefix_ci(arg.p, arg.n, "XMIT"))
		return false;
	pop3_close_submission(p);
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	ev.u.message_begin.command = "XTND XMIT";
	ev.u.message_begin.dir = DIR_TO_SERVER;
	ev.u.message_begin.announced = -1;
	ev.u.message_begin.list_size = -1;
	sink_emit(p->sink, &ev);
	p->xmit = POP3_XMIT_BODY;
	dotbody_start(&p->body);
	p->body_unsure = p->misaligned;
	return false;
}

/* The session's view of the mailbox, made on first use. */
static struct maildrop *pop3_maildrop(struct pop3 *p)
{
	if (!p->maildrop)
		p->maildrop = maildrop_new();
	return p->maildrop;
}

/* "LIST n" / "UIDL n" answer on the status line itself. */
static void pop3_reply_listing(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	if (r->status == POP3_ST_OK && pop3_has_arg(c) && r->line.n > 3 && pop3_maildrop(p))
		maildrop_listing(p->maildrop, c->id == POP3_CMD_UIDL, r->line.p + 3, r->line.n - 3);
}

/* DELE only marks (RFC 1939 §5); the UPDATE state after QUIT deletes. */
static void pop3_reply_dele(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = pop3_arg(c);
	uint32_t n;
	if (r->status == POP3_ST_OK && bytes_to_u32(arg.p, arg.n, &n) && pop3_maildrop(p))
		maildrop_mark(p->maildrop, n);
}

/*
 * Dispatches a reply (or its absence, at the end) to the handler of command c.
 * Returns true when a multi-line reply follows, so c must be kept until its end.
 */
/* --transactions: the request with where its secret starts, and the reply. */
static void pop3_emit_command(struct pop3 *p, const struct pop3_pending *c, const struct pop3_reply *r)
{
	struct event ev = { .type = EV_COMMAND };
	ev.u.command.request = bytes_of(c->line, c->n);
	ev.u.command.secret_at = SIZE_MAX;
	if (c->id == POP3_CMD_PASS) {
		ev.u.command.secret_at = c->argoff;
	} else if (c->id == POP3_CMD_AUTH && pop3_has_arg(c)) {
		const uint8_t *sp = memchr(c->line + c->argoff, ' ', c->n - c->argoff);
		if (sp)
			ev.u.command.secret_at = (size_t)(sp + 1 - c->line); /* the initial response */
	}
	ev.u.command.reply = r->line;
	ev.u.command.result = pop3_result(r);
	sink_emit(p->sink, &ev);
}

static bool pop3_on_reply(struct pop3 *p, struct pop3_pending *c, const struct pop3_reply *r)
{
	p->commands++;
	if (c->id != POP3_CMD_LOST)
		pop3_emit_command(p, c, r);
	/* Known only now: a queued line may turn out to be a SASL response instead. */
	if (c->id == POP3_CMD_UNKNOWN)
		emit_anomaly(p->sink, ANOM_UNKNOWN_COMMAND, DIR_TO_SERVER, c->line, c->n);

	if (c->id != POP3_CMD_PASS && c->id != POP3_CMD_RPOP)
		pop3_flush_rejected_user(p);
	switch (c->id) {
	case POP3_CMD_USER: pop3_reply_user(p, c, r); break;
	case POP3_CMD_PASS: pop3_reply_pass(p, c, r); break;
	case POP3_CMD_APOP: pop3_reply_apop(p, c, r); break;
	case POP3_CMD_AUTH: pop3_reply_auth(p, c, r); break;
	case POP3_CMD_RPOP: pop3_reply_rpop(p, c, r); break;
	case POP3_CMD_XTND: return pop3_reply_xtnd(p, c, r);
	case POP3_CMD_STLS: pop3_reply_stls(p, r); break;
	case POP3_CMD_QUIT: pop3_reply_quit(p, r); break;
	case POP3_CMD_DELE: pop3_reply_dele(p, c, r); break;
	case POP3_CMD_RSET:
		if (r->status == POP3_ST_OK && p->maildrop)
			maildrop_unmark_all(p->maildrop);
		break;
	case POP3_CMD_LIST:
	case POP3_CMD_UIDL: pop3_reply_listing(p, c, r); break;
	case POP3_CMD_CAPA:
		if (r->status == POP3_ST_OK)
			p->n_caps = 0; /* the latest list wins (it may change after STLS/login) */
		break;
	default: break;
	}
	if (r->status != POP3_ST_OK)
		return false;
	pop3_infer_transaction(p, c);
	enum pop3_ml ml = pop3_cmds[c->id].ml;
	if (ml == ML_BODY) {
		pop3_begin_body(p, c, r);
		return true;
	}
	if (ml == ML_ALWAYS || (ml == ML_NOARG && !pop3_has_arg(c))) {
		p->srv = POP3_SRV_LINES;
		return true;
	}
	return false;
}

static void pop3_end_multiline(struct pop3 *p)
{
	p->srv = POP3_SRV_STATUS;
	pop3_pending_free(p, &p->cur);
}

static void pop3_body_end(struct pop3 *p, bool complete)
{
	emit_message_end(p->sink, complete && !p->body_holed && !p->body_unsure);
	p->body_holed = p->body_unsure = false;
	if (p->xmit == POP3_XMIT_BODY) {
		/* The client's submission ended; the server's verdict is the next reply. */
		p->xmit = POP3_XMIT_RESULT;
		p->submitted++;
		return;
	}
	p->retrieved++;
	pop3_end_multiline(p);
}

static void pop3_drop_answered(struct pop3 *p);

/* ---- the server side -------------------------------------------------- */

static void pop3_greeting(struct pop3 *p, const struct pop3_reply *r)
{
	bstr_set(&p->greeting, r->line.p, r->line.n, POP3_GREETING_MAX);
	p->apop_ts = BYTES_NONE;
	const uint8_t *lt = memchr(p->greeting.p, '<', p->greeting.n);
	const uint8_t *gt = lt ? memchr(lt, '>', p->greeting.n - (size_t)(lt - p->greeting.p)) : NULL;
	if (gt)
		p->apop_ts = bytes_of(lt, (size_t)(gt - lt) + 1);
	if (r->status == POP3_ST_ERR)
		emit_anomaly(p->sink, ANOM_GREETING_NEGATIVE, DIR_TO_CLIENT, r->line.p, r->line.n);
	pop3_set_phase(p, POP3_PH_AUTHORIZATION);
}

/*
 * Called whenever a command reaches the head of the queue. An "AUTH mech"
 * there starts a SASL exchange: from now on "+ " lines are its challenges.
 */
static void pop3_head_changed(struct pop3 *p)
{
	if (p->qlen == 0 || p->sasl)
		return;
	struct pop3_pending *c = pop3_q_at(p, 0);
	if (c->id != POP3_CMD_AUTH || !pop3_has_arg(c))
		return;
	struct bytes arg = pop3_arg(c);
	const uint8_t *sp = memchr(arg.p, ' ', arg.n);
	size_t mlen = sp ? (size_t)(sp - arg.p) : arg.n;
	p->sasl = sasl_start(arg.p, mlen, p->sink);
	p->sasl_owed = 0;
	if (p->sasl && sp)
		sasl_client(p->sasl, sp + 1, arg.n - mlen - 1);
}

/* A "+ " line: the head AUTH's next challenge, answered by the next client line. */
static void pop3_continuation(struct pop3 *p, const struct lb_line *l)
{
	if (!p->sasl) {
		emit_anomaly(p->sink, ANOM_UNEXPECTED_CONTINUATION, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	size_t skip = l->n > 1 ? 2 : 1;
	sasl_server(p->sasl, l->p + skip, l->n - skip);
	if (p->qlen > 1) {
		struct pop3_pending resp = pop3_q_take(p, 1);
		sasl_client(p->sasl, resp.line, resp.n);
		pop3_pending_free(p, &resp);
	} else {
		p->sasl_owed++;
	}
}

/*
 * The first server line is the greeting, even when a client spoke first
 * (protocol-notes §9). But a capture may lack the greeting while the client's
 * first command is there: then a first line that reads like a reply (no
 * <timestamp>, no "POP", no "ready") answers that command instead.
 */
static bool pop3_first_line_is_greeting(struct pop3 *p, const struct pop3_reply *r)
{
	if (p->qlen == 0)
		return true;
	const char *hints[] = { "<", "pop", "ready", "server", "service", "welcome" };
	for (size_t i = 0; i < ARRAY_LEN(hints); i++)
		if (memmem_ci(r->line.p, r->line.n, hints[i]))
			return true;
	emit_anomaly(p->sink, ANOM_GREETING_MISSING, DIR_TO_CLIENT, r->line.p, r->line.n);
	pop3_set_phase(p, POP3_PH_AUTHORIZATION);
	return false;
}

static void pop3_status(struct pop3 *p, const struct pop3_reply *r)
{
	if (p->phase == POP3_PH_GREETING && pop3_first_line_is_greeting(p, r)) {
		pop3_greeting(p, r);
		return;
	}
	if (p->xmit == POP3_XMIT_RESULT) {
		p->xmit = POP3_XMIT_NONE; /* "+OK Message sent" or "-ERR Unable to send" */
		return;
	}
	if (p->qlen == 0) {
		emit_anomaly(p->sink, ANOM_UNEXPECTED_REPLY, DIR_TO_CLIENT, r->line.p, r->line.n);
		return;
	}
	if (p->qlen > 1 && !p->sasl)
		p->pipelining = true; /* an answer arrived while later commands already waited */
	struct pop3_pending c = pop3_q_pop(p);
	if (pop3_on_reply(p, &c, r))
		p->cur = c;
	else
		pop3_pending_free(p, &c);
	if (p->qlen == 0)
		p->misaligned = false; /* nothing owed: replies line up again */
	pop3_head_changed(p);
}


static void pop3_capa_line(struct pop3 *p, const uint8_t *s, size_t n)
{
	if (p->n_caps == POP3_CAPA_MAX) {
		emit_anomaly(p->sink, ANOM_TOO_MANY_CAPABILITIES, DIR_TO_CLIENT, s, n);
		return;
	}
	if (!p->caps) {
		p->caps = calloc(POP3_CAPA_MAX, sizeof(*p->caps));
		p->caps_view = calloc(POP3_CAPA_MAX, sizeof(*p->caps_view));
		if (!p->caps || !p->caps_view) {
			free(p->caps);
			free(p->caps_view);
			p->caps = NULL;
			p->caps_view = NULL;
			return;
		}
	}
	bstr_set(&p->caps[p->n_caps++], s, n, POP3_CAPA_LINE_MAX);
	if (n == 4 && strncasecmp((const char *)s, "STLS", 4) == 0)
		p->stls_offered = true;
}

/* One line of a multi-line reply other than a message. */
static void pop3_ml_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->n == 1 && l->p[0] == '.') {
		pop3_end_multiline(p);
		return;
	}
	size_t skip = l->n > 0 && l->p[0] == '.'; /* dot-unstuffing */
	if (p->cur.id == POP3_CMD_CAPA)
		pop3_capa_line(p, l->p + skip, l->n - skip);
	else if ((p->cur.id == POP3_CMD_UIDL || p->cur.id == POP3_CMD_LIST) && pop3_maildrop(p))
		maildrop_listing(p->maildrop, p->cur.id == POP3_CMD_UIDL, l->p + skip, l->n - skip);
}

static enum pop3_status pop3_status_of(const struct lb_line *l)
{
	if (bytes_has_prefix_ci(l->p, l->n, "+OK"))
		return POP3_ST_OK;
	if (bytes_has_prefix_ci(l->p, l->n, "-ERR"))
		return POP3_ST_ERR;
	return POP3_ST_NONE;
}

static bool pop3_is_continuation(const struct lb_line *l)
{
	return l->n >= 1 && l->p[0] == '+' && (l->n == 1 || l->p[1] == ' ');
}

/*
 * A line of a message that lost bytes to a gap (read line by line from then on,
 * so the decision does not depend on chunking). The terminator may have been
 * lost too: a status line while other commands wait for replies ends the
 * message, since a client sends its next command only after the last one was
 * answered, unless it pipelines. Returns false when the line is a reply.
 */
static bool pop3_holed_body_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->n == 1 && l->p[0] == '.') {
		pop3_body_end(p, false);
		return true;
	}
	if (p->qlen > 0 && pop3_status_of(l) != POP3_ST_NONE) {
		pop3_body_end(p, false);
		return false;
	}
	dotbody_line(p->sink, l->p, l->n, l->bare_lf);
	return true;
}

static void pop3_server_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_LINE_TOO_LONG_SERVER, DIR_TO_CLIENT, l->p, l->n);
	if (l->bare_lf)
		emit_anomaly(p->sink, ANOM_BARE_LF, DIR_TO_CLIENT, l->p, l->n);
	if (p->srv == POP3_SRV_LINES) {
		pop3_ml_line(p, l);
		return;
	}
	if (p->srv == POP3_SRV_BODY && pop3_holed_body_line(p, l))
		return;
	struct pop3_reply r = { pop3_status_of(l), bytes_of(l->p, l->n) };
	if (r.status != POP3_ST_NONE) {
		if (p->resync[DIR_TO_CLIENT] && p->gapped)
			pop3_drop_answered(p); /* commands sent since the gap are known now */
		p->resync[DIR_TO_CLIENT] = false;
		pop3_status(p, &r);
	} else if (pop3_is_continuation(l) && p->phase != POP3_PH_GREETING) {
		pop3_continuation(p, l);
	} else if (!p->resync[DIR_TO_CLIENT]) {
		emit_anomaly(p->sink, ANOM_INVALID_REPLY, DIR_TO_CLIENT, l->p, l->n);
	}
}

/* Streams message bytes through the dot-unstuffer; returns the bytes it took. */
static size_t pop3_body_scan(struct pop3 *p, const uint8_t *buf, size_t len)
{
	bool ended;
	size_t used = dotbody_scan(&p->body, p->sink, buf, len, &ended);
	if (ended)
		pop3_body_end(p, true);
	return used;
}

/* Returns the bytes left unread because the rest of the stream is no longer text. */
static size_t pop3_server_data(struct pop3 *p, const uint8_t *buf, size_t len)
{
	while (len > 0 && pop3_is_text(p)) {
		if (p->srv == POP3_SRV_BODY && !p->body_holed) {
			size_t used = pop3_body_scan(p, buf, len);
			buf += used;
			len -= used;
			continue;
		}
		struct lb_line l;
		if (linebuf_take(&p->lb[DIR_TO_CLIENT], &buf, &len, &l) != LB_LINE)
			break;
		pop3_server_line(p, &l);
	}
	return len;
}

/* ---- the client side -------------------------------------------------- */

static void pop3_client_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_LINE_TOO_LONG_CLIENT, DIR_TO_SERVER, l->p, l->n);
	if (memchr(l->p, 0, l->n))
		emit_anomaly(p->sink, ANOM_NUL_IN_LINE, DIR_TO_SERVER, l->p, l->n);
	if (p->sasl && p->sasl_owed > 0 && p->qlen == 1) {
		/* The answer to a challenge already seen. */
		p->sasl_owed--;
		sasl_client(p->sasl, l->p, l->n);
		return;
	}
	if (p->resync[DIR_TO_SERVER]) {
		const uint8_t *sp = memchr(l->p, ' ', l->n);
		if (pop3_lookup(l->p, sp ? (size_t)(sp - l->p) : l->n) == POP3_CMD_UNKNOWN)
			return; /* the tail of a line cut by a gap or the capture start */
		p->resync[DIR_TO_SERVER] = false;
	}
	pop3_q_push(p, l->p, l->n);
	if (p->qlen == 1)
		pop3_head_changed(p);
}

/* Returns the bytes left unread because the rest of the stream is no longer text. */
static size_t pop3_client_data(struct pop3 *p, const uint8_t *buf, size_t len)
{
	while (len > 0 && pop3_is_text(p)) {
		if (p->xmit == POP3_XMIT_BODY) {
			size_t used = pop3_body_scan(p, buf, len);
			buf += used;
			len -= used;
			continue;
		}
		struct lb_line l;
		if (linebuf_take(&p->lb[DIR_TO_SERVER], &buf, &len, &l) != LB_LINE)
			break;
		pop3_client_line(p, &l);
	}
	return len;
}

/* ---- the dissector interface ----------------------------------------- */

/*
 * A TLS record (handshake, type 22) where text was expected. The first byte
 * alone decides, so the verdict never depends on how the bytes were split
 * (a chunk may hold a single byte); 0x16 never starts a POP3 line.
 */
static bool pop3_is_tls_record(const uint8_t *buf, size_t len)
{
	return len >= 1 && buf[0] == 0x16;
}

/* After STLS +OK: a ClientHello confirms TLS; anything else resumes text. */
static void pop3_tls_decide(struct pop3 *p, enum dir dir, const uint8_t *buf, size_t len)
{
	if (pop3_is_tls_record(buf, len)) {
		pop3_set_phase(p, POP3_PH_TLS);
		return;
	}
	(void)buf;
	emit_anomaly(p->sink, ANOM_TLS_NO_HELLO, dir, NULL, 0); /* no sample: it would depend on chunking */
	p->tls = false;
	pop3_set_phase(p, p->authenticated ? POP3_PH_TRANSACTION : POP3_PH_AUTHORIZATION);
}

/*
 * The Kerberos preamble is over (or proved absent): record the outcome once,
 * and give POP3 the client bytes the walker held while deciding.
 */
static void pop3_kpop_settled(struct pop3 *p)
{
	if (p->kpop.result == KPOP_RESULT_PENDING || p->kpop_reported)
		return;
	p->kpop_reported = true;
	switch (p->kpop.result) {
	case KPOP_RESULT_OK: p->kerberos = true; break;
	case KPOP_RESULT_REFUSED: emit_anomaly(p->sink, ANOM_KPOP_REFUSED, DIR_TO_CLIENT, NULL, 0); break;
	case KPOP_RESULT_MALFORMED: emit_anomaly(p->sink, ANOM_KPOP_MALFORMED, DIR_TO_SERVER, NULL, 0); break;
	default:
		if (p->kpop.expected)
			emit_anomaly(p->sink, ANOM_KPOP_MISSING, DIR_TO_SERVER, NULL, 0);
		break;
	}
	struct bytes held = kpop_held(&p->kpop);
	if (held.n)
		pop3_client_data(p, held.p, held.n);
}

static void pop3_data(void *st, enum dir dir, const uint8_t *buf, size_t len)
{
	struct pop3 *p = st;
	if (len == 0 || p->phase == POP3_PH_TLS || p->phase == POP3_PH_SASL_LAYER)
		return;
	if (!p->seen_bytes) {
		p->seen_bytes = true;
		if (pop3_is_tls_record(buf, len)) { /* implicit TLS (POP3S) from the first byte */
			p->encrypted = p->tls = true;
			pop3_set_phase(p, POP3_PH_TLS);
			return;
		}
	}
	if (p->phase == POP3_PH_TLS_PENDING) {
		pop3_tls_decide(p, dir, buf, len);
		if (p->phase == POP3_PH_TLS)
			return;
	}
	if (!kpop_passes(&p->kpop, dir)) {
		size_t used = kpop_feed(&p->kpop, dir, buf, len);
		buf += used;
		len -= used;
		pop3_kpop_settled(p);
	}
	if (len == 0 || !kpop_passes(&p->kpop, dir))
		return;
	if (p->quit && dir == DIR_TO_SERVER) {
		if (!p->after_quit_seen) /* once: a count per chunk would depend on chunking */
			emit_anomaly(p->sink, ANOM_DATA_AFTER_QUIT, dir, NULL, 0);
		p->after_quit_seen = true;
		return;
	}
	for (;;) {
		size_t rest = dir == DIR_TO_SERVER ? pop3_client_data(p, buf, len)
						   : pop3_server_data(p, buf, len);
		if (rest == 0 || p->phase != POP3_PH_TLS_PENDING)
			return;
		/* STLS was accepted inside this chunk: the bytes after its reply
		   decide, as they would had they come in a chunk of their own. */
		buf += len - rest;
		len = rest;
		pop3_tls_decide(p, dir, buf, len);
		if (p->phase == POP3_PH_TLS)
			return;
	}
}

/*
 * Replies lost in a server-side gap. A client that has not pipelined sends a
 * command only after the previous one was answered, so every pending command
 * but the newest was answered inside the hole: they end with no reply seen.
 */
static void pop3_drop_answered(struct pop3 *p)
{
	if (p->pipelining && (p->qlen > 0 || p->srv != POP3_SRV_STATUS))
		p->misaligned = true; /* which replies the hole held cannot be known */
	if (p->pipelining || p->sasl)
		return;
	const struct pop3_reply none = { POP3_ST_NONE, BYTES_NONE };
	while (p->qlen > 1) {
		struct pop3_pending c = pop3_q_pop(p);
		pop3_on_reply(p, &c, &none);
		pop3_pending_free(p, &c);
	}
}

/*
 * Bytes lost. Inside a message the message goes on (what follows the hole is
 * still its data) but can no longer be complete, and the position within a
 * line is unknown: the terminator is recognised only after the next LF.
 * Elsewhere, skip to the next line that can be trusted (a status line from the
 * server, a known command from the client).
 */
static void pop3_gap(void *st, enum dir dir, size_t missing)
{
	struct pop3 *p = st;
	char sample[32];
	int n = snprintf(sample, sizeof(sample), "%zu bytes", missing);
	emit_anomaly(p->sink, ANOM_GAP, dir, (const uint8_t *)sample, (size_t)n);
	p->gapped = true;
	if (!pop3_is_text(p))
		return;
	linebuf_reset(&p->lb[dir]);
	if (dir == DIR_TO_CLIENT && p->srv == POP3_SRV_STATUS)
		pop3_drop_answered(p);
	else if (dir == DIR_TO_CLIENT && p->pipelining)
		p->misaligned = true;
	if (dir == DIR_TO_CLIENT && p->srv == POP3_SRV_STATUS && p->qlen > 0 &&
	    pop3_cmds[pop3_q_at(p, 0)->id].ml == ML_BODY) {
		/* The hole swallowed the +OK of the RETR/TOP waiting: what follows is its body. */
		struct pop3_pending c = pop3_q_pop(p);
		p->commands++;
		const struct pop3_reply lost = { POP3_ST_OK, BYTES_NONE };
		pop3_begin_body(p, &c, &lost);
		p->cur = c;
	}
	if (dir == DIR_TO_CLIENT && p->srv == POP3_SRV_BODY) {
		p->body_holed = true;
		return;
	}
	p->resync[dir] = true;
	if (dir == DIR_TO_CLIENT && p->srv == POP3_SRV_LINES)
		pop3_end_multiline(p);
	if (dir == DIR_TO_SERVER && !p->sasl) {
		/* A lost command still gets its reply: keep replies matched in order. */
		if (pop3_q_push(p, (const uint8_t *)"", 0))
			pop3_q_at(p, p->qlen - 1)->id = POP3_CMD_LOST;
	}
}

/*
 * Deletion truth (RFC 1939 §6): marks take effect only in UPDATE, after QUIT is
 * acknowledged in TRANSACTION. A connection that ends otherwise deletes
 * nothing, unless the capture simply stopped first: then nobody knows.
 */
static enum commit pop3_commit(const struct pop3 *p, enum end_reason why)
{
	if (p->phase == POP3_PH_UPDATE)
		return COMMIT_YES;
	if (why == END_CAPTURE_END && !p->quit)
		return COMMIT_UNKNOWN;
	return COMMIT_NO;
}

static void pop3_end(void *st, enum end_reason why)
{
	struct pop3 *p = st;
	kpop_end(&p->kpop);
	pop3_kpop_settled(p);
	if (p->srv == POP3_SRV_BODY || p->xmit == POP3_XMIT_BODY) {
		emit_anomaly(p->sink, ANOM_MESSAGE_TRUNCATED, p->xmit == POP3_XMIT_BODY ? DIR_TO_SERVER : DIR_TO_CLIENT, NULL, 0);
		pop3_body_end(p, false);
	} else if (p->srv == POP3_SRV_LINES) {
		pop3_end_multiline(p);
	}
	const struct pop3_reply none = { POP3_ST_NONE, BYTES_NONE };
	while (p->qlen > 0) {
		struct pop3_pending c = pop3_q_pop(p);
		pop3_on_reply(p, &c, &none);
		pop3_pending_free(p, &c);
		pop3_head_changed(p);
	}
	pop3_flush_rejected_user(p);

	for (size_t i = 0; i < p->n_caps; i++)
		p->caps_view[i] = bstr_bytes(&p->caps[i]);
	struct event ev = { .type = EV_SESSION };
	struct ev_session *s = &ev.u.session;
	s->app_proto = p->kpop.expected ? "kpop" : "pop3";
	s->greeting = bstr_bytes(&p->greeting);
	s->apop_timestamp = p->apop_ts;
	s->capabilities = p->caps_view;
	s->n_capabilities = p->n_caps;
	s->username = bstr_bytes(&p->session_user);
	s->authenticated = p->authenticated;
	s->tls = p->tls;
	s->sasl_layer = p->phase == POP3_PH_SASL_LAYER;
	s->quit = p->quit;
	s->encrypted = p->encrypted;
	s->state = pop3_phase_names[p->phase];
	s->state_inferred = p->state_inferred;
	s->commands = p->commands;
	s->messages_retrieved = p->retrieved;
	s->messages_submitted = p->submitted;
	struct mailbox_entry *mb = NULL;
	s->n_mailbox = maildrop_list(p->maildrop, &mb);
	s->mailbox = mb;
	s->deletions_committed = pop3_commit(p, why);
	for (size_t i = 0; i < s->n_mailbox; i++)
		s->messages_deleted += mb[i].marked && s->deletions_committed == COMMIT_YES;
	sink_emit(p->sink, &ev);
	free(mb);
}

static void *pop3_create_any(const struct session_info *info, struct event_sink *sink, bool kpop)
{
	struct pop3 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->info = info;
	p->sink = sink;
	p->phase = POP3_PH_GREETING;
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_init(&p->lb[d], POP3_LINE_MAX);
	kpop_init(&p->kpop, kpop, info->partial);
	if (info->partial) {
		p->kpop_reported = true;
		/*
		 * Picked up mid-stream: no greeting will come, and the first bytes may
		 * be the middle of a line or of a message. Trust only a status line
		 * (server) or a known command (client); the phase is learned from
		 * replies (Zeek's guessing mode).
		 */
		p->phase = POP3_PH_AUTHORIZATION;
		p->state_inferred = true;
		p->resync[DIR_TO_SERVER] = p->resync[DIR_TO_CLIENT] = true;
	}
	return p;
}

static void *pop3_create(const struct session_info *info, struct event_sink *sink)
{
	return pop3_create_any(info, sink, false);
}

static void *kpop_create(const struct session_info *info, struct event_sink *sink)
{
	return pop3_create_any(info, sink, true);
}

static void pop3_destroy(void *st)
{
	struct pop3 *p = st;
	if (!p)
		return;
	while (p->qlen > 0) {
		struct pop3_pending c = pop3_q_pop(p);
		pop3_pending_free(p, &c);
	}
	pop3_pending_free(p, &p->cur);
	sasl_free(p->sasl);
	maildrop_free(p->maildrop);
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_free(&p->lb[d]);
	bstr_free(&p->greeting);
	bstr_free(&p->user);
	bstr_free(&p->rejected);
	bstr_free(&p->session_user);
	for (size_t i = 0; p->caps && i < POP3_CAPA_MAX; i++)
		bstr_free(&p->caps[i]);
	free(p->caps);
	free(p->caps_view);
	free(p->q);
	free(p);
}

/* 995 is POP3S: TLS from the first byte, reported as an encrypted session. */
static const uint16_t pop3_ports[] = { 110, 995, 0 };
static const uint16_t kpop_ports[] = { 1109, 0 };

const struct dissector pop3_dissector = {
	.name = "pop3",
	.ports = pop3_ports,
	.probe = pop3_probe,
	.create = pop3_create,
	.data = pop3_data,
	.gap = pop3_gap,
	.end = pop3_end,
	.destroy = pop3_destroy,
};

/* KPOP (port 1109): the same dissector, expecting a Kerberos preamble first. */
const struct dissector kpop_dissector = {
	.name = "kpop",
	.ports = kpop_ports,
	.create = kpop_create,
	.data = pop3_data,
	.gap = pop3_gap,
	.end = pop3_end,
	.destroy = pop3_destroy,
};
