/*
 * json.c - formats popsift's records as NDJSON (docs/events.md), one object a
 * line, envelope first (Suricata EVE style): the event writer (writer.h) and
 * the --mailbox-report's JSON form. Owns how a record looks in JSON and
 * nothing else: what to report (alerts, size mismatches, end reasons) is
 * decided in output.c and arrives in the records.
 *
 * Every line is streamed through jsonw.c, straight to the FILE*: building a
 * Jansson tree per event and dumping it cost most of popsift's time on short
 * sessions. The text is what Jansson's json_dumps() wrote for the same values
 * (tests/unit/test_jsonw.c, test_report_mailbox.c), and a string Jansson would
 * have refused (not UTF-8) is left out as it left it out.
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "utf8.h"

/* A time's text, its "YYYY-MM-DDTHH:MM:SS" part formatted once a second. */
struct time_text {
	time_t sec;
	bool valid;
	size_t len;    /* of the seconds part */
	char text[40]; /* then ".uuuuuuZ", as json_format_time() writes it */
};

struct json_out {
	struct writer w; /* first: output.c sees only this */
	FILE *fp;
	bool show_passwords;
	struct time_text now;    /* the envelope's timestamp and a session's end */
	struct time_text start;  /* a session's start */
	const char *file;        /* the pcap_file whose JSON text is in `file_json` */
	char *file_json;         /* NULL: not valid UTF-8, the field is left out */
};

void json_format_time(const struct timeval *tv, char *buf, size_t n)
{
	struct tm tm;
	time_t t = tv->tv_sec;
	gmtime_r(&t, &tm);
	size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, n - len, ".%06ldZ", (long)tv->tv_usec);
}

/*
 * tv as json_format_time() writes it, without printf for the usual
 * microseconds. The text stays in c until the next call.
 */
static const char *time_text(struct time_text *c, const struct timeval *tv)
{
	if (!c->valid || c->sec != tv->tv_sec) {
		struct tm tm;
		time_t t = tv->tv_sec;
		gmtime_r(&t, &tm);
		c->len = strftime(c->text, sizeof(c->text), "%Y-%m-%dT%H:%M:%S", &tm);
		c->sec = tv->tv_sec;
		c->valid = true;
	}
	char *p = c->text + c->len;
	long us = (long)tv->tv_usec;
	if (us < 0 || us > 999999) {
		/* A capture file can hold any value here: %06ld says what it says. */
		snprintf(p, sizeof(c->text) - c->len, ".%06ldZ", us);
		return c->text;
	}
	*p = '.';
	for (int i = 6; i >= 1; i--, us /= 10)
		p[i] = (char)('0' + us % 10);
	p[7] = 'Z';
	p[8] = 0;
	return c->text;
}

/* The JSON text of f's pcap_file, escaped once per file (none when it is not UTF-8). */
static void json_update_file(struct json_out *j, const struct flow *f)
{
	if (f->pcap_file == j->file)
		return;
	free(j->file_json);
	j->file_json = NULL;
	j->file = f->pcap_file;
	if (!f->pcap_file || !utf8_valid(f->pcap_file, strlen(f->pcap_file)))
		return;
	size_t len;
	FILE *mem = open_memstream(&j->file_json, &len);
	if (!mem)
		return;
	struct jw w;
	jw_init(&w, mem);
	jw_string(&w, f->pcap_file);
	if (fclose(mem) != 0) {
		free(j->file_json);
		j->file_json = NULL;
	}
}

/*
 * Starts an event's line: the envelope, the same dozen fields on every line,
 * then the key `type` with its body object opened. The envelope's strings are
 * the engine's (addresses, protocol names), written unchecked.
 */
