/* Topology, binding and device locality on hwloc.  See topo.h for the placement rules. */
#include "topo.h"

#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCI_VENDOR_NVIDIA 0x10de
#define PCI_VENDOR_AMD 0x1002

struct sb_topo {
    hwloc_topology_t topo;
    int this_system;
    int cpubind;       /* HWLOC_CPUBIND_PROCESS, or _THREAD when the ranks are threads of one process */
    int ngpus, nnics;
    hwloc_obj_t *gpus; /* PCI device objects, bus order */
    hwloc_obj_t *nics; /* PCI device objects (or a lone OS device), bus order */
    char host[256];
};

/* ------------------------------------------------------------------ small helpers */

/* snprintf for texts that may be cut at the buffer's end on purpose (long PU lists). */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

static int is_osdev_of(hwloc_obj_t o, hwloc_obj_osdev_type_t type)
{
    return o->type == HWLOC_OBJ_OS_DEVICE && o->attr->osdev.type == type;
}

/* DRM nodes (card0, renderD128) exist for every display controller, the BMC's VGA included,
 * so they do not make a device a GPU on their own. */
static int is_drm_name(const char *name)
{
    return name && (!strncmp(name, "card", 4) || !strncmp(name, "renderD", 7) || !strncmp(name, "controlD", 8));
}

static int is_compute_osdev(hwloc_obj_t o)
{
    return (is_osdev_of(o, HWLOC_OBJ_OSDEV_GPU) || is_osdev_of(o, HWLOC_OBJ_OSDEV_COPROC)) && !is_drm_name(o->name);
}

static int is_net_osdev(hwloc_obj_t o)
{
    return is_osdev_of(o, HWLOC_OBJ_OSDEV_NETWORK) || is_osdev_of(o, HWLOC_OBJ_OSDEV_OPENFABRICS);
}

static int has_io_child(hwloc_obj_t o, int (*pred)(hwloc_obj_t))
{
    for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling)
        if (pred(c))
            return 1;
    return 0;
}

static int is_gpu_pcidev(hwloc_obj_t pci)
{
    unsigned cls = pci->attr->pcidev.class_id, vendor = pci->attr->pcidev.vendor_id;
    if (has_io_child(pci, is_compute_osdev))
        return 1;
    if (vendor == PCI_VENDOR_NVIDIA)
        return cls == 0x0300 || cls == 0x0302;
    if (vendor == PCI_VENDOR_AMD) /* Instinct parts are display (0x0380) or 3D controllers */
        return cls == 0x0302 || cls == 0x0380;
    return 0;
}

static long pci_key(hwloc_obj_t o)
{
    if (o->type != HWLOC_OBJ_PCI_DEVICE)
        return (long)1 << 40; /* devices without a PCI id go last */
    const struct hwloc_pcidev_attr_s *p = &o->attr->pcidev;
    return ((long)p->domain << 24) | ((long)p->bus << 16) | ((long)p->dev << 8) | p->func;
}

static int cmp_pci(const void *a, const void *b)
{
    long ka = pci_key(*(hwloc_obj_t const *)a), kb = pci_key(*(hwloc_obj_t const *)b);
    return (ka > kb) - (ka < kb);
}

static void set_to_string(hwloc_const_bitmap_t set, int as_list, char *buf, size_t len)
{
    if (hwloc_bitmap_iszero(set))
        snprintf(buf, len, "%s", as_list ? "" : "0x0");
    else if (as_list)
        hwloc_bitmap_list_snprintf(buf, len, set);
    else
        hwloc_bitmap_snprintf(buf, len, set);
}

/* ------------------------------------------------------------------ device discovery */

static int push_obj(hwloc_obj_t **list, int *n, hwloc_obj_t o)
{
    for (int i = 0; i < *n; i++)
        if ((*list)[i] == o)
            return 0;
    hwloc_obj_t *grown = realloc(*list, (size_t)(*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[(*n)++] = o;
    *list = grown;
    return 0;
}

static int collect_gpus(struct sb_topo *t)
{
    for (hwloc_obj_t p = NULL; (p = hwloc_get_next_pcidev(t->topo, p));)
        if (is_gpu_pcidev(p) && push_obj(&t->gpus, &t->ngpus, p))
            return -1;
    if (t->ngpus > 1)
        qsort(t->gpus, (size_t)t->ngpus, sizeof *t->gpus, cmp_pci);
    return 0;
}

/* One NIC per PCI function: an HCA shows both as OpenFabrics (mlx5_0) and network (ib0). */
static int collect_nics(struct sb_topo *t)
{
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_osdev(t->topo, o));) {
        if (!is_net_osdev(o))
            continue;
        hwloc_obj_t dev = o->parent && o->parent->type == HWLOC_OBJ_PCI_DEVICE ? o->parent : o;
        if (push_obj(&t->nics, &t->nnics, dev))
            return -1;
    }
    if (t->nnics > 1)
        qsort(t->nics, (size_t)t->nnics, sizeof *t->nics, cmp_pci);
    return 0;
}

