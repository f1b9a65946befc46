/* A build without NCCL (common/gpuinfo_nccl.c otherwise): says so. */
#include "gpuinfo.h"

#include <stdio.h>

int sb_gpuinfo_nccl_version(char *buf, size_t len)
{
    snprintf(buf, len, "not built with NCCL");
    return -1;
}
