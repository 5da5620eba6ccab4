/*
 * tls.h - the TLS stream layer, public interface. It sits between TCP
 * reassembly and a dissector: it is fed a session's two byte streams (client
 * to server and server to client, each in order, with gaps) and gives back
 *   - the session's TLS metadata (struct tls_meta, once, before any plaintext),
 *   - the application data of each direction, decrypted when a key log holds
 *     the session's secrets, exactly the bytes the peer wrote, in order, so a
 *     dissector can be fed them as if they were cleartext,
 *   - plaintext gaps, TLS alerts and anomalies (stable ids, tls_anomalies.def).
 *
 * It knows nothing of libnids, JSON, files of the capture or POP. Its parts,
 * each src/tls/tls_<part>.c: record (framing, resynchronisation), handshake
 * (message framing), hello (ClientHello/ServerHello), cert (X.509 through
 * OpenSSL), fingerprint (JA3, JA3S, JA4), keylog (NSS key log), kdf (TLS PRF,
 * HKDF-Expand-Label), cipher (record decryption), keys (which key opens which
 * record), suites (the IANA table), names, stream (this interface).
 *
 * Contract: identical output whether the bytes come whole or one at a time
 * (chunk-invariant); every buffer bounded (a record, TLS_RECORD_MAX; a
 * handshake message, TLS_HANDSHAKE_MAX); hostile input never crashes, hangs or
 * grows memory. Callbacks run synchronously inside tls_stream_data/gap/end.
 *
 * STARTTLS (POP3 STLS, RFC 2595): create the stream when the upgrade is
 * agreed and feed each direction from its first TLS byte (the client's byte
 * after "STLS\r\n", the server's after its "+OK" line). Port 995: from the
 * first byte. A session picked up mid-stream: TLS_START_MIDSTREAM.
 */
#ifndef POPSIFT_TLS_H
#define POPSIFT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_keylog; /* tls_keylog.h */
struct tls_stream;

/* The values of popsift's enum dir (dissectors/event.h), so one casts to the other. */
enum tls_dir {
	TLS_DIR_TO_SERVER = 0, /* bytes the client sent */
	TLS_DIR_TO_CLIENT = 1, /* bytes the server sent */
	TLS_DIR_COUNT
};

#define TLS_RECORD_MAX (16384 + 2048) /* TLSCiphertext.length, RFC 5246 §6.2.3 */
#define TLS_HANDSHAKE_MAX 65536	      /* a handshake message; a longer chain is cut */
#define TLS_SNI_MAX 255		      /* host_name kept (RFC 1035: a name is at most 255) */
#define TLS_ALPN_MAX 255	      /* a protocol name (RFC 7301 §3.1: 1 to 255 octets) */
#define TLS_ALPN_LIST_MAX 255	      /* the offered names, comma-joined */
#define TLS_DN_MAX 512		      /* subject or issuer, one line */
#define TLS_SERIAL_MAX 65	      /* 32 octets in hex (RFC 5280 allows 20) + NUL */
#define TLS_SAN_MAX 16		      /* subject alternative names kept */
#define TLS_SAN_LEN 256		      /* octets of one name kept */
#define TLS_JA3_MAX 1024	      /* the JA3/JA3S string kept (its hash covers all) */
#define TLS_SUITE_NAME_MAX 64	      /* the longest IANA name is 48 */
#define TLS_SAMPLE_MAX 64	      /* evidence octets given with an anomaly */

enum tls_anomaly {
#define TLS_ANOMALY(e, id, why) e,
#include "tls_anomalies.def"
#undef TLS_ANOMALY
	TLS_ANOM_COUNT
};

const char *tls_anomaly_id(enum tls_anomaly a);
const char *tls_anomaly_why(enum tls_anomaly a);

/* Why the metadata holds the certificate it holds. */
enum tls_cert_status {
	TLS_CERT_NONE,	     /* no Certificate message seen */
	TLS_CERT_PARSED,     /* cert below is filled */
	TLS_CERT_ENCRYPTED,  /* TLS 1.3 and no keys for its handshake */
	TLS_CERT_NOT_SENT,   /* resumed session: the handshake carries none */
	TLS_CERT_EMPTY,	     /* an empty certificate_list */
	TLS_CERT_UNPARSABLE, /* d2i_X509 refused the first certificate */
	TLS_CERT_COMPRESSED, /* RFC 8879 CompressedCertificate, not inflated */
	TLS_CERT_STATUS_COUNT
};
/* "none", "parsed", "encrypted", "not-sent", "empty", "unparsable", "compressed" */
const char *tls_cert_status_name(enum tls_cert_status s);

