/*
 * probe.h - the content probes of the POP dissectors (--detect); see
 * dissector.h for the contract and probe.c for what each looks for.
 */
#ifndef POPSIFT_PROBE_H
#define POPSIFT_PROBE_H

#include "dissector.h"

enum probe_verdict pop3_probe(struct bytes to_server, struct bytes to_client);
enum probe_verdict pop2_probe(struct bytes to_server, struct bytes to_client);
enum probe_verdict kpop_probe(struct bytes to_server, struct bytes to_client);

/* Bytes of a segment's start probe_pickup() looks at: a line longer is no POP status line. */
#define PROBE_PICKUP_MAX 512

/*
 * A connection first seen mid-stream (no handshake, --detect): whether the
 * segment starting with `payload` begins with a line that can only be POP,
 * and so which dissector follows it and which side sent it. Only lines
 * that no other common protocol sends qualify (probe.c lists them); a bare
 * "+OK" (Redis) or "USER x" (FTP) does not.
 */
bool probe_pickup(struct bytes payload, const struct dissector **which, enum dir *sender);

#endif
