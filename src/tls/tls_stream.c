/*
 * tls_stream.c - the TLS stream layer's interface (tls.h): per direction a
 * record reader (tls_record.c) and a handshake reader (tls_handshake.c); this
 * file decides which records are protected, has tls_keys.c open them,
 * dispatches content types, reads the handshake messages that make the
 * metadata (hellos, certificate, EncryptedExtensions, Finished, KeyUpdate,
 * NewSessionTicket) and talks to the sink.
 *
 * When the metadata goes out: TLS <= 1.2 at the server's ChangeCipherSpec;
 * TLS 1.3 at the server's Finished when its handshake keys are logged, else
 * right after the ServerHello (nothing more can be learnt); in any case before
 * the first plaintext, and at the latest at tls_stream_end().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_cert.h"
#include "tls_fingerprint.h"
#include "tls_hello.h"
#include "tls_int.h"
#include "tls_keylog.h"

void tls_anomaly(struct tls_stream *s, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
		 const uint8_t *sample, size_t n)
{
	if (s->anomaly_count[dir][a] >= TLS_ANOMALY_REPEAT)
		return;
	s->anomaly_count[dir][a]++;
	if (s->sink.anomaly)
		s->sink.anomaly(s->sink.ctx, dir, a, detail, sample,
				n < TLS_SAMPLE_MAX ? n : TLS_SAMPLE_MAX);
}

void tls_emit_meta(struct tls_stream *s)
{
	if (s->meta_sent)
		return;
	s->meta_sent = true;
	if (s->sink.meta)
		s->sink.meta(s->sink.ctx, &s->meta);
}

static void flush_gap(struct tls_half *h)
{
	struct tls_stream *s = h->s;
	if (!h->pending_gap)
		return;
	uint64_t n = h->pending_gap;
	h->pending_gap = 0;
	tls_emit_meta(s);
	if (s->sink.gap)
		s->sink.gap(s->sink.ctx, h->dir, n);
}

/* Application data of h was lost (only once application data flows). */
static void lose_app_data(struct tls_half *h, uint64_t n)
{
	if (h->epoch == TLS_EP_APP)
		h->pending_gap += n;
}

static void deliver_plaintext(struct tls_half *h, const uint8_t *p, size_t n)
{
	struct tls_stream *s = h->s;
	tls_emit_meta(s);
	flush_gap(h);
	if (!n)
		return;
	s->stats.plaintext_bytes[h->dir] += n;
	if (s->sink.plaintext)
		s->sink.plaintext(s->sink.ctx, h->dir, p, n);
}

/* Copies a wire string into a bounded field; returns the length kept. */
static size_t keep(uint8_t *dst, size_t max, const uint8_t *src, size_t n)
{
	size_t k = n < max ? n : max;
	if (k)
		memcpy(dst, src, k);
	return k;
}

/* The offered ALPN names, comma-joined, as far as they fit. */
static void offered_alpn(struct tls_meta *m, struct tls_rd list)
{
	m->alpn_offered_len = 0;
	while (list.n && !list.bad) {
		struct tls_rd name = tls_rd_vec(&list, 1);
		if (list.bad)
			break;
		size_t need = name.n + (m->alpn_offered_len ? 1 : 0);
		if (m->alpn_offered_len + need > TLS_ALPN_LIST_MAX)
			break;
		if (m->alpn_offered_len)
			m->alpn_offered[m->alpn_offered_len++] = ',';
		m->alpn_offered_len += keep(m->alpn_offered + m->alpn_offered_len, name.n, name.p,
					    name.n);
	}
}