static void read_host_name(struct sb_topo *t)
{
    const char *h = NULL;
    if (!t->this_system)
        h = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t->topo), "HostName");
    if (h)
        snprintf(t->host, sizeof t->host, "%s", h);
    else if (!t->this_system || gethostname(t->host, sizeof t->host) != 0)
        snprintf(t->host, sizeof t->host, "unknown");
    t->host[sizeof t->host - 1] = '\0';
}

static int load(struct sb_topo *t, const char *xml_path, char *err, size_t errlen)
{
    if (hwloc_topology_init(&t->topo) != 0) {
        snprintf(err, errlen, "hwloc: cannot initialise a topology");
        return 2;
    }
    /* GPUs, NICs and the bridges leading to them; not every PCI function */
    hwloc_topology_set_io_types_filter(t->topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (xml_path && hwloc_topology_set_xml(t->topo, xml_path) != 0) {
        snprintf(err, errlen, "cannot read hwloc XML topology '%s'", xml_path);
        return 2;
    }
    if (hwloc_topology_load(t->topo) != 0) {
        snprintf(err, errlen, "hwloc: cannot load the topology%s%s", xml_path ? " of " : "", xml_path ? xml_path : "");
        return 2;
    }
    t->this_system = hwloc_topology_is_thissystem(t->topo);
    return 0;
}

int sb_topo_open(struct sb_topo **out, const char *xml_path, char *err, size_t errlen)
{
    struct sb_topo *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    t->cpubind = HWLOC_CPUBIND_PROCESS;
    int rc = load(t, xml_path, err, errlen);
    if (rc == 0 && (collect_gpus(t) || collect_nics(t))) {
        snprintf(err, errlen, "out of memory");
        rc = 2;
    }
    if (rc) {
        sb_topo_close(t);
        return rc;
    }
    read_host_name(t);
    *out = t;
    return 0;
}

void sb_topo_close(struct sb_topo *t)
{
    if (!t)
        return;
    if (t->topo)
        hwloc_topology_destroy(t->topo);
    free(t->gpus);
    free(t->nics);
    free(t);
}

int sb_topo_is_this_system(const struct sb_topo *t) { return t->this_system; }

void sb_topo_bind_threads(struct sb_topo *t, int threads)
{
    t->cpubind = threads ? HWLOC_CPUBIND_THREAD : HWLOC_CPUBIND_PROCESS;
}

/* The PU the calling thread last ran on (this machine), else the first PU. */
static hwloc_obj_t current_pu(const struct sb_topo *t)
{
    hwloc_obj_t pu = NULL;
    hwloc_bitmap_t where = hwloc_bitmap_alloc();
    if (where && t->this_system && hwloc_get_last_cpu_location(t->topo, where, HWLOC_CPUBIND_THREAD) == 0)
        pu = hwloc_get_obj_inside_cpuset_by_type(t->topo, where, HWLOC_OBJ_PU, 0);
    hwloc_bitmap_free(where);
    return pu ? pu : hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, 0);
}

unsigned long long sb_topo_llc_bytes(const struct sb_topo *t, int *level)
{
    unsigned long long size = 0;
    *level = 0;
    for (hwloc_obj_t o = current_pu(t); o; o = o->parent)
        if (hwloc_obj_type_is_cache(o->type) && o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION) {
            size = o->attr->cache.size; /* walking up: the last one seen is the farthest */
            *level = (int)o->attr->cache.depth;
        }
    return size;
}

void sb_topo_host_name(const struct sb_topo *t, char *buf, size_t len) { snprintf(buf, len, "%s", t->host); }

int sb_topo_gpu_count(const struct sb_topo *t) { return t->ngpus; }
int sb_topo_nic_count(const struct sb_topo *t) { return t->nnics; }

/* ------------------------------------------------------------------ sets and their description */

static hwloc_const_cpuset_t allowed_cpus(const struct sb_topo *t)
{
    return hwloc_topology_get_allowed_cpuset(t->topo);
}

/* Cores, or PUs on the rare topology that reports none. */
static hwloc_obj_type_t core_type(const struct sb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

/* Logical indexes of the objects of `type` whose cpuset meets `set`. */
static void logical_list(const struct sb_topo *t, hwloc_obj_type_t type, hwloc_const_cpuset_t set, char *buf,
                         size_t len, int *single)
{
    hwloc_bitmap_t idx = hwloc_bitmap_alloc();
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->topo, type, o));)
        if (hwloc_bitmap_intersects(o->cpuset, set))
            hwloc_bitmap_set(idx, o->logical_index);
    set_to_string(idx, 1, buf, len);
    if (single)
        *single = hwloc_bitmap_weight(idx) == 1 ? hwloc_bitmap_first(idx) : -1;
    hwloc_bitmap_free(idx);
}

