/*
 * evread.c - reads popsift's JSON events back into records (see evread.h).
 *
 * Owns the parsed line (a Jansson tree, freed at the next line), the arrays
 * built from it (capabilities, listing, anomalies, attachments) and the
 * interned capture file and protocol names, which stay put for the whole
 * input: writers may keep a pointer to them (json.c caches pcap_file's text by
 * pointer). Interned names are bounded (EVREAD_NAMES_MAX).
 */
#include "evread.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define EVREAD_NAMES_MAX 65536 /* distinct capture file and protocol names kept */

struct evread {
	json_t *root;                 /* the line being read */
	struct bytes *caps, *folders; /* ev_session arrays */
	struct mailbox_entry *listing;
	struct anomaly_record *anoms;
	struct attachment_record *atts;
	char **names;                 /* interned, for the whole input */
	size_t n_names;
};

struct evread *evread_new(void)
{
	return calloc(1, sizeof(struct evread));
}

/* What the previous line left: its tree and arrays. */
static void evread_clear(struct evread *r)
{
	json_decref(r->root);
	r->root = NULL;
	free(r->caps);
	free(r->folders);
	free(r->listing);
	free(r->anoms);
	free(r->atts);
	r->caps = r->folders = NULL;
	r->listing = NULL;
	r->anoms = NULL;
	r->atts = NULL;
}

void evread_free(struct evread *r)
{
	if (!r)
		return;
	evread_clear(r);
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

static const char *ev_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A string member as bytes (NULs included); none when absent. */
static struct bytes ev_bytes(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return BYTES_NONE;
	return bytes_of(json_string_value(v), json_string_length(v));
}

static long long ev_int(const json_t *o, const char *key, long long absent)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : absent;
}

static bool ev_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* Copies a string member into a record's array; returns its length. */
static size_t ev_copy(const json_t *o, const char *key, uint8_t *out, size_t max)
{
	struct bytes b = ev_bytes(o, key);
	size_t n = b.n < max ? b.n : max;
	if (n)
		memcpy(out, b.p, n);
	return n;
}

/* "2026-11-23T01:28:24.395080Z", as json.c writes it; false when not that. */
static bool ev_time(const char *s, struct timeval *tv)
{
	struct tm tm = { 0 };
	int used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || s[used] != '.')
		return false;
	char *end;
	long us = strtol(s + used + 1, &end, 10); /* any value a capture gave (json.c) */
	if (*end != 'Z')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tv->tv_sec = timegm(&tm);
	tv->tv_usec = us;
	return true;
}

static enum auth_result ev_result(const json_t *o, const char *key)
{
	const char *s = ev_str(o, key);
	for (int i = 0; s && i < AUTH_RESULT_COUNT; i++)
		if (strcmp(s, auth_result_name((enum auth_result)i)) == 0)
			return (enum auth_result)i;
	return AUTH_RESULT_UNKNOWN;
}

/* A list of strings as bytes, into *out (owned by r); returns the count. */
static size_t ev_bytes_array(const json_t *o, const char *key, struct bytes **out)
{
	const json_t *a = json_object_get(o, key);
	size_t n = json_array_size(a);
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (!*out)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		(*out)[i] = json_is_string(v) ? bytes_of(json_string_value(v), json_string_length(v))
					      : BYTES_NONE;
	}
	return n;
}

/* ---- the envelope ------------------------------------------------------- */

static bool ev_flow(struct evread *r, const json_t *root, struct flow *f, char *err)
{
	memset(f, 0, sizeof(*f));
	const char *ts = ev_str(root, "timestamp");
	const char *src = ev_str(root, "src_ip"), *dst = ev_str(root, "dest_ip");
	if (!ev_time(ts, &f->now) || !src || !dst || !json_is_integer(json_object_get(root, "flow_id"))) {
		snprintf(err, EVREAD_ERR_MAX, "not a popsift event (no timestamp, flow_id or addresses)");
		return false;
	}
	f->start = f->now;
	f->flow_id = (uint64_t)ev_int(root, "flow_id", 0);
	snprintf(f->client_ip, sizeof(f->client_ip), "%s", src);
	snprintf(f->server_ip, sizeof(f->server_ip), "%s", dst);
	f->client_port = (uint16_t)ev_int(root, "src_port", 0);
	f->server_port = (uint16_t)ev_int(root, "dest_port", 0);
	const char *file = ev_str(root, "pcap_file");
	const char *proto = ev_str(root, "app_proto");
	f->pcap_file = file ? evread_intern(r, file) : NULL;
	f->app_proto = evread_intern(r, proto ? proto : "pop3");
	if ((file && !f->pcap_file) || !f->app_proto) {
		snprintf(err, EVREAD_ERR_MAX, "too many distinct capture file names, or out of memory");
		return false;
	}
	return true;
}

