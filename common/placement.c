/* Binding and memory placement of a benchmark rank; see placement.h. */
#include "placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The probe: allocated, touched and located exactly like the benchmark's buffers (the MPI
 * backend allocates through sb_mem_alloc with the same policy), large enough to span many
 * pages and small enough to cost nothing. */
#define PROBE_BYTES ((size_t)8 << 20)

static json_t *probe_memory(struct sb_placement *p, char *err, size_t errlen)
{
    void *buf = sb_mem_alloc(&p->mem, PROBE_BYTES, err, errlen);
    if (!buf)
        return NULL;
    json_t *mem = sb_mem_placement_json(&p->mem, buf, PROBE_BYTES);
    char report[256];
    p->probe_node = sb_mem_placement(buf, PROBE_BYTES, report, sizeof report);
    sb_mem_free(buf, PROBE_BYTES);
    if (mem)
        json_object_set_new(mem, "bytes", json_integer((json_int_t)PROBE_BYTES));
    return mem;
}

static void describe_rank(struct sb_placement *p, const struct sb_comm *c, json_t *mem)
{
    char line[sizeof p->summary - 64];
    sb_topo_rank_summary(p->topo, &p->binding, line, sizeof line);
    const char *report = json_string_value(json_object_get(mem, "report"));
    char policy[32];
    sb_mem_policy_name(&p->mem, policy, sizeof policy);
    snprintf(p->summary, sizeof p->summary, "rank %d: %s; memory %s: %s", c->rank, line, policy,
             report ? report : "not verified");
    json_t *o = sb_topo_rank_json(p->topo, &p->binding);
    json_object_set_new(o, "rank", json_integer(c->rank));
    json_object_set_new(o, "local_rank", json_integer(c->local_rank));
    json_object_set_new(o, "node", json_integer(c->node));
    json_object_set_new(o, "summary", json_string(p->summary));
    json_object_set_new(o, "memory", mem);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s && strlen(s) >= sizeof p->record) { /* a huge machine: drop the device lists */
        free(s);
        json_object_del(o, "near_gpus");
        json_object_del(o, "near_nics");
        json_object_set_new(o, "truncated", json_true());
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    snprintf(p->record, sizeof p->record, "%s", s && strlen(s) < sizeof p->record ? s : "null");
    free(s);
    json_decref(o);
}

/* hwloc's index of the GPU with this PCI id, or -1 (hwloc did not see it: bound as without GPU). */
static int gpu_index_of(struct sb_topo *t, const char *pci)
{
    struct sb_topo_device d;
    for (int g = 0; pci && pci[0] && sb_topo_gpu(t, g, &d) == 0; g++)
        if (strcasecmp(d.pci, pci) == 0)
            return g;
    return -1;
}

int sb_placement_setup(struct sb_placement *p, const struct sb_options *o, const struct sb_comm *c,
                       const char *gpu_pci, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->probe_node = -1;
    int local_rank, local_size; /* first: it is collective, and everything below may fail */
    sb_placement_machine_ranks(c, &local_rank, &local_size);
    int mode = sb_bind_mode_parse(o->bind);
    if (mode < 0) {
        snprintf(err, errlen, "invalid --bind '%s': accepted: none, core, numa, auto", o->bind);
        return 2;
    }
    int rc = sb_mem_policy_parse(o->mem_node, &p->mem, err, errlen);
    if (rc == 0)
        rc = sb_mem_policy_check(&p->mem, err, errlen);
    if (rc == 0)
        rc = sb_topo_open(&p->topo, NULL, err, errlen);
    if (rc == 0) /* ranks that are threads of one process bind themselves, not the process */
        sb_topo_bind_threads(p->topo, c->in_process);
    /* A rank that drives no GPU (gpu index -1): auto spreads ranks over NUMA nodes. */
    if (rc == 0)
        rc = sb_topo_apply_binding(p->topo, (enum sb_bind_mode)mode, o->bind_explicit, local_rank, local_size,
                                   gpu_index_of(p->topo, gpu_pci), &p->binding, err, errlen);
    if (rc != 0)
        return rc;
    json_t *mem = probe_memory(p, err, errlen);
    if (!mem)
        return 2;
    describe_rank(p, c, mem);
    return 0;
}

enum { BOOT_ID_LEN = 64 };

void sb_placement_machine_ranks(const struct sb_comm *c, int *local_rank, int *local_size)
{
    *local_rank = c->local_rank;
    *local_size = c->local_size;
    char mine[BOOT_ID_LEN] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(mine, sizeof mine, f))
            mine[0] = '\0';
        fclose(f);
    }
    char *all = calloc((size_t)c->size, BOOT_ID_LEN);
    int ok = all && sb_comm_allgather_strings(c, mine, all, BOOT_ID_LEN) == 0;
    int before = 0, same = 0, known = ok && mine[0];
    for (int r = 0; known && r < c->size; r++) {
        if (strcmp(all + (size_t)r * BOOT_ID_LEN, mine) == 0) {
            same++;
            before += r < c->rank;
        }
    }
    if (known && same > c->local_size) { /* more ranks on this kernel than the launcher's node holds */
        *local_rank = before;
        *local_size = same;
    }
    free(all);
}

json_t *sb_placement_gather(const struct sb_placement *p, const struct sb_comm *c)
{
    char *all = c->rank == 0 ? calloc((size_t)c->size, sizeof p->record) : NULL;
    int rc = sb_comm_gather_strings(c, p->record, all, sizeof p->record);
    if (c->rank != 0 || !all || rc != 0) {
        free(all);
        return NULL;
    }
    json_t *ranks = json_array();
    for (int r = 0; r < c->size; r++) {
        json_t *one = json_loads(all + (size_t)r * sizeof p->record, 0, NULL);
        json_array_append_new(ranks, one ? one : json_null());
    }
    free(all);
    return ranks;
}

json_t *sb_placement_machine(const struct sb_placement *p)
{
    return p->topo ? sb_topo_machine_json(p->topo) : json_null();
}

void sb_placement_close(struct sb_placement *p)
{
    if (p->topo)
        sb_topo_close(p->topo);
    p->topo = NULL;
}
