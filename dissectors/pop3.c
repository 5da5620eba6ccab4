/*
 * pop3.c - the POP3 dissector: RFC 1939 state machine, RFC 2449 CAPA and
 * pipelining, RFC 2595 STLS, RFC 5034 AUTH (decoded by sasl.c).
 *
 * Owns one connection's POP3 state: the session phase (AUTHORIZATION,
 * TRANSACTION, UPDATE), what its bytes are (text; after STLS, a layer beneath
 * that the engine reads, so what it then gives is the dialogue inside TLS; a
 * SASL security layer), how the server's bytes are read (status lines, multi-line
 * lines, or a message body) and the XTND XMIT submission. Each of these has
 * one setter (pop3_set_*), traced under POPSIFT_TRACE (trace.h). It sees bytes
 * per direction and emits events; it knows nothing of libnids, JSON or files.
 *
 * Client lines are queued raw (lineproto.c) and interpreted when their reply
 * arrives, because a pipelining client sends many commands before the first
 * answer and the reply alone decides what happened (docs/protocol.md §3).
 * Message bodies go through the dot-unstuffer (dotbody.c), LIST and UIDL
 * answers into the session's maildrop view (maildrop.c), the Kerberos
 * preamble of KPOP through its walker (kpop.c).
 */
#include <ctype.h>

#include "bstr.h"
#include "dissector.h"
#include "dotbody.h"
#include "kpop.h"
#include "linebuf.h"
#include "lineproto.h"
#include "maildrop.h"
#include "probe.h"
#include "sasl.h"
#include "trace.h"

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

/* How a +OK reply to a command goes on (the rules of pop3_cmds.def). */
enum pop3_ml { ML_NEVER, ML_ALWAYS, ML_NOARG, ML_BODY };

static const struct lp_cmd pop3_cmds[] = {
#define POP3_CMD(id, kw, ml, tr) [POP3_CMD_##id] = { kw, ml, tr },
#include "pop3_cmds.def"
#undef POP3_CMD
};
_Static_assert(ARRAY_LEN(pop3_cmds) == POP3_CMD_COUNT, "command table out of step");

/* The state variables and their traced names; pop3_states.def says what each value means. */
#include "pop3_states.def"
STATE_ENUM(pop3_phase, POP3_PHASES, POP3_PH_COUNT);
STATE_ENUM(pop3_wire, POP3_WIRES, POP3_WIRE_COUNT);
STATE_ENUM(pop3_srv, POP3_SRV_MODES, POP3_SRV_COUNT);
STATE_ENUM(pop3_xmit, POP3_XMITS, POP3_XMIT_COUNT);

enum pop3_status { POP3_ST_NONE, POP3_ST_OK, POP3_ST_ERR };

struct pop3_reply {
	enum pop3_status status; /* NONE: the capture ended before the reply */
	struct bytes line;       /* the whole status line */
};

struct pop3 {
	const struct session_info *info;
	struct event_sink *sink;

	/*
	 * The state, each changed by its setter only. A message streams from one
	 * side at a time: srv is BODY or BODY_BY_LINE only while xmit is not BODY.
	 */
	enum pop3_phase phase;
	enum pop3_wire wire;
	enum pop3_srv srv;
	enum pop3_xmit xmit;
	bool state_inferred;  /* the phase was deduced from replies, not seen */
	bool quit;            /* the client's QUIT was acknowledged (in any phase) */

	struct pop3_reader {  /* bytes into lines and message data */
		struct linebuf lb[DIR_COUNT];
		bool resync[DIR_COUNT]; /* after a gap: skip to a line that can be trusted */
		struct dotbody body;    /* the message in flight, whichever side sends it */
		bool body_unsure;       /* it began while replies may be matched to the wrong commands */
		bool upgraded;          /* STLS accepted: the bytes since come from beneath */
		bool gapped;            /* bytes of this session were lost */
		bool after_quit_reported;
	} rd;

	struct pop3_replies { /* client commands matched to their replies */
		struct lp_queue queue;
		struct lp_pending multiline_cmd; /* the command whose multi-line reply is being read */
		bool pipelining;  /* seen: the client sent commands before earlier ones were answered */
		bool misaligned;  /* a gap hid replies of a pipelining client: until its queue
				     drains, a reply may belong to another command */
	} replies;

	struct pop3_login {
		struct bstr user;      /* argument of the latest USER command */
		struct bstr rejected;  /* -ERR to that USER, while no PASS followed */
		struct bstr session_user;
		struct sasl *sasl;     /* the AUTH exchange at the head of the queue */
		unsigned sasl_owed;    /* challenges not yet answered by a client line */
	} login;

	struct pop3_server { /* what the server said of itself */
		struct bstr greeting;
		struct bytes apop_ts;    /* within greeting */
		/* Allocated at the first CAPA line: an idle session stays small. */
		struct bstr *caps;       /* POP3_CAPA_MAX of them */
		struct bytes *caps_view; /* allocated with caps */
		size_t n_caps;
		bool stls_offered;       /* CAPA listed STLS */
	} server;

	struct pop3_totals {
		uint32_t commands, retrieved, submitted;
	} totals;

	struct kpop kpop;          /* the Kerberos preamble walker (KPOP, port 1109) */
	struct maildrop *maildrop; /* UIDL ids, LIST sizes, DELE marks; NULL until needed */
};

/* ---- the state and its setters --------------------------------------- */

