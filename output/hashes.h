/*
 * hashes.h - the --hashes FILE: one offline-crackable line per
 * challenge-response login, in the format its cracking tool reads; a writer
 * (writer.h) of the logins' hash lines.
 */
#ifndef POPSIFT_HASHES_H
#define POPSIFT_HASHES_H

#include <stdio.h>

#include "writer.h"

/*
 * Opens `path` for writing with mode 0600 (it holds secrets), refusing a
 * symlink. Returns NULL with errno set on failure.
 */
FILE *hashes_open(const char *path);
/* The writer of a's hash line for each login that has one; fp stays the caller's. */
struct writer *hashes_writer_open(FILE *fp);

#endif
