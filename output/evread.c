/*
 * evread.c - reads popsift's JSON events back into records (see evread.h).
 *
 * Owns the parsed line (jsonr.h's values, reused from line to line), what is
 * built from it (capabilities, listing, anomalies, attachments, a certificate's
 * subject alternative names, a cross-session alert's evidence) and the
 * interned capture file and protocol names, which stay put for the whole
 * input: writers may keep a pointer to them (json.c caches pcap_file's text by
 * pointer). Interned names are bounded (EVREAD_NAMES_MAX).
 */
#include "evread.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "jsonr.h"

#define EVREAD_NAMES_MAX 65536 /* distinct capture file and protocol names kept */

struct evread {
	struct jr j;                  /* the line being read */
	struct bytes *caps, *folders; /* ev_session arrays */
	struct mailbox_entry *listing;
	struct anomaly_record *anoms;
	struct attachment_record *atts;
	struct bytes *san;            /* ev_tls's subject alternative names, */
	uint8_t *san_types;           /* and their kinds */
	struct alert_counts counts;   /* a cross-session alert's evidence */
	struct evread_tls_names tls_names;
	char **names;                 /* interned, for the whole input */
	char sec_text[20];            /* the seconds of the last time read, and their value */
	time_t sec;
	size_t n_names;
};

struct evread *evread_new(void)
{
	return calloc(1, sizeof(struct evread));
}

/* What the previous line left: its tree and arrays. */
static void evread_clear(struct evread *r)
{
	free(r->caps);
	free(r->folders);
	free(r->listing);
	free(r->anoms);
	free(r->atts);
	free(r->san);
	free(r->san_types);
	r->caps = r->folders = NULL;
	r->listing = NULL;
	r->anoms = NULL;
	r->atts = NULL;
	r->san = NULL;
	r->san_types = NULL;
}

void evread_set_tls_names(struct evread *r, const struct evread_tls_names *names)
{
	r->tls_names = *names;
}

void evread_free(struct evread *r)
{
	if (!r)
		return;
	evread_clear(r);
	jr_free(&r->j);
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r);
}

/* s, interned: the same pointer for the same text over the whole input; NULL when full. */
static const char *evread_intern(struct evread *r, const char *s)
{
	for (size_t i = r->n_names; i-- > 0;)
		if (strcmp(r->names[i], s) == 0)
			return r->names[i];
	if (r->n_names == EVREAD_NAMES_MAX)
		return NULL;
	if ((r->n_names & (r->n_names - 1)) == 0) {
		char **n = realloc(r->names, (r->n_names ? r->n_names * 2 : 8) * sizeof(*n));
		if (!n)
			return NULL;
		r->names = n;
	}
	char *copy = strdup(s);
	if (copy)
		r->names[r->n_names++] = copy;
	return copy;
}

/* ---- fields ------------------------------------------------------------- */

/*
 * The member `key` of o. The values are the evread's parsed line: J names it
 * (every reader below has it as its first parameter).
 */
#define GET(o, key) jr_get(J, (o), (key))

static const char *ev_str(const struct jr *J, const struct jr_value *o, const char *key)
{
	const struct jr_value *v = GET(o, key);
	return v && v->type == JR_STRING ? v->s : NULL;
}

/* A string member as bytes (NULs included); none when absent. */
static struct bytes ev_bytes(const struct jr *J, const struct jr_value *o, const char *key)
{
	const struct jr_value *v = GET(o, key);
	return v && v->type == JR_STRING ? bytes_of(v->s, v->n) : BYTES_NONE;
}

static long long ev_int(const struct jr *J, const struct jr_value *o, const char *key, long long absent)
{
	const struct jr_value *v = GET(o, key);
	return v && v->type == JR_INT ? v->i : absent;
}

static bool ev_bool(const struct jr *J, const struct jr_value *o, const char *key)
{
	const struct jr_value *v = GET(o, key);
	return v && v->type == JR_TRUE;
}

/* Copies a string member into a record's array; returns its length. */
static size_t ev_copy(const struct jr *J, const struct jr_value *o, const char *key, uint8_t *out,
		      size_t max)
{
	struct bytes b = ev_bytes(J, o, key);
	size_t n = b.n < max ? b.n : max;
	if (n)
		memcpy(out, b.p, n);
	return n;
}

