/* Topology, binding and device locality (hwloc).
 *
 * One struct sb_topo wraps an hwloc topology loaded with its I/O devices (PCI, GPUs, NICs),
 * either of this machine or of a saved XML file (tests, `sb_topo --input`).  Placement is
 * split in two so that it can be tested on XML: sb_topo_plan_binding() computes which cpuset
 * a rank gets; sb_topo_apply_binding() applies it to the calling process (or thread, see
 * sb_topo_bind_threads; this machine only) and reports what was actually obtained. */
#ifndef SB_TOPO_H
#define SB_TOPO_H

#include <jansson.h>
#include <stddef.h>

struct sb_topo;

/* Loads this machine's topology (xml_path NULL) or an hwloc XML file.  0, or 2 with err. */
int sb_topo_open(struct sb_topo **t, const char *xml_path, char *err, size_t errlen);
void sb_topo_close(struct sb_topo *t);
/* 1 when the topology is this machine's (binding possible), 0 for a loaded XML file. */
int sb_topo_is_this_system(const struct sb_topo *t);
/* threads = 1: binding (applied and read) is the calling thread's, not the whole process's: the
 * ranks are threads of one process (the build without MPI).  Default 0: the process. */
void sb_topo_bind_threads(struct sb_topo *t, int threads);

/* The last-level data cache above the PU the calling thread runs on (the first PU for an XML
 * topology): its size in bytes and level (3 for an L3), or 0 and level 0 when hwloc reports
 * none.  A stream larger than this is served from DRAM. */
unsigned long long sb_topo_llc_bytes(const struct sb_topo *t, int *level);

/* --bind MODE. */
enum sb_bind_mode { SB_BIND_AUTO, SB_BIND_NONE, SB_BIND_CORE, SB_BIND_NUMA };
int sb_bind_mode_parse(const char *s); /* the mode, or -1 if unknown */
const char *sb_bind_mode_name(enum sb_bind_mode m);

#define SB_TOPO_SETLEN 1024 /* bitmap strings: 1024 PUs or more fit */
#define SB_TOPO_LISTLEN 256

/* A rank's binding, planned or obtained.  Indexes: cores and packages are hwloc logical
 * indexes (what lstopo prints as L#), PUs and NUMA nodes are OS indexes (what taskset,
 * numactl and /sys use); "package"/"numa_node" are -1 when the cpuset spans several. */
struct sb_binding {
    enum sb_bind_mode mode;         /* the mode asked for */
    char cpuset[SB_TOPO_SETLEN];    /* hwloc bitmap, as `hwloc-bind --get` prints it */
    char pus[SB_TOPO_SETLEN];       /* OS indexes of the PUs, "0-7,32-39", as `taskset -c` */
    char cores[SB_TOPO_LISTLEN];    /* logical indexes of the cores it covers (even partly) */
    char packages[64];              /* logical package indexes, list */
    char numa_nodes[64];            /* OS NUMA node indexes, list */
    int package, numa_node;         /* the single one, or -1 */
    int gpu;                        /* index into the GPU list this rank is placed near, or -1 */
    char how[48];                   /* "scalebench core", "launcher", "none", ... */
    char note[160];                 /* oversubscription and similar remarks, or "" */
};

/* Which cpuset rank `local_rank` of `local_size` on this node gets under `mode`:
 *   none: the whole allowed cpuset;
 *   core: one core each, in order (rank i -> core i mod cores);
 *   numa: the whole NUMA node, round-robin (rank i -> node i mod nodes);
 *   auto: one core each, spread round-robin over NUMA nodes (rank i -> node i mod nodes,
 *         then the next free core there), so consecutive ranks land on different sockets.
 * With gpu_index >= 0 the rank drives that GPU: auto and numa give the cores local to the
 * GPU, core gives one of them (GPUs sharing a locality take successive cores).
 * Pure: nothing is applied.  0, or 2 with err. */
int sb_topo_plan_binding(struct sb_topo *t, enum sb_bind_mode mode, int local_rank, int local_size,
                         int gpu_index, struct sb_binding *out, char *err, size_t errlen);

/* Applies the planned binding to the calling process and fills `out` with what it really is
 * afterwards.  A binding the launcher (or taskset/numactl) already applied -- the current
 * binding is narrower than the allowed cpuset -- is kept and reported as "launcher" unless
 * `explicit_mode` says the user asked for a mode with --bind; mode none never binds.
 * Call it before allocating buffers, so first-touch places them near the rank.
 * 0, or 2 with err (for example on an XML topology). */
int sb_topo_apply_binding(struct sb_topo *t, enum sb_bind_mode mode, int explicit_mode, int local_rank,
                          int local_size, int gpu_index, struct sb_binding *out, char *err, size_t errlen);

/* The calling process's current binding, described (how = "current"). */
int sb_topo_get_binding(struct sb_topo *t, struct sb_binding *out, char *err, size_t errlen);

/* Devices.  GPUs: PCI devices with a GPU/co-processor OS device (CUDA, NVML, ...) or NVIDIA
 * display controllers (class 0x0300/0x0302); NICs: PCI devices with network or OpenFabrics OS
 * devices.  Both in PCI bus order. */
int sb_topo_gpu_count(const struct sb_topo *t);
int sb_topo_nic_count(const struct sb_topo *t);
struct sb_topo_device {
    char name[64];      /* "cuda0", "mlx5_0", or the PCI id when no OS device is known */
    char aliases[128];  /* other OS device names of the same PCI device, "nvml0" */
    char model[128];    /* GPU model or PCI device name, "" if unknown */
    char pci[32];       /* "0000:18:00.0" */
    char kind[16];      /* "gpu", "infiniband", "ethernet", "network" */
    char numa_nodes[64];
    char local_pus[SB_TOPO_SETLEN];
    int package;        /* logical index, -1 if not local to one */
};
int sb_topo_gpu(const struct sb_topo *t, int i, struct sb_topo_device *out); /* 0, -1 if none */
int sb_topo_nic(const struct sb_topo *t, int i, struct sb_topo_device *out);
/* PCIe path between GPU g and NIC n, as `nvidia-smi topo -m` names it: "PIX" (one PCIe
 * switch), "PXB" (several bridges, no host bridge), "PHB" (through a host bridge), "NODE"
 * (between host bridges of one NUMA node), "SYS" (across NUMA nodes / sockets). */
const char *sb_topo_gpu_nic_path(const struct sb_topo *t, int g, int n);

/* Records. */
json_t *sb_topo_rank_json(struct sb_topo *t, const struct sb_binding *b);
json_t *sb_topo_machine_json(struct sb_topo *t);
/* "host: package 0, NUMA node 0, cores 0 (PUs 0,32), bind: scalebench auto; GPU cuda0 (0000:24:00.0);
 *  near GPUs: cuda0, cuda1; near NICs: eno1, mlx5_0[; note: ...]" */
void sb_topo_rank_summary(struct sb_topo *t, const struct sb_binding *b, char *buf, size_t len);
void sb_topo_host_name(const struct sb_topo *t, char *buf, size_t len);

#endif
