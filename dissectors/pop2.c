/*
 * pop2.c - the POP2 dissector: RFC 937 (Post Office Protocol, version 2).
 *
 * Owns one connection's POP2 view: the RFC's server state (AUTH, MBOX, ITEM,
 * NEXT, DONE), how the server's bytes are read (reply lines, or the
 * exactly-counted octets of a message), whether the server's lines can be
 * matched to the commands, and where the session stands in the maildrop
 * (folder, message number, size). Each state variable has one setter
 * (pop2_set_*), traced under POPSIFT_TRACE (trace.h). The queue of client
 * commands waiting for their replies is lineproto.c's. It sees bytes per
 * direction and emits events; it knows nothing of libnids, JSON or files.
 *
 * POP2 frames a message by count alone: "=ccc" announces it, and after RETR the
 * server sends exactly ccc octets with no terminator and no dot-stuffing
 * (docs/protocol.md §6). So the body is counted as plain bytes, never split
 * into lines, and a wrong count is caught by the line that follows: it must be
 * a reply, or the dissector resynchronises on the next one.
 */
#include "bstr.h"
#include "dissector.h"
#include "linebuf.h"
#include "lineproto.h"
#include "probe.h"
#include "trace.h"

#define POP2_LINE_MAX 1024       /* longest line kept (RFC 937 "Sizes": 512 with CRLF) */
#define POP2_PENDING_MAX 64      /* pipelined commands awaiting replies */
#define POP2_PENDING_BYTES 16384 /* their bytes, all together */
#define POP2_GREETING_MAX 512
#define POP2_NAME_MAX 256        /* user name kept for the session summary */
#define POP2_FOLDERS_MAX 32      /* distinct folders listed in the summary */
#define POP2_MARKS_MAX 1024      /* ACKD'ed messages listed in the summary; more are counted only */
#define POP2_CCC_MAX 999999999999999ULL /* larger "=ccc" counts as an overflow */

/* The state variables and their traced names; pop2_states.def says what each value means. */
#include "pop2_states.def"
STATE_ENUM(pop2_state, POP2_STATES, POP2_ST_COUNT);
STATE_ENUM(pop2_srv, POP2_SRV_MODES, POP2_SRV_COUNT);
STATE_ENUM(pop2_sync, POP2_SYNCS, POP2_SYNC_COUNT);

/*
 * What a server line (or the data after RETR) is, by its first character:
 * "+" OK, "-" ERR, "#nnn" COUNT, "=ccc" SIZE; DATA is the counted octets after
 * RETR; NONE is not a reply, or no reply at all (the end of the capture).
 */
enum pop2_kind { POP2_R_NONE, POP2_R_OK, POP2_R_ERR, POP2_R_COUNT, POP2_R_SIZE, POP2_R_DATA };

enum pop2_cmd_id {
#define POP2_CMD(id, kw, reply, allowed) POP2_CMD_##id,
#include "pop2_cmds.def"
#undef POP2_CMD
	POP2_CMD_COUNT
};

#define ST_BIT(s) (1u << POP2_ST_##s)

static const struct lp_cmd pop2_cmds[] = {
#define POP2_CMD(id, kw, reply, allowed) [POP2_CMD_##id] = { kw, reply, allowed },
#include "pop2_cmds.def"
#undef POP2_CMD
};
_Static_assert(ARRAY_LEN(pop2_cmds) == POP2_CMD_COUNT, "command table out of step");

struct pop2_reply {
	enum pop2_kind kind;
	struct bytes line; /* the whole line; empty when there was no reply */
	uint64_t num;      /* the nnn or ccc */
	bool num_ok;       /* false: missing digits, junk after them, or overflow */
};

struct pop2 {
	struct event_sink *sink;
	bool partial; /* picked up mid-stream */

	/* The state, each changed by its setter only. */
	enum pop2_state state;
	enum pop2_srv srv;
	enum pop2_sync sync;
	bool inferred;        /* the state is a guess: do not judge commands by it */
	bool quit;            /* the client's QUIT was acknowledged */