static void json_begin(struct json_out *j, struct jw *w, const struct flow *f, const char *type)
{
	json_update_file(j, f);
	jw_init(w, j->fp);
	jw_begin_object(w);
	jw_key(w, "timestamp");
	jw_string(w, time_text(&j->now, &f->now));
	jw_key(w, "flow_id");
	jw_uint(w, f->flow_id);
	if (j->file_json) {
		jw_key(w, "pcap_file");
		jw_raw(w, j->file_json);
	}
	if (f->pcap_cnt) { /* files only: the frame to look at in Wireshark */
		jw_key(w, "pcap_cnt");
		jw_uint(w, f->pcap_cnt);
		if (strcmp(type, "session") == 0) {
			jw_key(w, "pcap_cnt_first");
			jw_uint(w, f->pcap_cnt_first);
		}
	}
	jw_key(w, "event_type");
	jw_string(w, type);
	jw_key(w, "src_ip");
	jw_string(w, f->client_ip);
	jw_key(w, "src_port");
	jw_uint(w, f->client_port);
	jw_key(w, "dest_ip");
	jw_string(w, f->server_ip);
	jw_key(w, "dest_port");
	jw_uint(w, f->server_port);
	jw_key(w, "proto");
	jw_string(w, "TCP");
	if (f->community_id[0]) { /* where Suricata's EVE has it */
		jw_key(w, "community_id");
		jw_string(w, f->community_id);
	}
	if (f->sensor)
		jw_field_text(w, "sensor", f->sensor);
	jw_key(w, "app_proto");
	jw_string(w, f->app_proto ? f->app_proto : "pop3");
	jw_key(w, "schema_version");
	jw_uint(w, JSON_SCHEMA_VERSION);
	if (f->tls == FLOW_TLS_DECRYPTED && strcmp(type, "tls") != 0) {
		/* read inside TLS, decrypted: the tls event's own body says it there */
		jw_key(w, "tls");
		jw_begin_object(w);
		jw_field_bool(w, "decrypted", true);
		jw_end_object(w);
	}
	jw_key(w, type);
	jw_begin_object(w);
}

/* Closes the body and the line, and counts it. */
static void json_end(struct json_out *j, struct jw *w)
{
	jw_end_object(w);
	jw_end_object(w);
	fputc_unlocked('\n', w->fp);
	atomic_fetch_add_explicit(&j->w.events, 1, memory_order_relaxed);
}

/* A user name: null when none was sent (an empty one included), else the wire bytes. */
static void json_field_name(struct jw *w, const char *key, struct bytes name)
{
	if (name.n) {
		jw_field_bytes(w, key, name);
		return;
	}
	jw_key(w, key);
	jw_null(w);
}

static void json_auth(struct writer *wr, const struct flow *f, const struct ev_auth *a)
{
	struct json_out *j = (struct json_out *)wr;
	struct jw w;
	json_begin(j, &w, f, "auth");
	jw_field_text(&w, "mechanism", a->mechanism);
	json_field_name(&w, "username", a->username);
	jw_field_bool(&w, "cleartext", auth_cleartext_on_wire(a, f));
	jw_field_text(&w, "result", auth_result_name(a->result));
	if (a->reply.n || a->result != AUTH_RESULT_UNKNOWN)
		jw_field_bytes(&w, "reply", a->reply);
	if (a->response_code)
		jw_field_text(&w, "response_code", a->response_code);
	if (a->result == AUTH_RESULT_FAILURE && a->failure)
		jw_field_text(&w, "failure", a->failure);
	if (a->trusted_user.n)
		jw_field_bytes(&w, "trusted_user", a->trusted_user);
	if (auth_stls_ignored(a, f))
		jw_field_bool(&w, "stls_offered", true);
	if (a->challenge.n)
		jw_field_bytes(&w, "challenge", a->challenge);
	if (a->authzid.n)
		jw_field_bytes(&w, "authzid", a->authzid);
	if (a->realm.n)
		jw_field_bytes(&w, "realm", a->realm);
	if (a->workstation.n)
		jw_field_bytes(&w, "workstation", a->workstation);
	if (j->show_passwords && a->cleartext)
		jw_field_bytes(&w, "password", a->password);
	if (j->show_passwords && a->hash.n) {
		jw_field_bytes(&w, "hash", a->hash);
		jw_field_text(&w, "hash_format", a->hash_format);
		if (strcmp(a->hash_format, "hashcat") == 0)
			jw_field_int(&w, "hashcat_mode", a->hashcat_mode);
	}
	json_end(j, &w);
}

