/*
 * hashes.c - the --hashes output (hashes.h). The crackable lines are made by
 * the dissectors (APOP: hashcat -m 20; CRAM-MD5: 10200; NetNTLMv1/v2:
 * 5500/5600; Kerberos via GSSAPI: 13100; DIGEST-MD5: John's dmd5; SCRAM:
 * popsift's record); this file owns where they go: which file a line belongs
 * to (hashes_files[], by format and mode), the "user:" prefix crackers strip
 * (--username, John's user:hash), the JSON-lines sidecar that says whose each
 * line is, and the files themselves (0600, never through a symlink).
 */
#include "hashes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "jsonw.h"

#define HASHES_SIDECAR "hashes.jsonl"
#define HASHES_USER_MAX 256 /* octets of a user name written before a line (escaped beyond) */

/* One cracker file of a --hashes DIR: the lines of one format and mode. */
static const struct hashes_file {
	const char *format; /* ev_auth.hash_format */
	int mode;           /* ev_auth.hashcat_mode, or -1 for the formats without one */
	const char *name;
} hashes_files[] = {
	{ "hashcat", 20, "apop.hc20" },
	{ "hashcat", 10200, "cram-md5.hc10200" },
	{ "hashcat", 5500, "netntlmv1.hc5500" },
	{ "hashcat", 5600, "netntlmv2.hc5600" },
	{ "hashcat", 13100, "krb5tgs.hc13100" },
	{ "john", -1, "digest-md5.john" },
	{ "scram", -1, "scram.popsift" },
};
#define HASHES_N_FILES (sizeof(hashes_files) / sizeof(hashes_files[0]))

struct hashes_out {
	int dirfd;                     /* the DIR, or -1 in FILE mode */
	FILE *sidecar;                 /* hashes.jsonl in DIR, or the FILE itself */
	FILE *files[HASHES_N_FILES];   /* opened on their first line */
	unsigned long lines[HASHES_N_FILES];
	int error;                     /* the first errno of a failed open or write */
};

struct hashes_writer {
	struct writer w; /* first: output.c sees only this */
	struct hashes_out *h;
};

/* Creates name (in dirfd, or the path when dirfd is AT_FDCWD) for writing, 0600, no symlink. */
static FILE *hashes_create(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *fp = fdopen(fd, "w");
	if (!fp)
		close(fd);
	return fp;
}

bool hashes_is_dir(const char *path)
{
	struct stat st;
	size_t n = strlen(path);
	return (n && path[n - 1] == '/') || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/* The DIR: made if missing (its parent must exist), never a symlink; earlier runs' files removed. */
static bool hashes_open_dir(struct hashes_out *h, const char *given, char *err, size_t errlen)
{
	/* Without its trailing '/': "link/" would make open() follow the link. */
	char path[PATH_MAX];
	size_t n = strlen(given);
	while (n > 1 && given[n - 1] == '/')
		n--;
	if (n >= sizeof(path)) {
		snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
		return false;
	}
	memcpy(path, given, n);
	path[n] = 0;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the directory: %s", strerror(errno));
		return false;
	}
	h->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h->dirfd < 0) {
		snprintf(err, errlen, "%s", errno == ELOOP || errno == ENOTDIR
						    ? "it is a symbolic link (refused)" : strerror(errno));
		return false;
	}
	for (size_t i = 0; i < HASHES_N_FILES; i++)
		if (unlinkat(h->dirfd, hashes_files[i].name, 0) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the old %s: %s", hashes_files[i].name,
				 strerror(errno));
			return false;
		}
	h->sidecar = hashes_create(h->dirfd, HASHES_SIDECAR);
	if (!h->sidecar)
		snprintf(err, errlen, "cannot create %s: %s", HASHES_SIDECAR,
			 errno == ELOOP ? "it is a symbolic link (refused)" : strerror(errno));
	return h->sidecar != NULL;
}

struct hashes_out *hashes_open(const char *path, char *err, size_t errlen)
{
	struct hashes_out *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->dirfd = -1;
	bool ok;
	if (hashes_is_dir(path)) {
		ok = hashes_open_dir(h, path, err, errlen);
	} else {
		h->sidecar = hashes_create(AT_FDCWD, path);
		ok = h->sidecar != NULL;
		if (!ok)
			snprintf(err, errlen, "%s", errno == ELOOP ? "it is a symbolic link (refused)"
								   : strerror(errno));
	}
	if (!ok) {
		hashes_close(h, NULL, 0);
		return NULL;
	}
	return h;
}

/* Closes fp, remembering the first failure. */
static void hashes_fclose(struct hashes_out *h, FILE *fp)
{
	if (!fp)
		return;
	bool bad = ferror(fp);
	if ((fclose(fp) != 0 || bad) && !h->error)
		h->error = errno ? errno : EIO;
}

bool hashes_close(struct hashes_out *h, char *err, size_t errlen)
{
	if (!h)
		return true;
	hashes_fclose(h, h->sidecar);
	for (size_t i = 0; i < HASHES_N_FILES; i++)
		hashes_fclose(h, h->files[i]);
	if (h->dirfd >= 0)
		close(h->dirfd);
	int e = h->error;
	free(h);
	if (e && err)
		snprintf(err, errlen, "%s", strerror(e));
	return e == 0;
}