/* ---- the bodies --------------------------------------------------------- */

/*
 * A login. A mechanism that was not UTF-8 was left out of the event (json.c);
 * an invalid byte stands for it, so the writers leave it out again.
 */
static void ev_auth(const json_t *o, struct evread_event *ev)
{
	struct ev_auth *a = &ev->u.auth;
	memset(a, 0, sizeof(*a));
	a->mechanism = ev_str(o, "mechanism");
	if (!a->mechanism)
		a->mechanism = "\x80";
	a->username = ev_bytes(o, "username");
	a->password = ev_bytes(o, "password");
	ev->has_password = json_object_get(o, "password") != NULL;
	a->cleartext = ev_bool(o, "cleartext");
	a->result = ev_result(o, "result");
	a->reply = ev_bytes(o, "reply");
	a->challenge = ev_bytes(o, "challenge");
	a->authzid = ev_bytes(o, "authzid");
	a->realm = ev_bytes(o, "realm");
	a->workstation = ev_bytes(o, "workstation");
	a->hash = ev_bytes(o, "hash");
	a->hash_format = ev_str(o, "hash_format");
	a->hashcat_mode = (int)ev_int(o, "hashcat_mode", 0);
	a->response_code = ev_str(o, "response_code");
	a->failure = ev_str(o, "failure");
	a->stls_offered = ev_bool(o, "stls_offered");
	a->trusted_user = ev_bytes(o, "trusted_user");
}

static void ev_alert(const json_t *o, struct alert_record *a)
{
	memset(a, 0, sizeof(*a));
	a->signature = ev_str(o, "signature");
	a->signature = a->signature ? a->signature : "";
	a->severity = (int)ev_int(o, "severity", 3);
	a->description = ev_str(o, "description");
	a->description = a->description ? a->description : "";
	a->username = ev_bytes(o, "username");
}

static void ev_header(const json_t *h, const char *key, const char *raw_key, struct header_field *f)
{
	f->value = (char *)ev_str(h, key);
	f->raw = f->value ? (char *)ev_str(h, raw_key) : NULL;
}

static void ev_attachments(struct evread *r, const json_t *o, struct message_record *m)
{
	const json_t *a = json_object_get(o, "attachments");
	m->has_attachments = json_is_array(a);
	size_t n = json_array_size(a);
	r->atts = n ? calloc(n, sizeof(*r->atts)) : NULL;
	for (size_t i = 0; r->atts && i < n; i++) {
		const json_t *x = json_array_get(a, i);
		struct attachment_record *t = &r->atts[m->n_attachments++];
		t->filename = (char *)ev_str(x, "filename");
		t->content_type = (char *)ev_str(x, "content_type");
		t->content_type = t->content_type ? t->content_type : (char *)"";
		t->size = (uint64_t)ev_int(x, "size", 0);
		snprintf(t->sha256, sizeof(t->sha256), "%s", ev_str(x, "sha256") ? ev_str(x, "sha256") : "");
	}
	m->attachments = r->atts;
	m->attachments_truncated = ev_bool(o, "attachments_truncated");
	m->attachments_error = ev_str(o, "attachments_error");
}

