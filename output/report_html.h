/*
 * report_html.h - the HTML case report (`popsift report --html FILE`, and a
 * capture run's -T html): one self-contained page, a writer (writer.h) that
 * gathers logins, alerts, messages, STLS and sessions and writes the page when
 * the input ends. What it shows is in docs/events.md ("The HTML report").
 */
#ifndef POPSIFT_REPORT_HTML_H
#define POPSIFT_REPORT_HTML_H

#include <stdbool.h>
#include <stdio.h>

#include "writer.h"

/* Rows listed one by one in a table (or drawn in the timeline) before the rest is aggregated. */
#define HTML_ROWS_MAX 500
#define HTML_TIMELINE_ROWS 200       /* (server, user) rows drawn */
#define HTML_TIMELINE_SESSIONS 4000  /* sessions drawn one by one; more: drawn as density */

struct html_config {
	const char *path;         /* the page's file; NULL: written to fp (-T html) */
	FILE *fp;                 /* with path NULL; stays the caller's */
	const char *page_path;    /* where the page ends up, for links (NULL: the working directory) */
	bool show_passwords;      /* show the cleartext passwords the records carry */
	const char *extract_dir;  /* where -x wrote the messages: linked from the page; NULL: none */
};

/*
 * NULL when out of memory or the file cannot be created (said on stderr).
 * The file is created when the writer opens, so a bad path fails first.
 */
struct writer *html_writer_open(const struct html_config *c);

#endif
