/*
 * pop2.c - the POP2 dissector: RFC 937 (Post Office Protocol, version 2).
 *
 * Owns one connection's POP2 view: the RFC's server state (AUTH, MBOX, ITEM,
 * NEXT, DONE), the current folder and message number, the first-in first-out
 * queue of client commands waiting for their replies, and the server-side
 * reading mode (reply lines, or the exactly-counted octets of a message). It
 * sees bytes per direction and emits events; it knows nothing of libnids, JSON
 * or files.
 *
 * POP2 frames a message by count alone: "=ccc" announces it, and after RETR the
 * server sends exactly ccc octets with no terminator and no dot-stuffing
 * (protocol-notes §6). So the body is counted as plain bytes, never split into
 * lines, and a wrong count is caught by the line that follows: it must be a
 * reply, or the dissector resynchronises on the next one.
 */
#include <stdio.h>

#include "bstr.h"
#include "dissector.h"
#include "emit.h"
#include "linebuf.h"
#include "probe.h"

#define POP2_LINE_MAX 1024       /* longest line kept (RFC 937 "Sizes": 512 with CRLF) */
#define POP2_PENDING_MAX 64      /* pipelined commands awaiting replies */
#define POP2_PENDING_BYTES 16384 /* their bytes, all together */
#define POP2_GREETING_MAX 512
#define POP2_NAME_MAX 256        /* user name kept for the session summary */
#define POP2_FOLDERS_MAX 32      /* distinct folders listed in the summary */
#define POP2_CCC_MAX 999999999999999ULL /* larger "=ccc" counts as an overflow */

/* The RFC 937 server states, plus the time before the greeting (the RFC's LSTN). */
enum pop2_state {
	POP2_ST_GREETING,
	POP2_ST_AUTH, /* greeting seen, waiting for HELO */
	POP2_ST_MBOX, /* logged in, a folder selected */
	POP2_ST_ITEM, /* "=ccc" told the size of the current message */
	POP2_ST_NEXT, /* RETR sent the message: ACKS, ACKD or NACK must follow */
	POP2_ST_DONE, /* QUIT acknowledged */
	POP2_ST_COUNT
};

static const char *const pop2_state_names[] = {
	[POP2_ST_GREETING] = "GREETING",
	[POP2_ST_AUTH] = "AUTH",
	[POP2_ST_MBOX] = "MBOX",
	[POP2_ST_ITEM] = "ITEM",
	[POP2_ST_NEXT] = "NEXT",
	[POP2_ST_DONE] = "DONE",
};
_Static_assert(ARRAY_LEN(pop2_state_names) == POP2_ST_COUNT, "state names out of step");

/* What a server line (or the data after RETR) is, by its first character. */
enum pop2_kind {
	POP2_R_NONE,  /* not a reply, or no reply at all (end of capture) */
	POP2_R_OK,    /* "+" */
	POP2_R_ERR,   /* "-" */
	POP2_R_COUNT, /* "#nnn" */
	POP2_R_SIZE,  /* "=ccc" */
	POP2_R_DATA   /* the counted octets after RETR */
};

#define ST_BIT(s) (1u << POP2_ST_##s)

enum pop2_cmd_id {
#define POP2_CMD(id, kw, reply, allowed) POP2_CMD_##id,
#include "pop2_cmds.def"
#undef POP2_CMD
	POP2_CMD_COUNT
};

static const struct pop2_cmd_row {
	const char *keyword;
	enum pop2_kind reply;
	unsigned allowed;
} pop2_cmds[] = {
#define POP2_CMD(id, kw, reply, allowed) [POP2_CMD_##id] = { kw, reply, allowed },
#include "pop2_cmds.def"
#undef POP2_CMD
};
_Static_assert(ARRAY_LEN(pop2_cmds) == POP2_CMD_COUNT, "command table out of step");

/* How the server's bytes are read right now. */
enum pop2_srv {
	POP2_SRV_LINE, /* reply lines */
	POP2_SRV_DATA, /* the counted octets of a message: streamed, never held */
	POP2_SRV_SKIP  /* the rest of a message already ended by a gap: counted, dropped */
};

