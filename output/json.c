/*
 * json.c - formats popsift's records as NDJSON (docs/events.md), one object a
 * line, envelope first (Suricata EVE style). Owns the output buffer and nothing
 * else: it decides no policy (what to report is decided in output.c).
 */
#include "json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

struct json_out {
	FILE *fp;
	bool show_passwords;
	time_t sec;              /* the second whose text is in `when` */
	char when[24];           /* "YYYY-MM-DDTHH:MM:SS" */
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

/* Wire bytes as a JSON string, escaped by the \xNN rule. */
static json_t *json_bytes(struct bytes b)
{
	char small[256];
	size_t need = UTF8_ESCAPED_MAX(b.n);
	char *buf = need <= sizeof(small) ? small : malloc(need);
	if (!buf)
		return json_string("");
	size_t len = utf8_escape(b.p, b.n, buf);
	json_t *s = json_stringn_nocheck(buf, len);
	if (buf != small)
		free(buf);
	return s;
}

static void json_set_time(json_t *o, const char *key, const struct timeval *tv)
{
	char buf[40];
	json_format_time(tv, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/*
 * The envelope is the same dozen fields on every line: written directly, not
 * built as a Jansson object and dumped (that cost more than half of popsift's
 * time on short sessions). The text is what Jansson writes (JSON_COMPACT |
 * JSON_PRESERVE_ORDER): same keys, same order, same escaping.
 */
static void json_put_string(FILE *fp, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	fputc_unlocked('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc_unlocked('\\', fp);
			fputc_unlocked(c, fp);
		} else if (c < 0x20) {
			const char *e = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" :
					c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
			if (e) {
				fputs_unlocked(e, fp);
			} else {
				fputs_unlocked("\\u00", fp);
				fputc_unlocked(hex[c >> 4], fp);
				fputc_unlocked(hex[c & 15], fp);
			}
		} else {
			fputc_unlocked(c, fp);
		}
	}
	fputc_unlocked('"', fp);
}

static void json_envelope(struct json_out *j, const struct flow *f, const char *type)
{
	if (f->now.tv_sec != j->sec || !j->when[0]) {
		struct tm tm;
		time_t t = f->now.tv_sec;
		gmtime_r(&t, &tm);
		strftime(j->when, sizeof(j->when), "%Y-%m-%dT%H:%M:%S", &tm);
		j->sec = f->now.tv_sec;
	}
	if (f->pcap_file != j->file) {
		free(j->file_json);
		j->file_json = NULL;
		j->file = f->pcap_file;
		json_t *v = f->pcap_file ? json_string(f->pcap_file) : NULL;
		if (v)
			j->file_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(v);
	}
	fprintf(j->fp, "{\"timestamp\":\"%s.%06ldZ\",\"flow_id\":%llu", j->when,
		(long)f->now.tv_usec, (unsigned long long)f->flow_id);
	if (j->file_json)
		fprintf(j->fp, ",\"pcap_file\":%s", j->file_json);
	fputs_unlocked(",\"event_type\":", j->fp);
	json_put_string(j->fp, type);
	fputs_unlocked(",\"src_ip\":", j->fp);
	json_put_string(j->fp, f->client_ip);
	fprintf(j->fp, ",\"src_port\":%u,\"dest_ip\":", (unsigned)f->client_port);
	json_put_string(j->fp, f->server_ip);
	fprintf(j->fp, ",\"dest_port\":%u,\"proto\":\"TCP\",\"app_proto\":", (unsigned)f->server_port);
	json_put_string(j->fp, f->app_proto ? f->app_proto : "pop3");
}

/* Writes the envelope plus `body` under the key `type` as one line. */
static void json_emit(struct json_out *j, const struct flow *f, const char *type, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		json_envelope(j, f, type);
		fputc_unlocked(',', j->fp);
		json_put_string(j->fp, type);
		fputc_unlocked(':', j->fp);
		fputs_unlocked(s, j->fp);
		fputs_unlocked("}\n", j->fp);
		free(s);
	}
	json_decref(body);
}

void json_auth(struct json_out *j, const struct flow *f, const struct ev_auth *a)
{
	json_t *b = json_object();
	json_object_set_new(b, "mechanism", json_string(a->mechanism));
	json_object_set_new(b, "username", json_bytes(a->username));
	json_object_set_new(b, "cleartext", json_boolean(a->cleartext));
	json_object_set_new(b, "result", json_string(auth_result_name(a->result)));
	if (a->reply.n || a->result != AUTH_RESULT_UNKNOWN)
		json_object_set_new(b, "reply", json_bytes(a->reply));
	if (a->response_code)
		json_object_set_new(b, "response_code", json_string(a->response_code));
	if (a->result == AUTH_RESULT_FAILURE && a->failure)
		json_object_set_new(b, "failure", json_string(a->failure));
	if (a->trusted_user.n)
		json_object_set_new(b, "trusted_user", json_bytes(a->trusted_user));
	if (a->stls_offered)
		json_object_set_new(b, "stls_offered", json_true());
	if (a->challenge.n)
		json_object_set_new(b, "challenge", json_bytes(a->challenge));
	if (a->authzid.n)
		json_object_set_new(b, "authzid", json_bytes(a->authzid));
	if (a->realm.n)
		json_object_set_new(b, "realm", json_bytes(a->realm));
	if (a->workstation.n)
		json_object_set_new(b, "workstation", json_bytes(a->workstation));
	if (j->show_passwords && a->has_password)
		json_object_set_new(b, "password", json_bytes(a->password));
	if (j->show_passwords && a->hash.n) {
		json_object_set_new(b, "hash", json_bytes(a->hash));
		json_object_set_new(b, "hash_format", json_string(a->hash_format));
		if (strcmp(a->hash_format, "hashcat") == 0)
			json_object_set_new(b, "hashcat_mode", json_integer(a->hashcat_mode));
	}
	json_emit(j, f, "auth", b);
}

void json_alert(struct json_out *j, const struct flow *f, const struct alert_record *a)
{
	json_t *b = json_object();
	json_object_set_new(b, "signature", json_string(a->signature));
	json_object_set_new(b, "severity", json_integer(a->severity));
	json_object_set_new(b, "description", json_string(a->description));
	if (a->username.n)
		json_object_set_new(b, "username", json_bytes(a->username));
	json_emit(j, f, "alert", b);
}

/* Adds key (and key_raw where the wire form differs) for one header that is present. */
static void json_header(json_t *o, const char *key, const struct header_field *f)
{
	if (!f->value)
		return;
	json_object_set_new(o, key, json_bytes(bytes_of(f->value, strlen(f->value))));
	if (f->raw) {
		char raw_key[32];
		snprintf(raw_key, sizeof(raw_key), "%s_raw", key);
		json_object_set_new(o, raw_key, json_bytes(bytes_of(f->raw, strlen(f->raw))));
	}
}

static json_t *json_attachments(const struct message_record *m)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct attachment_record *a = &m->attachments[i];
		json_t *o = json_object();
		if (a->filename)
			json_object_set_new(o, "filename", json_bytes(bytes_of(a->filename, strlen(a->filename))));
		json_object_set_new(o, "content_type",
				    json_bytes(bytes_of(a->content_type, strlen(a->content_type))));
		json_object_set_new(o, "size", json_integer((json_int_t)a->size));
		if (a->sha256[0])
			json_object_set_new(o, "sha256", json_string(a->sha256));
		json_array_append_new(arr, o);
	}
	return arr;
}

