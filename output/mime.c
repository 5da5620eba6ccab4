/*
 * mime.c - message headers and attachments through GMime 3 (RFC 5322 header
 * fields, RFC 2045-2049 MIME, RFC 2047 encoded words, RFC 2231 parameters,
 * RFC 2183 Content-Disposition).
 *
 * Owns every use of GMime: the only file that includes gmime.h. It knows no
 * sessions, files by name or JSON; it turns bytes (a header section) or an
 * open file (an extracted message) into the plain records of records.h.
 * GMime is made for mail that is broken in every way seen in the wild, so
 * popsift has no MIME parser of its own: this file only picks what to report.
 * The one shortcut: a header section of plain fields alone (ASCII names and
 * values, nothing GMime could read two ways) is split into fields here, each
 * value decoded by GMime's own functions; any other section goes to GMime.
 */
#include "mime.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * GMime is initialised once per process and shut down at exit. Initialising it
 * again after g_mime_shutdown() leaks what its first initialisation registered
 * (GObject types cannot be unregistered), so outputs opened one after another
 * (tests, a future reopen) share the one initialisation. GMime's state is the
 * process's, so this flag is too: output/'s one mutable static, set by the
 * first mime_init() (output_open(), on the capture thread) and never reset.
 */
static bool mime_ready;

static void mime_at_exit(void)
{
	g_mime_shutdown();
}

void mime_init(void)
{
	if (mime_ready)
		return;
	g_mime_init();
	mime_ready = true;
	atexit(mime_at_exit);
}

/* A heap copy of s with CR and LF removed and surrounding blanks trimmed (unfolded). */
static char *mime_unfold(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			out[o++] = s[i];
	while (o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	out[o] = 0;
	return out;
}

static char *mime_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/*
 * Fills f from the first header called `name`: GMime's value (unfolded, encoded
 * words decoded, 8-bit text converted to UTF-8 through its fallback charsets)
 * and the raw text where that differs. Leaves f empty when the header is absent.
 */
static void mime_field(GMimeHeaderList *list, const char *name, struct header_field *f)
{
	GMimeHeader *h = g_mime_header_list_get_header(list, name);
	if (!h)
		return;
	const char *raw = g_mime_header_get_raw_value(h);
	const char *value = g_mime_header_get_value(h);
	char *r = mime_unfold(raw ? raw : "");
	f->value = value ? mime_unfold(value) : mime_strdup(r ? r : "");
	if (r && f->value && strcmp(r, f->value) != 0)
		f->raw = r;
	else
		free(r);
}

/* GMime's message for the header section p[0..n), or NULL. */
static GMimeMessage *mime_header_message(const uint8_t *p, size_t n)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)p, n);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	g_object_unref(s);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	return m;
}

/* mime_headers_parse() on the section p[0..n), n > 0. */
static void mime_headers_from(const uint8_t *p, size_t n, struct message_headers *h)
{
	GMimeMessage *m = mime_header_message(p, n);
	if (!m && p[n - 1] != '\n') {
		/* GMime refuses a section whose last, unterminated line is no header: drop it. */
		const uint8_t *lf = memrchr(p, '\n', n);
		if (lf)
			m = mime_header_message(p, (size_t)(lf - p) + 1);
	}
	if (!m)
		return;
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(m));
	mime_field(list, "From", &h->from);
	mime_field(list, "To", &h->to);
	mime_field(list, "Cc", &h->cc);
	mime_field(list, "Subject", &h->subject);
	mime_field(list, "Date", &h->date);
	mime_field(list, "Message-ID", &h->message_id);
	g_object_unref(m);
}

/* True for the octets of a plain line: printable ASCII and tabs, a CR only before the LF. */
static bool mime_plain_line(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\r' ? i + 1 != n : (c < 0x20 && c != '\t') || c >= 0x7f)
			return false;
	}
	return true;
}

/*
 * The length of the plain field at p[0..n): "Name:" (letters, digits, '-', the
 * colon right after), its value and continuation lines, each plain and ended
 * by a LF, no continuation blank only. 0 for anything else; *name_n: the name's
 * length.
 */
static size_t mime_plain_field(const uint8_t *p, size_t n, size_t *name_n)
{
	size_t i = 0;
	while (i < n && (g_ascii_isalnum(p[i]) || p[i] == '-'))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return 0;
	*name_n = i;
	size_t line = 0;
	for (;;) {
		const uint8_t *lf = memchr(p + i, '\n', n - i);
		if (!lf || !mime_plain_line(p + line, (size_t)(lf - p) - line))
			return 0;
		if (line && strspn((const char *)p + line, " \t\r") == (size_t)(lf - p) - line)
			return 0;
		i = line = (size_t)(lf - p) + 1;
		if (i == n || (p[i] != ' ' && p[i] != '\t'))
			return i;
	}
}

