/*
 * test_capsource.c - the byte source (src/capsource.c): plain and compressed
 * bytes come through whatever the read and peek sizes; gzip, zstd, lz4 and xz
 * are recognised by content, concatenated frames read as one stream, cut and
 * corrupt streams are reported after what they held; memory stays within the
 * named bounds on decompression bombs, oversized peeks and hostile frame
 * headers; files, FIFOs, /dev/fd/N and standard input are opened once.
 */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/capsource.h"
#include "capbuild.h"

/* Bytes of mixed compressibility: text-like runs and pseudo-random stretches. */
static uint8_t *sample(size_t n)
{
	uint8_t *p = malloc(n);
	assert_non_null(p);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (i / 4096) % 2 ? (uint8_t)(x >> 24) : (uint8_t)("+OK message follows\r\n"[i % 21]);
	}
	return p;
}

/* Everything the source gives, peeking `step` bytes at a time; the final status in *st. */
static uint8_t *drain(struct capsrc *s, size_t step, size_t *n, enum capsrc_status *st)
{
	size_t cap = 1 << 16;
	uint8_t *out = malloc(cap);
	assert_non_null(out);
	*n = 0;
	for (;;) {
		const uint8_t *p;
		size_t avail;
		enum capsrc_status r = capsrc_peek(s, step, &p, &avail);
		if (r == CAPSRC_OK)
			assert_true(avail >= step);
		size_t take = avail < step ? avail : step;
		while (*n + take > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + *n, p, take);
		*n += take;
		capsrc_consume(s, take);
		assert_int_equal(capsrc_offset(s), *n);
		if (r != CAPSRC_OK && avail == 0) {
			*st = r;
			return out;
		}
	}
}

static struct capsrc *open_mem(const void *p, size_t n, size_t chunk)
{
	char err[CAPSRC_ERR_MAX];
	struct capsrc *s = capsrc_open_memory(p, n, chunk, err, sizeof(err));
	assert_non_null(s);
	return s;
}

/* Reads z (n bytes, handed out `chunk` at a time) and expects exactly want[0..want_n). */
static void expect_stream(const void *z, size_t n, size_t chunk, size_t step, const uint8_t *want,
			  size_t want_n, enum capsrc_codec codec)
{
	struct capsrc *s = open_mem(z, n, chunk);
	assert_int_equal(capsrc_codec(s), codec);
	size_t got_n;
	enum capsrc_status st;
	uint8_t *got = drain(s, step, &got_n, &st);
	assert_int_equal(st, CAPSRC_END);
	assert_string_equal(capsrc_error(s), "");
	assert_int_equal(got_n, want_n);
	assert_memory_equal(got, want, want_n);
	assert_int_equal(capsrc_raw_read(s), n);
	free(got);
	capsrc_close(s);
}

static void plain_bytes_come_through_whatever_the_read_and_peek_size(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	uint8_t *p = sample(n);
	static const size_t steps[] = { 16, 4096, 65536, 1u << 20 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		expect_stream(p, n, 0, steps[i], p, n, CAPSRC_PLAIN);
		expect_stream(p, n, 1000, steps[i], p, n, CAPSRC_PLAIN);
	}
	expect_stream(p, 50000, 1, 7, p, 50000, CAPSRC_PLAIN);
	free(p);
}

static void each_codec_is_recognised_by_content_and_decoded(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	uint8_t *p = sample(n);
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t zn;
		uint8_t *z = compress_with(c, p, n, &zn);
		expect_stream(z, zn, 0, 65536, p, n, c);
		expect_stream(z, zn, 777, 1500, p, n, c);
		free(z);
		z = compress_with(c, p, 30000, &zn);
		expect_stream(z, zn, 1, 3, p, 30000, c);
		free(z);
	}
	free(p);
}

static void concatenated_frames_read_as_one_stream(void **state)
{
	(void)state;
	size_t n = 200000;
	uint8_t *p = sample(n);
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t an, bn;
		uint8_t *a = compress_with(c, p, 70000, &an);
		uint8_t *b = compress_with(c, p + 70000, n - 70000, &bn);
		struct bb both = bb_new(false);
		bb_put(&both, a, an);
		bb_put(&both, b, bn);
		expect_stream(both.p, both.n, 0, 4096, p, n, c);
		expect_stream(both.p, both.n, 5, 100, p, n, c);
		bb_free(&both);
		free(a);
		free(b);
	}
	free(p);
}