/* n decimal digits at s; -1 when not. */
static int ev_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * "2026-11-23T01:28:24.395080Z", as json.c writes it; false when not that.
 * The seconds of the last time read are kept: most events share them.
 */
static bool ev_time(struct evread *r, const char *s, struct timeval *tv)
{
	if (!s || strlen(s) < 22 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.')
		return false;
	if (memcmp(s, r->sec_text, 19) != 0) {
		struct tm tm = { .tm_year = ev_digits(s, 4) - 1900, .tm_mon = ev_digits(s + 5, 2) - 1,
				 .tm_mday = ev_digits(s + 8, 2), .tm_hour = ev_digits(s + 11, 2),
				 .tm_min = ev_digits(s + 14, 2), .tm_sec = ev_digits(s + 17, 2) };
		if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
		    tm.tm_sec < 0)
			return false;
		r->sec = timegm(&tm);
		memcpy(r->sec_text, s, 19);
	}
	char *end;
	long us = strtol(s + 20, &end, 10); /* any value a capture gave (json.c) */
	if (*end != 'Z' || end[1])
		return false;
	tv->tv_sec = r->sec;
	tv->tv_usec = us;
	return true;
}

static enum auth_result ev_result(const struct jr *J, const struct jr_value *o, const char *key)
{
	const char *s = ev_str(J, o, key);
	for (int i = 0; s && i < AUTH_RESULT_COUNT; i++)
		if (strcmp(s, auth_result_name((enum auth_result)i)) == 0)
			return (enum auth_result)i;
	return AUTH_RESULT_UNKNOWN;
}

/* A list of strings as bytes, into *out (owned by r); returns the count. */
static size_t ev_bytes_array(const struct jr *J, const struct jr_value *o, const char *key,
			     struct bytes **out)
{
	const struct jr_value *a = GET(o, key);
	size_t n = a && a->type == JR_ARRAY ? a->n : 0, i = 0;
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (!*out)
		return 0;
	for (const struct jr_value *v = jr_first(J, a); v; v = jr_next(J, a, v))
		(*out)[i++] = v->type == JR_STRING ? bytes_of(v->s, v->n) : BYTES_NONE;
	return n;
}

/* ---- the envelope ------------------------------------------------------- */

static bool ev_flow(struct evread *r, const struct jr_value *root, struct flow *f, char *err)
{
	const struct jr *J = &r->j;
	memset(f, 0, sizeof(*f));
	const char *ts = ev_str(J, root, "timestamp");
	const char *src = ev_str(J, root, "src_ip"), *dst = ev_str(J, root, "dest_ip");
	if (!ev_time(r, ts, &f->now) || !src || !dst || ev_int(J, root, "flow_id", -1) < 0) {
		snprintf(err, EVREAD_ERR_MAX, "not a popsift event (no timestamp, flow_id or addresses)");
		return false;
	}
	f->start = f->now;
	f->flow_id = (uint64_t)ev_int(J, root, "flow_id", 0);
	snprintf(f->client_ip, sizeof(f->client_ip), "%s", src);
	snprintf(f->server_ip, sizeof(f->server_ip), "%s", dst);
	f->client_port = (uint16_t)ev_int(J, root, "src_port", 0);
	f->server_port = (uint16_t)ev_int(J, root, "dest_port", 0);
	const char *file = ev_str(J, root, "pcap_file");
	const char *proto = ev_str(J, root, "app_proto");
	const char *cid = ev_str(J, root, "community_id"), *sensor = ev_str(J, root, "sensor");
	if (cid && strlen(cid) < sizeof(f->community_id)) /* else unknown: written as none */
		memcpy(f->community_id, cid, strlen(cid) + 1);
	f->pcap_file = file ? evread_intern(r, file) : NULL;
	f->app_proto = evread_intern(r, proto ? proto : "pop3");
	f->sensor = sensor ? evread_intern(r, sensor) : NULL;
	if ((file && !f->pcap_file) || !f->app_proto || (sensor && !f->sensor)) {
		snprintf(err, EVREAD_ERR_MAX, "too many distinct capture file names, or out of memory");
		return false;
	}
	return true;
}

