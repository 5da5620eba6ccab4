/*
 * session_tls.c - the layer beneath a session's dissector (docs/tls.md): is
 * the connection TLS, and if it is, the TLS stream (src/tls/) that reads it.
 *
 * A connection is TLS when its client opens with a ClientHello (on any
 * followed port: POP3S on 995, or without STLS on a cleartext port, which is
 * an anomaly), or when the dissector hands the connection over (POP3 STLS
 * accepted, session_info.handover) and the client's next bytes are a
 * ClientHello. The stream's plaintext then goes to the same dissector as
 * cleartext would, so a decrypted session gives the events a cleartext one
 * gives; its metadata becomes the session's tls event, its anomalies the
 * session's, its lost application data a gap the dissector is told of.
 * flow.tls says where the dissector's bytes come from, for output to tell a
 * password read inside TLS from one sent in clear.
 *
 * Owns each session's layer state (struct session_layer: the wire, the
 * client's first octets held while undecided, the TLS stream). Dissectors
 * know nothing of this file; the TLS stream knows nothing of sessions.
 */
#include "session_tls.h"

#include <stdio.h>
#include <string.h>

#include "tls/tls.h"

#define ST_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The TLS layer's anomalies as popsift's (anomalies.def holds the same ids). */
static const enum anomaly st_anomaly_of[] = {
	[TLS_ANOM_NOT_TLS] = ANOM_TLS_NOT_TLS,
	[TLS_ANOM_SSLV2_HELLO] = ANOM_TLS_SSLV2_HELLO,
	[TLS_ANOM_RECORD_INVALID] = ANOM_TLS_RECORD_INVALID,
	[TLS_ANOM_RECORD_TOO_LONG] = ANOM_TLS_RECORD_TOO_LONG,
	[TLS_ANOM_RECORD_TRUNCATED] = ANOM_TLS_RECORD_TRUNCATED,
	[TLS_ANOM_GAP] = ANOM_TLS_GAP,
	[TLS_ANOM_RESYNC] = ANOM_TLS_RESYNC,
	[TLS_ANOM_HANDSHAKE_MALFORMED] = ANOM_TLS_HANDSHAKE_MALFORMED,
	[TLS_ANOM_HANDSHAKE_TOO_LONG] = ANOM_TLS_HANDSHAKE_TOO_LONG,
	[TLS_ANOM_CERT_CHAIN_TOO_LONG] = ANOM_TLS_CERT_CHAIN_TOO_LONG,
	[TLS_ANOM_CERT_UNPARSABLE] = ANOM_TLS_CERT_UNPARSABLE,
	[TLS_ANOM_UNEXPECTED_MESSAGE] = ANOM_TLS_UNEXPECTED_MESSAGE,
	[TLS_ANOM_BAD_RECORD_MAC] = ANOM_TLS_BAD_RECORD_MAC,
	[TLS_ANOM_DECRYPTION_LOST] = ANOM_TLS_DECRYPTION_LOST,
	[TLS_ANOM_UNSUPPORTED_CIPHER] = ANOM_TLS_UNSUPPORTED_CIPHER,
	[TLS_ANOM_EARLY_DATA] = ANOM_TLS_EARLY_DATA,
	[TLS_ANOM_INNER_TYPE] = ANOM_TLS_INNER_TYPE,
	[TLS_ANOM_HEARTBEAT] = ANOM_TLS_HEARTBEAT,
	[TLS_ANOM_RENEGOTIATION] = ANOM_TLS_RENEGOTIATION,
};
_Static_assert(ST_ARRAY_LEN(st_anomaly_of) == TLS_ANOM_COUNT, "TLS anomaly map out of step");

/* The layer's weakness bits are the event's. */
_Static_assert(TLS_WEAK_NULL == EV_TLS_WEAK_NULL && TLS_WEAK_EXPORT == EV_TLS_WEAK_EXPORT &&
		       TLS_WEAK_RC4 == EV_TLS_WEAK_RC4 && TLS_WEAK_DES == EV_TLS_WEAK_DES &&
		       TLS_WEAK_3DES == EV_TLS_WEAK_3DES && TLS_WEAK_ANON == EV_TLS_WEAK_ANON,
	       "cipher weakness bits out of step");
_Static_assert((int)TLS_SAN_DNS == (int)EV_SAN_DNS && (int)TLS_SAN_IP == (int)EV_SAN_IP &&
		       (int)TLS_SAN_EMAIL == (int)EV_SAN_EMAIL && (int)TLS_SAN_URI == (int)EV_SAN_URI,
	       "SAN kinds out of step");
_Static_assert((int)TLS_DIR_TO_SERVER == (int)DIR_TO_SERVER &&
		       (int)TLS_DIR_TO_CLIENT == (int)DIR_TO_CLIENT,
	       "directions out of step");