/* A cross-session alert's evidence: failures, window, first and last time, the users tried. */
static void json_alert_counts(struct jw *w, const struct alert_counts *k)
{
	char t[40];
	jw_field_int(w, "failures", k->failures);
	jw_field_int(w, "window", k->window);
	json_format_time(&k->first, t, sizeof(t));
	jw_field_text(w, "first", t);
	json_format_time(&k->last, t, sizeof(t));
	jw_field_text(w, "last", t);
	jw_field_int(w, "users_total", k->users_total);
	jw_key(w, "users");
	jw_begin_array(w);
	for (size_t i = 0; i < k->n_users; i++)
		jw_bytes(w, k->users[i]);
	jw_end_array(w);
}

static void json_alert(struct writer *wr, const struct flow *f, const struct alert_record *a)
{
	struct json_out *j = (struct json_out *)wr;
	struct jw w;
	json_begin(j, &w, f, "alert");
	jw_field_text(&w, "signature", a->signature);
	jw_field_int(&w, "severity", a->severity);
	jw_field_text(&w, "description", a->description);
	if (a->username.n)
		jw_field_bytes(&w, "username", a->username);
	if (a->counts)
		json_alert_counts(&w, a->counts);
	json_end(j, &w);
}

/* A header's text, like wire bytes (they are NUL-terminated here). */
static void json_field_cstr(struct jw *w, const char *key, const char *s)
{
	jw_field_bytes(w, key, bytes_of(s, strlen(s)));
}

/* key (and raw_key where the wire form differs) for one header that is present. */
static void json_header(struct jw *w, const char *key, const char *raw_key, const struct header_field *f)
{
	if (!f->value)
		return;
	json_field_cstr(w, key, f->value);
	if (f->raw)
		json_field_cstr(w, raw_key, f->raw);
}

static void json_headers(struct jw *w, const struct message_headers *h)
{
	jw_key(w, "headers");
	jw_begin_object(w);
	json_header(w, "from", "from_raw", &h->from);
	json_header(w, "to", "to_raw", &h->to);
	json_header(w, "cc", "cc_raw", &h->cc);
	json_header(w, "subject", "subject_raw", &h->subject);
	json_header(w, "date", "date_raw", &h->date);
	json_header(w, "message_id", "message_id_raw", &h->message_id);
	jw_end_object(w);
}

static void json_attachments(struct jw *w, const struct message_record *m)
{
	jw_key(w, "attachments");
	jw_begin_array(w);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct attachment_record *a = &m->attachments[i];
		jw_begin_object(w);
		if (a->filename)
			json_field_cstr(w, "filename", a->filename);
		json_field_cstr(w, "content_type", a->content_type);
		jw_field_int(w, "size", (long long)a->size);
		if (a->sha256[0])
			jw_field_text(w, "sha256", a->sha256);
		jw_end_object(w);
	}
	jw_end_array(w);
}

static void json_message(struct writer *wr, const struct flow *f, const struct message_record *m)
{
	struct json_out *j = (struct json_out *)wr;
	struct jw w;
	json_begin(j, &w, f, "message");
	jw_field_text(&w, "command", m->command);
	jw_field_int(&w, "number", m->number);
	if (m->folder_n)
		jw_field_bytes(&w, "folder", bytes_of(m->folder, m->folder_n));
	if (m->uid_n)
		jw_field_bytes(&w, "uid", bytes_of(m->uid, m->uid_n));
	jw_field_int(&w, "size", (long long)m->size);
	if (m->announced >= 0)
		jw_field_int(&w, "announced_size", m->announced);
	if (m->list_size >= 0)
		jw_field_int(&w, "list_size", m->list_size);
	if (m->size_mismatch)
		jw_field_bool(&w, "size_mismatch", true);
	jw_field_text(&w, "sha256", m->sha256);
	jw_field_bool(&w, "complete", m->complete);
	if (m->path)
		jw_field_text(&w, "path", m->path);
	if (m->extract_error)
		jw_field_text(&w, "extract_error", m->extract_error);
	json_headers(&w, &m->headers);
	if (m->has_attachments) {
		json_attachments(&w, m);
		if (m->attachments_truncated)
			jw_field_bool(&w, "attachments_truncated", true);
		if (m->attachments_error)
			jw_field_text(&w, "attachments_error", m->attachments_error);
	}
	json_end(j, &w);
}