/*
 * The frames of the capture input (absent live): pcap_cnt on every event,
 * pcap_cnt_first on session events.
 */
static void ev_frames(const struct jr *J, const struct jr_value *root, struct flow *f)
{
	f->pcap_cnt = (uint64_t)ev_int(J, root, "pcap_cnt", 0);
	f->pcap_cnt_first = (uint64_t)ev_int(J, root, "pcap_cnt_first", 0);
}

/*
 * "tls": {"decrypted": true}: read inside TLS popsift decrypted. On a tls
 * event the key is the body itself, whose `decrypted` says the same of the
 * session from then on (the alerts its handshake raises carry the mark).
 */
static void ev_decrypted(const struct jr *J, const struct jr_value *root, struct flow *f)
{
	if (ev_bool(J, GET(root, "tls"), "decrypted"))
		f->tls = FLOW_TLS_DECRYPTED;
}

/* ---- the bodies --------------------------------------------------------- */

/*
 * A login. A mechanism that was not UTF-8 was left out of the event (json.c);
 * an invalid byte stands for it, so the writers leave it out again.
 */
static void ev_auth(const struct jr *J, const struct jr_value *o, struct evread_event *ev)
{
	struct ev_auth *a = &ev->u.auth;
	memset(a, 0, sizeof(*a));
	a->mechanism = ev_str(J, o, "mechanism");
	if (!a->mechanism)
		a->mechanism = "\x80";
	a->username = ev_bytes(J, o, "username");
	a->password = ev_bytes(J, o, "password");
	ev->has_password = GET(o, "password") != NULL;
	/*
	 * The dissector read a reusable secret (records.h): "cleartext" says so
	 * on the wire; inside decrypted TLS it is false, and only the password
	 * the event still carries (--show-passwords) tells it.
	 */
	a->cleartext = ev_bool(J, o, "cleartext") || (ev->flow.tls == FLOW_TLS_DECRYPTED && ev->has_password);
	a->result = ev_result(J, o, "result");
	a->reply = ev_bytes(J, o, "reply");
	a->challenge = ev_bytes(J, o, "challenge");
	a->authzid = ev_bytes(J, o, "authzid");
	a->realm = ev_bytes(J, o, "realm");
	a->workstation = ev_bytes(J, o, "workstation");
	a->hash = ev_bytes(J, o, "hash");
	a->hash_format = ev_str(J, o, "hash_format");
	a->hash_format = a->hash_format || !a->hash.n ? a->hash_format : ""; /* the writers name it with a hash */
	a->hashcat_mode = (int)ev_int(J, o, "hashcat_mode", 0);
	a->response_code = ev_str(J, o, "response_code");
	a->failure = ev_str(J, o, "failure");
	a->stls_offered = ev_bool(J, o, "stls_offered");
	a->trusted_user = ev_bytes(J, o, "trusted_user");
}

/*
 * A cross-session alert's evidence (json.c writes it with `failures`): its
 * counts, times and the first ALERT_USERS_LISTED user names.
 */
static void ev_alert_counts(struct evread *r, const struct jr_value *o, struct alert_record *a)
{
	const struct jr *J = &r->j;
	struct alert_counts *k = &r->counts;
	memset(k, 0, sizeof(*k));
	k->failures = (unsigned)ev_int(J, o, "failures", 0);
	k->window = (unsigned)ev_int(J, o, "window", 0);
	ev_time(r, ev_str(J, o, "first"), &k->first);
	ev_time(r, ev_str(J, o, "last"), &k->last);
	k->users_total = (unsigned)ev_int(J, o, "users_total", 0);
	const struct jr_value *u = GET(o, "users");
	u = u && u->type == JR_ARRAY ? u : NULL;
	for (const struct jr_value *x = jr_first(J, u); x && k->n_users < ALERT_USERS_LISTED; x = jr_next(J, u, x))
		k->users[k->n_users++] = x->type == JR_STRING ? bytes_of(x->s, x->n) : BYTES_NONE;
	a->counts = k;
	a->cross_session = true;
}