struct pop2_reply {
	enum pop2_kind kind;
	struct bytes line; /* the whole line; empty when there was no reply */
	uint64_t num;      /* the nnn or ccc */
	bool num_ok;       /* false: missing digits, junk after them, or overflow */
};

/* A client line waiting for its reply. */
struct pop2_pending {
	enum pop2_cmd_id id;
	uint8_t *line;
	size_t n;
	size_t argoff; /* where the argument starts; == n when there is none */
};

struct pop2 {
	struct event_sink *sink;
	bool partial;
	enum pop2_state state;
	enum pop2_srv srv;
	struct linebuf lb[DIR_COUNT];
	bool resync[DIR_COUNT]; /* skipping to a line that can be trusted */
	bool resync_lost;       /* ... and replies may have been lost (a gap) */
	bool expect_reply;      /* the counted octets just ended: a reply must follow */
	bool inferred;          /* the state is a guess: do not judge commands by it */
	bool after_quit_seen;

	struct pop2_pending q[POP2_PENDING_MAX];
	size_t qhead, qlen, qbytes;

	uint64_t ccc;    /* the latest "=ccc" */
	bool ccc_known;
	uint64_t left;   /* octets still to come in DATA or SKIP */
	uint32_t cur;    /* the current message number */
	bool cur_known;  /* false when picked up mid-stream: numbers are reported as 0 */
	struct bstr folder;
	struct bstr folders[POP2_FOLDERS_MAX];
	size_t n_folders;
	struct bytes folders_view[POP2_FOLDERS_MAX];

	struct bstr greeting;
	struct bstr session_user;
	bool authenticated, quit;
	uint32_t commands, retrieved, deleted;
	enum commit commit;
	uint32_t marked; /* ACKD'ed, not yet committed by FOLD or QUIT */
};

/* ---- small emitters --------------------------------------------------- */

static void pop2_set_state(struct pop2 *p, enum pop2_state st)
{
	p->state = st;
}

/* ---- argument quoting (RFC 937 "Quoting") ----------------------------- */

/*
 * Undoes the RFC's two quotes, "\ " for a space and "\\" for a backslash; any
 * other backslash stays as it is. Writes at most n bytes to out and returns
 * how many.
 */
static size_t pop2_unquote(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\\' && i + 1 < n && (in[i + 1] == ' ' || in[i + 1] == '\\'))
			i++;
		out[o++] = in[i];
	}
	return o;
}

/* Where the first unquoted space of a HELO argument is, or n when there is none. */
static size_t pop2_first_space(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		else if (s[i] == ' ')
			return i;
	}
	return n;
}

/* ---- the pending-command queue --------------------------------------- */

static struct pop2_pending *pop2_q_at(struct pop2 *p, size_t i)
{
	return &p->q[(p->qhead + i) % POP2_PENDING_MAX];
}

static const struct pop2_pending *pop2_q_peek(const struct pop2 *p, size_t i)
{
	return &p->q[(p->qhead + i) % POP2_PENDING_MAX];
}

static void pop2_pending_free(struct pop2 *p, struct pop2_pending *c)
{
	p->qbytes -= c->n;
	free(c->line);
	c->line = NULL;
	c->n = 0;
}

/* Removes the head and hands it to the caller (who frees it). */
static struct pop2_pending pop2_q_pop(struct pop2 *p)
{
	struct pop2_pending c = *pop2_q_at(p, 0);
	p->qhead = (p->qhead + 1) % POP2_PENDING_MAX;
	p->qlen--;
	return c;
}

static enum pop2_cmd_id pop2_lookup(const uint8_t *kw, size_t n)
{
	for (int i = 0; i < POP2_CMD_UNKNOWN; i++)
		if (n == strlen(pop2_cmds[i].keyword) &&
		    strncasecmp((const char *)kw, pop2_cmds[i].keyword, n) == 0)
			return (enum pop2_cmd_id)i;
	return POP2_CMD_UNKNOWN;
}

