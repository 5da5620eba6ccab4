/*
 * bare_pcap.c - baseline (1) of `make bench`: the fastest a capture can be read
 * through libpcap. A pcap_next_ex() loop that counts packets and bytes and
 * touches the first byte of every frame (so the read cannot be optimised away),
 * nothing else. Every other figure in docs/performance.md is a ratio to this.
 *
 * Usage: bare_pcap FILE...
 * Prints one line: "packets N bytes N check N".
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	uint64_t packets = 0, bytes = 0, check = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: bare_pcap FILE...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		char err[PCAP_ERRBUF_SIZE] = "";
		pcap_t *p = pcap_open_offline(argv[i], err);
		if (!p) {
			fprintf(stderr, "bare_pcap: %s: %s\n", argv[i], err);
			return 2;
		}
		struct pcap_pkthdr *h;
		const u_char *frame;
		int rc;
		while ((rc = pcap_next_ex(p, &h, &frame)) == 1) {
			packets++;
			bytes += h->caplen;
			if (h->caplen)
				check += frame[0];
		}
		if (rc == PCAP_ERROR)
			fprintf(stderr, "bare_pcap: %s: %s\n", argv[i], pcap_geterr(p));
		pcap_close(p);
	}
	printf("packets %" PRIu64 " bytes %" PRIu64 " check %" PRIu64 "\n", packets, bytes, check);
	return 0;
}