static void ev_alert(struct evread *r, const struct jr_value *o, struct alert_record *a)
{
	const struct jr *J = &r->j;
	memset(a, 0, sizeof(*a));
	a->signature = ev_str(J, o, "signature");
	a->signature = a->signature ? a->signature : "";
	a->severity = (int)ev_int(J, o, "severity", 3);
	a->description = ev_str(J, o, "description");
	a->description = a->description ? a->description : "";
	a->username = ev_bytes(J, o, "username");
	if (GET(o, "failures"))
		ev_alert_counts(r, o, a);
}

static void ev_header(const struct jr *J, const struct jr_value *h, const char *key, const char *raw_key, struct header_field *f)
{
	f->value = (char *)ev_str(J, h, key);
	f->raw = f->value ? (char *)ev_str(J, h, raw_key) : NULL;
}

static void ev_attachments(struct evread *r, const struct jr_value *o, struct message_record *m)
{
	const struct jr *J = &r->j;
	const struct jr_value *a = GET(o, "attachments");
	m->has_attachments = a && a->type == JR_ARRAY;
	size_t n = m->has_attachments ? a->n : 0;
	r->atts = n ? calloc(n, sizeof(*r->atts)) : NULL;
	for (const struct jr_value *x = r->atts ? jr_first(J, a) : NULL; x; x = jr_next(J, a, x)) {
		struct attachment_record *t = &r->atts[m->n_attachments++];
		t->filename = (char *)ev_str(J, x, "filename");
		t->content_type = (char *)ev_str(J, x, "content_type");
		t->content_type = t->content_type ? t->content_type : (char *)"";
		t->size = (uint64_t)ev_int(J, x, "size", 0);
		snprintf(t->sha256, sizeof(t->sha256), "%s", ev_str(J, x, "sha256") ? ev_str(J, x, "sha256") : "");
	}
	m->attachments = r->atts;
	m->attachments_truncated = ev_bool(J, o, "attachments_truncated");
	m->attachments_error = ev_str(J, o, "attachments_error");
}

static void ev_message(struct evread *r, const struct jr_value *o, struct message_record *m)
{
	const struct jr *J = &r->j;
	memset(m, 0, sizeof(*m));
	m->command = ev_str(J, o, "command");
	m->command = m->command ? m->command : "RETR";
	m->number = (uint32_t)ev_int(J, o, "number", 0);
	m->dir = strcmp(m->command, "XTND XMIT") == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT;
	m->size = (uint64_t)ev_int(J, o, "size", 0);
	m->announced = ev_int(J, o, "announced_size", -1);
	m->list_size = ev_int(J, o, "list_size", -1);
	m->size_mismatch = ev_bool(J, o, "size_mismatch");
	snprintf(m->sha256, sizeof(m->sha256), "%s", ev_str(J, o, "sha256") ? ev_str(J, o, "sha256") : "");
	m->complete = ev_bool(J, o, "complete");
	m->path = ev_str(J, o, "path");
	m->extract_error = ev_str(J, o, "extract_error");
	struct bytes folder = ev_bytes(J, o, "folder"), uid = ev_bytes(J, o, "uid");
	m->folder = folder.p;
	m->folder_n = folder.n;
	m->uid = uid.p;
	m->uid_n = uid.n;
	const struct jr_value *h = GET(o, "headers");
	ev_header(J, h, "from", "from_raw", &m->headers.from);
	ev_header(J, h, "to", "to_raw", &m->headers.to);
	ev_header(J, h, "cc", "cc_raw", &m->headers.cc);
	ev_header(J, h, "subject", "subject_raw", &m->headers.subject);
	ev_header(J, h, "date", "date_raw", &m->headers.date);
	ev_header(J, h, "message_id", "message_id_raw", &m->headers.message_id);
	ev_attachments(r, o, m);
}

/*
 * A certificate's time as json.c writes it, "2024-01-31T12:00:00Z" (or the
 * seconds themselves, where gmtime() had no date for them); 0 when neither.
 */
