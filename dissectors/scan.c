/*
 * scan.c - vectorised byte searches over streamed input (see scan.h).
 *
 * Message bodies have short lines (~70 bytes), so a memchr() per line spends
 * most of its time on call and set-up cost. Searching for the two-byte pattern
 * "\n." directly lets one pass cover a whole run of lines that need nothing.
 */
#include "scan.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * The portable form, from offset i: one memchr() per line. A '\n' that is the
 * last byte counts as a match, since its next byte is not here yet. The i < len
 * test keeps memchr() from being called on an empty (possibly null) buf.
 */
static size_t scan_lf_dot_from(const uint8_t *buf, size_t i, size_t len)
{
	const uint8_t *lf;
	while (i < len && (lf = memchr(buf + i, '\n', len - i)) != NULL) {
		i = (size_t)(lf - buf) + 1;
		if (i == len || buf[i] == '.')
			return i - 1;
	}
	return len;
}

size_t scan_lf_dot(const uint8_t *buf, size_t len)
{
	size_t i = 0;
#ifdef __SSE2__
	/*
	 * Each step tests 16 positions: bytes i..i+15 against '\n' and bytes
	 * i+1..i+16 against '.'. Both loads stay inside buf because i + 16 < len;
	 * the remaining positions (including the last byte) go to the portable form.
	 */
	const __m128i lf = _mm_set1_epi8('\n'), dot = _mm_set1_epi8('.');
	for (; i + 16 < len; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(buf + i + 1));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(b, dot)));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	return scan_lf_dot_from(buf, i, len);
}