void json_message(struct json_out *j, const struct flow *f, const struct message_record *m)
{
	json_t *b = json_object();
	json_object_set_new(b, "command", json_string(m->command));
	json_object_set_new(b, "number", json_integer(m->number));
	if (m->folder_n)
		json_object_set_new(b, "folder", json_bytes(bytes_of(m->folder, m->folder_n)));
	if (m->uid_n)
		json_object_set_new(b, "uid", json_bytes(bytes_of(m->uid, m->uid_n)));
	json_object_set_new(b, "size", json_integer((json_int_t)m->size));
	if (m->announced >= 0)
		json_object_set_new(b, "announced_size", json_integer(m->announced));
	if (m->list_size >= 0)
		json_object_set_new(b, "list_size", json_integer(m->list_size));
	/*
	 * Size evidence: a whole message whose octets differ from what the server
	 * announced or listed (servers that rewrite messages, Exchange's compressed
	 * sizes). Never used to frame the data.
	 */
	bool mismatch = m->complete && ((m->announced >= 0 && (uint64_t)m->announced != m->size) ||
					(m->list_size >= 0 && (uint64_t)m->list_size != m->size));
	if (mismatch && strcmp(m->command, "TOP") != 0)
		json_object_set_new(b, "size_mismatch", json_true());
	json_object_set_new(b, "sha256", json_string(m->sha256));
	json_object_set_new(b, "complete", json_boolean(m->complete));
	if (m->path)
		json_object_set_new(b, "path", json_string(m->path));
	if (m->extract_error)
		json_object_set_new(b, "extract_error", json_string(m->extract_error));
	json_t *h = json_object();
	json_header(h, "from", &m->headers.from);
	json_header(h, "to", &m->headers.to);
	json_header(h, "cc", &m->headers.cc);
	json_header(h, "subject", &m->headers.subject);
	json_header(h, "date", &m->headers.date);
	json_header(h, "message_id", &m->headers.message_id);
	json_object_set_new(b, "headers", h);
	if (m->has_attachments) {
		json_object_set_new(b, "attachments", json_attachments(m));
		if (m->attachments_truncated)
			json_object_set_new(b, "attachments_truncated", json_true());
		if (m->attachments_error)
			json_object_set_new(b, "attachments_error", json_string(m->attachments_error));
	}
	json_emit(j, f, "message", b);
}

void json_tls(struct json_out *j, const struct flow *f, const struct ev_tls *t)
{
	json_t *b = json_object();
	json_object_set_new(b, "command", json_string(t->command));
	json_object_set_new(b, "result", json_string(auth_result_name(t->result)));
	json_emit(j, f, "tls", b);
}

