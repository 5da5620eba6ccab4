/*
 * tls_keys.c - which keys open which record (tls_int.h): the key schedule
 * seen from a passive observer holding a key log.
 *
 *   TLS 1.0-1.2: the key log gives the master secret (CLIENT_RANDOM); at each
 *     ChangeCipherSpec the direction's keys come from the key block,
 *     PRF(master, "key expansion", server_random + client_random) (RFC 5246
 *     §6.3). A resumed session has its own line under its own client random.
 *   TLS 1.3: the key log gives each traffic secret; keys and IVs come from
 *     HKDF-Expand-Label(secret, "key"/"iv") (RFC 8446 §7.3): handshake
 *     secrets after the ServerHello, application secrets after each side's
 *     Finished, the next generation at each KeyUpdate (§7.2). PSK resumption
 *     needs nothing more: its secrets are logged like any other's.
 *
 * Sequence numbers: each direction counts its protected records. When a gap
 * hides a record header the count is lost; the next records are tried with
 * the numbers around estimates of the records lost (a TLS 1.2 explicit
 * nonce; octets lost / the largest record, as in bulk transfer; octets lost /
 * the mean record), at most TLS_SEQ_GUESSES each, and after TLS_SEQ_GIVE_UP
 * records in a row fail the direction is left encrypted
 * (tls.decryption_lost). A record failing authentication is an anomaly,
 * never a crash.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "tls_int.h"
#include "tls_keylog.h"

static const struct tls_secret *find(const struct tls_stream *s, enum tls_secret_kind k)
{
	if (!s->keys || !s->have_client_random)
		return NULL;
	return tls_keylog_find(s->keys, s->client_random, k);
}

/* The decryption state told in the metadata; ACTIVE and FAILED stick. */
static void set_state(struct tls_stream *s, enum tls_decrypt d)
{
	enum tls_decrypt cur = s->meta.decrypt;
	if (cur == TLS_DECRYPT_FAILED || (cur == TLS_DECRYPT_ACTIVE && d != TLS_DECRYPT_FAILED))
		return;
	s->meta.decrypt = d;
}

static void drop_keys(struct tls_half *h)
{
	if (h->keyed)
		tls_cipher_free(&h->cipher);
	h->keyed = false;
	h->seq = 0;
	h->seq_unknown = false;
	h->lost_octets = 0;
	h->failures = 0;
	h->opened_any = false;
}

void tls_keys_free(struct tls_half *h)
{
	drop_keys(h);
	OPENSSL_cleanse(h->secret, sizeof(h->secret));
}

