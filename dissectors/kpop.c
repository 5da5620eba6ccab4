/*
 * kpop.c - walks the Kerberos sendauth preamble that KPOP (port 1109) sends
 * before POP3 (docs/protocol.md §7; MIT recvauth.c, krb4 krb_recvauth, Heimdal
 * popper pop_init.c), by its length fields only: ticket bytes are skipped,
 * never scanned for "USER".
 *
 * Owns the preamble's progress in both directions and nothing else; pop3.c
 * feeds it the first bytes of a connection and gets POP3 bytes back, and the
 * KPOP probe (probe.c) walks a connection's first bytes with it.
 *
 *   v4  C: "AUTHV0.1" "KPOPV0.1" len32 ticket     S: nothing, or len32 krb_priv
 *   v5  C: len32=0x13 "KRB5_SENDAUTH_V1.0\0" len32 "KPOPV1.0\0"
 *       S: one byte (0 ok, 1 bad sendauth version, 2 bad application version)
 *       C: len32 AP-REQ                           S: len32 (0 ok, else KRB-ERROR)
 *       S: optionally len32 AP-REP (mutual authentication)
 * Then the server greets with +OK (or -ERR and closes).
 */
#include "kpop.h"

#include <string.h>

#include "bstr.h"
#include "cursor.h"
#include "trace.h"

#define KPOP_FIELD_MAX (1u << 20) /* a ticket or error longer than this is not Kerberos */

static const uint8_t v4_magic[16] = "AUTHV0.1KPOPV0.1";
static const uint8_t v5_magic[23] = "\0\0\0\x13KRB5_SENDAUTH_V1.0";

static const char *const kpop_step_names[] = {
	[KPOP_START] = "START", [KPOP_V5_MAGIC_REST] = "V5-MAGIC-REST",
	[KPOP_SKIP_THEN_LEN] = "SKIP-THEN-LEN", [KPOP_LEN_THEN_DONE] = "LEN-THEN-DONE",
	[KPOP_SKIP_THEN_DONE] = "SKIP-THEN-DONE", [KPOP_SRV_STATUS_LEN] = "SRV-STATUS-LEN",
	[KPOP_SKIP_THEN_OPTIONAL] = "SKIP-THEN-OPTIONAL", [KPOP_SRV_OPTIONAL] = "SRV-OPTIONAL",
	[KPOP_DONE] = "DONE",
};
_Static_assert(ARRAY_LEN(kpop_step_names) == KPOP_DONE + 1, "step names out of step");

static const char *const kpop_result_names[] = {
	[KPOP_RESULT_PENDING] = "PENDING", [KPOP_RESULT_OK] = "OK", [KPOP_RESULT_REFUSED] = "REFUSED",
	[KPOP_RESULT_NOT_KPOP] = "NOT-KPOP", [KPOP_RESULT_MALFORMED] = "MALFORMED",
};
_Static_assert(ARRAY_LEN(kpop_result_names) == KPOP_RESULT_MALFORMED + 1, "result names out of step");

/* kpop_set_step(), kpop_set_result(): the one place each changes. */
STATE_SETTER(kpop_set_step, struct kpop_half, step, enum kpop_step, "kpop step", kpop_step_names)
STATE_SETTER(kpop_set_result, struct kpop, result, enum kpop_result, "kpop result", kpop_result_names)

void kpop_init(struct kpop *k, bool expected, bool midstream)
{
	memset(k, 0, sizeof(*k));
	k->expected = expected;
	if (midstream)
		kpop_set_result(k, KPOP_RESULT_NOT_KPOP);
}

/* The 4-byte length just collected (network byte order, as every sendauth length). */
static uint32_t kpop_len32(const struct kpop_half *h)
{
	struct cursor c = cur_make(h->buf, h->have);
	return cur_be32(&c);
}

/*
 * Collects `want` bytes of a fixed field into the direction's buffer; returns
 * bytes used from the input and whether the field is now whole.
 */
static size_t kpop_collect(struct kpop_half *h, size_t want, const uint8_t *buf, size_t len,
			   bool *whole)
{
	size_t take = want - h->have < len ? want - h->have : len;
	memcpy(h->buf + h->have, buf, take);
	h->have += take;
	*whole = h->have == want;
	return take;
}

/* Sets up skipping a length-prefixed field; false when the length is absurd. */
static bool kpop_field(struct kpop *k, struct kpop_half *h, enum kpop_step next)
{
	uint32_t n = kpop_len32(h);
	h->have = 0;
	if (n > KPOP_FIELD_MAX) {
		kpop_set_result(k, KPOP_RESULT_MALFORMED);
		return false;
	}
	h->skip = n;
	kpop_set_step(h, next);
	return true;
}

/* Collects a 4-byte length, then skips that many bytes in step `skipping`. */
static size_t kpop_len_then(struct kpop *k, struct kpop_half *h, const uint8_t *buf, size_t len,
			    enum kpop_step skipping)
{
	bool whole;
	size_t used = kpop_collect(h, 4, buf, len, &whole);
	if (whole)
		kpop_field(k, h, skipping);
	return used;
}

/* Skips what is left of a field (a ticket, an AP-REQ), then goes on to `next`. */
static size_t kpop_skip_then(struct kpop_half *h, size_t len, enum kpop_step next)
{
	size_t take = h->skip < len ? (size_t)h->skip : len;
	h->skip -= take;
	if (h->skip == 0)
		kpop_set_step(h, next);
	return take;
}

