/* The GPU of a rank: local rank modulo the visible devices, or --device N. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_select.h"

enum { ID_LEN = 64 };

/* This rank's GPU as a string two ranks share exactly when they drive the same physical GPU (or
 * MIG instance): the node and the device's UUID, or its PCI id where CUDA gives no UUID.  Not the
 * device index: with CUDA_VISIBLE_DEVICES set per rank (Slurm's --gpus-per-task) every rank's
 * device 0 is another GPU. */
static void identity(const struct sb_comm *comm, int device, char *out, size_t len)
{
    struct cudaDeviceProp prop;
    int n = snprintf(out, len, "node %d: ", comm->node);
    if (n < 0 || (size_t)n >= len)
        return;
    if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
        for (int i = 0; i < 16 && (size_t)n + 2 < len; i++)
            n += snprintf(out + n, len - (size_t)n, "%02x", (unsigned char)prop.uuid.bytes[i]);
        return;
    }
    char pci[32];
    if (sb_gpu_pci(device, pci, sizeof pci) == 0)
        snprintf(out + n, len - (size_t)n, "pci %s", pci);
    else
        snprintf(out + n, len - (size_t)n, "device %d", device);
}

/* The local part: how many GPUs this rank sees, and which one it takes. */
int sb_gpu_choose(const struct sb_comm *comm, int wanted, const char *who, struct sb_gpu_choice *out, char *err,
                  size_t errlen)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        snprintf(err, errlen, "%s needs a GPU: no CUDA device visible here (%s)", who,
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return 2;
    }
    if (wanted >= count) {
        snprintf(err, errlen, "--device %d: only %d CUDA device(s) visible (0..%d)", wanted, count, count - 1);
        return 2;
    }
    out->count = count;
    out->device = wanted >= 0 ? wanted : comm->local_rank % count;
    out->sharing = 1;
    return 0;
}

/* What to do instead, for the refusal of two ranks on one GPU. */
static void sharing_hint(const struct sb_comm *comm, int wanted, int count, char *hint, size_t len)
{
    if (wanted >= 0)
        snprintf(hint, len, "leave --device out (local rank modulo the visible GPUs)");
    else if (comm->in_process)
        snprintf(hint, len, "use -g %d or fewer", count);
    else
        snprintf(hint, len, "run at most one rank per GPU on a node, or give each rank a GPU of its own "
                            "(CUDA_VISIBLE_DEVICES)");
}

int sb_gpu_select(const struct sb_comm *comm, int wanted, bool exclusive, const char *who, struct sb_gpu_choice *out,
                  char *err, size_t errlen)
{
    int rc = sb_gpu_choose(comm, wanted, who, out, err, errlen);
    char mine[ID_LEN] = "";
    if (rc == 0)
        identity(comm, out->device, mine, sizeof mine);
    /* Every rank takes part, also one whose choice failed, so that none waits for it. */
    char *all = calloc((size_t)comm->size, ID_LEN);
    int gathered = all && sb_comm_allgather_strings(comm, mine, all, ID_LEN) == 0;
    if (rc == 0 && !gathered) {
        snprintf(err, errlen, "%s: cannot compare the ranks' GPUs (out of memory)", who);
        rc = 2;
    }
    int other = -1;
    for (int r = 0; rc == 0 && r < comm->size; r++)
        if (strcmp(all + (size_t)r * ID_LEN, mine) == 0 && r != comm->rank) {
            out->sharing++;
            if (other < 0)
                other = r;
        }
    free(all);
    if (rc == 0 && exclusive && other >= 0) {
        char hint[160];
        sharing_hint(comm, wanted, out->count, hint, sizeof hint);
        snprintf(err, errlen, "%s: %s %d and %d would drive the same GPU (CUDA device %d of the %d this one sees): "
                 "NCCL needs a GPU per rank: %s", who, comm->in_process ? "threads" : "ranks",
                 comm->rank < other ? comm->rank : other, comm->rank < other ? other : comm->rank, out->device,
                 out->count, hint);
        rc = 2;
    }
    return rc;
}

int sb_gpu_pci(int device, char *pci, size_t len)
{
    char id[32];
    pci[0] = '\0';
    if (cudaDeviceGetPCIBusId(id, (int)sizeof id, device) != cudaSuccess)
        return -1;
    /* CUDA prints "00000000:18:00.0" (8-digit domain), hwloc "0000:18:00.0" */
    const char *colon = strchr(id, ':');
    unsigned domain = (unsigned)strtoul(id, NULL, 16);
    snprintf(pci, len, "%04x%s", domain, colon ? colon : "");
    for (char *c = pci; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    return 0;
}
