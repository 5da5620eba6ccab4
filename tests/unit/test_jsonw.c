/*
 * test_jsonw.c - the streaming JSON writer (output/jsonw.c) against Jansson:
 * event lines were written by Jansson before, so for every input the writer
 * must give the very bytes json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER)
 * gives. Wire bytes go through utf8_escape() first on the Jansson side, as
 * json.c did; text is taken as json_string() took it (NULL or invalid UTF-8:
 * no value at all).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../output/jsonw.h"
#include "../../output/utf8.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

/* A writer on a memory stream; jw_done() returns what it wrote (caller frees). */
struct mem {
	struct jw w;
	char *buf;
	size_t len;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	FILE *fp = open_memstream(&m->buf, &m->len);
	assert_non_null(fp);
	jw_init(&m->w, fp);
}

static char *mem_done(struct mem *m)
{
	assert_int_equal(fclose(m->w.fp), 0);
	return m->buf;
}

/* What json.c's Jansson code wrote for wire bytes p[0..n). */
static char *jansson_bytes(const uint8_t *p, size_t n, const char *suffix)
{
	char *esc = malloc(UTF8_ESCAPED_MAX(n));
	assert_non_null(esc);
	size_t len = utf8_escape(p, n, esc);
	json_t *v = json_stringn_nocheck(esc, len);
	if (suffix) {
		json_t *full = json_sprintf("%s%s", json_string_value(v), suffix);
		json_decref(v);
		v = full;
	}
	assert_non_null(v);
	char *s = json_dumps(v, DUMP_FLAGS);
	assert_non_null(s);
	json_decref(v);
	free(esc);
	return s;
}

static void check_bytes(const uint8_t *p, size_t n)
{
	struct mem m;
	mem_open(&m);
	jw_bytes(&m.w, bytes_of(p, n));
	char *got = mem_done(&m), *want = jansson_bytes(p, n, NULL);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* Text: written exactly as Jansson dumps json_string(s), or not at all when that is NULL. */
static void check_text(const char *s)
{
	struct mem m;
	mem_open(&m);
	jw_text(&m.w, s);
	char *got = mem_done(&m);
	json_t *v = json_string(s);
	char *want = v ? json_dumps(v, DUMP_FLAGS) : strdup("");
	assert_string_equal(got, want);
	json_decref(v);
	free(got);
	free(want);
}

/* Deterministic bytes weighted towards the ones that need care. */
static uint32_t rng = 12345;
static uint8_t tricky_byte(void)
{
	static const uint8_t pick[] = { 0, 1, 8, 9, 10, 12, 13, 0x1f, '"', '\\', '/', 0x7f, 0x80, 0xbf,
					0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a' };
	rng = rng * 1103515245 + 12345;
	uint32_t r = rng >> 8;
	return r & 1 ? pick[(r >> 1) % sizeof(pick)] : (uint8_t)(r >> 4);
}

static void every_single_byte_escapes_as_jansson(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t b = (uint8_t)c;
		check_bytes(&b, 1);
	}
	uint8_t all[256];
	for (int c = 0; c < 256; c++)
		all[c] = (uint8_t)c;
	check_bytes(all, sizeof(all));
}

static void control_bytes_quotes_backslash_and_nul(void **state)
{
	(void)state;
	static const uint8_t s[] = "USER \"a\\b\"/c\b\f\n\r\t\x01\x1f\x7f end\0after\0";
	check_bytes(s, sizeof(s) - 1);
	check_bytes(s, 0);
	check_bytes(NULL, 0);
	check_text("quote \" backslash \\ slash / tab \t newline \n bell \a esc \x1b del \x7f");
	check_text("");
}

static void invalid_utf8_becomes_backslash_x(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"\xc0\x80",             /* overlong NUL */
		"\xc1\xbf",             /* overlong */
		"\xe0\x80\x80",         /* overlong 3-byte */
		"\xed\xa0\x80",         /* surrogate */
		"\xf4\x90\x80\x80",     /* above U+10FFFF */
		"\xf5\x80\x80\x80",     /* never a lead byte */
		"\xff\xfe",             /* never UTF-8 */
		"\x80\xbf",             /* lone continuations */
		"\xe2\x82",             /* cut short at the end */
		"\xe2\x82x",            /* cut short before ASCII */
		"\xf0\x9f\x98",         /* 4-byte cut short */
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", /* valid 2, 3, 4 bytes */
		"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",  /* the edges that are valid */
		"\\x41 is not an escape",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_bytes((const uint8_t *)cases[i], strlen(cases[i]));
		check_text(cases[i]); /* invalid text: left out, as json_string() gave NULL */
	}
	check_text(NULL);
}

