/*
 * test_jsonr.c - the JSON reader of `popsift report` (output/jsonr.c) against
 * Jansson: for every text, both accept it or both refuse it, and what jsonr
 * reads is the value Jansson reads (types, integers, strings octet for octet,
 * members in order). Strings of invalid UTF-8, which Jansson refuses and
 * jsonr passes on, are left out: popsift never writes them.
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

#include "../../output/jsonr.h"

/* Whether jsonr's value v is Jansson's j, recursively. */
static bool same(const struct jr *r, const struct jr_value *v, const json_t *j)
{
	switch (v->type) {
	case JR_NULL: return json_is_null(j);
	case JR_TRUE: return json_is_true(j);
	case JR_FALSE: return json_is_false(j);
	case JR_INT: return json_is_integer(j) && json_integer_value(j) == v->i;
	case JR_REAL: return json_is_real(j) || json_is_integer(j); /* Jansson takes 1e2 as real, too */
	case JR_STRING:
		return json_is_string(j) && json_string_length(j) == v->n &&
		       memcmp(json_string_value(j), v->s, v->n) == 0 && v->s[v->n] == 0;
	case JR_ARRAY: {
		if (!json_is_array(j) || json_array_size(j) != v->n)
			return false;
		size_t i = 0;
		for (const struct jr_value *m = jr_first(r, v); m; m = jr_next(r, v, m))
			if (!same(r, m, json_array_get(j, i++)))
				return false;
		return i == v->n;
	}
	case JR_OBJECT: {
		if (!json_is_object(j))
			return false;
		size_t n = 0;
		for (const struct jr_value *m = jr_first(r, v); m; m = jr_next(r, v, m), n++)
			if (!same(r, m, json_object_get(j, m->key)) || jr_get(r, v, m->key) == NULL)
				return false;
		return n == v->n;
	}
	}
	return false;
}

static void check(const char *text, bool valid)
{
	struct jr r = { 0 };
	char err[JR_ERR_MAX];
	json_error_t je;
	json_t *j = json_loadb(text, strlen(text), JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
	bool ok = jr_parse(&r, text, strlen(text), err);
	if (ok != valid || (j != NULL) != valid)
		fail_msg("'%s': jsonr %s (%s), Jansson %s (%s), expected %s", text, ok ? "took" : "refused", err,
			 j ? "took" : "refused", je.text, valid ? "valid" : "invalid");
	if (ok && !same(&r, &r.v[0], j))
		fail_msg("'%s': jsonr read another value than Jansson", text);
	json_decref(j);
	jr_free(&r);
}

static void test_values(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "12", "-9223372036854775808", "9223372036854775807", "1.5", "-2e10",
		"1E+2", "true", "false", "null", "\"\"", " { \"a\" : [ 1 , { } , [ ] ] } ",
		"{\"timestamp\":\"2026-11-23T01:28:24.395080Z\",\"flow_id\":2231426659511689,\"x\":null}",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"", "\"a\\u0000b\"",
		"\"caf\xc3\xa9 \xe2\x82\xac\"", "[[[[[[[[1]]]]]]]]", "\"\\\\x80\"",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check(ok[i], true);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":1,}", "{\"a\"}", "{a:1}", "01", "1.", "-", "+1", ".5", "1e", "tru",
		"nul", "\"abc", "\"\\x41\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\tb\"", "[1] 2",
		"{\"a\":1}}", "'a'", "[1 2]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(bad[i], false);
}

static void test_depth_bound(void **state)
{
	(void)state;
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	struct jr r = { 0 };
	char err[JR_ERR_MAX];
	assert_false(jr_parse(&r, deep, sizeof(deep), err));
	assert_non_null(strstr(err, "nested too deep"));
	jr_free(&r);
}

static void test_lookup(void **state)
{
	(void)state;
	struct jr r = { 0 };
	char err[JR_ERR_MAX];
	const char *t = "{\"a\":{\"b\":[1,2,3]},\"c\":\"x\",\"a2\":5}";
	assert_true(jr_parse(&r, t, strlen(t), err));
	const struct jr_value *a = jr_get(&r, &r.v[0], "a");
	const struct jr_value *b = jr_get(&r, a, "b");
	assert_int_equal(b->n, 3);
	long long sum = 0;
	for (const struct jr_value *m = jr_first(&r, b); m; m = jr_next(&r, b, m))
		sum += m->i;
	assert_int_equal(sum, 6);
	assert_string_equal(jr_get(&r, &r.v[0], "c")->s, "x");
	assert_int_equal(jr_get(&r, &r.v[0], "a2")->i, 5);
	assert_null(jr_get(&r, &r.v[0], "missing"));
	assert_null(jr_get(&r, b, "a"));
	const char *dup = "{\"a\":1,\"a\":2}"; /* a repeated name: the last, as Jansson */
	assert_true(jr_parse(&r, dup, strlen(dup), err));
	assert_int_equal(jr_get(&r, &r.v[0], "a")->i, 2);
	jr_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
