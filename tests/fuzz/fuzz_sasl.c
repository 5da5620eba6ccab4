/*
 * fuzz_sasl.c - libFuzzer harness for the SASL decoders (dissectors/sasl.c,
 * sasl_digest.c, sasl_ntlm.c, sasl_scram.c, sasl_gssapi.c) without POP3 in
 * front: one exchange per input, client responses and server challenges in
 * any order, then sasl_describe() and the auth event through the real output.
 *
 * Input: fuzz_input.h's format; the flags byte means here:
 *   bits 0-4  the mechanism, an index into sasl_mechs[] (modulo its length)
 *   bit 5     the first chunk is a server challenge (else the client's initial response)
 *   bit 6     the first chunk is the mechanism name as the client sent it (bits 0-4 unused)
 *   bit 7     chunks are decoded bytes: the harness base64-encodes them, so
 *             the fuzzer reaches the mechanism parsers without learning base64
 * Gap markers only switch direction (SASL sees no gaps).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/sasl.h"
#include "fuzz_input.h"

#define F_SERVER_FIRST 0x20
#define F_NAMED 0x40
#define F_ENCODE 0x80

/* Every name sasl.c maps to a decoder, and one it does not know. */
static const char *const sasl_mechs[] = {
	"PLAIN",	 "LOGIN",	  "XOAUTH2",	    "OAUTHBEARER",   "CRAM-MD5",
	"EXTERNAL",	 "ANONYMOUS",	  "DIGEST-MD5",	    "NTLM",	     "MSN",
	"SCRAM-SHA-1",	 "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
	"SCRAM-SHA-512", "SCRAM-SHA-512-PLUS", "GSSAPI",	    "KERBEROS_V4",   "x-unknown",
};

/* The chunk as wire text: itself, or its base64 in an exact-size buffer. */
static uint8_t *sasl_wire(const struct fuzz_chunk *c, bool encode, size_t *n)
{
	if (!encode) {
		*n = c->n;
		return fuzz_dup(c->p, c->n);
	}
	size_t len = (c->n + 2) / 3 * 4;
	uint8_t *tmp = malloc(len + 1);
	FUZZ_ASSERT(tmp != NULL);
	int w = EVP_EncodeBlock(tmp, c->p, (int)c->n);
	FUZZ_ASSERT(w >= 0 && (size_t)w == len);
	uint8_t *out = fuzz_dup(tmp, len);
	free(tmp);
	*n = len;
	return out;
}

void fuzz_harness_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader r;
	uint8_t flags;
	if (!fuzz_begin(&r, data, size, &flags) || size > 1 << 20)
		return 0;
	/* Direction here means: DIR_TO_SERVER = a client line, DIR_TO_CLIENT = a challenge. */
	r.dir = (flags & F_SERVER_FIRST) ? DIR_TO_CLIENT : DIR_TO_SERVER;
	struct fuzz_sink s;
	fuzz_sink_open(&s, "pop3", true, false, false);
	struct fuzz_chunk c;
	struct sasl *x = NULL;
	if (flags & F_NAMED) {
		if (!fuzz_next(&r, &c) || c.gap) {
			size_t len;
			free(fuzz_sink_close(&s, false, &len));
			return 0;
		}
		x = sasl_start(c.p, c.n, &s.sink);
		free(c.p);
		r.dir = (flags & F_SERVER_FIRST) ? DIR_TO_CLIENT : DIR_TO_SERVER;
	} else {
		const char *m = sasl_mechs[(flags & 31) % (sizeof(sasl_mechs) / sizeof(sasl_mechs[0]))];
		x = sasl_start((const uint8_t *)m, strlen(m), &s.sink);
	}
	FUZZ_ASSERT(x != NULL);
	while (fuzz_next(&r, &c)) {
		if (c.gap)
			continue;
		size_t n;
		uint8_t *wire = sasl_wire(&c, flags & F_ENCODE, &n);
		free(c.p);
		if (c.dir == DIR_TO_SERVER)
			sasl_client(x, wire, n);
		else
			sasl_server(x, wire, n);
		free(wire);
	}
	struct event ev = { .type = EV_AUTH };
	sasl_describe(x, &ev.u.auth);
	ev.u.auth.result = AUTH_RESULT_SUCCESS;
	ev.u.auth.reply = bytes_of("+OK", 3);
	s.checksum += sasl_security_layer(x);
	s.sink.emit(&s.sink, &ev);
	sasl_free(x);
	size_t len;
	free(fuzz_sink_close(&s, false, &len));
	return 0;
}