static int64_t ev_epoch(const char *s)
{
	long long y, v;
	int mo, d, h, mi, sec, end = 0;
	if (!s)
		return 0;
	if (sscanf(s, "%lld-%d-%dT%d:%d:%dZ%n", &y, &mo, &d, &h, &mi, &sec, &end) == 6 && !s[end] &&
	    y > INT_MIN + 1900 && y < INT_MAX) {
		struct tm tm = { .tm_year = (int)(y - 1900), .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
				 .tm_min = mi, .tm_sec = sec };
		return (int64_t)timegm(&tm);
	}
	return sscanf(s, "%lld%n", &v, &end) == 1 && !s[end] ? (int64_t)v : 0;
}

/* The certificate's subject alternative names, kind by kind as json.c groups them. */
static void ev_san(struct evread *r, const struct jr_value *o, struct ev_tls *t)
{
	static const char *const kinds[EV_SAN_COUNT] = { "dns", "ip", "email", "uri" };
	const struct jr *J = &r->j;
	const struct jr_value *san = GET(o, "san");
	size_t n = 0;
	for (unsigned k = 0; k < EV_SAN_COUNT; k++) {
		const struct jr_value *a = GET(san, kinds[k]);
		n += a && a->type == JR_ARRAY ? a->n : 0;
	}
	r->san = n ? calloc(n, sizeof(*r->san)) : NULL;
	r->san_types = n ? calloc(n, sizeof(*r->san_types)) : NULL;
	for (unsigned k = 0; r->san && r->san_types && k < EV_SAN_COUNT; k++) {
		const struct jr_value *a = GET(san, kinds[k]);
		a = a && a->type == JR_ARRAY ? a : NULL;
		for (const struct jr_value *x = jr_first(J, a); x; x = jr_next(J, a, x)) {
			r->san_types[t->n_san] = (uint8_t)k;
			r->san[t->n_san++] = x->type == JR_STRING ? bytes_of(x->s, x->n) : BYTES_NONE;
		}
	}
	t->san = r->san;
	t->san_types = r->san_types;
	t->san_truncated = ev_bool(J, o, "san_truncated");
}

/* The server certificate; none when the event has null (certificate_status says why). */
static void ev_certificate(struct evread *r, const struct jr_value *o, struct ev_tls *t)
{
	const struct jr *J = &r->j;
	const struct jr_value *c = GET(o, "certificate");
	if (!c || c->type != JR_OBJECT)
		return;
	t->sha256 = ev_str(J, c, "sha256");
	t->sha256 = t->sha256 ? t->sha256 : "";
	t->subject = ev_str(J, c, "subject");
	t->subject = t->subject ? t->subject : "";
	t->issuer = ev_str(J, c, "issuer");
	t->issuer = t->issuer ? t->issuer : "";
	t->serial = ev_str(J, c, "serial");
	t->serial = t->serial ? t->serial : "";
	t->not_before = ev_epoch(ev_str(J, c, "not_before"));
	t->not_after = ev_epoch(ev_str(J, c, "not_after"));
	t->self_signed = ev_bool(J, c, "self_signed");
	ev_san(r, c, t);
	t->chain_length = (unsigned)ev_int(J, c, "chain_length", 0);
}

/* A string member, "" when absent: the writers print what a handshake had. */
static const char *ev_text(const struct jr *J, const struct jr_value *o, const char *key)
{
	const char *s = ev_str(J, o, key);
	return s ? s : "";
}

/* A JA3 or JA3S: {hash, string, truncated}. */
static void ev_ja3(const struct jr *J, const struct jr_value *o, const char *key, const char **hash,
		   const char **string, bool *cut)
{
	const struct jr_value *j = GET(o, key);
	*hash = ev_text(J, j, "hash");
	*string = ev_text(J, j, "string");
	if (cut)
		*cut = ev_bool(J, j, "truncated");
}

/*
 * The numbers behind the names, which the alert policy decides by (alerts.h):
 * the TLS layer's to give (evread_set_tls_names); 0 without it.
 */
