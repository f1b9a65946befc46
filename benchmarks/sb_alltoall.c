/* AllToAll: every rank sends a distinct block of count/n elements to each of the n ranks
 * (itself included).  `bytes` is the whole send buffer of one rank, as in nccl-tests;
 * bytes_per_peer = bytes / n. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

/* Each rank's buffer holds n equal blocks of whole elements. */
static size_t granule(int ranks) { return (size_t)ranks; }

static void layout(size_t count, int ranks, struct sb_layout *out)
{
    *out = (struct sb_layout){.count = count, .count_per_peer = count / (size_t)ranks, .send_count = count,
                              .recv_count = count};
}

/* busbw factor (n-1)/n: of the bytes a rank sends, the block addressed to itself never leaves
 * it, so each rank's link carries (n-1)/n of the buffer in each direction (nccl-tests). */
static double busbw_factor(int ranks) { return (double)(ranks - 1) / ranks; }

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->alltoall(be, call); }

/* Send element i of rank r belongs to block q = i / per_peer, destined for rank q. */
static int64_t input(const struct sb_pattern *p, int rank, size_t i)
{
    size_t per_peer = p->layout.count_per_peer;
    return sb_pattern_block_code(p, rank, (int)(i / per_peer), i % per_peer);
}

/* Receive element i of rank r is in block s = i / per_peer, sent by rank s. */
static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    size_t per_peer = p->layout.count_per_peer;
    return sb_pattern_block_code(p, (int)(i / per_peer), rank, i % per_peer);
}

static const struct sb_collective sb_alltoall = {
    .name = "alltoall",
    .title = "AllToAll",
    .bytes_is = "the whole send buffer of one rank (bytes/n to each peer)",
    .reduces = false,
    .granule = granule,
    .layout = layout,
    .busbw_factor = busbw_factor,
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_ALL_TO_ALL,
};

int main(int argc, char **argv) { return sb_main(&sb_alltoall, argc, argv); }
