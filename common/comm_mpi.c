#include "comm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct comm_impl {
    MPI_Comm world; /* a duplicate of MPI_COMM_WORLD for harness traffic */
    MPI_Comm node;  /* ranks sharing memory with this one */
    MPI_Comm side;  /* watchdog reports (MPI_COMM_NULL until opened) */
};

enum { SIDE_TAG = 7, PREFLIGHT_TAG = 8, CLOCK_TAG = 9 };

static MPI_Comm world_of(const struct sb_comm *c) { return ((struct comm_impl *)c->impl)->world; }

static int env_int(const char *name)
{
    const char *v = getenv(name);
    return v ? atoi(v) : 0;
}

/* A launcher that started several processes which each became a 1-rank MPI job: the usual
 * cause is a binary built against another MPI than the mpirun/srun that launched it. Slurm's
 * count is the step's (SLURM_STEP_NUM_TASKS, set by srun), not the allocation's SLURM_NTASKS:
 * a singleton run in an `sbatch -n 8` script is one process, legitimately. */
static int launcher_ranks(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS",
                                 "MPI_LOCALNRANKS"};
    int most = 0;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        most = env_int(vars[i]) > most ? env_int(vars[i]) : most;
    return most;
}

/* This process's rank as the launcher numbered it (0 when no launcher says): of N processes that
 * cannot form one job, only the first says why, so the user reads one line, not N. */
static int launcher_rank(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return env_int(vars[i]);
    return 0;
}

/* srun started several tasks but gave them no process-management interface (`--mpi=none`, the
 * default where MpiDefault is unset): MPI_Init would either abort (Open MPI) or make each task a
 * singleton. Nothing of PMIx, PMI-1/2 or a launcher of MPI's own is in the environment. */
static int srun_without_pmi(void)
{
    static const char *pmi[] = {"PMIX_RANK", "PMI_RANK", "PMI_FD", "PMI_ID", "OMPI_COMM_WORLD_RANK"};
    if (env_int("SLURM_STEP_NUM_TASKS") <= 1)
        return 0;
    for (size_t i = 0; i < sizeof pmi / sizeof *pmi; i++)
        if (getenv(pmi[i]))
            return 0;
    return 1;
}

/* Fills c's ranks, node and node count from impl->world (which it takes over). */
static void describe(struct sb_comm *c, struct comm_impl *impl)
{
    impl->side = MPI_COMM_NULL;
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
}

int sb_comm_init(struct sb_comm *c, int *argc, char ***argv, int want_threads, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (srun_without_pmi()) {
        if (launcher_rank() == 0)
            snprintf(err, errlen,
                     "srun started %d tasks without an MPI plugin (no PMIx or PMI in the environment), so "
                     "they cannot form one MPI job: run srun --mpi=pmix (srun --mpi=list shows this Slurm's), "
                     "or mpirun",
                     env_int("SLURM_STEP_NUM_TASKS"));
        return 2;
    }
    /* Threads only when asked: MPI_THREAD_MULTIPLE adds locking to every call. */
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(argc, argv, want_threads ? MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE, &provided) !=
        MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Init failed");
        return 2;
    }
    c->threads = provided == MPI_THREAD_MULTIPLE;
    struct comm_impl *impl = calloc(1, sizeof *impl);
    if (!impl) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &impl->world);
    describe(c, impl);

    int launched = launcher_ranks();
    if (c->size == 1 && launched > 1) {
        if (launcher_rank() != 0)
            return 2;
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
        if (impl->side != MPI_COMM_NULL)
            MPI_Comm_free(&impl->side);
        MPI_Comm_free(&impl->node);
        MPI_Comm_free(&impl->world);
        free(impl);
        c->impl = NULL;
    }
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) /* init may have been refused before MPI_Init */
        MPI_Finalize();
}

int sb_comm_in_process(void) { return 0; }

int sb_comm_run(int ranks, int *argc, char ***argv, int want_threads, sb_comm_rank_fn fn, void *arg, char *err,
                size_t errlen)
{
    if (ranks != 1) {
        snprintf(err, errlen, "-g N is for builds without MPI (one process, N GPUs); under MPI use one rank per GPU");
        return 2;
    }
    struct sb_comm c;
    int rc = sb_comm_init(&c, argc, argv, want_threads, err, errlen);
    if (rc == 0)
        rc = fn(&c, arg);
    sb_comm_finalize(&c);
    return rc;
}

