/*
 * capture.c - opens capture files (pcap and pcapng, through libpcap) and runs
 * the packet loop: strip the link layer, hand IPv4 to the reassembler. One
 * libnids instance spans all files, so a connection that continues in the next
 * file of a rotated capture stays one session.
 */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "linklayer.h"
#include "reasm.h"

struct capture_input {
	const char *path;
	pcap_t *p;
	int dlt;
};

struct capture {
	struct capture_input *in;
	size_t n;
	struct capture_stats st;
};

/* libpcap's messages for a missing file are terse; say which file and why. */
static bool capture_open_one(struct capture_input *in, const char *path)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct stat sb;
	in->path = path;
	if (strcmp(path, "-") != 0) {
		if (stat(path, &sb) != 0) {
			fprintf(stderr, "popsift: cannot read capture '%s': %s\n", path, strerror(errno));
			return false;
		}
		if (S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "popsift: cannot read capture '%s': it is a directory\n", path);
			return false;
		}
	}
	in->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!in->p) {
		fprintf(stderr, "popsift: cannot read capture '%s': %s\n",
			strcmp(path, "-") == 0 ? "standard input" : path, err);
		return false;
	}
	in->dlt = pcap_datalink(in->p);
	if (strcmp(path, "-") != 0) {
		/* Checked now, read later: a long list of files must not hold a descriptor each. */
		pcap_close(in->p);
		in->p = NULL;
	}
	if (!ll_supported(in->dlt)) {
		const char *name = pcap_datalink_val_to_name(in->dlt);
		fprintf(stderr, "popsift: warning: '%s' has link type %s (%d), which popsift does not decode; its packets are skipped\n",
			path, name ? name : "unknown", in->dlt);
	}
	return true;
}

struct capture *capture_open(const char *const *paths, size_t n)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->in = calloc(n ? n : 1, sizeof(*c->in));
	if (!c->in) {
		free(c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!capture_open_one(&c->in[i], paths[i])) {
			c->n = i;
			capture_close(c);
			return NULL;
		}
	}
	c->n = n;
	return c;
}

static void capture_packet(struct capture *c, const struct capture_input *in,
			   const struct pcap_pkthdr *h, const uint8_t *frame)
{
	const uint8_t *ip;
	size_t iplen;
	c->st.packets++;
	c->st.bytes += h->caplen;
	switch (ll_strip(in->dlt, frame, h->caplen, &ip, &iplen)) {
	case LL_IPV4:
		reasm_ipv4(&h->ts, ip, iplen, in->path);
		break;
	case LL_IPV6:
		reasm_ipv6(&h->ts, ip, iplen, in->path);
		break;
	case LL_TRUNCATED:
		c->st.truncated++;
		break;
	case LL_OTHER:
	case LL_UNSUPPORTED:
		c->st.other++;
		break;
	}
}

static void capture_read(struct capture *c, struct capture_input *in)
{
	struct pcap_pkthdr *h;
	const u_char *frame;
	int rc;
	while ((rc = pcap_next_ex(in->p, &h, &frame)) == 1)
		capture_packet(c, in, h, frame);
	if (rc == PCAP_ERROR) {
		c->st.truncated_files++;
		fprintf(stderr, "popsift: warning: '%s': %s; everything before this point was analysed\n",
			in->path, pcap_geterr(in->p));
	}
	c->st.files++;
}

void capture_run(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct capture_input *in = &c->in[i];
		char err[PCAP_ERRBUF_SIZE] = "";
		if (!in->p)
			in->p = pcap_open_offline_with_tstamp_precision(in->path, PCAP_TSTAMP_PRECISION_MICRO, err);
		if (!in->p) {
			fprintf(stderr, "popsift: warning: cannot read capture '%s' any more: %s\n", in->path, err);
			c->st.truncated_files++;
			continue;
		}
		capture_read(c, in);
		pcap_close(c->in[i].p);
		c->in[i].p = NULL;
	}
}

void capture_get_stats(const struct capture *c, struct capture_stats *st)
{
	*st = c->st;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->in[i].p)
			pcap_close(c->in[i].p);
	free(c->in);
	free(c);
}
