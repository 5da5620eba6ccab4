/*
 * event.h - the typed events a dissector emits, and the sink that takes them.
 *
 * This is the only thing dissectors and output share. A dissector fills one of
 * these plain structs and calls sink->emit(); it never knows whether the event
 * becomes JSON, a text line, a file on disk or an entry in a unit test's log.
 * Byte strings point into the dissector's own memory and are valid only for the
 * duration of the emit() call: a sink that keeps one must copy it.
 */
#ifndef POPSIFT_EVENT_H
#define POPSIFT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"

/* Bounds on what events carry, shared by the dissectors that fill and the output that keeps. */
#define EV_UID_MAX 70     /* RFC 1939 §7: a unique-id is 1 to 70 characters */
#define EV_FOLDER_MAX 256 /* a POP2 folder name */

/* Raw bytes as they were on the wire; not NUL-terminated, may hold any byte. */
struct bytes {
	const uint8_t *p;
	size_t n;
};

#define BYTES_NONE ((struct bytes){ NULL, 0 })

enum dir {
	DIR_TO_SERVER = 0, /* bytes the client sent */
	DIR_TO_CLIENT = 1, /* bytes the server sent */
	DIR_COUNT
};

enum ev_type {
	EV_AUTH,
	EV_MESSAGE_BEGIN,
	EV_MESSAGE_DATA,
	EV_MESSAGE_END,
	EV_TLS,
	EV_COMMAND,
	EV_ANOMALY,
	EV_SESSION,
	EV_TYPE_COUNT
};

enum auth_result {
	AUTH_RESULT_UNKNOWN, /* the capture holds no reply */
	AUTH_RESULT_SUCCESS,
	AUTH_RESULT_FAILURE,
	AUTH_RESULT_COUNT
};

/*
 * The fields of each event that point to memory, listed once, beside each
 * struct: whatever keeps an event beyond emit() copies them through these
 * lists (output/handoff.c copies every event across threads so), and
 * tests/e2e/test_contract.py fails when a struct here gains a pointer field
 * its list lacks: a field missing from the list would be read by the output
 * thread after the dissector reused its memory.
 *
 * X(kind, field, count), kind one of:
 *   STR          const char *field: NUL-terminated, or NULL
 *   BYTES        struct bytes field
 *   SPAN         const uint8_t *field, `count` octets
 *   BYTES_ARRAY  const struct bytes *field, `count` of them
 *   ENTRY_ARRAY  const struct mailbox_entry *field, `count` of them, each
 *                copied through MAILBOX_ENTRY_POINTERS
 * count is `_` where the kind has none.
 */

/* One login attempt, emitted once its outcome is known (or at session end). */
struct ev_auth {
	const char *mechanism; /* "USER", "APOP", "PLAIN", "HELO", ... */
	struct bytes username;
	struct bytes password; /* the reusable secret, when cleartext */
	bool cleartext;        /* a reusable secret (password, token) was readable in the stream */
	enum auth_result result;
	struct bytes reply;    /* the server's status line deciding the outcome */
	struct bytes challenge; /* APOP: the greeting's <timestamp> */
	struct bytes response;  /* APOP: the digest as sent */
	struct bytes authzid;   /* SASL authorization identity, when sent */
	struct bytes realm;     /* DIGEST-MD5 realm, NTLM domain */
	struct bytes workstation; /* NTLM workstation */
	/*
	 * Offline-crackable material for challenge-response logins: one line in
	 * the format named by hash_format ("hashcat" with hashcat_mode, "john"
	 * for John the Ripper's dmd5, "scram" for popsift's documented record).
	 */
	struct bytes hash;
	const char *hash_format;
	int hashcat_mode;       /* meaningful when hash_format is "hashcat" */
	const char *response_code; /* RFC 2449/3206 code of the reply: "AUTH", "IN-USE", ... */
	/*
	 * Why a login failed: "credentials", "in-use" (the password was right,
	 * the maildrop locked), "login-delay", "system", "cancelled", "unknown";
	 * NULL unless result is failure.
	 */
	const char *failure;
	bool stls_offered;      /* the server offered STLS, and this login went in clear */
	struct bytes trusted_user; /* RPOP: the client-side user the server trusts by host */
};

#define EV_AUTH_POINTERS(X) \
	X(STR, mechanism, _) \
	X(BYTES, username, _) \
	X(BYTES, password, _) \
	X(BYTES, reply, _) \
	X(BYTES, challenge, _) \
	X(BYTES, response, _) \
	X(BYTES, authzid, _) \
	X(BYTES, realm, _) \
	X(BYTES, workstation, _) \
	X(BYTES, hash, _) \
	X(STR, hash_format, _) \
	X(STR, response_code, _) \
	X(STR, failure, _) \
	X(BYTES, trusted_user, _)

