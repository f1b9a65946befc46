#include "sysinfo.h"

#include <hwloc.h>
#include <stdlib.h>
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

extern char **environ;

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* A tuning variable, not one the launcher sets for its own use (Open MPI's orte, ess and pmix
 * plumbing: job ids, daemon addresses, session directories). */
static int tuning_name(const char *var)
{
    static const char *const prefixes[] = {"NCCL_", "UCX_", "OMPI_MCA_", "FI_", "NVSHMEM_", "MPICH_", "I_MPI_",
                                           "SB_", "CUDA_VISIBLE_DEVICES=", "CUDA_DEVICE_ORDER=",
                                           "CUDA_DEVICE_MAX_CONNECTIONS=", "CUDA_LAUNCH_BLOCKING=",
                                           "CUDA_MODULE_LOADING=", "CUDA_MPS_"};
    static const char *const launcher[] = {"OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir",
                                           "OMPI_MCA_shmem_RUNTIME_QUERY_hint", "OMPI_MCA_prte_"};
    for (size_t i = 0; i < sizeof launcher / sizeof *launcher; i++)
        if (starts(var, launcher[i]))
            return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (starts(var, prefixes[i]))
            return 1;
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *sb_tuning_environment(void)
{
    size_t n = 0, cap = 0;
    const char **vars = NULL;
    for (char **e = environ; e && *e; e++) {
        if (!tuning_name(*e) || !strchr(*e, '='))
            continue;
        if (n == cap) {
            const char **more = realloc(vars, (cap = cap ? 2 * cap : 32) * sizeof *vars);
            if (!more)
                break;
            vars = more;
        }
        vars[n++] = *e;
    }
    qsort(vars, n, sizeof *vars, by_string); /* "NAME=value" sorts by name (and objects keep order) */
    json_t *env = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(vars[i], '=');
        char name[128];
        if (eq - vars[i] >= (long)sizeof name)
            continue;
        memcpy(name, vars[i], (size_t)(eq - vars[i]));
        name[eq - vars[i]] = '\0';
        json_t *value = json_string(eq + 1); /* NULL when not UTF-8: left out */
        if (value)
            json_object_set_new(env, name, value);
    }
    free(vars);
    return env;
}

struct job_field {
    const char *key, *var;
};

/* {"scheduler": name, key: $var, ...} with the variables that are set. */
static json_t *job_from(const char *scheduler, const struct job_field *fields, size_t n)
{
    json_t *job = json_pack("{s:s}", "scheduler", scheduler);
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(fields[i].var);
        json_t *value = v ? json_string(v) : NULL; /* NULL too when not UTF-8 */
        if (value)
            json_object_set_new(job, fields[i].key, value);
    }
    return job;
}

json_t *sb_batch_job(void)
{
    static const struct job_field slurm[] = {
        {"job_id", "SLURM_JOB_ID"},       {"job_name", "SLURM_JOB_NAME"},  {"step_id", "SLURM_STEP_ID"},
        {"partition", "SLURM_JOB_PARTITION"}, {"cluster", "SLURM_CLUSTER_NAME"}, {"nodelist", "SLURM_JOB_NODELIST"},
        {"tasks", "SLURM_NTASKS"}};
    static const struct job_field pbs[] = {{"job_id", "PBS_JOBID"}, {"job_name", "PBS_JOBNAME"}, {"queue", "PBS_QUEUE"}};
    static const struct job_field lsf[] = {{"job_id", "LSB_JOBID"}, {"job_name", "LSB_JOBNAME"}, {"queue", "LSB_QUEUE"}};
    static const struct job_field flux[] = {{"job_id", "FLUX_JOB_ID"}};
    if (getenv("SLURM_JOB_ID"))
        return job_from("slurm", slurm, sizeof slurm / sizeof *slurm);
    if (getenv("PBS_JOBID"))
        return job_from("pbs", pbs, sizeof pbs / sizeof *pbs);
    if (getenv("LSB_JOBID"))
        return job_from("lsf", lsf, sizeof lsf / sizeof *lsf);
    if (getenv("FLUX_JOB_ID"))
        return job_from("flux", flux, sizeof flux / sizeof *flux);
    return json_null();
}

static const char *field_or(json_t *o, const char *key, const char *otherwise)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : otherwise;
}

void sb_batch_job_summary(json_t *job, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!json_is_object(job))
        return;
    int used = snprintf(buf, len, "%s job %s", field_or(job, "scheduler", "?"), field_or(job, "job_id", "?"));
    static const char *const parts[][2] = {
        {"job_name", " (%s)"}, {"step_id", ", step %s"}, {"partition", ", partition %s"},
        {"queue", ", queue %s"}, {"nodelist", ", nodes %s"}};
    for (size_t i = 0; i < sizeof parts / sizeof *parts && used > 0 && (size_t)used < len; i++) {
        const char *v = field_or(job, parts[i][0], NULL);
        if (v)
            used += snprintf(buf + used, len - (size_t)used, parts[i][1], v);
    }
}

void sb_environment_summary(json_t *env, char *buf, size_t len)
{
    size_t used = 0;
    const char *k;
    json_t *v;
    buf[0] = '\0';
    json_object_foreach(env, k, v)
    {
        if (used + 1 >= len)
            break;
        int w = snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", k, json_string_value(v));
        used += w > 0 ? (size_t)w : 0;
    }
}
