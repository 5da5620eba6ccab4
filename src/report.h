/*
 * report.h - `popsift report`: the reports of capture runs rebuilt from their
 * JSON events (src/report.c).
 */
#ifndef POPSIFT_REPORT_H
#define POPSIFT_REPORT_H

/* argv[0] is "report"; returns the exit status (exitcode.h). */
int report_main(int argc, char **argv);

#endif