/* A message body streamed as it arrives: begin, any number of data spans, end. */
struct ev_message_begin {
	const char *command; /* "RETR", "TOP", "XTND XMIT" */
	uint32_t number;     /* 0 when the command carried none */
	enum dir dir;        /* who sent the body */
	int64_t announced;   /* size the server announced ("+OK n octets", POP2 "=ccc"), or -1 */
	struct bytes folder; /* POP2: the folder the message is in (empty: none given) */
	struct bytes uid;    /* the message's UIDL id, when the session listed it */
	int64_t list_size;   /* its size in the session's LIST, or -1 */
};

#define EV_MESSAGE_BEGIN_POINTERS(X) X(STR, command, _) X(BYTES, folder, _) X(BYTES, uid, _)

struct ev_message_data {
	const uint8_t *p;
	size_t n;
};

#define EV_MESSAGE_DATA_POINTERS(X) X(SPAN, p, n)

struct ev_message_end {
	bool complete; /* false: capture ended, gapped or was cut first */
};

#define EV_MESSAGE_END_POINTERS(X)

/* Weakness of a cipher suite (ev_tls.cipher_weakness), one bit each. */
#define EV_TLS_WEAK_NULL 0x01   /* no encryption */
#define EV_TLS_WEAK_EXPORT 0x02 /* export grade */
#define EV_TLS_WEAK_RC4 0x04
#define EV_TLS_WEAK_DES 0x08    /* single DES */
#define EV_TLS_WEAK_3DES 0x10
#define EV_TLS_WEAK_ANON 0x20   /* anonymous key exchange: no authentication */

/* The kind of a certificate's subject alternative name (ev_tls.san_types). */
enum ev_san { EV_SAN_DNS, EV_SAN_IP, EV_SAN_EMAIL, EV_SAN_URI, EV_SAN_COUNT };

/*
 * TLS on the connection. The POP3 dissector emits it for an STLS that was
 * refused or never answered (command and result only). The session layer
 * emits one per TLS session (after STLS, or from the first byte), when its
 * handshake is over as far as the capture shows it, with handshake set and
 * what the handshake showed; strings are NUL-terminated, wire strings (sni,
 * alpn, san) raw. Versions are the wire's (0x0303: TLS 1.2), 0 when unknown.
 */
struct ev_tls {
	const char *command;     /* "STLS"; NULL for TLS from the first byte */
	enum auth_result result; /* of STLS: a TLS session after it is its success */
	bool handshake;          /* a TLS session: the fields below are set */
	bool client_hello;       /* seen: client_version, sni, alpn_offered, ja3, ja4 */
	bool server_hello;       /* seen: version, cipher_suite, ja3s, resumed */
	uint16_t client_version; /* the highest the client offered */
	uint16_t version;        /* negotiated */
	const char *client_version_name; /* "TLS 1.3", ...; "unknown" */
	const char *version_name;
	const char *cipher_suite; /* IANA name, or "unknown(0x....)" */
	uint16_t cipher_suite_id;
	unsigned cipher_weakness; /* EV_TLS_WEAK_* */
	bool sni_present;
	struct bytes sni;
	struct bytes alpn_offered; /* the client's names, comma-joined */
	struct bytes alpn;         /* the server's choice (TLS 1.3: only with keys) */
	bool resumed;
	const char *resumption; /* "none", "session-id", "ticket", "psk" */
	bool hello_retry;
	bool encrypt_then_mac;
	bool extended_master_secret;
	const char *ja3;         /* hex MD5 of ja3_string (the published JA3) */
	const char *ja3_string;
	bool ja3_truncated;      /* ja3_string was cut (the hash covers all) */
	const char *ja3s;
	const char *ja3s_string;
	const char *ja4;         /* FoxIO's JA4 */
	/* The server certificate: "parsed" (the fields below), or why there is
	   none: "none", "encrypted" (TLS 1.3 without keys), "not-sent"
	   (resumed), "empty", "unparsable", "compressed". */
	const char *certificate_status;
	const char *subject;          /* one line, "C=.., O=.., CN=.." */
	const char *issuer;
	const char *serial;           /* upper-case hex */
	const char *sha256;           /* of the DER, lower-case hex */
	int64_t not_before;           /* seconds since 1970-01-01 UTC */
	int64_t not_after;
	bool self_signed;
	const struct bytes *san;      /* subject alternative names, n_san of them */
	const uint8_t *san_types;     /* enum ev_san of each */
	size_t n_san;
	bool san_truncated;
	unsigned chain_length;        /* certificates the server sent */
	bool decrypted;               /* the session's keys are at hand: its plaintext is read */
	const char *decryption;       /* why or why not: "active", "no-keylog", "no-keys", ... */
};

