/* What a benchmark is: one small descriptor per collective, filled in benchmarks/sb_*.c. */
#ifndef SB_COLLECTIVE_H
#define SB_COLLECTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "pattern_formula.h"

struct sb_backend;

/* Element counts of one message size on `ranks` ranks. */
struct sb_layout {
    size_t count;          /* elements the size `bytes` stands for (nccl-tests' "count") */
    size_t count_per_peer; /* elements exchanged with each peer (all-to-all), else == count */
    size_t send_count;     /* elements in the send buffer */
    size_t recv_count;     /* elements in the receive buffer */
};

/* Everything the data pattern of one run depends on. */
struct sb_pattern {
    int ranks;
    enum sb_dtype dtype;
    enum sb_op op;
    struct sb_layout layout;
};

/* One call of the collective: the buffers are the backend's (host or device). */
struct sb_call {
    const void *send;  /* equals recv for an in-place call */
    void *recv;
    bool in_place;
    enum sb_dtype dtype;
    enum sb_op op;
    struct sb_layout layout;
    int peer; /* pairwise exchanges: the rank (of the backend's communicator) this one pairs with */
};

struct sb_collective {
    const char *name;  /* "allreduce": the JSON `collective` field */
    const char *title; /* "AllReduce": the text header */
    const char *bytes_is; /* what `bytes` is, for the text header ("the vector each rank contributes") */
    bool reduces;      /* takes -o/--op */
    /* The backend's call has a single buffer (MPI_Bcast): only in-place points exist. */
    bool one_buffer;
    /* Element counts for a requested size; sizes that do not divide into whole elements
     * (per peer where that applies) are rounded down by the harness using `granule`. */
    size_t (*granule)(int ranks);  /* count must be a multiple of this */
    void (*layout)(size_t count, int ranks, struct sb_layout *out);
    /* busbw = algbw * busbw_factor(ranks); the derivation is in each benchmark file. */
    double (*busbw_factor)(int ranks);
    /* Issues the collective through the backend; returns 0 or a backend error code. */
    int (*run)(const struct sb_backend *be, const struct sb_call *call);
    /* The exact integer held by send element `index` of `rank` before the call, and the
     * integer recv element `index` of `rank` must hold after it. */
    int64_t (*input)(const struct sb_pattern *p, int rank, size_t index);
    int64_t (*expected)(const struct sb_pattern *p, int rank, size_t index);
    /* In an in-place call, where (in elements) the rank's input sits in the receive buffer:
     * AllGather's own block is at rank * count_per_peer.  NULL means 0. */
    size_t (*in_place_offset)(const struct sb_layout *l, int rank);
    /* The same input() and expected() as data, for code without these function pointers (the
     * device kernels): sb_pattern_value(pattern, ...) gives the same values.  SB_PATTERN_NONE
     * (0): not described, checked on the host only. */
    enum sb_pattern_kind pattern;
    /* Measured between pairs (sb_pairs): the harness runs the sweep once per round of a
     * round-robin schedule, each pair on a communicator of its own, one record per pair. */
    bool pairwise;
};

/* In a pair's communicator, ranks 0 .. L-1 are one side's lanes and L .. 2L-1 the other's, in
 * the same lane order: rank r exchanges with (r + L) mod 2L. */
int sb_pair_peer(int rank, int ranks);

/* For collectives that move one whole buffer: any element count, every buffer `count` long,
 * busbw factor 1 (each byte crosses one link once, as nccl-tests counts it). */
size_t sb_granule_one(int ranks);
void sb_layout_whole(size_t count, int ranks, struct sb_layout *out);
double sb_busbw_factor_one(int ranks);

/* The harness: parses options, runs the sweep, prints and writes records; returns the exit code. */
int sb_main(const struct sb_collective *coll, int argc, char **argv);

#endif
