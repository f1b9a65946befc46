/* A stand-in for libnvidia-ml.so.1, for tests/unit/test_gpuinfo only (loaded through
 * SB_NVML_LIBRARY): two made-up GPUs, so that the NVML code path is exercised on machines
 * without a GPU.  GPU 0 has 18 NVLink links, link 5 down; GPU 1 has no NVLink.  With
 * SB_FAKE_NVML_INIT_FAIL set, nvmlInit_v2 fails as it does where the driver is not loaded.
 * The ABI is NVML's (see common/gpuinfo_nvml.c); every value here is invented. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_pci {
    char bus_id_legacy[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
};
struct fake_memory {
    unsigned long long total, free, used;
};
typedef struct fake_device *fake_handle;
static struct fake_device {
    const char *name, *bus_id;
    unsigned long long memory;
    unsigned int links;
} devices[2] = {{"Fake GPU A", "00000000:1B:00.0", 85899345920ULL, 18},
                {"Fake GPU B", "00000001:AC:00.0", 1ULL << 34, 0}};

enum { SUCCESS = 0, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, DRIVER_NOT_LOADED = 9 };

const char *nvmlErrorString(int r);
int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlSystemGetDriverVersion(char *buf, unsigned int len);
int nvmlDeviceGetCount_v2(unsigned int *n);
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, fake_handle *h);
int nvmlDeviceGetName(fake_handle h, char *buf, unsigned int len);
int nvmlDeviceGetPciInfo_v3(fake_handle h, struct fake_pci *p);
int nvmlDeviceGetMemoryInfo(fake_handle h, struct fake_memory *m);
int nvmlDeviceGetNvLinkState(fake_handle h, unsigned int link, int *on);
int nvmlDeviceGetMaxPcieLinkGeneration(fake_handle h, unsigned int *v);
int nvmlDeviceGetMaxPcieLinkWidth(fake_handle h, unsigned int *v);
int nvmlDeviceGetCurrPcieLinkGeneration(fake_handle h, unsigned int *v);

const char *nvmlErrorString(int r)
{
    return r == NOT_SUPPORTED ? "Not Supported" : r == DRIVER_NOT_LOADED ? "Driver Not Loaded" : "Fake Error";
}
int nvmlInit_v2(void) { return getenv("SB_FAKE_NVML_INIT_FAIL") ? DRIVER_NOT_LOADED : SUCCESS; }
int nvmlShutdown(void) { return SUCCESS; }
int nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
    snprintf(buf, len, "999.99-fake");
    return SUCCESS;
}
int nvmlDeviceGetCount_v2(unsigned int *n)
{
    *n = 2;
    return SUCCESS;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, fake_handle *h)
{
    if (i >= 2)
        return INVALID_ARGUMENT;
    *h = &devices[i];
    return SUCCESS;
}
int nvmlDeviceGetName(fake_handle h, char *buf, unsigned int len)
{
    snprintf(buf, len, "%s", h->name);
    return SUCCESS;
}
int nvmlDeviceGetPciInfo_v3(fake_handle h, struct fake_pci *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->bus_id, sizeof p->bus_id, "%s", h->bus_id);
    return SUCCESS;
}
int nvmlDeviceGetMemoryInfo(fake_handle h, struct fake_memory *m)
{
    m->total = h->memory;
    m->free = m->used = 0;
    return SUCCESS;
}
int nvmlDeviceGetNvLinkState(fake_handle h, unsigned int link, int *on)
{
    if (h->links == 0)
        return NOT_SUPPORTED;
    if (link >= h->links)
        return INVALID_ARGUMENT;
    *on = link != 5;
    return SUCCESS;
}
/* PCIe: both fake GPUs gen 5 x16 at most, idling at gen 1; no current width (NOT_SUPPORTED). */
int nvmlDeviceGetMaxPcieLinkGeneration(fake_handle h, unsigned int *v)
{
    (void)h;
    *v = 5;
    return SUCCESS;
}
int nvmlDeviceGetMaxPcieLinkWidth(fake_handle h, unsigned int *v)
{
    (void)h;
    *v = 16;
    return SUCCESS;
}
int nvmlDeviceGetCurrPcieLinkGeneration(fake_handle h, unsigned int *v)
{
    (void)h;
    *v = 1;
    return SUCCESS;
}
