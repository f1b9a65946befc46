/* Which backend a run uses: the only place that knows which backends this build has. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#ifdef SB_HAVE_CUDA
#include "gpu_select.h"
#endif

#define NO_MPI "this build has no MPI (configure found no mpicc): use --backend nccl -g N"

const char *sb_backend_default(void)
{
#ifdef SB_HAVE_MPI
    return "mpi";
#else
    return "nccl";
#endif
}

int sb_backend_check(const char *backend, char *err, size_t errlen)
{
#ifndef SB_HAVE_MPI
    if (strcmp(backend, "mpi") == 0) {
        snprintf(err, errlen, "--backend mpi: " NO_MPI);
        return 2;
    }
#endif
    (void)backend;
    (void)err;
    (void)errlen;
    return 0;
}

#ifndef SB_HAVE_MPI
static int mpi_init(struct sb_backend *be, const char *memory, int device, const struct sb_comm *comm,
                    const struct sb_mem_policy *mem, char *err, size_t errlen)
{
    (void)be;
    (void)memory;
    (void)device;
    (void)comm;
    (void)mem;
    return sb_backend_check("mpi", err, errlen);
}
#else
static int mpi_init(struct sb_backend *be, const char *memory, int device, const struct sb_comm *comm,
                    const struct sb_mem_policy *mem, char *err, size_t errlen)
{
    if (strcmp(memory, "host") == 0)
        return sb_backend_mpi_init(be, comm, mem, err, errlen);
#ifdef SB_HAVE_CUDA
    return sb_backend_mpi_device_init(be, memory, device, comm, mem, err, errlen);
#else
    (void)device;
    snprintf(err, errlen, "--backend mpi --memory %s needs a CUDA build: this build has no CUDA (configure found "
             "none; see --with-cuda)", memory);
    return 2;
#endif
}
#endif

int sb_backend_init(struct sb_backend *be, const char *backend, const char *memory, int device,
                    const struct sb_comm *comm, const struct sb_mem_policy *mem, char *err, size_t errlen)
{
    if (strcmp(backend, "mpi") == 0)
        return mpi_init(be, memory, device, comm, mem, err, errlen);
    if (strcmp(memory, "device") != 0) {
        snprintf(err, errlen, "--backend nccl --memory %s: NCCL works on device buffers: use --memory device", memory);
        return 2;
    }
#ifdef SB_HAVE_NCCL
    return sb_backend_nccl_init(be, comm, device, err, errlen);
#else
    snprintf(err, errlen, "--backend nccl: this build has no NCCL (configure found none; see --with-nccl)");
    return 2;
#endif
}

int sb_backend_gpu_pci(const char *backend, const char *memory, int device, const struct sb_comm *comm, char *pci,
                       size_t len)
{
    pci[0] = '\0';
#ifdef SB_HAVE_CUDA
    if (strcmp(memory, "device") != 0)
        return -1;
    struct sb_gpu_choice gpu;
    char err[256];
    if (sb_gpu_choose(comm, device, backend, &gpu, err, sizeof err) != 0)
        return -1; /* the backend's own set-up reports it */
    return sb_gpu_pci(gpu.device, pci, len);
#else
    (void)backend;
    (void)memory;
    (void)device;
    (void)comm;
    (void)len;
    return -1;
#endif
}