static void client_meta(struct tls_stream *s, const struct tls_client_hello *ch)
{
	struct tls_meta *m = &s->meta;
	m->client_hello = true;
	m->client_version = ch->legacy_version;
	m->client_max_version = ch->max_version ? ch->max_version : ch->legacy_version;
	m->sni_present = ch->sni_present;
	m->sni_len = ch->sni ? keep(m->sni, TLS_SNI_MAX, ch->sni, ch->sni_len) : 0;
	offered_alpn(m, ch->alpn);
	m->session_id_offered = ch->session_id_len > 0;
	m->ticket_offered = ch->ticket;
	m->psk_offered = ch->psk;
	m->early_data_offered = ch->early_data;
	tls_ja3(ch, m->ja3, m->ja3_string, sizeof(m->ja3_string), &m->ja3_truncated);
	tls_ja4(ch, m->ja4);
}

static void on_client_hello(struct tls_stream *s, const uint8_t *body, size_t len)
{
	struct tls_client_hello ch;
	if (!tls_parse_client_hello(body, len, &ch)) {
		tls_anomaly(s, TLS_DIR_TO_SERVER, TLS_ANOM_HANDSHAKE_MALFORMED, len, body, len);
		return;
	}
	if (s->meta.client_hello) {
		/* The second ClientHello after a HelloRetryRequest keeps its random
		   (RFC 8446 §4.1.2); any other is a renegotiation. */
		if (s->meta.hello_retry && s->handshakes == 0)
			return;
		tls_anomaly(s, TLS_DIR_TO_SERVER, TLS_ANOM_RENEGOTIATION, 0, NULL, 0);
	} else {
		client_meta(s, &ch);
	}
	memcpy(s->client_random, ch.random, 32);
	s->have_client_random = true;
	s->client_session_id_len = ch.session_id_len;
	if (ch.session_id_len)
		memcpy(s->client_session_id, ch.session_id, ch.session_id_len);
}

static void mark_resumed(struct tls_stream *s, enum tls_resumption how)
{
	s->meta.resumed = true;
	s->meta.resumption = how;
	s->meta.cert_status = TLS_CERT_NOT_SENT;
}

static void server_meta(struct tls_stream *s, const struct tls_server_hello *sh)
{
	struct tls_meta *m = &s->meta;
	m->server_hello = true;
	m->version = s->version;
	m->cipher_suite = sh->cipher_suite;
	if (s->suite)
		snprintf(m->cipher_suite_name, sizeof(m->cipher_suite_name), "%s", s->suite->name);
	else
		snprintf(m->cipher_suite_name, sizeof(m->cipher_suite_name), "unknown(0x%04x)",
			 sh->cipher_suite);
	m->cipher_weakness = s->suite ? s->suite->weak : 0;
	tls_ja3s(sh, m->ja3s, m->ja3s_string, sizeof(m->ja3s_string), &m->ja3s_truncated);
	if (sh->alpn)
		m->alpn_len = keep(m->alpn, TLS_ALPN_MAX, sh->alpn, sh->alpn_len);
	m->encrypt_then_mac = sh->etm;
	m->extended_master_secret = sh->ems;
	if (s->version == 0x0304 && sh->psk)
		mark_resumed(s, TLS_RESUME_PSK);
	else if (s->version != 0x0304 && sh->session_id_len &&
		 sh->session_id_len == s->client_session_id_len &&
		 !memcmp(sh->session_id, s->client_session_id, sh->session_id_len))
		mark_resumed(s, m->ticket_offered ? TLS_RESUME_TICKET : TLS_RESUME_SESSION_ID);
}

