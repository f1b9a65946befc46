/* Test-only PMPI wrapper, loaded with LD_PRELOAD, that injects faults into collectives so the
 * tests can prove scalebench notices them.  Environment:
 *   SB_FAULT=corrupt   after the real call, change one byte of the receive buffer
 *   SB_FAULT=delay     sleep SB_FAULT_DELAY_US microseconds inside the call, before it
 *   SB_FAULT=slow      sleep SB_FAULT_DELAY_US after the call returns: only the affected rank's
 *                      time grows (a rank slow to finish, not one the others wait for)
 *   SB_FAULT=stall     sleep SB_FAULT_DELAY_US once, on the first affected call
 *   SB_FAULT=late      sleep SB_FAULT_DELAY_US after each barrier of the measured communicator:
 *                      the affected rank reaches every timed call late (its clock starts late too)
 *   SB_FAULT=mute      the affected rank sends nothing in the preflight (communicator
 *                      "scalebench_preflight"): a rank its peers cannot hear from
 *   SB_FAULT=trace     AllReduce and AllToAll: append "send recv hash" per call (the buffers'
 *                      addresses and an FNV-1a hash of the result) to SB_FAULT_TRACE.<world rank>
 *                      (--off-cache: which buffers each call used, and whether all got one answer)
 *   SB_FAULT_RANK      the rank affected (default 0; -1 = every rank), in the call's communicator
 *   SB_FAULT_WORLD_RANK the rank affected, in MPI_COMM_WORLD (overrides SB_FAULT_RANK: sb_pairs
 *                      measures on a communicator per pair, where ranks are numbered anew)
 *   SB_FAULT_MIN_BYTES only calls moving at least this many bytes per rank (default 0)
 * Only calls on the communicator the MPI backend names "scalebench_measured" are touched:
 * the harness's control traffic (iteration decisions, gathers) must stay intact. */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int affected(MPI_Comm comm, int count, MPI_Datatype type)
{
    const char *fault = getenv("SB_FAULT");
    if (!fault || !*fault)
        return 0;
    char name[MPI_MAX_OBJECT_NAME] = "";
    int len = 0;
    MPI_Comm_get_name(comm, name, &len);
    if (strcmp(name, "scalebench_measured") != 0)
        return 0;
    int rank, size = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Type_size(type, &size);
    const char *r = getenv("SB_FAULT_RANK"), *m = getenv("SB_FAULT_MIN_BYTES");
    int want = r ? atoi(r) : 0;
    const char *w = getenv("SB_FAULT_WORLD_RANK");
    if (w) {
        want = atoi(w);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    }
    long long min_bytes = m ? atoll(m) : 0;
    return (want < 0 || want == rank) && (long long)count * size >= min_bytes;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void before_call(void)
{
    static int stalled;
    const char *fault = getenv("SB_FAULT"), *d = getenv("SB_FAULT_DELAY_US");
    long us = d ? atol(d) : 1000;
    if (strcmp(fault, "delay") == 0 || (strcmp(fault, "stall") == 0 && !stalled++))
        sleep_us(us);
}

static void after_call(void *recv, int count, MPI_Datatype type)
{
    int size = 0;
    MPI_Type_size(type, &size);
    const char *d = getenv("SB_FAULT_DELAY_US");
    if (strcmp(getenv("SB_FAULT"), "slow") == 0)
        sleep_us(d ? atol(d) : 1000);
    if (strcmp(getenv("SB_FAULT"), "corrupt") == 0 && count > 0 && size > 0) {
        unsigned char *p = (unsigned char *)recv + (size_t)(count / 2) * (size_t)size;
        p[0] ^= 0x01; /* the lowest byte: changes integers and the mantissa of floats */
    }
}

static void trace(const void *send, const void *recv, int count, MPI_Datatype type)
{
    const char *path = getenv("SB_FAULT_TRACE");
    if (strcmp(getenv("SB_FAULT"), "trace") != 0 || !path)
        return;
    int size = 0, rank = 0;
    MPI_Type_size(type, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < (size_t)count * (size_t)size; i++)
        h = (h ^ ((const unsigned char *)recv)[i]) * 1099511628211ULL;
    char file[4096];
    snprintf(file, sizeof file, "%s.%d", path, rank);
    FILE *f = fopen(file, "a");
    if (f) {
        fprintf(f, "%p %p %016llx\n", send, recv, h);
        fclose(f);
    }
}

int MPI_Allreduce(const void *send, void *recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    int hit = affected(comm, count, type);
    if (hit)
        before_call();
    int rc = PMPI_Allreduce(send, recv, count, type, op, comm);
    if (hit) {
        after_call(recv, count, type);
        trace(send == MPI_IN_PLACE ? recv : send, recv, count, type);
    }
    return rc;
}

int MPI_Alltoall(const void *send, int scount, MPI_Datatype stype, void *recv, int rcount, MPI_Datatype rtype,
                 MPI_Comm comm)
{
    int n = 1;
    MPI_Comm_size(comm, &n);
    int hit = affected(comm, rcount * n, rtype);
    if (hit)
        before_call();
    int rc = PMPI_Alltoall(send, scount, stype, recv, rcount, rtype, comm);
    if (hit) {
        after_call(recv, rcount * n, rtype);
        trace(send == MPI_IN_PLACE ? recv : send, recv, rcount * n, rtype);
    }
    return rc;
}

/* A rank whose messages never arrive: the send "completes" at once and nothing is sent. */
int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
    const char *fault = getenv("SB_FAULT"), *r = getenv("SB_FAULT_RANK");
    char name[MPI_MAX_OBJECT_NAME] = "";
    int len = 0, rank = -1;
    MPI_Comm_get_name(comm, name, &len);
    MPI_Comm_rank(comm, &rank);
    if (fault && strcmp(fault, "mute") == 0 && strcmp(name, "scalebench_preflight") == 0 &&
        rank == (r ? atoi(r) : 0)) {
        *req = MPI_REQUEST_NULL;
        return MPI_SUCCESS;
    }
    return PMPI_Isend(buf, count, type, dest, tag, comm, req);
}