static void ev_tls_numbers(const struct evread *r, struct ev_tls *t)
{
	const struct evread_tls_names *n = &r->tls_names;
	if (n->version && t->client_hello)
		t->client_version = n->version(n->ctx, t->client_version_name);
	if (n->version && t->server_hello)
		t->version = n->version(n->ctx, t->version_name);
	if (n->suite && t->server_hello)
		t->cipher_suite_id = n->suite(n->ctx, t->cipher_suite, &t->cipher_weakness);
}

/* What the handshake showed; each part is there when the capture showed it (json.c). */
static void ev_tls_session(struct evread *r, const struct jr_value *o, struct ev_tls *t)
{
	const struct jr *J = &r->j;
	t->handshake = true;
	t->server_hello = GET(o, "version") != NULL;
	t->client_hello = GET(o, "client_version") != NULL;
	t->version_name = ev_text(J, o, "version");
	t->cipher_suite = ev_text(J, o, "cipher_suite");
	t->client_version_name = ev_text(J, o, "client_version");
	t->sni_present = GET(o, "sni") != NULL;
	t->sni = ev_bytes(J, o, "sni");
	t->alpn_offered = ev_bytes(J, o, "alpn_offered");
	t->alpn = ev_bytes(J, o, "alpn");
	t->resumed = ev_bool(J, o, "resumed");
	t->resumption = ev_str(J, o, "resumption");
	t->resumption = t->resumption ? t->resumption : "none";
	t->hello_retry = ev_bool(J, o, "hello_retry");
	t->encrypt_then_mac = ev_bool(J, o, "encrypt_then_mac");
	t->extended_master_secret = ev_bool(J, o, "extended_master_secret");
	ev_ja3(J, o, "ja3", &t->ja3, &t->ja3_string, &t->ja3_truncated);
	t->ja4 = ev_text(J, o, "ja4");
	ev_ja3(J, o, "ja3s", &t->ja3s, &t->ja3s_string, NULL);
	ev_certificate(r, o, t);
	t->certificate_status = ev_text(J, o, "certificate_status");
	t->decrypted = ev_bool(J, o, "decrypted");
	t->decryption = ev_text(J, o, "decryption");
	ev_tls_numbers(r, t);
}

/*
 * An STLS refused or never answered (command and result), or a TLS session
 * (its handshake: certificate_status is on every one), after STLS or not.
 */
static void ev_tls(struct evread *r, const struct jr_value *o, struct ev_tls *t)
{
	const struct jr *J = &r->j;
	memset(t, 0, sizeof(*t));
	t->command = ev_str(J, o, "command");
	t->result = ev_result(J, o, "result");
	if (GET(o, "certificate_status"))
		ev_tls_session(r, o, t);
}

static void ev_command(const struct jr *J, const struct jr_value *o, struct ev_command *c)
{
	memset(c, 0, sizeof(*c));
	c->request = ev_bytes(J, o, "request"); /* a secret reads <redacted> already */
	c->secret_at = SIZE_MAX;
	c->reply = ev_bytes(J, o, "reply");
	c->result = ev_result(J, o, "result");
}

/*
 * The session's mailbox: its listing with the marks of marked_for_deletion
 * (json.c writes both in the session's order, the marked a subsequence of the
 * listing: one walk pairs them, by number and uid; POP2's numbers repeat
 * from folder to folder).
 * Without a listing (popsift 0.1.0 wrote none) only the marked messages.
 */
static void ev_listing(struct evread *r, const struct jr_value *o, struct evread_event *ev)
{
	const struct jr *J = &r->j;
	struct ev_session *s = &ev->u.session.summary;
	const struct jr_value *marked = GET(o, "marked_for_deletion");
	const struct jr_value *list = GET(o, "listing");
	marked = marked && marked->type == JR_ARRAY ? marked : NULL;
	ev->has_listing = list && list->type == JR_ARRAY;
	const struct jr_value *from = ev->has_listing ? list : marked;
	size_t n = from ? from->n : 0;
	r->listing = n ? calloc(n, sizeof(*r->listing)) : NULL;
	const struct jr_value *k = jr_first(J, marked);
	for (const struct jr_value *x = r->listing ? jr_first(J, from) : NULL; x; x = jr_next(J, from, x)) {
		struct mailbox_entry *e = &r->listing[s->n_mailbox++];
		e->number = (uint32_t)ev_int(J, x, "number", 0);
		e->uid = ev_bytes(J, x, "uid");
		e->size = ev_int(J, x, "size", -1);
		struct bytes kuid = ev_bytes(J, k, "uid");
		e->marked = !ev->has_listing || (k && ev_int(J, k, "number", 0) == (long long)e->number &&
						 kuid.n == e->uid.n && (!kuid.n || !memcmp(kuid.p, e->uid.p, kuid.n)));
		if (e->marked) /* POP2: the folder it was deleted from (the listing has none) */
			e->folder = ev_bytes(J, ev->has_listing ? k : x, "folder");
		if (e->marked && ev->has_listing) /* the marks are the listing's, in its order */
			k = jr_next(J, marked, k);
	}
	s->mailbox = r->listing;
}