static void numa_list(const struct sb_topo *t, hwloc_const_cpuset_t set, char *buf, size_t len, int *single)
{
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
    hwloc_cpuset_to_nodeset(t->topo, set, nodes);
    set_to_string(nodes, 1, buf, len);
    if (single)
        *single = hwloc_bitmap_weight(nodes) == 1 ? hwloc_bitmap_first(nodes) : -1;
    hwloc_bitmap_free(nodes);
}

static void describe(const struct sb_topo *t, hwloc_const_cpuset_t set, struct sb_binding *b)
{
    set_to_string(set, 0, b->cpuset, sizeof b->cpuset);
    set_to_string(set, 1, b->pus, sizeof b->pus);
    logical_list(t, core_type(t), set, b->cores, sizeof b->cores, NULL);
    logical_list(t, HWLOC_OBJ_PACKAGE, set, b->packages, sizeof b->packages, &b->package);
    numa_list(t, set, b->numa_nodes, sizeof b->numa_nodes, &b->numa_node);
}

/* ------------------------------------------------------------------ placement */

struct node_slot {
    hwloc_obj_t node;
    int package, ordinal; /* package logical index (-1: none), position among that package's nodes */
};

static int cmp_interleaved(const void *a, const void *b)
{
    const struct node_slot *x = a, *y = b;
    if (x->ordinal != y->ordinal)
        return x->ordinal - y->ordinal;
    if (x->package != y->package)
        return x->package - y->package;
    return (int)x->node->logical_index - (int)y->node->logical_index;
}

/* The NUMA nodes with allowed CPUs (memory-only nodes, such as a GPU's HBM exposed as a node,
 * cannot host a rank), in logical order or interleaved across packages -- the first node of
 * each package, then the second of each, ... -- so that consecutive ranks spread over sockets.
 * Returns a malloc'ed array and its length in *n (NULL on no memory). */
static hwloc_obj_t *cpu_nodes(const struct sb_topo *t, int interleave, int *n)
{
    int max = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
    struct node_slot *slots = calloc((size_t)max + 1, sizeof *slots);
    hwloc_obj_t *nodes = calloc((size_t)max + 1, sizeof *nodes);
    *n = 0;
    for (hwloc_obj_t o = NULL; slots && nodes && (o = hwloc_get_next_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, o));) {
        if (!hwloc_bitmap_intersects(o->cpuset, allowed_cpus(t)))
            continue;
        hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, o);
        struct node_slot s = {o, pkg ? (int)pkg->logical_index : -1, 0};
        for (int i = 0; i < *n; i++)
            s.ordinal += slots[i].package == s.package;
        slots[(*n)++] = s;
    }
    if (interleave && slots)
        qsort(slots, (size_t)*n, sizeof *slots, cmp_interleaved);
    for (int i = 0; nodes && slots && i < *n; i++)
        nodes[i] = slots[i].node;
    int ok = slots != NULL;
    free(slots);
    if (!ok) {
        free(nodes);
        return NULL;
    }
    return nodes;
}

/* The k-th (mod count) allowed core inside `within`; its allowed PUs go to `out`.  Returns the
 * number of such cores (0: none).  hwloc restricts the topology to the allowed CPUs (cgroup,
 * Slurm allocation) unless told otherwise, so a core's cpuset holds allowed PUs only. */
static int pick_core(const struct sb_topo *t, hwloc_const_cpuset_t within, int k, hwloc_cpuset_t out)
{
    int count = 0;
    hwloc_obj_type_t type = core_type(t);
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->topo, type, o));)
        if (hwloc_bitmap_isincluded(o->cpuset, within) && hwloc_bitmap_intersects(o->cpuset, allowed_cpus(t)))
            count++;
    if (count == 0)
        return 0;
    int want = k % count, i = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t->topo, type, o));)
        if (hwloc_bitmap_isincluded(o->cpuset, within) && hwloc_bitmap_intersects(o->cpuset, allowed_cpus(t))
            && i++ == want)
            hwloc_bitmap_and(out, o->cpuset, allowed_cpus(t));
    return count;
}

static int count_cores(const struct sb_topo *t)
{
    hwloc_cpuset_t scratch = hwloc_bitmap_alloc();
    int n = pick_core(t, allowed_cpus(t), 0, scratch);
    hwloc_bitmap_free(scratch);
    return n;
}

static void note_shared(struct sb_binding *b, int ranks, int cores, const char *where)
{
    if (ranks > cores)
        snprintf(b->note, sizeof b->note, "%d ranks on %d cores%s: ranks share cores", ranks, cores, where);
}

