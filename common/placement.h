/* Where a benchmark rank runs and where its buffers live: applies --bind (hwloc) and
 * --mem-node (libnuma) at start-up, before any buffer is allocated, and describes the result
 * for the run header (per rank: host, package, NUMA node, cores, nearby GPUs and NICs, and
 * the NUMA placement actually obtained for a probe buffer allocated like the real ones). */
#ifndef SB_PLACEMENT_H
#define SB_PLACEMENT_H

#include <jansson.h>
#include <stddef.h>

#include "comm.h"
#include "memory.h"
#include "options.h"
#include "topo.h"

#define SB_PLACEMENT_JSON_LEN 16384 /* one rank's record, gathered to rank 0 */

struct sb_placement {
    struct sb_topo *topo;
    struct sb_binding binding;
    struct sb_mem_policy mem;
    int probe_node;                      /* NUMA node holding the whole probe buffer, or -1 */
    char summary[1024];                  /* one text line for the header */
    char record[SB_PLACEMENT_JSON_LEN];  /* this rank's JSON record (compact) */
};

/* Parses and applies --bind and --mem-node for this rank.  gpu_pci: the PCI id of the GPU this
 * rank drives ("0000:18:00.0"), or NULL/"" for none; auto mode then binds to the cores local to
 * that GPU.  0, or 2 with err (bad policy, NUMA node that does not exist, hwloc failure).
 * Every rank must call it. */
int sb_placement_setup(struct sb_placement *p, const struct sb_options *o, const struct sb_comm *c,
                       const char *gpu_pci, char *err, size_t errlen);

/* This rank's index among the ranks running on the same machine, and their number.  Usually
 * the node's local rank and size; but ranks whose launcher sees different hosts can share one
 * kernel (network namespaces, containers with their own host names) and so the same cores:
 * the kernel's boot id tells them apart.  Collective. */
void sb_placement_machine_ranks(const struct sb_comm *c, int *local_rank, int *local_size);
/* Rank 0: the array of every rank's record, in rank order (others get NULL). */
json_t *sb_placement_gather(const struct sb_placement *p, const struct sb_comm *c);
/* Rank 0: this node's machine description (packages, NUMA nodes, GPUs, NICs). */
json_t *sb_placement_machine(const struct sb_placement *p);
void sb_placement_close(struct sb_placement *p);

#endif
