#include "comm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct comm_impl {
    MPI_Comm world; /* a duplicate of MPI_COMM_WORLD for harness traffic */
    MPI_Comm node;  /* ranks sharing memory with this one */
};

static MPI_Comm world_of(const struct sb_comm *c) { return ((struct comm_impl *)c->impl)->world; }

/* A launcher that started several processes which each became a 1-rank MPI job: the usual
 * cause is a binary built against another MPI than the mpirun/srun that launched it. */
static int launcher_ranks(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS", "MPI_LOCALNRANKS"};
    int most = 0;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > most)
            most = atoi(v);
    }
    return most;
}

int sb_comm_init(struct sb_comm *c, int *argc, char ***argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Init failed");
        return 2;
    }
    struct comm_impl *impl = calloc(1, sizeof *impl);
    if (!impl) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &impl->world);
    MPI_Comm_set_errhandler(impl->world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(impl->world, &c->rank);
    MPI_Comm_size(impl->world, &c->size);
    MPI_Comm_split_type(impl->world, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &impl->node);
    MPI_Comm_rank(impl->node, &c->local_rank);
    MPI_Comm_size(impl->node, &c->local_size);
    int leader = c->local_rank == 0, before = 0;
    MPI_Allreduce(&leader, &c->nodes, 1, MPI_INT, MPI_SUM, impl->world);
    MPI_Exscan(&leader, &before, 1, MPI_INT, MPI_SUM, impl->world);
    if (c->rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    c->node = before;
    MPI_Bcast(&c->node, 1, MPI_INT, 0, impl->node);
    c->impl = impl;

    int launched = launcher_ranks();
    if (c->size == 1 && launched > 1) {
        snprintf(err, errlen,
                 "the launcher started %d processes but each is a 1-rank MPI job: this binary was built "
                 "with %s, which is not the MPI of the mpirun/srun that launched it", launched,
#if defined(OPEN_MPI)
                 "Open MPI"
#elif defined(MPICH)
                 "MPICH"
#else
                 "another MPI"
#endif
        );
        return 2;
    }
    return 0;
}

void sb_comm_finalize(struct sb_comm *c)
{
    struct comm_impl *impl = c->impl;
    if (impl) {
        MPI_Comm_free(&impl->node);
        MPI_Comm_free(&impl->world);
        free(impl);
        c->impl = NULL;
    }
    MPI_Finalize();
}

void sb_comm_abort(const struct sb_comm *c, int code)
{
    (void)c;
    fflush(NULL);
    MPI_Abort(MPI_COMM_WORLD, code);
}

int sb_comm_barrier(const struct sb_comm *c) { return MPI_Barrier(world_of(c)); }

int sb_comm_reduce_max_sum(const struct sb_comm *c, const double *in, double *max, double *sum, size_t n)
{
    int rc = MPI_Reduce(in, max, (int)n, MPI_DOUBLE, MPI_MAX, 0, world_of(c));
    if (rc == MPI_SUCCESS)
        rc = MPI_Reduce(in, sum, (int)n, MPI_DOUBLE, MPI_SUM, 0, world_of(c));
    return rc;
}

int sb_comm_bcast_int(const struct sb_comm *c, int *v) { return MPI_Bcast(v, 1, MPI_INT, 0, world_of(c)); }

int sb_comm_bcast_double(const struct sb_comm *c, double *v)
{
    return MPI_Bcast(v, 1, MPI_DOUBLE, 0, world_of(c));
}

int64_t sb_comm_sum_int64(const struct sb_comm *c, int64_t v)
{
    int64_t out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_SUM, world_of(c));
    return out;
}

int sb_comm_max_int(const struct sb_comm *c, int v)
{
    int out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, world_of(c));
    return out;
}

int64_t sb_comm_min_int64(const struct sb_comm *c, int64_t v)
{
    int64_t out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_MIN, world_of(c));
    return out;
}

int sb_comm_gather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len)
{
    char *buf = calloc(1, len);
    if (!buf)
        return -1;
    snprintf(buf, len, "%s", mine);
    int rc = MPI_Gather(buf, (int)len, MPI_CHAR, out, (int)len, MPI_CHAR, 0, world_of(c));
    free(buf);
    return rc;
}

void sb_comm_library_version(char *buf, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, "\n,")] = '\0';
    snprintf(buf, len, "%s", v);
}