/* Installs a TLS 1.3 traffic secret as h's keys; false if they cannot be made. */
static bool install13(struct tls_half *h, const uint8_t *secret, size_t len)
{
	const struct tls_suite *suite = h->s->suite;
	struct tls_key_sizes ks;
	uint8_t key[TLS_KEY_MAX], iv[TLS_IV_MAX];
	drop_keys(h);
	if (len > sizeof(h->secret) || !tls_cipher_sizes(suite, 0x0304, &ks))
		return false;
	bool ok = tls_hkdf_expand_label(suite->prf, secret, len, "key", NULL, 0, key, ks.key) &&
		  tls_hkdf_expand_label(suite->prf, secret, len, "iv", NULL, 0, iv, ks.iv) &&
		  tls_cipher_init(&h->cipher, suite, 0x0304, false, key, iv, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	memmove(h->secret, secret, len);
	h->secret_len = len;
	h->keyed = ok;
	return ok;
}

/* Whether a logged secret is of any use with the negotiated suite. */
static bool suite_usable(struct tls_stream *s, enum tls_dir dir)
{
	struct tls_key_sizes ks;
	if (s->suite && tls_cipher_sizes(s->suite, s->version, &ks))
		return true;
	set_state(s, TLS_DECRYPT_UNSUPPORTED);
	tls_anomaly(s, dir, TLS_ANOM_UNSUPPORTED_CIPHER, s->meta.cipher_suite, NULL, 0);
	return false;
}

/* Sets h up with the TLS 1.3 secret `kind`; tells the metadata what came of it. */
static void key13(struct tls_stream *s, enum tls_dir dir, enum tls_secret_kind kind)
{
	struct tls_half *h = &s->half[dir];
	drop_keys(h);
	if (!s->keys) {
		set_state(s, TLS_DECRYPT_NO_KEYLOG);
		return;
	}
	const struct tls_secret *sec = find(s, kind);
	if (!sec) {
		set_state(s, TLS_DECRYPT_NO_KEYS);
		return;
	}
	if (suite_usable(s, dir) && install13(h, sec->v, sec->len))
		set_state(s, TLS_DECRYPT_ACTIVE);
}

void tls_keys_server_hello(struct tls_stream *s)
{
	if (s->version != 0x0304)
		return;
	for (int d = 0; d < TLS_DIR_COUNT; d++) {
		s->half[d].protected_ = true;
		s->half[d].epoch = TLS_EP_HANDSHAKE;
	}
	key13(s, TLS_DIR_TO_CLIENT, TLS_SECRET_SERVER_HS);
	key13(s, TLS_DIR_TO_SERVER, TLS_SECRET_CLIENT_HS);
}

void tls_keys_finished(struct tls_stream *s, enum tls_dir dir)
{
	if (s->version != 0x0304)
		return;
	s->half[dir].epoch = TLS_EP_APP;
	key13(s, dir, dir == TLS_DIR_TO_CLIENT ? TLS_SECRET_SERVER_AP0 : TLS_SECRET_CLIENT_AP0);
}

void tls_keys_update(struct tls_stream *s, enum tls_dir dir)
{
	struct tls_half *h = &s->half[dir];
	uint8_t next[TLS_HASH_MAX];
	if (s->version != 0x0304 || !h->keyed)
		return;
	size_t n = tls_hash_len(s->suite->prf);
	if (!tls_hkdf_expand_label(s->suite->prf, h->secret, h->secret_len, "traffic upd", NULL, 0,
				   next, n) ||
	    !install13(h, next, n))
		drop_keys(h);
	OPENSSL_cleanse(next, sizeof(next));
}

/* Key block of TLS <= 1.2 for direction dir; false if it cannot be made. */
static bool install12(struct tls_stream *s, enum tls_dir dir, const struct tls_secret *ms)
{
	struct tls_key_sizes ks;
	uint8_t seed[64], kb[2 * (48 + TLS_KEY_MAX + TLS_IV_MAX)];
	if (!tls_cipher_sizes(s->suite, s->version, &ks))
		return false;
	size_t len = 2 * (ks.mac + ks.key + ks.iv);
	memcpy(seed, s->server_random, 32);
	memcpy(seed + 32, s->client_random, 32);
	if (!tls_prf(s->version < 0x0303, s->suite->prf, ms->v, ms->len, "key expansion", seed, 64,
		     kb, len))
		return false;
	/* client MAC, server MAC, client key, server key, client IV, server IV */
	bool c = dir == TLS_DIR_TO_SERVER;
	const uint8_t *mac = kb + (c ? 0 : ks.mac);
	const uint8_t *key = kb + 2 * ks.mac + (c ? 0 : ks.key);
	const uint8_t *iv = kb + 2 * (ks.mac + ks.key) + (c ? 0 : ks.iv);
	bool ok = tls_cipher_init(&s->half[dir].cipher, s->suite, s->version,
				  s->meta.encrypt_then_mac, key, iv, mac);
	OPENSSL_cleanse(kb, sizeof(kb));
	return ok;
}

void tls_keys_change_cipher_spec(struct tls_stream *s, enum tls_dir dir)
{
	struct tls_half *h = &s->half[dir];
	drop_keys(h);
	h->protected_ = true;
	h->epoch = TLS_EP_APP;
	if (!s->keys) {
		set_state(s, TLS_DECRYPT_NO_KEYLOG);
		return;
	}
	if (!s->have_client_random || !s->have_server_random || !s->suite) {
		set_state(s, TLS_DECRYPT_NO_HANDSHAKE);
		return;
	}
	const struct tls_secret *ms = find(s, TLS_SECRET_MASTER);
	if (!ms) {
		set_state(s, TLS_DECRYPT_NO_KEYS);
		return;
	}
	if (!suite_usable(s, dir))
		return;
	h->keyed = install12(s, dir, ms);
	if (h->keyed)
		set_state(s, TLS_DECRYPT_ACTIVE);
}

void tls_keys_desync(struct tls_half *h, uint64_t n)
{
	h->seq_unknown = true;
	h->lost_octets += n;
	if (h->keyed)
		tls_cipher_lose(&h->cipher);
}

static void note_size(struct tls_half *h, const struct tls_rec_hdr *hdr)
{
	uint64_t size = 5 + (uint64_t)hdr->len;
	if (size > h->max_record)
		h->max_record = size;
}

/* A record went by unopened: it took a sequence number. */
static void passed_unopened(struct tls_half *h, const struct tls_rec_hdr *hdr)
{
	note_size(h, hdr);
	if (h->seq_unknown)
		h->lost_octets += 5 + (uint64_t)hdr->len;
	else
		h->seq++;
}

void tls_keys_lost_record(struct tls_half *h, const struct tls_rec_hdr *hdr)
{
	passed_unopened(h, hdr);
	if (h->keyed)
		tls_cipher_lose(&h->cipher);
}

/* A record that did not open: report, count, give up after too many. */
static void open_failed(struct tls_half *h, const struct tls_rec_hdr *hdr)
{
	struct tls_stream *s = h->s;
	tls_anomaly(s, h->dir, TLS_ANOM_BAD_RECORD_MAC, hdr->len, hdr->raw, 5);
	if (h->seq_unknown)
		h->lost_octets += 5 + (uint64_t)hdr->len;
	if (++h->failures < TLS_SEQ_GIVE_UP)
		return;
	if (!h->opened_any)
		set_state(s, TLS_DECRYPT_FAILED);
	tls_anomaly(s, h->dir, TLS_ANOM_DECRYPTION_LOST, h->failures, NULL, 0);
	drop_keys(h);
}

static void opened(struct tls_half *h, uint64_t seq, const struct tls_rec_hdr *hdr)
{
	uint64_t size = 5 + (uint64_t)hdr->len;
	h->avg_record = h->avg_record ? (h->avg_record * 7 + size) / 8 : size;
	note_size(h, hdr);
	h->seq = seq + 1;
	h->seq_unknown = false;
	h->lost_octets = 0;
	h->failures = 0;
	h->opened_any = true;
}

/* The k-th guess around est: est, est+1, est-1, est+2, ...; false if negative. */
static bool guess(uint64_t est, unsigned k, uint64_t *out)
{
	uint64_t off = (k + 1) / 2;
	if (k % 2) {
		*out = est + off;
		return true;
	}
	if (off > est)
		return false;
	*out = est - off;
	return true;
}

/* Octets / size, rounded up, at least 1. */
static uint64_t records_in(uint64_t octets, uint64_t size)
{
	uint64_t k = size ? (octets + size - 1) / size : octets;
	return k ? k : 1;
}

/*
 * Estimates of the records lost before this one, best first: TLS 1.2
 * GCM/CCM usually carry the sequence number as explicit nonce (RFC 5288 §3);
 * lost octets in records as large as the largest seen (bulk transfer, where
 * losses mostly happen); lost octets in records of the mean size.
 */
static size_t estimates(const struct tls_half *h, const uint8_t *body, size_t n, uint64_t est[3])
{
	size_t k = 0;
	if (h->cipher.prot == TLS_PROT_AEAD_EXPLICIT && n >= 8) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | body[i];
		if (v >= h->seq && v - h->seq < TLS_SEQ_GUESSES * 1024)
			est[k++] = v - h->seq;
	}
	est[k++] = records_in(h->lost_octets, h->max_record);
	est[k++] = records_in(h->lost_octets, h->avg_record);
	return k;
}