static int plan_cpu(struct sb_topo *t, enum sb_bind_mode mode, int r, int n, hwloc_cpuset_t set, struct sb_binding *b)
{
    int nn = 0, rc = 0;
    hwloc_obj_t *nodes = cpu_nodes(t, mode == SB_BIND_AUTO, &nn);
    if (!nodes)
        return -1;
    if (mode == SB_BIND_NONE || (nn == 0 && mode == SB_BIND_NUMA)) {
        hwloc_bitmap_copy(set, allowed_cpus(t));
    } else if (mode == SB_BIND_AUTO && n > count_cores(t)) {
        /* More ranks than cores: pinning two busy-polling ranks to one core starves one of
         * them for a whole scheduler tick per message; left unbound, the OS spreads them. */
        hwloc_bitmap_copy(set, allowed_cpus(t));
        snprintf(b->note, sizeof b->note,
                 "%d ranks on %d cores: oversubscribed, left unbound (--bind core forces one core each)", n,
                 count_cores(t));
    } else if (mode == SB_BIND_NUMA) {
        hwloc_bitmap_and(set, nodes[r % nn]->cpuset, allowed_cpus(t));
        if (n > nn)
            snprintf(b->note, sizeof b->note, "%d ranks on %d NUMA nodes: ranks share nodes", n, nn);
    } else if (mode == SB_BIND_AUTO && nn > 0) {
        /* node r mod nn, then the next free core there: rank r is the (r / nn)-th on it */
        int here = pick_core(t, nodes[r % nn]->cpuset, r / nn, set);
        note_shared(b, (n - 1 - r % nn) / nn + 1, here, " of a NUMA node");
        rc = here ? 0 : -1;
    } else {
        int total = pick_core(t, allowed_cpus(t), r, set);
        note_shared(b, n, total, "");
        rc = total ? 0 : -1;
    }
    free(nodes);
    return rc;
}

/* GPUs before `g` with the same locality: GPUs sharing a NUMA node take successive cores. */
static int gpu_ordinal_in_locality(const struct sb_topo *t, int g)
{
    hwloc_obj_t mine = hwloc_get_non_io_ancestor_obj(t->topo, t->gpus[g]);
    int k = 0;
    for (int i = 0; i < g; i++)
        if (hwloc_bitmap_isequal(hwloc_get_non_io_ancestor_obj(t->topo, t->gpus[i])->cpuset, mine->cpuset))
            k++;
    return k;
}

static int plan_gpu(struct sb_topo *t, enum sb_bind_mode mode, int g, hwloc_cpuset_t set, struct sb_binding *b)
{
    hwloc_obj_t near = hwloc_get_non_io_ancestor_obj(t->topo, t->gpus[g]);
    hwloc_bitmap_and(set, near->cpuset, allowed_cpus(t));
    if (hwloc_bitmap_iszero(set))
        return -1;
    if (mode == SB_BIND_NONE)
        hwloc_bitmap_copy(set, allowed_cpus(t));
    if (mode != SB_BIND_CORE)
        return 0;
    hwloc_bitmap_t local = hwloc_bitmap_dup(set);
    int k = gpu_ordinal_in_locality(t, g), count = pick_core(t, local, k, set);
    hwloc_bitmap_free(local);
    note_shared(b, k + 1, count, " local to the GPU");
    return count ? 0 : -1;
}

static void init_binding(struct sb_binding *b, enum sb_bind_mode mode, int gpu)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    b->gpu = gpu;
    b->package = b->numa_node = -1;
}

int sb_topo_plan_binding(struct sb_topo *t, enum sb_bind_mode mode, int local_rank, int local_size, int gpu_index,
                         struct sb_binding *out, char *err, size_t errlen)
{
    if (local_rank < 0 || local_size < 1 || local_rank >= local_size || gpu_index >= t->ngpus) {
        snprintf(err, errlen, "binding: invalid placement (local rank %d of %d, GPU %d of %d)", local_rank,
                 local_size, gpu_index, t->ngpus);
        return 2;
    }
    init_binding(out, mode, gpu_index);
    hwloc_cpuset_t set = hwloc_bitmap_alloc();
    int rc = gpu_index >= 0 ? plan_gpu(t, mode, gpu_index, set, out) : -1;
    if (rc != 0 && gpu_index >= 0)
        snprintf(out->note, sizeof out->note, "GPU %d has no CPU locality here: placed as without GPU", gpu_index);
    if (rc != 0)
        rc = plan_cpu(t, mode, local_rank, local_size, set, out);
    if (rc == 0) {
        describe(t, set, out);
        snprintf(out->how, sizeof out->how, "planned %s", sb_bind_mode_name(mode));
    } else {
        snprintf(err, errlen, "binding: no allowed core found for local rank %d", local_rank);
    }
    hwloc_bitmap_free(set);
    return rc ? 2 : 0;
}

