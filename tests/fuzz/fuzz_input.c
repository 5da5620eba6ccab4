/*
 * fuzz_input.c - the harnesses' input format and checking sink (fuzz_input.h).
 */
#include "fuzz_input.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../output/hashes.h"
#include "../../output/mime.h"

void fuzz_init(void)
{
	/*
	 * A GMime init/shutdown cycle leaks its crypto-context names (258 bytes),
	 * which the leak checker would pin on whichever input came first. One
	 * reference held for the whole run keeps GMime up; the outputs
	 * (fuzz_out_begin) live until the process exits as well.
	 */
	mime_init();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_harness_init();
	return 0;
}

bool fuzz_begin(struct fuzz_reader *r, const uint8_t *data, size_t size, uint8_t *flags)
{
	if (size == 0)
		return false;
	*flags = data[0];
	r->p = data + 1;
	r->end = data + size;
	r->dir = (data[0] & FUZZ_F_CLIENT_FIRST) ? DIR_TO_SERVER : DIR_TO_CLIENT;
	r->started = false;
	return true;
}

uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n);
	if (!c)
		abort();
	memcpy(c, p, n);
	return c;
}

/* The next raw chunk (possibly empty); false at the end of input. */
static bool fuzz_raw(struct fuzz_reader *r, const uint8_t **p, size_t *n)
{
	if (r->p >= r->end && r->started)
		return false;
	r->started = true;
	size_t left = (size_t)(r->end - r->p);
	const uint8_t *m = memmem(r->p, left, FUZZ_MAGIC, 4);
	*p = r->p;
	*n = m ? (size_t)(m - r->p) : left;
	r->p = m ? m + 4 : r->end;
	if (!m && left == 0)
		return *n > 0;
	return true;
}

bool fuzz_next(struct fuzz_reader *r, struct fuzz_chunk *c)
{
	const uint8_t *p;
	size_t n;
	while (fuzz_raw(r, &p, &n)) {
		enum dir dir = r->dir;
		r->dir = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
		if (n == 0)
			continue;
		*c = (struct fuzz_chunk){ .dir = dir };
		if (n >= 4 && memcmp(p, FUZZ_GAP_MAGIC, 4) == 0) {
			uint32_t v = 0;
			for (size_t i = 4; i < n && i < 8; i++)
				v |= (uint32_t)p[i] << (8 * (i - 4));
			c->gap = true;
			c->gap_bytes = v ? v : 1;
			return true;
		}
		c->p = fuzz_dup(p, n);
		c->n = n;
		return true;
	}
	return false;
}

unsigned long fuzz_touch(struct bytes b)
{
	unsigned long sum = 0;
	FUZZ_ASSERT(b.n == 0 || b.p != NULL);
	for (size_t i = 0; i < b.n; i++)
		sum += b.p[i];
	return sum;
}

/* ---- the checking sink ------------------------------------------------ */

static void fuzz_check_auth(struct fuzz_sink *s, const struct ev_auth *a)
{
	FUZZ_ASSERT(a->mechanism != NULL);
	FUZZ_ASSERT((unsigned)a->result < AUTH_RESULT_COUNT);
	s->checksum += strlen(a->mechanism);
	const struct bytes f[] = { a->username, a->password, a->reply, a->challenge, a->response,
				   a->authzid, a->realm, a->workstation, a->hash };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		s->checksum += fuzz_touch(f[i]);
	if (a->hash.n)
		FUZZ_ASSERT(a->hash_format != NULL);
}

static void fuzz_check_session(struct fuzz_sink *s, const struct ev_session *e)
{
	FUZZ_ASSERT(e->app_proto != NULL && e->state != NULL);
	s->checksum += fuzz_touch(e->greeting) + fuzz_touch(e->apop_timestamp) +
		       fuzz_touch(e->username);
	FUZZ_ASSERT(e->n_capabilities == 0 || e->capabilities != NULL);
	for (size_t i = 0; i < e->n_capabilities; i++)
		s->checksum += fuzz_touch(e->capabilities[i]);
	FUZZ_ASSERT(e->n_folders == 0 || e->folders != NULL);
	for (size_t i = 0; i < e->n_folders; i++)
		s->checksum += fuzz_touch(e->folders[i]);
	FUZZ_ASSERT(e->n_mailbox == 0 || e->mailbox != NULL);
	for (size_t i = 0; i < e->n_mailbox; i++)
		s->checksum += fuzz_touch(e->mailbox[i].uid);
}

