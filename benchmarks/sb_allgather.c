/* AllGather: every rank contributes a block of count/n elements and every rank receives all n
 * blocks in rank order.  `bytes` is the whole receive buffer (n blocks), as in nccl-tests;
 * bytes_per_peer = bytes / n is what each rank sends. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

/* The receive buffer holds n equal blocks of whole elements. */
static size_t granule(int ranks) { return (size_t)ranks; }

static void layout(size_t count, int ranks, struct sb_layout *out)
{
    size_t block = count / (size_t)ranks;
    *out = (struct sb_layout){.count = count, .count_per_peer = block, .send_count = block, .recv_count = count};
}

/* busbw factor (n-1)/n: each rank receives the n-1 blocks it does not own, (n-1)/n of the
 * receive buffer, through its link (nccl-tests). */
static double busbw_factor(int ranks) { return (double)(ranks - 1) / ranks; }

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->allgather(be, call); }

/* Rank r's block, element i: coded with r as source and destination, so a block from the
 * wrong rank or at the wrong offset is caught. */
static int64_t input(const struct sb_pattern *p, int rank, size_t i) { return sb_pattern_block_code(p, rank, rank, i); }

/* Receive element i belongs to block s = i / block, the one rank s sent. */
static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    (void)rank;
    size_t block = p->layout.count_per_peer;
    int src = (int)(i / block);
    return sb_pattern_block_code(p, src, src, i % block);
}

/* In place (MPI_IN_PLACE), a rank's own block already sits at its slot of the receive buffer. */
static size_t in_place_offset(const struct sb_layout *l, int rank) { return (size_t)rank * l->count_per_peer; }

static const struct sb_collective sb_allgather = {
    .name = "allgather",
    .title = "AllGather",
    .bytes_is = "the whole receive buffer (n blocks: each rank sends bytes/n)",
    .reduces = false,
    .granule = granule,
    .layout = layout,
    .busbw_factor = busbw_factor,
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_ALL_GATHER,
    .in_place_offset = in_place_offset,
};

int main(int argc, char **argv) { return sb_main(&sb_allgather, argc, argv); }
