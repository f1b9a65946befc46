/* A build without CUDA (common/gpuinfo_cuda.c otherwise): says so. */
#include "gpuinfo.h"

json_t *sb_gpuinfo_cuda_json(void)
{
    return json_pack("{s:b, s:s}", "available", 0, "why", "built without CUDA");
}
