/* Which GPU a rank drives (CUDA builds only: gpu_select.c), shared by the NCCL backend and the
 * MPI backend on device or pinned memory.  No CUDA types here. */
#ifndef SB_GPU_SELECT_H
#define SB_GPU_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "comm.h"

struct sb_gpu_choice {
    int device;  /* CUDA device index */
    int count;   /* devices visible to this rank */
    int sharing; /* ranks of this node on `device`, this one included */
};

/* GPU `wanted`, or local rank modulo the visible devices when wanted < 0, on this rank alone
 * (sharing left at 1).  `who` names the user's choice in messages ("--backend nccl").  0, or 2
 * with err filled. */
int sb_gpu_choose(const struct sb_comm *comm, int wanted, const char *who, struct sb_gpu_choice *out, char *err,
                  size_t errlen);

/* sb_gpu_choose, then, collectively (every rank of comm must call it, whatever happened before),
 * `sharing` counted by comparing the physical GPUs (UUIDs) the ranks of each node drive, so that
 * per-rank CUDA_VISIBLE_DEVICES is understood.  `exclusive` refuses two ranks on one GPU (NCCL);
 * without it ranks may share one (MPI).  0, or 2 with err filled (this rank only: the caller
 * agrees with the others). */
int sb_gpu_select(const struct sb_comm *comm, int wanted, bool exclusive, const char *who, struct sb_gpu_choice *out,
                  char *err, size_t errlen);

/* The PCI id of CUDA device `device` as hwloc writes it ("0000:18:00.0"); 0, or -1. */
int sb_gpu_pci(int device, char *pci, size_t len);

#endif