/* pop3_set_phase() and the like: the one place each state variable changes. */
STATE_SETTER(pop3_set_phase, struct pop3, phase, enum pop3_phase, "pop3 phase", pop3_phase_names)
STATE_SETTER(pop3_set_wire, struct pop3, wire, enum pop3_wire, "pop3 wire", pop3_wire_names)
STATE_SETTER(pop3_set_srv, struct pop3, srv, enum pop3_srv, "pop3 server reading", pop3_srv_names)
STATE_SETTER(pop3_set_xmit, struct pop3, xmit, enum pop3_xmit, "pop3 xmit", pop3_xmit_names)

/* False while the bytes being read are not POP3's own, or for good after a SASL layer. */
static bool pop3_is_text(const struct pop3 *p)
{
	return p->wire == POP3_WIRE_TEXT;
}

/* Nothing more to read: a SASL layer took the connection for good. */
static bool pop3_is_opaque(const struct pop3 *p)
{
	return p->wire == POP3_WIRE_SASL_LAYER;
}

/* Logged in: only a login (seen or inferred) leads past AUTHORIZATION. */
static bool pop3_authenticated(const struct pop3 *p)
{
	return p->phase == POP3_PH_TRANSACTION || p->phase == POP3_PH_UPDATE;
}

/* A valid Kerberos preamble authenticated this session (KPOP). */
static bool pop3_kerberos(const struct pop3 *p)
{
	return p->kpop.result == KPOP_RESULT_OK;
}

/* The state the session summary reports (output says "TLS" when it could not read inside). */
static const char *pop3_state_name(const struct pop3 *p)
{
	if (p->wire == POP3_WIRE_SASL_LAYER)
		return pop3_wire_names[p->wire];
	return pop3_phase_names[p->phase];
}

static size_t pop3_waiting(const struct pop3 *p)
{
	return p->replies.queue.len;
}

/* How a +OK reply to command id goes on. */
static enum pop3_ml pop3_ml(int id)
{
	return (enum pop3_ml)pop3_cmds[id].reply;
}

/* Valid only in TRANSACTION (RFC 1939 §5). */
static bool pop3_transaction_only(int id)
{
	return pop3_cmds[id].flags != 0;
}

