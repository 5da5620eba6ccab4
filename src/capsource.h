/*
 * capsource.h - the bytes of one capture, read once as a stream. A path (a file,
 * a FIFO, "-" for standard input, /dev/fd/N) is opened exactly once and never
 * seeked, so whatever a pipe delivers is read only once. The compression (gzip,
 * zstd, lz4 frame format, xz) is recognised by content, from the first bytes,
 * which are kept, never by name, and undone on the fly.
 *
 * Owns the descriptor, the window of decoded bytes the reader looks at, the
 * buffer of compressed bytes and the decompressors' state. Knows nothing of
 * pcap or pcapng: src/capfile.c reads records out of it.
 *
 * Memory is bounded whatever the input says: the window starts at
 * CAPSRC_WINDOW bytes and grows only to the largest peek asked for (at most
 * CAPSRC_PEEK_MAX); compressed input is read CAPSRC_INPUT bytes at a time; zstd
 * windows above 2^CAPSRC_ZSTD_WINDOW_LOG_MAX and xz streams needing more than
 * CAPSRC_XZ_MEMLIMIT are refused (the limits the zstd and xz tools apply by
 * default); gzip and lz4 need at most 32 KB and 4 MB by their formats.
 */
#ifndef POPSIFT_CAPSOURCE_H
#define POPSIFT_CAPSOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPSRC_WINDOW (1u << 20)            /* decoded bytes held; read() size for plain files */
#define CAPSRC_PEEK_MAX (256u << 20)        /* the largest peek served */
#define CAPSRC_INPUT (256u << 10)           /* compressed bytes read at a time */
#define CAPSRC_ZSTD_WINDOW_LOG_MAX 27       /* 128 MB: zstd's own default limit */
#define CAPSRC_XZ_MEMLIMIT (128ull << 20)   /* enough for xz -9e (65 MB) */
#define CAPSRC_ERR_MAX 160

enum capsrc_codec {
	CAPSRC_PLAIN,
	CAPSRC_GZIP,
	CAPSRC_ZSTD,
	CAPSRC_LZ4,
	CAPSRC_XZ,
	CAPSRC_CODEC_COUNT
};

enum capsrc_status {
	CAPSRC_OK,        /* at least the bytes asked for */
	CAPSRC_END,       /* the stream ended cleanly before that many */
	CAPSRC_TRUNCATED, /* the compressed stream is cut short: the data ends early */
	CAPSRC_ERROR      /* read error, corrupt compressed data, or a limit: capsrc_error() */
};

struct capsrc;

/*
 * Opens path ("-" is standard input, left open at close) once, and reads the
 * first bytes to recognise the compression. Returns NULL with a one-line reason
 * in err (no path in it) when it cannot be opened or read, or is a directory.
 */
struct capsrc *capsrc_open(const char *path, char *err, size_t errlen);
/* The same on a descriptor the caller opened; capsrc_close() closes it if own_fd. */
struct capsrc *capsrc_open_fd(int fd, bool own_fd, char *err, size_t errlen);
/*
 * The same on bytes in memory (tests, fuzzing), handed out at most `chunk`
 * bytes per read (0: all at once) as a pipe would; p must outlive the source.
 */
struct capsrc *capsrc_open_memory(const void *p, size_t n, size_t chunk, char *err,
				  size_t errlen);

/*
 * Makes `need` decoded bytes available without consuming them: *p points at the
 * next unconsumed byte and *avail says how many follow (>= need on CAPSRC_OK,
 * fewer otherwise: what was left before the end or the error). The bytes stay
 * valid until the next capsrc_peek(), also across capsrc_consume().
 */
enum capsrc_status capsrc_peek(struct capsrc *s, size_t need, const uint8_t **p, size_t *avail);
/* Consumes n bytes (n <= the last *avail). */
void capsrc_consume(struct capsrc *s, size_t n);

/*
 * A pipe or terminal may keep a read waiting for ever: from now on such a wait
 * ends with CAPSRC_ERROR ("interrupted") once *stop is non-zero (a signal
 * handler sets it; the wait is a poll(), which every signal interrupts).
 * Regular files and memory never wait.
 */
void capsrc_set_stop(struct capsrc *s, const volatile sig_atomic_t *stop);

/* Decoded bytes consumed so far: the offset in the capture format's stream. */
uint64_t capsrc_offset(const struct capsrc *s);
/* Bytes read from the descriptor so far (compressed bytes), for progress. */
uint64_t capsrc_raw_read(const struct capsrc *s);
/* The size of a regular file, 0 for pipes, terminals and memory. */
uint64_t capsrc_raw_size(const struct capsrc *s);
enum capsrc_codec capsrc_codec(const struct capsrc *s);
/* "plain", "gzip", "zstd", "lz4", "xz". */
const char *capsrc_codec_name(enum capsrc_codec c);
/* Why the last peek ended in CAPSRC_TRUNCATED or CAPSRC_ERROR; "" otherwise. */
const char *capsrc_error(const struct capsrc *s);
/* Bytes the window holds now: the memory bound, checked by the tests. */
size_t capsrc_window_size(const struct capsrc *s);
void capsrc_close(struct capsrc *s);

#endif