static void ev_message(struct evread *r, const json_t *o, struct message_record *m)
{
	memset(m, 0, sizeof(*m));
	m->command = ev_str(o, "command");
	m->command = m->command ? m->command : "RETR";
	m->number = (uint32_t)ev_int(o, "number", 0);
	m->dir = strcmp(m->command, "XTND XMIT") == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT;
	m->size = (uint64_t)ev_int(o, "size", 0);
	m->announced = ev_int(o, "announced_size", -1);
	m->list_size = ev_int(o, "list_size", -1);
	m->size_mismatch = ev_bool(o, "size_mismatch");
	snprintf(m->sha256, sizeof(m->sha256), "%s", ev_str(o, "sha256") ? ev_str(o, "sha256") : "");
	m->complete = ev_bool(o, "complete");
	m->path = ev_str(o, "path");
	m->extract_error = ev_str(o, "extract_error");
	m->folder_n = ev_copy(o, "folder", m->folder, sizeof(m->folder));
	m->uid_n = ev_copy(o, "uid", m->uid, sizeof(m->uid));
	const json_t *h = json_object_get(o, "headers");
	ev_header(h, "from", "from_raw", &m->headers.from);
	ev_header(h, "to", "to_raw", &m->headers.to);
	ev_header(h, "cc", "cc_raw", &m->headers.cc);
	ev_header(h, "subject", "subject_raw", &m->headers.subject);
	ev_header(h, "date", "date_raw", &m->headers.date);
	ev_header(h, "message_id", "message_id_raw", &m->headers.message_id);
	ev_attachments(r, o, m);
}

static void ev_tls(const json_t *o, struct ev_tls *t)
{
	memset(t, 0, sizeof(*t));
	t->command = ev_str(o, "command");
	t->command = t->command ? t->command : "STLS";
	t->result = ev_result(o, "result");
}

static void ev_command(const json_t *o, struct ev_command *c)
{
	memset(c, 0, sizeof(*c));
	c->request = ev_bytes(o, "request"); /* a secret reads <redacted> already */
	c->secret_at = SIZE_MAX;
	c->reply = ev_bytes(o, "reply");
	c->result = ev_result(o, "result");
}

/*
 * The session's mailbox: its listing with the marks of marked_for_deletion
 * (both in message number order, as json.c writes them: one walk pairs them).
 * Without a listing (popsift 0.1.0 wrote none) only the marked messages.
 */
static void ev_listing(struct evread *r, const json_t *o, struct evread_event *ev)
{
	struct ev_session *s = &ev->u.session.summary;
	const json_t *marked = json_object_get(o, "marked_for_deletion");
	const json_t *list = json_object_get(o, "listing");
	ev->has_listing = json_is_array(list);
	const json_t *from = ev->has_listing ? list : marked;
	size_t n = json_array_size(from), k = 0;
	r->listing = n ? calloc(n, sizeof(*r->listing)) : NULL;
	for (size_t i = 0; r->listing && i < n; i++) {
		const json_t *x = json_array_get(from, i);
		struct mailbox_entry *e = &r->listing[s->n_mailbox++];
		e->number = (uint32_t)ev_int(x, "number", 0);
		e->uid = ev_bytes(x, "uid");
		e->size = ev_int(x, "size", -1);
		while (k < json_array_size(marked) &&
		       ev_int(json_array_get(marked, k), "number", 0) < (long long)e->number)
			k++;
		e->marked = !ev->has_listing ||
			    (k < json_array_size(marked) &&
			     ev_int(json_array_get(marked, k), "number", 0) == (long long)e->number);
	}
	s->mailbox = r->listing;
}

static void ev_anomalies(struct evread *r, const json_t *o, struct session_record *rec)
{
	const json_t *d = json_object_get(o, "anomaly_details");
	size_t n = json_array_size(d);
	r->anoms = n ? calloc(n, sizeof(*r->anoms)) : NULL;
	for (size_t i = 0; r->anoms && i < n; i++) {
		const json_t *x = json_array_get(d, i);
		const char *id = ev_str(x, "id");
		int k = 0;
		while (id && k < ANOM_COUNT && strcmp(anomaly_id((enum anomaly)k), id) != 0)
			k++;
		if (!id || k == ANOM_COUNT)
			continue; /* an id of a newer popsift: none of the writers' business here */
		struct anomaly_record *a = &r->anoms[rec->n_anomalies++];
		a->id = (enum anomaly)k;
		const char *dir = ev_str(x, "dir");
		a->dir = dir && strcmp(dir, "toserver") == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT;
		a->count = (uint32_t)ev_int(x, "count", 1);
		a->sample_n = ev_copy(x, "sample", a->sample, sizeof(a->sample));
	}
	rec->anomalies = r->anoms;
}

/* deletions_committed: true, false, or null (the capture ended first). */
static enum commit ev_commit(const json_t *o)
{
	const json_t *v = json_object_get(o, "deletions_committed");
	return json_is_true(v) ? COMMIT_YES : json_is_false(v) ? COMMIT_NO : COMMIT_UNKNOWN;
}