	struct pop2_reader {  /* bytes into lines and counted octets */
		struct linebuf lb[DIR_COUNT];
		bool client_resync; /* after a gap: the client's first line is likely a lost one's tail */
		bool after_quit_reported;
		uint64_t left;      /* octets still to come in DATA or SKIP */
	} rd;

	struct lp_queue queue; /* client commands waiting for their replies */

	struct pop2_maildrop { /* where the session stands in the mailbox */
		int64_t size;          /* the current message's, from the latest "=ccc"; -1 unknown */
		uint32_t msg_number;   /* the current message */
		bool msg_number_known; /* false when picked up mid-stream: reported as 0 */
		struct bstr folder;
		struct bstr folders[POP2_FOLDERS_MAX];
		struct bytes folders_view[POP2_FOLDERS_MAX];
		size_t n_folders;
		uint32_t marked;       /* ACKD'ed, not yet committed by FOLD or QUIT */
		/* every ACKD'ed message, for the summary: its folder (index in folders[]) and number */
		struct pop2_mark { uint32_t number; uint8_t folder; bool has_folder; } *marks;
		size_t n_marks;
	} box;

	struct bstr greeting;
	struct bstr session_user;
	bool authenticated;
	struct pop2_totals {
		uint32_t commands, retrieved, deleted;
	} totals;
};

/* ---- the state and its setters --------------------------------------- */

/* pop2_set_state() and the like: the one place each state variable changes. */
STATE_SETTER(pop2_set_state, struct pop2, state, enum pop2_state, "pop2 state", pop2_state_names)
STATE_SETTER(pop2_set_srv, struct pop2, srv, enum pop2_srv, "pop2 server reading", pop2_srv_names)
STATE_SETTER(pop2_set_sync, struct pop2, sync, enum pop2_sync, "pop2 sync", pop2_sync_names)

/* What answers command id when the server accepts it. */
static enum pop2_kind pop2_reply_of(int id)
{
	return (enum pop2_kind)pop2_cmds[id].reply;
}

/* True while the server's bytes are counted octets, not lines. */
static bool pop2_counting(const struct pop2 *p)
{
	return p->srv == POP2_SRV_DATA || p->srv == POP2_SRV_SKIP;
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

/* ---- folders and deletions -------------------------------------------- */

/* Adds a folder to the summary's list, once, up to POP2_FOLDERS_MAX of them. */
static void pop2_visit_folder(struct pop2 *p, const uint8_t *name, size_t n)
{
	struct pop2_maildrop *b = &p->box;
	if (n > EV_FOLDER_MAX)
		n = EV_FOLDER_MAX;
	for (size_t i = 0; i < b->n_folders; i++)
		if (b->folders[i].n == n && (n == 0 || memcmp(b->folders[i].p, name, n) == 0))
			return; /* an empty name is stored as NULL: memcmp(NULL, ..., 0) is undefined */
	if (b->n_folders < POP2_FOLDERS_MAX)
		bstr_set(&b->folders[b->n_folders++], name, n, EV_FOLDER_MAX);
}

/* A folder is open (after HELO or FOLD): message 1 is current, no size known yet. */
static void pop2_open_folder(struct pop2 *p, const uint8_t *name, size_t n)
{
	bstr_set(&p->box.folder, name, n, EV_FOLDER_MAX);
	pop2_visit_folder(p, name, n);
	p->box.msg_number = 1;
	p->box.msg_number_known = true;
	p->box.size = -1;
	p->inferred = false;
	pop2_set_state(p, POP2_ST_MBOX);
}

/*
 * Remembers an ACKD'ed message, the current one, for the summary's
 * marked_for_deletion (POP2 has no uid: the folder and number name it). The
 * folder is an index in the visited list, which holds every folder opened
 * unless there were more than POP2_FOLDERS_MAX.
 */
static void pop2_note_mark(struct pop2 *p)
{
	struct pop2_maildrop *b = &p->box;
	if (!b->msg_number_known || b->n_marks >= POP2_MARKS_MAX)
		return;
	if (!b->marks && !(b->marks = calloc(POP2_MARKS_MAX, sizeof(*b->marks))))
		return;
	struct pop2_mark *m = &b->marks[b->n_marks++];
	*m = (struct pop2_mark){ .number = b->msg_number };
	for (size_t i = 0; i < b->n_folders; i++) {
		if (b->folders[i].n == b->folder.n &&
		    (b->folder.n == 0 || memcmp(b->folders[i].p, b->folder.p, b->folder.n) == 0)) {
			m->folder = (uint8_t)i;
			m->has_folder = true;
			break;
		}
	}
}

/* RFC 937: ACKD'ed messages are deleted when the folder changes or at QUIT. */
static void pop2_commit_deletions(struct pop2 *p)
{
	p->totals.deleted += p->box.marked;
	p->box.marked = 0;
}

/* ---- replies to the commands ----------------------------------------- */

/* HELO user password: the password is the rest of the line, both unquoted. */
static void pop2_reply_helo(struct pop2 *p, struct lp_pending *c, const struct pop2_reply *r)
{
	uint8_t user[POP2_LINE_MAX], pass[POP2_LINE_MAX];
	struct bytes arg = lp_arg(c);
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
	/* The session's username: the name tried, until a login succeeds (then that one). */
	if (!p->authenticated && a.username.n)
		bstr_set(&p->session_user, a.username.p, a.username.n, POP2_NAME_MAX);
	if (r->kind != POP2_R_COUNT)
		return;
	p->authenticated = true;
	p->box.marked = 0;
	pop2_open_folder(p, (const uint8_t *)"INBOX", 5);
}

static void pop2_reply_fold(struct pop2 *p, struct lp_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_COUNT)
		return;
	uint8_t name[POP2_LINE_MAX];
	struct bytes arg = lp_arg(c);
	pop2_commit_deletions(p);
	pop2_open_folder(p, name, pop2_unquote(arg.p, arg.n, name));
}

