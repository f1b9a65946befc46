/* Pairs: every pair of nodes (or of ranks) exchanges `bytes` both ways at once (MPI_Sendrecv),
 * pair after pair in the rounds of a round-robin schedule, so a slow node or link shows up as
 * its row of the matrix (sb_model pairs).  `bytes` is what each rank sends its peer. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->exchange(be, call); }

/* In a pair's communicator rank r sends to and receives from sb_pair_peer(r): its data are coded
 * with both ends, so data from a wrong rank (or a wrong lane) are caught, not only wrong values. */
static int64_t input(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_pattern_block_code(p, rank, sb_pair_peer(rank, p->ranks), i);
}

static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_pattern_block_code(p, sb_pair_peer(rank, p->ranks), rank, i);
}

static const struct sb_collective sb_pairs = {
    .name = "pairs",
    .title = "Pairs",
    .bytes_is = "what each rank sends its peer (and receives from it);\n"
               "#   bidir = 2 x lanes x bytes / median time: what the pair moved both ways, all lanes",
    .reduces = false,
    .granule = sb_granule_one,
    .layout = sb_layout_whole,
    /* busbw factor 1: each byte crosses the pair's path once in its direction; the record's
     * bidir_gbps adds both directions and every lane of a node pair. */
    .busbw_factor = sb_busbw_factor_one,
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_PAIRS,
    .pairwise = true,
};

int main(int argc, char **argv) { return sb_main(&sb_pairs, argc, argv); }