static void on_server_hello(struct tls_stream *s, const uint8_t *body, size_t len)
{
	struct tls_server_hello sh;
	if (!tls_parse_server_hello(body, len, &sh)) {
		tls_anomaly(s, TLS_DIR_TO_CLIENT, TLS_ANOM_HANDSHAKE_MALFORMED, len, body, len);
		return;
	}
	if (sh.hello_retry) {
		/* Keys wait for the real ServerHello; the version is known now,
		   so the ChangeCipherSpecs that follow are seen as TLS 1.3's. */
		s->meta.hello_retry = true;
		if (sh.selected_version)
			s->version = sh.selected_version;
		return;
	}
	memcpy(s->server_random, sh.random, 32);
	s->have_server_random = true;
	s->version = sh.selected_version ? sh.selected_version : sh.legacy_version;
	s->suite = tls_suite_find(sh.cipher_suite);
	s->server_flight = false;
	if (s->handshakes++ == 0)
		server_meta(s, &sh);
	tls_keys_server_hello(s);
	if (s->version == 0x0304 && !s->half[TLS_DIR_TO_CLIENT].keyed) {
		/* Nothing more of the handshake can be read. */
		if (!s->meta.resumed)
			s->meta.cert_status = TLS_CERT_ENCRYPTED;
		tls_emit_meta(s);
	}
}

static void on_certificate(struct tls_stream *s, const uint8_t *body, size_t len,
			   size_t full_len)
{
	s->server_flight = true;
	if (full_len > len)
		tls_anomaly(s, TLS_DIR_TO_CLIENT, TLS_ANOM_CERT_CHAIN_TOO_LONG, full_len, NULL, 0);
	if (s->meta.cert_status == TLS_CERT_PARSED || s->handshakes > 1)
		return; /* the first handshake's certificate is the one reported */
	enum tls_cert_status st = tls_cert_chain(body, len, s->version == 0x0304, &s->meta.cert);
	s->meta.cert_status = st;
	if (st == TLS_CERT_UNPARSABLE)
		tls_anomaly(s, TLS_DIR_TO_CLIENT, TLS_ANOM_CERT_UNPARSABLE, len, body, len);
}

static void on_encrypted_extensions(struct tls_stream *s, const uint8_t *body, size_t len)
{
	const uint8_t *alpn;
	size_t alpn_len;
	if (!tls_parse_encrypted_extensions(body, len, &alpn, &alpn_len)) {
		tls_anomaly(s, TLS_DIR_TO_CLIENT, TLS_ANOM_HANDSHAKE_MALFORMED, len, body, len);
		return;
	}
	if (alpn && s->handshakes == 1)
		s->meta.alpn_len = keep(s->meta.alpn, TLS_ALPN_MAX, alpn, alpn_len);
}

static void server_message(struct tls_stream *s, uint8_t type, const uint8_t *body, size_t len,
			   size_t full_len)
{
	switch (type) {
	case TLS_HS_SERVER_HELLO:
		on_server_hello(s, body, len);
		break;
	case TLS_HS_ENCRYPTED_EXTENSIONS:
		on_encrypted_extensions(s, body, len);
		break;
	case TLS_HS_CERTIFICATE:
		on_certificate(s, body, len, full_len);
		break;
	case TLS_HS_COMPRESSED_CERTIFICATE:
		s->server_flight = true;
		if (s->meta.cert_status != TLS_CERT_PARSED)
			s->meta.cert_status = TLS_CERT_COMPRESSED;
		break;
	case TLS_HS_SERVER_KEY_EXCHANGE:
	case TLS_HS_CERTIFICATE_REQUEST:
	case TLS_HS_SERVER_HELLO_DONE:
		s->server_flight = true;
		break;
	case TLS_HS_NEW_SESSION_TICKET:
		s->meta.ticket_issued = true;
		break;
	case TLS_HS_FINISHED:
		if (s->version == 0x0304) {
			tls_keys_finished(s, TLS_DIR_TO_CLIENT);
			tls_emit_meta(s);
		}
		break;
	case TLS_HS_KEY_UPDATE:
		tls_keys_update(s, TLS_DIR_TO_CLIENT);
		break;
	default:
		break;
	}
}

