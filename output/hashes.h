/*
 * hashes.h - the --hashes output: the offline-crackable material of each
 * challenge-response login, where a cracker reads it as it is; a writer
 * (writer.h) of the logins' hash lines.
 *
 * --hashes DIR (an existing directory, or a path ending in '/'): one file per
 * cracker format, each line "user:hash" (hashcat --username, John's own
 * user:hash form), and the sidecar hashes.jsonl saying for each line whose it
 * is (file and line number, user, server, client, time, flow id).
 * --hashes FILE: the sidecar's records alone (JSON lines, the hash in each),
 * since one file must never mix cracker formats. docs/events.md, "--hashes".
 */
#ifndef POPSIFT_HASHES_H
#define POPSIFT_HASHES_H

#include <stdbool.h>
#include <stddef.h>

#include "writer.h"

struct hashes_out;

/*
 * Opens `path` as described above: files are created mode 0600 (they hold
 * secrets), never through a symlink; a missing DIR is created mode 0700. In a
 * DIR, the files of an earlier run are removed first, so the directory holds
 * this run's lines only. NULL with err[] saying why on failure.
 */
struct hashes_out *hashes_open(const char *path, char *err, size_t errlen);
/* Closes every file; false (err[] says why) when one could not be written in full. */
bool hashes_close(struct hashes_out *h, char *err, size_t errlen);
/* Whether --hashes PATH means a directory of per-cracker files: it ends in '/' or is one. */
bool hashes_is_dir(const char *path);
/* The writer of h; h stays the caller's and must outlive it. */
struct writer *hashes_writer_open(struct hashes_out *h);

#endif