enum anomaly session_tls_anomaly_of(unsigned tls_anomaly)
{
	return tls_anomaly < TLS_ANOM_COUNT ? st_anomaly_of[tls_anomaly] : ANOM_TLS_UNEXPECTED_MESSAGE;
}

static void st_anomaly(struct session *s, enum anomaly id, enum dir dir, const uint8_t *p, size_t n)
{
	struct event ev = { .type = EV_ANOMALY };
	ev.u.anomaly.id = id;
	ev.u.anomaly.dir = dir;
	ev.u.anomaly.sample = bytes_of(p, n < ANOMALY_SAMPLE_MAX ? n : ANOMALY_SAMPLE_MAX);
	sink_emit(s->sink, &ev);
}

static bool st_port_listed(const uint16_t *ports, uint16_t port)
{
	for (const uint16_t *p = ports; p && *p; p++)
		if (*p == port)
			return true;
	return false;
}

/* The server port is one where the protocol runs inside TLS from the first byte (995). */
static bool st_tls_port(const struct session *s)
{
	return st_port_listed(s->d->tls_ports, s->flow.server_port);
}

/* The server port is one where the protocol starts in clear (110, 109, 1109), not one of -p's. */
static bool st_clear_port(const struct session *s)
{
	return st_port_listed(s->d->ports, s->flow.server_port) && !st_tls_port(s);
}

/* ---- the dissector's side ------------------------------------------------ */

static void st_judge(struct session *s, enum dir dir, const uint8_t *p, size_t n);

/* The wire was handed over: the next bytes show whether TLS follows. */
static void st_pending(struct session *s)
{
	s->layer.wire = SESSION_WIRE_PENDING;
	s->layer.stls = true;
	s->layer.held_n = 0;
	s->flow.tls = FLOW_TLS_PENDING;
}

/*
 * Bytes for the dissector: the connection's own (TEXT) or the plaintext of
 * TLS. A hand-over in the connection's own bytes (STLS accepted) sends the
 * rest beneath, to be judged. Inside TLS a second one names no layer popsift
 * knows: the dissector reads on, as it would with no engine.
 */
static void st_feed(struct session *s, enum dir dir, const uint8_t *p, size_t n)
{
	struct session_layer *L = &s->layer;
	while (n) {
		L->handed = false;
		s->d->data(s->st, dir, p, n);
		if (!L->handed)
			return;
		size_t used = L->handed_used < n ? L->handed_used : n;
		p += used;
		n -= used;
		if (L->wire == SESSION_WIRE_TEXT) {
			st_pending(s);
			if (n)
				st_judge(s, dir, p, n);
			return;
		}
	}
}

void session_tls_handover(void *engine, enum dir dir, size_t used)
{
	struct session *s = engine;
	(void)dir; /* the buffer being read is the one data() was given */
	s->layer.handed = true;
	s->layer.handed_used = used;
}

/* ---- what the TLS stream gives ------------------------------------------- */

/* The certificate fields of the tls event; hex is the fingerprint's text. */
static void st_cert(struct ev_tls *t, const struct tls_cert *c, char hex[65], struct bytes *san,
		    uint8_t *san_types)
{
	t->subject = c->subject;
	t->issuer = c->issuer;
	t->serial = c->serial;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", c->sha256[i]);
	t->sha256 = hex;
	t->not_before = c->not_before;
	t->not_after = c->not_after;
	t->self_signed = c->self_signed;
	t->n_san = c->san_count < TLS_SAN_MAX ? c->san_count : TLS_SAN_MAX;
	for (size_t i = 0; i < t->n_san; i++) {
		san[i] = bytes_of(c->san[i].value, c->san[i].len);
		san_types[i] = (uint8_t)c->san[i].type;
	}
	t->san = san;
	t->san_types = san_types;
	t->san_truncated = c->san_truncated;
	t->chain_length = c->chain_length;
}

/* What the hellos showed. */
static void st_hellos(struct ev_tls *t, const struct tls_meta *m)
{
	t->client_hello = m->client_hello;
	t->client_version = m->client_max_version;
	t->client_version_name = tls_version_name(m->client_max_version);
	t->sni_present = m->sni_present;
	t->sni = bytes_of(m->sni, m->sni_len);
	t->alpn_offered = bytes_of(m->alpn_offered, m->alpn_offered_len);
	t->ja3 = m->ja3;
	t->ja3_string = m->ja3_string;
	t->ja3_truncated = m->ja3_truncated;
	t->ja4 = m->ja4;
	t->server_hello = m->server_hello;
	t->version = m->version;
	t->version_name = tls_version_name(m->version);
	t->cipher_suite = m->cipher_suite_name;
	t->cipher_suite_id = m->cipher_suite;
	t->cipher_weakness = m->cipher_weakness;
	t->alpn = bytes_of(m->alpn, m->alpn_len);
	t->resumed = m->resumed;
	t->resumption = tls_resumption_name(m->resumption);
	t->hello_retry = m->hello_retry;
	t->encrypt_then_mac = m->encrypt_then_mac;
	t->extended_master_secret = m->extended_master_secret;
	t->ja3s = m->ja3s;
	t->ja3s_string = m->ja3s_string;
}