/* Either side's last field: a length, then that many bytes; then POP3. */
static size_t kpop_last_field(struct kpop *k, struct kpop_half *h, const uint8_t *buf, size_t len)
{
	switch (h->step) {
	case KPOP_LEN_THEN_DONE:
		return kpop_len_then(k, h, buf, len, KPOP_SKIP_THEN_DONE);
	case KPOP_SKIP_THEN_DONE:
		return kpop_skip_then(h, len, KPOP_DONE);
	default:
		return 0;
	}
}

/* Decides v4, v5 or not KPOP from the client's first bytes. */
static void kpop_identify(struct kpop *k, struct kpop_half *h)
{
	h->have = 0;
	if (memcmp(h->buf, v4_magic, 16) == 0) {
		k->version = 4;
		kpop_set_step(h, KPOP_LEN_THEN_DONE);
	} else if (memcmp(h->buf, v5_magic, 16) == 0) {
		k->version = 5;
		kpop_set_step(h, KPOP_V5_MAGIC_REST);
	} else {
		kpop_set_result(k, KPOP_RESULT_NOT_KPOP);
	}
}

/* One step of the client's side; returns bytes used. */
static size_t kpop_client_step(struct kpop *k, struct kpop_half *h, const uint8_t *buf, size_t len)
{
	bool whole;
	size_t used;
	switch (h->step) {
	case KPOP_START:
		used = kpop_collect(h, 16, buf, len, &whole);
		if (whole)
			kpop_identify(k, h);
		return used;
	case KPOP_V5_MAGIC_REST: /* "_V1.0\0" then the application version's length */
		used = kpop_collect(h, 7 + 4, buf, len, &whole);
		if (whole) {
			memmove(h->buf, h->buf + 7, 4);
			h->have = 4;
			kpop_field(k, h, KPOP_SKIP_THEN_LEN);
		}
		return used;
	case KPOP_SKIP_THEN_LEN: /* the application version, then the AP-REQ */
		return kpop_skip_then(h, len, KPOP_LEN_THEN_DONE);
	default:
		return kpop_last_field(k, h, buf, len);
	}
}

/*
 * One step of the server's side. v5 answers with a status byte, then a length
 * (0 = accepted); v4 (and v5 after that) may add a length-prefixed mutual
 * authentication reply. POP3 starts at a byte that can begin "+OK" or "-ERR".
 */
static size_t kpop_server_step(struct kpop *k, struct kpop_half *h, const uint8_t *buf, size_t len)
{
	bool whole;
	size_t used;
	switch (h->step) {
	case KPOP_START:
		if (k->version == 5) {
			k->server_status = buf[0];
			kpop_set_step(h, KPOP_SRV_STATUS_LEN);
			return 1;
		}
		kpop_set_step(h, KPOP_SRV_OPTIONAL);
		return 0;
	case KPOP_SRV_STATUS_LEN:
		used = kpop_collect(h, 4, buf, len, &whole);
		if (whole) {
			k->server_error = kpop_len32(h) != 0;
			kpop_field(k, h, KPOP_SKIP_THEN_OPTIONAL);
		}
		return used;
	case KPOP_SKIP_THEN_OPTIONAL:
		return kpop_skip_then(h, len, KPOP_SRV_OPTIONAL);
	case KPOP_SRV_OPTIONAL:
		/* POP3 begins here, or a mutual authentication reply (len32) comes first. */
		kpop_set_step(h, buf[0] == '+' || buf[0] == '-' ? KPOP_DONE : KPOP_LEN_THEN_DONE);
		return 0;
	default:
		return kpop_last_field(k, h, buf, len);
	}
}

size_t kpop_feed(struct kpop *k, enum dir dir, const uint8_t *buf, size_t len)
{
	struct kpop_half *h = &k->half[dir];
	size_t used = 0;
	if (dir == DIR_TO_CLIENT && k->half[DIR_TO_SERVER].step == KPOP_START) {
		/* The server spoke before any preamble: a POP3 greeting. */
		kpop_set_result(k, KPOP_RESULT_NOT_KPOP);
		return 0;
	}
	while (used < len && k->result == KPOP_RESULT_PENDING && h->step != KPOP_DONE) {
		size_t n = dir == DIR_TO_SERVER ? kpop_client_step(k, h, buf + used, len - used)
						: kpop_server_step(k, h, buf + used, len - used);
		used += n;
		if (n == 0 && h->step != KPOP_DONE && h->step != KPOP_SRV_OPTIONAL &&
		    h->step != KPOP_LEN_THEN_DONE)
			break;
	}
	if (k->half[0].step == KPOP_DONE && k->half[1].step == KPOP_DONE &&
	    k->result == KPOP_RESULT_PENDING)
		kpop_set_result(k, k->server_status == 0 && !k->server_error ? KPOP_RESULT_OK
									      : KPOP_RESULT_REFUSED);
	return used;
}

struct bytes kpop_held(struct kpop *k)
{
	struct kpop_half *h = &k->half[DIR_TO_SERVER];
	if (h->step != KPOP_START || (k->result != KPOP_RESULT_NOT_KPOP &&
				      k->result != KPOP_RESULT_MALFORMED))
		return BYTES_NONE;
	struct bytes b = bytes_of(h->buf, h->have);
	h->have = 0;
	kpop_set_step(h, KPOP_DONE);
	return b;
}

bool kpop_passes(const struct kpop *k, enum dir dir)
{
	return k->result != KPOP_RESULT_PENDING || k->half[dir].step == KPOP_DONE;
}

void kpop_end(struct kpop *k)
{
	if (k->result == KPOP_RESULT_PENDING && k->half[DIR_TO_SERVER].step == KPOP_START)
		kpop_set_result(k, KPOP_RESULT_NOT_KPOP); /* too few bytes to be a preamble */
}
