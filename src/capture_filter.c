/*
 * capture_filter.c - `-f EXPR` for capture files: the BPF filter compiled by
 * libpcap once per link type met (pcap_open_dead() + pcap_compile(): a pcapng
 * may mix link types, and BPF offsets depend on the link type) and run on each
 * frame (pcap_offline_filter()), as a live capture runs it in the kernel.
 *
 * Live capture ANDs the filter with a port filter of its own (capture_live.c);
 * files need none: the reassembler makes the same choice of ports for every
 * packet (reasm.c), and a port filter compiled for Ethernet would miss every
 * 802.1Q-tagged frame, which files keep tagged (the kernel strips the tags
 * of a live capture before the filter sees them).
 *
 * Owns the compiled programs: at most FILTER_DLTS_MAX link types; frames of
 * any other, or of a link type the expression cannot apply to (e.g. `ether
 * host` on raw IP), never match, with one warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define FILTER_DLTS_MAX 32
#define FILTER_SNAPLEN 262144

struct filter_prog {
	int dlt;
	bool ok; /* compiled; else the expression cannot apply to this link type */
	struct bpf_program prog;
};

struct capture_filter {
	char *expr;
	struct filter_prog progs[FILTER_DLTS_MAX];
	size_t n;
	struct filter_prog *last; /* the link type of the frame before: nearly always the next's */
	bool warned_full;
};

/* Compiles the expression for link type dlt into a new entry; false with libpcap's reason. */
static bool filter_compile(struct capture_filter *f, int dlt, char *why, size_t n)
{
	struct filter_prog *fp = &f->progs[f->n++];
	fp->dlt = dlt;
	pcap_t *dead = pcap_open_dead(dlt, FILTER_SNAPLEN);
	if (!dead) {
		snprintf(why, n, "out of memory");
		return false;
	}
	fp->ok = pcap_compile(dead, &fp->prog, f->expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (!fp->ok)
		snprintf(why, n, "%s", pcap_geterr(dead));
	pcap_close(dead);
	return fp->ok;
}

static const char *filter_dlt_name(int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);
	return name ? name : "unknown";
}

struct capture_filter *capture_filter_new(const char *expr)
{
	struct capture_filter *f = calloc(1, sizeof(*f));
	if (f)
		f->expr = strdup(expr);
	if (!f || !f->expr) {
		fprintf(stderr, "popsift: out of memory\n");
		capture_filter_free(f);
		return NULL;
	}
	char why[PCAP_ERRBUF_SIZE + 64] = "";
	if (!filter_compile(f, DLT_EN10MB, why, sizeof(why))) {
		fprintf(stderr, "popsift: invalid capture filter (-f '%s'): %s\n", expr, why);
		capture_filter_free(f);
		return NULL;
	}
	return f;
}

static struct filter_prog *filter_find(struct capture_filter *f, int dlt)
{
	if (f->last && f->last->dlt == dlt)
		return f->last;
	for (size_t i = 0; i < f->n; i++)
		if (f->progs[i].dlt == dlt)
			return f->last = &f->progs[i];
	return NULL;
}

/* The program for dlt, compiled on first sight; NULL when it cannot apply (said once). */
static struct filter_prog *filter_for(struct capture_filter *f, int dlt, const char *path,
				      bool warn)
{
	struct filter_prog *fp = filter_find(f, dlt);
	if (fp)
		return fp->ok ? fp : NULL;
	if (f->n == FILTER_DLTS_MAX) {
		if (!f->warned_full)
			fprintf(stderr, "popsift: warning: '%s': more than %d link types: -f is not applied to the others, whose frames are skipped\n",
				path, FILTER_DLTS_MAX);
		f->warned_full = true;
		return NULL;
	}
	char why[PCAP_ERRBUF_SIZE + 64] = "";
	if (filter_compile(f, dlt, why, sizeof(why)))
		return f->last = &f->progs[f->n - 1];
	if (warn)
		fprintf(stderr, "popsift: warning: '%s': -f '%s' cannot apply to link type %s (%s); those frames are skipped\n",
			path, f->expr, filter_dlt_name(dlt), why);
	else
		fprintf(stderr, "popsift: -f '%s' cannot apply to link type %s of '%s': %s\n",
			f->expr, filter_dlt_name(dlt), path, why);
	return NULL;
}

bool capture_filter_prepare(struct capture_filter *f, int dlt, const char *path)
{
	return filter_for(f, dlt, path, false) != NULL;
}

bool capture_filter_match(struct capture_filter *f, const struct capfile_packet *pkt,
			  const char *path)
{
	struct filter_prog *fp = filter_for(f, pkt->dlt, path, true);
	if (!fp)
		return false;
	struct pcap_pkthdr h = { .ts = pkt->ts, .caplen = pkt->caplen, .len = pkt->len };
	return pcap_offline_filter(&fp->prog, &h, pkt->data) != 0;
}

void capture_filter_free(struct capture_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (f->progs[i].ok)
			pcap_freecode(&f->progs[i].prog);
	free(f->expr);
	free(f);
}
