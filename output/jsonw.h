/*
 * jsonw.h - a small streaming JSON writer: values go straight to a FILE* with
 * the unlocked stdio calls, no tree is built and nothing is allocated. The text
 * is what Jansson's json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for
 * the same values, byte for byte: the events were written with Jansson first
 * and must not change (tests/unit/test_jsonw.c compares the two).
 *
 * The writer tracks only whether the open object or array already holds a
 * member, which is all the commas need. Keys are the caller's literals: plain
 * ASCII, written as they are.
 */
#ifndef POPSIFT_JSONW_H
#define POPSIFT_JSONW_H

#include <stdbool.h>
#include <stdio.h>

#include "../dissectors/event.h"

struct jw {
	FILE *fp;
	bool comma; /* the open object or array holds a member: the next needs a ',' */
};

static inline void jw_init(struct jw *w, FILE *fp)
{
	w->fp = fp;
	w->comma = false;
}

void jw_begin_object(struct jw *w);
void jw_end_object(struct jw *w);
void jw_begin_array(struct jw *w);
void jw_end_array(struct jw *w);
/* An object member's name; its value is the next thing written. */
void jw_key(struct jw *w, const char *key);

/* Text written as it is but for the escapes; the caller vouches that it is UTF-8. */
void jw_string(struct jw *w, const char *s);
void jw_stringn(struct jw *w, const char *s, size_t n);
/*
 * Text as Jansson's json_string() took it: NULL or invalid UTF-8 made no value,
 * and the member or element was left out. So does this (nothing is written).
 */
void jw_text(struct jw *w, const char *s);
/* Wire bytes: the \xNN rule of utf8.h, then the JSON escapes. */
void jw_bytes(struct jw *w, struct bytes b);
/* As jw_bytes, with the text `suffix` appended inside the same string. */
void jw_bytes_suffix(struct jw *w, struct bytes b, const char *suffix);
void jw_int(struct jw *w, long long v);
void jw_uint(struct jw *w, unsigned long long v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A value that is JSON text already (a cached one), written as it is. */
void jw_raw(struct jw *w, const char *json);

/* key plus value, the shape of nearly every member. */
void jw_field_text(struct jw *w, const char *key, const char *s); /* left out as jw_text */
void jw_field_bytes(struct jw *w, const char *key, struct bytes b);
void jw_field_int(struct jw *w, const char *key, long long v);
void jw_field_bool(struct jw *w, const char *key, bool v);

#endif
