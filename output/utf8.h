/*
 * utf8.h - wire bytes to valid UTF-8 text, the `\xNN` rule of docs/events.md.
 */
#ifndef POPSIFT_UTF8_H
#define POPSIFT_UTF8_H

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

#endif