/* Seconds since 1970 as "2024-11-14T22:13:20Z". */
static void json_field_epoch(struct jw *w, const char *key, int64_t sec)
{
	char buf[40];
	struct tm tm;
	time_t t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sizeof(buf), "%lld", (long long)sec);
	jw_field_text(w, key, buf);
}

/* A JA3 or JA3S: its hash and the string hashed. */
static void json_ja3(struct jw *w, const char *key, const char *hash, const char *string, bool cut)
{
	jw_key(w, key);
	jw_begin_object(w);
	jw_field_text(w, "hash", hash);
	jw_field_text(w, "string", string);
	if (cut)
		jw_field_bool(w, "truncated", true);
	jw_end_object(w);
}

/* The certificate's subject alternative names by kind, as Zeek's x509.log has them. */
static void json_san(struct jw *w, const struct ev_tls *t)
{
	static const char *const kinds[EV_SAN_COUNT] = { "dns", "ip", "email", "uri" };
	jw_key(w, "san");
	jw_begin_object(w);
	for (unsigned k = 0; k < EV_SAN_COUNT; k++) {
		bool any = false;
		for (size_t i = 0; i < t->n_san; i++) {
			if (t->san_types[i] != k)
				continue;
			if (!any) {
				jw_key(w, kinds[k]);
				jw_begin_array(w);
				any = true;
			}
			jw_bytes(w, t->san[i]);
		}
		if (any)
			jw_end_array(w);
	}
	jw_end_object(w);
}

/* The server certificate, or null (certificate_status says why). */
static void json_certificate(struct jw *w, const struct ev_tls *t)
{
	jw_key(w, "certificate");
	if (!t->sha256) {
		jw_null(w);
		return;
	}
	jw_begin_object(w);
	jw_field_bytes(w, "subject", bytes_of(t->subject, strlen(t->subject)));
	jw_field_bytes(w, "issuer", bytes_of(t->issuer, strlen(t->issuer)));
	jw_field_text(w, "serial", t->serial);
	json_field_epoch(w, "not_before", t->not_before);
	json_field_epoch(w, "not_after", t->not_after);
	jw_field_text(w, "sha256", t->sha256);
	jw_field_bool(w, "self_signed", t->self_signed);
	json_san(w, t);
	if (t->san_truncated)
		jw_field_bool(w, "san_truncated", true);
	jw_field_int(w, "chain_length", t->chain_length);
	jw_end_object(w);
}

/* What a TLS session's handshake showed, EVE style (Suricata's tls, Zeek's ssl.log). */
static void json_tls_session(struct jw *w, const struct ev_tls *t)
{
	if (t->server_hello) {
		jw_field_text(w, "version", t->version_name);
		jw_field_text(w, "cipher_suite", t->cipher_suite);
	}
	if (t->client_hello) {
		jw_field_text(w, "client_version", t->client_version_name);
		if (t->sni_present)
			jw_field_bytes(w, "sni", t->sni);
		if (t->alpn_offered.n)
			jw_field_bytes(w, "alpn_offered", t->alpn_offered);
	}
	if (t->alpn.n)
		jw_field_bytes(w, "alpn", t->alpn);
	if (t->server_hello) {
		jw_field_bool(w, "resumed", t->resumed);
		if (t->resumed)
			jw_field_text(w, "resumption", t->resumption);
		if (t->hello_retry)
			jw_field_bool(w, "hello_retry", true);
		jw_field_bool(w, "encrypt_then_mac", t->encrypt_then_mac);
		jw_field_bool(w, "extended_master_secret", t->extended_master_secret);
	}
	if (t->client_hello) {
		json_ja3(w, "ja3", t->ja3, t->ja3_string, t->ja3_truncated);
		jw_field_text(w, "ja4", t->ja4);
	}
	if (t->server_hello)
		json_ja3(w, "ja3s", t->ja3s, t->ja3s_string, false);
	json_certificate(w, t);
	jw_field_text(w, "certificate_status", t->certificate_status);
	jw_field_bool(w, "decrypted", t->decrypted);
	jw_field_text(w, "decryption", t->decryption);
}

static void json_tls(struct writer *wr, const struct flow *f, const struct ev_tls *t)
{
	struct json_out *j = (struct json_out *)wr;
	struct jw w;
	json_begin(j, &w, f, "tls");
	if (t->command) {
		jw_field_text(&w, "command", t->command);
		jw_field_text(&w, "result", auth_result_name(t->result));
	}
	if (t->handshake)
		json_tls_session(&w, t);
	json_end(j, &w);
}

