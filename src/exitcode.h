/*
 * exitcode.h - popsift's exit statuses, one list for the command line
 * (main.c) and the engine (which ends the run itself when libnids runs out
 * of memory). popsift(1) and --help document them.
 */
#ifndef POPSIFT_EXITCODE_H
#define POPSIFT_EXITCODE_H

#define EXIT_USAGE 1    /* a bad option or argument */
#define EXIT_INPUT 2    /* a capture or an output file could not be read or written */
#define EXIT_INTERNAL 3 /* out of memory, or a libnids popsift was not built for */

#endif