/* Queues a client line; the oldest is dropped (and reported) when full. */
static void pop2_q_push(struct pop2 *p, enum pop2_cmd_id id, const uint8_t *line, size_t n)
{
	while (p->qlen > 0 && (p->qlen == POP2_PENDING_MAX || p->qbytes + n > POP2_PENDING_BYTES)) {
		struct pop2_pending old = pop2_q_pop(p);
		emit_anomaly(p->sink, ANOM_POP2_PENDING_OVERFLOW, DIR_TO_SERVER, old.line, old.n);
		pop2_pending_free(p, &old);
	}
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return;
	memcpy(copy, line, n);
	const uint8_t *sp = memchr(line, ' ', n);
	struct pop2_pending *c = pop2_q_at(p, p->qlen);
	c->id = id;
	c->line = copy;
	c->n = n;
	c->argoff = sp ? (size_t)(sp - line) + 1 : n;
	p->qlen++;
	p->qbytes += n;
}

static struct bytes pop2_arg(const struct pop2_pending *c)
{
	return bytes_of(c->line + c->argoff, c->n - c->argoff);
}

/* ---- folders and deletions -------------------------------------------- */

/* Adds a folder to the summary's list, once, up to POP2_FOLDERS_MAX of them. */
static void pop2_visit_folder(struct pop2 *p, const uint8_t *name, size_t n)
{
	if (n > EV_FOLDER_MAX)
		n = EV_FOLDER_MAX;
	for (size_t i = 0; i < p->n_folders; i++)
		if (p->folders[i].n == n && (n == 0 || memcmp(p->folders[i].p, name, n) == 0))
			return; /* an empty name is stored as NULL: memcmp(NULL, ..., 0) is undefined */
	if (p->n_folders < POP2_FOLDERS_MAX)
		bstr_set(&p->folders[p->n_folders++], name, n, EV_FOLDER_MAX);
}

/* A folder is open (after HELO or FOLD): message 1 is current, no size known yet. */
static void pop2_open_folder(struct pop2 *p, const uint8_t *name, size_t n)
{
	bstr_set(&p->folder, name, n, EV_FOLDER_MAX);
	pop2_visit_folder(p, name, n);
	p->cur = 1;
	p->cur_known = true;
	p->ccc_known = false;
	p->inferred = false;
	pop2_set_state(p, POP2_ST_MBOX);
}

/* RFC 937: ACKD'ed messages are deleted when the folder changes or at QUIT. */
static void pop2_commit_deletions(struct pop2 *p)
{
	p->deleted += p->marked;
	p->marked = 0;
}

/* ---- replies to the commands ----------------------------------------- */

/* HELO user password: the password is the rest of the line, both unquoted. */
static void pop2_reply_helo(struct pop2 *p, struct pop2_pending *c, const struct pop2_reply *r)
{
	uint8_t user[POP2_LINE_MAX], pass[POP2_LINE_MAX];
	struct bytes arg = pop2_arg(c);
	size_t sp = pop2_first_space(arg.p, arg.n);
	struct ev_auth a = { .mechanism = "HELO" };
	a.username = bytes_of(user, pop2_unquote(arg.p, sp, user));
	if (sp < arg.n) { /* "HELO user" alone carries no secret (and is refused) */
		a.password = bytes_of(pass, pop2_unquote(arg.p + sp + 1, arg.n - sp - 1, pass));
		a.cleartext = true;
	}
	a.result = r->kind == POP2_R_COUNT ? AUTH_RESULT_SUCCESS
		   : r->kind == POP2_R_ERR ? AUTH_RESULT_FAILURE : AUTH_RESULT_UNKNOWN;
	a.reply = r->line;
	struct event ev = { .type = EV_AUTH, .u.auth = a };
	sink_emit(p->sink, &ev);
	if (r->kind != POP2_R_COUNT)
		return;
	p->authenticated = true;
	bstr_set(&p->session_user, a.username.p, a.username.n, POP2_NAME_MAX);
	p->marked = 0;
	pop2_open_folder(p, (const uint8_t *)"INBOX", 5);
}

