/* Broadcast: rank 0's count elements reach every rank.  `bytes` is that buffer.  MPI_Bcast has a
 * single buffer, so every point is in place: the root's data is sent from the buffer that every
 * other rank receives into. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

#define ROOT 0

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->broadcast(be, call); }

/* The root holds its block; every other rank starts with -1 everywhere (all ones for unsigned
 * types), a value no block code takes (codes lie in [0, exact max)), so an element that was not
 * overwritten by the root's is counted wrong. */
static int64_t input(const struct sb_pattern *p, int rank, size_t i)
{
    return rank == ROOT ? sb_pattern_block_code(p, ROOT, ROOT, i) : -1;
}

static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    (void)rank;
    return sb_pattern_block_code(p, ROOT, ROOT, i);
}

static const struct sb_collective sb_broadcast = {
    .name = "broadcast",
    .title = "Broadcast",
    .bytes_is = "the buffer the root sends to every rank",
    .reduces = false,
    .one_buffer = true,
    .granule = sb_granule_one,
    .layout = sb_layout_whole,
    .busbw_factor = sb_busbw_factor_one, /* every byte crosses one link once (nccl-tests) */
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_BROADCAST,
};

int main(int argc, char **argv) { return sb_main(&sb_broadcast, argc, argv); }