/* A whole (or cut) handshake message of direction h. */
static void on_message(void *ctx, uint8_t type, const uint8_t *body, size_t len, size_t full_len)
{
	struct tls_half *h = ctx;
	struct tls_stream *s = h->s;
	if (full_len > len && type != TLS_HS_CERTIFICATE) {
		tls_anomaly(s, h->dir, TLS_ANOM_HANDSHAKE_TOO_LONG, full_len, NULL, 0);
		return;
	}
	if (h->dir == TLS_DIR_TO_CLIENT) {
		server_message(s, type, body, len, full_len);
		return;
	}
	if (type == TLS_HS_CLIENT_HELLO)
		on_client_hello(s, body, len);
	else if (type == TLS_HS_FINISHED)
		tls_keys_finished(s, TLS_DIR_TO_SERVER);
	else if (type == TLS_HS_KEY_UPDATE)
		tls_keys_update(s, TLS_DIR_TO_SERVER);
}

static void on_ccs(struct tls_half *h)
{
	struct tls_stream *s = h->s;
	/* TLS 1.3 sends it for middlebox compatibility only (RFC 8446 §D.4),
	   a client even before any ServerHello. */
	if (s->version == 0x0304 || !s->have_server_random)
		return;
	if (h->dir == TLS_DIR_TO_CLIENT && s->meta.server_hello && !s->server_flight &&
	    !s->meta.resumed && s->handshakes == 1)
		/* An abbreviated handshake: the server went from its hello to
		   ChangeCipherSpec, so a ticket (RFC 5077 §3.1) or session id
		   it did not echo resumed the session. */
		mark_resumed(s, s->meta.ticket_offered ? TLS_RESUME_TICKET : TLS_RESUME_SESSION_ID);
	tls_keys_change_cipher_spec(s, h->dir);
	if (h->dir == TLS_DIR_TO_CLIENT)
		tls_emit_meta(s);
}

static void on_alert(struct tls_half *h, const uint8_t *p, size_t n)
{
	struct tls_stream *s = h->s;
	if (n % 2)
		tls_anomaly(s, h->dir, TLS_ANOM_UNEXPECTED_MESSAGE, n, p, n);
	for (size_t i = 0; i + 1 < n; i += 2)
		if (s->sink.alert)
			s->sink.alert(s->sink.ctx, h->dir, p[i], p[i + 1]);
}

static void dispatch(struct tls_half *h, uint8_t type, const uint8_t *p, size_t n)
{
	struct tls_stream *s = h->s;
	switch (type) {
	case TLS_RT_CCS:
		on_ccs(h);
		break;
	case TLS_RT_ALERT:
		on_alert(h, p, n);
		break;
	case TLS_RT_HANDSHAKE:
		tls_hs_feed(&h->hs, p, n, on_message, h);
		break;
	case TLS_RT_APPDATA:
		deliver_plaintext(h, p, n);
		break;
	case TLS_RT_HEARTBEAT:
		tls_anomaly(s, h->dir, TLS_ANOM_HEARTBEAT, n, p, n);
		break;
	default: /* a TLS 1.3 inner type */
		tls_anomaly(s, h->dir, TLS_ANOM_INNER_TYPE, type, p, n);
		break;
	}
}

/* Whether a record of this type is protected in direction h. */
static bool is_protected(const struct tls_half *h, uint8_t type)
{
	if (!h->protected_)
		return false;
	/* TLS 1.3 protects everything as application_data records; a
	   ChangeCipherSpec (compatibility) or early alert stays in clear. */
	return h->s->version != 0x0304 || type == TLS_RT_APPDATA;
}

static bool rec_want(void *ctx, const struct tls_rec_hdr *hdr)
{
	struct tls_half *h = ctx;
	if (is_protected(h, hdr->type))
		return h->keyed;
	return hdr->type != TLS_RT_APPDATA;
}

/* Application data in clear: 0-RTT data before the ServerHello, or a
   ChangeCipherSpec lost so protection began unseen. */