/* The record's field for a reported name (GMime matches names without case), or NULL. */
static struct header_field *mime_reported(struct message_headers *h, const uint8_t *name, size_t n)
{
	static const char *const names[] = { "From", "To", "Cc", "Subject", "Date", "Message-ID" };
	struct header_field *f[] = { &h->from, &h->to, &h->cc, &h->subject, &h->date, &h->message_id };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && g_ascii_strncasecmp((const char *)name, names[i], n) == 0)
			return f[i];
	return NULL;
}

/* True when p[0..n) is plain fields alone, up to its empty line or its end. */
static bool mime_plain_section(const uint8_t *p, size_t n)
{
	size_t i = 0, name_n, len;
	while (i < n && (len = mime_plain_field(p + i, n - i, &name_n)) != 0)
		i += len;
	size_t rest = n - i;
	return rest == 0 || (rest == 1 && p[i] == '\n') || (rest == 2 && p[i] == '\r' && p[i + 1] == '\n');
}

/* As mime_field() fills f from GMime's header: raw = the octets after the colon. */
static void mime_plain_value(const uint8_t *raw, size_t n, struct header_field *f)
{
	char *text = g_strndup((const char *)raw, n);
	char *unfolded = g_mime_utils_header_unfold(text);
	char *value = g_mime_utils_header_decode_text(NULL, unfolded);
	char *r = mime_unfold(text);
	f->value = value ? mime_unfold(value) : mime_strdup(r ? r : "");
	if (r && f->value && strcmp(r, f->value) != 0)
		f->raw = r;
	else
		free(r);
	g_free(value);
	g_free(unfolded);
	g_free(text);
}

/*
 * A section of plain fields alone is read here, each reported field's value
 * decoded by GMime's own functions from its raw text, as GMime's parser does
 * (g_mime_header_get_value: unfold, then decode): the parser makes a GObject of
 * every field, address and part and frees them again, 79% of the output
 * thread's instructions on message-bearing captures (docs/performance.md,
 * Issue 20). Any other section goes to the parser whole: how it reads a line
 * it does not take for a field depends on what came before.
 */
void mime_headers_parse(const uint8_t *p, size_t n, struct message_headers *h)
{
	if (!n)
		return;
	if (!mime_plain_section(p, n)) {
		mime_headers_from(p, n, h);
		return;
	}
	size_t i = 0, name_n, len;
	while (i < n && (len = mime_plain_field(p + i, n - i, &name_n)) != 0) {
		struct header_field *f = mime_reported(h, p + i, name_n);
		if (f && !f->value)
			mime_plain_value(p + i + name_n + 1, len - name_n - 1, f);
		i += len;
	}
}

static void mime_field_free(struct header_field *f)
{
	free(f->value);
	free(f->raw);
	f->value = f->raw = NULL;
}

void mime_headers_free(struct message_headers *h)
{
	mime_field_free(&h->from);
	mime_field_free(&h->to);
	mime_field_free(&h->cc);
	mime_field_free(&h->subject);
	mime_field_free(&h->date);
	mime_field_free(&h->message_id);
}

/*
 * Writes one attachment's octets through a SHA-256 filter into a counting null
 * stream: a leaf part decoded from its transfer encoding, an attached message
 * as GMime writes it back: its parsed headers and body, unchanged, with CRLF
 * line ends (a POP3 message is CRLF on the wire), which for well-formed mail
 * are the attached octets exactly. Fills a's size and digest; returns false
 * when GMime could not write the content.
 */
static bool mime_digest(GMimeObject *part, struct attachment_record *a)
{
	GMimeStream *null = g_mime_stream_null_new();
	GMimeStream *filtered = g_mime_stream_filter_new(null);
	GMimeFilter *sum = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), sum);
	ssize_t w = -1;
	if (GMIME_IS_PART(part)) {
		GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part));
		w = content ? g_mime_data_wrapper_write_to_stream(content, filtered) : 0;
	} else if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		GMimeFormatOptions *crlf = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(crlf, GMIME_NEWLINE_FORMAT_DOS);
		w = inner ? g_mime_object_write_to_stream(GMIME_OBJECT(inner), crlf, filtered) : 0;
		g_mime_format_options_free(crlf);
	}
	bool ok = w >= 0 && g_mime_stream_flush(filtered) == 0;
	if (ok) {
		a->size = GMIME_STREAM_NULL(null)->written;
		gchar *hex = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(sum));
		if (hex && strlen(hex) == 64)
			memcpy(a->sha256, hex, 65);
		else
			ok = false;
		g_free(hex);
	}
	g_object_unref(sum);
	g_object_unref(filtered);
	g_object_unref(null);
	return ok;
}

