/*
 * engine_rig.c - see engine_rig.h.
 */
#include "engine_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/reasm.h"

void engine_rig_open(struct engine_rig *e, unsigned max_streams, unsigned idle_timeout,
		     bool detect)
{
	memset(e, 0, sizeof(*e));
	e->fp = tmpfile();
	assert_non_null(e->fp);
	struct output_config oc = { .fp = e->fp };
	e->out = output_open(&oc);
	assert_non_null(e->out);
	session_table_init(&e->t, e->out);
	e->ports[110 >> 3] |= 1u << (110 & 7);
	struct reasm_config rc = { .port_map = e->ports, .max_streams = max_streams,
				   .rebase_at = REASM_REBASE_AT, .idle_timeout = idle_timeout,
				   .detect = detect, .sessions = &e->t };
	char err[256] = "";
	if (!reasm_init(&rc, err, sizeof(err)))
		fail_msg("reasm_init: %s", err);
}

void engine_rig_close(struct engine_rig *e)
{
	reasm_finish();
	assert_true(output_close(e->out));
	fclose(e->fp);
}
