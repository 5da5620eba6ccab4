/*
 * tls_cert.c - X.509 through OpenSSL (tls_cert.h): subject and issuer in
 * OpenSSL's one-line form without spaces around '=' (what `openssl x509
 * -nameopt oneline,-space_eq,-esc_msb,utf8` prints), the serial in upper-case
 * hex, validity as seconds since the epoch, the SHA-256 of the DER octets
 * received, whether it is self-signed (X509_self_signed with its signature
 * checked) and the subject alternative names (DNS, IP, email, URI).
 */
#include "tls_cert.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "tls_wire.h"

/* The name in one line into out (cut at max - 1 octets, NUL-terminated). */
static void name_line(const X509_NAME *name, char *out, size_t max)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	unsigned long flags = (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB) |
			      ASN1_STRFLGS_UTF8_CONVERT;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0) {
		int k = BIO_read(b, out, (int)max - 1);
		out[k > 0 ? k : 0] = '\0';
	}
	BIO_free(b);
}

static void serial_hex(const ASN1_INTEGER *s, char *out, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);
	size_t k = 0;
	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER && k + 1 < max)
		out[k++] = '-';
	if (n <= 0 && k + 2 < max) { /* i2a_ASN1_INTEGER writes zero as "00" */
		out[k++] = '0';
		out[k++] = '0';
	}
	for (int i = 0; i < n && k + 2 < max; i++) {
		out[k++] = hex[p[i] >> 4];
		out[k++] = hex[p[i] & 15];
	}
	out[k] = '\0';
}

static int64_t asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void add_san(struct tls_cert *out, enum tls_san_type type, const uint8_t *p, size_t n)
{
	if (out->san_count >= TLS_SAN_MAX) {
		out->san_truncated = true;
		return;
	}
	struct tls_san *s = &out->san[out->san_count++];
	s->type = type;
	if (n > TLS_SAN_LEN) {
		n = TLS_SAN_LEN;
		out->san_truncated = true;
	}
	memcpy(s->value, p, n);
	s->len = (uint16_t)n;
}

static void add_ip(struct tls_cert *out, const ASN1_OCTET_STRING *ip)
{
	char text[INET6_ADDRSTRLEN];
	int n = ASN1_STRING_length(ip);
	const uint8_t *p = ASN1_STRING_get0_data(ip);
	if ((n == 4 && inet_ntop(AF_INET, p, text, sizeof(text))) ||
	    (n == 16 && inet_ntop(AF_INET6, p, text, sizeof(text))))
		add_san(out, TLS_SAN_IP, (const uint8_t *)text, strlen(text));
}

static void read_sans(X509 *x, struct tls_cert *out)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = names ? sk_GENERAL_NAME_num(names) : 0;
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s = g->d.ia5;
		switch (g->type) {
		case GEN_DNS:
			add_san(out, TLS_SAN_DNS, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
			break;
		case GEN_EMAIL:
			add_san(out, TLS_SAN_EMAIL, ASN1_STRING_get0_data(s),
				(size_t)ASN1_STRING_length(s));
			break;
		case GEN_URI:
			add_san(out, TLS_SAN_URI, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
			break;
		case GEN_IPADD:
			add_ip(out, g->d.iPAddress);
			break;
		default:
			break;
		}
	}
	GENERAL_NAMES_free(names);
}

bool tls_cert_parse(const uint8_t *der, size_t n, struct tls_cert *out)
{
	const uint8_t *p = der;
	unsigned chain = out->chain_length;
	if (n > 0x7fffffff)
		return false;
	X509 *x = d2i_X509(NULL, &p, (long)n);
	if (!x)
		return false;
	memset(out, 0, sizeof(*out));
	out->chain_length = chain;
	name_line(X509_get_subject_name(x), out->subject, sizeof(out->subject));
	name_line(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	serial_hex(X509_get0_serialNumber(x), out->serial, sizeof(out->serial));
	out->not_before = asn1_seconds(X509_get0_notBefore(x));
	out->not_after = asn1_seconds(X509_get0_notAfter(x));
	unsigned mdlen = 0;
	EVP_Digest(der, (size_t)(p - der), out->sha256, &mdlen, EVP_sha256(), NULL);
	out->self_signed = X509_self_signed(x, 1) == 1;
	read_sans(x, out);
	X509_free(x);
	return true;
}

enum tls_cert_status tls_cert_chain(const uint8_t *body, size_t n, bool tls13,
				    struct tls_cert *out)
{
	struct tls_rd r = tls_rd_make(body, n);
	if (tls13)
		tls_rd_vec(&r, 1); /* certificate_request_context */
	size_t list_len = tls_rd_uint(&r, 3);
	if (r.bad)
		return TLS_CERT_UNPARSABLE;
	/* A cut message holds only a prefix of the list: walk what is there. */
	struct tls_rd list = tls_rd_make(r.p, list_len < r.n ? list_len : r.n);
	const uint8_t *first = NULL;
	size_t first_len = 0;
	out->chain_length = 0;
	while (list.n) {
		struct tls_rd cert = tls_rd_vec(&list, 3);
		if (tls13)
			tls_rd_vec(&list, 2); /* CertificateEntry extensions */
		if (list.bad)
			break;
		if (!first) {
			first = cert.p;
			first_len = cert.n;
		}
		out->chain_length++;
	}
	if (!first)
		return list_len == 0 ? TLS_CERT_EMPTY : TLS_CERT_UNPARSABLE;
	return tls_cert_parse(first, first_len, out) ? TLS_CERT_PARSED : TLS_CERT_UNPARSABLE;
}
