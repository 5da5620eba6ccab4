/*
 * capsource.c - one capture's bytes as a stream: opened once, never seeked,
 * compression recognised by its magic number and undone with the libraries
 * Debian ships (zlib, libzstd, liblz4, liblzma). See capsource.h for the
 * contract and the memory bounds.
 *
 * The window holds decoded bytes [pos, len) not yet consumed. A peek that needs
 * more than the window holds first moves the unconsumed tail to the front (at
 * most one record: the reader consumes whole records), then reads: a plain file
 * straight into the window, a compressed one through `in` and its decoder.
 *
 * Knows nothing of capture formats (capfile.c does), nor of popsift's output.
 */
#include "capsource.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define SNIFF_BYTES 6               /* the longest magic number: xz's */
#define WINDOW_MIN_READ (64u << 10) /* move the tail to the front before reading less */

enum src_kind { SRC_FD, SRC_MEMORY };

struct capsrc {
	enum src_kind kind;
	int fd;
	bool own_fd;
	const uint8_t *mem; /* SRC_MEMORY: the bytes, handed out mem_chunk at a time */
	size_t mem_len, mem_pos, mem_chunk;
	bool raw_eof; /* the descriptor or the memory has no more bytes */
	bool may_wait; /* not a regular file: a read may wait (capsrc_set_stop) */
	const volatile sig_atomic_t *stop_flag;
	uint64_t raw_read, raw_size;

	enum capsrc_codec codec;
	uint8_t *win; /* decoded bytes; [pos, len) not consumed yet */
	size_t win_cap, pos, len;
	uint64_t consumed; /* decoded bytes consumed before win[pos] */

	uint8_t *in; /* compressed bytes; [in_pos, in_len) not decoded yet */
	size_t in_pos, in_len;
	bool frame_done;         /* the decoder ended a frame (gzip member) and holds nothing */
	enum capsrc_status stop; /* CAPSRC_OK while more bytes can come */
	char err[CAPSRC_ERR_MAX];

	z_stream z;
	bool z_live;
	ZSTD_DCtx *zstd;
	LZ4F_dctx *lz4;
	lzma_stream xz;
	bool xz_live;
};

static const char *const codec_names[CAPSRC_CODEC_COUNT] = { "plain", "gzip", "zstd", "lz4",
							     "xz" };

const char *capsrc_codec_name(enum capsrc_codec c)
{
	return c < CAPSRC_CODEC_COUNT ? codec_names[c] : "unknown";
}

/* Records why reading stopped; always returns false, for `return src_fail(...)`. */
__attribute__((format(printf, 3, 4))) static bool src_fail(struct capsrc *s,
							   enum capsrc_status st,
							   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->stop = st;
	return false;
}

/*
 * Waits in poll() until the descriptor has bytes: a signal interrupts poll()
 * even under SA_RESTART, which would restart a read(). False after src_fail()
 * when a stop was asked for.
 */
static bool src_wait(struct capsrc *s)
{
	for (;;) {
		if (*s->stop_flag)
			return src_fail(s, CAPSRC_ERROR, "interrupted");
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		if (poll(&pfd, 1, -1) >= 0 || errno != EINTR)
			return true;
	}
}

/*
 * Reads up to n raw bytes into dst. Returns the count, 0 at the end (raw_eof
 * set, and never read again: a terminal would block a second time), -1 after
 * src_fail(). A non-blocking descriptor is waited for.
 */
static ssize_t src_raw(struct capsrc *s, uint8_t *dst, size_t n)
{
	if (s->raw_eof)
		return 0;
	if (s->kind == SRC_MEMORY) {
		size_t left = s->mem_len - s->mem_pos;
		size_t k = n < left ? n : left;
		if (s->mem_chunk && k > s->mem_chunk)
			k = s->mem_chunk;
		memcpy(dst, s->mem + s->mem_pos, k);
		s->mem_pos += k;
		s->raw_read += k;
		s->raw_eof = k == 0;
		return (ssize_t)k;
	}
	if (s->stop_flag && s->may_wait && !src_wait(s))
		return -1;
	for (;;) {
		ssize_t r = read(s->fd, dst, n);
		if (r > 0)
			s->raw_read += (uint64_t)r;
		if (r >= 0) {
			s->raw_eof = r == 0;
			return r;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
			poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			src_fail(s, CAPSRC_ERROR, "read error: %s", strerror(errno));
			return -1;
		}
	}
}