enum tls_san_type { TLS_SAN_DNS, TLS_SAN_IP, TLS_SAN_EMAIL, TLS_SAN_URI, TLS_SAN_TYPE_COUNT };
const char *tls_san_type_name(enum tls_san_type t); /* "dns", "ip", "email", "uri" */

struct tls_san {
	enum tls_san_type type;
	uint16_t len;		     /* octets kept in value */
	uint8_t value[TLS_SAN_LEN]; /* as in the certificate (IP addresses as text) */
};

/* The server's (leaf) certificate, parsed by OpenSSL. */
struct tls_cert {
	char subject[TLS_DN_MAX];      /* "C=.., O=.., CN=.." in certificate order, UTF-8 */
	char issuer[TLS_DN_MAX];       /* control characters escaped by OpenSSL */
	char serial[TLS_SERIAL_MAX];   /* upper-case hex, as `openssl x509 -serial` */
	int64_t not_before, not_after; /* seconds since 1970-01-01 UTC */
	uint8_t sha256[32];	       /* of the DER */
	bool self_signed;	       /* issued by itself and its signature checks */
	unsigned san_count;
	bool san_truncated; /* more than TLS_SAN_MAX, or a name cut at TLS_SAN_LEN */
	struct tls_san san[TLS_SAN_MAX];
	unsigned chain_length; /* certificates in the message (as far as it was read) */
};

enum tls_resumption {
	TLS_RESUME_NONE,
	TLS_RESUME_SESSION_ID, /* TLS <= 1.2, RFC 5246 §7.3 */
	TLS_RESUME_TICKET,     /* TLS <= 1.2, RFC 5077 */
	TLS_RESUME_PSK,	       /* TLS 1.3, RFC 8446 §2.2 */
	TLS_RESUME_COUNT
};
const char *tls_resumption_name(enum tls_resumption r); /* "none", "session-id", "ticket", "psk" */

enum tls_decrypt {
	TLS_DECRYPT_NO_KEYLOG,	 /* no key log was given */
	TLS_DECRYPT_PENDING,	 /* the handshake is not that far yet */
	TLS_DECRYPT_NO_KEYS,	 /* the key log has no secret for this client random */
	TLS_DECRYPT_NO_HANDSHAKE, /* the hellos were not seen (mid-stream, gap) */
	TLS_DECRYPT_UNSUPPORTED, /* the cipher suite is not one popsift decrypts */
	TLS_DECRYPT_ACTIVE,	 /* records are being decrypted */
	TLS_DECRYPT_FAILED,	 /* keys given, but records fail authentication */
	TLS_DECRYPT_COUNT
};
/* "no-keylog", "pending", "no-keys", "no-handshake", "unsupported-cipher", "active", "failed" */
const char *tls_decrypt_name(enum tls_decrypt d);

/* Weakness of a cipher suite, by its name (tls_suites.def). */
#define TLS_WEAK_NULL 0x01   /* no encryption */
#define TLS_WEAK_EXPORT 0x02 /* export grade */
#define TLS_WEAK_RC4 0x04
#define TLS_WEAK_DES 0x08 /* single DES */
#define TLS_WEAK_3DES 0x10
#define TLS_WEAK_ANON 0x20 /* anonymous key exchange: no authentication */

/*
 * Everything the layer learnt of the session. Byte strings from the wire
 * (sni, alpn, SANs) are kept raw with their length: they may hold any octet.
 */
struct tls_meta {
	/* ClientHello (the first one, when a HelloRetryRequest asked for a second) */
	bool client_hello;
	uint16_t client_version;     /* legacy_version */
	uint16_t client_max_version; /* highest supported_versions entry, else legacy_version */
	uint8_t sni[TLS_SNI_MAX];    /* server_name host_name, RFC 6066 §3 */
	size_t sni_len;
	bool sni_present;
	uint8_t alpn_offered[TLS_ALPN_LIST_MAX]; /* "h2,http/1.1" */
	size_t alpn_offered_len;
	bool session_id_offered; /* non-empty legacy_session_id (TLS <= 1.2 resumption) */
	bool ticket_offered;	 /* non-empty session_ticket extension */
	bool psk_offered;	 /* pre_shared_key extension (TLS 1.3 resumption) */
	bool early_data_offered;
	char ja3[33];  /* hex MD5 of ja3_string */
	char ja3_string[TLS_JA3_MAX];
	bool ja3_truncated; /* ja3_string cut (the hash is not) */
	char ja4[37];	    /* FoxIO JA4, "t13d1516h2_8daaf6152771_e5627efa2ab1" */