static void fuzz_emit(struct event_sink *sink, const struct event *ev)
{
	struct fuzz_sink *s = (struct fuzz_sink *)sink;
	FUZZ_ASSERT(!s->session_seen); /* the session summary is the last event */
	switch (ev->type) {
	case EV_AUTH:
		fuzz_check_auth(s, &ev->u.auth);
		break;
	case EV_MESSAGE_BEGIN:
		FUZZ_ASSERT(!s->in_message);
		FUZZ_ASSERT(ev->u.message_begin.command != NULL);
		FUZZ_ASSERT((unsigned)ev->u.message_begin.dir < DIR_COUNT);
		s->checksum += fuzz_touch(ev->u.message_begin.folder);
		s->in_message = true;
		break;
	case EV_MESSAGE_DATA:
		FUZZ_ASSERT(s->in_message);
		s->checksum += fuzz_touch(bytes_of(ev->u.message_data.p, ev->u.message_data.n));
		break;
	case EV_MESSAGE_END:
		FUZZ_ASSERT(s->in_message);
		s->in_message = false;
		break;
	case EV_TLS:
		FUZZ_ASSERT(ev->u.tls.command != NULL);
		FUZZ_ASSERT((unsigned)ev->u.tls.result < AUTH_RESULT_COUNT);
		break;
	case EV_COMMAND:
		s->checksum += fuzz_touch(ev->u.command.request) + fuzz_touch(ev->u.command.reply);
		break;
	case EV_ANOMALY:
		FUZZ_ASSERT((unsigned)ev->u.anomaly.id < ANOM_COUNT);
		FUZZ_ASSERT((unsigned)ev->u.anomaly.dir < DIR_COUNT);
		FUZZ_ASSERT(ev->u.anomaly.sample.n <= ANOMALY_SAMPLE_MAX);
		s->checksum += fuzz_touch(ev->u.anomaly.sample);
		break;
	case EV_SESSION:
		FUZZ_ASSERT(!s->in_message); /* end() closes the message in flight first */
		fuzz_check_session(s, &ev->u.session);
		s->session_seen = true;
		break;
	default:
		FUZZ_ASSERT(!"unknown event type");
	}
	s->out->emit(s->out, ev);
}

static FILE *fuzz_null;
static struct hashes_out *fuzz_hashes; /* --hashes FILE on /dev/null: its writer runs too */
static struct output *fuzz_outputs[8];

static bool fuzz_diff_mode(void)
{
	static int mode = -1;
	if (mode < 0) {
		const char *v = getenv("POPSIFT_FUZZ_DIFF");
		mode = v && *v && strcmp(v, "0") != 0;
	}
	return mode;
}

void fuzz_out_begin(struct fuzz_out *fo, bool show_passwords, bool transactions, bool second)
{
	memset(fo, 0, sizeof(*fo));
	if (!fuzz_null)
		fuzz_null = fopen("/dev/null", "w");
	FUZZ_ASSERT(fuzz_null != NULL);
	char err[256];
	if (!fuzz_hashes)
		fuzz_hashes = hashes_open("/dev/null", err, sizeof(err));
	FUZZ_ASSERT(fuzz_hashes != NULL);
	struct output **o = &fuzz_outputs[second * 4 + show_passwords * 2 + transactions];
	if (!*o) {
		struct output_config oc = { .fp = fuzz_null, .show_passwords = show_passwords,
					    .transactions = transactions, .hashes = fuzz_hashes };
		unsigned k = fuzz_diff_mode() ? 0 : 2;
		oc.bruteforce = (struct bf_policy){ .failures = k, .users = k, .window = 300 };
		*o = output_open(&oc);
		FUZZ_ASSERT(*o != NULL);
	}
	fo->o = *o;
	fo->json = open_memstream(&fo->buf, &fo->len);
	FUZZ_ASSERT(fo->json != NULL);
	output_set_fp(fo->o, fo->json);
}

char *fuzz_out_end(struct fuzz_out *fo, size_t *len)
{
	FUZZ_ASSERT(output_flush(fo->o));
	output_set_fp(fo->o, fuzz_null);
	fclose(fo->json);
	fuzz_check_json_lines(fo->buf, fo->len);
	*len = fo->len;
	return fo->buf;
}

