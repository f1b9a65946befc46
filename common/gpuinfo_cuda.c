/* The CUDA runtime's view of the GPUs (CUDA builds only; common/gpuinfo_nocuda.c otherwise):
 * runtime and driver versions and the devices visible to this process.  Nothing here creates
 * a context. */
#include "gpuinfo.h"

#include <cuda_runtime.h>
#include <stdio.h>

/* CUDA's version numbers: 1000 * major + 10 * minor. */
static json_t *version_json(cudaError_t e, int v)
{
    char buf[32];
    if (e != cudaSuccess || v <= 0)
        return json_null(); /* cudaDriverGetVersion gives 0 where no driver is installed */
    snprintf(buf, sizeof buf, "%d.%d", v / 1000, (v % 1000) / 10);
    return json_string(buf);
}

static json_t *device_json(int index)
{
    json_t *o = json_pack("{s:i}", "index", index);
    struct cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, index);
    if (e != cudaSuccess) {
        json_object_set_new(o, "error", json_string(cudaGetErrorString(e)));
        return o;
    }
    char id[32], pci[32], cc[16];
    if (cudaDeviceGetPCIBusId(id, (int)sizeof id, index) == cudaSuccess) {
        sb_gpuinfo_pci_normalize(id, pci, sizeof pci);
        json_object_set_new(o, "pci_bus_id", json_string(pci));
    } else {
        json_object_set_new(o, "pci_bus_id", json_null());
    }
    prop.name[sizeof prop.name - 1] = '\0';
    snprintf(cc, sizeof cc, "%d.%d", prop.major, prop.minor);
    json_object_set_new(o, "name", json_string(prop.name));
    json_object_set_new(o, "memory_total_bytes", json_integer((json_int_t)prop.totalGlobalMem));
    json_object_set_new(o, "compute_capability", json_string(cc));
    return o;
}

json_t *sb_gpuinfo_cuda_json(void)
{
    int runtime = 0, driver = 0, count = 0;
    cudaError_t re = cudaRuntimeGetVersion(&runtime), de = cudaDriverGetVersion(&driver);
    cudaError_t e = cudaGetDeviceCount(&count);
    json_t *o = json_pack("{s:b}", "available", e == cudaSuccess && count > 0);
    json_object_set_new(o, "runtime_version", version_json(re, runtime));
    json_object_set_new(o, "driver_version", version_json(de, driver));
    if (e != cudaSuccess || count <= 0) {
        char why[256];
        snprintf(why, sizeof why, "no CUDA device visible (cudaGetDeviceCount: %s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        json_object_set_new(o, "why", json_string(why));
        return o;
    }
    json_t *devices = json_array();
    for (int i = 0; i < count; i++)
        json_array_append_new(devices, device_json(i));
    json_object_set_new(o, "devices", devices);
    return o;
}