/* An "=ccc" reply: the size of the (new) current message. */
static void pop2_got_size(struct pop2 *p, const struct pop2_reply *r)
{
	p->box.size = r->num_ok ? (int64_t)r->num : -1;
	p->inferred = false;
	pop2_set_state(p, POP2_ST_ITEM);
}

/* READ n makes n current; plain READ keeps the current message. */
static void pop2_reply_read(struct pop2 *p, struct lp_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_SIZE)
		return;
	struct bytes arg = lp_arg(c);
	uint32_t n;
	if (arg.n && bytes_to_u32(arg.p, arg.n, &n)) {
		p->box.msg_number = n;
		p->box.msg_number_known = true;
	}
	pop2_got_size(p, r);
}

/* ACKS and ACKD advance to the next message (ACKD marks it deleted); NACK stays. */
static void pop2_reply_ack(struct pop2 *p, struct lp_pending *c, const struct pop2_reply *r)
{
	if (r->kind != POP2_R_SIZE)
		return;
	if (c->id == POP2_CMD_ACKD) {
		p->box.marked++;
		pop2_note_mark(p);
	}
	if (c->id != POP2_CMD_NACK)
		p->box.msg_number++;
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
static void pop2_check_pair(struct pop2 *p, const struct lp_pending *c, const struct pop2_reply *r)
{
	if (c->id == POP2_CMD_UNKNOWN)
		emit_anomaly(p->sink, ANOM_POP2_UNKNOWN_COMMAND, DIR_TO_SERVER, c->line, c->n);
	else if (!p->inferred && p->state != POP2_ST_GREETING &&
		 !(pop2_cmds[c->id].flags & (1u << p->state)))
		emit_anomaly(p->sink, ANOM_POP2_OUT_OF_STATE, DIR_TO_SERVER, c->line, c->n);
	if (r->kind != POP2_R_NONE && r->kind != POP2_R_ERR && r->kind != pop2_reply_of(c->id))
		emit_anomaly(p->sink, ANOM_POP2_REPLY_MISMATCH, DIR_TO_CLIENT, r->line.p, r->line.n);
}

/*
 * --transactions: the request, with HELO's password marked as the secret, and
 * its reply. A RETR answered by the message itself has no reply line: its
 * result is success. Sent (and reply NONE): unknown.
 */
static void pop2_emit_command(struct pop2 *p, const struct lp_pending *c, const struct pop2_reply *r)
{
	struct event ev = { .type = EV_COMMAND };
	struct ev_command *x = &ev.u.command;
	x->request = bytes_of(c->line, c->n);
	x->secret_at = SIZE_MAX;
	if (c->id == POP2_CMD_HELO) {
		struct bytes arg = lp_arg(c);
		size_t sp = pop2_first_space(arg.p, arg.n);
		if (sp < arg.n)
			x->secret_at = c->argoff + sp + 1;
	}
	x->reply = r->kind == POP2_R_DATA ? BYTES_NONE : r->line;
	x->result = r->kind == POP2_R_NONE ? AUTH_RESULT_UNKNOWN
		    : r->kind == POP2_R_ERR ? AUTH_RESULT_FAILURE : AUTH_RESULT_SUCCESS;
	sink_emit(p->sink, &ev);
}

/* Dispatches a reply (kind NONE: none came) to the handler of command c. */
static void pop2_on_reply(struct pop2 *p, struct lp_pending *c, const struct pop2_reply *r)
{
	p->totals.commands++;
	pop2_emit_command(p, c, r);
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
	struct lp_pending c = lpq_pop(&p->queue);
	pop2_on_reply(p, &c, r);
	lpq_release(&p->queue, &c);
}

/* ---- the message data: exactly ccc octets ------------------------------ */

/* True when the server's next bytes are the data of a RETR at the head of the queue. */
static bool pop2_data_next(const struct pop2 *p)
{
	return p->srv == POP2_SRV_LINE && p->sync == POP2_SYNC_OK && p->queue.len > 0 &&
	       lpq_at(&p->queue, 0)->id == POP2_CMD_RETR && p->state == POP2_ST_ITEM &&
	       p->box.size > 0 && linebuf_empty(&p->rd.lb[DIR_TO_CLIENT]);
}

static void pop2_begin_data(struct pop2 *p)
{
	struct lp_pending c = lpq_pop(&p->queue);
	const struct pop2_reply data = { POP2_R_DATA, BYTES_NONE, 0, false };
	pop2_emit_command(p, &c, &data);
	lpq_release(&p->queue, &c);
	p->totals.commands++;
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	ev.u.message_begin.command = "RETR";
	ev.u.message_begin.number = p->box.msg_number_known ? p->box.msg_number : 0;
	ev.u.message_begin.dir = DIR_TO_CLIENT;
	ev.u.message_begin.announced = p->box.size;
	ev.u.message_begin.folder = bstr_bytes(&p->box.folder);
	ev.u.message_begin.list_size = -1; /* POP2 has no listing */
	sink_emit(p->sink, &ev);
	pop2_set_srv(p, POP2_SRV_DATA);
	p->rd.left = (uint64_t)p->box.size;
	pop2_set_state(p, POP2_ST_NEXT);
}

static void pop2_end_data(struct pop2 *p, bool complete)
{
	emit_message_end(p->sink, complete);
	p->totals.retrieved++;
	pop2_set_srv(p, POP2_SRV_LINE);
}

/*
 * Takes up to the octets still owed in DATA or SKIP mode, streaming them in
 * DATA mode. Returns the bytes consumed. When the count is reached, the next
 * server line must be a reply (pop2_line_fate checks that).
 */
static size_t pop2_count_octets(struct pop2 *p, const uint8_t *buf, size_t len)
{
	size_t k = p->rd.left < len ? (size_t)p->rd.left : len;
	if (p->srv == POP2_SRV_DATA)
		emit_message_data(p->sink, buf, k);
	p->rd.left -= k;
	if (p->rd.left == 0) {
		if (p->srv == POP2_SRV_DATA)
			pop2_end_data(p, true);
		pop2_set_srv(p, POP2_SRV_REPLY_DUE);
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
	if (p->queue.len == 0 || r->kind == POP2_R_NONE)
		return false;
	size_t i = p->sync == POP2_SYNC_SEEK_LOST ? p->queue.len - 1 : 0;
	if (pop2_reply_of(lpq_at(&p->queue, i)->id) == POP2_R_DATA)
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
	for (size_t i = p->queue.len; i-- > 0;) {
		if (kind == POP2_R_ERR || pop2_reply_of(lpq_at(&p->queue, i)->id) == kind) {
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
	bool seeking = p->sync != POP2_SYNC_OK;
	bool greeting_like = r->kind == POP2_R_OK || (r->kind == POP2_R_ERR && p->queue.len == 0);
	if (seeking) /* picked up mid-stream: a greeting must say so */
		greeting_like = r->kind == POP2_R_OK && memmem_ci(r->line.p, r->line.n, "POP");
	if (greeting_like) {
		bstr_set(&p->greeting, r->line.p, r->line.n, POP2_GREETING_MAX);
		if (r->kind == POP2_R_ERR)
			emit_anomaly(p->sink, ANOM_POP2_GREETING_NEGATIVE, DIR_TO_CLIENT, r->line.p, r->line.n);
		/* The connection's start after all: the state is known from here. */
		pop2_set_sync(p, POP2_SYNC_OK);
		p->inferred = false;
		pop2_set_state(p, POP2_ST_AUTH);
		return true;
	}
	if (r->kind == POP2_R_NONE || (seeking && !pop2_is_anchor(p, r)))
		return false;
	if (!p->partial)
		emit_anomaly(p->sink, ANOM_POP2_GREETING_MISSING, DIR_TO_CLIENT, r->line.p, r->line.n);
	p->inferred = true;
	pop2_set_state(p, POP2_ST_AUTH);
	return false;
}

/* What a server line is to the reader, decided without changing anything. */
enum pop2_line_fate {
	POP2_LINE_READ,        /* in step: read it as a reply */
	POP2_LINE_SKIP,        /* resynchronising, and this line cannot be trusted */
	POP2_LINE_RESYNCED,    /* the anchor that ends a resynchronisation */
	POP2_LINE_WRONG_COUNT  /* right after the counted octets, not a reply: the count was wrong */
};

/*
 * While resynchronising a line is skipped until an anchor; right after the
 * counted octets, anything but an anchor means the count was wrong.
 */
static enum pop2_line_fate pop2_line_fate(const struct pop2 *p, const struct pop2_reply *r)
{
	bool anchor = pop2_is_anchor(p, r);
	if (p->srv == POP2_SRV_REPLY_DUE && !anchor)
		return POP2_LINE_WRONG_COUNT;
	if (p->sync == POP2_SYNC_OK)
		return POP2_LINE_READ;
	return anchor ? POP2_LINE_RESYNCED : POP2_LINE_SKIP;
}

/* Acts on a line's fate; returns true when the line is to be read as a reply. */
static bool pop2_accept_line(struct pop2 *p, const struct pop2_reply *r)
{
	enum pop2_line_fate fate = pop2_line_fate(p, r);
	if (p->srv == POP2_SRV_REPLY_DUE)
		pop2_set_srv(p, POP2_SRV_LINE);
	switch (fate) {
	case POP2_LINE_WRONG_COUNT:
		emit_anomaly(p->sink, ANOM_POP2_COUNT_MISMATCH, DIR_TO_CLIENT, r->line.p, r->line.n);
		pop2_set_sync(p, POP2_SYNC_SEEK);
		return false;
	case POP2_LINE_SKIP:
		return false;
	case POP2_LINE_RESYNCED: {
		bool lost = p->sync == POP2_SYNC_SEEK_LOST;
		pop2_set_sync(p, POP2_SYNC_OK);
		if (lost)
			pop2_drop_lost_replies(p, r->kind);
		return true;
	}
	case POP2_LINE_READ:
		break;
	}
	return true;
}

static void pop2_server_line(struct pop2 *p, const struct lb_line *l)
{
	struct pop2_reply r;
	pop2_classify(l, &r);
	if (p->state == POP2_ST_GREETING && pop2_greeting(p, &r))
		return;
	if (!pop2_accept_line(p, &r))
		return;
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_POP2_LINE_TOO_LONG_SERVER, DIR_TO_CLIENT, l->p, l->n);
	if (r.kind == POP2_R_NONE) {
		emit_anomaly(p->sink, ANOM_POP2_INVALID_REPLY, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	if ((r.kind == POP2_R_COUNT || r.kind == POP2_R_SIZE) && !r.num_ok)
		emit_anomaly(p->sink, ANOM_POP2_MALFORMED_COUNT, DIR_TO_CLIENT, l->p, l->n);
	if (p->queue.len == 0) {
		emit_anomaly(p->sink, ANOM_POP2_UNEXPECTED_REPLY, DIR_TO_CLIENT, l->p, l->n);
		return;
	}
	pop2_answer_head(p, &r);
}

/* The server's bytes: the counted octets of a message, or lines. */
static void pop2_server_data(struct pop2 *p, const uint8_t *buf, size_t len)
{
	struct lb_line l;
	while (len > 0) {
		if (pop2_data_next(p))
			pop2_begin_data(p);
		if (!pop2_counting(p)) {
			if (linebuf_take(&p->rd.lb[DIR_TO_CLIENT], &buf, &len, &l) != LB_LINE)
				return;
			pop2_server_line(p, &l);
			continue;
		}
		size_t used = pop2_count_octets(p, buf, len);
		buf += used;
		len -= used;
	}
}

/* ---- the client side -------------------------------------------------- */

static void pop2_client_line(struct pop2 *p, const struct lb_line *l)
{
	enum pop2_cmd_id id = (enum pop2_cmd_id)lp_command(pop2_cmds, POP2_CMD_UNKNOWN, l->p, l->n);
	if (p->rd.client_resync) {
		/* After a gap the first line is likely the tail of a lost one. */
		p->rd.client_resync = false;
		if (id == POP2_CMD_UNKNOWN)
			return;
	}
	if (l->truncated)
		emit_anomaly(p->sink, ANOM_POP2_LINE_TOO_LONG_CLIENT, DIR_TO_SERVER, l->p, l->n);
	lpq_push(&p->queue, id, l->p, l->n);
}

static void pop2_client_data(struct pop2 *p, const uint8_t *buf, size_t len)
{
	if (p->quit) {
		lp_after_quit(p->sink, ANOM_POP2_DATA_AFTER_QUIT, &p->rd.after_quit_reported);
		return;
	}
	while (len > 0) {
		struct lb_line l;
		if (linebuf_take(&p->rd.lb[DIR_TO_SERVER], &buf, &len, &l) != LB_LINE)
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
	bool counting = pop2_counting(p);
	if (p->srv == POP2_SRV_DATA)
		pop2_end_data(p, false);
	if (counting && p->rd.left >= missing) {
		p->rd.left -= missing;
		pop2_set_srv(p, p->rd.left ? POP2_SRV_SKIP : POP2_SRV_REPLY_DUE);
		return;
	}
	pop2_set_srv(p, POP2_SRV_LINE);
	p->rd.left = 0;
	pop2_set_sync(p, POP2_SYNC_SEEK_LOST);
	p->inferred = true;
}

static void pop2_gap(void *st, enum dir dir, size_t missing)
{
	struct pop2 *p = st;
	lp_gap(p->sink, dir, missing);
	linebuf_reset(&p->rd.lb[dir]);
	if (dir == DIR_TO_CLIENT) {
		pop2_server_gap(p, missing);
		return;
	}
	/* Commands may be lost: replies can no longer be judged against the state. */
	p->rd.client_resync = true;
	p->inferred = true;
}

/* The summary's marked_for_deletion: every ACKD'ed message, by folder and number. */
static struct mailbox_entry *pop2_marked_entries(const struct pop2_maildrop *b)
{
	struct mailbox_entry *e = b->n_marks ? calloc(b->n_marks, sizeof(*e)) : NULL;
	for (size_t i = 0; e && i < b->n_marks; i++) {
		const struct pop2_mark *m = &b->marks[i];
		e[i] = (struct mailbox_entry){ .number = m->number, .size = -1, .marked = true,
					       .folder = m->has_folder ? b->folders_view[m->folder]
								       : BYTES_NONE };
	}
	return e;
}

static void pop2_emit_session(struct pop2 *p, enum commit commit)
{
	struct pop2_maildrop *b = &p->box;
	for (size_t i = 0; i < b->n_folders; i++)
		b->folders_view[i] = bstr_bytes(&b->folders[i]);
	struct mailbox_entry *marked = pop2_marked_entries(b);
	struct event ev = { .type = EV_SESSION };
	struct ev_session *s = &ev.u.session;
	s->app_proto = "pop2";
	s->greeting = bstr_bytes(&p->greeting);
	s->folders = b->folders_view;
	s->n_folders = b->n_folders;
	s->username = bstr_bytes(&p->session_user);
	s->authenticated = p->authenticated;
	s->quit = p->quit;
	s->state = pop2_state_names[p->state];
	s->commands = p->totals.commands;
	s->messages_retrieved = p->totals.retrieved;
	s->messages_deleted = p->totals.deleted;
	s->deletions_committed = commit;
	s->mailbox = marked;
	s->n_mailbox = marked ? b->n_marks : 0;
	sink_emit(p->sink, &ev);
	free(marked);
}

/*
 * Deletion truth (RFC 937): ACKD marks apply at FOLD or at QUIT's "+". Marks
 * still pending when the connection drops are void; when the capture ends
 * first, unknown. With no marks ever, the answer is simply whether any
 * deletion was applied.
 */
static enum commit pop2_commit(const struct pop2 *p, enum end_reason why)
{
	if (p->box.marked && !p->quit)
		return why == END_CAPTURE_END ? COMMIT_UNKNOWN : COMMIT_NO;
	return p->totals.deleted ? COMMIT_YES : COMMIT_NO;
}

/* Flushes a message in flight and unanswered commands, then the summary. */
static void pop2_end(void *st, enum end_reason why)
{
	struct pop2 *p = st;
	enum commit commit = pop2_commit(p, why);
	if (p->srv == POP2_SRV_DATA) {
		emit_anomaly(p->sink, ANOM_POP2_MESSAGE_TRUNCATED, DIR_TO_CLIENT, NULL, 0);
		pop2_end_data(p, false);
	}
	const struct pop2_reply none = { POP2_R_NONE, BYTES_NONE, 0, false };
	while (p->queue.len > 0)
		pop2_answer_head(p, &none);
	pop2_emit_session(p, commit);
}

/* calloc'd, so every state starts at its first value: GREETING, LINE, OK. */
static void *pop2_create(const struct session_info *info, struct event_sink *sink)
{
	struct pop2 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sink = sink;
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_init(&p->rd.lb[d], POP2_LINE_MAX);
	lpq_init(&p->queue, sink, POP2_PENDING_MAX, POP2_PENDING_BYTES, ANOM_POP2_PENDING_OVERFLOW);
	p->box.size = -1;
	if (info && info->partial) {
		/* Picked up mid-stream: neither side's first bytes can be trusted. */
		p->partial = p->inferred = true;
		pop2_set_sync(p, POP2_SYNC_SEEK_LOST);
		p->rd.client_resync = true;
	}
	return p;
}

static void pop2_destroy(void *st)
{
	struct pop2 *p = st;
	if (!p)
		return;
	lpq_free(&p->queue);
	for (int d = 0; d < DIR_COUNT; d++)
		linebuf_free(&p->rd.lb[d]);
	bstr_free(&p->greeting);
	bstr_free(&p->session_user);
	bstr_free(&p->box.folder);
	free(p->box.marks);
	for (size_t i = 0; i < POP2_FOLDERS_MAX; i++)
		bstr_free(&p->box.folders[i]);
	free(p);
}

static const uint16_t pop2_ports[] = { 109, 0 };

const struct dissector pop2_dissector = {
	.name = "pop2", .ports = pop2_ports, .probe = pop2_probe, .create = pop2_create,
	.data = pop2_data, .gap = pop2_gap, .end = pop2_end, .destroy = pop2_destroy,
};
