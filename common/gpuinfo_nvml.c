/* NVML through dlopen: every GPU of the node with its name, PCI bus id, memory and NVLink links.
 * nvml.h is not included (it is not installed everywhere): the few declarations used are
 * written out below as NVML documents them. */
#include "gpuinfo.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nvmlReturn_t and nvmlEnableState_t are C enums (int); nvmlDevice_t an opaque pointer. */
typedef int nvml_return;
typedef struct nvml_device_st *nvml_device;
enum { NVML_SUCCESS = 0, NVML_FEATURE_ENABLED = 1, NVML_NVLINK_MAX_LINKS = 18 };

/* nvmlPciInfo_t (the _v3 layout). */
struct nvml_pci_info {
    char bus_id_legacy[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32]; /* "00000000:18:00.0" */
};

/* nvmlMemory_t (version 1), bytes. */
struct nvml_memory {
    unsigned long long total, free, used;
};

typedef const char *(*nvml_error_string_fn)(nvml_return);
typedef nvml_return (*nvml_void_fn)(void);
typedef nvml_return (*nvml_text_fn)(char *, unsigned int);
typedef nvml_return (*nvml_count_fn)(unsigned int *);
typedef nvml_return (*nvml_by_index_fn)(unsigned int, nvml_device *);
typedef nvml_return (*nvml_name_fn)(nvml_device, char *, unsigned int);
typedef nvml_return (*nvml_pci_fn)(nvml_device, struct nvml_pci_info *);
typedef nvml_return (*nvml_memory_fn)(nvml_device, struct nvml_memory *);
typedef nvml_return (*nvml_link_state_fn)(nvml_device, unsigned int, int *);
typedef nvml_return (*nvml_uint_fn)(nvml_device, unsigned int *);

struct nvml {
    const char *library;
    void *handle;
    nvml_error_string_fn error_string; /* may be NULL */
    nvml_void_fn init, shutdown;
    nvml_text_fn driver_version;
    nvml_count_fn count;
    nvml_by_index_fn by_index;
    nvml_name_fn name;
    nvml_pci_fn pci;
    nvml_memory_fn memory;
    nvml_link_state_fn link_state; /* may be NULL: then no NVLink report */
    /* PCIe link generation and width, the most the GPU and slot allow and the present ones
     * (which drop while the GPU idles); may be NULL: then no PCIe report */
    nvml_uint_fn pcie_gen_max, pcie_width_max, pcie_gen_now, pcie_width_now;
};

static const char *nvml_library_name(void)
{
    const char *env = getenv("SB_NVML_LIBRARY");
    return env && *env ? env : "libnvidia-ml.so.1";
}

static void error_text(const struct nvml *n, nvml_return r, char *buf, size_t len)
{
    const char *s = n->error_string ? n->error_string(r) : NULL;
    if (s)
        snprintf(buf, len, "%s (NVML error %d)", s, r);
    else
        snprintf(buf, len, "NVML error %d", r);
}

static json_t *unavailable(const char *why)
{
    return json_pack("{s:b, s:s}", "available", 0, "why", why);
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Looks a symbol up; a missing required one is named in why. */
static void *symbol(struct nvml *n, const char *name, int required, char *why, size_t whylen)
{
    void *p = dlsym(n->handle, name);
    if (!p && required && !why[0])
        snprintf(why, whylen, "NVML library %s lacks %s (driver too old?)", n->library, name);
    return p;
}

/* Casting dlsym's void * to a function pointer is what POSIX specifies for dlsym. */
static int nvml_open(struct nvml *n, char *why, size_t whylen)
{
    memset(n, 0, sizeof *n);
    why[0] = '\0';
    n->library = nvml_library_name();
    n->handle = dlopen(n->library, RTLD_NOW | RTLD_LOCAL);
    if (!n->handle) {
        const char *e = dlerror();
        snprintf(why, whylen, "NVML library %s not loadable: %s", n->library, e ? e : "dlopen failed");
        return -1;
    }
    n->error_string = (nvml_error_string_fn)symbol(n, "nvmlErrorString", 0, why, whylen);
    n->init = (nvml_void_fn)symbol(n, "nvmlInit_v2", 1, why, whylen);
    n->shutdown = (nvml_void_fn)symbol(n, "nvmlShutdown", 1, why, whylen);
    n->driver_version = (nvml_text_fn)symbol(n, "nvmlSystemGetDriverVersion", 1, why, whylen);
    n->count = (nvml_count_fn)symbol(n, "nvmlDeviceGetCount_v2", 1, why, whylen);
    n->by_index = (nvml_by_index_fn)symbol(n, "nvmlDeviceGetHandleByIndex_v2", 1, why, whylen);
    n->name = (nvml_name_fn)symbol(n, "nvmlDeviceGetName", 1, why, whylen);
    n->pci = (nvml_pci_fn)symbol(n, "nvmlDeviceGetPciInfo_v3", 1, why, whylen);
    n->memory = (nvml_memory_fn)symbol(n, "nvmlDeviceGetMemoryInfo", 1, why, whylen);
    n->link_state = (nvml_link_state_fn)symbol(n, "nvmlDeviceGetNvLinkState", 0, why, whylen);
    n->pcie_gen_max = (nvml_uint_fn)symbol(n, "nvmlDeviceGetMaxPcieLinkGeneration", 0, why, whylen);
    n->pcie_width_max = (nvml_uint_fn)symbol(n, "nvmlDeviceGetMaxPcieLinkWidth", 0, why, whylen);
    n->pcie_gen_now = (nvml_uint_fn)symbol(n, "nvmlDeviceGetCurrPcieLinkGeneration", 0, why, whylen);
    n->pcie_width_now = (nvml_uint_fn)symbol(n, "nvmlDeviceGetCurrPcieLinkWidth", 0, why, whylen);
    if (why[0]) {
        dlclose(n->handle);
        return -1;
    }
    return 0;
}

/* Every link NVML_NVLINK_MAX_LINKS can number is asked; those that answer are reported. */
static json_t *nvlink_json(const struct nvml *n, nvml_device d)
{
    json_t *state = json_array();
    int active = 0;
    nvml_return last = NVML_SUCCESS;
    for (unsigned int link = 0; n->link_state && link < NVML_NVLINK_MAX_LINKS; link++) {
        int on = 0;
        nvml_return r = n->link_state(d, link, &on);
        if (r != NVML_SUCCESS) {
            last = r;
            continue;
        }
        active += on == NVML_FEATURE_ENABLED;
        json_array_append_new(state, json_string(on == NVML_FEATURE_ENABLED ? "up" : "down"));
    }
    json_t *o = json_pack("{s:i, s:I, s:o}", "links_active", active, "links_total_probed",
                          (json_int_t)json_array_size(state), "state", state);
    if (json_array_size(state) == 0) {
        char why[256], err[160];
        error_text(n, last, err, sizeof err);
        snprintf(why, sizeof why, "no NVLink reported: %s", n->link_state ? err : "no nvmlDeviceGetNvLinkState");
        json_object_set_new(o, "why", json_string(why));
    }
    return o;
}

static json_t *uint_or_null(nvml_uint_fn f, nvml_device d)
{
    unsigned int v = 0;
    return f && f(d, &v) == NVML_SUCCESS ? json_integer((json_int_t)v) : json_null();
}

/* The PCIe link, and its nominal one-way peak at the most generation and width allowed. */
static json_t *pcie_json(const struct nvml *n, nvml_device d)
{
    json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "gen_max", uint_or_null(n->pcie_gen_max, d), "width_max",
                          uint_or_null(n->pcie_width_max, d), "gen_current", uint_or_null(n->pcie_gen_now, d),
                          "width_current", uint_or_null(n->pcie_width_now, d));
    double lane = sb_gpuinfo_pcie_lane_gbps((int)json_integer_value(json_object_get(o, "gen_max")));
    json_int_t width = json_integer_value(json_object_get(o, "width_max"));
    json_object_set_new(o, "peak_gbps", lane > 0 && width > 0 ? json_real(lane * (double)width) : json_null());
    return o;
}