static void pop2_reply_fold(struct pop2 *p, struct pop2_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_COUNT)
		return;
	uint8_t name[POP2_LINE_MAX];
	struct bytes arg = pop2_arg(c);
	pop2_commit_deletions(p);
	pop2_open_folder(p, name, pop2_unquote(arg.p, arg.n, name));
}

/* An "=ccc" reply: the size of the (new) current message. */
static void pop2_got_size(struct pop2 *p, const struct pop2_reply *r)
{
	p->ccc = r->num;
	p->ccc_known = r->num_ok;
	p->inferred = false;
	pop2_set_state(p, POP2_ST_ITEM);
}

/* READ n makes n current; plain READ keeps the current message. */
static void pop2_reply_read(struct pop2 *p, struct pop2_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_SIZE)
		return;
	struct bytes arg = pop2_arg(c);
	uint32_t n;
	if (arg.n && bytes_to_u32(arg.p, arg.n, &n)) {
		p->cur = n;
		p->cur_known = true;
	}
	pop2_got_size(p, r);
}

/* ACKS and ACKD advance to the next message (ACKD marks it deleted); NACK stays. */
static void pop2_reply_ack(struct pop2 *p, struct pop2_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_SIZE)
		return;
	if (c->id == POP2_CMD_ACKD)
		p->marked++;
	if (c->id != POP2_CMD_NACK)
		p->cur++;
	pop2_got_size(p, r);
}

static void pop2_reply_quit(struct pop2 *p, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_OK)
		return;
	p->quit = true;
	pop2_commit_deletions(p);
	pop2_set_state(p, POP2_ST_DONE);
}

/* Reports what is odd about command c meeting reply r; changes nothing. */
static void pop2_check_pair(struct pop2 *p, const struct pop2_pending *c, const struct pop2_reply *r)
{
	if (c->id == POP2_CMD_UNKNOWN)
		emit_anomaly(p->sink, ANOM_POP2_UNKNOWN_COMMAND, DIR_TO_SERVER, c->line, c->n);
	else if (!p->inferred && p->state != POP2_ST_GREETING &&
		 !(pop2_cmds[c->id].allowed & (1u << p->state)))
		emit_anomaly(p->sink, ANOM_POP2_OUT_OF_STATE, DIR_TO_SERVER, c->line, c->n);
	if (r->kind != POP2_R_NONE && r->kind != POP2_R_ERR && r->kind != pop2_cmds[c->id].reply)
		emit_anomaly(p->sink, ANOM_POP2_REPLY_MISMATCH, DIR_TO_CLIENT, r->line.p, r->line.n);
}

/* Dispatches a reply (kind NONE: none came) to the handler of command c. */
static void pop2_on_reply(struct pop2 *p, struct pop2_pending *c, const struct pop2_reply *r)
{
	p->commands++;
	pop2_check_pair(p, c, r);
	switch (c->id) {
	case POP2_CMD_HELO: pop2_reply_helo(p, c, r); break;
	case POP2_CMD_FOLD: pop2_reply_fold(p, c, r); break;
	case POP2_CMD_READ: pop2_reply_read(p, c, r); break;
	case POP2_CMD_ACKS:
	case POP2_CMD_ACKD:
	case POP2_CMD_NACK: pop2_reply_ack(p, c, r); break;
	case POP2_CMD_QUIT: pop2_reply_quit(p, r); break;
	default: break; /* RETR answered by a line (an error); UNKNOWN */
	}
}

static void pop2_answer_head(struct pop2 *p, const struct pop2_reply *r)
{
	struct pop2_pending c = pop2_q_pop(p);
	pop2_on_reply(p, &c, r);
	pop2_pending_free(p, &c);
}

/* ---- the message data: exactly ccc octets ------------------------------ */

