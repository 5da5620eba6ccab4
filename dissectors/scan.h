/*
 * scan.h - vectorised byte searches over streamed input.
 *
 * Owns the searches that run over every byte of a message body, where a plain
 * per-line memchr() costs more than the parsing around it. Each function is a
 * pure function of its input, reads only buf[0..len), and has a scalar
 * reference form on targets without SSE2.
 */
#ifndef POPSIFT_SCAN_H
#define POPSIFT_SCAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the offset of the first '\n' in buf[0..len) that is followed by '.'
 * or is the last byte of buf (whether a '.' follows is then unknown), or len if
 * there is none. This finds where a dot-stuffed body may end or need unstuffing.
 */
size_t scan_lf_dot(const uint8_t *buf, size_t len);

#endif