static void clear_app_data(struct tls_half *h, const struct tls_rec_hdr *hdr)
{
	struct tls_stream *s = h->s;
	s->stats.encrypted_bytes[h->dir] += hdr->len;
	if (h->dir == TLS_DIR_TO_SERVER && s->meta.early_data_offered && !s->meta.server_hello) {
		if (!s->early_reported)
			tls_anomaly(s, h->dir, TLS_ANOM_EARLY_DATA, hdr->len, NULL, 0);
		s->early_reported = true;
		return;
	}
	tls_anomaly(s, h->dir, TLS_ANOM_UNEXPECTED_MESSAGE, hdr->len, hdr->raw, 5);
	h->protected_ = true;
	h->epoch = TLS_EP_APP;
	if (s->meta.decrypt == TLS_DECRYPT_PENDING)
		s->meta.decrypt = TLS_DECRYPT_NO_HANDSHAKE;
	tls_emit_meta(s);
}

static void rec_record(void *ctx, const struct tls_rec_hdr *hdr, const uint8_t *body,
		       enum tls_rec_fate fate)
{
	struct tls_half *h = ctx;
	struct tls_stream *s = h->s;
	bool prot = is_protected(h, hdr->type);
	h->framed_any = true;
	s->stats.records[h->dir]++;
	if (fate == TLS_REC_LOST) {
		if (prot) {
			tls_keys_lost_record(h, hdr);
			lose_app_data(h, hdr->len);
		} else if (hdr->type == TLS_RT_HANDSHAKE) {
			tls_hs_reset(&h->hs);
		}
		return;
	}
	if (fate == TLS_REC_SKIPPED) {
		if (!prot) {
			clear_app_data(h, hdr);
			return;
		}
		s->stats.encrypted_bytes[h->dir] += hdr->len;
		if (hdr->type == TLS_RT_APPDATA && h->epoch == TLS_EP_APP)
			tls_emit_meta(s);
		tls_rec_trim(&h->rr);
		return;
	}
	uint8_t type = hdr->type;
	size_t n = hdr->len;
	const uint8_t *p = body;
	if (prot) {
		if (tls_keys_open(h, hdr, body, &type, &n) != TLS_OPENED) {
			s->stats.encrypted_bytes[h->dir] += hdr->len;
			lose_app_data(h, hdr->len);
			return;
		}
		p = s->scratch;
	}
	dispatch(h, type, p, n);
}

/* An SSL 2.0 ClientHello: a 2-octet length with the high bit, then type 1. */
static bool sslv2_hello(const uint8_t *h, size_t n)
{
	return n >= 3 && (h[0] & 0x80) && h[2] == 1;
}

static void rec_event(void *ctx, enum tls_rec_event ev, uint64_t n, const uint8_t *sample,
		      size_t samplen)
{
	struct tls_half *h = ctx;
	struct tls_stream *s = h->s;
	switch (ev) {
	case TLS_REC_EV_INVALID:
		if (!h->framed_any)
			tls_anomaly(s, h->dir,
				    sslv2_hello(sample, samplen) ? TLS_ANOM_SSLV2_HELLO : TLS_ANOM_NOT_TLS,
				    0, sample, samplen);
		else
			tls_anomaly(s, h->dir, TLS_ANOM_RECORD_INVALID, 0, sample, samplen);
		break;
	case TLS_REC_EV_TOO_LONG:
		tls_anomaly(s, h->dir, TLS_ANOM_RECORD_TOO_LONG, 0, sample, samplen);
		break;
	case TLS_REC_EV_DESYNC:
		tls_keys_desync(h, n);
		lose_app_data(h, n);
		tls_hs_reset(&h->hs);
		break;
	case TLS_REC_EV_RESYNC:
	case TLS_REC_EV_UNSYNCED:
		if (ev == TLS_REC_EV_RESYNC)
			tls_anomaly(s, h->dir, TLS_ANOM_RESYNC, n, NULL, 0);
		s->stats.lost_bytes[h->dir] += n;
		tls_keys_desync(h, n);
		lose_app_data(h, n);
		tls_hs_reset(&h->hs);
		break;
	case TLS_REC_EV_TRUNCATED:
		tls_anomaly(s, h->dir, TLS_ANOM_RECORD_TRUNCATED, n, NULL, 0);
		break;
	}
}

