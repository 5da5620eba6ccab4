/*
 * tls_int.h - the state of a TLS stream, shared by tls_stream.c (records,
 * handshake messages, metadata, the sink) and tls_keys.c (which keys open
 * which records). Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_INT_H
#define POPSIFT_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "tls_cipher.h"
#include "tls_handshake.h"
#include "tls_kdf.h"
#include "tls_record.h"
#include "tls_suites.h"

/* After a lost record header: sequence numbers tried per record, and records
   in a row that may fail before the direction is given up. */
#define TLS_SEQ_GUESSES 64
#define TLS_SEQ_GIVE_UP 4
/* The same anomaly is reported at most this often per direction: a stream of
   bad records must not become a stream of anomalies. */
#define TLS_ANOMALY_REPEAT 8

/* What protects the records a direction sends next. */
enum tls_epoch {
	TLS_EP_CLEAR,	  /* nothing yet */
	TLS_EP_HANDSHAKE, /* TLS 1.3 handshake traffic keys */
	TLS_EP_APP,	  /* TLS 1.3 application keys; TLS <= 1.2 after ChangeCipherSpec */
	TLS_EP_COUNT
};

struct tls_stream;

/* One direction. */
struct tls_half {
	struct tls_stream *s;
	enum tls_dir dir;
	struct tls_rec_reader rr;
	struct tls_hs_reader hs;
	enum tls_epoch epoch;
	bool protected_;	/* records are protected (whether or not we hold keys) */
	bool keyed;		/* cipher is set up */
	struct tls_cipher cipher;
	uint8_t secret[TLS_HASH_MAX]; /* TLS 1.3: the current traffic secret */
	size_t secret_len;
	uint64_t seq;	      /* sequence number of the next record */
	bool seq_unknown;     /* a record header was lost: guess */
	uint64_t lost_octets; /* octets lost since the last record opened */
	uint64_t avg_record;  /* running mean record size, for the guess */
	uint64_t max_record;  /* largest record seen (a full one, in bulk transfer) */
	unsigned failures;    /* records in a row no guess opened */
	bool opened_any;      /* some record opened with the current keys */
	uint64_t pending_gap; /* application data lost, not told yet */
	bool framed_any;      /* a record was framed (else a bad header: not TLS) */
};

struct tls_stream {
	const struct tls_keylog *keys;
	struct tls_sink sink;
	struct tls_meta meta;
	bool meta_sent;
	bool ended;
	uint8_t client_random[32];
	uint8_t server_random[32];
	bool have_client_random, have_server_random;
	uint8_t client_session_id[32];
	size_t client_session_id_len;
	const struct tls_suite *suite; /* of the last ServerHello */
	uint16_t version;	       /* negotiated, 0 before the ServerHello */
	bool server_flight;	       /* Certificate/KeyExchange/HelloDone since it */
	unsigned handshakes;	       /* ServerHellos seen (not counting HRR) */
	uint8_t *scratch;	       /* plaintext of the record being opened */
	bool early_reported;	       /* tls.early_data_not_decrypted told */
	uint8_t anomaly_count[TLS_DIR_COUNT][TLS_ANOM_COUNT]; /* up to TLS_ANOMALY_REPEAT */
	struct tls_half half[TLS_DIR_COUNT];
	struct tls_stream_stats stats;
};

/* tls_stream.c */
void tls_anomaly(struct tls_stream *s, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
		 const uint8_t *sample, size_t n);
void tls_emit_meta(struct tls_stream *s);

/* tls_keys.c */
enum tls_open_result {
	TLS_OPENED,   /* plaintext given */
	TLS_NOT_OPENED /* no keys, or authentication failed (already reported) */
};
/* After a (non-HRR) ServerHello: TLS 1.3 handshake keys for both directions. */
void tls_keys_server_hello(struct tls_stream *s);
/* A ChangeCipherSpec of TLS <= 1.2 in direction dir: its keys take over. */
void tls_keys_change_cipher_spec(struct tls_stream *s, enum tls_dir dir);
/* TLS 1.3 Finished of direction dir: application traffic keys take over. */
void tls_keys_finished(struct tls_stream *s, enum tls_dir dir);
/* TLS 1.3 KeyUpdate of direction dir (RFC 8446 §4.6.3, §7.2). */
void tls_keys_update(struct tls_stream *s, enum tls_dir dir);
/* Opens a protected record of h; plaintext into s->scratch. */
enum tls_open_result tls_keys_open(struct tls_half *h, const struct tls_rec_hdr *hdr,
				   const uint8_t *body, uint8_t *type, size_t *len);
/* Framing was lost (n octets gone) / found again after `skipped` octets. */
void tls_keys_desync(struct tls_half *h, uint64_t n);
void tls_keys_lost_record(struct tls_half *h, const struct tls_rec_hdr *hdr);
void tls_keys_free(struct tls_half *h);

#endif
