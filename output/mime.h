/*
 * mime.h - what popsift reads inside a message: the triage headers (From, To,
 * Cc, Subject, Date, Message-ID, with RFC 2047 encoded words decoded) and the
 * list of attachments with the digest of each decoded part.
 *
 * All parsing is GMime's (mime.c is the only file that includes gmime.h). It
 * runs after a message has ended, never on the streaming path: headers from the
 * bounded copy output.c keeps of a message's header section (in process: at
 * most 64 KiB of input), attachments from the extracted file (in a child
 * process with a memory and time limit). Malformed input never fails a caller:
 * what cannot be parsed is simply absent from the result.
 */
#ifndef POPSIFT_MIME_H
#define POPSIFT_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

/*
 * Initialises GMime for the process (the first call; later calls do nothing);
 * it is shut down at exit.
 */
void mime_init(void);

struct mime_service;

/*
 * Parses the header section p[0..n) (it may lack the closing empty line, be cut
 * anywhere or hold any bytes) into h, which must be zeroed. Headers that are
 * absent or unparsable stay NULL; on out of memory fields may be missing.
 */
void mime_headers_parse(const uint8_t *p, size_t n, struct message_headers *h);
void mime_headers_free(struct message_headers *h);

/*
 * The attachment parser: GMime in a child process, under a memory and a time
 * limit (mime.c says why), so the caller's memory never depends on the
 * message. The child is started by the first mime_attachments_parse() and
 * kept; one that died is replaced at the next. mime_service_free() stops it.
 * NULL when out of memory.
 */
struct mime_service *mime_service_new(void);
void mime_service_free(struct mime_service *svc);

/*
 * The child's side. Every program that lists attachments calls this first in
 * main() (popsift through output_run_child()): the child is that same program
 * run again, and here it serves until its parent is done, then exits. In any
 * other process it returns at once.
 */
void mime_service_child(void);

/*
 * Lists the attachments of the message held in fd[0..size) (read through its
 * own file offset, which it moves: the caller reads with pread). An attachment
 * is a leaf part with Content-Disposition "attachment" or with a file name, and
 * an attached message/rfc822 part. Sets *out (heap, free with
 * mime_attachments_free) and *n; at most RECORD_ATTACHMENTS_MAX entries, with
 * *truncated set when there were more. Returns NULL, or why the list is missing
 * or short (a static string: the parser reached a limit, crashed, could not
 * start); the list may then be short or empty.
 */
const char *mime_attachments_parse(struct mime_service *svc, int fd, uint64_t size,
				   struct attachment_record **out, size_t *n, bool *truncated);
void mime_attachments_free(struct attachment_record *a, size_t n);

#endif