/* True for a part that is reported as an attachment (see mime.h). */
static bool mime_is_attachment(GMimeObject *obj)
{
	if (GMIME_IS_PART(obj)) {
		GMimePart *part = GMIME_PART(obj);
		return g_mime_part_is_attachment(part) || g_mime_part_get_filename(part) != NULL;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		const char *disp = g_mime_object_get_disposition(obj);
		return disp && g_ascii_strcasecmp(disp, "attachment") == 0;
	}
	return false;
}

static const char *mime_filename(GMimeObject *obj)
{
	if (GMIME_IS_PART(obj))
		return g_mime_part_get_filename(GMIME_PART(obj));
	const char *name = g_mime_object_get_content_disposition_parameter(obj, "filename");
	return name ? name : g_mime_object_get_content_type_parameter(obj, "name");
}

/* Fills a from obj (strings on the heap); returns false only when out of memory. */
static bool mime_describe(GMimeObject *obj, struct attachment_record *a)
{
	memset(a, 0, sizeof(*a));
	const char *name = mime_filename(obj);
	if (name)
		a->filename = mime_strdup(name);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = mime_strdup(type ? type : "application/octet-stream");
	g_free(type);
	if (!a->content_type || (name && !a->filename)) {
		free(a->filename);
		free(a->content_type);
		return false;
	}
	for (char *c = a->content_type; *c; c++)
		*c = (char)g_ascii_tolower(*c);
	if (!mime_digest(obj, a))
		a->sha256[0] = 0;
	return true;
}

/* ---- the parser service ----------------------------------------------------------------
 *
 * GMime keeps a message's structure in memory: every header, every part, a multipart's
 * preamble and epilogue. A hostile message of a few MB can make that hundreds of MB, and a
 * crash in the parser would take the whole capture with it. So attachments are listed by a
 * child process, started once (on first use) and kept: it receives each extracted file's
 * descriptor over a socket (SCM_RIGHTS), parses it under a memory limit and a per-message
 * time limit, and answers with one record per attachment. The parent keeps only the list:
 * its memory never depends on the message. A child that dies (limit reached, crash) costs
 * that message its list; the next message starts a new child.
 *
 * The child is popsift's own executable run again (/proc/self/exe), told by its
 * environment to serve on descriptor MIME_CHILD_FD: a plain fork() is not safe here,
 * because it happens on the output thread while the capture thread may hold a lock the
 * child would need (a sanitizer's allocator lock did deadlock so). exec starts clean.
 * The program's main() calls mime_service_child() first thing (popsift's through
 * output_run_child()): in that child it serves and exits, anywhere else it returns. The
 * service is an object its output owns (mime_service_new); nothing runs before main().
 *
 * Request: the descriptor plus the message size (u64). Answer (native byte order, same
 * process image): 'A', then the file name and the content type as u16 length + octets
 * (0xffff: no file name), u64 size, 64 hex digits or 64 NULs (no digest); 'T' when more
 * than RECORD_ATTACHMENTS_MAX were found; 'E' last, after a complete walk.
 */

#define MIME_CHILD_MEMORY (128ul << 20) /* address space the child may add to what it inherits */
#define MIME_CHILD_SECONDS 60           /* wall time per message */
#define MIME_TEXT_MAX 1024              /* longest file name or content type passed back */
#define MIME_NO_NAME 0xffff

struct mime_service {
	pid_t pid; /* the child, or 0 */
	int sock;
	FILE *in;  /* its answers */
};

static bool mime_put_text(FILE *out, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint16_t len = s ? (uint16_t)(n < MIME_TEXT_MAX ? n : MIME_TEXT_MAX) : MIME_NO_NAME;
	return fwrite(&len, sizeof(len), 1, out) == 1 && (!s || fwrite(s, 1, len, out) == len);
}

static bool mime_put(FILE *out, const struct attachment_record *a)
{
	static const char none[64];
	return fputc('A', out) != EOF && mime_put_text(out, a->filename) &&
	       mime_put_text(out, a->content_type) && fwrite(&a->size, sizeof(a->size), 1, out) == 1 &&
	       fwrite(a->sha256[0] ? a->sha256 : none, 1, 64, out) == 64;
}

