/*
 * extract.h - -x/--extract DIR: every message becomes a file in DIR, written as
 * it streams (buffered, never held whole), created 0600, never overwriting and
 * never through a symlink.
 *
 * The directory is opened once (O_DIRECTORY|O_NOFOLLOW) and every file is
 * created relative to that descriptor with O_CREAT|O_EXCL|O_NOFOLLOW, so no
 * name is ever resolved through a symlink, an existing file (or a planted
 * symlink) is never opened, and nothing is written outside DIR even if DIR is
 * renamed meanwhile. A name is built only from numbers and addresses:
 *
 *   <time>_<flow_id>_<client>.<port>_<server>.<port>_<number>.<cmd>[.partial][.<k>].eml
 *
 *   time     capture time of the message's first octet, UTC, 20231114T221320.123456Z
 *   flow_id  the events' flow_id, decimal
 *   client, server  the addresses; IPv6 colons become '-' (2001-db8--1), so every
 *            name is valid on any file system and needs no quoting in a shell
 *   number   the message number (0 when the command carried none)
 *   cmd      retr (POP3 RETR, POP2 RETR), top (POP3 TOP), xmit (XTND XMIT), or
 *            cmd for any other command
 *   .partial the message was cut short (complete: false in the event)
 *   .<k>     k = 2, 3, ...: the name was taken (a second run into the same DIR,
 *            a planted file or symlink); the existing entry is left untouched
 *
 * A DIR that does not exist is created (mode 0700; its parent must exist). A
 * DIR that is a symlink, or not a directory, is refused.
 *
 * The same file type also serves as an anonymous spool (extract_spool_create)
 * for --mbox without -x: an unnamed 0600 temporary file.
 */
#ifndef POPSIFT_EXTRACT_H
#define POPSIFT_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "../src/flow.h"

#define EXTRACT_BUFFER (64 * 1024) /* write buffer per open message */
#define EXTRACT_NAME_MAX 240       /* longest name built (IPv6 both ends), below NAME_MAX */
#define EXTRACT_TRIES 10000        /* collision counter limit per name */

struct extract;
struct extract_file;

/* What a file name is built from. */
struct extract_name {
	const struct flow *flow;
	struct timeval time;
	uint32_t number;
	const char *command; /* "RETR", "TOP", "XTND XMIT", ... */
};

/*
 * Opens (creating it 0700 when it does not exist) the directory. Returns NULL
 * with a one-line reason in err (no "popsift:" prefix) when it cannot be used.
 */
struct extract *extract_open(const char *dir, char *err, size_t errn);
void extract_close(struct extract *x);

/*
 * Creates the next free name for n in x. Returns NULL with errno set when no
 * file could be created (out of memory, EMFILE, ENOSPC, EXTRACT_TRIES taken...).
 */
struct extract_file *extract_file_create(struct extract *x, const struct extract_name *n);
/* An unnamed temporary file (O_TMPFILE in $TMPDIR or /tmp); NULL with errno set. */
struct extract_file *extract_spool_create(void);

/*
 * Appends p[0..n). Returns false on a write error (errno set); after the first
 * error further writes are dropped and return false.
 */
bool extract_file_write(struct extract_file *f, const uint8_t *p, size_t n);
/*
 * Flushes the buffer and, for a named file of a message that is not complete,
 * renames it to its .partial name (never replacing an entry; on failure it
 * keeps its first name). Returns false when a write failed at any point.
 */
bool extract_file_finish(struct extract_file *f, bool complete);

/* The file's descriptor (readable, for parsing and the mbox copy). */
int extract_file_fd(const struct extract_file *f);
/* The name relative to DIR; NULL for a spool file. Valid until extract_file_close(). */
const char *extract_file_name(const struct extract_file *f);
/* errno of the first failed write, or 0. */
int extract_file_error(const struct extract_file *f);
void extract_file_close(struct extract_file *f);

/*
 * Writes the name for n with collision counter k (1: none) and the markers into
 * out[EXTRACT_NAME_MAX + 1]. Exposed for tests; returns the length.
 */
size_t extract_format_name(const struct extract_name *n, bool partial, unsigned k, char *out);

#endif
