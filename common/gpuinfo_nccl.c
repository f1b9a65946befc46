/* The NCCL version of the library loaded at run time (NCCL builds only; common/gpuinfo_nonccl.c
 * otherwise).  ncclGetVersion needs no GPU. */
#include "gpuinfo.h"

#include <nccl.h>
#include <stdio.h>

int sb_gpuinfo_nccl_version(char *buf, size_t len)
{
    int v = 0;
    ncclResult_t r = ncclGetVersion(&v);
    if (r != ncclSuccess) {
        snprintf(buf, len, "ncclGetVersion failed: %s", ncclGetErrorString(r));
        return -1;
    }
    /* NCCL >= 2.9 codes its version as 10000 * major + 100 * minor + patch */
    snprintf(buf, len, "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
    return 0;
}