/* In the child: parses fd[0..size) with GMime and writes the records to out. */
static bool mime_child_list(int fd, uint64_t size, FILE *out)
{
	GMimeStream *fs = g_mime_stream_fs_new_with_bounds(fd, 0, (gint64)size);
	if (!fs)
		return false;
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(fs), FALSE); /* fd stays the caller's */
	GMimeParser *parser = g_mime_parser_new_with_stream(fs);
	g_object_unref(fs);
	g_mime_parser_set_persist_stream(parser, TRUE); /* parts refer to the file, not to memory */
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (!m)
		return fputc('E', out) != EOF; /* not a message at all: no attachments */
	bool ok = true;
	size_t n = 0;
	/* The iterator walks every part, into multiparts and attached messages alike. */
	GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(m));
	for (bool more = g_mime_part_iter_is_valid(it); ok && more; more = g_mime_part_iter_next(it)) {
		GMimeObject *obj = g_mime_part_iter_get_current(it);
		if (!mime_is_attachment(obj))
			continue;
		if (n++ == RECORD_ATTACHMENTS_MAX) {
			ok = fputc('T', out) != EOF;
			break;
		}
		struct attachment_record a;
		ok = mime_describe(obj, &a) && mime_put(out, &a);
		free(a.filename);
		free(a.content_type);
	}
	g_mime_part_iter_free(it);
	g_object_unref(m);
	return ok && fputc('E', out) != EOF;
}

static bool mime_get_text(FILE *in, char **s)
{
	uint16_t len;
	*s = NULL;
	if (fread(&len, sizeof(len), 1, in) != 1)
		return false;
	if (len == MIME_NO_NAME)
		return true;
	if (len > MIME_TEXT_MAX || !(*s = malloc((size_t)len + 1)))
		return false;
	(*s)[len] = 0;
	return fread(*s, 1, len, in) == len && memchr(*s, 0, len) == NULL;
}

/* Reads one 'A' record's body into a; returns false on a short or malformed record. */
static bool mime_get(FILE *in, struct attachment_record *a)
{
	memset(a, 0, sizeof(*a));
	bool ok = mime_get_text(in, &a->filename) && mime_get_text(in, &a->content_type) &&
		  a->content_type && fread(&a->size, sizeof(a->size), 1, in) == 1 &&
		  fread(a->sha256, 1, 64, in) == 64;
	if (ok)
		for (int i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)a->sha256[i]))
				a->sha256[0] = 0; /* the child could not digest it */
	if (!ok) {
		free(a->filename);
		free(a->content_type);
	}
	return ok;
}

/* Reads the child's records; returns true when its 'E' arrived. */
static bool mime_read(FILE *in, struct attachment_record *list, size_t *n, bool *truncated)
{
	for (;;) {
		int c = fgetc(in);
		if (c == 'E')
			return true;
		if (c == 'T') {
			*truncated = true;
			continue;
		}
		if (c != 'A' || *n == RECORD_ATTACHMENTS_MAX || !mime_get(in, &list[*n]))
			return false;
		(*n)++;
	}
}

/* Limits the child: its address space on top of what it inherited. */
static void mime_child_limits(void)
{
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space up front */
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	if (pages) {
		rlim_t as = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + MIME_CHILD_MEMORY;
		struct rlimit lim = { as, as };
		setrlimit(RLIMIT_AS, &lim);
	}
#endif
}

/* Receives one request: returns false at EOF or on a malformed request. */
static bool mime_recv(int sock, int *fd, uint64_t *size)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { size, sizeof(*size) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (r != (ssize_t)sizeof(*size) || !c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return false;
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return true;
}

/* The child: serves requests until the parent closes the socket. Never returns. */
static noreturn void mime_child(int sock)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE, SIGALRM };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL); /* the capture's handlers are not the child's */
	/* Nothing of the parent's stays open: no capture, no output, no message file. */
	if (sock <= STDERR_FILENO)
		sock = fcntl(sock, F_DUPFD, STDERR_FILENO + 1);
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; null >= 0 && fd <= 2; fd++)
		dup2(null, fd); /* GLib's out-of-memory cries go nowhere: the event says it */
	close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0u, 0);
	mime_child_limits();
	FILE *out = fdopen(sock, "w");
	int fd;
	uint64_t size;
	while (out && mime_recv(sock, &fd, &size)) {
		alarm(MIME_CHILD_SECONDS);
		bool ok = mime_child_list(fd, size, out) && fflush(out) == 0;
		alarm(0);
		close(fd);
		if (!ok)
			break;
	}
	_exit(0); /* _exit: never flush the parent's stdio buffers, run its atexit or LSan */
}