static void ev_session_flow(const json_t *o, struct flow *f)
{
	struct timeval start;
	if (ev_time(ev_str(o, "start"), &start))
		f->start = start;
	f->bytes[DIR_TO_SERVER] = (uint64_t)ev_int(o, "bytes_toserver", 0);
	f->bytes[DIR_TO_CLIENT] = (uint64_t)ev_int(o, "bytes_toclient", 0);
	f->gaps = (uint32_t)ev_int(o, "gaps", 0);
	f->partial = ev_bool(o, "partial");
}

static void ev_session(struct evread *r, const json_t *o, struct evread_event *ev)
{
	struct session_record *rec = &ev->u.session;
	struct ev_session *s = &rec->summary;
	memset(rec, 0, sizeof(*rec));
	ev_session_flow(o, &ev->flow);
	s->app_proto = ev->flow.app_proto;
	s->greeting = ev_bytes(o, "greeting");
	s->apop_timestamp = ev_bytes(o, "apop_timestamp");
	s->n_capabilities = ev_bytes_array(o, "capabilities", &r->caps);
	s->capabilities = r->caps;
	s->n_folders = ev_bytes_array(o, "folders", &r->folders);
	s->folders = r->folders;
	s->username = ev_bytes(o, "username");
	s->authenticated = ev_bool(o, "authenticated");
	s->tls = ev_bool(o, "tls");
	s->encrypted = ev_bool(o, "encrypted");
	s->sasl_layer = ev_bool(o, "sasl_layer");
	s->state = ev_str(o, "state");
	s->state = s->state ? s->state : "";
	s->state_inferred = ev_bool(o, "state_inferred");
	s->commands = (uint32_t)ev_int(o, "commands", 0);
	s->messages_retrieved = (uint32_t)ev_int(o, "messages_retrieved", 0);
	s->messages_deleted = (uint32_t)ev_int(o, "messages_deleted", 0);
	s->messages_submitted = (uint32_t)ev_int(o, "messages_submitted", 0);
	s->deletions_committed = ev_commit(o);
	rec->end_reason = ev_str(o, "end_reason");
	rec->end_reason = rec->end_reason ? rec->end_reason : "unknown";
	s->quit = strcmp(rec->end_reason, "quit") == 0;
	ev_listing(r, o, ev);
	ev_anomalies(r, o, rec);
}

/* ---- a line -------------------------------------------------------------- */

/* The body by event type; EVR_OTHER for a type that is not read back. */
static enum evread_kind ev_body(struct evread *r, const char *type, const json_t *body,
				struct evread_event *ev)
{
	if (!json_is_object(body))
		return EVR_OTHER;
	if (strcmp(type, "auth") == 0) {
		ev_auth(body, ev);
		return EVR_AUTH;
	}
	if (strcmp(type, "alert") == 0) {
		ev_alert(body, &ev->u.alert);
		return EVR_ALERT;
	}
	if (strcmp(type, "message") == 0) {
		ev_message(r, body, &ev->u.message);
		return EVR_MESSAGE;
	}
	if (strcmp(type, "tls") == 0) {
		ev_tls(body, &ev->u.tls);
		return EVR_TLS;
	}
	if (strcmp(type, "command") == 0) {
		ev_command(body, &ev->u.command);
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
	json_error_t je;
	r->root = json_loadb(line, n, JSON_ALLOW_NUL, &je);
	const char *type = ev_str(r->root, "event_type");
	if (!json_is_object(r->root) || !type) {
		snprintf(err, EVREAD_ERR_MAX, "%s", r->root ? "not a popsift event (no event_type)" : je.text);
		return ev->kind = EVR_INVALID;
	}
	ev->schema = ev_int(r->root, "schema_version", 0);
	if (ev->schema > JSON_SCHEMA_VERSION) {
		snprintf(err, EVREAD_ERR_MAX, "schema_version %lld (this popsift reads %d and older)",
			 ev->schema, JSON_SCHEMA_VERSION);
		return ev->kind = EVR_NEWER;
	}
	if (strcmp(type, "mailbox") == 0)
		return ev->kind = EVR_OTHER; /* a --mailbox-report's line, appended with '-' */
	if (!ev_flow(r, r->root, &ev->flow, err))
		return ev->kind = EVR_INVALID;
	return ev->kind = ev_body(r, type, json_object_get(r->root, type), ev);
}
