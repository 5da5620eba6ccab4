/*
 * records.h - what output/output.c derives from the event stream and hands to a
 * writer (json.c): finished messages with their digests, alerts, the anomalies
 * of a session. Plain data; writers only format it.
 */
#ifndef POPSIFT_RECORDS_H
#define POPSIFT_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "../dissectors/event.h"

#define RECORD_FOLDER_MAX 256

struct message_record {
	const char *command;
	uint32_t number;
	enum dir dir;
	uint64_t size;
	int64_t announced; /* the server's "+OK n octets", or -1 */
	char sha256[65];
	bool complete;
	const char *path; /* relative to the extraction directory; NULL if none */
	uint8_t folder[RECORD_FOLDER_MAX];
	size_t folder_n;  /* 0: no folder (POP3) */
};

struct alert_record {
	const char *signature;
	int severity;          /* 1 high .. 3 low */
	const char *description;
	struct bytes username;
};

struct anomaly_record {
	enum anomaly id;
	enum dir dir;
	uint32_t count;
	uint8_t sample[ANOMALY_SAMPLE_MAX];
	size_t sample_n;
};

#endif