static void a_cut_compressed_stream_is_truncated_after_what_it_held(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	uint8_t *p = sample(n);
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t zn;
		uint8_t *z = compress_with(c, p, n, &zn);
		struct capsrc *s = open_mem(z, zn / 2, 0);
		size_t got_n;
		enum capsrc_status st;
		uint8_t *got = drain(s, 4096, &got_n, &st);
		assert_int_equal(st, CAPSRC_TRUNCATED);
		assert_true(got_n < n);
		assert_memory_equal(got, p, got_n);
		char want[64];
		snprintf(want, sizeof(want), "the %s stream is cut short", capsrc_codec_name(c));
		assert_string_equal(capsrc_error(s), want);
		free(got);
		capsrc_close(s);
		free(z);
	}
	free(p);
}

static void corrupt_compressed_headers_are_errors(void **state)
{
	(void)state;
	static const struct {
		enum capsrc_codec c;
		size_t at;
		uint8_t xor;
	} cases[] = {
		{ CAPSRC_GZIP, 2, 0x0f },  /* compression method 8 -> 7 */
		{ CAPSRC_ZSTD, 4, 0x08 },  /* a reserved frame header bit */
		{ CAPSRC_LZ4, 4, 0x80 },   /* the frame version */
		{ CAPSRC_XZ, 7, 0x01 },    /* stream flags: their CRC no longer matches */
	};
	uint8_t *p = sample(100000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t zn;
		uint8_t *z = compress_with(cases[i].c, p, 100000, &zn);
		z[cases[i].at] ^= cases[i].xor;
		struct capsrc *s = open_mem(z, zn, 0);
		size_t got_n;
		enum capsrc_status st;
		free(drain(s, 4096, &got_n, &st));
		assert_int_equal(st, CAPSRC_ERROR);
		assert_int_equal(got_n, 0);
		const char *name = capsrc_codec_name(cases[i].c);
		assert_memory_equal(capsrc_error(s), name, strlen(name));
		assert_int_equal(capsrc_error(s)[strlen(name)], ':');
		capsrc_close(s);
		free(z);
	}
	free(p);
}

static void trailing_garbage_after_a_frame_is_an_error_after_its_data(void **state)
{
	(void)state;
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t zn;
		uint8_t *z = compress_with(c, "pcap bytes", 10, &zn);
		struct bb b = bb_new(false);
		bb_put(&b, z, zn);
		bb_put(&b, "garbage!garbage!", 16);
		struct capsrc *s = open_mem(b.p, b.n, 0);
		size_t got_n;
		enum capsrc_status st;
		uint8_t *got = drain(s, 4, &got_n, &st);
		assert_int_equal(st, CAPSRC_ERROR);
		assert_int_equal(got_n, 10);
		assert_memory_equal(got, "pcap bytes", 10);
		free(got);
		capsrc_close(s);
		bb_free(&b);
		free(z);
	}
}

/* A zstd frame of "hello" (one raw block) whose header asks for a 2^wlog-byte window. */
static void zstd_frame_with_window(struct bb *b, unsigned wlog)
{
	bb_put(b, "\x28\xb5\x2f\xfd", 4);
	bb_u8(b, 0x00);                        /* no content size, a window descriptor */
	bb_u8(b, (uint8_t)((wlog - 10) << 3)); /* exponent; mantissa 0 */
	bb_put(b, "\x29\x00\x00", 3);          /* last block, raw, 5 bytes */
	bb_put(b, "hello", 5);
}

static void zstd_windows_above_the_limit_are_refused(void **state)
{
	(void)state;
	struct bb ok = bb_new(false), big = bb_new(false);
	zstd_frame_with_window(&ok, CAPSRC_ZSTD_WINDOW_LOG_MAX);
	expect_stream(ok.p, ok.n, 0, 5, (const uint8_t *)"hello", 5, CAPSRC_ZSTD);
	zstd_frame_with_window(&big, CAPSRC_ZSTD_WINDOW_LOG_MAX + 1);
	struct capsrc *s = open_mem(big.p, big.n, 0);
	size_t got_n;
	enum capsrc_status st;
	free(drain(s, 5, &got_n, &st));
	assert_int_equal(st, CAPSRC_ERROR);
	assert_string_equal(capsrc_error(s), "zstd: Frame requires too much memory for decoding");
	capsrc_close(s);
	bb_free(&ok);
	bb_free(&big);
}