/* True when the server's next bytes are the data of a RETR at the head of the queue. */
static bool pop2_data_next(const struct pop2 *p)
{
	return p->srv == POP2_SRV_LINE && !p->resync[DIR_TO_CLIENT] && p->qlen > 0 &&
	       pop2_q_peek(p, 0)->id == POP2_CMD_RETR && p->state == POP2_ST_ITEM && p->ccc_known &&
	       p->ccc > 0 && linebuf_empty(&p->lb[DIR_TO_CLIENT]);
}

static void pop2_begin_data(struct pop2 *p)
{
	struct pop2_pending c = pop2_q_pop(p);
	pop2_pending_free(p, &c);
	p->commands++;
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	ev.u.message_begin.command = "RETR";
	ev.u.message_begin.number = p->cur_known ? p->cur : 0;
	ev.u.message_begin.dir = DIR_TO_CLIENT;
	ev.u.message_begin.announced = (int64_t)p->ccc;
	ev.u.message_begin.folder = bstr_bytes(&p->folder);
	ev.u.message_begin.list_size = -1; /* POP2 has no listing */
	sink_emit(p->sink, &ev);
	p->srv = POP2_SRV_DATA;
	p->left = p->ccc;
	p->expect_reply = false;
	pop2_set_state(p, POP2_ST_NEXT);
}

static void pop2_end_data(struct pop2 *p, bool complete)
{
	struct event ev = { .type = EV_MESSAGE_END };
	ev.u.message_end.complete = complete;
	sink_emit(p->sink, &ev);
	p->retrieved++;
	p->srv = POP2_SRV_LINE;
}

/*
 * Takes up to the octets still owed in DATA or SKIP mode, streaming them in
 * DATA mode. Returns the bytes consumed. When the count is reached, the next
 * server line must be a reply (pop2_server_line checks that).
 */
static size_t pop2_count_octets(struct pop2 *p, const uint8_t *buf, size_t len)
{
	size_t k = p->left < len ? (size_t)p->left : len;
	if (p->srv == POP2_SRV_DATA) {
		struct event ev = { .type = EV_MESSAGE_DATA };
		ev.u.message_data.p = buf;
		ev.u.message_data.n = k;
		sink_emit(p->sink, &ev);
	}
	p->left -= k;
	if (p->left == 0) {
		if (p->srv == POP2_SRV_DATA)
			pop2_end_data(p, true);
		p->srv = POP2_SRV_LINE;
		p->expect_reply = true;
	}
	return k;
}

/* ---- the server side -------------------------------------------------- */

/*
 * Parses the digits of "#nnn" or "=ccc" (after the first character). Returns
 * false for no digits, junk right after them, or a number over POP2_CCC_MAX;
 * text after a space is tolerated.
 */
static bool pop2_number(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > POP2_CCC_MAX)
			return false;
	}
	*out = v;
	return i > 0 && (i == n || s[i] == ' ');
}

static void pop2_classify(const struct lb_line *l, struct pop2_reply *r)
{
	*r = (struct pop2_reply){ POP2_R_NONE, bytes_of(l->p, l->n), 0, false };
	if (l->n == 0)
		return;
	switch (l->p[0]) {
	case '+': r->kind = POP2_R_OK; break;
	case '-': r->kind = POP2_R_ERR; break;
	case '#': r->kind = POP2_R_COUNT; break;
	case '=': r->kind = POP2_R_SIZE; break;
	default: return;
	}
	if (r->kind == POP2_R_COUNT || r->kind == POP2_R_SIZE)
		r->num_ok = pop2_number(l->p + 1, l->n - 1, &r->num);
}

/*
 * A line trusted to end a resynchronisation. It must be a well-formed reply
 * ("+"/"-" alone or before a space, "#"/"=" before a digit), so message text
 * such as "-- Bob" or "=?utf-8?..." does not qualify. And a command must be
 * waiting for a line: the bytes a wrong count leaves over arrive before the
 * client's next command (the server sends them right after the data), and
 * while the command answered would be a RETR the server is sending text. That
 * command is the head, or after lost bytes the newest (pop2_drop_lost_replies).
 */