int sb_comm_split(const struct sb_comm *c, int color, int key, struct sb_comm *sub)
{
    memset(sub, 0, sizeof *sub);
    MPI_Comm part = MPI_COMM_NULL;
    int rc = MPI_Comm_split(world_of(c), color >= 0 ? color : MPI_UNDEFINED, key, &part);
    if (rc != MPI_SUCCESS || part == MPI_COMM_NULL)
        return rc;
    struct comm_impl *impl = calloc(1, sizeof *impl);
    if (!impl) {
        MPI_Comm_free(&part);
        return MPI_ERR_NO_MEM;
    }
    impl->world = part;
    describe(sub, impl);
    return 0;
}

void sb_comm_free(struct sb_comm *sub)
{
    struct comm_impl *impl = sub->impl;
    if (impl) {
        MPI_Comm_free(&impl->node);
        MPI_Comm_free(&impl->world);
        free(impl);
    }
    memset(sub, 0, sizeof *sub);
}

struct sb_comm_request {
    MPI_Request req;
};

int sb_comm_ibarrier(const struct sb_comm *c, struct sb_comm_request **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return MPI_ERR_NO_MEM;
    int rc = MPI_Ibarrier(world_of(c), &(*out)->req);
    if (rc != MPI_SUCCESS) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int sb_comm_request_done(struct sb_comm_request **req)
{
    int flag = 0;
    if (!*req)
        return 1;
    if (MPI_Test(&(*req)->req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || flag) {
        free(*req);
        *req = NULL;
        return 1;
    }
    return 0;
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

/* Rank 0 answers each rank's pings in turn with its clock; a rank's first pings may wait for
 * its turn, which only lengthens those round trips (the shortest is kept). */
int sb_comm_clock_offset(const struct sb_comm *c, int rounds, double (*clock)(void), double *offset, double *rtt)
{
    MPI_Comm w = world_of(c);
    int rc = MPI_SUCCESS;
    *offset = *rtt = 0;
    if (c->rank == 0) {
        for (int r = 1; r < c->size && rc == MPI_SUCCESS; r++)
            for (int k = 0; k < rounds && rc == MPI_SUCCESS; k++) {
                double t;
                rc = MPI_Recv(&t, 1, MPI_DOUBLE, r, CLOCK_TAG, w, MPI_STATUS_IGNORE);
                t = clock();
                if (rc == MPI_SUCCESS)
                    rc = MPI_Send(&t, 1, MPI_DOUBLE, r, CLOCK_TAG, w);
            }
        return rc;
    }
    double best = -1;
    for (int k = 0; k < rounds && rc == MPI_SUCCESS; k++) {
        double t1 = clock(), t0 = 0;
        rc = MPI_Send(&t1, 1, MPI_DOUBLE, 0, CLOCK_TAG, w);
        if (rc == MPI_SUCCESS)
            rc = MPI_Recv(&t0, 1, MPI_DOUBLE, 0, CLOCK_TAG, w, MPI_STATUS_IGNORE);
        double t2 = clock();
        if (rc == MPI_SUCCESS && (best < 0 || t2 - t1 < best)) {
            best = t2 - t1;
            *offset = t0 - (t1 + t2) / 2;
        }
    }
    *rtt = best > 0 ? best : 0;
    return rc;
}

int sb_comm_bcast_double(const struct sb_comm *c, double *v)
{
    return MPI_Bcast(v, 1, MPI_DOUBLE, 0, world_of(c));
}

int sb_comm_bcast_bytes(const struct sb_comm *c, void *buf, size_t len)
{
    return MPI_Bcast(buf, (int)len, MPI_BYTE, 0, world_of(c));
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

int sb_comm_gather_doubles(const struct sb_comm *c, const double *mine, size_t n, double *out)
{
    return MPI_Gather(mine, (int)n, MPI_DOUBLE, out, (int)n, MPI_DOUBLE, 0, world_of(c));
}

int sb_comm_allgather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len)
{
    char *buf = calloc(1, len);
    if (!buf)
        return -1;
    snprintf(buf, len, "%s", mine);
    int rc = MPI_Allgather(buf, (int)len, MPI_CHAR, out, (int)len, MPI_CHAR, world_of(c));
    free(buf);
    return rc;
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

int sb_comm_side_open(struct sb_comm *c)
{
    struct comm_impl *impl = c->impl;
    int rc = MPI_Comm_dup(impl->world, &impl->side);
    if (rc == MPI_SUCCESS)
        MPI_Comm_set_errhandler(impl->side, MPI_ERRORS_RETURN);
    return rc;
}

int sb_comm_side_send(const struct sb_comm *c, const char *text)
{
    struct comm_impl *impl = c->impl;
    return MPI_Send(text, (int)strlen(text) + 1, MPI_CHAR, 0, SIDE_TAG, impl->side);
}

int sb_comm_side_poll(const struct sb_comm *c, char *buf, size_t len, int *from)
{
    struct comm_impl *impl = c->impl;
    int flag = 0, count = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, SIDE_TAG, impl->side, &flag, &st) != MPI_SUCCESS || !flag)
        return 0;
    MPI_Get_count(&st, MPI_CHAR, &count);
    char *msg = malloc((size_t)count + 1);
    if (!msg)
        return 0;
    MPI_Recv(msg, count, MPI_CHAR, st.MPI_SOURCE, SIDE_TAG, impl->side, MPI_STATUS_IGNORE);
    msg[count] = '\0';
    snprintf(buf, len, "%s", msg);
    free(msg);
    *from = st.MPI_SOURCE;
    return 1;
}

void sb_comm_side_close(struct sb_comm *c)
{
    struct comm_impl *impl = c->impl;
    if (impl && impl->side != MPI_COMM_NULL)
        MPI_Comm_free(&impl->side);
}

/* Polls requests until all complete or the deadline passes; 1 when all completed. */
static int wait_until(MPI_Request *req, int n, double deadline_s, int *done)
{
    double end = MPI_Wtime() + deadline_s;
    int all = 0;
    while (!all && MPI_Wtime() < end) {
        all = 1;
        for (int i = 0; i < n; i++) {
            if (!done[i])
                MPI_Test(&req[i], &done[i], MPI_STATUS_IGNORE);
            all &= done[i];
        }
    }
    return all;
}

int sb_comm_preflight(const struct sb_comm *c, double deadline_s, int *heard)
{
    int n = c->size, missing = 0;
    MPI_Comm comm;
    MPI_Comm_dup(world_of(c), &comm);
    MPI_Comm_set_name(comm, "scalebench_preflight");
    MPI_Request *req = calloc((size_t)2 * (size_t)n, sizeof *req);
    int *done = calloc((size_t)2 * (size_t)n, sizeof *done), *in = calloc((size_t)n, sizeof *in), out = c->rank;
    if (!req || !done || !in) {
        free(req);
        free(done);
        free(in);
        return -1;
    }
    for (int r = 0; r < n; r++) {
        done[r] = done[n + r] = r == c->rank; /* no message to oneself */
        req[r] = req[n + r] = MPI_REQUEST_NULL;
        if (r == c->rank)
            continue;
        MPI_Irecv(&in[r], 1, MPI_INT, r, PREFLIGHT_TAG, comm, &req[r]);
        MPI_Isend(&out, 1, MPI_INT, r, PREFLIGHT_TAG, comm, &req[n + r]);
    }
    wait_until(req, 2 * n, deadline_s, done);
    for (int r = 0; r < n; r++) {
        heard[r] = r == c->rank || (done[r] && in[r] == r);
        missing += !heard[r];
    }
    if (missing == 0) /* with pending requests the communicator cannot be freed; the job ends anyway */
        MPI_Comm_free(&comm);
    free(req);
    free(done);
    free(in);
    return missing;
}

int sb_comm_gather_strings_deadline(const struct sb_comm *c, const char *mine, char *out, size_t len,
                                    double deadline_s)
{
    char *buf = calloc(1, len);
    if (!buf)
        return -1;
    snprintf(buf, len, "%s", mine);
    MPI_Request req;
    int done = 0;
    MPI_Igather(buf, (int)len, MPI_CHAR, out, (int)len, MPI_CHAR, 0, world_of(c), &req);
    int ok = wait_until(&req, 1, deadline_s, &done);
    if (ok)
        free(buf); /* otherwise MPI may still write from it; the job is about to end */
    return ok ? 0 : -1;
}

void sb_comm_library_version(char *buf, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, "\n,")] = '\0';
    snprintf(buf, len, "%s", v);
}