/* ------------------------------------------------------------------ applying */

int sb_topo_get_binding(struct sb_topo *t, struct sb_binding *out, char *err, size_t errlen)
{
    init_binding(out, SB_BIND_NONE, -1);
    hwloc_cpuset_t cur = hwloc_bitmap_alloc();
    int rc = t->this_system ? hwloc_get_cpubind(t->topo, cur, t->cpubind) : -1;
    if (rc == 0) {
        describe(t, cur, out);
        snprintf(out->how, sizeof out->how, "current");
    } else {
        snprintf(err, errlen, "cannot read the process binding%s", t->this_system ? "" : " of a loaded XML topology");
    }
    hwloc_bitmap_free(cur);
    return rc ? 2 : 0;
}

/* Bound already when the current binding leaves out some of the CPUs the process may use. */
static int launcher_bound(struct sb_topo *t)
{
    hwloc_cpuset_t cur = hwloc_bitmap_alloc();
    int bound = hwloc_get_cpubind(t->topo, cur, t->cpubind) == 0
                && !hwloc_bitmap_isincluded(allowed_cpus(t), cur);
    hwloc_bitmap_free(cur);
    return bound;
}

static int bind_to(struct sb_topo *t, const struct sb_binding *plan, char *err, size_t errlen)
{
    hwloc_cpuset_t set = hwloc_bitmap_alloc();
    int rc = hwloc_bitmap_sscanf(set, plan->cpuset);
    if (rc == 0)
        rc = hwloc_set_cpubind(t->topo, set, t->cpubind);
    if (rc != 0)
        snprintf(err, errlen, "cannot bind to cpuset %s (PUs %s)", plan->cpuset, plan->pus);
    hwloc_bitmap_free(set);
    return rc ? 2 : 0;
}

int sb_topo_apply_binding(struct sb_topo *t, enum sb_bind_mode mode, int explicit_mode, int local_rank,
                          int local_size, int gpu_index, struct sb_binding *out, char *err, size_t errlen)
{
    if (!t->this_system) {
        snprintf(err, errlen, "cannot bind on a topology loaded from XML");
        return 2;
    }
    struct sb_binding plan;
    int rc = sb_topo_plan_binding(t, mode, local_rank, local_size, gpu_index, &plan, err, errlen);
    if (rc)
        return rc;
    int keep = launcher_bound(t) && (mode == SB_BIND_NONE || !explicit_mode);
    int bind = !keep && mode != SB_BIND_NONE;
    if (bind && (rc = bind_to(t, &plan, err, errlen)))
        return rc;
    if ((rc = sb_topo_get_binding(t, out, err, errlen)))
        return rc;
    out->mode = mode;
    out->gpu = gpu_index;
    if (bind)
        snprintf(out->how, sizeof out->how, "scalebench %s%s", sb_bind_mode_name(mode),
                 gpu_index >= 0 ? ", GPU-local" : "");
    else
        snprintf(out->how, sizeof out->how, "%s", keep ? "launcher" : "none");
    if (!keep && mode != SB_BIND_NONE && strcmp(out->cpuset, plan.cpuset) != 0)
        fmt(out->note, sizeof out->note, "asked for PUs %s, obtained PUs %s", plan.pus, out->pus);
    else if (!keep)
        snprintf(out->note, sizeof out->note, "%s", plan.note);
    else if (mode != SB_BIND_NONE)
        snprintf(out->note, sizeof out->note, "kept the launcher's binding (an explicit --bind replaces it)");
    return 0;
}

/* ------------------------------------------------------------------ modes */

static const char *const mode_names[] = {[SB_BIND_AUTO] = "auto", [SB_BIND_NONE] = "none",
                                         [SB_BIND_CORE] = "core", [SB_BIND_NUMA] = "numa"};

int sb_bind_mode_parse(const char *s)
{
    for (int m = 0; s && m < (int)(sizeof mode_names / sizeof *mode_names); m++)
        if (strcmp(s, mode_names[m]) == 0)
            return m;
    return -1;
}

const char *sb_bind_mode_name(enum sb_bind_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof *mode_names ? mode_names[m] : "unknown";
}

/* ------------------------------------------------------------------ devices */

static hwloc_obj_t first_child(hwloc_obj_t dev, int (*pred)(hwloc_obj_t))
{
    if (dev->type == HWLOC_OBJ_OS_DEVICE)
        return pred(dev) ? dev : NULL;
    for (hwloc_obj_t c = dev->io_first_child; c; c = c->next_sibling)
        if (pred(c))
            return c;
    return NULL;
}