static bool pop2_is_anchor(const struct pop2 *p, const struct pop2_reply *r)
{
	const struct bytes *l = &r->line;
	if (p->qlen == 0 || r->kind == POP2_R_NONE)
		return false;
	const struct pop2_pending *c = pop2_q_peek(p, p->resync_lost ? p->qlen - 1 : 0);
	if (pop2_cmds[c->id].reply == POP2_R_DATA)
		return false;
	if (r->kind == POP2_R_OK || r->kind == POP2_R_ERR)
		return l->n == 1 || l->p[1] == ' ';
	return l->n > 1 && l->p[1] >= '0' && l->p[1] <= '9';
}

/*
 * After a gap in the server's bytes, the replies to the older queued commands
 * may have been lost. POP2 clients wait for each reply, so the reply that ends
 * the resynchronisation answers the newest command that can take it; the
 * older ones are closed as unanswered.
 */
static void pop2_drop_lost_replies(struct pop2 *p, enum pop2_kind kind)
{
	size_t keep = 0;
	for (size_t i = p->qlen; i-- > 0;) {
		if (kind == POP2_R_ERR || pop2_cmds[pop2_q_at(p, i)->id].reply == kind) {
			keep = i;
			break;
		}
	}
	const struct pop2_reply none = { POP2_R_NONE, BYTES_NONE, 0, false };
	while (keep-- > 0)
		pop2_answer_head(p, &none);
}

/*
 * The first server line. Returns true when it was the greeting; false when it
 * must be read as a reply (the capture lacks the greeting) or skipped. A "+"
 * line is the greeting even when the client spoke first; a "-" one only when
 * no command waits, since it would otherwise refuse that command.
 */
static bool pop2_greeting(struct pop2 *p, const struct pop2_reply *r)
{
	bool greeting_like = r->kind == POP2_R_OK || (r->kind == POP2_R_ERR && p->qlen == 0);
	if (p->resync[DIR_TO_CLIENT]) /* picked up mid-stream: a greeting must say so */
		greeting_like = r->kind == POP2_R_OK && memmem_ci(r->line.p, r->line.n, "POP");
	if (greeting_like) {
		bstr_set(&p->greeting, r->line.p, r->line.n, POP2_GREETING_MAX);
		if (r->kind == POP2_R_ERR)
			emit_anomaly(p->sink, ANOM_POP2_GREETING_NEGATIVE, DIR_TO_CLIENT, r->line.p, r->line.n);
		/* The connection's start after all: the state is known from here. */
		p->resync[DIR_TO_CLIENT] = p->resync_lost = p->inferred = false;
		pop2_set_state(p, POP2_ST_AUTH);
		return true;
	}
	if (r->kind == POP2_R_NONE || (p->resync[DIR_TO_CLIENT] && !pop2_is_anchor(p, r)))
		return false;
	if (!p->partial)
		emit_anomaly(p->sink, ANOM_POP2_GREETING_MISSING, DIR_TO_CLIENT, r->line.p, r->line.n);
	p->inferred = true;
	pop2_set_state(p, POP2_ST_AUTH);
	return false;
}

/*
 * Decides whether a line may be read as a reply now. Returns false when it is
 * skipped: while resynchronising, until an anchor line; and right after the
 * counted octets, where anything but an anchor means the count was wrong.
 */
static bool pop2_in_sync(struct pop2 *p, const struct pop2_reply *r)
{
	if (p->expect_reply) {
		p->expect_reply = false;
		if (!pop2_is_anchor(p, r)) {
			emit_anomaly(p->sink, ANOM_POP2_COUNT_MISMATCH, DIR_TO_CLIENT, r->line.p, r->line.n);
			p->resync[DIR_TO_CLIENT] = true;
			return false;
		}
	}
	if (!p->resync[DIR_TO_CLIENT])
		return true;
	if (!pop2_is_anchor(p, r))
		return false;
	p->resync[DIR_TO_CLIENT] = false;
	if (p->resync_lost)
		pop2_drop_lost_replies(p, r->kind);
	p->resync_lost = false;
	return true;
}