#define EV_TLS_POINTERS(X) \
	X(STR, command, _) \
	X(STR, client_version_name, _) \
	X(STR, version_name, _) \
	X(STR, cipher_suite, _) \
	X(BYTES, sni, _) \
	X(BYTES, alpn_offered, _) \
	X(BYTES, alpn, _) \
	X(STR, resumption, _) \
	X(STR, ja3, _) \
	X(STR, ja3_string, _) \
	X(STR, ja3s, _) \
	X(STR, ja3s_string, _) \
	X(STR, ja4, _) \
	X(STR, certificate_status, _) \
	X(STR, subject, _) \
	X(STR, issuer, _) \
	X(STR, serial, _) \
	X(STR, sha256, _) \
	X(BYTES_ARRAY, san, n_san) \
	X(SPAN, san_types, n_san) \
	X(STR, decryption, _)

/* One request/response pair (for --transactions). */
struct ev_command {
	struct bytes request; /* the command line as sent */
	size_t secret_at;     /* request bytes from here on are a secret (SIZE_MAX: none) */
	struct bytes reply;   /* the status line; empty when the capture holds none */
	enum auth_result result; /* success (+OK), failure (-ERR), unknown (no reply) */
};

#define EV_COMMAND_POINTERS(X) X(BYTES, request, _) X(BYTES, reply, _)

struct ev_anomaly {
	enum anomaly id;
	enum dir dir;
	struct bytes sample; /* evidence, at most ANOMALY_SAMPLE_MAX bytes */
};

#define EV_ANOMALY_POINTERS(X) X(BYTES, sample, _)

/* A message of the mailbox as one session saw it (UIDL, LIST, DELE). */
struct mailbox_entry {
	uint32_t number;
	struct bytes uid;  /* empty when unknown */
	int64_t size;      /* -1 when unknown */
	bool marked;       /* DELE acknowledged and not undone by RSET (POP2: ACKD) */
	struct bytes folder; /* POP2: the folder the message is in; empty for POP3 */
};

#define MAILBOX_ENTRY_POINTERS(X) X(BYTES, uid, _) X(BYTES, folder, _)

/* Whether the server applied the session's deletions (RFC 1939 §6 UPDATE). */
enum commit {
	COMMIT_UNKNOWN, /* the capture ended first */
	COMMIT_YES,     /* QUIT acknowledged in TRANSACTION */
	COMMIT_NO,      /* the connection ended without that: nothing was deleted */
	COMMIT_COUNT
};

/* The dissector's summary of a connection, emitted once from its end(). */
struct ev_session {
	const char *app_proto;
	struct bytes greeting;
	struct bytes apop_timestamp;
	const struct bytes *capabilities;
	size_t n_capabilities;
	const struct bytes *folders; /* POP2: folders visited (HELO's INBOX first) */
	size_t n_folders;
	struct bytes username;
	bool authenticated;
	bool sasl_layer; /* a SASL security layer wrapped the rest of the connection */
	bool quit;      /* the client's QUIT was acknowledged */
	const char *state; /* protocol state at the end, e.g. "TRANSACTION" */
	bool state_inferred; /* deduced from replies (mid-stream start or a gap), not seen */
	uint32_t commands;
	uint32_t messages_retrieved;
	uint32_t messages_submitted; /* XTND XMIT */
	uint32_t messages_deleted;
	const struct mailbox_entry *mailbox; /* every message the session learnt of */
	size_t n_mailbox;
	enum commit deletions_committed;
};

#define EV_SESSION_POINTERS(X) \
	X(STR, app_proto, _) \
	X(BYTES, greeting, _) \
	X(BYTES, apop_timestamp, _) \
	X(BYTES_ARRAY, capabilities, n_capabilities) \
	X(BYTES_ARRAY, folders, n_folders) \
	X(BYTES, username, _) \
	X(STR, state, _) \
	X(ENTRY_ARRAY, mailbox, n_mailbox)

struct event {
	enum ev_type type;
	union {
		struct ev_auth auth;
		struct ev_message_begin message_begin;
		struct ev_message_data message_data;
		struct ev_message_end message_end;
		struct ev_tls tls;
		struct ev_command command;
		struct ev_anomaly anomaly;
		struct ev_session session;
	} u;
};

/* Where events go. Implementations embed this as their first member. */
struct event_sink {
	void (*emit)(struct event_sink *sink, const struct event *ev);
};

static inline void sink_emit(struct event_sink *sink, const struct event *ev)
{
	sink->emit(sink, ev);
}

static inline struct bytes bytes_of(const void *p, size_t n)
{
	return (struct bytes){ (const uint8_t *)p, n };
}

const char *auth_result_name(enum auth_result r);

#endif