static enum pop3_cmd_id pop3_command(const uint8_t *line, size_t n)
{
	/* UNKNOWN and LOST come last: the lookup covers the real keywords only. */
	return (enum pop3_cmd_id)lp_command(pop3_cmds, POP3_CMD_UNKNOWN, line, n);
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
	a->stls_offered = p->server.stls_offered && !p->rd.upgraded;
	/* The session's username: the name tried, until a login succeeds (then that one). */
	if (a->username.n && !pop3_authenticated(p))
		bstr_set(&p->login.session_user, a->username.p, a->username.n, POP3_NAME_MAX);
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

/* ---- replies to authentication commands ------------------------------ */

/* A USER refused and never followed by PASS is a login attempt of its own. */
static void pop3_flush_rejected_user(struct pop3 *p)
{
	if (!p->login.rejected.p)
		return;
	struct ev_auth a = { .mechanism = "USER", .result = AUTH_RESULT_FAILURE };
	a.username = bstr_bytes(&p->login.user);
	a.reply = bstr_bytes(&p->login.rejected);
	pop3_emit_auth(p, &a);
	bstr_free(&p->login.rejected);
}

/* A login attempt's outcome: reported, and on +OK the session is logged in. */
static void pop3_login_reply(struct pop3 *p, struct ev_auth *a, const struct pop3_reply *r)
{
	a->result = pop3_result(r);
	a->reply = r->line;
	pop3_emit_auth(p, a);
	if (r->status != POP3_ST_OK)
		return;
	bstr_set(&p->login.session_user, a->username.p, a->username.n, POP3_NAME_MAX);
	pop3_set_phase(p, POP3_PH_TRANSACTION);
}

static void pop3_reply_user(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = lp_arg(c);
	bstr_set(&p->login.user, arg.p, arg.n, POP3_NAME_MAX);
	if (r->status == POP3_ST_ERR)
		bstr_set(&p->login.rejected, r->line.p, r->line.n, POP3_LINE_MAX);
}

/* PASS binds to the latest USER command; the password is every byte after the SP. */
static void pop3_reply_pass(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	bstr_free(&p->login.rejected);
	struct ev_auth a = { .mechanism = "USER", .cleartext = true };
	if (pop3_kerberos(p)) {
		/* KPOP: Kerberos authenticated; the PASS that follows is a dummy the server ignores. */
		a = (struct ev_auth){ .mechanism = "KPOP" };
	}
	a.username = bstr_bytes(&p->login.user);
	if (a.cleartext)
		a.password = lp_arg(c);
	pop3_login_reply(p, &a, r);
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
static void pop3_reply_apop(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = lp_arg(c), ts = p->server.apop_ts;
	size_t sp = arg.n;
	while (sp > 0 && arg.p[sp - 1] != ' ')
		sp--;
	struct ev_auth a = { .mechanism = "APOP" };
	a.username = bytes_of(arg.p, sp ? sp - 1 : 0);
	a.response = bytes_of(arg.p + sp, arg.n - sp);
	a.challenge = ts;
	if (!pop3_is_lower_hex32(a.response))
		emit_anomaly(p->sink, ANOM_APOP_BAD_DIGEST, DIR_TO_SERVER, c->line, c->n);
	/* hashcat -m 20, md5($salt.$pass): "digest:<timestamp>", brackets included. */
	uint8_t line[POP3_GREETING_MAX + 64];
	if (ts.n && a.response.n <= 64) {
		memcpy(line, a.response.p, a.response.n);
		line[a.response.n] = ':';
		memcpy(line + a.response.n + 1, ts.p, ts.n);
		a.hash = bytes_of(line, a.response.n + 1 + ts.n);
		a.hash_format = "hashcat";
		a.hashcat_mode = 20;
	}
	if (ts.n == 0)
		emit_anomaly(p->sink, ANOM_APOP_NO_TIMESTAMP, DIR_TO_SERVER, c->line, c->n);
	pop3_login_reply(p, &a, r);
}

/*
 * RPOP user (RFC 1081/1225): instead of a password, the server trusts the
 * client host for the client-side user named. No secret crosses the wire.
 */
static void pop3_reply_rpop(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	bstr_free(&p->login.rejected);
	struct ev_auth a = { .mechanism = "RPOP" };
	a.username = bstr_bytes(&p->login.user);
	a.trusted_user = lp_arg(c);
	pop3_login_reply(p, &a, r);
}

/* The final reply to AUTH mech: the outcome of the SASL exchange. */
static void pop3_reply_auth(struct pop3 *p, const struct pop3_reply *r)
{
	struct sasl *s = p->login.sasl;
	if (!s)
		return; /* AUTH without argument: a mechanism list, not a login */
	struct ev_auth a = { 0 };
	sasl_describe(s, &a);
	pop3_login_reply(p, &a, r);
	if (r->status == POP3_ST_OK && sasl_security_layer(s))
		pop3_set_wire(p, POP3_WIRE_SASL_LAYER);
	sasl_free(s);
	p->login.sasl = NULL;
	p->login.sasl_owed = 0;
}

/* ---- replies to the other commands ----------------------------------- */

/*
 * STLS accepted: the bytes after this +OK line are the layer beneath's
 * (pop3_data tells the engine where they begin), and the engine reports the
 * TLS session. Refused or unanswered: the tls event says so here.
 */
static void pop3_reply_stls(struct pop3 *p, const struct pop3_reply *r)
{
	if (r->status == POP3_ST_OK) {
		pop3_set_wire(p, POP3_WIRE_HANDOVER);
		return;
	}
	struct event ev = { .type = EV_TLS };
	ev.u.tls.command = "STLS";
	ev.u.tls.result = pop3_result(r);
	sink_emit(p->sink, &ev);
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

/* ---- messages: one streams at a time ---------------------------------- */

static void pop3_end_multiline(struct pop3 *p)
{
	pop3_set_srv(p, POP3_SRV_STATUS);
	lpq_release(&p->replies.queue, &p->replies.multiline_cmd);
}

/*
 * The message in flight ended: the terminator was read (complete), or a gap,
 * a reply or the end of the connection cut it. A server message read line by
 * line lost bytes; one begun while replies were misaligned may be the answer
 * to another command: neither is complete.
 */
static void pop3_body_end(struct pop3 *p, bool complete)
{
	bool holed = p->srv == POP3_SRV_BODY_BY_LINE;
	emit_message_end(p->sink, complete && !holed && !p->rd.body_unsure);
	p->rd.body_unsure = false;
	if (p->xmit == POP3_XMIT_BODY) {
		/* The client's submission ended; the server's verdict is the next reply. */
		pop3_set_xmit(p, POP3_XMIT_RESULT);
		p->totals.submitted++;
		return;
	}
	p->totals.retrieved++;
	pop3_end_multiline(p);
}

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
	pop3_set_xmit(p, POP3_XMIT_NONE);
}

/* A message begins from `dir`; its events follow through the dot-unstuffer. */
static void pop3_open_message(struct pop3 *p, struct ev_message_begin *mb)
{
	pop3_close_submission(p);
	struct event ev = { .type = EV_MESSAGE_BEGIN, .u.message_begin = *mb };
	sink_emit(p->sink, &ev);
	dotbody_start(&p->rd.body);
	p->rd.body_unsure = p->replies.misaligned;
}

/* The session's view of the mailbox, made on first use. */
static struct maildrop *pop3_maildrop(struct pop3 *p)
{
	if (!p->maildrop)
		p->maildrop = maildrop_new();
	return p->maildrop;
}

/* RETR or TOP answered +OK: the server's message follows. */
static void pop3_begin_body(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	struct ev_message_begin mb = { .command = pop3_cmds[c->id].keyword, .dir = DIR_TO_CLIENT };
	struct bytes arg = lp_arg(c);
	mb.announced = c->id == POP3_CMD_RETR ? pop3_announced_size(r) : -1;
	if (!bytes_to_u32(arg.p, arg.n, &mb.number))
		mb.number = 0;
	struct mailbox_entry e;
	mb.list_size = -1;
	if (maildrop_get(p->maildrop, mb.number, &e)) {
		mb.uid = e.uid;
		mb.list_size = e.size;
	}
	pop3_open_message(p, &mb);
	pop3_set_srv(p, POP3_SRV_BODY);
}

/*
 * A TRANSACTION-only command answered +OK while we believed AUTHORIZATION in a
 * session not wholly seen: the login was missed (capture started late, or a
 * gap ate it). The session is authenticated after all (RFC 1939 §5), as Zeek
 * infers too.
 */
static void pop3_infer_transaction(struct pop3 *p, const struct lp_pending *c)
{
	if (p->phase != POP3_PH_AUTHORIZATION || !pop3_transaction_only(c->id))
		return;
	if (!p->info->partial && !p->rd.gapped)
		return; /* the whole session was seen: a server's oddity, not a missed login */
	p->state_inferred = true;
	pop3_set_phase(p, POP3_PH_TRANSACTION);
}

/*
 * XTND XMIT's first +OK opens the client's submission (a message event from
 * the client side); XTND XLST's +OK starts a multi-line listing. Returns true
 * when a multi-line server reply follows.
 */
static bool pop3_reply_xtnd(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = lp_arg(c);
	if (r->status != POP3_ST_OK)
		return false;
	if (bytes_has_prefix_ci(arg.p, arg.n, "XLST")) {
		pop3_set_srv(p, POP3_SRV_LINES);
		return true;
	}
	if (!bytes_has_prefix_ci(arg.p, arg.n, "XMIT"))
		return false;
	struct ev_message_begin mb = { .command = "XTND XMIT", .dir = DIR_TO_SERVER,
				       .announced = -1, .list_size = -1 };
	pop3_open_message(p, &mb);
	pop3_set_xmit(p, POP3_XMIT_BODY);
	return false;
}

/* "LIST n" / "UIDL n" answer on the status line itself. */
static void pop3_reply_listing(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	if (r->status == POP3_ST_OK && lp_has_arg(c) && r->line.n > 3 && pop3_maildrop(p))
		maildrop_listing(p->maildrop, c->id == POP3_CMD_UIDL, r->line.p + 3, r->line.n - 3);
}

/* DELE only marks (RFC 1939 §5); the UPDATE state after QUIT deletes. */
static void pop3_reply_dele(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	struct bytes arg = lp_arg(c);
	uint32_t n;
	if (r->status == POP3_ST_OK && bytes_to_u32(arg.p, arg.n, &n) && pop3_maildrop(p))
		maildrop_mark(p->maildrop, n);
}

/* --transactions: the request with where its secret starts, and the reply. */
static void pop3_emit_command(struct pop3 *p, const struct lp_pending *c, const struct pop3_reply *r)
{
	struct event ev = { .type = EV_COMMAND };
	ev.u.command.request = bytes_of(c->line, c->n);
	ev.u.command.secret_at = SIZE_MAX;
	if (c->id == POP3_CMD_PASS) {
		ev.u.command.secret_at = c->argoff;
	} else if (c->id == POP3_CMD_AUTH && lp_has_arg(c)) {
		const uint8_t *sp = memchr(c->line + c->argoff, ' ', c->n - c->argoff);
		if (sp)
			ev.u.command.secret_at = (size_t)(sp + 1 - c->line); /* the initial response */
	}
	ev.u.command.reply = r->line;
	ev.u.command.result = pop3_result(r);
	sink_emit(p->sink, &ev);
}

/* What the reply to command c changes, by command. */
static void pop3_dispatch(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	switch (c->id) {
	case POP3_CMD_USER: pop3_reply_user(p, c, r); break;
	case POP3_CMD_PASS: pop3_reply_pass(p, c, r); break;
	case POP3_CMD_APOP: pop3_reply_apop(p, c, r); break;
	case POP3_CMD_AUTH: pop3_reply_auth(p, r); break;
	case POP3_CMD_RPOP: pop3_reply_rpop(p, c, r); break;
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
			p->server.n_caps = 0; /* the latest list wins (it may change after STLS/login) */
		break;
	default: break;
	}
}

/*
 * Handles a reply (or its absence, at the end) to command c. Returns true when
 * a multi-line reply follows, so c must be kept until its end.
 */
static bool pop3_on_reply(struct pop3 *p, struct lp_pending *c, const struct pop3_reply *r)
{
	p->totals.commands++;
	if (c->id != POP3_CMD_LOST)
		pop3_emit_command(p, c, r);
	/* Known only now: a queued line may turn out to be a SASL response instead. */
	if (c->id == POP3_CMD_UNKNOWN)
		emit_anomaly(p->sink, ANOM_UNKNOWN_COMMAND, DIR_TO_SERVER, c->line, c->n);
	if (c->id != POP3_CMD_PASS && c->id != POP3_CMD_RPOP)
		pop3_flush_rejected_user(p);
	if (c->id == POP3_CMD_XTND)
		return pop3_reply_xtnd(p, c, r);
	pop3_dispatch(p, c, r);
	if (r->status != POP3_ST_OK)
		return false;
	pop3_infer_transaction(p, c);
	enum pop3_ml ml = pop3_ml(c->id);
	if (ml == ML_BODY) {
		pop3_begin_body(p, c, r);
		return true;
	}
	if (ml == ML_ALWAYS || (ml == ML_NOARG && !lp_has_arg(c))) {
		pop3_set_srv(p, POP3_SRV_LINES);
		return true;
	}
	return false;
}

static void pop3_drop_answered(struct pop3 *p);

/* ---- the server side -------------------------------------------------- */

static void pop3_greeting(struct pop3 *p, const struct pop3_reply *r)
{
	struct bstr *g = &p->server.greeting;
	bstr_set(g, r->line.p, r->line.n, POP3_GREETING_MAX);
	p->server.apop_ts = BYTES_NONE;
	const uint8_t *lt = memchr(g->p, '<', g->n);
	const uint8_t *gt = lt ? memchr(lt, '>', g->n - (size_t)(lt - g->p)) : NULL;
	if (gt)
		p->server.apop_ts = bytes_of(lt, (size_t)(gt - lt) + 1);
	if (r->status == POP3_ST_ERR)
		emit_anomaly(p->sink, ANOM_GREETING_NEGATIVE, DIR_TO_CLIENT, r->line.p, r->line.n);
	pop3_set_phase(p, POP3_PH_AUTHORIZATION);
}

/*
 * The first server line is the greeting, even when a client spoke first
 * (docs/protocol.md §9). But a capture may lack the greeting while the
 * client's first command is there: then a first line that reads like a reply
 * (no <timestamp>, no "POP", no "ready") answers that command instead.
 */
static bool pop3_reads_as_greeting(const struct pop3 *p, const struct pop3_reply *r)
{
	if (pop3_waiting(p) == 0)
		return true;
	static const char *const hints[] = { "<", "pop", "ready", "server", "service", "welcome" };
	for (size_t i = 0; i < ARRAY_LEN(hints); i++)
		if (memmem_ci(r->line.p, r->line.n, hints[i]))
			return true;
	return false;
}

/* The capture lacks the greeting: the session is past it all the same. */
static void pop3_greeting_missing(struct pop3 *p, const struct pop3_reply *r)
{
	emit_anomaly(p->sink, ANOM_GREETING_MISSING, DIR_TO_CLIENT, r->line.p, r->line.n);
	pop3_set_phase(p, POP3_PH_AUTHORIZATION);
}

/*
 * Called whenever a command reaches the head of the queue. An "AUTH mech"
 * there starts a SASL exchange: from now on "+ " lines are its challenges.
 */
static void pop3_head_changed(struct pop3 *p)
{
	if (pop3_waiting(p) == 0 || p->login.sasl)
		return;
	struct lp_pending *c = lpq_at(&p->replies.queue, 0);
	if (c->id != POP3_CMD_AUTH || !lp_has_arg(c))
		return;
	struct bytes arg = lp_arg(c);
	const uint8_t *sp = memchr(arg.p, ' ', arg.n);
	size_t mlen = sp ? (size_t)(sp - arg.p) : arg.n;
	p->login.sasl = sasl_start(arg.p, mlen, p->sink);
	p->login.sasl_owed = 0;
	if (p->login.sasl && sp)
		sasl_client(p->login.sasl, sp + 1, arg.n - mlen - 1);
}

/* A "+ " line: the head AUTH's next challenge, answered by the next client line. */
static void pop3_continuation(struct pop3 *p, const struct lb_line *l)
{
	struct sasl *s = p->login.sasl;
	if (!s) {
		emit_anomaly(p->sink, ANOM_UNEXPECTED_CONTINUATION, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	size_t skip = l->n > 1 ? 2 : 1;
	sasl_server(s, l->p + skip, l->n - skip);
	if (pop3_waiting(p) > 1) {
		struct lp_pending resp = lpq_take(&p->replies.queue, 1);
		sasl_client(s, resp.line, resp.n);
		lpq_release(&p->replies.queue, &resp);
	} else {
		p->login.sasl_owed++;
	}
}

/* A status line: the greeting, XTND XMIT's verdict, or the head command's reply. */
static void pop3_status(struct pop3 *p, const struct pop3_reply *r)
{
	struct pop3_replies *rp = &p->replies;
	if (p->phase == POP3_PH_GREETING) {
		if (pop3_reads_as_greeting(p, r)) {
			pop3_greeting(p, r);
			return;
		}
		pop3_greeting_missing(p, r);
	}
	if (p->xmit == POP3_XMIT_RESULT) {
		pop3_set_xmit(p, POP3_XMIT_NONE); /* "+OK Message sent" or "-ERR Unable to send" */
		return;
	}
	if (rp->queue.len == 0) {
		emit_anomaly(p->sink, ANOM_UNEXPECTED_REPLY, DIR_TO_CLIENT, r->line.p, r->line.n);
		return;
	}
	if (rp->queue.len > 1 && !p->login.sasl)
		rp->pipelining = true; /* an answer arrived while later commands already waited */
	struct lp_pending c = lpq_pop(&rp->queue);
	if (pop3_on_reply(p, &c, r))
		rp->multiline_cmd = c;
	else
		lpq_release(&rp->queue, &c);
	if (rp->queue.len == 0)
		rp->misaligned = false; /* nothing owed: replies line up again */
	pop3_head_changed(p);
}

static void pop3_capa_line(struct pop3 *p, const uint8_t *s, size_t n)
{
	struct pop3_server *sv = &p->server;
	if (sv->n_caps == POP3_CAPA_MAX) {
		emit_anomaly(p->sink, ANOM_TOO_MANY_CAPABILITIES, DIR_TO_CLIENT, s, n);
		return;
	}
	if (!sv->caps) {
		sv->caps = calloc(POP3_CAPA_MAX, sizeof(*sv->caps));
		sv->caps_view = calloc(POP3_CAPA_MAX, sizeof(*sv->caps_view));
		if (!sv->caps || !sv->caps_view) {
			free(sv->caps);
			free(sv->caps_view);
			sv->caps = NULL;
			sv->caps_view = NULL;
			return;
		}
	}
	bstr_set(&sv->caps[sv->n_caps++], s, n, POP3_CAPA_LINE_MAX);
	if (n == 4 && strncasecmp((const char *)s, "STLS", 4) == 0)
		sv->stls_offered = true;
}

/* One line of a multi-line reply other than a message. */
static void pop3_ml_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->n == 1 && l->p[0] == '.') {
		pop3_end_multiline(p);
		return;
	}
	size_t skip = l->n > 0 && l->p[0] == '.'; /* dot-unstuffing */
	enum pop3_cmd_id id = (enum pop3_cmd_id)p->replies.multiline_cmd.id;
	if (id == POP3_CMD_CAPA)
		pop3_capa_line(p, l->p + skip, l->n - skip);
	else if ((id == POP3_CMD_UIDL || id == POP3_CMD_LIST) && pop3_maildrop(p))
		maildrop_listing(p->maildrop, id == POP3_CMD_UIDL, l->p + skip, l->n - skip);
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
static bool pop3_body_by_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->n == 1 && l->p[0] == '.') {
		pop3_body_end(p, false);
		return true;
	}
	if (pop3_waiting(p) > 0 && pop3_status_of(l) != POP3_ST_NONE) {
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
	if (p->srv == POP3_SRV_BODY_BY_LINE && pop3_body_by_line(p, l))
		return;
	bool *resync = &p->rd.resync[DIR_TO_CLIENT];
	struct pop3_reply r = { pop3_status_of(l), bytes_of(l->p, l->n) };
	if (r.status != POP3_ST_NONE) {
		if (*resync && p->rd.gapped)
			pop3_drop_answered(p); /* commands sent since the gap are known now */
		*resync = false;
		pop3_status(p, &r);
	} else if (pop3_is_continuation(l) && p->phase != POP3_PH_GREETING) {
		pop3_continuation(p, l);
	} else if (!*resync) {
		emit_anomaly(p->sink, ANOM_INVALID_REPLY, DIR_TO_CLIENT, l->p, l->n);
	}
}

/* Streams message bytes through the dot-unstuffer; returns the bytes it took. */
static size_t pop3_body_data(struct pop3 *p, const uint8_t *buf, size_t len)
{
	bool ended;
	size_t used = dotbody_scan(&p->rd.body, p->sink, buf, len, &ended);
	if (ended)
		pop3_body_end(p, true);
	return used;
}

/* ---- the client side -------------------------------------------------- */

static void pop3_client_line(struct pop3 *p, const struct lb_line *l)
{
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_LINE_TOO_LONG_CLIENT, DIR_TO_SERVER, l->p, l->n);
	if (memchr(l->p, 0, l->n))
		emit_anomaly(p->sink, ANOM_NUL_IN_LINE, DIR_TO_SERVER, l->p, l->n);
	if (p->login.sasl && p->login.sasl_owed > 0 && pop3_waiting(p) == 1) {
		/* The answer to a challenge already seen. */
		p->login.sasl_owed--;
		sasl_client(p->login.sasl, l->p, l->n);
		return;
	}
	enum pop3_cmd_id id = pop3_command(l->p, l->n);
	if (p->rd.resync[DIR_TO_SERVER]) {
		if (id == POP3_CMD_UNKNOWN)
			return; /* the tail of a line cut by a gap or the capture start */
		p->rd.resync[DIR_TO_SERVER] = false;
	}
	lpq_push(&p->replies.queue, id, l->p, l->n);
	if (pop3_waiting(p) == 1)
		pop3_head_changed(p);
}

/* True when direction dir's next bytes are the message in flight. */
static bool pop3_streams_body(const struct pop3 *p, enum dir dir)
{
	return dir == DIR_TO_CLIENT ? p->srv == POP3_SRV_BODY : p->xmit == POP3_XMIT_BODY;
}

/*
 * Reads one direction's bytes: message data through the dot-unstuffer, the
 * rest as lines. Returns the bytes left unread because the rest of the stream
 * is no longer text.
 */
static size_t pop3_read(struct pop3 *p, enum dir dir, const uint8_t *buf, size_t len)
{
	while (len > 0 && pop3_is_text(p)) {
		if (pop3_streams_body(p, dir)) {
			size_t used = pop3_body_data(p, buf, len);
			buf += used;
			len -= used;
			continue;
		}
		struct lb_line l;
		if (linebuf_take(&p->rd.lb[dir], &buf, &len, &l) != LB_LINE)
			break;
		if (dir == DIR_TO_SERVER)
			pop3_client_line(p, &l);
		else
			pop3_server_line(p, &l);
	}
	return len;
}

/* ---- the dissector interface ----------------------------------------- */

/*
 * STLS was accepted while reading dir's bytes: the first `used` of them were
 * POP3's. What the client had sent beyond its STLS line, and any line begun,
 * is not POP3 (a client must wait for the +OK, RFC 2595 §4). The engine is
 * told where the layer beneath begins, and returns; without an engine the
 * rest is read on, as if that layer carried it unchanged.
 */
static bool pop3_hand_over(struct pop3 *p, enum dir dir, size_t used)
{
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_reset(&p->rd.lb[d]);
	p->rd.upgraded = true;
	pop3_set_wire(p, POP3_WIRE_TEXT);
	if (!p->info->handover)
		return false;
	p->info->handover(p->info->engine, dir, used);
	return true;
}

/*
 * The Kerberos preamble proved over (or absent): report its outcome, and give
 * POP3 the client bytes the walker held while deciding.
 */
static void pop3_kpop_settled(struct pop3 *p)
{
	switch (p->kpop.result) {
	case KPOP_RESULT_REFUSED:
		emit_anomaly(p->sink, ANOM_KPOP_REFUSED, DIR_TO_CLIENT, NULL, 0);
		break;
	case KPOP_RESULT_MALFORMED:
		emit_anomaly(p->sink, ANOM_KPOP_MALFORMED, DIR_TO_SERVER, NULL, 0);
		break;
	case KPOP_RESULT_NOT_KPOP:
		if (p->kpop.expected)
			emit_anomaly(p->sink, ANOM_KPOP_MISSING, DIR_TO_SERVER, NULL, 0);
		break;
	default:
		break; /* OK: pop3_kerberos() tells it from now on */
	}
	struct bytes held = kpop_held(&p->kpop);
	if (held.n)
		pop3_read(p, DIR_TO_SERVER, held.p, held.n);
}

/*
 * Feeds the preamble walker the bytes it wants of (*buf, *len), advancing
 * both past them. The outcome is settled once: when this call decided it.
 */
static void pop3_kpop_feed(struct pop3 *p, enum dir dir, const uint8_t **buf, size_t *len)
{
	size_t used = kpop_feed(&p->kpop, dir, *buf, *len);
	*buf += used;
	*len -= used;
	if (p->kpop.result != KPOP_RESULT_PENDING)
		pop3_kpop_settled(p);
}

static void pop3_data(void *st, enum dir dir, const uint8_t *buf, size_t len)
{
	struct pop3 *p = st;
	if (len == 0 || pop3_is_opaque(p))
		return;
	if (!kpop_passes(&p->kpop, dir))
		pop3_kpop_feed(p, dir, &buf, &len);
	if (len == 0 || !kpop_passes(&p->kpop, dir))
		return;
	if (p->quit && dir == DIR_TO_SERVER) {
		lp_after_quit(p->sink, ANOM_DATA_AFTER_QUIT, &p->rd.after_quit_reported);
		return;
	}
	for (;;) {
		size_t rest = pop3_read(p, dir, buf, len);
		if (p->wire != POP3_WIRE_HANDOVER || pop3_hand_over(p, dir, len - rest))
			return;
		buf += len - rest;
		len = rest;
	}
}

/*
 * Replies lost in a server-side gap. A client that has not pipelined sends a
 * command only after the previous one was answered, so every pending command
 * but the newest was answered inside the hole: they end with no reply seen.
 */
static void pop3_drop_answered(struct pop3 *p)
{
	struct pop3_replies *rp = &p->replies;
	if (rp->pipelining && (rp->queue.len > 0 || p->srv != POP3_SRV_STATUS))
		rp->misaligned = true; /* which replies the hole held cannot be known */
	if (rp->pipelining || p->login.sasl)
		return;
	const struct pop3_reply none = { POP3_ST_NONE, BYTES_NONE };
	while (rp->queue.len > 1) {
		struct lp_pending c = lpq_pop(&rp->queue);
		pop3_on_reply(p, &c, &none);
		lpq_release(&rp->queue, &c);
	}
}

/*
 * Server bytes lost. Inside a message the message goes on (what follows the
 * hole is still its data) but can no longer be complete, and the position
 * within a line is unknown: it is read line by line, and the terminator is
 * recognised only after the next LF. Elsewhere, skip to the next status line.
 */
static void pop3_server_gap(struct pop3 *p)
{
	struct pop3_replies *rp = &p->replies;
	if (p->srv == POP3_SRV_STATUS)
		pop3_drop_answered(p);
	else if (rp->pipelining)
		rp->misaligned = true;
	if (p->srv == POP3_SRV_STATUS && rp->queue.len > 0 &&
	    pop3_ml(lpq_at(&rp->queue, 0)->id) == ML_BODY) {
		/* The hole swallowed the +OK of the RETR/TOP waiting: what follows is its body. */
		struct lp_pending c = lpq_pop(&rp->queue);
		p->totals.commands++;
		const struct pop3_reply lost = { POP3_ST_OK, BYTES_NONE };
		pop3_begin_body(p, &c, &lost);
		rp->multiline_cmd = c;
	}
	if (p->srv == POP3_SRV_BODY || p->srv == POP3_SRV_BODY_BY_LINE) {
		pop3_set_srv(p, POP3_SRV_BODY_BY_LINE);
		return;
	}
	p->rd.resync[DIR_TO_CLIENT] = true;
	if (p->srv == POP3_SRV_LINES)
		pop3_end_multiline(p);
}

/*
 * Bytes lost. The server side is handled above; on the client side, skip to
 * the next known command, and keep the lost command's place in the queue.
 */
static void pop3_gap(void *st, enum dir dir, size_t missing)
{
	struct pop3 *p = st;
	lp_gap(p->sink, dir, missing);
	p->rd.gapped = true;
	if (!pop3_is_text(p))
		return;
	linebuf_reset(&p->rd.lb[dir]);
	if (dir == DIR_TO_CLIENT) {
		pop3_server_gap(p);
		return;
	}
	p->rd.resync[DIR_TO_SERVER] = true;
	if (!p->login.sasl) /* a lost command still gets its reply: keep replies matched in order */
		lpq_push(&p->replies.queue, POP3_CMD_LOST, (const uint8_t *)"", 0);
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

static void pop3_emit_session(struct pop3 *p, enum end_reason why)
{
	for (size_t i = 0; i < p->server.n_caps; i++)
		p->server.caps_view[i] = bstr_bytes(&p->server.caps[i]);
	struct event ev = { .type = EV_SESSION };
	struct ev_session *s = &ev.u.session;
	s->app_proto = p->kpop.expected ? "kpop" : "pop3";
	s->greeting = bstr_bytes(&p->server.greeting);
	s->apop_timestamp = p->server.apop_ts;
	s->capabilities = p->server.caps_view;
	s->n_capabilities = p->server.n_caps;
	s->username = bstr_bytes(&p->login.session_user);
	s->authenticated = pop3_authenticated(p);
	s->sasl_layer = p->wire == POP3_WIRE_SASL_LAYER;
	s->quit = p->quit;
	s->state = pop3_state_name(p);
	s->state_inferred = p->state_inferred;
	s->commands = p->totals.commands;
	s->messages_retrieved = p->totals.retrieved;
	s->messages_submitted = p->totals.submitted;
	struct mailbox_entry *mb = NULL;
	s->n_mailbox = maildrop_list(p->maildrop, &mb);
	s->mailbox = mb;
	s->deletions_committed = pop3_commit(p, why);
	for (size_t i = 0; i < s->n_mailbox; i++)
		s->messages_deleted += mb[i].marked && s->deletions_committed == COMMIT_YES;
	sink_emit(p->sink, &ev);
	free(mb);
}

/* Ends what is in flight, answers every waiting command with "no reply", then the summary. */
static void pop3_end(void *st, enum end_reason why)
{
	struct pop3 *p = st;
	if (p->kpop.result == KPOP_RESULT_PENDING) {
		kpop_end(&p->kpop);
		if (p->kpop.result != KPOP_RESULT_PENDING)
			pop3_kpop_settled(p);
	}
	if (p->srv == POP3_SRV_BODY || p->srv == POP3_SRV_BODY_BY_LINE || p->xmit == POP3_XMIT_BODY) {
		enum dir from = p->xmit == POP3_XMIT_BODY ? DIR_TO_SERVER : DIR_TO_CLIENT;
		emit_anomaly(p->sink, ANOM_MESSAGE_TRUNCATED, from, NULL, 0);
		pop3_body_end(p, false);
	} else if (p->srv == POP3_SRV_LINES) {
		pop3_end_multiline(p);
	}
	const struct pop3_reply none = { POP3_ST_NONE, BYTES_NONE };
	while (pop3_waiting(p) > 0) {
		struct lp_pending c = lpq_pop(&p->replies.queue);
		pop3_on_reply(p, &c, &none);
		lpq_release(&p->replies.queue, &c);
		pop3_head_changed(p);
	}
	pop3_flush_rejected_user(p);
	pop3_emit_session(p, why);
}

/*
 * calloc'd, so every state starts at its first value: GREETING, TEXT,
 * STATUS, no XTND XMIT.
 */
static void *pop3_create_any(const struct session_info *info, struct event_sink *sink, bool kpop)
{
	struct pop3 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->info = info;
	p->sink = sink;
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_init(&p->rd.lb[d], POP3_LINE_MAX);
	lpq_init(&p->replies.queue, sink, POP3_PENDING_MAX, POP3_PENDING_BYTES, ANOM_PENDING_OVERFLOW);
	kpop_init(&p->kpop, kpop, info->partial);
	if (info->partial) {
		/*
		 * Picked up mid-stream: no greeting will come, and the first bytes may
		 * be the middle of a line or of a message. Trust only a status line
		 * (server) or a known command (client); the phase is learned from
		 * replies (Zeek's guessing mode).
		 */
		pop3_set_phase(p, POP3_PH_AUTHORIZATION);
		p->state_inferred = true;
		p->rd.resync[DIR_TO_SERVER] = p->rd.resync[DIR_TO_CLIENT] = true;
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
	lpq_release(&p->replies.queue, &p->replies.multiline_cmd);
	lpq_free(&p->replies.queue);
	sasl_free(p->login.sasl);
	maildrop_free(p->maildrop);
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_free(&p->rd.lb[d]);
	bstr_free(&p->server.greeting);
	bstr_free(&p->login.user);
	bstr_free(&p->login.rejected);
	bstr_free(&p->login.session_user);
	for (size_t i = 0; p->server.caps && i < POP3_CAPA_MAX; i++)
		bstr_free(&p->server.caps[i]);
	free(p->server.caps);
	free(p->server.caps_view);
	free(p);
}

/* 995 is POP3S: TLS from the first byte (the engine reads it, docs/tls.md). */
static const uint16_t pop3_ports[] = { 110, 995, 0 };
static const uint16_t pop3s_ports[] = { 995, 0 };
static const uint16_t kpop_ports[] = { 1109, 0 };

const struct dissector pop3_dissector = {
	.name = "pop3", .ports = pop3_ports, .tls_ports = pop3s_ports, .probe = pop3_probe,
	.create = pop3_create,
	.data = pop3_data, .gap = pop3_gap, .end = pop3_end, .destroy = pop3_destroy,
};

/* KPOP (port 1109): the same dissector, expecting a Kerberos preamble first. */
const struct dissector kpop_dissector = {
	.name = "kpop", .ports = kpop_ports, .probe = kpop_probe, .create = kpop_create,
	.data = pop3_data, .gap = pop3_gap, .end = pop3_end, .destroy = pop3_destroy,
};
