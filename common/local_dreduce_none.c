/* sb_local without the device reduction: the build has no nvcc (or no CUDA at all), so there is
 * no kernel to run.  sb_local reports the test as absent with this reason; nothing is faked. */
#include "local_bw.h"

static const char why_absent[] = "built without nvcc (configure found no CUDA compiler, so no device kernels)";

const char *sb_local_dreduce_absent(void) { return why_absent; }

int sb_local_dreduce_init(struct sb_local_buf *b, char *err, size_t errlen)
{
    (void)b;
    snprintf(err, errlen, "no device reduction: %s", why_absent);
    return -1;
}

int sb_local_dreduce_run(struct sb_local_buf *b)
{
    (void)b;
    return 1;
}

int64_t sb_local_dreduce_verify(struct sb_local_buf *b) { return (int64_t)b->count; }

void sb_local_dreduce_free(struct sb_local_buf *b) { b->gpu = NULL; }
