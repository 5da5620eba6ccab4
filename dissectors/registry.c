/*
 * registry.c - the one list of dissectors: which protocol follows which
 * server port, and in what order --detect asks their probes (tcpdump's
 * print-tcp.c role). Owns nothing but that table.
 */
#include "dissector.h"

#include "bstr.h"

const struct dissector *const dissectors[] = {
	&pop3_dissector,
	&kpop_dissector,
	&pop2_dissector,
};
const size_t n_dissectors = ARRAY_LEN(dissectors);

const struct dissector *dissector_for_port(uint16_t port)
{
	for (size_t i = 0; i < n_dissectors; i++)
		for (const uint16_t *p = dissectors[i]->ports; p && *p; p++)
			if (*p == port)
				return dissectors[i];
	return &pop3_dissector; /* a port the user asked for: POP3 is the default */
}
