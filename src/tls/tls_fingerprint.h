/*
 * tls_fingerprint.h - TLS client and server fingerprints from the parsed
 * hellos (tls_hello.h):
 *   JA3  (Salesforce): MD5 of "SSLVersion,Ciphers,Extensions,EllipticCurves,
 *        EllipticCurvePointFormats", decimal values joined by '-', GREASE
 *        (RFC 8701) removed, extensions in the order sent.
 *   JA3S: MD5 of "SSLVersion,Cipher,Extensions" of the ServerHello.
 *   JA4  (FoxIO, technical_details/JA4.md): "t" + version + SNI d/i + cipher
 *        count + extension count + ALPN first/last character, "_", the first
 *        12 hex of SHA-256 of the sorted cipher list, "_", the same of the
 *        sorted extension list (SNI and ALPN left out) "_" signature
 *        algorithms in order.
 * Hashes through OpenSSL's EVP_Digest. Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_FINGERPRINT_H
#define POPSIFT_TLS_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "tls_hello.h"

/*
 * hash: 32 hex digits + NUL. str: the JA3 string, cut to strmax - 1 octets
 * (*cut set) though the hash covers it all.
 */
void tls_ja3(const struct tls_client_hello *ch, char hash[33], char *str, size_t strmax,
	     bool *cut);
void tls_ja3s(const struct tls_server_hello *sh, char hash[33], char *str, size_t strmax,
	      bool *cut);
/* ja4: 36 characters + NUL. */
void tls_ja4(const struct tls_client_hello *ch, char ja4[37]);

#endif