int MPI_Allgather(const void *send, int scount, MPI_Datatype stype, void *recv, int rcount, MPI_Datatype rtype,
                  MPI_Comm comm)
{
    int n = 1;
    MPI_Comm_size(comm, &n);
    int hit = affected(comm, rcount * n, rtype);
    if (hit)
        before_call();
    int rc = PMPI_Allgather(send, scount, stype, recv, rcount, rtype, comm);
    if (hit)
        after_call(recv, rcount * n, rtype);
    return rc;
}

int MPI_Reduce_scatter_block(const void *send, void *recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    int hit = affected(comm, count, type);
    if (hit)
        before_call();
    int rc = PMPI_Reduce_scatter_block(send, recv, count, type, op, comm);
    if (hit)
        after_call(recv, count, type);
    return rc;
}

int MPI_Bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
    int hit = affected(comm, count, type);
    if (hit)
        before_call();
    int rc = PMPI_Bcast(buf, count, type, root, comm);
    if (hit)
        after_call(buf, count, type);
    return rc;
}

int MPI_Barrier(MPI_Comm comm)
{
    int rc = PMPI_Barrier(comm);
    const char *d = getenv("SB_FAULT_DELAY_US"), *fault = getenv("SB_FAULT");
    if (fault && strcmp(fault, "late") == 0 && affected(comm, 0, MPI_BYTE))
        sleep_us(d ? atol(d) : 1000);
    return rc;
}

int MPI_Sendrecv(const void *send, int scount, MPI_Datatype stype, int dest, int stag, void *recv, int rcount,
                 MPI_Datatype rtype, int source, int rtag, MPI_Comm comm, MPI_Status *status)
{
    int hit = affected(comm, rcount, rtype);
    if (hit)
        before_call();
    int rc = PMPI_Sendrecv(send, scount, stype, dest, stag, recv, rcount, rtype, source, rtag, comm, status);
    if (hit)
        after_call(recv, rcount, rtype);
    return rc;
}

int MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype type, int dest, int stag, int source, int rtag,
                         MPI_Comm comm, MPI_Status *status)
{
    int hit = affected(comm, count, type);
    if (hit)
        before_call();
    int rc = PMPI_Sendrecv_replace(buf, count, type, dest, stag, source, rtag, comm, status);
    if (hit)
        after_call(buf, count, type);
    return rc;
}
