/*
 * outpaths.h - evidence is never overwritten. Before a packet is read, every
 * path the run will write (-o, --hashes, --mbox, --mailbox-report, -x DIR,
 * and standard output when events go there) is checked against every capture
 * read and against the others, and proven writable, so that a mistake on the
 * command line costs nothing: neither a capture nor the previous run's files.
 *
 * The command line's helper (layer cli): it knows paths and files, not what
 * is written into them.
 */
#ifndef POPSIFT_OUTPATHS_H
#define POPSIFT_OUTPATHS_H

#include <stdbool.h>
#include <stddef.h>

enum outpath_kind {
	OUTPATH_EVENTS,  /* -o: created, truncated or appended to by the caller */
	OUTPATH_PRIVATE, /* --hashes, --mbox: created mode 0600, never through a symlink */
	OUTPATH_REPORT,  /* --mailbox-report: written at the end */
	OUTPATH_DIR      /* -x, --hashes DIR/: a directory files are created in (made, mode 0700, if missing) */
};

struct outpath {
	const char *option; /* "-o", "--hashes", ... : how messages name it */
	const char *path;   /* NULL: not asked for; "-" with OUTPATH_EVENTS: standard output */
	enum outpath_kind kind;
};

/*
 * False, after one line on stderr, when an output is one of the inputs ("-"
 * is standard input) or two outputs are one: the same file by any name, hard
 * link or symbolic link, or for a name not created yet, the same directory
 * entry. Regular files, directories and names not created yet count; pipes,
 * sockets and devices (/dev/null, a terminal) may be shared.
 */
bool outpaths_distinct(const char *const *inputs, size_t n_inputs, const struct outpath *outs,
		       size_t n_outs);

/*
 * Proves every output can be written, without truncating anything: a file is
 * created if missing (a missing directory or a denied permission fails here,
 * not after the capture was read), a -x directory is made if missing and a
 * temporary file created in it and removed. False after one line on stderr.
 */
bool outpaths_writable(const struct outpath *outs, size_t n_outs);

#endif
