/*
 * probe.h - the content probes of the line protocols (--detect); see
 * dissector.h for the contract.
 */
#ifndef POPSIFT_PROBE_H
#define POPSIFT_PROBE_H

#include "dissector.h"

enum probe_verdict pop3_probe(struct bytes to_server, struct bytes to_client);
enum probe_verdict pop2_probe(struct bytes to_server, struct bytes to_client);

#endif