/* The session's tls event: an STLS that led to no TLS (m NULL), or a TLS session. */
static void st_tls_event(struct session *s, const struct tls_meta *m)
{
	struct event ev = { .type = EV_TLS };
	struct ev_tls *t = &ev.u.tls;
	t->command = s->layer.stls ? "STLS" : NULL;
	t->result = AUTH_RESULT_SUCCESS;
	char hex[65];
	struct bytes san[TLS_SAN_MAX];
	uint8_t san_types[TLS_SAN_MAX];
	if (m) {
		t->handshake = true;
		st_hellos(t, m);
		t->certificate_status = tls_cert_status_name(m->cert_status);
		if (m->cert_status == TLS_CERT_PARSED)
			st_cert(t, &m->cert, hex, san, san_types);
		t->decrypted = m->decrypt == TLS_DECRYPT_ACTIVE;
		t->decryption = tls_decrypt_name(m->decrypt);
	}
	sink_emit(s->sink, &ev);
}

/* Counts the session as decrypted once; from now on the dissector reads inside TLS. */
static void st_decrypted(struct session *s)
{
	s->flow.tls = FLOW_TLS_DECRYPTED;
	if (!s->layer.decrypted) {
		s->layer.decrypted = true;
		s->table->tls_decrypted++;
	}
}

static void st_on_meta(void *ctx, const struct tls_meta *m)
{
	struct session *s = ctx;
	if (m->decrypt == TLS_DECRYPT_ACTIVE)
		st_decrypted(s);
	st_tls_event(s, m);
}

static void st_on_plaintext(void *ctx, enum tls_dir dir, const uint8_t *p, size_t n)
{
	struct session *s = ctx;
	st_decrypted(s);
	st_feed(s, (enum dir)dir, p, n);
}

/* Application data lost (a gap, a record that failed): the dissector is told, as of a gap. */
static void st_on_gap(void *ctx, enum tls_dir dir, uint64_t lost)
{
	struct session *s = ctx;
	s->d->gap(s->st, (enum dir)dir, lost > SIZE_MAX ? SIZE_MAX : (size_t)lost);
}

static void st_on_anomaly(void *ctx, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
			  const uint8_t *sample, size_t n)
{
	(void)detail;
	st_anomaly(ctx, session_tls_anomaly_of(a), (enum dir)dir, sample, n);
}