static int is_ofed(hwloc_obj_t o) { return is_osdev_of(o, HWLOC_OBJ_OSDEV_OPENFABRICS); }
static int is_cuda(hwloc_obj_t o) { return is_compute_osdev(o) && o->subtype && !strcmp(o->subtype, "CUDA"); }
static int is_any_osdev(hwloc_obj_t o) { return o->type == HWLOC_OBJ_OS_DEVICE; }

/* Primary name: the CUDA device, else another compute device, else the RDMA device, else any. */
static hwloc_obj_t primary_osdev(hwloc_obj_t dev, int gpu)
{
    int (*order_gpu[])(hwloc_obj_t) = {is_cuda, is_compute_osdev, is_any_osdev};
    int (*order_nic[])(hwloc_obj_t) = {is_ofed, is_net_osdev, is_any_osdev};
    for (int i = 0; i < 3; i++) {
        hwloc_obj_t o = first_child(dev, gpu ? order_gpu[i] : order_nic[i]);
        if (o)
            return o;
    }
    return NULL;
}

static void device_aliases(hwloc_obj_t dev, hwloc_obj_t primary, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (dev->type == HWLOC_OBJ_OS_DEVICE)
        return;
    for (hwloc_obj_t c = dev->io_first_child; c; c = c->next_sibling) {
        if (c == primary || c->type != HWLOC_OBJ_OS_DEVICE || !c->name || used >= len)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", c->name);
    }
}

static const char *device_model(hwloc_obj_t dev, hwloc_obj_t primary)
{
    const char *m = primary ? hwloc_obj_get_info_by_name(primary, "GPUModel") : NULL;
    if (!m && dev->type == HWLOC_OBJ_PCI_DEVICE)
        for (hwloc_obj_t c = dev->io_first_child; c && !m; c = c->next_sibling)
            m = hwloc_obj_get_info_by_name(c, "GPUModel");
    if (!m)
        m = hwloc_obj_get_info_by_name(dev, "PCIDevice");
    return m ? m : "";
}

static const char *nic_kind(hwloc_obj_t dev)
{
    unsigned cls = dev->type == HWLOC_OBJ_PCI_DEVICE ? dev->attr->pcidev.class_id : 0;
    if (cls == 0x0207)
        return "infiniband";
    if (cls == 0x0200)
        return first_child(dev, is_ofed) ? "ethernet-rdma" : "ethernet";
    return "network";
}

static void fill_device(const struct sb_topo *t, hwloc_obj_t dev, int gpu, struct sb_topo_device *d)
{
    memset(d, 0, sizeof *d);
    hwloc_obj_t primary = primary_osdev(dev, gpu);
    if (dev->type == HWLOC_OBJ_PCI_DEVICE) {
        const struct hwloc_pcidev_attr_s *p = &dev->attr->pcidev;
        snprintf(d->pci, sizeof d->pci, "%04x:%02x:%02x.%01x", (unsigned)p->domain, p->bus, p->dev, p->func);
    }
    snprintf(d->name, sizeof d->name, "%s", primary && primary->name ? primary->name : d->pci);
    device_aliases(dev, primary, d->aliases, sizeof d->aliases);
    snprintf(d->model, sizeof d->model, "%s", device_model(dev, primary));
    snprintf(d->kind, sizeof d->kind, "%s", gpu ? "gpu" : nic_kind(dev));
    hwloc_obj_t near = hwloc_get_non_io_ancestor_obj(t->topo, dev);
    set_to_string(near->nodeset, 1, d->numa_nodes, sizeof d->numa_nodes);
    hwloc_cpuset_t local = hwloc_bitmap_alloc();
    hwloc_bitmap_and(local, near->cpuset, allowed_cpus(t));
    set_to_string(local, 1, d->local_pus, sizeof d->local_pus);
    char pkgs[64];
    logical_list(t, HWLOC_OBJ_PACKAGE, local, pkgs, sizeof pkgs, &d->package);
    hwloc_bitmap_free(local);
}

int sb_topo_gpu(const struct sb_topo *t, int i, struct sb_topo_device *out)
{
    if (i < 0 || i >= t->ngpus)
        return -1;
    fill_device(t, t->gpus[i], 1, out);
    return 0;
}

int sb_topo_nic(const struct sb_topo *t, int i, struct sb_topo_device *out)
{
    if (i < 0 || i >= t->nnics)
        return -1;
    fill_device(t, t->nics[i], 0, out);
    return 0;
}

/* hwloc_get_common_ancestor_obj() compares depths, which I/O objects do not have (their depth
 * is a special negative value), so walk the parent links instead. */
static hwloc_obj_t common_ancestor(hwloc_obj_t a, hwloc_obj_t b)
{
    for (hwloc_obj_t x = a; x; x = x->parent)
        for (hwloc_obj_t y = b; y; y = y->parent)
            if (x == y)
                return x;
    return NULL;
}

