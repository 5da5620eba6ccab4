/*
 * sasl.c - per-mechanism decoding of SASL exchanges (RFC 4422, 4616, 7628,
 * draft-murchison-sasl-login, Google XOAUTH2).
 *
 * Owns the decoded view of one exchange: the mechanism, the client's responses
 * in order, and the user name and secret they reveal. It knows nothing of POP3
 * framing (the caller strips "AUTH", "+ " and line ends). Malformed base64 or
 * mechanism data is an anomaly emitted through the sink, never a failure.
 */
#include "sasl.h"

#include <ctype.h>
#include <openssl/evp.h>

#include "bstr.h"

enum sasl_mech {
	SASL_MECH_OTHER,
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_XOAUTH2,
	SASL_MECH_OAUTHBEARER,
	SASL_MECH_COUNT
};

struct sasl {
	struct event_sink *sink;
	enum sasl_mech mech;
	char name[SASL_MECH_MAX + 1];
	unsigned responses; /* client lines seen, the initial response included */
	struct bstr user;
	struct bstr secret;
	bool cleartext;
};

static const char *const mech_names[] = {
	[SASL_MECH_OTHER] = "",
	[SASL_MECH_PLAIN] = "PLAIN",
	[SASL_MECH_LOGIN] = "LOGIN",
	[SASL_MECH_XOAUTH2] = "XOAUTH2",
	[SASL_MECH_OAUTHBEARER] = "OAUTHBEARER",
};
_Static_assert(ARRAY_LEN(mech_names) == SASL_MECH_COUNT, "mechanism table out of step");

static void sasl_anomaly(struct sasl *s, enum anomaly id, const uint8_t *p, size_t n)
{
	struct event ev = { .type = EV_ANOMALY };
	ev.u.anomaly.id = id;
	ev.u.anomaly.dir = DIR_TO_SERVER;
	ev.u.anomaly.sample = bytes_of(p, n < ANOMALY_SAMPLE_MAX ? n : ANOMALY_SAMPLE_MAX);
	sink_emit(s->sink, &ev);
}

struct sasl *sasl_start(const uint8_t *mech, size_t n, struct event_sink *sink)
{
	struct sasl *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sink = sink;
	if (n > SASL_MECH_MAX)
		n = SASL_MECH_MAX;
	for (size_t i = 0; i < n; i++)
		s->name[i] = (char)toupper(mech[i]);
	for (int m = 1; m < SASL_MECH_COUNT; m++)
		if (strcmp(s->name, mech_names[m]) == 0)
			s->mech = (enum sasl_mech)m;
	return s;
}

/*
 * Decodes base64 text into a new buffer (NUL-terminated for convenience).
 * Returns the decoded length, or -1 when the text is not base64 (anomaly sent).
 * "=" alone is RFC 5034's empty initial response.
 */
static long sasl_b64(struct sasl *s, const uint8_t *p, size_t n, uint8_t **out)
{
	*out = NULL;
	if (n == 1 && p[0] == '=')
		n = 0;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		bool b64 = isalnum(p[i]) || p[i] == '+' || p[i] == '/';
		bool tail_pad = p[i] == '=' && i + 2 >= n;
		if (!b64 && !tail_pad)
			goto bad;
		pad += tail_pad;
	}
	if (n % 4 != 0)
		goto bad;
	*out = malloc(n / 4 * 3 + 1);
	if (!*out)
		return -1;
	int len = n ? EVP_DecodeBlock(*out, p, (int)n) : 0;
	if (len < 0) {
		free(*out);
		*out = NULL;
		goto bad;
	}
	len -= (int)pad;
	(*out)[len] = 0;
	return len;
bad:
	sasl_anomaly(s, ANOM_SASL_BAD_BASE64, p, n);
	return -1;
}

/* PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static void sasl_plain(struct sasl *s, const uint8_t *d, size_t n)
{
	const uint8_t *nul1 = memchr(d, 0, n);
	const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, n - (size_t)(nul1 + 1 - d)) : NULL;
	if (!nul2) {
		sasl_anomaly(s, ANOM_SASL_MALFORMED, d, n);
		return;
	}
	bstr_set(&s->user, nul1 + 1, (size_t)(nul2 - nul1 - 1), SASL_FIELD_MAX);
	bstr_set(&s->secret, nul2 + 1, n - (size_t)(nul2 + 1 - d), SASL_FIELD_MAX);
	s->cleartext = true;
}

/* Finds `key` (e.g. "user=") among ^A-separated fields; sets *v to its value. */
static bool sasl_kv(const uint8_t *d, size_t n, const char *key, struct bytes *v)
{
	size_t kn = strlen(key);
	size_t i = 0;
	while (i < n) {
		const uint8_t *end = memchr(d + i, 0x01, n - i);
		size_t fn = end ? (size_t)(end - d) - i : n - i;
		if (fn >= kn && memcmp(d + i, key, kn) == 0) {
			*v = bytes_of(d + i + kn, fn - kn);
			return true;
		}
		i += fn + 1;
	}
	return false;
}

/* XOAUTH2: user=U ^A auth=Bearer T ^A^A. OAUTHBEARER (RFC 7628): n,a=U, ^A ... */
static void sasl_bearer(struct sasl *s, const uint8_t *d, size_t n)
{
	struct bytes user = BYTES_NONE, auth = BYTES_NONE;
	bool have_user = false;
	if (s->mech == SASL_MECH_XOAUTH2) {
		have_user = sasl_kv(d, n, "user=", &user);
	} else {
		const uint8_t *sep = memchr(d, 0x01, n);
		size_t gs2 = sep ? (size_t)(sep - d) : n;
		const uint8_t *a = gs2 >= 3 ? memmem(d, gs2, ",a=", 3) : NULL;
		if (a) {
			const uint8_t *end = memchr(a + 3, ',', gs2 - (size_t)(a + 3 - d));
			user = bytes_of(a + 3, (size_t)((end ? end : d + gs2) - (a + 3)));
			have_user = true;
		}
	}
	if (!sasl_kv(d, n, "auth=", &auth)) {
		if (!(n == 1 && d[0] == 0x01)) /* ^A alone: OAUTHBEARER's error ack */
			sasl_anomaly(s, ANOM_SASL_MALFORMED, d, n);
		return;
	}
	if (have_user)
		bstr_set(&s->user, user.p, user.n, SASL_FIELD_MAX);
	if (auth.n > 7 && strncasecmp((const char *)auth.p, "Bearer ", 7) == 0)
		auth = bytes_of(auth.p + 7, auth.n - 7);
	bstr_set(&s->secret, auth.p, auth.n, SASL_FIELD_MAX);
	s->cleartext = true;
}

void sasl_client(struct sasl *s, const uint8_t *b64, size_t n)
{
	s->responses++;
	if (n == 1 && b64[0] == '*')
		return; /* cancel (RFC 5034 §4); the server's -ERR ends the exchange */
	uint8_t *d;
	long len = sasl_b64(s, b64, n, &d);
	if (len < 0)
		return;
	size_t dn = (size_t)len;
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		if (dn > 0)
			sasl_plain(s, d, dn);
		break;
	case SASL_MECH_LOGIN:
		/* Ignore the challenge text; client responses 1 and 2 are user, password. */
		if (s->responses == 1) {
			bstr_set(&s->user, d, dn, SASL_FIELD_MAX);
		} else if (s->responses == 2) {
			bstr_set(&s->secret, d, dn, SASL_FIELD_MAX);
			s->cleartext = true;
		}
		break;
	case SASL_MECH_XOAUTH2:
	case SASL_MECH_OAUTHBEARER:
		if (dn > 0)
			sasl_bearer(s, d, dn);
		break;
	default:
		break;
	}
	free(d);
}

void sasl_server(struct sasl *s, const uint8_t *b64, size_t n)
{
	(void)s;
	(void)b64;
	(void)n;
}

void sasl_describe(const struct sasl *s, struct ev_auth *a)
{
	a->mechanism = s->name;
	a->username = bstr_bytes(&s->user);
	a->password = bstr_bytes(&s->secret);
	a->has_password = s->cleartext;
	a->cleartext = s->cleartext;
}

bool sasl_security_layer(const struct sasl *s)
{
	(void)s;
	return false;
}

void sasl_free(struct sasl *s)
{
	if (!s)
		return;
	bstr_free(&s->user);
	bstr_free(&s->secret);
	free(s);
}
