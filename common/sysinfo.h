/* Facts about the machine and the run for the header record. */
#ifndef SB_SYSINFO_H
#define SB_SYSINFO_H

#include <stddef.h>
#include <stdint.h>

void sb_host_name(char *buf, size_t len);
/* CPU model of the first package as hwloc reports it ("unknown" if none). */
void sb_cpu_model(char *buf, size_t len);
void sb_hwloc_version(char *buf, size_t len);
/* Memory the kernel says can be allocated without swapping, in bytes (0 if unknown). */
uint64_t sb_available_memory(void);
/* Current UTC time as ISO 8601. */
void sb_utc_now(char *buf, size_t len);

#endif
