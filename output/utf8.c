/*
 * utf8.c - the `\xNN` escaping rule for bytes that are not valid UTF-8.
 * Validation follows RFC 3629 §4 (no overlongs, no surrogates, max U+10FFFF).
 */
#include "utf8.h"

size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

size_t utf8_escape(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i = 0;
	while (i < n) {
		size_t len = utf8_seq(p + i, n - i);
		if (len == 0) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
			i++;
			continue;
		}
		for (size_t k = 0; k < len; k++)
			out[o++] = (char)p[i + k];
		i += len;
	}
	out[o] = 0;
	return o;
}

bool utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0, len; i < n; i += len)
		if ((len = utf8_seq(p + i, n - i)) == 0)
			return false;
	return true;
}