/* Waits for the child after its socket was closed; returns why it ended, or NULL. */
static const char *mime_svc_stop(struct mime_service *svc)
{
	if (!svc->pid)
		return NULL;
	if (svc->in)
		fclose(svc->in);
	close(svc->sock);
	int status;
	pid_t pid = svc->pid;
	svc->pid = 0;
	svc->in = NULL;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return "the MIME parser could not be waited for";
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		return "the MIME parser reached its time limit";
	if (WIFSIGNALED(status))
		return "the MIME parser reached its memory limit or crashed";
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? NULL : "the MIME parser failed";
}

#define MIME_CHILD_ENV "POPSIFT_MIME_SERVICE_FD"
#define MIME_CHILD_FD 3

extern char **environ;

void mime_service_child(void)
{
	const char *v = getenv(MIME_CHILD_ENV);
	struct stat sb;
	if (!v || strcmp(v, "3") != 0 || fstat(MIME_CHILD_FD, &sb) != 0 || !S_ISSOCK(sb.st_mode))
		return;
	g_mime_init();
	mime_child(MIME_CHILD_FD);
}

/* The parent's environment plus the variable that makes the child a service. */
static char **mime_child_env(void)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], MIME_CHILD_ENV "=", sizeof(MIME_CHILD_ENV)) != 0)
			env[k++] = environ[i];
	env[k] = MIME_CHILD_ENV "=3";
	return env;
}

/* Starts the child with the other end of sock on MIME_CHILD_FD; 0 on failure. */
static pid_t mime_spawn(int sock)
{
	char **env = mime_child_env();
	posix_spawn_file_actions_t fa;
	if (!env || posix_spawn_file_actions_init(&fa) != 0) {
		free(env);
		return 0;
	}
	pid_t pid = 0;
	char *argv[] = { "popsift (MIME parser)", NULL };
	/* dup2 onto the same number clears close-on-exec too (glibc >= 2.29) */
	if (posix_spawn_file_actions_adddup2(&fa, sock, MIME_CHILD_FD) != 0 ||
	    posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env) != 0)
		pid = 0;
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return pid;
}

static bool mime_svc_start(struct mime_service *svc)
{
	/*
	 * A process started as the service whose main() never called
	 * mime_service_child() runs the program again instead: it must not start
	 * a service of its own, or each would start the next.
	 */
	if (getenv(MIME_CHILD_ENV))
		return false;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	pid_t pid = mime_spawn(sv[1]);
	close(sv[1]);
	if (!pid) {
		close(sv[0]);
		return false;
	}
	svc->pid = pid;
	svc->sock = sv[0];
	int rd = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
	svc->in = rd >= 0 ? fdopen(rd, "r") : NULL;
	if (svc->in)
		return true;
	if (rd >= 0)
		close(rd);
	mime_svc_stop(svc);
	return false;
}

/* Sends one request; returns false when the child is gone. */
static bool mime_send(struct mime_service *svc, int fd, uint64_t size)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = { &size, sizeof(size) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t w;
	do
		w = sendmsg(svc->sock, &msg, MSG_NOSIGNAL); /* a dead child must not kill us */
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)sizeof(size);
}

struct mime_service *mime_service_new(void)
{
	return calloc(1, sizeof(struct mime_service));
}

void mime_service_free(struct mime_service *svc)
{
	if (!svc)
		return;
	mime_svc_stop(svc);
	free(svc);
}

const char *mime_attachments_parse(struct mime_service *svc, int fd, uint64_t size,
				   struct attachment_record **out, size_t *n, bool *truncated)
{
	*out = NULL;
	*n = 0;
	*truncated = false;
	if (size > INT64_MAX)
		return "the message is too large to parse";
	struct attachment_record *list = calloc(RECORD_ATTACHMENTS_MAX, sizeof(*list));
	bool sent = list && svc->pid && mime_send(svc, fd, size);
	if (list && !sent) { /* no child yet, or it ended since the last message: a new one */
		mime_svc_stop(svc);
		sent = mime_svc_start(svc) && mime_send(svc, fd, size);
	}
	if (!sent) {
		free(list);
		return "cannot start the MIME parser";
	}
	const char *why = NULL;
	if (!mime_read(svc->in, list, n, truncated)) {
		why = mime_svc_stop(svc); /* this message ended it; the next one starts a new child */
		if (!why)
			why = "the MIME parser failed";
	}
	if (*n == 0) {
		free(list);
		list = NULL;
	}
	*out = list;
	return why;
}

void mime_attachments_free(struct attachment_record *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].filename);
		free(a[i].content_type);
	}
	free(a);
}
