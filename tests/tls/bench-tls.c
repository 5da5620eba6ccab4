/*
 * bench-tls.c - what decryption costs: a TLS session with its key log (a
 * fixture file of tests/tls/make-fixtures.py, e.g. `--bench 100 DIR` for a
 * TLS 1.3 AES-128-GCM session carrying 100 MB) is run through the TLS stream
 * layer, fed in 1448-octet pieces as TCP segments come, with and without its
 * keys, and compared with SHA-256 over the same octets (the hash every
 * message of a cleartext capture already costs). Best of N runs each.
 *
 *   cc -O2 -o build/bench-tls tests/tls/bench-tls.c build/libpopsift.a -lcrypto
 *   build/bench-tls DIR/bench.fx [runs]
 *
 * Not part of `make`: phase 2 puts a TLS scenario in `make bench`.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/tls/tls.h"
#include "../../src/tls/tls_keylog.h"

#define SEGMENT 1448

struct entry {
	char tag;
	const uint8_t *p;
	size_t n;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)size);
	if (!p || fread(p, 1, (size_t)size, f) != (size_t)size)
		exit(1);
	fclose(f);
	*n = (size_t)size;
	return p;
}

/* The fixture's entries (format: tests/tls/make-fixtures.py). */
static size_t parse(const uint8_t *p, size_t n, struct entry *e, size_t max)
{
	size_t k = 0, off = 8;
	if (n < 8 || memcmp(p, "PSTLSFX1", 8))
		exit(1);
	while (off + 5 <= n && k < max) {
		size_t len = (size_t)p[off + 1] << 24 | (size_t)p[off + 2] << 16 |
			     (size_t)p[off + 3] << 8 | p[off + 4];
		e[k++] = (struct entry){ (char)p[off], p + off + 5, len };
		off += 5 + len;
	}
	return k;
}

static uint64_t plaintext;

static void count(void *ctx, enum tls_dir dir, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)dir;
	(void)p;
	plaintext += n;
}

static double run_stream(const struct entry *e, size_t k, const struct tls_keylog *kl)
{
	struct tls_sink sink = { NULL, NULL, count, NULL, NULL, NULL };
	double t0 = now();
	struct tls_stream *s = tls_stream_new(kl, &sink, 0);
	for (size_t i = 0; i < k; i++) {
		if (e[i].tag != 'C' && e[i].tag != 'S')
			continue;
		enum tls_dir dir = e[i].tag == 'C' ? TLS_DIR_TO_SERVER : TLS_DIR_TO_CLIENT;
		for (size_t off = 0; off < e[i].n; off += SEGMENT)
			tls_stream_data(s, dir, e[i].p + off,
					e[i].n - off < SEGMENT ? e[i].n - off : SEGMENT);
	}
	tls_stream_end(s);
	tls_stream_free(s);
	return now() - t0;
}

static double run_sha256(const struct entry *e, size_t k, char tag)
{
	uint8_t md[32];
	unsigned mdlen;
	double t0 = now();
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; i < k; i++)
		if (e[i].tag == tag)
			for (size_t off = 0; off < e[i].n; off += SEGMENT)
				EVP_DigestUpdate(c, e[i].p + off,
						 e[i].n - off < SEGMENT ? e[i].n - off : SEGMENT);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	return now() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FIXTURE [runs]\n", argv[0]);
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	size_t n, wire = 0, sent = 0;
	uint8_t *file = read_all(argv[1], &n);
	static struct entry e[1 << 20];
	size_t k = parse(file, n, e, sizeof(e) / sizeof(e[0]));
	struct tls_keylog *kl = tls_keylog_new();
	for (size_t i = 0; i < k; i++) {
		if (e[i].tag == 'K')
			tls_keylog_add_text(kl, (const char *)e[i].p, e[i].n);
		if (e[i].tag == 'C' || e[i].tag == 'S')
			wire += e[i].n;
		if (e[i].tag == 's')
			sent += e[i].n;
	}
	double best_dec = 1e9, best_nokeys = 1e9, best_sha_ct = 1e9, best_sha_pt = 1e9;
	for (int r = 0; r < runs; r++) {
		plaintext = 0;
		double t = run_stream(e, k, kl);
		if (plaintext < sent) {
			fprintf(stderr, "decrypted %llu of %zu octets\n", (unsigned long long)plaintext,
				sent);
			return 1;
		}
		best_dec = t < best_dec ? t : best_dec;
		t = run_stream(e, k, NULL);
		best_nokeys = t < best_nokeys ? t : best_nokeys;
		t = run_sha256(e, k, 'S');
		best_sha_ct = t < best_sha_ct ? t : best_sha_ct;
		t = run_sha256(e, k, 's');
		best_sha_pt = t < best_sha_pt ? t : best_sha_pt;
	}
	double mb = wire / 1e6;
	printf("session: %.1f MB on the wire, %.1f MB of server plaintext, best of %d runs\n", mb,
	       sent / 1e6, runs);
	printf("decrypt (keys):      %7.3f s  %7.0f MB/s\n", best_dec, mb / best_dec);
	printf("frame only (no keys):%7.3f s  %7.0f MB/s\n", best_nokeys, mb / best_nokeys);
	printf("sha256 ciphertext:   %7.3f s  %7.0f MB/s\n", best_sha_ct, mb / best_sha_ct);
	printf("sha256 plaintext:    %7.3f s  %7.0f MB/s\n", best_sha_pt, sent / 1e6 / best_sha_pt);
	printf("decrypt / sha256 of the plaintext: %.2f\n", best_dec / best_sha_pt);
	tls_keylog_free(kl);
	free(file);
	return 0;
}