/* Whether a record of h that did not open may be 0-RTT data. */
static bool early_data(const struct tls_half *h)
{
	const struct tls_stream *s = h->s;
	return h->dir == TLS_DIR_TO_SERVER && s->version == 0x0304 &&
	       h->epoch == TLS_EP_HANDSHAKE && !h->opened_any && s->meta.early_data_offered &&
	       !s->meta.hello_retry;
}

/*
 * Opens the record with the next sequence number, or after a lost header
 * with the guesses around the estimates; true with *seq the one that worked.
 */
static bool open_record(struct tls_half *h, const struct tls_rec_hdr *hdr, const uint8_t *body,
			uint8_t *type, size_t *len, uint64_t *seq)
{
	uint8_t *out = h->s->scratch;
	*seq = h->seq;
	if (!h->seq_unknown)
		return tls_cipher_open(&h->cipher, *seq, hdr->raw, body, hdr->len, out, len, type);
	uint64_t est[3], k;
	size_t nest = estimates(h, body, hdr->len, est);
	for (unsigned i = 0; i < TLS_SEQ_GUESSES; i++) {
		if (!guess(est[i % nest], i / nest, &k))
			continue;
		*seq = h->seq + k;
		if (tls_cipher_open(&h->cipher, *seq, hdr->raw, body, hdr->len, out, len, type))
			return true;
	}
	return false;
}

enum tls_open_result tls_keys_open(struct tls_half *h, const struct tls_rec_hdr *hdr,
				   const uint8_t *body, uint8_t *type, size_t *len)
{
	struct tls_stream *s = h->s;
	if (!h->keyed)
		return TLS_NOT_OPENED;
	if (!s->scratch)
		s->scratch = malloc(TLS_RECORD_MAX);
	if (!s->scratch)
		return TLS_NOT_OPENED;
	if (h->cipher.iv_lost) {
		/* TLS 1.0 CBC after a lost record: this one's IV is gone with it,
		   but its last block is the next one's. Lost, not a failure. */
		tls_cipher_advance(&h->cipher, body, hdr->len);
		passed_unopened(h, hdr);
		return TLS_NOT_OPENED;
	}
	uint64_t seq;
	bool ok = open_record(h, hdr, body, type, len, &seq);
	tls_cipher_advance(&h->cipher, body, hdr->len);
	if (ok) {
		opened(h, seq, hdr);
		return TLS_OPENED;
	}
	if (early_data(h)) {
		/* 0-RTT records (RFC 8446 §4.2.10) come before the client's
		   handshake records under keys not logged here: not a failure,
		   and they take no handshake sequence number. */
		if (!s->early_reported)
			tls_anomaly(s, h->dir, TLS_ANOM_EARLY_DATA, hdr->len, NULL, 0);
		s->early_reported = true;
		return TLS_NOT_OPENED;
	}
	if (!h->seq_unknown)
		h->seq++;
	open_failed(h, hdr);
	return TLS_NOT_OPENED;
}
