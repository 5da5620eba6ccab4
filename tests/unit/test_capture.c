/*
 * test_capture.c - the packet loop over capture files (src/capture_files.c):
 * the Decryption Secrets Blocks of a capture reach the capture_hooks.secrets
 * callback byte for byte, once, whether the file is a regular file (peeked,
 * then opened again) or a pipe (read once); files are read in the order of
 * their first packets and their frames numbered over all of them; an invalid
 * -f expression is a usage error. Run under ASan by `make check`.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/capfile.h"
#include "../../src/capture.h"
#include "../../src/reasm.h"
#include "capbuild.h"
#include "engine_rig.h"

#define SAMPLE "samples/dovecot-pop3.pcap"
#define SAMPLE_PACKETS 104
#define KEYLOG_LINES 5

struct rig {
	struct engine_rig e;
	char dir[64];
	/* what the secrets hook saw */
	unsigned calls;
	uint32_t type;
	char *secrets;
	size_t n;
};

static void rig_open(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	engine_rig_open(&r->e, 64, 600, false);
	snprintf(r->dir, sizeof(r->dir), "/tmp/popsift-test-capture-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
}

static void rig_close(struct rig *r)
{
	engine_rig_close(&r->e);
	free(r->secrets);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
}

static void on_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t n)
{
	struct rig *r = ctx;
	r->calls++;
	r->type = type;
	free(r->secrets);
	r->secrets = malloc(n + 1);
	assert_non_null(r->secrets);
	memcpy(r->secrets, p, n);
	r->secrets[n] = '\0';
	r->n = n;
}

/* A TLS key log written to dir/keylog.txt; returns its text (static). */
static const char *write_keylog(const struct rig *r, char *path, size_t n)
{
	static char text[KEYLOG_LINES * 240];
	size_t len = 0;
	for (int i = 0; i < KEYLOG_LINES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"CLIENT_RANDOM %064x %096x\n", i + 1, (i + 1) * 7);
	snprintf(path, n, "%s/keylog.txt", r->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Reads `path` through the capture module with the rig's hooks; returns the packets read. */
static uint64_t read_capture(struct rig *r, const char *path)
{
	struct capture_hooks hooks = { .ctx = r, .secrets = on_secrets };
	const char *paths[] = { path };
	struct file_config fc = { paths, 1, NULL, &hooks };
	bool usage_error = true;
	struct capture *c = capture_open(&fc, &usage_error);
	assert_non_null(c);
	assert_false(usage_error);
	assert_true(capture_run(c, &hooks));
	struct capture_stats st;
	capture_get_stats(c, &st);
	assert_int_equal(*capture_frame_number(c), 0);
	capture_close(c);
	return st.packets;
}

/* editcap --inject-secrets: the key log comes back whole, once, from a file and from a pipe. */
static void secrets_injected_by_editcap_reach_the_hook_once(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	char keylog[96], cap[96], cmd[512];
	const char *text = write_keylog(&r, keylog, sizeof(keylog));
	snprintf(cap, sizeof(cap), "%s/with-secrets.pcapng", r.dir);
	snprintf(cmd, sizeof(cmd), "editcap --inject-secrets tls,%s %s %s", keylog, SAMPLE, cap);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(read_capture(&r, cap), SAMPLE_PACKETS);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.type, CAPFILE_SECRETS_TLS);
	assert_int_equal(r.n, strlen(text));
	assert_string_equal(r.secrets, text);

	/* A pipe is read once: its secrets come while its first packet is peeked. */
	snprintf(cmd, sizeof(cmd), "xz -c %s", cap);
	FILE *pipe = popen(cmd, "r");
	assert_non_null(pipe);
	char fdpath[32];
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fileno(pipe));
	r.calls = 0;
	assert_int_equal(read_capture(&r, fdpath), SAMPLE_PACKETS);
	assert_int_equal(pclose(pipe), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.secrets, text);
	rig_close(&r);
}

/* A classic pcap of one non-IP frame at second `sec`. */
static void write_one_frame(const char *path, uint32_t sec)
{
	static const uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_record(&b, sec, 0, sizeof(arp), sizeof(arp), arp);
	pcap_record(&b, sec + 1, 0, sizeof(arp), sizeof(arp), arp);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.p, 1, b.n, f), b.n);
	assert_int_equal(fclose(f), 0);
	bb_free(&b);
}

/* Rotated parts given out of order are read by time; frames numbered over all of them. */
static void files_are_read_in_the_order_of_their_first_packets(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	static const uint32_t secs[] = { 1700000300, 1700000100, 1700000200, 1700000100 };
	char names[4][96];
	const char *paths[4];
	for (int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "%s/part%d.pcap", r.dir, i);
		write_one_frame(names[i], secs[i]);
		paths[i] = names[i];
	}
	struct file_config fc = { paths, 4, NULL, NULL };
	bool usage_error;
	struct capture *c = capture_open(&fc, &usage_error);
	assert_non_null(c);
	/* by first packet; the two at the same second as given */
	static const size_t want[] = { 1, 3, 2, 0 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(capture_file_order(c, i), want[i]);
	struct capture_hooks hooks = { 0 };
	assert_true(capture_run(c, &hooks));
	struct capture_stats st;
	capture_get_stats(c, &st);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.packets, 8);
	assert_int_equal(st.overlaps, 1); /* part3 starts before part1 ends (same seconds) */
	capture_close(c);
	rig_close(&r);
}

static void an_invalid_filter_is_a_usage_error(void **state)
{
	(void)state;
	const char *paths[] = { SAMPLE };
	struct file_config fc = { paths, 1, "tcp port", NULL };
	bool usage_error = false;
	assert_null(capture_open(&fc, &usage_error));
	assert_true(usage_error);
	fc.filter = "tcp port 110";
	struct capture *c = capture_open(&fc, &usage_error);
	assert_non_null(c);
	assert_false(usage_error);
	capture_close(c);
	fc.paths = (const char *[]){ "/nonexistent/x.pcap" };
	assert_null(capture_open(&fc, &usage_error));
	assert_false(usage_error); /* a missing file is an input error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secrets_injected_by_editcap_reach_the_hook_once),
		cmocka_unit_test(files_are_read_in_the_order_of_their_first_packets),
		cmocka_unit_test(an_invalid_filter_is_a_usage_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