	/* ServerHello */
	bool server_hello;
	bool hello_retry; /* a HelloRetryRequest came first (RFC 8446 §4.1.4) */
	uint16_t version; /* negotiated: supported_versions, else legacy_version */
	uint16_t cipher_suite;
	char cipher_suite_name[TLS_SUITE_NAME_MAX]; /* IANA name, or "unknown(0x....)" */
	unsigned cipher_weakness;		    /* TLS_WEAK_* bits */
	char ja3s[33];
	char ja3s_string[TLS_JA3_MAX];
	bool ja3s_truncated;
	uint8_t alpn[TLS_ALPN_MAX]; /* the protocol the server chose (TLS 1.3: from */
	size_t alpn_len;	    /* EncryptedExtensions, so only with keys) */
	bool encrypt_then_mac;	    /* RFC 7366, for CBC suites */
	bool extended_master_secret;
	bool resumed;
	enum tls_resumption resumption;
	bool ticket_issued; /* a NewSessionTicket (TLS 1.3: after the handshake, so */
			    /* only in tls_stream_meta(), not in the emitted copy) */

	/* The server certificate */
	enum tls_cert_status cert_status;
	struct tls_cert cert;

	enum tls_decrypt decrypt;
};

const char *tls_version_name(uint16_t v); /* "TLS 1.2", ...; "unknown" */
const char *tls_alert_name(uint8_t description); /* "close_notify", ...; "unknown" */
/* The IANA name of a cipher suite, NULL when the registry has none. */
const char *tls_suite_name(uint16_t code);
unsigned tls_suite_weakness(uint16_t code);

/*
 * Where the layer's output goes. Any member may be NULL. Pointers given to a
 * callback are valid during the call only.
 */
struct tls_sink {
	void *ctx;
	/* Once per stream: when the handshake is over as far as the capture shows
	   it, before the first plaintext, at the latest at tls_stream_end(). */
	void (*meta)(void *ctx, const struct tls_meta *m);
	/* Application data, decrypted, in order per direction. */
	void (*plaintext)(void *ctx, enum tls_dir dir, const uint8_t *p, size_t n);
	/* Application data of direction dir was lost (a gap, a record failing
	   authentication): at most `lost` octets (ciphertext octets, an upper
	   bound). Given once before the next plaintext, or at the end. */
	void (*gap)(void *ctx, enum tls_dir dir, uint64_t lost);
	/* detail: a number the anomaly is about (octets lost or skipped, a
	   record's length, a cipher suite), 0 if none; sample: evidence octets
	   (a bad record header), at most TLS_SAMPLE_MAX, NULL if none. */
	void (*anomaly)(void *ctx, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
			const uint8_t *sample, size_t n);
	/* A TLS alert (RFC 8446 §6), in clear or decrypted. */
	void (*alert)(void *ctx, enum tls_dir dir, uint8_t level, uint8_t description);
};

#define TLS_START_MIDSTREAM 0x01 /* the first bytes may be inside a record */

/*
 * A new stream. keys may be NULL (metadata only); it must outlive the stream
 * and may get more secrets while the stream runs (they are looked up when a
 * key is needed). Returns NULL when out of memory.
 */
struct tls_stream *tls_stream_new(const struct tls_keylog *keys, const struct tls_sink *sink,
				  unsigned flags);
void tls_stream_data(struct tls_stream *s, enum tls_dir dir, const uint8_t *p, size_t n);
/* n octets of direction dir were lost on the wire at this point. */
void tls_stream_gap(struct tls_stream *s, enum tls_dir dir, size_t n);
/* No more input: flushes pending gaps and anomalies, emits the metadata if not yet. */
void tls_stream_end(struct tls_stream *s);
void tls_stream_free(struct tls_stream *s);
/* The metadata as known now. */
const struct tls_meta *tls_stream_meta(const struct tls_stream *s);

struct tls_stream_stats {
	uint64_t records[TLS_DIR_COUNT];	 /* complete records framed */
	uint64_t plaintext_bytes[TLS_DIR_COUNT]; /* application data delivered */
	uint64_t encrypted_bytes[TLS_DIR_COUNT]; /* record octets left encrypted */
	uint64_t lost_bytes[TLS_DIR_COUNT];	 /* gaps and skipped octets */
};
void tls_stream_stats(const struct tls_stream *s, struct tls_stream_stats *st);

enum tls_probe {
	TLS_PROBE_NO,	      /* not a TLS ClientHello */
	TLS_PROBE_NEED_MORE,  /* too short to tell */
	TLS_PROBE_CLIENT_HELLO /* a handshake record starting a ClientHello */
};
/* Whether the first bytes a client sent start a TLS ClientHello record. */
enum tls_probe tls_probe_client_hello(const uint8_t *p, size_t n);

#endif
