#include "sysinfo.h"

#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

void sb_host_name(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "unknown");
    buf[len - 1] = '\0';
}

void sb_cpu_model(char *buf, size_t len)
{
    hwloc_topology_t topo;
    snprintf(buf, len, "unknown");
    if (hwloc_topology_init(&topo) != 0)
        return;
    if (hwloc_topology_load(topo) == 0) {
        hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
        const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
        if (model)
            snprintf(buf, len, "%s", model);
    }
    hwloc_topology_destroy(topo);
}

void sb_hwloc_version(char *buf, size_t len)
{
    /* the library's release (HWLOC_VERSION, compile time) and the API level it runs with */
    unsigned v = hwloc_get_api_version();
    snprintf(buf, len, "%s (API %u.%u)", HWLOC_VERSION, v >> 16, (v >> 8) & 0xff);
}

/* MemAvailable (free + reclaimable cache) is what an allocation can really get; the sysinfo()
 * free figure ignores the page cache and would cap sizes for no reason on a busy node. */
uint64_t sb_available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
                break;
        fclose(f);
    }
    if (kb)
        return (uint64_t)kb * 1024;
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        return (uint64_t)si.freeram * si.mem_unit;
    return 0;
}

void sb_utc_now(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
