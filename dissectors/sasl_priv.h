/*
 * sasl_priv.h - what the SASL mechanism files (sasl_*.c) share with sasl.c and
 * with nobody else: the exchange state, the per-mechanism hooks, and helpers
 * for RFC 5801 saslnames and bounded cracking-line building. Anomalies go
 * out through emit_anomaly() (emit.h) with the exchange's sink.
 *
 * sasl.c owns the exchange (base64, dispatch, the fields given to the caller);
 * each sasl_<family>.c owns one mechanism family's parsing and its state in
 * s->st. No file outside dissectors/sasl*.c includes this header.
 */
#ifndef POPSIFT_SASL_PRIV_H
#define POPSIFT_SASL_PRIV_H

#include "bstr.h"
#include "emit.h"
#include "sasl.h"

/* One decoded SASL line: the base64 text as on the wire and its decoding. */
struct sasl_msg {
	struct bytes wire;
	uint8_t *d; /* writable, NUL-terminated after n bytes; freed by sasl.c */
	size_t n;
};

/* A mechanism family's hooks. A NULL server hook leaves challenges undecoded. */
struct sasl_mech {
	const char *name;  /* canonical name, e.g. "NTLM" */
	size_t state_size; /* bytes calloc'd for s->st */
	void (*client)(struct sasl *s, struct sasl_msg *m);
	void (*server)(struct sasl *s, struct sasl_msg *m);
	bool (*layer)(const struct sasl *s); /* NULL: never a security layer */
	void (*free_state)(void *st);        /* frees what st owns, not st */
};

struct sasl {
	struct event_sink *sink;
	const struct sasl_mech *mech; /* NULL: a mechanism popsift does not decode */
	char name[SASL_MECH_MAX + 1];  /* as the client sent it, upper-cased */
	unsigned responses;            /* client lines, the initial response included */
	unsigned challenges;           /* "+ " lines */
	struct bstr user, secret, authzid, realm, workstation;
	struct bstr hash;              /* the cracking line, when complete */
	const char *hash_format;
	int hashcat_mode;
	bool cleartext;
	bool cancelled;                /* the client answered "*" */
	void *st; /* the mechanism's own state */
};

/* Mechanism families living in their own files. */
extern const struct sasl_mech sasl_mech_digest_md5; /* sasl_digest.c */
extern const struct sasl_mech sasl_mech_ntlm;       /* sasl_ntlm.c */
extern const struct sasl_mech sasl_mech_scram;      /* sasl_scram.c */
extern const struct sasl_mech sasl_mech_gssapi;     /* sasl_gssapi.c */
extern const struct sasl_mech sasl_mech_kerberos_v4;

/*
 * Decodes an RFC 5801 saslname ("=2C" is ',', "=3D" is '=') into *out, bounded
 * by SASL_FIELD_MAX. Returns false (leaving *out untouched) when an '=' starts
 * no valid escape.
 */
bool sasl_saslname(struct bytes in, struct bstr *out);

/*
 * RFC 5801 gs2-header: cbind-flag ("n", "y" or "p=name") "," [ "a=" saslname ] ",".
 * Sets *authzid (still escaped, possibly empty) and *len, the header's length
 * with both commas. Returns false when p[0..n) does not start with one.
 */
bool sasl_gs2_header(const uint8_t *p, size_t n, struct bytes *authzid, size_t *len);

/* True when byte c occurs in b: a field holding a line's separator is unusable. */
static inline bool sasl_has_byte(struct bytes b, uint8_t c)
{
	return b.n && memchr(b.p, c, b.n) != NULL;
}

/*
 * A cracking line under construction, capped at SASL_HASH_MAX bytes. Once a
 * piece does not fit the line is marked full and sasl_set_hash() drops it: a
 * truncated hash line would only mislead a cracker.
 */
struct sasl_line {
	uint8_t *p;
	size_t n, cap;
	bool full;
};

void sl_mem(struct sasl_line *l, const void *p, size_t n);
void sl_str(struct sasl_line *l, const char *z);
void sl_hex(struct sasl_line *l, const uint8_t *p, size_t n);
void sl_b64(struct sasl_line *l, const uint8_t *p, size_t n);
static inline void sl_bytes(struct sasl_line *l, struct bytes b)
{
	sl_mem(l, b.p, b.n);
}
/* Makes l the exchange's hash line (or drops it when full); frees l's buffer. */
void sasl_set_hash(struct sasl *s, struct sasl_line *l, const char *format, int mode);

#endif