static enum capsrc_codec codec_by_magic(const uint8_t *p, size_t n)
{
	static const struct {
		enum capsrc_codec codec;
		size_t n;
		const char *magic;
	} magics[] = {
		{ CAPSRC_GZIP, 2, "\x1f\x8b" },
		{ CAPSRC_ZSTD, 4, "\x28\xb5\x2f\xfd" },
		{ CAPSRC_LZ4, 4, "\x04\x22\x4d\x18" },
		{ CAPSRC_XZ, 6, "\xfd\x37\x7a\x58\x5a\x00" },
	};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].n && memcmp(p, magics[i].magic, magics[i].n) == 0)
			return magics[i].codec;
	return CAPSRC_PLAIN;
}

/* ---- decoders: each step decodes from in[in_pos..) into win[len..win_cap) ---- */

static bool gzip_step(struct capsrc *s)
{
	if (s->frame_done) { /* more input after a member: the next member (gzip -c a b) */
		inflateReset(&s->z);
		s->frame_done = false;
	}
	s->z.next_in = s->in + s->in_pos;
	s->z.avail_in = (uInt)(s->in_len - s->in_pos);
	s->z.next_out = s->win + s->len;
	s->z.avail_out = (uInt)(s->win_cap - s->len);
	int rc = inflate(&s->z, Z_NO_FLUSH);
	s->in_pos = s->in_len - s->z.avail_in;
	s->len = s->win_cap - s->z.avail_out;
	if (rc == Z_STREAM_END)
		s->frame_done = true;
	else if (rc != Z_OK && rc != Z_BUF_ERROR)
		return src_fail(s, CAPSRC_ERROR, "gzip: %s",
				s->z.msg ? s->z.msg : rc == Z_MEM_ERROR ? "out of memory" : "data error");
	return true;
}

static bool zstd_step(struct capsrc *s)
{
	ZSTD_inBuffer in = { s->in, s->in_len, s->in_pos };
	ZSTD_outBuffer out = { s->win, s->win_cap, s->len };
	size_t rc = ZSTD_decompressStream(s->zstd, &out, &in);
	s->in_pos = in.pos;
	s->len = out.pos;
	if (ZSTD_isError(rc))
		return src_fail(s, CAPSRC_ERROR, "zstd: %s", ZSTD_getErrorName(rc));
	s->frame_done = rc == 0; /* a whole frame decoded and flushed */
	return true;
}

static bool lz4_step(struct capsrc *s)
{
	size_t out_n = s->win_cap - s->len, in_n = s->in_len - s->in_pos;
	size_t rc = LZ4F_decompress(s->lz4, s->win + s->len, &out_n, s->in + s->in_pos, &in_n, NULL);
	if (LZ4F_isError(rc))
		return src_fail(s, CAPSRC_ERROR, "lz4: %s", LZ4F_getErrorName(rc));
	s->in_pos += in_n;
	s->len += out_n;
	s->frame_done = rc == 0; /* a whole frame decoded and flushed */
	return true;
}

static const char *xz_reason(lzma_ret rc)
{
	switch (rc) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_MEMLIMIT_ERROR:
		return "the stream needs more memory than the limit of 128 MB";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream";
	case LZMA_OPTIONS_ERROR:
		return "unsupported compression options";
	case LZMA_DATA_ERROR:
		return "compressed data is corrupt";
	default:
		return "decoder error";
	}
}

/* Concatenated streams are one stream to liblzma; it needs LZMA_FINISH at the end. */
static bool xz_step(struct capsrc *s)
{
	s->xz.next_in = s->in + s->in_pos;
	s->xz.avail_in = s->in_len - s->in_pos;
	s->xz.next_out = s->win + s->len;
	s->xz.avail_out = s->win_cap - s->len;
	bool last = s->raw_eof && s->in_pos == s->in_len;
	lzma_ret rc = lzma_code(&s->xz, last ? LZMA_FINISH : LZMA_RUN);
	s->in_pos = s->in_len - s->xz.avail_in;
	s->len = s->win_cap - s->xz.avail_out;
	if (rc == LZMA_STREAM_END)
		s->frame_done = true;
	else if (rc != LZMA_OK && rc != LZMA_BUF_ERROR)
		return src_fail(s, CAPSRC_ERROR, "xz: %s", xz_reason(rc));
	return true;
}