static size_t skip_varint(const uint8_t *p, size_t i)
{
	while (p[i] & 0x80)
		i++;
	return i + 1;
}

/* Rewrites the LZMA2 dictionary size of an xz stream's first block (and its header CRC). */
static void xz_set_dictionary(uint8_t *z, uint8_t dict_byte)
{
	uint8_t *h = z + 12; /* after the stream header */
	size_t size = ((size_t)h[0] + 1) * 4, i = 2;
	if (h[1] & 0x40)
		i = skip_varint(h, i); /* compressed size */
	if (h[1] & 0x80)
		i = skip_varint(h, i); /* uncompressed size */
	assert_int_equal(h[i], 0x21); /* LZMA2 */
	assert_int_equal(h[i + 1], 1);
	h[i + 2] = dict_byte;
	uint32_t crc = lzma_crc32(h, size - 4, 0);
	for (int k = 0; k < 4; k++)
		h[size - 4 + k] = (uint8_t)(crc >> (8 * k));
}

static void xz_streams_needing_more_memory_than_the_limit_are_refused(void **state)
{
	(void)state;
	size_t zn;
	uint8_t *z = compress_with(CAPSRC_XZ, "hello", 5, &zn);
	xz_set_dictionary(z, 20); /* 4 MB: fine */
	expect_stream(z, zn, 0, 5, (const uint8_t *)"hello", 5, CAPSRC_XZ);
	xz_set_dictionary(z, 40); /* 4 GB */
	struct capsrc *s = open_mem(z, zn, 0);
	size_t got_n;
	enum capsrc_status st;
	free(drain(s, 5, &got_n, &st));
	assert_int_equal(st, CAPSRC_ERROR);
	assert_string_equal(capsrc_error(s),
			    "xz: the stream needs more memory than the limit of 128 MB");
	capsrc_close(s);
	free(z);
}

static void a_decompression_bomb_streams_through_a_fixed_window(void **state)
{
	(void)state;
	size_t n = 64u << 20;
	uint8_t *zeros = calloc(1, n);
	assert_non_null(zeros);
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t zn;
		uint8_t *z = compress_with(c, zeros, n, &zn);
		assert_true(zn < n / 100);
		struct capsrc *s = open_mem(z, zn, 0);
		size_t total = 0;
		const uint8_t *p;
		size_t avail;
		while (capsrc_peek(s, 65536, &p, &avail) == CAPSRC_OK) {
			total += 65536;
			capsrc_consume(s, 65536);
		}
		assert_int_equal(total + avail, n);
		assert_int_equal(capsrc_window_size(s), CAPSRC_WINDOW);
		capsrc_close(s);
		free(z);
	}
	free(zeros);
}

static void the_window_grows_to_the_largest_peek_and_no_further(void **state)
{
	(void)state;
	size_t n = 5u << 20;
	uint8_t *p = sample(n);
	struct capsrc *s = open_mem(p, n, 4096);
	const uint8_t *q;
	size_t avail;
	assert_int_equal(capsrc_peek(s, 3u << 20, &q, &avail), CAPSRC_OK);
	assert_memory_equal(q, p, 3u << 20);
	assert_int_equal(capsrc_window_size(s), 4u << 20);
	assert_int_equal(capsrc_peek(s, (size_t)CAPSRC_PEEK_MAX + 1, &q, &avail), CAPSRC_ERROR);
	assert_string_equal(capsrc_error(s), "a read of 268435457 bytes exceeds the limit of 268435456");
	assert_int_equal(capsrc_window_size(s), 4u << 20);
	capsrc_close(s);
	free(p);
}

static void the_first_bytes_are_kept_whatever_they_are(void **state)
{
	(void)state;
	expect_stream("\x1f\x00pcap", 6, 0, 1, (const uint8_t *)"\x1f\x00pcap", 6, CAPSRC_PLAIN);
	expect_stream("\x1f", 1, 1, 4, (const uint8_t *)"\x1f", 1, CAPSRC_PLAIN);
	expect_stream("\x28\xb5\x2f", 3, 0, 4, (const uint8_t *)"\x28\xb5\x2f", 3, CAPSRC_PLAIN);
	expect_stream("", 0, 0, 4, (const uint8_t *)"", 0, CAPSRC_PLAIN);
	/* a gzip magic without a gzip stream behind it */
	struct capsrc *s = open_mem("\x1f\x8b", 2, 0);
	size_t n;
	enum capsrc_status st;
	free(drain(s, 4, &n, &st));
	assert_int_equal(st, CAPSRC_TRUNCATED);
	capsrc_close(s);
}

