/* The control plane: who the ranks are and how the harness coordinates them.  Two
 * implementations, one per build: comm_mpi.c (MPI: each process is one rank of a job its launcher
 * started) and comm_threads.c (the build without MPI: the ranks are threads of one process, -g N).
 * Only comm_mpi.c knows MPI types; everything else sees this small interface. */
#ifndef SB_COMM_H
#define SB_COMM_H

#include <stddef.h>
#include <stdint.h>

struct sb_comm {
    int rank, size;             /* in the job */
    int local_rank, local_size; /* on this node (shared-memory domain) */
    int node, nodes;            /* index of this node, number of nodes */
    int threads;                /* 1 when other threads may use the comm at the same time */
    int in_process;             /* 1 when the ranks are threads of this one process (no MPI) */
    void *impl;                 /* the MPI communicators, or the threads' shared block */
};

/* One rank's part of a job: runs with c set up, returns that rank's exit code. */
typedef int (*sb_comm_rank_fn)(struct sb_comm *c, void *arg);

/* Starts the job, runs fn on every rank of it, and returns the largest of their exit codes.
 * MPI: this process is one rank (its launcher started the others): sb_comm_init, fn, then
 * sb_comm_finalize; `ranks` must be 1.  Threads: `ranks` (1 .. SB_COMM_THREADS_MAX) threads of
 * this process, each one rank with its own comm (rank = thread index); joined before it returns.
 * When the job cannot start it returns 2 with err filled, and fn ran nowhere; otherwise err
 * stays as it was.  want_threads as for sb_comm_init. */
int sb_comm_run(int ranks, int *argc, char ***argv, int want_threads, sb_comm_rank_fn fn, void *arg, char *err,
                size_t errlen);
#define SB_COMM_THREADS_MAX 1024
/* 1 when this build's ranks are threads of one process (comm_threads.c), 0 under MPI. */
int sb_comm_in_process(void);

/* Initialises MPI (also as a singleton); returns 0, or 2 with a message in err.
 * want_threads asks for MPI_THREAD_MULTIPLE (the watchdog needs it); c->threads says
 * whether the library granted it.  Threads: a job of one rank, the calling thread. */
int sb_comm_init(struct sb_comm *c, int *argc, char ***argv, int want_threads, char *err, size_t errlen);
void sb_comm_finalize(struct sb_comm *c);
/* Ends every rank of the job at once with this exit code (threads: the whole process). */
void sb_comm_abort(const struct sb_comm *c, int code);

/* A part of c: the ranks that give the same color (>= 0), in the order of key; a rank that gives
 * a negative color joins none and gets sub->size == 0, sub->impl == NULL.  Collective over c.
 * 0, or an MPI error code.  sb_comm_free releases it (a no-op on an empty one). */
int sb_comm_split(const struct sb_comm *c, int color, int key, struct sb_comm *sub);
void sb_comm_free(struct sb_comm *sub);

/* A nonblocking barrier: started on every rank of c; done once all of them have started it.
 * sb_comm_request_done returns 1 (and frees the request) when it is, 0 while it is not. */
struct sb_comm_request;
int sb_comm_ibarrier(const struct sb_comm *c, struct sb_comm_request **req);
int sb_comm_request_done(struct sb_comm_request **req);

int sb_comm_barrier(const struct sb_comm *c);
/* Element-wise max and sum of n doubles over ranks, delivered to rank 0 (others may pass NULL). */
int sb_comm_reduce_max_sum(const struct sb_comm *c, const double *in, double *max, double *sum, size_t n);
int sb_comm_bcast_int(const struct sb_comm *c, int *v);
int sb_comm_bcast_double(const struct sb_comm *c, double *v);
int sb_comm_bcast_bytes(const struct sb_comm *c, void *buf, size_t len); /* from rank 0 */
int64_t sb_comm_sum_int64(const struct sb_comm *c, int64_t v);  /* to every rank */
int sb_comm_max_int(const struct sb_comm *c, int v);             /* to every rank */
int64_t sb_comm_min_int64(const struct sb_comm *c, int64_t v);   /* to every rank */
/* n doubles from every rank to rank 0, in rank order (out holds size * n there). */
int sb_comm_gather_doubles(const struct sb_comm *c, const double *mine, size_t n, double *out);
/* One fixed-size string per rank to every rank: out holds size * len chars. */
int sb_comm_allgather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len);
/* Gathers one fixed-size string per rank to rank 0: out must hold size * len chars there. */
int sb_comm_gather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len);

/* The side channel: short text messages to rank 0 on a communicator of their own, usable by a
 * second thread (c->threads) while the main thread is blocked in a collective.  All ranks
 * open it together; send blocks until delivered; poll returns 1 and fills buf/from when a
 * message is waiting, 0 when none. */
int sb_comm_side_open(struct sb_comm *c);
int sb_comm_side_send(const struct sb_comm *c, const char *text);
int sb_comm_side_poll(const struct sb_comm *c, char *buf, size_t len, int *from);
void sb_comm_side_close(struct sb_comm *c);

/* Preflight: every rank sends a few bytes to every other rank and waits, until deadline_s,
 * to hear from all of them (nonblocking, so an unreachable peer cannot hang it).  heard[r]
 * = 1 when rank r's message arrived (heard must hold size ints).  Returns the number of
 * peers not heard from.  Requests still pending at the deadline are left behind: the caller
 * must end the job (sb_comm_abort) when the count is not 0. */
int sb_comm_preflight(const struct sb_comm *c, double deadline_s, int *heard);
/* Like sb_comm_gather_strings, but gives up at the deadline: 0 when everything arrived. */
int sb_comm_gather_strings_deadline(const struct sb_comm *c, const char *mine, char *out, size_t len,
                                    double deadline_s);

/* How far rank 0's clock is ahead of this rank's (rank 0 reads clock() + *offset at the same
 * instant), by `rounds` ping-pongs with rank 0: of them, the shortest round trip is kept (rank 0
 * read its clock within half of it of the midpoint), in *rtt.  Rank 0 (and ranks that share one
 * process, hence one clock): 0 and 0.  Collective over c.  0, or an MPI error code. */
int sb_comm_clock_offset(const struct sb_comm *c, int rounds, double (*clock)(void), double *offset, double *rtt);

/* Library identification ("Open MPI v4.1.4, ..."), first line only; without MPI it says so. */
void sb_comm_library_version(char *buf, size_t len);

#endif