static void ev_anomalies(struct evread *r, const struct jr_value *o, struct session_record *rec)
{
	const struct jr *J = &r->j;
	const struct jr_value *d = GET(o, "anomaly_details");
	size_t n = d && d->type == JR_ARRAY ? d->n : 0;
	r->anoms = n ? calloc(n, sizeof(*r->anoms)) : NULL;
	for (const struct jr_value *x = r->anoms ? jr_first(J, d) : NULL; x; x = jr_next(J, d, x)) {
		const char *id = ev_str(J, x, "id");
		int k = 0;
		while (id && k < ANOM_COUNT && strcmp(anomaly_id((enum anomaly)k), id) != 0)
			k++;
		if (!id || k == ANOM_COUNT)
			continue; /* an id of a newer popsift: none of the writers' business here */
		struct anomaly_record *a = &r->anoms[rec->n_anomalies++];
		a->id = (enum anomaly)k;
		const char *dir = ev_str(J, x, "dir");
		a->dir = dir && strcmp(dir, "toserver") == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT;
		a->count = (uint32_t)ev_int(J, x, "count", 1);
		/* cut at ANOMALY_SAMPLE_MAX octets of the escaped text: no report shows samples */
		a->sample_n = ev_copy(J, x, "sample", a->sample, sizeof(a->sample));
	}
	rec->anomalies = r->anoms;
}

/* deletions_committed: true, false, or null (the capture ended first). */
static enum commit ev_commit(const struct jr *J, const struct jr_value *o)
{
	const struct jr_value *v = GET(o, "deletions_committed");
	return !v ? COMMIT_UNKNOWN : v->type == JR_TRUE ? COMMIT_YES : v->type == JR_FALSE ? COMMIT_NO : COMMIT_UNKNOWN;
}

static void ev_session_flow(struct evread *r, const struct jr_value *o, struct flow *f)
{
	const struct jr *J = &r->j;
	struct timeval start;
	if (ev_time(r, ev_str(J, o, "start"), &start))
		f->start = start;
	f->bytes[DIR_TO_SERVER] = (uint64_t)ev_int(J, o, "bytes_toserver", 0);
	f->bytes[DIR_TO_CLIENT] = (uint64_t)ev_int(J, o, "bytes_toclient", 0);
	f->gaps = (uint32_t)ev_int(J, o, "gaps", 0);
	f->partial = ev_bool(J, o, "partial");
	f->kernel_drops_known = GET(o, "kernel_drops") != NULL; /* live capture only */
	f->kernel_drops = (uint64_t)ev_int(J, o, "kernel_drops", 0);
	f->snaplen_cut = (uint32_t)ev_int(J, o, "snaplen_cut", 0);
}