static void random_tricky_strings(void **state)
{
	(void)state;
	uint8_t buf[48];
	char text[49];
	for (int k = 0; k < 20000; k++) {
		size_t n = (size_t)(k % 48);
		for (size_t i = 0; i < n; i++)
			buf[i] = tricky_byte();
		check_bytes(buf, n);
		for (size_t i = 0; i < n; i++)
			text[i] = buf[i] ? (char)buf[i] : 'z';
		text[n] = 0;
		check_text(text);
	}
}

/* json_command's redaction: the escaped prefix, then "<redacted>" in the same string. */
static void bytes_with_a_suffix(void **state)
{
	(void)state;
	static const uint8_t s[] = "PASS \"se\\cr\xff\x01";
	struct mem m;
	mem_open(&m);
	jw_bytes_suffix(&m.w, bytes_of(s, sizeof(s) - 1), "<redacted>");
	char *got = mem_done(&m), *want = jansson_bytes(s, sizeof(s) - 1, "<redacted>");
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void numbers_and_structure_as_jansson(void **state)
{
	(void)state;
	static const long long ints[] = { 0, 1, -1, 9, 10, 1234567890123LL, -9223372036854775807LL - 1,
					  9223372036854775807LL };
	json_t *o = json_object(), *arr = json_array();
	struct mem m;
	mem_open(&m);
	jw_begin_object(&m.w);
	jw_key(&m.w, "ints");
	jw_begin_array(&m.w);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		jw_int(&m.w, ints[i]);
		json_array_append_new(arr, json_integer(ints[i]));
	}
	jw_end_array(&m.w);
	json_object_set_new(o, "ints", arr);
	jw_key(&m.w, "u");
	jw_uint(&m.w, 18446744073709551615ULL);
	jw_key(&m.w, "empty_array");
	jw_begin_array(&m.w);
	jw_end_array(&m.w);
	jw_key(&m.w, "empty_object");
	jw_begin_object(&m.w);
	jw_end_object(&m.w);
	jw_key(&m.w, "nested");
	jw_begin_array(&m.w);
	jw_begin_object(&m.w);
	jw_field_bool(&m.w, "t", true);
	jw_field_bool(&m.w, "f", false);
	jw_key(&m.w, "n");
	jw_null(&m.w);
	jw_field_text(&m.w, "gone", "\xff"); /* invalid: no member */
	jw_end_object(&m.w);
	jw_text(&m.w, NULL); /* no element, and no stray comma */
	jw_begin_array(&m.w);
	jw_end_array(&m.w);
	jw_end_array(&m.w);
	jw_end_object(&m.w);
	char *got = mem_done(&m);

	json_object_set_new(o, "u", json_string("PLACEHOLDER"));
	json_object_set_new(o, "empty_array", json_array());
	json_object_set_new(o, "empty_object", json_object());
	json_t *inner = json_pack("{s:b, s:b, s:n}", "t", 1, "f", 0, "n");
	json_object_set_new(inner, "gone", json_string("\xff"));
	json_t *nested = json_pack("[o, o]", inner, json_array());
	json_array_append_new(nested, json_string(NULL));
	json_object_set_new(o, "nested", nested);
	char *want = json_dumps(o, DUMP_FLAGS);
	json_decref(o);
	/* json_int_t is signed: the one unsigned value is put in by hand. */
	char *at = strstr(want, "\"PLACEHOLDER\"");
	assert_non_null(at);
	char expect[512];
	snprintf(expect, sizeof(expect), "%.*s18446744073709551615%s", (int)(at - want), want,
		 at + strlen("\"PLACEHOLDER\""));
	assert_string_equal(got, expect);
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_single_byte_escapes_as_jansson),
		cmocka_unit_test(control_bytes_quotes_backslash_and_nul),
		cmocka_unit_test(invalid_utf8_becomes_backslash_x),
		cmocka_unit_test(random_tricky_strings),
		cmocka_unit_test(bytes_with_a_suffix),
		cmocka_unit_test(numbers_and_structure_as_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
