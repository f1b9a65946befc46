/* The run header's "gpus" field: CUDA, NVML and NCCL put together, and its one-line summary. */
#include "gpuinfo.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_gpuinfo_pci_normalize(const char *in, char *out, size_t len)
{
    if (!len)
        return;
    const char *colon = strchr(in, ':');
    /* a domain before the first ':' (8 hex digits from CUDA and NVML) becomes 4, as hwloc writes */
    if (colon && colon > in && strspn(in, "0123456789abcdefABCDEF") == (size_t)(colon - in))
        snprintf(out, len, "%04lx%s", strtoul(in, NULL, 16), colon);
    else
        snprintf(out, len, "%s", in);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

static int available(json_t *part)
{
    return json_is_true(json_object_get(part, "available"));
}

static json_t *find_by_pci(json_t *list, const char *pci)
{
    size_t i;
    json_t *g;
    json_array_foreach(list, i, g) {
        const char *p = json_string_value(json_object_get(g, "pci_bus_id"));
        if (p && pci && strcmp(p, pci) == 0)
            return g;
    }
    return NULL;
}

/* Each NVML GPU gets "cuda_index": the CUDA device with its bus id here, or null. */
static void mark_cuda_visible(json_t *nvml, json_t *cuda)
{
    if (!available(nvml) || !available(cuda))
        return;
    json_t *devices = json_object_get(cuda, "devices"), *g;
    size_t i;
    json_array_foreach(json_object_get(nvml, "gpus"), i, g) {
        json_t *d = find_by_pci(devices, json_string_value(json_object_get(g, "pci_bus_id")));
        json_object_set(g, "cuda_index", d ? json_object_get(d, "index") : json_null());
    }
}

json_t *sb_gpuinfo_json(void)
{
    json_t *cuda = sb_gpuinfo_cuda_json(), *nvml = sb_gpuinfo_nvml_json();
    char nccl[128];
    int have_nccl = sb_gpuinfo_nccl_version(nccl, sizeof nccl) == 0;
    mark_cuda_visible(nvml, cuda);
    json_t *o = json_object();
    json_object_set_new(o, "cuda", cuda ? cuda : json_null());
    json_object_set_new(o, "nvml", nvml ? nvml : json_null());
    json_object_set_new(o, "nccl_version", have_nccl ? json_string(nccl) : json_null());
    if (!have_nccl)
        json_object_set_new(o, "nccl_why", json_string(nccl));
    return o;
}

/* ---- the summary line */

struct line {
    char *buf;
    size_t len, used;
};

static void put(struct line *l, const char *fmt, ...)
{
    if (l->used + 1 >= l->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->used, l->len - l->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->used = l->used + (size_t)n < l->len ? l->used + (size_t)n : l->len - 1;
}

static const char *text(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *why_of(json_t *part)
{
    const char *w = text(part, "why");
    return w ? w : available(part) ? "0 GPUs" : "not read";
}

static void put_nvlink(struct line *l, json_t *nvml_gpu)
{
    json_t *nv = json_object_get(nvml_gpu, "nvlink");
    if (!nv)
        return;
    json_int_t probed = json_integer_value(json_object_get(nv, "links_total_probed"));
    if (probed > 0)
        put(l, ", %lld/%lld NVLink up", (long long)json_integer_value(json_object_get(nv, "links_active")),
            (long long)probed);
    else
        put(l, ", no NVLink");
}

/* gpu: a CUDA device or an NVML GPU; the NVLink part from the NVML GPU with its bus id. */
static void put_gpu(struct line *l, json_t *gpu, json_t *nvml_gpus, int first)
{
    const char *name = text(gpu, "name"), *pci = text(gpu, "pci_bus_id");
    json_t *mem = json_object_get(gpu, "memory_total_bytes");
    put(l, "%sGPU%lld", first ? "" : "; ", (long long)json_integer_value(json_object_get(gpu, "index")));
    if (name)
        put(l, " %s", name);
    if (pci)
        put(l, " %s", pci);
    if (json_is_integer(mem))
        put(l, " %.1f GiB", (double)json_integer_value(mem) / (1024.0 * 1024.0 * 1024.0));
    if (text(gpu, "error"))
        put(l, " (%s)", text(gpu, "error"));
    put_nvlink(l, find_by_pci(nvml_gpus, pci));
}

static void put_versions(struct line *l, json_t *info)
{
    json_t *cuda = json_object_get(info, "cuda"), *nvml = json_object_get(info, "nvml");
    const char *driver = available(nvml) ? text(nvml, "driver_version") : NULL;
    const char *rt = text(cuda, "runtime_version"), *cdrv = text(cuda, "driver_version");
    const char *nccl = text(info, "nccl_version"), *nccl_why = text(info, "nccl_why");
    const char *sep = "; ";
    if (driver) {
        put(l, "%sdriver %s", sep, driver);
        sep = ", ";
    }
    if (rt) {
        put(l, "%sCUDA runtime %s", sep, rt);
        if (cdrv && strcmp(rt, cdrv) != 0)
            put(l, " (driver supports %s)", cdrv);
        sep = ", ";
    }
    if (nccl)
        put(l, "%sNCCL %s", sep, nccl);
    else
        put(l, "%sNCCL: %s", sep, nccl_why ? nccl_why : "not read");
}

void sb_gpuinfo_summary(json_t *info, char *buf, size_t len)
{
    if (!len)
        return;
    struct line l = {buf, len, 0};
    buf[0] = '\0';
    json_t *cuda = json_object_get(info, "cuda"), *nvml = json_object_get(info, "nvml");
    json_t *nvml_gpus = available(nvml) ? json_object_get(nvml, "gpus") : NULL;
    json_t *list = available(cuda) ? json_object_get(cuda, "devices") : nvml_gpus, *g;
    size_t i;
    if (json_array_size(list) == 0)
        put(&l, "no GPU: CUDA: %s; NVML: %s", why_of(cuda), why_of(nvml));
    json_array_foreach(list, i, g)
        put_gpu(&l, g, nvml_gpus, i == 0);
    put_versions(&l, info);
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
}

double sb_gpuinfo_pcie_lane_gbps(int gen)
{
    /* GT/s per lane x the line code's payload share / 8 bits */
    static const double gts[] = {0, 2.5, 5.0, 8.0, 16.0, 32.0, 64.0};
    if (gen < 1 || gen > 6)
        return 0;
    double code = gen <= 2 ? 8.0 / 10.0 : gen <= 5 ? 128.0 / 130.0 : 242.0 / 256.0;
    return gts[gen] * code / 8.0;
}

double sb_gpuinfo_pcie_peak(json_t *info, int cuda_index)
{
    json_t *gpus = json_object_get(json_object_get(info, "nvml"), "gpus"), *g;
    size_t i;
    json_array_foreach(gpus, i, g) {
        json_t *idx = json_object_get(g, "cuda_index");
        if (json_is_integer(idx) && json_integer_value(idx) == cuda_index)
            return json_number_value(json_object_get(json_object_get(g, "pcie"), "peak_gbps"));
    }
    return 0;
}
