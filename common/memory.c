/* Host buffers on a chosen NUMA node: mmap + mbind, first touch, move_pages to verify. */
#include "memory.h"

#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MASK_WORDS 16 /* node masks for up to 1024 nodes */
#define MASK_BITS (MASK_WORDS * (int)sizeof(unsigned long) * CHAR_BIT)

int sb_mem_numa_available(void) { return numa_available() >= 0; }

int sb_mem_policy_parse(const char *s, struct sb_mem_policy *p, char *err, size_t errlen)
{
    char *end = NULL;
    memset(p, 0, sizeof *p);
    if (s && strcmp(s, "local") == 0)
        return 0;
    if (s && strcmp(s, "interleave") == 0) {
        p->kind = SB_MEM_INTERLEAVE;
        return 0;
    }
    errno = 0;
    long n = s && *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : -1;
    if (n < 0 || n >= MASK_BITS || errno || !end || *end) {
        snprintf(err, errlen, "invalid --mem-node '%s' (expected local, interleave or a NUMA node number)",
                 s ? s : "");
        return 2;
    }
    p->kind = SB_MEM_NODE;
    p->node = (int)n;
    return 0;
}

void sb_mem_policy_name(const struct sb_mem_policy *p, char *buf, size_t len)
{
    if (p->kind == SB_MEM_NODE)
        snprintf(buf, len, "node %d", p->node);
    else
        snprintf(buf, len, "%s", p->kind == SB_MEM_INTERLEAVE ? "interleave" : "local");
}

/* The nodes this process may allocate on, as a list "0-1" (libnuma's view of cpuset.mems). */
static void allowed_nodes_list(char *buf, size_t len)
{
    struct bitmask *m = numa_get_mems_allowed();
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; m && i < m->size && used < len; i++)
        if (numa_bitmask_isbitset(m, i))
            used += (size_t)snprintf(buf + used, len - used, "%s%u", used ? "," : "", i);
    if (m)
        numa_bitmask_free(m);
}

static int node_allowed(int node)
{
    struct bitmask *m = numa_get_mems_allowed();
    int ok = m && node <= numa_max_node() && numa_bitmask_isbitset(m, (unsigned)node);
    if (m)
        numa_bitmask_free(m);
    return ok;
}

int sb_mem_policy_check(const struct sb_mem_policy *p, char *err, size_t errlen)
{
    if (p->kind != SB_MEM_NODE || !sb_mem_numa_available() || node_allowed(p->node))
        return 0;
    char nodes[256];
    allowed_nodes_list(nodes, sizeof nodes);
    snprintf(err, errlen, "--mem-node %d: no such NUMA node with memory here (nodes available: %s)", p->node, nodes);
    return 2;
}

static size_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

static size_t mapped_length(size_t bytes)
{
    size_t ps = page_size();
    return bytes == 0 ? ps : (bytes + ps - 1) / ps * ps;
}

static void mask_set(unsigned long *mask, int node)
{
    const int bits = (int)sizeof(unsigned long) * CHAR_BIT;
    mask[node / bits] |= 1UL << (node % bits);
}

static void mask_allowed(unsigned long *mask)
{
    struct bitmask *m = numa_get_mems_allowed();
    for (unsigned i = 0; m && i < m->size && (int)i < MASK_BITS; i++)
        if (numa_bitmask_isbitset(m, i))
            mask_set(mask, (int)i);
    if (m)
        numa_bitmask_free(m);
}

/* The policy on a fresh mapping: applies to the pages its first touch will create. */
static int apply_policy(const struct sb_mem_policy *p, void *addr, size_t len)
{
    unsigned long mask[MASK_WORDS] = {0};
    switch (p->kind) {
    case SB_MEM_NODE:
        /* preferred, not bind: a full node must not get the job killed; the report tells */
        mask_set(mask, p->node);
        return (int)mbind(addr, len, MPOL_PREFERRED, mask, MASK_BITS + 1, 0);
    case SB_MEM_INTERLEAVE:
        mask_allowed(mask);
        return (int)mbind(addr, len, MPOL_INTERLEAVE, mask, MASK_BITS + 1, 0);
    case SB_MEM_LOCAL:
    default:
        /* MPOL_LOCAL (Linux 3.8); an empty preferred mask means the same on older kernels */
        if (mbind(addr, len, MPOL_LOCAL, NULL, 0, 0) == 0)
            return 0;
        return (int)mbind(addr, len, MPOL_PREFERRED, NULL, 0, 0);
    }
}

static void *alloc_plain(size_t bytes, char *err, size_t errlen)
{
    void *ptr = NULL;
    size_t len = mapped_length(bytes);
    if (posix_memalign(&ptr, page_size(), len) != 0) {
        snprintf(err, errlen, "cannot allocate %zu bytes", bytes);
        return NULL;
    }
    memset(ptr, 0, len);
    return ptr;
}

