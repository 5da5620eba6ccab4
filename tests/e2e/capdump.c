/*
 * capdump.c - prints every packet of a capture as read by popsift's own reader
 * (src/capfile.c) or by libpcap (pcap_next_ex(), opened as src/capture.c opens
 * files), one line per packet, so tests/e2e/test_capfile.py can hold the two to
 * identical output; and times either reader for the benchmark. Built as
 * build/capdump (build/san/capdump under SAN=1).
 *
 *   capdump capfile|libpcap FILE       "IFACE DLT SEC.USEC CAPLEN LEN SHA256" per packet;
 *                                      capfile: "secrets TYPE LEN SHA256" per DSB too
 *   capdump bench-capfile|bench-libpcap FILE
 *                                      reads every packet (touching its first and last
 *                                      byte), prints packets, bytes, wall and CPU seconds
 *
 * FILE "-" is standard input. The reader's closing status goes to standard
 * error. Exit status: 0 clean end, 2 cannot open, 3 truncated, 4 corrupt,
 * 5 read or decompression failure (libpcap: 3 for any error while reading).
 */
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../src/capfile.h"

#define READ_BUFFER (1 << 20) /* capture.c's stdio buffer for libpcap */

struct bench {
	uint64_t packets, bytes, touch;
};

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void print_packet(uint32_t iface, int dlt, const struct timeval *ts, uint32_t caplen,
			 uint32_t len, const uint8_t *data)
{
	char hex[65] = "";
	sha256_hex(data, caplen, hex);
	printf("%u %d %lld.%06ld %u %u %s\n", iface, dlt, (long long)ts->tv_sec, (long)ts->tv_usec,
	       caplen, len, hex);
}

static void print_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len,
			  uint64_t offset)
{
	(void)ctx;
	(void)offset;
	char hex[65] = "";
	sha256_hex(data, len, hex);
	printf("secrets %08x %zu %s\n", type, len, hex);
}

static void bench_touch(struct bench *b, uint32_t caplen, const uint8_t *data)
{
	b->packets++;
	b->bytes += caplen;
	if (caplen)
		b->touch += data[0] + data[caplen - 1];
}

static int run_capfile(const char *path, bool bench, struct bench *b)
{
	char err[CAPFILE_ERR_MAX];
	struct capfile_config cfg = { bench ? NULL : print_secrets, NULL };
	struct capfile *cf = capfile_open_path(path, &cfg, err, sizeof(err));
	if (!cf) {
		fprintf(stderr, "capdump: %s: %s\n", path, err);
		return 2;
	}
	struct capfile_packet pkt;
	enum capfile_result r;
	while ((r = capfile_next(cf, &pkt)) == CAPFILE_PACKET) {
		if (bench)
			bench_touch(b, pkt.caplen, pkt.data);
		else
			print_packet(pkt.iface, pkt.dlt, &pkt.ts, pkt.caplen, pkt.len, pkt.data);
	}
	static const int status[] = { [CAPFILE_END] = 0, [CAPFILE_TRUNCATED] = 3,
				      [CAPFILE_CORRUPT] = 4, [CAPFILE_FAILED] = 5 };
	fprintf(stderr, "capdump: capfile %s: %s %s\n", capsrc_codec_name(capsrc_codec(capfile_source(cf))),
		r == CAPFILE_END ? "end" : "stopped", capfile_error(cf));
	capfile_close(cf);
	return status[r];
}

static int run_libpcap(const char *path, bool bench, struct bench *b)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = malloc(READ_BUFFER);
	if (fp && buf)
		setvbuf(fp, buf, _IOFBF, READ_BUFFER);
	pcap_t *p = fp ? pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, err)
		       : NULL;
	if (!p) {
		fprintf(stderr, "capdump: %s: %s\n", path, fp ? err : "cannot open");
		if (fp)
			fclose(fp);
		free(buf);
		return 2;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc, dlt = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (bench)
			bench_touch(b, h->caplen, data);
		else
			print_packet(0, dlt, &h->ts, h->caplen, h->len, data);
	}
	fprintf(stderr, "capdump: libpcap: %s %s\n", rc == PCAP_ERROR ? "stopped" : "end",
		rc == PCAP_ERROR ? pcap_geterr(p) : "");
	pcap_close(p);
	free(buf);
	return rc == PCAP_ERROR ? 3 : 0;
}

static double seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: capdump capfile|libpcap|bench-capfile|bench-libpcap FILE\n");
		return 2;
	}
	const char *mode = argv[1];
	bool bench = strncmp(mode, "bench-", 6) == 0;
	if (bench)
		mode += 6;
	struct bench b = { 0 };
	double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
	int rc;
	if (strcmp(mode, "capfile") == 0)
		rc = run_capfile(argv[2], bench, &b);
	else if (strcmp(mode, "libpcap") == 0)
		rc = run_libpcap(argv[2], bench, &b);
	else {
		fprintf(stderr, "capdump: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	if (bench) {
		wall = seconds(CLOCK_MONOTONIC) - wall;
		cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
		printf("%s packets %llu bytes %llu wall %.3f cpu %.3f MB/s %.0f (touch %llu)\n", mode,
		       (unsigned long long)b.packets, (unsigned long long)b.bytes, wall, cpu,
		       wall > 0 ? (double)b.bytes / wall / 1e6 : 0.0, (unsigned long long)b.touch);
	}
	return rc;
}