static void json_command(struct writer *wr, const struct flow *f, const struct ev_command *c)
{
	struct json_out *j = (struct json_out *)wr;
	struct jw w;
	json_begin(j, &w, f, "command");
	struct bytes req = c->request;
	bool redact = c->secret_at < req.n && !j->show_passwords;
	if (redact) {
		req.n = c->secret_at;
		/*
		 * The redacted prefix also ends at its first NUL byte: it always did
		 * (it went through a %s), and the output must not change.
		 */
		const uint8_t *nul = memchr(req.p, 0, req.n);
		if (nul)
			req.n = (size_t)(nul - req.p);
	}
	/* The secret is replaced, its length not revealed. */
	jw_key(&w, "request");
	jw_bytes_suffix(&w, req, redact ? "<redacted>" : NULL);
	if (c->reply.n)
		jw_field_bytes(&w, "reply", c->reply);
	jw_field_text(&w, "result", auth_result_name(c->result));
	json_end(j, &w);
}

static void json_anomalies(struct jw *w, const char *key, const struct anomaly_record *an, size_t n,
			   bool details)
{
	jw_key(w, key);
	jw_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		if (!details) {
			jw_text(w, anomaly_id(an[i].id));
			continue;
		}
		jw_begin_object(w);
		jw_field_text(w, "id", anomaly_id(an[i].id));
		jw_field_int(w, "count", an[i].count);
		jw_field_text(w, "dir", an[i].dir == DIR_TO_SERVER ? "toserver" : "toclient");
		jw_field_bytes(w, "sample", bytes_of(an[i].sample, an[i].sample_n));
		jw_end_object(w);
	}
	jw_end_array(w);
}

/*
 * What the session learnt of the mailbox: how many messages it listed, which
 * it marked for deletion (with their uids), and whether the server applied
 * those deletions: true, false, or null when the capture ended first.
 */
static void json_session_mailbox(struct jw *w, const struct ev_session *s)
{
	size_t listed = 0;
	for (size_t i = 0; i < s->n_mailbox; i++)
		listed += s->mailbox[i].uid.n > 0 || s->mailbox[i].size >= 0;
	jw_field_int(w, "messages_listed", (long long)listed);
	jw_key(w, "marked_for_deletion");
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_mailbox; i++) {
		const struct mailbox_entry *e = &s->mailbox[i];
		if (!e->marked)
			continue;
		jw_begin_object(w);
		jw_field_int(w, "number", e->number);
		if (e->uid.n)
			jw_field_bytes(w, "uid", e->uid);
		if (e->folder.n)
			jw_field_bytes(w, "folder", e->folder);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_key(w, "deletions_committed");
	if (s->deletions_committed == COMMIT_UNKNOWN)
		jw_null(w);
	else
		jw_bool(w, s->deletions_committed == COMMIT_YES);
}

/*
 * Every message the session learnt of (UIDL, LIST, DELE), by number: what
 * `popsift report` needs to rebuild the mailbox report from the events. An
 * entry has a uid or a size only where the session saw one.
 */