static int hops_to(hwloc_obj_t o, hwloc_obj_t ancestor)
{
    int n = 0;
    for (; o && o != ancestor; o = o->parent)
        n++;
    return n;
}

/* Classified as nvidia-smi does: inside one PCIe switch (upstream port plus one level of
 * downstream ports, so at most two hops up from each device) is PIX; deeper is PXB. */
const char *sb_topo_gpu_nic_path(const struct sb_topo *t, int g, int n)
{
    if (g < 0 || g >= t->ngpus || n < 0 || n >= t->nnics)
        return "?";
    hwloc_obj_t a = t->gpus[g], b = t->nics[n];
    if (a == b)
        return "X";
    hwloc_obj_t c = common_ancestor(a, b);
    if (!c)
        return "?";
    if (c->type == HWLOC_OBJ_BRIDGE && c->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_HOST)
        return "PHB";
    if (c->type == HWLOC_OBJ_BRIDGE || c->type == HWLOC_OBJ_PCI_DEVICE)
        return hops_to(a, c) <= 2 && hops_to(b, c) <= 2 ? "PIX" : "PXB";
    hwloc_obj_t na = hwloc_get_non_io_ancestor_obj(t->topo, a), nb = hwloc_get_non_io_ancestor_obj(t->topo, b);
    return hwloc_bitmap_isequal(na->nodeset, nb->nodeset) ? "NODE" : "SYS";
}

/* ------------------------------------------------------------------ records */

static json_t *list_json(const char *list)
{
    json_t *a = json_array();
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (list[0] && hwloc_bitmap_list_sscanf(set, list) == 0) {
        int i;
        hwloc_bitmap_foreach_begin(i, set) json_array_append_new(a, json_integer(i));
        hwloc_bitmap_foreach_end();
    }
    hwloc_bitmap_free(set);
    return a;
}

static json_t *device_json(const struct sb_topo_device *d)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s}", "name", d->name, "kind", d->kind, "pci", d->pci,
                          "numa_nodes", list_json(d->numa_nodes), "local_pus", d->local_pus, "package",
                          d->package >= 0 ? json_integer(d->package) : json_null(), "model", d->model);
    if (o && d->aliases[0])
        json_object_set_new(o, "aliases", json_string(d->aliases));
    return o;
}

/* Devices whose NUMA locality meets `nodes` (a list), as an array of device records. */
static json_t *near_devices_json(struct sb_topo *t, int gpus, const char *nodes)
{
    json_t *a = json_array();
    hwloc_bitmap_t mine = hwloc_bitmap_alloc(), theirs = hwloc_bitmap_alloc();
    hwloc_bitmap_list_sscanf(mine, nodes);
    for (int i = 0; i < (gpus ? t->ngpus : t->nnics); i++) {
        struct sb_topo_device d;
        fill_device(t, gpus ? t->gpus[i] : t->nics[i], gpus, &d);
        if (hwloc_bitmap_list_sscanf(theirs, d.numa_nodes) == 0 && hwloc_bitmap_intersects(mine, theirs)) {
            json_t *o = device_json(&d);
            json_object_set_new(o, "index", json_integer(i));
            json_array_append_new(a, o);
        }
    }
    hwloc_bitmap_free(mine);
    hwloc_bitmap_free(theirs);
    return a;
}

json_t *sb_topo_rank_json(struct sb_topo *t, const struct sb_binding *b)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "host", t->host, "cpuset", b->cpuset, "pus",
                          b->pus, "cores", b->cores, "packages", list_json(b->packages), "numa_nodes",
                          list_json(b->numa_nodes), "bind", b->how, "bind_mode", sb_bind_mode_name(b->mode));
    if (!o)
        return NULL;
    struct sb_topo_device d;
    json_object_set_new(o, "gpu", sb_topo_gpu(t, b->gpu, &d) == 0 ? device_json(&d) : json_null());
    json_object_set_new(o, "near_gpus", near_devices_json(t, 1, b->numa_nodes));
    json_object_set_new(o, "near_nics", near_devices_json(t, 0, b->numa_nodes));
    if (b->note[0])
        json_object_set_new(o, "note", json_string(b->note));
    return o;
}

static json_t *numa_nodes_json(struct sb_topo *t)
{
    json_t *a = json_array();
    for (hwloc_obj_t n = NULL; (n = hwloc_get_next_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, n));) {
        struct sb_binding b;
        init_binding(&b, SB_BIND_NONE, -1);
        describe(t, n->cpuset, &b);
        json_array_append_new(a, json_pack("{s:i, s:o, s:s, s:s, s:I}", "os_index", (int)n->os_index, "package",
                                           b.package >= 0 ? json_integer(b.package) : json_null(), "cores",
                                           b.cores, "pus", b.pus, "memory_bytes", (json_int_t)n->attr->numanode.local_memory));
    }
    return a;
}