void json_command(struct json_out *j, const struct flow *f, const struct ev_command *c)
{
	json_t *b = json_object();
	struct bytes req = c->request;
	bool redact = c->secret_at < req.n && !j->show_passwords;
	if (redact)
		req.n = c->secret_at;
	json_t *r = json_bytes(req);
	if (redact) {
		/* The secret is replaced, its length not revealed. */
		json_t *full = json_sprintf("%s<redacted>", json_string_value(r));
		json_decref(r);
		r = full;
	}
	json_object_set_new(b, "request", r);
	if (c->reply.n)
		json_object_set_new(b, "reply", json_bytes(c->reply));
	json_object_set_new(b, "result", json_string(auth_result_name(c->result)));
	json_emit(j, f, "command", b);
}

static json_t *json_anomalies(const struct anomaly_record *an, size_t n, bool details)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!details) {
			json_array_append_new(arr, json_string(anomaly_id(an[i].id)));
			continue;
		}
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(anomaly_id(an[i].id)));
		json_object_set_new(o, "count", json_integer(an[i].count));
		json_object_set_new(o, "dir", json_string(an[i].dir == DIR_TO_SERVER ? "toserver" : "toclient"));
		json_object_set_new(o, "sample", json_bytes(bytes_of(an[i].sample, an[i].sample_n)));
		json_array_append_new(arr, o);
	}
	return arr;
}

/*
 * What the session learnt of the mailbox: how many messages it listed, which
 * it marked for deletion (with their uids), and whether the server applied
 * those deletions: true, false, or null when the capture ended first.
 */
static void json_session_mailbox(json_t *b, const struct ev_session *s)
{
	json_t *deleted = json_array();
	size_t listed = 0;
	for (size_t i = 0; i < s->n_mailbox; i++) {
		const struct mailbox_entry *e = &s->mailbox[i];
		listed += e->uid.n > 0 || e->size >= 0;
		if (!e->marked)
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "number", json_integer(e->number));
		if (e->uid.n)
			json_object_set_new(o, "uid", json_bytes(e->uid));
		json_array_append_new(deleted, o);
	}
	json_object_set_new(b, "messages_listed", json_integer((json_int_t)listed));
	json_object_set_new(b, "marked_for_deletion", deleted);
	json_object_set_new(b, "deletions_committed",
			    s->deletions_committed == COMMIT_UNKNOWN ? json_null()
								     : json_boolean(s->deletions_committed == COMMIT_YES));
}

void json_session(struct json_out *j, const struct flow *f, const struct ev_session *s,
		  const struct anomaly_record *anoms, size_t n_anoms)
{
	json_t *b = json_object();
	json_set_time(b, "start", &f->start);
	json_set_time(b, "end", &f->now);
	if (s->greeting.n)
		json_object_set_new(b, "greeting", json_bytes(s->greeting));
	if (s->apop_timestamp.n)
		json_object_set_new(b, "apop_timestamp", json_bytes(s->apop_timestamp));
	json_t *caps = json_array();
	for (size_t i = 0; i < s->n_capabilities; i++)
		json_array_append_new(caps, json_bytes(s->capabilities[i]));
	json_object_set_new(b, "capabilities", caps);
	if (s->n_folders) {
		json_t *folders = json_array();
		for (size_t i = 0; i < s->n_folders; i++)
			json_array_append_new(folders, json_bytes(s->folders[i]));
		json_object_set_new(b, "folders", folders);
	}
	if (s->username.n)
		json_object_set_new(b, "username", json_bytes(s->username));
	json_object_set_new(b, "authenticated", json_boolean(s->authenticated));
	json_object_set_new(b, "tls", json_boolean(s->tls));
	json_object_set_new(b, "encrypted", json_boolean(s->encrypted));
	json_object_set_new(b, "sasl_layer", json_boolean(s->sasl_layer));
	json_object_set_new(b, "state", json_string(s->state));
	if (s->state_inferred)
		json_object_set_new(b, "state_inferred", json_true());
	json_object_set_new(b, "commands", json_integer(s->commands));
	json_object_set_new(b, "messages_retrieved", json_integer(s->messages_retrieved));
	json_object_set_new(b, "messages_deleted", json_integer(s->messages_deleted));
	json_session_mailbox(b, s);
	if (s->messages_submitted)
		json_object_set_new(b, "messages_submitted", json_integer(s->messages_submitted));
	json_object_set_new(b, "bytes_toserver", json_integer((json_int_t)f->bytes[DIR_TO_SERVER]));
	json_object_set_new(b, "bytes_toclient", json_integer((json_int_t)f->bytes[DIR_TO_CLIENT]));
	const char *why = s->quit ? "quit" : end_reason_name(f->end_reason);
	json_object_set_new(b, "end_reason", json_string(why));
	json_object_set_new(b, "partial", json_boolean(f->partial));
	json_object_set_new(b, "gaps", json_integer(f->gaps));
	json_object_set_new(b, "anomalies", json_anomalies(anoms, n_anoms, false));
	if (n_anoms)
		json_object_set_new(b, "anomaly_details", json_anomalies(anoms, n_anoms, true));
	json_emit(j, f, "session", b);
}

/* ---- the --mailbox-report ---------------------------------------------- */

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