static void json_session_listing(struct jw *w, const struct ev_session *s)
{
	jw_key(w, "listing");
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_mailbox; i++) {
		const struct mailbox_entry *e = &s->mailbox[i];
		jw_begin_object(w);
		jw_field_int(w, "number", e->number);
		if (e->uid.n)
			jw_field_bytes(w, "uid", e->uid);
		if (e->size >= 0)
			jw_field_int(w, "size", e->size);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* A list of wire strings, e.g. the capabilities. */
static void json_bytes_array(struct jw *w, const char *key, const struct bytes *b, size_t n)
{
	jw_key(w, key);
	jw_begin_array(w);
	for (size_t i = 0; i < n; i++)
		jw_bytes(w, b[i]);
	jw_end_array(w);
}

static void json_session(struct writer *wr, const struct flow *f, const struct session_record *r)
{
	struct json_out *j = (struct json_out *)wr;
	const struct ev_session *s = &r->summary;
	struct jw w;
	json_begin(j, &w, f, "session");
	jw_key(&w, "start");
	jw_string(&w, time_text(&j->start, &f->start));
	jw_key(&w, "end");
	jw_string(&w, time_text(&j->now, &f->now));
	if (s->greeting.n)
		jw_field_bytes(&w, "greeting", s->greeting);
	if (s->apop_timestamp.n)
		jw_field_bytes(&w, "apop_timestamp", s->apop_timestamp);
	json_bytes_array(&w, "capabilities", s->capabilities, s->n_capabilities);
	if (s->n_folders)
		json_bytes_array(&w, "folders", s->folders, s->n_folders);
	json_field_name(&w, "username", s->username);
	jw_field_bool(&w, "authenticated", s->authenticated);
	jw_field_bool(&w, "tls", r->tls);
	jw_field_bool(&w, "encrypted", r->encrypted);
	jw_field_bool(&w, "sasl_layer", s->sasl_layer);
	jw_field_text(&w, "state", s->state);
	if (s->state_inferred)
		jw_field_bool(&w, "state_inferred", true);
	jw_field_int(&w, "commands", s->commands);
	jw_field_int(&w, "messages_retrieved", s->messages_retrieved);
	jw_field_int(&w, "messages_deleted", s->messages_deleted);
	json_session_mailbox(&w, s);
	if (s->messages_submitted)
		jw_field_int(&w, "messages_submitted", s->messages_submitted);
	jw_field_int(&w, "bytes_toserver", (long long)f->bytes[DIR_TO_SERVER]);
	jw_field_int(&w, "bytes_toclient", (long long)f->bytes[DIR_TO_CLIENT]);
	jw_field_text(&w, "end_reason", r->end_reason);
	jw_field_bool(&w, "partial", f->partial);
	jw_field_int(&w, "gaps", f->gaps);
	if (f->kernel_drops_known) /* live only: see capture_drops_between() */
		jw_field_int(&w, "kernel_drops", (long long)f->kernel_drops);
	if (f->snaplen_cut)
		jw_field_int(&w, "snaplen_cut", f->snaplen_cut);
	json_anomalies(&w, "anomalies", r->anomalies, r->n_anomalies, false);
	if (r->n_anomalies)
		json_anomalies(&w, "anomaly_details", r->anomalies, r->n_anomalies, true);
	json_session_listing(&w, s);
	json_end(j, &w);
}

static bool json_flush(struct writer *wr)
{
	struct json_out *j = (struct json_out *)wr;
	return fflush(j->fp) == 0 && !ferror(j->fp);
}

static void json_set_fp(struct writer *wr, FILE *fp)
{
	((struct json_out *)wr)->fp = fp;
}

static void json_free(struct writer *wr)
{
	struct json_out *j = (struct json_out *)wr;
	free(j->file_json);
	free(j);
}

static const struct writer_ops json_ops = {
	.auth = json_auth,
	.alert = json_alert,
	.message = json_message,
	.tls = json_tls,
	.command = json_command,
	.session = json_session,
	.flush = json_flush,
	.set_fp = json_set_fp,
	.free = json_free,
};

struct writer *json_writer_open(FILE *fp, bool show_passwords)
{
	struct json_out *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->w.ops = &json_ops;
	j->fp = fp;
	j->show_passwords = show_passwords;
	return &j->w;
}

/* ---- the --mailbox-report ---------------------------------------------- */

/* A time as json_format_time() writes it. */
static void json_field_time(struct jw *w, const char *key, const struct timeval *tv)
{
	char buf[40];
	json_format_time(tv, buf, sizeof(buf));
	jw_key(w, key);
	jw_string(w, buf);
}

/*
 * The report's strings are escaped already (utf8.h) or the engine's; only a
 * mechanism is the client's bytes, and Jansson refused a login object whose
 * mechanism was not UTF-8: the login is left out, as it was.
 */
static void json_report_logins(struct jw *w, const struct mbr_session *s)
{
	jw_key(w, "logins");
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_logins; i++) {
		const struct mbr_login *l = &s->logins[i];
		if (!utf8_valid(l->mechanism, strlen(l->mechanism)))
			continue;
		jw_begin_object(w);
		jw_field_text(w, "mechanism", l->mechanism);
		jw_field_text(w, "result", auth_result_name(l->result));
		json_field_time(w, "time", &l->when);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* The uids a session listed; only_new: those no earlier session of the mailbox listed. */
static void json_report_uids(struct jw *w, const char *key, const struct mbr_session *s, bool only_new)
{
	jw_key(w, key);
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_listed; i++)
		if (!only_new || s->listed[i].is_new)
			jw_text(w, s->listed[i].uid); /* none without a uid */
	jw_end_array(w);
}

static void json_report_retrieved(struct jw *w, const struct mbr_session *s)
{
	jw_key(w, "retrieved");
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_retrieved; i++) {
		const struct mbr_retrieval *x = &s->retrieved[i];
		jw_begin_object(w);
		jw_field_text(w, "command", x->command);
		jw_field_int(w, "number", x->number);
		jw_field_int(w, "size", (long long)x->size);
		jw_field_text(w, "sha256", x->sha256);
		jw_field_bool(w, "complete", x->complete);
		if (x->uid)
			jw_field_text(w, "uid", x->uid);
		json_field_time(w, "time", &x->when);
		jw_end_object(w);
	}
	jw_end_array(w);
}

