/* The control plane: who the ranks are and how the harness coordinates them (MPI underneath).
 * Only comm_mpi.c knows MPI types; everything else sees this small interface. */
#ifndef SB_COMM_H
#define SB_COMM_H

#include <stddef.h>
#include <stdint.h>

struct sb_comm {
    int rank, size;             /* in the job */
    int local_rank, local_size; /* on this node (shared-memory domain) */
    int node, nodes;            /* index of this node, number of nodes */
    void *impl;                 /* the MPI communicators */
};

/* Initialises MPI (also as a singleton); returns 0, or 2 with a message in err. */
int sb_comm_init(struct sb_comm *c, int *argc, char ***argv, char *err, size_t errlen);
void sb_comm_finalize(struct sb_comm *c);
/* Ends every rank of the job at once with this exit code. */
void sb_comm_abort(const struct sb_comm *c, int code);

int sb_comm_barrier(const struct sb_comm *c);
/* Element-wise max and sum of n doubles over ranks, delivered to rank 0 (others may pass NULL). */
int sb_comm_reduce_max_sum(const struct sb_comm *c, const double *in, double *max, double *sum, size_t n);
int sb_comm_bcast_int(const struct sb_comm *c, int *v);
int sb_comm_bcast_double(const struct sb_comm *c, double *v);
int64_t sb_comm_sum_int64(const struct sb_comm *c, int64_t v);  /* to every rank */
int sb_comm_max_int(const struct sb_comm *c, int v);             /* to every rank */
int64_t sb_comm_min_int64(const struct sb_comm *c, int64_t v);   /* to every rank */
/* Gathers one fixed-size string per rank to rank 0: out must hold size * len chars there. */
int sb_comm_gather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len);

/* Library identification ("Open MPI v4.1.4, ..."), first line only. */
void sb_comm_library_version(char *buf, size_t len);

#endif