void fuzz_sink_open(struct fuzz_sink *s, const char *app_proto, bool show_passwords,
		    bool transactions, bool second)
{
	memset(s, 0, sizeof(*s));
	s->sink.emit = fuzz_emit;
	fuzz_out_begin(&s->fo, show_passwords, transactions, second);
	struct flow *f = &s->flow;
	f->flow_id = 1;
	strcpy(f->client_ip, "192.0.2.1");
	strcpy(f->server_ip, "192.0.2.2");
	f->client_port = 40000;
	f->server_port = 110;
	f->start.tv_sec = f->now.tv_sec = 1700000000;
	f->pcap_file = "fuzz.pcap";
	f->app_proto = app_proto;
	s->out = output_session_open(s->fo.o, f);
	FUZZ_ASSERT(s->out != NULL);
}

void fuzz_check_json_lines(const char *buf, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(buf + i, '\n', n - i);
		FUZZ_ASSERT(nl != NULL); /* every event ends with a newline */
		size_t len = (size_t)(nl - (buf + i));
		json_error_t err;
		json_t *j = json_loadb(buf + i, len, JSON_ALLOW_NUL, &err); /* \u0000 is valid JSON */
		if (!j || !json_is_object(j)) {
			dprintf(2, "fuzz: not a JSON object (%s): %.*s\n", err.text,
				(int)(len < 400 ? len : 400), buf + i);
			abort();
		}
		json_decref(j);
		i += len + 1;
	}
}

char *fuzz_sink_close(struct fuzz_sink *s, bool expect_session, size_t *len)
{
	FUZZ_ASSERT(!s->in_message);
	if (expect_session)
		FUZZ_ASSERT(s->session_seen);
	output_session_close(s->out);
	return fuzz_out_end(&s->fo, len);
}

/* ---- the dissector driver ----------------------------------------------- */

/* One run of the input; bytewise: each data chunk fed one byte at a time. */
static char *fuzz_run_once(const struct dissector *d, uint16_t server_port, const uint8_t *data,
			   size_t size, bool bytewise, size_t *len)
{
	struct fuzz_reader r;
	uint8_t flags;
	if (!fuzz_begin(&r, data, size, &flags))
		return NULL;
	struct fuzz_sink s;
	fuzz_sink_open(&s, d->name, flags & FUZZ_F_SHOW_PASSWORDS, flags & FUZZ_F_TRANSACTIONS,
		       bytewise);
	s.flow.server_port = server_port;
	struct session_info info = { .client_port = 40000, .server_port = server_port,
				     .partial = flags & FUZZ_F_PARTIAL };
	s.flow.partial = info.partial;
	void *st = d->create(&info, &s.sink);
	FUZZ_ASSERT(st != NULL);
	struct fuzz_chunk c;
	while (fuzz_next(&r, &c)) {
		if (c.gap) {
			s.flow.gaps++;
			s.flow.gap_bytes += c.gap_bytes;
			d->gap(st, c.dir, c.gap_bytes);
			continue;
		}
		s.flow.bytes[c.dir] += c.n;
		if (bytewise) {
			for (size_t i = 0; i < c.n; i++) {
				uint8_t *b = fuzz_dup(c.p + i, 1);
				d->data(st, c.dir, b, 1);
				free(b);
			}
		} else {
			d->data(st, c.dir, c.p, c.n);
		}
		free(c.p);
	}
	enum end_reason why = (enum end_reason)(((flags >> FUZZ_F_END_SHIFT) & 7) % END_REASON_COUNT);
	s.flow.end_reason = why;
	d->end(st, why);
	d->destroy(st);
	return fuzz_sink_close(&s, true, len);
}

void fuzz_run_dissector(const struct dissector *d, uint16_t server_port, const uint8_t *data,
			size_t size)
{
	size_t n1, n2;
	char *whole = fuzz_run_once(d, server_port, data, size, false, &n1);
	if (whole && fuzz_diff_mode()) {
		char *bytes = fuzz_run_once(d, server_port, data, size, true, &n2);
		if (n1 != n2 || memcmp(whole, bytes, n1) != 0) {
			dprintf(2, "fuzz: events differ when fed one byte at a time\n"
				   "--- in chunks:\n%.*s--- byte by byte:\n%.*s",
				(int)(n1 < 8000 ? n1 : 8000), whole, (int)(n2 < 8000 ? n2 : 8000), bytes);
			abort();
		}
		free(bytes);
	}
	free(whole);
}
