/*
 * trace.h - state-change tracing for the dissectors, as curl's pop3_state()
 * does it. Every state variable has one setter, made by STATE_SETTER, and the
 * setter says "pop3 phase AUTHORIZATION -> TRANSACTION" on standard error
 * when popsift is built with -DPOPSIFT_TRACE (make CFLAGS=-DPOPSIFT_TRACE).
 * In a normal build the tracing compiles to nothing: dissectors do no I/O.
 */
#ifndef POPSIFT_TRACE_H
#define POPSIFT_TRACE_H

#ifdef POPSIFT_TRACE
#include <stdio.h>
/* Prints "label FROM -> TO"; silent when the value does not change. */
#define TRACE_STATE(label, from, to)                                           \
	do {                                                                   \
		const char *from_ = (from), *to_ = (to);                       \
		if (from_ != to_)                                              \
			fprintf(stderr, "%s %s -> %s\n", (label), from_, to_); \
	} while (0)
#else
/* Never executed: the name tables count as used, and no code is generated. */
#define TRACE_STATE(label, from, to) ((void)(0 && (from) && (to)))
#endif

/*
 * Defines `static void fn(obj_type *obj, value_type to)`, the one place that
 * changes obj->field: it stores `to` and traces the change with the value
 * names in names[] (one distinct string per value).
 */
#define STATE_SETTER(fn, obj_type, field, value_type, label, names) \
	static void fn(obj_type *obj, value_type to)                 \
	{                                                            \
		TRACE_STATE(label, (names)[obj->field], (names)[to]); \
		obj->field = to;                                     \
	}

/*
 * A state enum and its name table made from one list, so the two cannot drift:
 *   #define POP3_PHASES(X) X(POP3_PH_GREETING, "GREETING") X(POP3_PH_UPDATE, "UPDATE")
 *   STATE_ENUM(pop3_phase, POP3_PHASES, POP3_PH_COUNT);
 * declares enum pop3_phase { POP3_PH_GREETING, POP3_PH_UPDATE, POP3_PH_COUNT } and
 * pop3_phase_names[], the names STATE_SETTER traces with.
 */
#define STATE_ENUM_ID(id, name) id,
#define STATE_ENUM_NAME(id, name) [id] = name,
#define STATE_ENUM(tag, LIST, count)                 \
	enum tag { LIST(STATE_ENUM_ID) count };      \
	static const char *const tag##_names[] = { LIST(STATE_ENUM_NAME) }

#endif