/* A TLS alert but the close_notify every session ends with: level and name as the evidence. */
static void st_on_alert(void *ctx, enum tls_dir dir, uint8_t level, uint8_t description)
{
	if (description == 0)
		return;
	char text[64];
	int n = snprintf(text, sizeof(text), "%s %s", level == 2 ? "fatal" : "warning",
			 tls_alert_name(description));
	st_anomaly(ctx, ANOM_TLS_ALERT, (enum dir)dir, (const uint8_t *)text,
		   n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* From now on a TLS stream reads the connection (flags: tls.h's TLS_START_*). */
static void st_start_tls(struct session *s, unsigned flags)
{
	const struct tls_sink sink = { s, st_on_meta, st_on_plaintext, st_on_gap, st_on_anomaly,
				       st_on_alert };
	s->layer.wire = SESSION_WIRE_TLS;
	s->layer.tls = tls_stream_new(s->table->keys, &sink, flags);
	s->flow.tls = FLOW_TLS_ENCRYPTED;
	s->flow.tls_implicit = !s->layer.stls;
	s->table->tls_sessions++;
}

/* ---- judging the first bytes ---------------------------------------------- */

/*
 * The verdict on the connection's first bytes, or on the first after a
 * hand-over: TLS (a ClientHello; or, picked up mid-stream on the TLS port,
 * records already under way) or text. Then the client's held octets go where
 * the verdict sends them.
 */
static void st_decide(struct session *s, bool hello)
{
	struct session_layer *L = &s->layer;
	bool pending = L->wire == SESSION_WIRE_PENDING;
	bool midstream = !hello && !pending && s->info.partial && st_tls_port(s);
	if (hello || midstream) {
		st_start_tls(s, midstream ? TLS_START_MIDSTREAM : 0);
		if (hello && !pending && st_clear_port(s))
			st_anomaly(s, ANOM_TLS_WITHOUT_STLS, DIR_TO_SERVER, NULL, 0);
	} else {
		L->wire = SESSION_WIRE_TEXT;
		if (pending) { /* STLS accepted, but no TLS: text resumes */
			s->flow.tls = FLOW_TLS_NONE;
			st_anomaly(s, ANOM_TLS_NO_HELLO, DIR_TO_SERVER, NULL, 0);
			st_tls_event(s, NULL);
		}
	}
	uint8_t held[SESSION_HELD_MAX]; /* a copy: a hand-over in the replay refills L->held */
	size_t n = L->held_n;
	memcpy(held, L->held, n);
	L->held_n = 0;
	if (n)
		session_tls_data(s, DIR_TO_SERVER, held, n);
}

/*
 * The first bytes (UNDECIDED, PENDING): a TLS client speaks first, with a
 * ClientHello; the server speaking first, or any other client bytes, is text.
 * The client's octets are held until the six that decide have come, so the
 * verdict never depends on how the bytes arrived.
 */
static void st_judge(struct session *s, enum dir dir, const uint8_t *p, size_t n)
{
	struct session_layer *L = &s->layer;
	if (dir == DIR_TO_CLIENT) {
		st_decide(s, false);
		session_tls_data(s, dir, p, n);
		return;
	}
	size_t take = SESSION_HELD_MAX - L->held_n;
	take = take < n ? take : n;
	memcpy(L->held + L->held_n, p, take);
	L->held_n += take;
	enum tls_probe v = tls_probe_client_hello(L->held, L->held_n);
	if (v == TLS_PROBE_NEED_MORE)
		return; /* fewer than six octets so far: all of them are held */
	st_decide(s, v == TLS_PROBE_CLIENT_HELLO);
	if (n > take)
		session_tls_data(s, dir, p + take, n - take);
}

/* ---- the interface ---------------------------------------------------------- */

void session_tls_open(struct session *s, bool by_port)
{
	s->layer.wire = by_port ? SESSION_WIRE_UNDECIDED : SESSION_WIRE_TEXT;
}

void session_tls_data(struct session *s, enum dir dir, const uint8_t *p, size_t n)
{
	struct session_layer *L = &s->layer;
	switch (L->wire) {
	case SESSION_WIRE_TEXT:
		st_feed(s, dir, p, n);
		break;
	case SESSION_WIRE_TLS:
		if (L->tls)
			tls_stream_data(L->tls, (enum tls_dir)dir, p, n);
		break;
	case SESSION_WIRE_UNDECIDED:
	case SESSION_WIRE_PENDING:
		st_judge(s, dir, p, n);
		break;
	}
}

/*
 * A gap before the verdict: on the TLS port, or after STLS was accepted, TLS
 * is what was most likely lost (its start, when nothing is held); elsewhere
 * text.
 */
void session_tls_gap(struct session *s, enum dir dir, size_t n)
{
	struct session_layer *L = &s->layer;
	switch (L->wire) {
	case SESSION_WIRE_TEXT:
		s->d->gap(s->st, dir, n);
		return;
	case SESSION_WIRE_TLS:
		if (L->tls)
			tls_stream_gap(L->tls, (enum tls_dir)dir, n);
		return;
	case SESSION_WIRE_UNDECIDED:
	case SESSION_WIRE_PENDING:
		break;
	}
	if (L->wire == SESSION_WIRE_PENDING || st_tls_port(s)) {
		size_t held = L->held_n; /* the stream's first octets: its start is known */
		L->held_n = 0;
		st_start_tls(s, held ? 0 : TLS_START_MIDSTREAM);
		if (L->tls && held)
			tls_stream_data(L->tls, TLS_DIR_TO_SERVER, L->held, held);
	} else {
		st_decide(s, false);
	}
	session_tls_gap(s, dir, n);
}

/*
 * The end: bytes still held are settled as text; an STLS after which nothing
 * came still gets its tls event (TLS remains what the session is said to
 * hold); a TLS stream flushes its metadata, gaps and anomalies.
 */
void session_tls_end(struct session *s)
{
	struct session_layer *L = &s->layer;
	switch (L->wire) {
	case SESSION_WIRE_UNDECIDED:
		st_decide(s, false);
		break;
	case SESSION_WIRE_PENDING:
		L->held_n = 0; /* the start of a ClientHello, cut off by the end */
		st_tls_event(s, NULL);
		break;
	case SESSION_WIRE_TLS:
		if (L->tls)
			tls_stream_end(L->tls);
		break;
	case SESSION_WIRE_TEXT:
		break;
	}
}

void session_tls_free(struct session *s)
{
	tls_stream_free(s->layer.tls);
	s->layer.tls = NULL;
}