static const struct tls_rec_ops rec_ops = { rec_want, rec_record, rec_event };

struct tls_stream *tls_stream_new(const struct tls_keylog *keys, const struct tls_sink *sink,
				  unsigned flags)
{
	struct tls_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->keys = keys;
	if (sink)
		s->sink = *sink;
	s->meta.decrypt = keys ? TLS_DECRYPT_PENDING : TLS_DECRYPT_NO_KEYLOG;
	bool mid = flags & TLS_START_MIDSTREAM;
	for (int d = 0; d < TLS_DIR_COUNT; d++) {
		struct tls_half *h = &s->half[d];
		h->s = s;
		h->dir = (enum tls_dir)d;
		tls_rec_init(&h->rr, &rec_ops, h, mid);
		if (mid) { /* the handshake is behind us: records are protected */
			h->protected_ = true;
			h->epoch = TLS_EP_APP;
		}
	}
	if (mid && keys)
		s->meta.decrypt = TLS_DECRYPT_NO_HANDSHAKE;
	return s;
}

void tls_stream_data(struct tls_stream *s, enum tls_dir dir, const uint8_t *p, size_t n)
{
	if (s->ended || (unsigned)dir >= TLS_DIR_COUNT || !n)
		return;
	tls_rec_feed(&s->half[dir].rr, p, n);
}

void tls_stream_gap(struct tls_stream *s, enum tls_dir dir, size_t n)
{
	if (s->ended || (unsigned)dir >= TLS_DIR_COUNT || !n)
		return;
	tls_anomaly(s, dir, TLS_ANOM_GAP, n, NULL, 0);
	s->stats.lost_bytes[dir] += n;
	tls_rec_gap(&s->half[dir].rr, n);
}

void tls_stream_end(struct tls_stream *s)
{
	if (s->ended)
		return;
	for (int d = 0; d < TLS_DIR_COUNT; d++)
		tls_rec_end(&s->half[d].rr);
	s->ended = true;
	if (s->meta.decrypt == TLS_DECRYPT_PENDING && !s->meta.server_hello)
		s->meta.decrypt = TLS_DECRYPT_NO_HANDSHAKE;
	tls_emit_meta(s);
	for (int d = 0; d < TLS_DIR_COUNT; d++)
		flush_gap(&s->half[d]);
}

void tls_stream_free(struct tls_stream *s)
{
	if (!s)
		return;
	for (int d = 0; d < TLS_DIR_COUNT; d++) {
		tls_rec_free(&s->half[d].rr);
		tls_hs_free(&s->half[d].hs);
		tls_keys_free(&s->half[d]);
	}
	free(s->scratch);
	free(s);
}

const struct tls_meta *tls_stream_meta(const struct tls_stream *s)
{
	return &s->meta;
}

void tls_stream_stats(const struct tls_stream *s, struct tls_stream_stats *st)
{
	*st = s->stats;
}

enum tls_probe tls_probe_client_hello(const uint8_t *p, size_t n)
{
	if (n == 0)
		return TLS_PROBE_NEED_MORE;
	if (p[0] != TLS_RT_HANDSHAKE || (n >= 2 && p[1] != 3))
		return TLS_PROBE_NO;
	if (n < 6)
		return n >= 3 && p[2] > 4 ? TLS_PROBE_NO : TLS_PROBE_NEED_MORE;
	uint16_t len = (uint16_t)(p[3] << 8 | p[4]);
	if (p[2] > 4 || len < 4 || len > TLS_RECORD_MAX || p[5] != TLS_HS_CLIENT_HELLO)
		return TLS_PROBE_NO;
	return TLS_PROBE_CLIENT_HELLO;
}
