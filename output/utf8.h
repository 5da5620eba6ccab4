/*
 * utf8.h - wire bytes to valid UTF-8 text, the `\xNN` rule of docs/events.md.
 */
#ifndef POPSIFT_UTF8_H
#define POPSIFT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of output utf8_escape() may need for n input bytes. */
#define UTF8_ESCAPED_MAX(n) ((n) * 4 + 1)

/*
 * Copies p[0..n) to out, passing valid UTF-8 sequences through and writing each
 * other byte as the four characters \xNN. out must hold UTF8_ESCAPED_MAX(n)
 * bytes; the result is NUL-terminated. Returns its length (without the NUL).
 */
size_t utf8_escape(const uint8_t *p, size_t n, char *out);

/* Length of the valid UTF-8 sequence at p[0..n) (n > 0), or 0 when it is not one. */
size_t utf8_seq(const uint8_t *p, size_t n);

/* Whether s[0..n) is valid UTF-8 throughout (the rule Jansson's json_string() applies). */
bool utf8_valid(const char *s, size_t n);

#endif
