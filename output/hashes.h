/*
 * hashes.h - the --hashes FILE writer: one offline-crackable line per
 * challenge-response login, in the format its cracking tool reads.
 */
#ifndef POPSIFT_HASHES_H
#define POPSIFT_HASHES_H

#include <stdbool.h>
#include <stdio.h>

#include "../dissectors/event.h"

/*
 * Opens `path` for writing with mode 0600 (it holds secrets), refusing a
 * symlink. Returns NULL with errno set on failure.
 */
FILE *hashes_open(const char *path);
/* Writes a's hash line, if it has one; returns false on a write error. */
bool hashes_write(FILE *fp, const struct ev_auth *a);

#endif
