/*
 * test_scan.c - the vectorised searches of dissectors/scan.c against naive
 * byte-at-a-time references. Every buffer is allocated so that it ends exactly
 * where its heap block ends, so under AddressSanitizer (make check) a read past
 * buf+len is caught, and it starts at every offset 0..15 from a 16-byte
 * boundary, so the unaligned loads and the tail are exercised in every phase.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dissectors/scan.h"

#define MAX_LEN 80
#define MAX_SHIFT 16

/* The specification, one byte at a time. */
static size_t ref_lf_dot(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n' && (i + 1 == len || buf[i + 1] == '.'))
			return i;
	return len;
}

static void check(const uint8_t *p, size_t len)
{
	size_t want = ref_lf_dot(p, len), got = scan_lf_dot(p, len);
	if (got != want) {
		print_error("len %zu: got %zu, want %zu\n", len, got, want);
		fail();
	}
}

/*
 * Makes *block hold exactly shift + len bytes and returns its byte `shift`: buf
 * then starts `shift` bytes past a 16-byte boundary (malloc's alignment on the
 * targets we build for) and buf[len] is already ASan's redzone.
 */
static uint8_t *exact(uint8_t **block, size_t len, size_t shift)
{
	*block = realloc(*block, shift + len ? shift + len : 1);
	assert_non_null(*block);
	return *block + shift;
}

static void empty_input_finds_nothing(void **state)
{
	(void)state;
	assert_int_equal(scan_lf_dot(NULL, 0), 0);
	assert_int_equal(scan_lf_dot((const uint8_t *)"\n.", 0), 0);
}

static void the_simple_cases_match_the_description(void **state)
{
	(void)state;
	const uint8_t *s = (const uint8_t *)"\n";
	assert_int_equal(scan_lf_dot(s, 1), 0); /* a '\n' as last byte counts */
	s = (const uint8_t *)"ab\ncd";
	assert_int_equal(scan_lf_dot(s, 5), 5); /* not followed by '.' */
	assert_int_equal(scan_lf_dot(s, 3), 2); /* cut right after it */
	s = (const uint8_t *)".\n.";
	assert_int_equal(scan_lf_dot(s, 3), 1);
	s = (const uint8_t *)"line one\r\nline two\r\n..stuffed\r\n.\r\n";
	assert_int_equal(scan_lf_dot(s, strlen((const char *)s)), 19);
}

/* Every length 0..80, every start alignment, every position of one '\n' and one '.'. */
static void one_lf_and_one_dot_anywhere(void **state)
{
	(void)state;
	uint8_t *block = NULL;
	for (size_t shift = 0; shift < MAX_SHIFT; shift++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			uint8_t *p = exact(&block, len, shift);
			/* Position len means "absent". */
			for (size_t lf = 0; lf <= len; lf++) {
				for (size_t dot = 0; dot <= len; dot++) {
					memset(p, 'a', len);
					if (dot < len)
						p[dot] = '.';
					if (lf < len)
						p[lf] = '\n';
					check(p, len);
				}
			}
		}
	}
	free(block);
}

/*
 * Many '\n' not followed by '.' (every `step` bytes), then a '.' at every
 * position: the search must step over the near misses in and across blocks.
 */
static void many_lf_without_a_dot_are_skipped(void **state)
{
	(void)state;
	uint8_t *block = NULL;
	for (size_t shift = 0; shift < MAX_SHIFT; shift++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			uint8_t *p = exact(&block, len, shift);
			for (size_t step = 1; step <= 20; step++) {
				for (size_t phase = 0; phase < step; phase++) {
					for (size_t dot = 0; dot <= len; dot++) {
						for (size_t i = 0; i < len; i++)
							p[i] = i % step == phase ? '\n' : 'x';
						if (dot < len)
							p[dot] = '.';
						check(p, len);
					}
				}
			}
		}
	}
	free(block);
}

/* Body-like text: CRLF lines of 0..40 bytes, some stuffed, some '\n' at the very end. */
static void random_bodies_agree_with_the_reference(void **state)
{
	(void)state;
	static const uint8_t alphabet[] = { '\n', '.', '\r', 'a', 'b', '\n', '.', ' ' };
	uint8_t *block = NULL;
	srand(7);
	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)rand() % 300, shift = (size_t)rand() % MAX_SHIFT;
		uint8_t *p = exact(&block, len, shift);
		int mode = rand() % 3;
		for (size_t i = 0; i < len; i++) {
			if (mode == 0)
				p[i] = alphabet[rand() % (int)sizeof(alphabet)];
			else /* mostly text: a rare '\n' or '.' */
				p[i] = rand() % 40 == 0 ? '\n' : rand() % 60 == 0 ? '.' : 'm';
		}
		if (mode == 2 && len > 0)
			p[len - 1] = '\n';
		check(p, len);
	}
	free(block);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_input_finds_nothing),
		cmocka_unit_test(the_simple_cases_match_the_description),
		cmocka_unit_test(one_lf_and_one_dot_anywhere),
		cmocka_unit_test(many_lf_without_a_dot_are_skipped),
		cmocka_unit_test(random_bodies_agree_with_the_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
