/*
 * engine_rig.h - the capture engine set up for a unit test: events to a
 * temporary file, a session table, port 110 followed, reasm_init() with the
 * test's limits. Shared by test_reasm.c and test_capture.c.
 */
#ifndef POPSIFT_TEST_ENGINE_RIG_H
#define POPSIFT_TEST_ENGINE_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../output/output.h"
#include "../../src/session.h"

struct engine_rig {
	FILE *fp; /* the events, one JSON object a line */
	struct output *out;
	struct session_table t;
	uint8_t ports[65536 / 8];
};

/* Fails the test when the engine cannot start. */
void engine_rig_open(struct engine_rig *e, unsigned max_streams, unsigned idle_timeout,
		     bool detect);
/* Ends the engine (every open session ends) and closes the output. */
void engine_rig_close(struct engine_rig *e);

#endif