static void pop2_server_line(struct pop2 *p, const struct lb_line *l)
{
	struct pop2_reply r;
	pop2_classify(l, &r);
	if (p->state == POP2_ST_GREETING && pop2_greeting(p, &r))
		return;
	if (!pop2_in_sync(p, &r))
		return;
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_POP2_LINE_TOO_LONG_SERVER, DIR_TO_CLIENT, l->p, l->n);
	if (r.kind == POP2_R_NONE) {
		emit_anomaly(p->sink, ANOM_POP2_INVALID_REPLY, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	if ((r.kind == POP2_R_COUNT || r.kind == POP2_R_SIZE) && !r.num_ok)
		emit_anomaly(p->sink, ANOM_POP2_MALFORMED_COUNT, DIR_TO_CLIENT, l->p, l->n);
	if (p->qlen == 0) {
		emit_anomaly(p->sink, ANOM_POP2_UNEXPECTED_REPLY, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	pop2_answer_head(p, &r);
}

static void pop2_server_data(struct pop2 *p, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		if (pop2_data_next(p))
			pop2_begin_data(p);
		if (p->srv != POP2_SRV_LINE) {
			size_t used = pop2_count_octets(p, buf, len);
			buf += used;
			len -= used;
			continue;
		}
		struct lb_line l;
		if (linebuf_take(&p->lb[DIR_TO_CLIENT], &buf, &len, &l) != LB_LINE)
			break;
		pop2_server_line(p, &l);
	}
}

/* ---- the client side -------------------------------------------------- */

static void pop2_client_line(struct pop2 *p, const struct lb_line *l)
{
	const uint8_t *sp = memchr(l->p, ' ', l->n);
	enum pop2_cmd_id id = pop2_lookup(l->p, sp ? (size_t)(sp - l->p) : l->n);
	if (p->resync[DIR_TO_SERVER]) {
		/* After a gap the first line is likely the tail of a lost one. */
		p->resync[DIR_TO_SERVER] = false;
		if (id == POP2_CMD_UNKNOWN)
			return;
	}
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_POP2_LINE_TOO_LONG_CLIENT, DIR_TO_SERVER, l->p, l->n);
	pop2_q_push(p, id, l->p, l->n);
}

static void pop2_client_data(struct pop2 *p, const uint8_t *buf, size_t len)
{
	if (p->quit) {
		if (!p->after_quit_seen) /* once: a count per chunk would depend on chunking */
			emit_anomaly(p->sink, ANOM_POP2_DATA_AFTER_QUIT, DIR_TO_SERVER, NULL, 0);
		p->after_quit_seen = true;
		return;
	}
	while (len > 0) {
		struct lb_line l;
		if (linebuf_take(&p->lb[DIR_TO_SERVER], &buf, &len, &l) != LB_LINE)
			break;
		pop2_client_line(p, &l);
	}
}

/* ---- the dissector interface ----------------------------------------- */

static void pop2_data(void *st, enum dir dir, const uint8_t *buf, size_t len)
{
	struct pop2 *p = st;
	if (len == 0)
		return;
	if (dir == DIR_TO_SERVER)
		pop2_client_data(p, buf, len);
	else
		pop2_server_data(p, buf, len);
}

/*
 * Server bytes lost. A message in flight ends incomplete; when the gap lies
 * within it, the rest of its count is still skipped exactly, so framing holds.
 * Otherwise the dissector resynchronises on the next trustworthy reply.
 */
static void pop2_server_gap(struct pop2 *p, size_t missing)
{
	if (pop2_data_next(p)) /* the gap swallowed the start of the data */
		pop2_begin_data(p);
	bool counting = p->srv != POP2_SRV_LINE;
	if (p->srv == POP2_SRV_DATA)
		pop2_end_data(p, false);
	p->expect_reply = false;
	if (counting && p->left >= missing) {
		p->left -= missing;
		p->srv = p->left ? POP2_SRV_SKIP : POP2_SRV_LINE;
		p->expect_reply = p->left == 0;
		return;
	}
	p->srv = POP2_SRV_LINE;
	p->left = 0;
	p->resync[DIR_TO_CLIENT] = true;
	p->resync_lost = true;
	p->inferred = true;
}

static void pop2_gap(void *st, enum dir dir, size_t missing)
{
	struct pop2 *p = st;
	char sample[32];
	int n = snprintf(sample, sizeof(sample), "%zu bytes", missing);
	emit_anomaly(p->sink, ANOM_GAP, dir, (const uint8_t *)sample, (size_t)n);
	linebuf_reset(&p->lb[dir]);
	if (dir == DIR_TO_CLIENT) {
		pop2_server_gap(p, missing);
		return;
	}
	/* Commands may be lost: replies can no longer be judged against the state. */
	p->resync[DIR_TO_SERVER] = true;
	p->inferred = true;
}

static void pop2_emit_session(struct pop2 *p)
{
	for (size_t i = 0; i < p->n_folders; i++)
		p->folders_view[i] = bstr_bytes(&p->folders[i]);
	struct event ev = { .type = EV_SESSION };
	struct ev_session *s = &ev.u.session;
	s->app_proto = "pop2";
	s->greeting = bstr_bytes(&p->greeting);
	s->folders = p->folders_view;
	s->n_folders = p->n_folders;
	s->username = bstr_bytes(&p->session_user);
	s->authenticated = p->authenticated;
	s->quit = p->quit;
	s->state = pop2_state_names[p->state];
	s->commands = p->commands;
	s->messages_retrieved = p->retrieved;
	s->messages_deleted = p->deleted;
	s->deletions_committed = p->commit;
	sink_emit(p->sink, &ev);
}

/* Flushes a message in flight and unanswered commands, then the summary. */
static void pop2_end(void *st, enum end_reason why)
{
	struct pop2 *p = st;
	/*
	 * Deletion truth (RFC 937): ACKD marks apply at FOLD or at QUIT's "+". Marks
	 * still pending when the connection drops are void; when the capture ends
	 * first, unknown. With no marks ever, the answer is simply whether any
	 * deletion was applied.
	 */
	if (p->marked && !p->quit)
		p->commit = why == END_CAPTURE_END ? COMMIT_UNKNOWN : COMMIT_NO;
	else
		p->commit = p->deleted ? COMMIT_YES : COMMIT_NO;
	if (p->srv == POP2_SRV_DATA) {
		emit_anomaly(p->sink, ANOM_POP2_MESSAGE_TRUNCATED, DIR_TO_CLIENT, NULL, 0);
		pop2_end_data(p, false);
	}
	const struct pop2_reply none = { POP2_R_NONE, BYTES_NONE, 0, false };
	while (p->qlen > 0)
		pop2_answer_head(p, &none);
	pop2_emit_session(p);
}

static void *pop2_create(const struct session_info *info, struct event_sink *sink)
{
	struct pop2 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sink = sink;
	p->state = POP2_ST_GREETING;
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_init(&p->lb[d], POP2_LINE_MAX);
	if (info && info->partial) {
		/* Picked up mid-stream: neither side's first bytes can be trusted. */
		p->partial = p->inferred = p->resync_lost = true;
		p->resync[DIR_TO_SERVER] = p->resync[DIR_TO_CLIENT] = true;
	}
	return p;
}

static void pop2_destroy(void *st)
{
	struct pop2 *p = st;
	if (!p)
		return;
	while (p->qlen > 0) {
		struct pop2_pending c = pop2_q_pop(p);
		pop2_pending_free(p, &c);
	}
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_free(&p->lb[d]);
	bstr_free(&p->greeting);
	bstr_free(&p->session_user);
	bstr_free(&p->folder);
	for (size_t i = 0; i < POP2_FOLDERS_MAX; i++)
		bstr_free(&p->folders[i]);
	free(p);
}

static const uint16_t pop2_ports[] = { 109, 0 };

const struct dissector pop2_dissector = {
	.name = "pop2",
	.ports = pop2_ports,
	.probe = pop2_probe,
	.create = pop2_create,
	.data = pop2_data,
	.gap = pop2_gap,
	.end = pop2_end,
	.destroy = pop2_destroy,
};
