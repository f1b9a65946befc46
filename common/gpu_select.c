/* The GPU of a rank: local rank modulo the visible devices, or --device N. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_select.h"

/* NCCL cannot put two ranks of one communicator on one GPU: refuse before it fails obscurely. */
static int refuse_sharing(const struct sb_comm *comm, int wanted, int count, char *err, size_t errlen)
{
    if (comm->in_process && wanted >= 0 && comm->local_size > 1) {
        snprintf(err, errlen, "--device %d with -g %d would put every thread on one GPU; leave --device out (thread "
                 "k drives GPU k)", wanted, comm->local_size);
        return 2;
    }
    if (comm->in_process && wanted < 0 && comm->local_size > count) {
        snprintf(err, errlen, "-g %d but %d GPU(s) visible: each thread drives a GPU of its own; use -g %d or fewer",
                 comm->local_size, count, count);
        return 2;
    }
    if (wanted >= 0 && comm->local_size > 1) {
        snprintf(err, errlen, "--device %d with %d ranks on this node would put them all on one GPU; leave "
                 "--device out (local rank modulo the GPUs) or run one rank per node", wanted, comm->local_size);
        return 2;
    }
    if (wanted < 0 && comm->local_size > count) {
        snprintf(err, errlen,
                 "%d ranks on this node but %d GPU(s): two ranks of one NCCL communicator would share a GPU; "
                 "run at most %d ranks per node", comm->local_size, count, count);
        return 2;
    }
    return 0;
}

/* Local ranks r < local_size with r % count == device (all of them for --device N). */
static int ranks_on(const struct sb_comm *comm, int wanted, int device, int count)
{
    if (wanted >= 0)
        return comm->local_size;
    return (comm->local_size - 1 - device) / count + 1;
}

int sb_gpu_select(const struct sb_comm *comm, int wanted, bool exclusive, const char *who, struct sb_gpu_choice *out,
                  char *err, size_t errlen)
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
    if (exclusive && refuse_sharing(comm, wanted, count, err, errlen) != 0)
        return 2;
    out->count = count;
    out->device = wanted >= 0 ? wanted : comm->local_rank % count;
    out->sharing = ranks_on(comm, wanted, out->device, count);
    return 0;
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
