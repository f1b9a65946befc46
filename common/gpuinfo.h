/* The GPUs a rank can see, for the run header: CUDA's view (runtime and driver versions, the
 * visible devices), NVML's view (driver version, every GPU of the node with its NVLink links)
 * and the NCCL version.  Every part degrades to {"available": false, "why": "..."} with a
 * one-line reason; nothing here exits, and no value is printed that was not read.
 *
 * NVML is loaded at run time with dlopen, so the binaries run where it is absent; the library
 * name is "libnvidia-ml.so.1", or the environment variable SB_NVML_LIBRARY (a name or a path,
 * for tests and for drivers installed off the loader path).
 *
 * The CUDA part is common/gpuinfo_cuda.c on a CUDA build, common/gpuinfo_nocuda.c otherwise; the
 * NCCL version common/gpuinfo_nccl.c on an NCCL build, common/gpuinfo_nonccl.c otherwise. */
#ifndef SB_GPUINFO_H
#define SB_GPUINFO_H

#include <jansson.h>
#include <stddef.h>

/* {"available": true, "library", "driver_version", "gpus": [{"index", "name", "pci_bus_id"
 * ("0000:18:00.0", lower case as hwloc), "memory_total_bytes", "nvlink": {"links_active",
 * "links_total_probed", "state": ["up"|"down", ...] (one per link that answered, link order),
 * and "why" when no link answered}, "pcie": {"gen_max", "width_max", "gen_current",
 * "width_current", "peak_gbps" (one way, at gen_max x width_max)} (null where NVML gives
 * none)}]}, or {"available": false, "why"}. */
json_t *sb_gpuinfo_nvml_json(void);

/* Nominal one-way GB/s of one PCIe lane of generation gen (after line coding: 8b/10b up to
 * gen 2, 128b/130b for gens 3-5, and gen 6's FLIT mode at 242/256), 0 for an unknown gen. */
double sb_gpuinfo_pcie_lane_gbps(int gen);

/* The nominal PCIe peak (GB/s, one way) of the NVML GPU that is CUDA device `cuda_index` in
 * `info` (sb_gpuinfo_json's), or 0 when unknown. */
double sb_gpuinfo_pcie_peak(json_t *info, int cuda_index);

/* {"available": true, "runtime_version": "13.0", "driver_version": "13.0" (the CUDA version the
 * driver supports) or null (no driver), "devices": [{"index", "name", "pci_bus_id",
 * "memory_total_bytes", "compute_capability": "9.0"}]}, or {"available": false, "why"} (with
 * the versions where they could be read). */
json_t *sb_gpuinfo_cuda_json(void);

/* The NCCL library's version ("2.28.9") into buf: 0; or the reason there is none ("not built
 * with NCCL"): -1. */
int sb_gpuinfo_nccl_version(char *buf, size_t len);

/* {"cuda": ..., "nvml": ..., "nccl_version": "2.28.9" or null, "nccl_why" when null}.  NVML
 * lists every GPU of the node; on a CUDA build each NVML GPU also gets "cuda_index", the CUDA
 * device with its PCI bus id in this process, or null when CUDA does not see it
 * (CUDA_VISIBLE_DEVICES). */
json_t *sb_gpuinfo_json(void);

/* One line, no newline (truncated to len): "GPU0 NVIDIA H100 80GB HBM3 0000:18:00.0 79.6 GiB,
 * 18/18 NVLink up; driver 580.65.06, CUDA runtime 13.0, NCCL 2.28.9" (the CUDA devices, else the
 * NVML GPUs), or "no GPU: CUDA: <why>; NVML: <why>; CUDA runtime 13.0, NCCL ...". */
void sb_gpuinfo_summary(json_t *info, char *buf, size_t len);

/* "00000000:18:00.0" (CUDA, NVML) -> "0000:18:00.0" (hwloc), lower case; other text copied. */
void sb_gpuinfo_pci_normalize(const char *in, char *out, size_t len);

#endif