void *sb_mem_alloc(const struct sb_mem_policy *p, size_t bytes, char *err, size_t errlen)
{
    if (!sb_mem_numa_available())
        return alloc_plain(bytes, err, errlen);
    if (sb_mem_policy_check(p, err, errlen))
        return NULL;
    size_t len = mapped_length(bytes);
    void *ptr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ptr == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate %zu bytes: %s", bytes, strerror(errno));
        return NULL;
    }
    if (apply_policy(p, ptr, len) != 0 && p->kind != SB_MEM_LOCAL) {
        char name[32];
        sb_mem_policy_name(p, name, sizeof name);
        snprintf(err, errlen, "cannot place memory (--mem-node %s): mbind: %s", name, strerror(errno));
        munmap(ptr, len);
        return NULL;
    }
    memset(ptr, 0, len); /* first touch: this is when the pages are placed */
    return ptr;
}

void sb_mem_free(void *ptr, size_t bytes)
{
    if (!ptr)
        return;
    if (sb_mem_numa_available())
        munmap(ptr, mapped_length(bytes));
    else
        free(ptr);
}

/* ------------------------------------------------------------------ verification */

static void count_status(const int *status, size_t n, struct sb_mem_placement *out)
{
    for (size_t i = 0; i < n; i++) {
        if (status[i] < 0)
            out->absent++;
        else if (status[i] < SB_MEM_MAX_NODES)
            out->on_node[status[i]]++;
        else
            out->other++;
    }
}

int sb_mem_placement_get(const void *ptr, size_t bytes, struct sb_mem_placement *out)
{
    memset(out, 0, sizeof *out);
    if (!ptr || !sb_mem_numa_available())
        return 0;
    size_t ps = page_size();
    uintptr_t first = (uintptr_t)ptr / ps * ps, last = ((uintptr_t)ptr + (bytes ? bytes : 1) - 1) / ps * ps;
    size_t npages = (last - first) / ps + 1, n = npages < SB_MEM_SAMPLES ? npages : SB_MEM_SAMPLES;
    void **pages = calloc(n, sizeof *pages);
    int *status = calloc(n, sizeof *status);
    int rc = pages && status ? 0 : -1;
    if (rc)
        out->error = ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        pages[i] = (void *)(first + (i * npages / n) * ps); /* evenly spaced, first page included */
    /* nodes == NULL: a query, nothing moves; status[i] is the node or -errno */
    if (rc == 0 && move_pages(0, n, pages, NULL, status, 0) != 0) {
        out->error = errno;
        rc = -1;
    }
    if (rc == 0) {
        out->numa = 1;
        out->sampled = n;
        count_status(status, n, out);
    }
    free(pages);
    free(status);
    return rc;
}

static int single_node(const struct sb_mem_placement *pl)
{
    for (int i = 0; i < SB_MEM_MAX_NODES; i++)
        if (pl->on_node[i] == pl->sampled && pl->sampled > 0)
            return i;
    return -1;
}

static void placement_text(const struct sb_mem_placement *pl, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < SB_MEM_MAX_NODES && used < len; i++)
        if (pl->on_node[i])
            used += (size_t)snprintf(buf + used, len - used, "%snode %d: %.3g%%", used ? ", " : "", i,
                                     100.0 * (double)pl->on_node[i] / (double)pl->sampled);
    if (pl->other && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%snodes >= %d: %.3g%%", used ? ", " : "",
                                 SB_MEM_MAX_NODES, 100.0 * (double)pl->other / (double)pl->sampled);
    if (pl->absent && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%snot present: %.3g%%", used ? ", " : "",
                                 100.0 * (double)pl->absent / (double)pl->sampled);
    if (used < len)
        snprintf(buf + used, len - used, " of %zu sampled pages", pl->sampled);
}

/* The report line for a placement query that returned `rc`; the node holding every page or -1. */
static int placement_report(const struct sb_mem_placement *pl, int rc, char *report, size_t len)
{
    if (!sb_mem_numa_available()) {
        snprintf(report, len, "no NUMA support here (numa_available() < 0): posix_memalign, placement not controlled");
        return -1;
    }
    if (rc != 0) {
        snprintf(report, len, "placement unknown: move_pages failed (%s)", strerror(pl->error));
        return -1;
    }
    placement_text(pl, report, len);
    return single_node(pl);
}

int sb_mem_placement(const void *ptr, size_t bytes, char *report, size_t len)
{
    struct sb_mem_placement pl;
    int rc = sb_mem_placement_get(ptr, bytes, &pl);
    return placement_report(&pl, rc, report, len);
}

json_t *sb_mem_placement_json(const struct sb_mem_policy *p, const void *ptr, size_t bytes)
{
    char name[32], report[512];
    struct sb_mem_placement pl;
    sb_mem_policy_name(p, name, sizeof name);
    int node = placement_report(&pl, sb_mem_placement_get(ptr, bytes, &pl), report, sizeof report);
    json_t *by_node = json_object();
    for (int i = 0; pl.numa && i < SB_MEM_MAX_NODES; i++)
        if (pl.on_node[i]) {
            char key[16];
            snprintf(key, sizeof key, "%d", i);
            json_object_set_new(by_node, key, json_integer((json_int_t)pl.on_node[i]));
        }
    return json_pack("{s:s, s:b, s:I, s:o, s:o, s:s}", "policy", name, "numa", sb_mem_numa_available(), "sampled_pages",
                     (json_int_t)pl.sampled, "pages_by_node", by_node, "node",
                     node >= 0 ? json_integer(node) : json_null(), "report", report);
}
