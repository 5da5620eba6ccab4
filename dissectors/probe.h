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

#endif
