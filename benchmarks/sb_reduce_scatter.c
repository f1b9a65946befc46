/* ReduceScatter: every rank contributes count elements; the element-wise reduction is split in
 * n blocks and rank r receives block r.  `bytes` is the whole send buffer of one rank, as in
 * nccl-tests; bytes_per_peer = bytes / n is what each rank receives. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

/* The send buffer holds n equal blocks of whole elements. */
static size_t granule(int ranks) { return (size_t)ranks; }

static void layout(size_t count, int ranks, struct sb_layout *out)
{
    size_t block = count / (size_t)ranks;
    *out = (struct sb_layout){.count = count, .count_per_peer = block, .send_count = count, .recv_count = block};
}

/* busbw factor (n-1)/n: a bandwidth-optimal reduce-scatter (the first half of a ring
 * AllReduce) moves (n-1)/n of the send buffer through each rank's link (nccl-tests). */
static double busbw_factor(int ranks) { return (double)(ranks - 1) / ranks; }

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->reduce_scatter(be, call); }

static int64_t input(const struct sb_pattern *p, int rank, size_t i) { return sb_pattern_reduce_input(p, rank, i); }

/* Receive element i of rank r is the reduction of element r * block + i over all ranks. */
static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_pattern_reduce_result(p, (size_t)rank * p->layout.count_per_peer + i);
}

/* In place (MPI_IN_PLACE) the whole input is read from the receive buffer and the rank's block
 * is left at its start: the offset is 0. */
static const struct sb_collective sb_reduce_scatter = {
    .name = "reduce_scatter",
    .title = "ReduceScatter",
    .bytes_is = "the whole send buffer of one rank (n blocks: each rank receives bytes/n)",
    .reduces = true,
    .granule = granule,
    .layout = layout,
    .busbw_factor = busbw_factor,
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_REDUCE_SCATTER,
};

int main(int argc, char **argv) { return sb_main(&sb_reduce_scatter, argc, argv); }
