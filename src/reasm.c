/*
 * reasm.c - drives libnids from popsift's own packet loop (libnids-notes.md).
 *
 * The only file that includes nids.h. libnids is initialised once on a
 * pcap_open_dead(DLT_RAW) handle, so it never opens an interface or a socket,
 * and fed IPv4 packets whose link layer popsift already stripped; sessions
 * therefore continue across consecutive capture files. Checksums are not
 * verified (loopback and offloaded captures carry wrong ones), libnids' syslog
 * and port-scan detection are replaced by counters.
 *
 * libnids' callbacks carry no user pointer, so this file keeps the engine's
 * state in statics: the one place in popsift with global mutable state.
 */
#include "reasm.h"

#include <arpa/inet.h>
#include <nids.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define REASM_SNAPLEN 262144
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

static struct {
	struct reasm_config cfg;
	struct reasm_stats stats;
	struct pcap_pkthdr hdr; /* libnids keeps a pointer to it, even in nids_exit() */
	const char *pcap_file;
	pcap_t *dead;
} R;

static bool port_followed(uint16_t port)
{
	return R.cfg.port_map[port >> 3] & (1u << (port & 7));
}

/* libnids reports every anomaly here; sometimes with a NULL IP header. */
static void reasm_nids_syslog(int type, int err, struct ip *iph, void *data)
{
	(void)type;
	(void)err;
	(void)iph;
	(void)data;
	R.stats.nids_warnings++;
}

static void reasm_nids_nomem(char *where)
{
	fprintf(stderr, "popsift: out of memory in libnids (%s)\n", where ? where : "?");
	exit(3);
}

static void reasm_endpoints(const struct tuple4 *a, struct endpoint *c, struct endpoint *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->family = s->family = AF_INET;
	memcpy(c->addr, &a->saddr, 4);
	memcpy(s->addr, &a->daddr, 4);
	c->port = a->source;
	s->port = a->dest;
}

static void reasm_established(struct tcp_stream *ts)
{
	if (!port_followed(ts->addr.dest))
		return;
	struct endpoint c, s;
	reasm_endpoints(&ts->addr, &c, &s);
	struct session *sess = session_open(R.cfg.sessions, session_pick(ts->addr.dest), &c, &s,
					    &R.hdr.ts, R.pcap_file, false);
	if (!sess)
		reasm_nids_nomem("session");
	sess->stream = ts;
	ts->user = sess;
	ts->client.collect++;
	ts->server.collect++;
	R.stats.tcp_streams++;
}

/* ts->server holds what the client sent, ts->client what the server sent. */
static void reasm_data(struct tcp_stream *ts, struct session *s)
{
	struct half_stream *h = ts->server.count_new ? &ts->server : &ts->client;
	enum dir dir = h == &ts->server ? DIR_TO_SERVER : DIR_TO_CLIENT;
	size_t held = (size_t)(h->count - h->offset);
	size_t n = (size_t)h->count_new;
	s->flow.now = R.hdr.ts;
	s->flow.pcap_file = R.pcap_file;
	session_data(s, dir, (const uint8_t *)h->data + (held - n), n);
}

static void reasm_closed(struct tcp_stream *ts, struct session *s, enum end_reason why)
{
	s->flow.now = R.hdr.ts;
	ts->user = NULL;
	session_close(R.cfg.sessions, s, why);
}

static void reasm_tcp(struct tcp_stream *ts, void **unused)
{
	(void)unused;
	struct session *s = ts->user;
	switch (ts->nids_state) {
	case NIDS_JUST_EST:
		reasm_established(ts);
		return;
	case NIDS_DATA:
		if (s)
			reasm_data(ts, s);
		return;
	case NIDS_CLOSE:
		if (s)
			reasm_closed(ts, s, END_FIN);
		return;
	case NIDS_RESET:
		if (s)
			reasm_closed(ts, s, END_RST);
		return;
	case NIDS_TIMED_OUT:
		if (s) {
			R.stats.evicted++;
			reasm_closed(ts, s, END_EVICTED);
		}
		return;
	case NIDS_EXITING:
		if (s)
			reasm_closed(ts, s, END_CAPTURE_END);
		return;
	default:
		return;
	}
}

bool reasm_init(const struct reasm_config *cfg, char *err, size_t errlen)
{
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 };
	R.cfg = *cfg;
	R.dead = pcap_open_dead(DLT_RAW, REASM_SNAPLEN);
	if (!R.dead) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return false;
	}
	nids_params.pcap_desc = R.dead;
	nids_params.filename = NULL;
	nids_params.device = NULL;
	nids_params.syslog = reasm_nids_syslog;
	nids_params.no_mem = reasm_nids_nomem;
	nids_params.scan_num_hosts = 0;
	nids_params.multiproc = 0;
	nids_params.pcap_filter = NULL;
	/* libnids holds 3/4 of its hash size before it evicts the oldest stream. */
	nids_params.n_tcp_streams = (int)(cfg->max_streams / 3 * 4 + 4);
	if (!nids_init()) {
		snprintf(err, errlen, "libnids: %s", nids_errbuf);
		return false;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	nids_register_tcp((void *)reasm_tcp); /* after nids_init(), which resets callbacks */
	return true;
}

/*
 * Feeds libnids only what it needs: TCP to or from a followed port, and every
 * fragment (whose ports are unknown until reassembly). Fragments too short to
 * hold their headers are dropped here: libnids reads past their end.
 */
void reasm_ipv4(const struct timeval *ts, const uint8_t *ip, size_t caplen, const char *pcap_file)
{
	if (caplen < 20 || (ip[0] >> 4) != 4) {
		R.stats.skipped++;
		return;
	}
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t total = (size_t)ip[2] << 8 | ip[3];
	uint16_t frag = (uint16_t)(ip[6] << 8 | ip[7]);
	if (ip[9] != IPPROTO_TCP || ihl < 20 || total < ihl || caplen < ihl) {
		R.stats.skipped++;
		return;
	}
	if (frag & (IP_MF | IP_OFFMASK)) {
		if (total > caplen || total < ihl + 8) {
			R.stats.short_fragments++;
			return;
		}
	} else {
		if (caplen < ihl + 4) {
			R.stats.skipped++;
			return;
		}
		uint16_t sport = (uint16_t)(ip[ihl] << 8 | ip[ihl + 1]);
		uint16_t dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
		if (!port_followed(sport) && !port_followed(dport)) {
			R.stats.skipped++;
			return;
		}
	}
	if (caplen > total)
		caplen = total; /* link-layer padding after the IP packet */
	R.hdr.ts = *ts;
	R.hdr.caplen = R.hdr.len = (bpf_u_int32)caplen;
	R.pcap_file = pcap_file;
	R.stats.ip_packets++;
	nids_pcap_handler(NULL, &R.hdr, (u_char *)ip);
}

void reasm_finish(void)
{
	struct session_table *t = R.cfg.sessions;
	for (struct session *s = t->head; s; s = s->next) {
		s->flow.now = R.hdr.ts;
		((struct tcp_stream *)s->stream)->user = NULL;
	}
	session_close_all(t, END_CAPTURE_END);
	nids_exit();
	if (R.dead)
		pcap_close(R.dead);
	R.dead = NULL;
}

void reasm_get_stats(struct reasm_stats *st)
{
	*st = R.stats;
}
