/*
 * tls_keylog.h - the key store: secrets of TLS sessions from NSS key log text
 * (the SSLKEYLOGFILE format written by NSS, OpenSSL, GnuTLS, curl, browsers,
 * python's ssl keylog_filename; also the payload of a pcapng Decryption
 * Secrets Block), matched by client random. Public interface.
 *
 * Lines read (everything else is counted and ignored):
 *   CLIENT_RANDOM <64 hex client random> <96 hex master secret>      TLS 1.0-1.2
 *   CLIENT_EARLY_TRAFFIC_SECRET, CLIENT_HANDSHAKE_TRAFFIC_SECRET,
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
 *   SERVER_TRAFFIC_SECRET_0 <64 hex client random> <64 or 96 hex secret>  TLS 1.3
 * '#' starts a comment line; blank lines, CR before LF and spaces or tabs
 * between fields are accepted. A resumed TLS 1.2 session has its own line
 * under its own client random (NSS and OpenSSL log the master secret again).
 *
 * Bounded: a line of more than TLS_KEYLOG_LINE_MAX octets is invalid, and at
 * most TLS_KEYLOG_MAX_SESSIONS client randoms are kept (further ones are
 * counted as dropped). Not thread-safe: fill it on the thread that reads it.
 */
#ifndef POPSIFT_TLS_KEYLOG_H
#define POPSIFT_TLS_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_KEYLOG_LINE_MAX 512		/* the longest valid line is about 200 */
#define TLS_KEYLOG_MAX_SESSIONS 262144 /* 326 octets each: about 85 MB at most */
#define TLS_SECRET_MAX 48		/* SHA-384 output, the TLS 1.2 master secret */

enum tls_secret_kind {
	TLS_SECRET_MASTER,	/* CLIENT_RANDOM */
	TLS_SECRET_CLIENT_EARLY, /* CLIENT_EARLY_TRAFFIC_SECRET */
	TLS_SECRET_CLIENT_HS,	/* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	TLS_SECRET_SERVER_HS,	/* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	TLS_SECRET_CLIENT_AP0,	/* CLIENT_TRAFFIC_SECRET_0 */
	TLS_SECRET_SERVER_AP0,	/* SERVER_TRAFFIC_SECRET_0 */
	TLS_SECRET_KIND_COUNT
};

struct tls_secret {
	uint8_t len; /* 0: not logged */
	uint8_t v[TLS_SECRET_MAX];
};

struct tls_keylog_stats {
	uint64_t lines;		/* lines read, comments and blank ones included */
	uint64_t secrets;	/* secret lines stored (a repeated one counts again) */
	uint64_t sessions;	/* distinct client randoms */
	uint64_t ignored;	/* known labels popsift does not use (EXPORTER_SECRET, RSA) */
	uint64_t invalid;	/* malformed lines and unknown labels */
	uint64_t dropped;	/* secrets of sessions beyond TLS_KEYLOG_MAX_SESSIONS */
	uint64_t first_invalid; /* line number of the first invalid line, 0 if none */
};

struct tls_keylog;

/* An empty store; NULL when out of memory. */
struct tls_keylog *tls_keylog_new(void);
void tls_keylog_free(struct tls_keylog *kl);

/*
 * Reads key log text, which may come in pieces cut anywhere (a line may span
 * calls). tls_keylog_flush() ends the text: a last line without LF is read.
 */
void tls_keylog_feed(struct tls_keylog *kl, const char *text, size_t n);
void tls_keylog_flush(struct tls_keylog *kl);
/* feed + flush: one piece of text given whole (a Decryption Secrets Block). */
void tls_keylog_add_text(struct tls_keylog *kl, const char *text, size_t n);
/* Reads a key log file; 0, or -1 with errno set when it cannot be read. */
int tls_keylog_load_file(struct tls_keylog *kl, const char *path);

/* The secret of that kind logged for client_random, or NULL. */
const struct tls_secret *tls_keylog_find(const struct tls_keylog *kl,
					 const uint8_t client_random[32],
					 enum tls_secret_kind kind);
void tls_keylog_stats(const struct tls_keylog *kl, struct tls_keylog_stats *st);

#endif
