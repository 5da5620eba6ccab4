/*
 * report_html_int.h - the HTML report's model, shared by the file that
 * gathers it (report_html.c) and the one that writes the page (html_page.c).
 * Every string in it is valid UTF-8 already (utf8.h's \xNN rule applied);
 * the page escapes it for HTML as it writes it.
 */
#ifndef POPSIFT_REPORT_HTML_INT_H
#define POPSIFT_REPORT_HTML_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include "report_html.h"
#include "report_mailbox.h"

#define HTML_FIELD_MAX 200 /* octets of a wire string kept for the page */
#define HTML_MECHS_MAX 32  /* mechanisms counted apart; more share the last row */
#define HTML_TLS_VERSIONS_MAX 8 /* TLS versions counted apart; more share the last row */

/* A string-keyed index over an array the caller owns (open addressing). */
struct html_map {
	size_t *slots; /* indexes into the array; SIZE_MAX: empty */
	size_t n, cap;
};

/* Rows aggregated by four fields: a count, the first and last time, the first evidence. */
struct html_group {
	char *key;
	char *f[4];          /* the fields, e.g. client, server, user, mechanism */
	char *evidence;      /* the first reply, password or description; NULL: none */
	char why[16];        /* failed logins: the kind of failure */
	int severity;        /* alerts */
	unsigned long count;
	struct timeval first, last;
	uint64_t flow_id;    /* the first event's */
	int file;            /* its capture file, -1: live */
	uint64_t frame;      /* its frame in the capture input (pcap_cnt), 0: live */
};

struct html_groups {
	struct html_group *rows;
	size_t n, cap;
	struct html_map map;
};

enum html_mark_kind {
	MARK_LOGIN_OK = 1,
	MARK_LOGIN_FAILED = 2,
	MARK_LOGIN_UNKNOWN = 3,
	MARK_RETRIEVAL = 4,
	MARK_KIND = 0x0f,
	MARK_CLEARTEXT = 0x10, /* with a login */
};

/* Something that happened in a session at a time, for the timeline. */
struct html_mark {
	uint64_t flow_id;
	struct timeval when;
	uint8_t kind;
};

struct html_session {
	uint64_t flow_id;
	uint32_t row;        /* its (server, user) row */
	int file;            /* -1: live */
	uint64_t frame_first, frame_last; /* its frames in the capture input, 0: live */
	struct timeval start, end;
	char client[56];
	char proto[8];
	char end_reason[16];
	bool authenticated, tls;
	enum commit committed;
	uint32_t retrieved, marked, anomalies;
	uint64_t bytes;
};

/* A timeline row: one (server, user); user "" for sessions that named none. */
struct html_row {
	char *key, *server, *user;
	unsigned long sessions;
};

struct html_message {
	uint64_t flow_id;
	struct timeval when;
	int file;
	uint64_t frame;      /* the frame that completed it, 0: live */
	char client[56], server[56];
	char command[12];
	uint32_t number;
	uint64_t size;
	bool complete;
	char sha256[65];
	char *uid, *from, *subject, *path; /* NULL: none */
};

struct html_mech {
	char name[48];
	unsigned long by_result[AUTH_RESULT_COUNT];
	unsigned long cleartext;
};

/* TLS sessions of one negotiated version (or none seen: the capture holds no ServerHello). */
struct html_tls_version {
	char name[16];
	unsigned long sessions, decrypted;
};

struct html_report {
	struct writer w; /* first: output.c sees only this */
	const char *path;
	FILE *file, *fp;
	bool show_passwords;
	char *extract_dir; /* relative to the page's directory, for links; NULL: no links */
	char *page_dir;
	struct writer *mbr; /* the mailbox report's model, fed the same records */
	FILE *mbox_fp;      /* its HTML, written at the end into mbox_html */
	char *mbox_html;
	size_t mbox_len;

	bool have_span;
	struct timeval t0, t1;
	char **files;
	size_t n_files, cap_files;
	const char *last_file_ptr;
	int last_file;

	struct html_session *sessions;
	size_t n_sessions, cap_sessions;
	struct html_row *rows;
	size_t n_rows, cap_rows;
	struct html_map row_map;
	char **server_names;
	size_t n_server_names, cap_server_names;
	struct html_map server_map;
	unsigned long n_servers, encrypted;
	char **users;
	size_t n_users, cap_users;
	struct html_map user_map;
	struct html_mark *marks;
	size_t n_marks, cap_marks;

	unsigned long logins, cleartext, by_result[AUTH_RESULT_COUNT];
	struct html_mech mechs[HTML_MECHS_MAX];
	size_t n_mechs;
	unsigned long stls[AUTH_RESULT_COUNT]; /* STLS commands by their outcome */
	struct html_tls_version tls[HTML_TLS_VERSIONS_MAX];
	size_t n_tls;
	unsigned long tls_sessions;
	struct html_groups creds, failures, alerts;
	unsigned long n_alerts;
	struct html_message *msgs;
	size_t n_msgs, cap_msgs;
	unsigned long n_messages;
	uint64_t message_bytes;
};

uint32_t html_hash(const void *p, size_t n);
bool html_grow(void *arr, size_t n, size_t *cap, size_t size);
char *html_text(struct bytes b, size_t max);
size_t html_map_find(struct html_map *m, const char *key, size_t (*add)(void *ctx, const char *key),
		     const char *(*key_of)(void *ctx, size_t i), void *ctx);

/* html_page.c */
/* 1 when server ("ip:port") is new to the report, else 0. */
int html_server_new(struct html_report *h, const char *server);
/* The page's directory and -x DIR relative to it; false when out of memory. */
bool html_links_init(struct html_report *h, const struct html_config *c);
/* The mailbox view (an mbr_format_fn), written at the end into the page's buffer. */
bool html_mailboxes(FILE *fp, const struct mbr_mailbox *boxes, size_t n);
/* The whole page; false when writing failed. */
bool html_page_write(struct html_report *h, FILE *fp);

#endif
