/*
 * fuzz_capture.c - libFuzzer harness for the packet path: link-layer decoding
 * (src/linklayer.c), IPv6 mapping (ipmap.c), reassembly and its repairs
 * (reasm.c: mid-stream pickup, hole filling, port reuse, fragments, rebasing,
 * eviction, idle expiry), sessions (session.c), every dissector behind them and
 * the output. Each input runs a whole engine: reasm_init() ... reasm_finish()
 * (libnids is initialised and exited once per input; reasm_finish() releases
 * everything, see the nids_unregister_tcp() there), so inputs do not leak state
 * into each other apart from libnids' random hash seed.
 *
 * Input: a flags byte, then
 *   flags bit 3 clear ("frames"): fuzz_input.h's chunks, one link-layer frame
 *     each (gap markers are ignored). A frame's first byte advances the clock:
 *     t < 200 adds t ms, t >= 200 adds (t - 199) * 30 s, so idle expiry is
 *     reachable. bits 0-2 pick the link type from ll_types[]; bit 4 fixes IPv4
 *     header checksums (libnids drops a packet whose checksum is wrong, and a
 *     fuzzer cannot compute one).
 *   flags bit 3 set ("file"): the rest is a capture file (pcap or pcapng), read
 *     through capture.c from a memfd exactly as `popsift -r` reads a file.
 *   bit 5: --show-passwords and --transactions; bit 6: rebase libnids' byte
 *   counters every 4 KB (POPSIFT_TEST_REBASE_AT); bit 7: idle timeout 10 s
 *   instead of 600.
 * Every line written must parse as JSON (fuzz_check_json_lines). The output
 * object is shared by all inputs (fuzz_out_begin); everything else is per input.
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/capture.h"
#include "../../src/linklayer.h"
#include "../../src/reasm.h"
#include "../../src/session.h"
#include "fuzz_input.h"

#define F_FILE 0x08
#define F_FIX_CSUM 0x10
#define F_OUTPUT_ALL 0x20
#define F_REBASE 0x40
#define F_SHORT_IDLE 0x80
#define FUZZ_MAX_STREAMS 16 /* the smallest --max-streams: eviction is reachable */

static const int ll_types[8] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
				 DLT_LOOP,   DLT_RAW,	    DLT_IPV4,	    DLT_IPV6 };

struct engine {
	struct session_table sessions;
	struct fuzz_out fo;
	uint8_t port_map[65536 / 8];
	unsigned idle;
	char path[64]; /* the capture's name: sessions point at it until reasm_finish() */
};

void fuzz_harness_init(void)
{
	/* popsift's warnings (truncated files, full tables) would flood the log;
	   sanitizer and libFuzzer reports write to fd 2 directly and still show. */
	FILE *null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

static void engine_port(struct engine *e, unsigned port)
{
	e->port_map[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static void engine_open(struct engine *e, uint8_t flags)
{
	memset(e, 0, sizeof(*e));
	fuzz_out_begin(&e->fo, flags & F_OUTPUT_ALL, flags & F_OUTPUT_ALL, false);
	session_table_init(&e->sessions, e->fo.o);
	engine_port(e, 109);
	engine_port(e, 110);
	engine_port(e, 995);
	engine_port(e, 1109);
	e->idle = flags & F_SHORT_IDLE ? 10 : 600;
	struct reasm_config rc = { .port_map = e->port_map, .max_streams = FUZZ_MAX_STREAMS,
				   .rebase_at = flags & F_REBASE ? 4096 : 1 << 30,
				   .sessions = &e->sessions };
	char err[256];
	FUZZ_ASSERT(reasm_init(&rc, err, sizeof(err)));
}

static void engine_close(struct engine *e)
{
	reasm_finish();
	FUZZ_ASSERT(e->sessions.open == 0 && e->sessions.head == NULL);
	size_t len;
	free(fuzz_out_end(&e->fo, &len));
}

/* libnids drops IPv4 packets whose header checksum is wrong: recompute it. */
static void fix_ipv4_checksum(uint8_t *ip, size_t len)
{
	if (len < 20)
		return;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		return;
	ip[10] = ip[11] = 0;
	uint32_t sum = 0;
	for (size_t i = 0; i < ihl; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
}

static void run_frames(struct engine *e, struct fuzz_reader *r, uint8_t flags)
{
	int dlt = ll_types[flags & 7];
	struct timeval ts = { 1700000000, 0 };
	time_t last_tick = ts.tv_sec;
	struct fuzz_chunk c;
	while (fuzz_next(r, &c)) {
		if (c.gap)
			continue;
		if (c.n < 2) {
			free(c.p);
			continue;
		}
		uint8_t t = c.p[0];
		if (t < 200) {
			ts.tv_usec += t * 1000;
			ts.tv_sec += ts.tv_usec / 1000000;
			ts.tv_usec %= 1000000;
		} else {
			ts.tv_sec += (t - 199) * 30;
		}
		if (ts.tv_sec != last_tick) {
			last_tick = ts.tv_sec;
			reasm_expire(ts.tv_sec, e->idle); /* capture.c's tick */
		}
		/* The frame alone in an exact-size buffer: reading past it is caught. */
		size_t n = c.n - 1;
		uint8_t *frame = fuzz_dup(c.p + 1, n);
		free(c.p);
		const uint8_t *ip;
		size_t iplen;
		switch (ll_strip(dlt, frame, n, &ip, &iplen)) {
		case LL_IPV4:
			if (flags & F_FIX_CSUM)
				fix_ipv4_checksum(frame + (ip - frame), iplen);
			reasm_ipv4(&ts, ip, iplen, "fuzz.pcap");
			break;
		case LL_IPV6:
			reasm_ipv6(&ts, ip, iplen, "fuzz.pcap");
			break;
		default:
			break;
		}
		free(frame);
	}
}

static void on_tick(void *ctx, time_t now)
{
	struct engine *e = ctx;
	reasm_expire(now, e->idle);
}

/* The capture file in a memfd, read by capture.c through /proc/self/fd/N. */
static void run_file(struct engine *e, const uint8_t *p, size_t n)
{
	int fd = memfd_create("fuzz-capture", 0);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, p, n) == (ssize_t)n);
	snprintf(e->path, sizeof(e->path), "/proc/self/fd/%d", fd);
	const char *paths[] = { e->path };
	struct capture_hooks hooks = { .tick = on_tick, .ctx = e };
	struct file_config fc = { paths, 1, NULL, &hooks };
	bool usage_error;
	struct capture *cap = capture_open(&fc, &usage_error);
	if (cap) {
		FUZZ_ASSERT(capture_run(cap, &hooks));
		capture_close(cap);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader r;
	uint8_t flags;
	if (!fuzz_begin(&r, data, size, &flags))
		return 0;
	struct engine e;
	engine_open(&e, flags);
	if (flags & F_FILE)
		run_file(&e, data + 1, size - 1);
	else
		run_frames(&e, &r, flags);
	engine_close(&e);
	return 0;
}
