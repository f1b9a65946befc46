/* Which backend a run uses: the only place that knows which backends this build has. */
#include <stdio.h>
#include <string.h>

#include "backend.h"

int sb_backend_init(struct sb_backend *be, const char *backend, const char *memory, int device,
                    const struct sb_comm *comm, const struct sb_mem_policy *mem, char *err, size_t errlen)
{
    if (strcmp(backend, "mpi") == 0) {
        if (strcmp(memory, "host") != 0) {
            snprintf(err, errlen, "--backend mpi --memory %s: MPI with device buffers (CUDA-aware or staged) is "
                     "not in this version; use --memory host, or --backend nccl", memory);
            return 2;
        }
        return sb_backend_mpi_init(be, comm, mem, err, errlen);
    }
    if (strcmp(memory, "device") != 0) {
        snprintf(err, errlen, "--backend nccl --memory %s: NCCL works on device buffers: use --memory device", memory);
        return 2;
    }
#ifdef SB_HAVE_NCCL
    return sb_backend_nccl_init(be, comm, device, err, errlen);
#else
    (void)device;
    snprintf(err, errlen, "--backend nccl: this build has no NCCL (configure found none; see --with-nccl)");
    return 2;
#endif
}

int sb_backend_gpu_pci(const char *backend, int device, const struct sb_comm *comm, char *pci, size_t len)
{
    pci[0] = '\0';
#ifdef SB_HAVE_NCCL
    if (strcmp(backend, "nccl") == 0)
        return sb_nccl_gpu_pci(device, comm, pci, len);
#else
    (void)backend;
    (void)device;
    (void)comm;
    (void)len;
#endif
    return -1;
}
