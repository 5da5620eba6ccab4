/*
 * output.c - turns each session's event stream into written records.
 *
 * Owns per-session output state: the SHA-256 context and size of the message
 * being streamed (bodies are hashed as they arrive and never held), the
 * anomalies seen (deduplicated, with a count and the first evidence sample),
 * and the alerts derived from logins (alerts.c). Formatting is json.c's job.
 */
#include "output.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "bruteforce.h"
#include "hashes.h"
#include "json.h"

struct output {
	struct output_config cfg;
	struct json_out *json;
	struct bruteforce *bf;   /* failures across sessions (brute force, spraying) */
	unsigned long written;
};

struct out_session {
	struct event_sink sink; /* first: the dissector sees only this */
	struct output *o;
	const struct flow *flow;
	EVP_MD_CTX *md;         /* the message being streamed, or unused */
	struct message_record msg;
	bool in_message;
	struct anomaly_record *anoms;
	size_t n_anoms;
};

struct output *output_open(const struct output_config *cfg)
{
	if (cfg->extract_dir || cfg->mbox_path) {
		/* Replaced by output/extract.c (issue 5); refuse rather than ignore. */
		fprintf(stderr, "popsift: -x/--mbox are not available in this build yet\n");
		return NULL;
	}
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->cfg = *cfg;
	o->json = json_open(cfg->fp, cfg->show_passwords);
	o->bf = bf_new(&cfg->bruteforce);
	if (!o->json || !o->bf) {
		fprintf(stderr, "popsift: out of memory\n");
		json_close(o->json);
		bf_free(o->bf);
		free(o);
		return NULL;
	}
	return o;
}

bool output_flush(struct output *o)
{
	bool ok = fflush(o->cfg.fp) == 0 && !ferror(o->cfg.fp);
	if (o->cfg.hashes)
		ok = fflush(o->cfg.hashes) == 0 && !ferror(o->cfg.hashes) && ok;
	return ok;
}

void output_set_fp(struct output *o, FILE *fp)
{
	output_flush(o);
	o->cfg.fp = fp;
	json_set_fp(o->json, fp);
}

bool output_close(struct output *o)
{
	if (!o)
		return true;
	bool ok = output_flush(o);
	json_close(o->json);
	bf_free(o->bf);
	free(o);
	return ok;
}

unsigned long output_events_written(const struct output *o)
{
	return o->written;
}

static void out_auth(struct out_session *s, const struct ev_auth *a)
{
	json_auth(s->o->json, s->flow, a);
	hashes_write(s->o->cfg.hashes, a);
	struct alert_record alerts[ALERTS_PER_AUTH_MAX + 2];
	size_t n = alerts_for_auth(a, alerts);
	if (a->result == AUTH_RESULT_FAILURE && (!a->failure || strcmp(a->failure, "credentials") == 0))
		n += bf_failure(s->o->bf, s->flow->client_ip, a->username, s->flow->now.tv_sec, alerts + n);
	for (size_t i = 0; i < n; i++)
		json_alert(s->o->json, s->flow, &alerts[i]);
	s->o->written += 1 + n;
}

static void out_message_begin(struct out_session *s, const struct ev_message_begin *b)
{
	if (!s->md)
		s->md = EVP_MD_CTX_new();
	if (!s->md)
		return;
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
	memset(&s->msg, 0, sizeof(s->msg));
	s->msg.command = b->command;
	s->msg.number = b->number;
	s->msg.dir = b->dir;
	s->msg.announced = b->announced;
	s->msg.folder_n = b->folder.n < RECORD_FOLDER_MAX ? b->folder.n : RECORD_FOLDER_MAX;
	if (s->msg.folder_n)
		memcpy(s->msg.folder, b->folder.p, s->msg.folder_n);
	s->in_message = true;
}

static void out_message_data(struct out_session *s, const struct ev_message_data *d)
{
	if (!s->in_message)
		return;
	EVP_DigestUpdate(s->md, d->p, d->n);
	s->msg.size += d->n;
}

static void out_message_end(struct out_session *s, const struct ev_message_end *e)
{
	if (!s->in_message)
		return;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(s->md, digest, &len);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(s->msg.sha256 + 2 * i, 3, "%02x", digest[i]);
	s->msg.complete = e->complete;
	json_message(s->o->json, s->flow, &s->msg);
	s->o->written++;
	s->in_message = false;
}

/* Keeps one record per anomaly id: a count and the first sample. */
static void out_anomaly(struct out_session *s, const struct ev_anomaly *a)
{
	for (size_t i = 0; i < s->n_anoms; i++) {
		if (s->anoms[i].id == a->id) {
			s->anoms[i].count++;
			return;
		}
	}
	struct anomaly_record *n = realloc(s->anoms, (s->n_anoms + 1) * sizeof(*n));
	if (!n)
		return;
	s->anoms = n;
	struct anomaly_record *r = &s->anoms[s->n_anoms++];
	r->id = a->id;
	r->dir = a->dir;
	r->count = 1;
	r->sample_n = a->sample.n < ANOMALY_SAMPLE_MAX ? a->sample.n : ANOMALY_SAMPLE_MAX;
	if (r->sample_n)
		memcpy(r->sample, a->sample.p, r->sample_n);
}

static void out_emit(struct event_sink *sink, const struct event *ev)
{
	struct out_session *s = (struct out_session *)sink;
	switch (ev->type) {
	case EV_AUTH: out_auth(s, &ev->u.auth); break;
	case EV_MESSAGE_BEGIN: out_message_begin(s, &ev->u.message_begin); break;
	case EV_MESSAGE_DATA: out_message_data(s, &ev->u.message_data); break;
	case EV_MESSAGE_END: out_message_end(s, &ev->u.message_end); break;
	case EV_TLS:
		json_tls(s->o->json, s->flow, &ev->u.tls);
		s->o->written++;
		break;
	case EV_COMMAND:
		if (s->o->cfg.transactions) {
			json_command(s->o->json, s->flow, &ev->u.command);
			s->o->written++;
		}
		break;
	case EV_ANOMALY: out_anomaly(s, &ev->u.anomaly); break;
	case EV_SESSION:
		json_session(s->o->json, s->flow, &ev->u.session, s->anoms, s->n_anoms);
		s->o->written++;
		break;
	case EV_TYPE_COUNT: break;
	}
}

struct event_sink *output_session_open(struct output *o, const struct flow *flow)
{
	struct out_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sink.emit = out_emit;
	s->o = o;
	s->flow = flow;
	return &s->sink;
}

void output_session_close(struct event_sink *sink)
{
	struct out_session *s = (struct out_session *)sink;
	if (!s)
		return;
	EVP_MD_CTX_free(s->md);
	free(s->anoms);
	free(s);
}
