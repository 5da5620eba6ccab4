/*
 * json.c - formats popsift's records as NDJSON (docs/events.md), one object a
 * line, envelope first (Suricata EVE style). Owns the output buffer and nothing
 * else: it decides no policy (what to report is decided in output.c).
 *
 * Every event line is streamed through jsonw.c, straight to the FILE*: building
 * a Jansson tree per event and dumping it cost most of popsift's time on short
 * sessions. Jansson is used only for the --mailbox-report (written once, at the
 * end) and to escape the pcap_file name once per file; it is still the only
 * module that knows Jansson.
 */
#include "json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

/* A time's text, its "YYYY-MM-DDTHH:MM:SS" part formatted once a second. */
struct time_text {
	time_t sec;
	bool valid;
	size_t len;    /* of the seconds part */
	char text[40]; /* then ".uuuuuuZ", as json_format_time() writes it */
};

struct json_out {
	FILE *fp;
	bool show_passwords;
	struct time_text now;    /* the envelope's timestamp and a session's end */
	struct time_text start;  /* a session's start */
	const char *file;        /* the pcap_file whose JSON text is in `file_json` */
	char *file_json;         /* NULL: not valid UTF-8, the field is left out */
};

struct json_out *json_open(FILE *fp, bool show_passwords)
{
	struct json_out *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->fp = fp;
	j->show_passwords = show_passwords;
	return j;
}

void json_close(struct json_out *j)
{
	if (j)
		free(j->file_json);
	free(j);
}

void json_set_fp(struct json_out *j, FILE *fp)
{
	j->fp = fp;
}

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

/* The JSON text of f's pcap_file, escaped by Jansson once per file. */
static void json_update_file(struct json_out *j, const struct flow *f)
{
	if (f->pcap_file == j->file)
		return;
	free(j->file_json);
	j->file_json = NULL;
	j->file = f->pcap_file;
	json_t *v = f->pcap_file ? json_string(f->pcap_file) : NULL;
	if (v)
		j->file_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
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
	jw_key(w, "app_proto");
	jw_string(w, f->app_proto ? f->app_proto : "pop3");
	jw_key(w, type);
	jw_begin_object(w);
}

/* Closes the body and the line. */
static void json_end(struct jw *w)
{
	jw_end_object(w);
	jw_end_object(w);
	fputc_unlocked('\n', w->fp);
}

void json_auth(struct json_out *j, const struct flow *f, const struct ev_auth *a)
{
	struct jw w;
	json_begin(j, &w, f, "auth");
	jw_field_text(&w, "mechanism", a->mechanism);
	jw_field_bytes(&w, "username", a->username);
	jw_field_bool(&w, "cleartext", a->cleartext);
	jw_field_text(&w, "result", auth_result_name(a->result));
	if (a->reply.n || a->result != AUTH_RESULT_UNKNOWN)
		jw_field_bytes(&w, "reply", a->reply);
	if (a->response_code)
		jw_field_text(&w, "response_code", a->response_code);
	if (a->result == AUTH_RESULT_FAILURE && a->failure)
		jw_field_text(&w, "failure", a->failure);
	if (a->trusted_user.n)
		jw_field_bytes(&w, "trusted_user", a->trusted_user);
	if (a->stls_offered)
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
	json_end(&w);
}