/* A child process writing p[0..n) to fd (or to `path`, opened for writing), in pieces. */
static pid_t writer(int fd, const char *path, const uint8_t *p, size_t n)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	if (path)
		fd = open(path, O_WRONLY);
	for (size_t off = 0; fd >= 0 && off < n;) {
		size_t k = n - off < 7000 ? n - off : 7000;
		ssize_t w = write(fd, p + off, k);
		if (w <= 0)
			_exit(1);
		off += (size_t)w;
		usleep(200);
	}
	_exit(0);
}

static void expect_source(struct capsrc *s, const uint8_t *want, size_t n, pid_t child)
{
	assert_non_null(s);
	assert_int_equal(capsrc_codec(s), CAPSRC_GZIP);
	size_t got_n;
	enum capsrc_status st;
	uint8_t *got = drain(s, 1000, &got_n, &st);
	assert_int_equal(st, CAPSRC_END);
	assert_int_equal(got_n, n);
	assert_memory_equal(got, want, n);
	free(got);
	capsrc_close(s);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void fifos_pipes_and_standard_input_are_read_once(void **state)
{
	(void)state;
	size_t n = 300000, zn;
	uint8_t *p = sample(n);
	uint8_t *z = compress_with(CAPSRC_GZIP, p, n, &zn);
	char dir[] = "/tmp/test_capsource.XXXXXX", path[64], err[CAPSRC_ERR_MAX];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid_t child = writer(-1, path, z, zn);
	expect_source(capsrc_open(path, err, sizeof(err)), p, n, child);
	unlink(path);

	int fds[2];
	assert_int_equal(pipe(fds), 0);
	child = writer(fds[1], NULL, z, zn);
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	expect_source(capsrc_open(path, err, sizeof(err)), p, n, child);
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	int saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	child = writer(fds[1], NULL, z, zn);
	close(fds[1]);
	expect_source(capsrc_open("-", err, sizeof(err)), p, n, child);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	rmdir(dir);
	free(z);
	free(p);
}

static void regular_files_report_their_size_and_bad_paths_say_why(void **state)
{
	(void)state;
	char path[] = "/tmp/test_capsource.XXXXXX", err[CAPSRC_ERR_MAX];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t zn;
	uint8_t *z = compress_with(CAPSRC_LZ4, "0123456789", 10, &zn);
	assert_int_equal(write(fd, z, zn), (ssize_t)zn);
	close(fd);
	struct capsrc *s = capsrc_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(capsrc_raw_size(s), zn);
	assert_int_equal(capsrc_codec(s), CAPSRC_LZ4);
	size_t got_n;
	enum capsrc_status st;
	free(drain(s, 3, &got_n, &st));
	assert_int_equal(got_n, 10);
	capsrc_close(s);
	unlink(path);
	free(z);

	assert_null(capsrc_open(path, err, sizeof(err)));
	assert_string_equal(err, strerror(ENOENT));
	assert_null(capsrc_open("/tmp", err, sizeof(err)));
	assert_string_equal(err, "it is a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_bytes_come_through_whatever_the_read_and_peek_size),
		cmocka_unit_test(each_codec_is_recognised_by_content_and_decoded),
		cmocka_unit_test(concatenated_frames_read_as_one_stream),
		cmocka_unit_test(a_cut_compressed_stream_is_truncated_after_what_it_held),
		cmocka_unit_test(corrupt_compressed_headers_are_errors),
		cmocka_unit_test(trailing_garbage_after_a_frame_is_an_error_after_its_data),
		cmocka_unit_test(zstd_windows_above_the_limit_are_refused),
		cmocka_unit_test(xz_streams_needing_more_memory_than_the_limit_are_refused),
		cmocka_unit_test(a_decompression_bomb_streams_through_a_fixed_window),
		cmocka_unit_test(the_window_grows_to_the_largest_peek_and_no_further),
		cmocka_unit_test(the_first_bytes_are_kept_whatever_they_are),
		cmocka_unit_test(fifos_pipes_and_standard_input_are_read_once),
		cmocka_unit_test(regular_files_report_their_size_and_bad_paths_say_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