/* Which of hashes_files[] takes a's line; HASHES_N_FILES when none does. */
static size_t hashes_file_of(const struct ev_auth *a)
{
	for (size_t i = 0; i < HASHES_N_FILES; i++) {
		const struct hashes_file *f = &hashes_files[i];
		if (strcmp(f->format, a->hash_format) == 0 &&
		    (f->mode < 0 || f->mode == a->hashcat_mode))
			return i;
	}
	return HASHES_N_FILES;
}

/*
 * The "user:" prefix. A cracker splits it off at the first ':', so a name's
 * ':' and '\' (and control octets, which would break the line) are written
 * as \xNN; other octets as they are. Documented in docs/events.md.
 */
static void hashes_user_prefix(FILE *fp, struct bytes user)
{
	size_t n = user.n < HASHES_USER_MAX ? user.n : HASHES_USER_MAX;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = user.p[i];
		if (c == ':' || c == '\\' || c < 0x20 || c == 0x7f)
			fprintf(fp, "\\x%02x", c);
		else
			fputc(c, fp);
	}
	fputc(':', fp);
}

/* The line in its cracker file (DIR mode); returns its 1-based number there, 0 when not written. */
static unsigned long hashes_line(struct hashes_out *h, size_t k, const struct ev_auth *a)
{
	if (h->dirfd < 0 || k == HASHES_N_FILES)
		return 0;
	if (!h->files[k] && !(h->files[k] = hashes_create(h->dirfd, hashes_files[k].name))) {
		if (!h->error)
			h->error = errno;
		return 0;
	}
	FILE *fp = h->files[k];
	hashes_user_prefix(fp, a->username);
	/* A hash line never holds a line break: it is built from wire tokens split on them. */
	fwrite(a->hash.p, 1, a->hash.n, fp);
	fputc('\n', fp);
	return ++h->lines[k];
}

/* The sidecar's record of one hash: where it is written (DIR), whose it is, and the hash. */
static void hashes_record(struct hashes_out *h, const struct flow *f, const struct ev_auth *a,
			  size_t k, unsigned long line)
{
	struct jw w;
	char t[40];
	jw_init(&w, h->sidecar);
	jw_begin_object(&w);
	if (line) {
		jw_field_text(&w, "file", hashes_files[k].name);
		jw_field_int(&w, "line", (long long)line);
	}
	jw_key(&w, "user");
	if (a->username.n)
		jw_bytes(&w, a->username);
	else
		jw_null(&w);
	jw_field_text(&w, "mechanism", a->mechanism);
	jw_field_text(&w, "result", auth_result_name(a->result));
	json_format_time(&f->now, t, sizeof(t));
	jw_field_text(&w, "timestamp", t);
	jw_key(&w, "flow_id");
	jw_uint(&w, f->flow_id);
	jw_field_text(&w, "src_ip", f->client_ip);
	jw_field_int(&w, "src_port", f->client_port);
	jw_field_text(&w, "dest_ip", f->server_ip);
	jw_field_int(&w, "dest_port", f->server_port);
	jw_field_text(&w, "app_proto", f->app_proto ? f->app_proto : "pop3");
	if (f->pcap_file)
		jw_field_bytes(&w, "pcap_file", bytes_of(f->pcap_file, strlen(f->pcap_file)));
	jw_field_text(&w, "hash_format", a->hash_format);
	if (strcmp(a->hash_format, "hashcat") == 0)
		jw_field_int(&w, "hashcat_mode", a->hashcat_mode);
	jw_field_bytes(&w, "hash", a->hash);
	jw_end_object(&w);
	fputc('\n', h->sidecar);
}

/* A write error shows at the next flush (ferror), as for the events. */
static void hashes_auth(struct writer *w, const struct flow *f, const struct ev_auth *a)
{
	struct hashes_out *h = ((struct hashes_writer *)w)->h;
	if (!a->hash.n || !a->hash_format)
		return;
	size_t k = hashes_file_of(a);
	hashes_record(h, f, a, k, hashes_line(h, k, a));
}

static bool hashes_flush(struct writer *w)
{
	struct hashes_out *h = ((struct hashes_writer *)w)->h;
	bool ok = fflush(h->sidecar) == 0 && !ferror(h->sidecar) && !h->error;
	for (size_t i = 0; i < HASHES_N_FILES; i++)
		if (h->files[i])
			ok = fflush(h->files[i]) == 0 && !ferror(h->files[i]) && ok;
	if (!ok && h->error)
		errno = h->error;
	return ok;
}

static void hashes_free(struct writer *w)
{
	free(w);
}

static const struct writer_ops hashes_ops = {
	.auth = hashes_auth,
	.flush = hashes_flush,
	.free = hashes_free,
};

struct writer *hashes_writer_open(struct hashes_out *h)
{
	struct hashes_writer *hw = calloc(1, sizeof(*hw));
	if (!hw)
		return NULL;
	hw->w.ops = &hashes_ops;
	hw->h = h;
	return &hw->w;
}
