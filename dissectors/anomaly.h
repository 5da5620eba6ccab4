/*
 * anomaly.h - stable anomaly ids (generated from anomalies.def).
 * Owns the mapping from enum to the string ids written in the output.
 */
#ifndef POPSIFT_ANOMALY_H
#define POPSIFT_ANOMALY_H

#define ANOMALY_SAMPLE_MAX 64 /* evidence bytes kept per anomaly (Redis-style sample) */

enum anomaly {
#define ANOMALY(e, id, why) e,
#include "anomalies.def"
#undef ANOMALY
	ANOM_COUNT
};

const char *anomaly_id(enum anomaly a);

#endif