static bool codec_step(struct capsrc *s)
{
	switch (s->codec) {
	case CAPSRC_GZIP:
		return gzip_step(s);
	case CAPSRC_ZSTD:
		return zstd_step(s);
	case CAPSRC_LZ4:
		return lz4_step(s);
	case CAPSRC_XZ:
		return xz_step(s);
	default:
		return src_fail(s, CAPSRC_ERROR, "no decoder");
	}
}

static bool codec_init(struct capsrc *s)
{
	switch (s->codec) {
	case CAPSRC_GZIP:
		s->z_live = inflateInit2(&s->z, 16 + MAX_WBITS) == Z_OK; /* gzip wrapper only */
		return s->z_live;
	case CAPSRC_ZSTD:
		s->zstd = ZSTD_createDCtx();
		return s->zstd && !ZSTD_isError(ZSTD_DCtx_setParameter(
					  s->zstd, ZSTD_d_windowLogMax, CAPSRC_ZSTD_WINDOW_LOG_MAX));
	case CAPSRC_LZ4:
		return !LZ4F_isError(LZ4F_createDecompressionContext(&s->lz4, LZ4F_VERSION));
	case CAPSRC_XZ:
		s->xz = (lzma_stream)LZMA_STREAM_INIT;
		s->xz_live = lzma_stream_decoder(&s->xz, CAPSRC_XZ_MEMLIMIT, LZMA_CONCATENATED) ==
			     LZMA_OK;
		return s->xz_live;
	default:
		return true;
	}
}

/*
 * One decoding step into the window. Reads compressed bytes when none are
 * left; decides the end: no progress with the input exhausted is a clean end
 * between frames, a truncated stream inside one.
 */
static void src_decode(struct capsrc *s)
{
	if (s->in_pos == s->in_len) {
		if (s->frame_done && s->raw_eof) {
			s->stop = CAPSRC_END;
			return;
		}
		s->in_pos = s->in_len = 0;
		ssize_t n = src_raw(s, s->in, CAPSRC_INPUT);
		if (n < 0)
			return;
		s->in_len = (size_t)n;
		if (n == 0 && s->frame_done) {
			s->stop = CAPSRC_END;
			return;
		}
	}
	size_t in0 = s->in_pos, out0 = s->len;
	if (!codec_step(s) || s->in_pos != in0 || s->len != out0)
		return;
	if (s->in_pos < s->in_len)
		src_fail(s, CAPSRC_ERROR, "%s: the decoder makes no progress", codec_names[s->codec]);
	else if (s->raw_eof)
		src_fail(s, s->frame_done ? CAPSRC_END : CAPSRC_TRUNCATED,
			 "the %s stream is cut short", codec_names[s->codec]);
}

static void src_fill_plain(struct capsrc *s)
{
	ssize_t n = src_raw(s, s->win + s->len, s->win_cap - s->len);
	if (n > 0)
		s->len += (size_t)n;
	else if (n == 0)
		s->stop = CAPSRC_END;
}

/*
 * Makes room for `need` bytes from pos: moves the unconsumed tail to the front
 * when the space after it is short, grows the window when need exceeds it.
 */
static bool src_room(struct capsrc *s, size_t need)
{
	size_t have = s->len - s->pos;
	if (s->pos > 0 && (s->win_cap - s->pos < need || s->win_cap - s->len < WINDOW_MIN_READ)) {
		memmove(s->win, s->win + s->pos, have);
		s->pos = 0;
		s->len = have;
	}
	if (need <= s->win_cap)
		return true;
	size_t cap = s->win_cap;
	while (cap < need)
		cap *= 2;
	if (cap > CAPSRC_PEEK_MAX)
		cap = CAPSRC_PEEK_MAX;
	uint8_t *w = realloc(s->win, cap);
	if (!w)
		return src_fail(s, CAPSRC_ERROR, "out of memory for a %zu-byte window", cap);
	s->win = w;
	s->win_cap = cap;
	return true;
}

enum capsrc_status capsrc_peek(struct capsrc *s, size_t need, const uint8_t **p, size_t *avail)
{
	if (s->len - s->pos < need && s->stop == CAPSRC_OK) {
		if (need > CAPSRC_PEEK_MAX)
			src_fail(s, CAPSRC_ERROR, "a read of %zu bytes exceeds the limit of %u", need,
				 CAPSRC_PEEK_MAX);
		else if (src_room(s, need))
			while (s->len - s->pos < need && s->stop == CAPSRC_OK) {
				if (s->codec == CAPSRC_PLAIN)
					src_fill_plain(s);
				else
					src_decode(s);
			}
	}
	*p = s->win + s->pos;
	*avail = s->len - s->pos;
	return *avail >= need ? CAPSRC_OK : s->stop;
}

