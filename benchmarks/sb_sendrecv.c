/* SendRecv: a ring of point-to-point exchanges; every rank sends count elements to rank + 1 and
 * receives count elements from rank - 1 at the same time (MPI_Sendrecv; in place,
 * MPI_Sendrecv_replace).  `bytes` is what each rank sends. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->sendrecv(be, call); }

static int next_of(int rank, int ranks) { return (rank + 1) % ranks; }
static int prev_of(int rank, int ranks) { return (rank + ranks - 1) % ranks; }

static int64_t input(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_pattern_block_code(p, rank, next_of(rank, p->ranks), i);
}

static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_pattern_block_code(p, prev_of(rank, p->ranks), rank, i);
}

static const struct sb_collective sb_sendrecv = {
    .name = "sendrecv",
    .title = "SendRecv",
    .bytes_is = "what each rank sends (to rank+1, receiving as much from rank-1)",
    .reduces = false,
    .granule = sb_granule_one,
    .layout = sb_layout_whole,
    .busbw_factor = sb_busbw_factor_one, /* every byte crosses one link once (nccl-tests) */
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_RING,
};

int main(int argc, char **argv) { return sb_main(&sb_sendrecv, argc, argv); }
