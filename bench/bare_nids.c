/*
 * bare_nids.c - baseline (2) of `make bench`: libnids reassembly alone, driven
 * exactly as src/reasm.c drives it (docs/libnids.md, Driving it): initialised once on
 * pcap_open_dead(DLT_RAW), fed IP packets whose link layer this program strips
 * (Ethernet with 802.1Q/QinQ tags, Linux SLL/SLL2, NULL/LOOP, raw), checksums
 * off, libnids' syslog and port-scan detection replaced, the stream table sized
 * like popsift's default --max-streams. Like reasm.c it hands libnids only TCP
 * to or from a followed port, plus fragments.
 *
 * The TCP callback follows every connection to a followed server port and
 * touches all the data (sums it, 8 bytes at a time), so the figure is the cost
 * of reassembly plus one pass over every payload byte: what any analyser built
 * on libnids pays at least. Nothing else (no line parsing, no hashing).
 *
 * Usage: bare_nids [-p PORT[,PORT...]] FILE...      (default ports 109,110,1109)
 * Prints one line: "packets N streams N bytes N check N".
 */
#include <inttypes.h>
#include <nids.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPLEN 262144
#define MAX_STREAMS 65536 /* popsift's DEFAULT_MAX_STREAMS */

static uint8_t port_map[65536 / 8];
static uint64_t n_streams, n_bytes, check, warnings;
static struct pcap_pkthdr hdr; /* libnids keeps a pointer to it */

static int followed(uint16_t port)
{
	return port_map[port >> 3] & (1u << (port & 7));
}

static void bn_syslog(int type, int err, struct ip *iph, void *data)
{
	(void)type, (void)err, (void)iph, (void)data;
	warnings++;
}

static void bn_nomem(char *where)
{
	fprintf(stderr, "bare_nids: out of memory in libnids (%s)\n", where ? where : "?");
	exit(3);
}

static uint64_t touch(const uint8_t *p, size_t n)
{
	uint64_t s = 0, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s += p[i];
	return s;
}

static void bn_tcp(struct tcp_stream *ts, void **unused)
{
	(void)unused;
	switch (ts->nids_state) {
	case NIDS_JUST_EST:
		if (!followed(ts->addr.dest))
			return;
		ts->client.collect++;
		ts->server.collect++;
		n_streams++;
		return;
	case NIDS_DATA: {
		struct half_stream *h = ts->server.count_new ? &ts->server : &ts->client;
		int held = h->count - h->offset;
		const uint8_t *p = (const uint8_t *)h->data + (held - h->count_new);
		n_bytes += (uint64_t)h->count_new;
		check += touch(p, (size_t)h->count_new);
		return;
	}
	default:
		return;
	}
}

/* Returns the IPv4 packet inside a frame, or NULL. */
static const uint8_t *strip(int dlt, const uint8_t *f, size_t caplen, size_t *len)
{
	size_t off;
	uint16_t type;
	switch (dlt) {
	case DLT_EN10MB:
		off = 12;
		do {
			if (caplen < off + 2)
				return NULL;
			type = (uint16_t)(f[off] << 8 | f[off + 1]);
			off += 2;
			if (type == 0x8100 || type == 0x88a8 || type == 0x9100)
				off += 2;
			else
				break;
		} while (1);
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return NULL;
		type = (uint16_t)(f[14] << 8 | f[15]);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return NULL;
		type = (uint16_t)(f[0] << 8 | f[1]);
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		type = 0x0800;
		off = 4;
		break;
	case DLT_RAW:
	case DLT_IPV4:
		type = 0x0800;
		off = 0;
		break;
	default:
		return NULL;
	}
	if (type != 0x0800 || caplen < off + 20 || (f[off] >> 4) != 4)
		return NULL;
	*len = caplen - off;
	return f + off;
}

static void feed(const struct pcap_pkthdr *h, const uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t total = (size_t)ip[2] << 8 | ip[3];
	if (ip[9] != 6 || ihl < 20 || total < ihl || len < ihl)
		return;
	if (len > total)
		len = total;
	uint16_t frag = (uint16_t)(ip[6] << 8 | ip[7]);
	if (!(frag & 0x3fff)) {
		if (len < ihl + 20)
			return;
		uint16_t sport = (uint16_t)(ip[ihl] << 8 | ip[ihl + 1]);
		uint16_t dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
		if (!followed(sport) && !followed(dport))
			return;
	} else if (total > len || total < ihl + 8) {
		return; /* docs/libnids.md, Fragments: short ones are over-read */
	}
	hdr.ts = h->ts;
	hdr.caplen = hdr.len = (bpf_u_int32)len;
	nids_pcap_handler(NULL, &hdr, (u_char *)ip);
}

int main(int argc, char **argv)
{
	const char *ports = "109,110,1109";
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		ports = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: bare_nids [-p PORT[,PORT...]] FILE...\n");
		return 1;
	}
	for (const char *s = ports; *s;) {
		unsigned long p = strtoul(s, (char **)&s, 10);
		port_map[(p & 0xffff) >> 3] |= (uint8_t)(1u << (p & 7));
		if (*s == ',')
			s++;
		else if (*s)
			break;
	}

	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 };
	pcap_t *dead = pcap_open_dead(DLT_RAW, SNAPLEN);
	nids_params.pcap_desc = dead;
	nids_params.filename = NULL;
	nids_params.device = NULL;
	nids_params.syslog = bn_syslog;
	nids_params.no_mem = bn_nomem;
	nids_params.scan_num_hosts = 0;
	nids_params.multiproc = 0;
	nids_params.pcap_filter = NULL;
	nids_params.n_tcp_streams = MAX_STREAMS / 3 * 4 + 4;
	if (!nids_init()) {
		fprintf(stderr, "bare_nids: %s\n", nids_errbuf);
		return 2;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	nids_register_tcp((void *)bn_tcp);

	uint64_t packets = 0;
	for (; i < argc; i++) {
		char err[PCAP_ERRBUF_SIZE] = "";
		pcap_t *p = pcap_open_offline(argv[i], err);
		if (!p) {
			fprintf(stderr, "bare_nids: %s: %s\n", argv[i], err);
			return 2;
		}
		int dlt = pcap_datalink(p);
		struct pcap_pkthdr *h;
		const u_char *frame;
		int rc;
		while ((rc = pcap_next_ex(p, &h, &frame)) == 1) {
			size_t len;
			const uint8_t *ip = strip(dlt, frame, h->caplen, &len);
			packets++;
			if (ip)
				feed(h, ip, len);
		}
		if (rc == PCAP_ERROR)
			fprintf(stderr, "bare_nids: %s: %s\n", argv[i], pcap_geterr(p));
		pcap_close(p);
	}
	nids_exit();
	pcap_close(dead);
	printf("packets %" PRIu64 " streams %" PRIu64 " bytes %" PRIu64 " check %" PRIu64
	       " warnings %" PRIu64 "\n", packets, n_streams, n_bytes, check, warnings);
	return 0;
}