void capsrc_set_stop(struct capsrc *s, const volatile sig_atomic_t *stop)
{
	s->stop_flag = stop;
}

void capsrc_consume(struct capsrc *s, size_t n)
{
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	s->pos += n;
	s->consumed += n;
}

/* Reads the first bytes into the window and picks the decoder by them. */
static bool src_sniff(struct capsrc *s)
{
	while (s->len < SNIFF_BYTES) {
		ssize_t n = src_raw(s, s->win + s->len, s->win_cap - s->len);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	s->codec = codec_by_magic(s->win, s->len);
	if (s->codec == CAPSRC_PLAIN)
		return true;
	s->in = malloc(CAPSRC_INPUT > s->len ? CAPSRC_INPUT : s->len);
	if (!s->in)
		return src_fail(s, CAPSRC_ERROR, "out of memory");
	memcpy(s->in, s->win, s->len); /* the magic stays: the decoder reads it */
	s->in_len = s->len;
	s->len = 0;
	if (!codec_init(s))
		return src_fail(s, CAPSRC_ERROR, "cannot start the %s decoder",
				codec_names[s->codec]);
	return true;
}

static struct capsrc *src_start(struct capsrc *s, char *err, size_t errlen)
{
	s->win_cap = CAPSRC_WINDOW;
	s->win = malloc(s->win_cap);
	if (!s->win)
		src_fail(s, CAPSRC_ERROR, "out of memory");
	if (s->win && src_sniff(s))
		return s;
	snprintf(err, errlen, "%s", s->err);
	capsrc_close(s);
	return NULL;
}

struct capsrc *capsrc_open_fd(int fd, bool own_fd, char *err, size_t errlen)
{
	struct stat sb;
	const char *why = NULL;
	if (fstat(fd, &sb) != 0)
		why = strerror(errno);
	else if (S_ISDIR(sb.st_mode))
		why = "it is a directory";
	struct capsrc *s = why ? NULL : calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "%s", why ? why : "out of memory");
		if (own_fd)
			close(fd);
		return NULL;
	}
	s->kind = SRC_FD;
	s->fd = fd;
	s->own_fd = own_fd;
	if (S_ISREG(sb.st_mode)) {
		s->raw_size = (uint64_t)sb.st_size;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else {
		s->may_wait = true;
	}
	return src_start(s, err, errlen);
}

struct capsrc *capsrc_open(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return capsrc_open_fd(STDIN_FILENO, false, err, errlen);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	return capsrc_open_fd(fd, true, err, errlen);
}

struct capsrc *capsrc_open_memory(const void *p, size_t n, size_t chunk, char *err,
				  size_t errlen)
{
	struct capsrc *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = SRC_MEMORY;
	s->fd = -1;
	s->mem = p;
	s->mem_len = n;
	s->mem_chunk = chunk;
	return src_start(s, err, errlen);
}

uint64_t capsrc_offset(const struct capsrc *s)
{
	return s->consumed;
}

uint64_t capsrc_raw_read(const struct capsrc *s)
{
	return s->raw_read;
}

uint64_t capsrc_raw_size(const struct capsrc *s)
{
	return s->raw_size;
}

enum capsrc_codec capsrc_codec(const struct capsrc *s)
{
	return s->codec;
}

const char *capsrc_error(const struct capsrc *s)
{
	return s->stop == CAPSRC_TRUNCATED || s->stop == CAPSRC_ERROR ? s->err : "";
}

size_t capsrc_window_size(const struct capsrc *s)
{
	return s->win_cap;
}

void capsrc_close(struct capsrc *s)
{
	if (!s)
		return;
	if (s->z_live)
		inflateEnd(&s->z);
	ZSTD_freeDCtx(s->zstd);
	if (s->lz4)
		LZ4F_freeDecompressionContext(s->lz4);
	if (s->xz_live)
		lzma_end(&s->xz);
	if (s->kind == SRC_FD && s->own_fd)
		close(s->fd);
	free(s->in);
	free(s->win);
	free(s);
}