void json_alert(struct json_out *j, const struct flow *f, const struct alert_record *a)
{
	struct jw w;
	json_begin(j, &w, f, "alert");
	jw_field_text(&w, "signature", a->signature);
	jw_field_int(&w, "severity", a->severity);
	jw_field_text(&w, "description", a->description);
	if (a->username.n)
		jw_field_bytes(&w, "username", a->username);
	json_end(&w);
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

void json_message(struct json_out *j, const struct flow *f, const struct message_record *m)
{
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
	/*
	 * Size evidence: a whole message whose octets differ from what the server
	 * announced or listed (servers that rewrite messages, Exchange's compressed
	 * sizes). Never used to frame the data.
	 */
	bool mismatch = m->complete && ((m->announced >= 0 && (uint64_t)m->announced != m->size) ||
					(m->list_size >= 0 && (uint64_t)m->list_size != m->size));
	if (mismatch && strcmp(m->command, "TOP") != 0)
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
	json_end(&w);
}

void json_tls(struct json_out *j, const struct flow *f, const struct ev_tls *t)
{
	struct jw w;
	json_begin(j, &w, f, "tls");
	jw_field_text(&w, "command", t->command);
	jw_field_text(&w, "result", auth_result_name(t->result));
	json_end(&w);
}

void json_command(struct json_out *j, const struct flow *f, const struct ev_command *c)
{
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
	json_end(&w);
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
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_key(w, "deletions_committed");
	if (s->deletions_committed == COMMIT_UNKNOWN)
		jw_null(w);
	else
		jw_bool(w, s->deletions_committed == COMMIT_YES);
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

void json_session(struct json_out *j, const struct flow *f, const struct ev_session *s,
		  const struct anomaly_record *anoms, size_t n_anoms)
{
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
	if (s->username.n)
		jw_field_bytes(&w, "username", s->username);
	jw_field_bool(&w, "authenticated", s->authenticated);
	jw_field_bool(&w, "tls", s->tls);
	jw_field_bool(&w, "encrypted", s->encrypted);
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
	jw_field_text(&w, "end_reason", s->quit ? "quit" : end_reason_name(f->end_reason));
	jw_field_bool(&w, "partial", f->partial);
	jw_field_int(&w, "gaps", f->gaps);
	json_anomalies(&w, "anomalies", anoms, n_anoms, false);
	if (n_anoms)
		json_anomalies(&w, "anomaly_details", anoms, n_anoms, true);
	json_end(&w);
}

/* ---- the --mailbox-report ---------------------------------------------- */

static void json_set_time(json_t *o, const char *key, const struct timeval *tv)
{
	char buf[40];
	json_format_time(tv, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

static json_t *json_report_session(const struct mbr_session *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "flow_id", json_integer((json_int_t)s->flow_id));
	json_object_set_new(o, "client", json_string(s->client));
	json_set_time(o, "start", &s->start);
	json_set_time(o, "end", &s->end);
	json_object_set_new(o, "app_proto", json_string(s->app_proto ? s->app_proto : "pop3"));
	json_t *logins = json_array();
	for (size_t i = 0; i < s->n_logins; i++) {
		json_t *l = json_pack("{s:s, s:s}", "mechanism", s->logins[i].mechanism, "result",
				      auth_result_name(s->logins[i].result));
		json_set_time(l, "time", &s->logins[i].when);
		json_array_append_new(logins, l);
	}
	json_object_set_new(o, "logins", logins);
	json_t *listed = json_array(), *fresh = json_array(), *marked = json_array();
	for (size_t i = 0; i < s->n_listed; i++) {
		const struct mbr_listed *l = &s->listed[i];
		if (l->uid)
			json_array_append_new(listed, json_string(l->uid));
		if (l->uid && l->is_new)
			json_array_append_new(fresh, json_string(l->uid));
		if (l->marked)
			json_array_append_new(marked, l->uid ? json_pack("{s:I, s:s}", "number", (json_int_t)l->number, "uid", l->uid)
							     : json_pack("{s:I}", "number", (json_int_t)l->number));
	}
	json_object_set_new(o, "uids_listed", listed);
	json_object_set_new(o, "new_uids", fresh);
	json_t *got = json_array();
	for (size_t i = 0; i < s->n_retrieved; i++) {
		const struct mbr_retrieval *x = &s->retrieved[i];
		json_t *m = json_pack("{s:s, s:I, s:I, s:s, s:b}", "command", x->command, "number",
				      (json_int_t)x->number, "size", (json_int_t)x->size, "sha256", x->sha256,
				      "complete", x->complete);
		if (x->uid)
			json_object_set_new(m, "uid", json_string(x->uid));
		json_set_time(m, "time", &x->when);
		json_array_append_new(got, m);
	}
	json_object_set_new(o, "retrieved", got);
	json_object_set_new(o, "marked_for_deletion", marked);
	json_object_set_new(o, "deletions_committed", s->committed == COMMIT_UNKNOWN ? json_null()
							   : json_boolean(s->committed == COMMIT_YES));
	json_object_set_new(o, "end_reason", json_string(s->end_reason));
	return o;
}

static json_t *json_report_messages(const struct mbr_mailbox *b)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < b->n_messages; i++) {
		const struct mbr_message *m = &b->messages[i];
		json_t *o = json_pack("{s:s, s:I, s:I}", "uid", m->uid, "first_seen_flow",
				      (json_int_t)m->first_flow, "times_retrieved", (json_int_t)m->times_retrieved);
		if (m->size >= 0)
			json_object_set_new(o, "size", json_integer(m->size));
		json_set_time(o, "first_seen", &m->first_seen);
		json_object_set_new(o, "deleted", m->deleted ? json_string(m->deleted) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

bool json_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct mbr_mailbox *b = &boxes[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "event_type", "mailbox", "server", b->server,
				      "user", b->user);
		json_t *sessions = json_array();
		for (size_t k = 0; k < b->n_sessions; k++)
			json_array_append_new(sessions, json_report_session(&b->sessions[k]));
		json_object_set_new(o, "sessions", sessions);
		json_object_set_new(o, "messages", json_report_messages(b));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!s || fputs(s, fp) == EOF || fputc('\n', fp) == EOF) {
			free(s);
			return false;
		}
		free(s);
	}
	return fflush(fp) == 0;
}
