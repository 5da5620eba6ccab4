/*
 * mbox.h - --mbox FILE: every message appended to one mbox that mail readers
 * (mutt, Thunderbird, Python's mailbox module) open.
 *
 * Format: mboxrd. Each entry is a From_ line, the message with every line that
 * matches /^>*From / given one more '>', and an empty line. Line ends are
 * written as LF, the Unix mbox convention (CRLF on the wire becomes LF; a bare
 * CR stays). A message that does not end with a line end gets one. The From_
 * line carries only numbers and addresses, never message content:
 *
 *   From popsift Tue Nov 14 22:13:20 2023 flow=<flow_id> client=<ip>.<port>
 *        server=<ip>.<port> start=<session start, ISO 8601> command=RETR number=<n>
 *        [partial]
 *
 * (one line; the date is the capture time of the message, UTC, in ctime form;
 * `partial` marks a message cut short; a space in the command becomes '_'). The file is created 0600 when it does
 * not exist, appended to otherwise, never opened through a symlink, and each
 * entry is written under an fcntl write lock.
 */
#ifndef POPSIFT_MBOX_H
#define POPSIFT_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "../src/flow.h"

#define MBOX_BUFFER (64 * 1024)

struct mbox;

struct mbox_entry {
	const struct flow *flow;
	struct timeval time; /* of the message */
	const char *command;
	uint32_t number;
	bool complete;
};

/* Returns NULL with a one-line reason in err (no "popsift:" prefix). */
struct mbox *mbox_open(const char *path, char *err, size_t errn);
/* Returns false when any write failed (errno of the first failure set). */
bool mbox_close(struct mbox *m);

/*
 * Appends one entry whose message is fd[0..size) (read with pread). Returns
 * false with errno set when reading or writing failed (the entry may then be
 * short).
 */
bool mbox_append(struct mbox *m, const struct mbox_entry *e, int fd, uint64_t size);

/*
 * The streaming mboxrd quoter, exposed for tests: feed the message in spans
 * split anywhere, then end it. Output goes to out(ctx, p, n), which returns
 * false to stop. State survives every chunk boundary.
 */
typedef bool (*mbox_out_fn)(void *ctx, const uint8_t *p, size_t n);

struct mbox_quote {
	int state;     /* at a line start, in its '>' run, matching "From ", or mid-line */
	uint64_t gt;   /* '>' seen at the start of this line */
	unsigned fm;   /* octets of "From " matched after them */
	bool cr;       /* a CR is pending: dropped if an LF follows */
};

void mbox_quote_init(struct mbox_quote *q);
bool mbox_quote_feed(struct mbox_quote *q, const uint8_t *p, size_t n, mbox_out_fn out, void *ctx);
/* Flushes what is pending and closes the entry (line end if missing, then the empty line). */
bool mbox_quote_end(struct mbox_quote *q, mbox_out_fn out, void *ctx);

#endif
