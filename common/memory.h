/* Host buffers placed on a chosen NUMA node (libnuma), and the placement actually obtained.
 *
 *   --mem-node local       pages on the node of the CPU that first touches them (the rank's,
 *                          once it is bound): an explicit local policy, which overrides a
 *                          policy inherited from `numactl --interleave` and the like;
 *   --mem-node N           pages on NUMA node N (preferred: the kernel falls back to another
 *                          node rather than kill the job when N is full; the report shows it);
 *   --mem-node interleave  pages round-robin over every node the process may use.
 *
 * sb_mem_alloc() touches every page before returning (first touch is what places a page), so
 * sb_mem_placement() can verify with move_pages() where the pages really are.  Without NUMA
 * support (numa_available() < 0) the buffer comes from posix_memalign and the report says so. */
#ifndef SB_MEMORY_H
#define SB_MEMORY_H

#include <jansson.h>
#include <stddef.h>

enum sb_mem_kind { SB_MEM_LOCAL, SB_MEM_NODE, SB_MEM_INTERLEAVE };

struct sb_mem_policy {
    enum sb_mem_kind kind;
    int node; /* SB_MEM_NODE only */
};

/* "local", "interleave" or a node number.  0, or 2 with err naming the bad value. */
int sb_mem_policy_parse(const char *s, struct sb_mem_policy *p, char *err, size_t errlen);
/* "local", "node 1", "interleave" */
void sb_mem_policy_name(const struct sb_mem_policy *p, char *buf, size_t len);
/* Whether this machine can honour the policy (node N exists and has memory).  0 when it can or
 * when NUMA is unavailable (the allocation then falls back with a note); 2 with err if not. */
int sb_mem_policy_check(const struct sb_mem_policy *p, char *err, size_t errlen);
/* 1 when libnuma works here (numa_available() >= 0). */
int sb_mem_numa_available(void);

/* Page-aligned, placed by the policy, every page touched (zeroed).  NULL with err on failure.
 * Free with sb_mem_free(ptr, bytes), never free(). */
void *sb_mem_alloc(const struct sb_mem_policy *p, size_t bytes, char *err, size_t errlen);
void sb_mem_free(void *ptr, size_t bytes);

/* Where the pages of [ptr, ptr + bytes) are, from up to `SB_MEM_SAMPLES` evenly spaced pages. */
#define SB_MEM_SAMPLES 4096
#define SB_MEM_MAX_NODES 64
struct sb_mem_placement {
    int numa;                              /* 0: no NUMA support, nothing below is known */
    size_t sampled;                        /* pages asked about */
    size_t on_node[SB_MEM_MAX_NODES];      /* pages found on each node (nodes above the max: other) */
    size_t other, absent;                  /* on a node >= SB_MEM_MAX_NODES; not present / error */
    int error;                             /* errno when the query itself failed */
};
int sb_mem_placement_get(const void *ptr, size_t bytes, struct sb_mem_placement *out);
/* "node 0: 100% of 4096 sampled pages", "node 0: 50%, node 1: 50% of 4096 sampled pages",
 * or the no-NUMA note.  Returns the node holding every sampled page, or -1 (mixed / unknown). */
int sb_mem_placement(const void *ptr, size_t bytes, char *report, size_t len);
/* {"policy": "node 1", "numa": true, "sampled_pages": 4096 (0: not verified), "pages_by_node": {"1": 4096},
 *  "node": 1 | null, "report": "..."} */
json_t *sb_mem_placement_json(const struct sb_mem_policy *p, const void *ptr, size_t bytes);

#endif