static void ev_session(struct evread *r, const struct jr_value *o, struct evread_event *ev)
{
	const struct jr *J = &r->j;
	struct session_record *rec = &ev->u.session;
	struct ev_session *s = &rec->summary;
	memset(rec, 0, sizeof(*rec));
	ev_session_flow(r, o, &ev->flow);
	s->app_proto = ev->flow.app_proto;
	s->greeting = ev_bytes(J, o, "greeting");
	s->apop_timestamp = ev_bytes(J, o, "apop_timestamp");
	s->n_capabilities = ev_bytes_array(J, o, "capabilities", &r->caps);
	s->capabilities = r->caps;
	s->n_folders = ev_bytes_array(J, o, "folders", &r->folders);
	s->folders = r->folders;
	s->username = ev_bytes(J, o, "username");
	s->authenticated = ev_bool(J, o, "authenticated");
	rec->tls = ev_bool(J, o, "tls");
	rec->encrypted = ev_bool(J, o, "encrypted");
	s->sasl_layer = ev_bool(J, o, "sasl_layer");
	s->state = ev_str(J, o, "state");
	s->state = s->state ? s->state : "";
	s->state_inferred = ev_bool(J, o, "state_inferred");
	s->commands = (uint32_t)ev_int(J, o, "commands", 0);
	s->messages_retrieved = (uint32_t)ev_int(J, o, "messages_retrieved", 0);
	s->messages_deleted = (uint32_t)ev_int(J, o, "messages_deleted", 0);
	s->messages_submitted = (uint32_t)ev_int(J, o, "messages_submitted", 0);
	s->deletions_committed = ev_commit(J, o);
	rec->end_reason = ev_str(J, o, "end_reason");
	rec->end_reason = rec->end_reason ? rec->end_reason : "unknown";
	s->quit = strcmp(rec->end_reason, "quit") == 0;
	ev_listing(r, o, ev);
	ev_anomalies(r, o, rec);
}

/* ---- a line -------------------------------------------------------------- */

/* The body by event type; EVR_OTHER for a type that is not read back. */
static enum evread_kind ev_body(struct evread *r, const char *type, const struct jr_value *body,
				struct evread_event *ev)
{
	const struct jr *J = &r->j;
	if (!body || body->type != JR_OBJECT)
		return EVR_OTHER;
	if (strcmp(type, "auth") == 0) {
		ev_auth(J, body, ev);
		return EVR_AUTH;
	}
	if (strcmp(type, "alert") == 0) {
		ev_alert(r, body, &ev->u.alert);
		return EVR_ALERT;
	}
	if (strcmp(type, "message") == 0) {
		ev_message(r, body, &ev->u.message);
		return EVR_MESSAGE;
	}
	if (strcmp(type, "tls") == 0) {
		ev_tls(r, body, &ev->u.tls);
		return EVR_TLS;
	}
	if (strcmp(type, "command") == 0) {
		ev_command(J, body, &ev->u.command);
		return EVR_COMMAND;
	}
	if (strcmp(type, "session") == 0) {
		ev_session(r, body, ev);
		return EVR_SESSION;
	}
	return EVR_OTHER;
}

enum evread_kind evread_line(struct evread *r, const char *line, size_t n,
			     struct evread_event *ev, char err[EVREAD_ERR_MAX])
{
	evread_clear(r);
	memset(ev, 0, sizeof(*ev));
	err[0] = 0;
	const struct jr *J = &r->j;
	char jerr[JR_ERR_MAX];
	if (!jr_parse(&r->j, line, n, jerr)) {
		snprintf(err, EVREAD_ERR_MAX, "not JSON: %s", jerr);
		return ev->kind = EVR_INVALID;
	}
	const struct jr_value *root = &r->j.v[0];
	const char *type = ev_str(J, root, "event_type");
	if (!type) {
		snprintf(err, EVREAD_ERR_MAX, "not a popsift event (no event_type)");
		return ev->kind = EVR_INVALID;
	}
	ev->schema = ev_int(J, root, "schema_version", 0);
	if (ev->schema > JSON_SCHEMA_VERSION) {
		snprintf(err, EVREAD_ERR_MAX, "schema_version %lld (this popsift reads %d and older)",
			 ev->schema, JSON_SCHEMA_VERSION);
		return ev->kind = EVR_NEWER;
	}
	if (strcmp(type, "mailbox") == 0)
		return ev->kind = EVR_OTHER; /* a --mailbox-report's line, appended with '-' */
	if (!ev_flow(r, root, &ev->flow, err))
		return ev->kind = EVR_INVALID;
	ev_frames(J, root, &ev->flow);
	ev_decrypted(J, root, &ev->flow);
	return ev->kind = ev_body(r, type, GET(root, type), ev);
}