static json_t *gpu_json(const struct nvml *n, unsigned int index)
{
    nvml_device d = NULL;
    nvml_return r = n->by_index(index, &d);
    json_t *o = json_pack("{s:I}", "index", (json_int_t)index);
    if (r != NVML_SUCCESS) {
        char err[160];
        error_text(n, r, err, sizeof err);
        json_object_set_new(o, "error", json_string(err));
        return o;
    }
    char name[96], pci[32];
    struct nvml_pci_info info;
    struct nvml_memory mem;
    memset(&info, 0, sizeof info);
    int have_name = n->name(d, name, sizeof name) == NVML_SUCCESS;
    int have_pci = n->pci(d, &info) == NVML_SUCCESS;
    int have_mem = n->memory(d, &mem) == NVML_SUCCESS;
    info.bus_id[sizeof info.bus_id - 1] = '\0';
    name[sizeof name - 1] = '\0';
    sb_gpuinfo_pci_normalize(info.bus_id, pci, sizeof pci);
    json_object_set_new(o, "name", string_or_null(have_name ? name : NULL));
    json_object_set_new(o, "pci_bus_id", string_or_null(have_pci ? pci : NULL));
    json_object_set_new(o, "memory_total_bytes", have_mem ? json_integer((json_int_t)mem.total) : json_null());
    json_object_set_new(o, "nvlink", nvlink_json(n, d));
    json_object_set_new(o, "pcie", pcie_json(n, d));
    return o;
}

static json_t *nvml_collect(const struct nvml *n)
{
    char version[96], err[160], why[256];
    unsigned int count = 0;
    nvml_return r = n->count(&count);
    if (r != NVML_SUCCESS) {
        error_text(n, r, err, sizeof err);
        snprintf(why, sizeof why, "nvmlDeviceGetCount_v2 failed: %s", err);
        return unavailable(why);
    }
    int have_version = n->driver_version(version, sizeof version) == NVML_SUCCESS;
    version[sizeof version - 1] = '\0';
    json_t *gpus = json_array();
    for (unsigned int i = 0; i < count; i++)
        json_array_append_new(gpus, gpu_json(n, i));
    return json_pack("{s:b, s:s, s:o, s:o}", "available", 1, "library", n->library, "driver_version",
                     string_or_null(have_version ? version : NULL), "gpus", gpus);
}

/* The library stays loaded after a successful nvmlInit (nvmlShutdown is called): unloading a
 * driver library that may have started threads buys nothing and risks a late crash. */
json_t *sb_gpuinfo_nvml_json(void)
{
    struct nvml n;
    char why[512], err[160];
    if (nvml_open(&n, why, sizeof why) != 0)
        return unavailable(why);
    nvml_return r = n.init();
    if (r != NVML_SUCCESS) {
        error_text(&n, r, err, sizeof err);
        snprintf(why, sizeof why, "nvmlInit_v2 failed (%s): %s", n.library, err);
        dlclose(n.handle);
        return unavailable(why);
    }
    json_t *o = nvml_collect(&n);
    n.shutdown();
    return o;
}