static void json_report_marked(struct jw *w, const struct mbr_session *s)
{
	jw_key(w, "marked_for_deletion");
	jw_begin_array(w);
	for (size_t i = 0; i < s->n_listed; i++) {
		const struct mbr_listed *l = &s->listed[i];
		if (!l->marked)
			continue;
		jw_begin_object(w);
		jw_field_int(w, "number", l->number);
		if (l->uid)
			jw_field_text(w, "uid", l->uid);
		jw_end_object(w);
	}
	jw_end_array(w);
}

static void json_report_session(struct jw *w, const struct mbr_session *s)
{
	jw_begin_object(w);
	jw_field_int(w, "flow_id", (long long)s->flow_id);
	jw_field_text(w, "client", s->client);
	json_field_time(w, "start", &s->start);
	json_field_time(w, "end", &s->end);
	jw_field_text(w, "app_proto", s->app_proto[0] ? s->app_proto : "pop3");
	json_report_logins(w, s);
	json_report_uids(w, "uids_listed", s, false);
	json_report_uids(w, "new_uids", s, true);
	json_report_retrieved(w, s);
	json_report_marked(w, s);
	jw_key(w, "deletions_committed");
	if (s->committed == COMMIT_UNKNOWN)
		jw_null(w);
	else
		jw_bool(w, s->committed == COMMIT_YES);
	jw_field_text(w, "end_reason", s->end_reason);
	jw_end_object(w);
}

static void json_report_messages(struct jw *w, const struct mbr_mailbox *b)
{
	jw_key(w, "messages");
	jw_begin_array(w);
	for (size_t i = 0; i < b->n_messages; i++) {
		const struct mbr_message *m = &b->messages[i];
		jw_begin_object(w);
		jw_field_text(w, "uid", m->uid);
		jw_field_int(w, "first_seen_flow", (long long)m->first_flow);
		jw_field_int(w, "times_retrieved", m->times_retrieved);
		if (m->size >= 0)
			jw_field_int(w, "size", m->size);
		json_field_time(w, "first_seen", &m->first_seen);
		jw_key(w, "deleted");
		if (m->deleted)
			jw_string(w, m->deleted);
		else
			jw_null(w);
		jw_end_object(w);
	}
	jw_end_array(w);
}

bool json_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n)
{
	bool failed_before = ferror(fp); /* "-": the events' stream, whose errors are reported there */
	for (size_t i = 0; i < n; i++) {
		const struct mbr_mailbox *b = &boxes[i];
		struct jw w;
		jw_init(&w, fp);
		jw_begin_object(&w);
		jw_field_text(&w, "event_type", "mailbox");
		jw_field_text(&w, "server", b->server);
		jw_field_text(&w, "user", b->user);
		jw_key(&w, "sessions");
		jw_begin_array(&w);
		for (size_t k = 0; k < b->n_sessions; k++)
			json_report_session(&w, &b->sessions[k]);
		jw_end_array(&w);
		json_report_messages(&w, b);
		jw_end_object(&w);
		if (fputc('\n', fp) == EOF || (ferror(fp) && !failed_before))
			return false;
	}
	return fflush(fp) == 0;
}