static json_t *packages_json(struct sb_topo *t)
{
    json_t *a = json_array();
    for (hwloc_obj_t p = NULL; (p = hwloc_get_next_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, p));) {
        struct sb_binding b;
        init_binding(&b, SB_BIND_NONE, -1);
        describe(t, p->cpuset, &b);
        const char *model = hwloc_obj_get_info_by_name(p, "CPUModel");
        json_array_append_new(a, json_pack("{s:i, s:s, s:o, s:s, s:s}", "index", (int)p->logical_index, "model",
                                           model ? model : "", "numa_nodes", list_json(b.numa_nodes), "cores",
                                           b.cores, "pus", b.pus));
    }
    return a;
}

static json_t *devices_json(struct sb_topo *t, int gpus)
{
    json_t *a = json_array();
    for (int i = 0; i < (gpus ? t->ngpus : t->nnics); i++) {
        struct sb_topo_device d;
        fill_device(t, gpus ? t->gpus[i] : t->nics[i], gpus, &d);
        json_t *o = device_json(&d);
        json_object_set_new(o, "index", json_integer(i));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *affinity_json(struct sb_topo *t)
{
    if (t->ngpus == 0)
        return json_null();
    json_t *rows = json_array();
    for (int g = 0; g < t->ngpus; g++) {
        json_t *row = json_array();
        for (int n = 0; n < t->nnics; n++)
            json_array_append_new(row, json_string(sb_topo_gpu_nic_path(t, g, n)));
        json_array_append_new(rows, row);
    }
    return json_pack("{s:s, s:o}", "legend",
                     "rows GPUs, columns NICs (index order); PIX one PCIe switch, PXB several PCIe bridges, "
                     "PHB a PCIe host bridge, NODE host bridges within a NUMA node, SYS across NUMA nodes",
                     "paths", rows);
}

json_t *sb_topo_machine_json(struct sb_topo *t)
{
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i}", "host", t->host, "package_count",
                          hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PACKAGE), "numa_node_count",
                          hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE), "core_count",
                          hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE), "pu_count",
                          hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU));
    if (!o)
        return NULL;
    char allowed[SB_TOPO_SETLEN];
    set_to_string(allowed_cpus(t), 1, allowed, sizeof allowed);
    json_object_set_new(o, "allowed_pus", json_string(allowed));
    json_object_set_new(o, "packages", packages_json(t));
    json_object_set_new(o, "numa_nodes", numa_nodes_json(t));
    json_object_set_new(o, "gpus", devices_json(t, 1));
    json_object_set_new(o, "nics", devices_json(t, 0));
    json_object_set_new(o, "gpu_nic_affinity", affinity_json(t));
    if (t->ngpus == 0)
        json_object_set_new(o, "gpu_note", json_string("no GPU found"));
    return o;
}

/* "mlx5_0, eno1" for the devices of one kind near the binding, or "none". */
static void near_names(struct sb_topo *t, int gpus, const struct sb_binding *b, char *buf, size_t len)
{
    json_t *a = near_devices_json(t, gpus, b->numa_nodes);
    size_t used = 0, i;
    json_t *d;
    buf[0] = '\0';
    json_array_foreach(a, i, d) {
        const char *name = json_string_value(json_object_get(d, "name"));
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name);
    }
    if (!buf[0])
        snprintf(buf, len, "none");
    json_decref(a);
}

void sb_topo_rank_summary(struct sb_topo *t, const struct sb_binding *b, char *buf, size_t len)
{
    char gpu[160] = "", gpus[256], nics[256];
    struct sb_topo_device d;
    if (sb_topo_gpu(t, b->gpu, &d) == 0 && strcmp(d.name, d.pci) != 0)
        snprintf(gpu, sizeof gpu, "; GPU %s (%s)", d.name, d.pci);
    else if (b->gpu >= 0)
        snprintf(gpu, sizeof gpu, "; GPU %s", d.pci);
    near_names(t, 1, b, gpus, sizeof gpus);
    near_names(t, 0, b, nics, sizeof nics);
    int multi_pkg = b->package < 0, multi_node = b->numa_node < 0;
    fmt(buf, len, "%s: package%s %s, NUMA node%s %s, cores %s (PUs %s), bind: %s%s; near GPUs: %s; near NICs: %s%s%s",
        t->host, multi_pkg ? "s" : "", b->packages, multi_node ? "s" : "", b->numa_nodes, b->cores, b->pus, b->how,
        gpu, gpus, nics, b->note[0] ? "; note: " : "", b->note);
}
