/* How a result record was timed, where it differs from the default (each call timed alone
 * after a barrier, the same buffers every call).  Points timed differently are different curves:
 * sb_model never fits, validates or predicts them together, and sb_compare never compares them. */
#ifndef SBM_METHOD_H
#define SBM_METHOD_H

#include <jansson.h>
#include <stddef.h>

/* "batch" (time_us is a pipelined batch's: --timing batch), "window" (--sync window),
 * "off-cache" (--off-cache), joined by "+" ("batch+off-cache"); "" for the default. */
void sbm_record_method(json_t *rec, char *buf, size_t len);

#endif
