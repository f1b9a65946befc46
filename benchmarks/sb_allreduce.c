/* AllReduce: every rank contributes a vector of `count` elements and receives the element-wise
 * reduction of all of them.  `bytes` is the size of that vector. */
#include "backend.h"
#include "collective.h"
#include "pattern.h"

static size_t granule(int ranks)
{
    (void)ranks;
    return 1;
}

static void layout(size_t count, int ranks, struct sb_layout *out)
{
    (void)ranks;
    *out = (struct sb_layout){.count = count, .count_per_peer = count, .send_count = count, .recv_count = count};
}

/* busbw factor 2(n-1)/n: a bandwidth-optimal AllReduce (reduce-scatter then all-gather) sends
 * and receives 2(n-1)/n of the vector through each rank's link, so busbw = algbw * 2(n-1)/n is
 * the bandwidth each rank's link sustained, comparable across rank counts (nccl-tests). */
static double busbw_factor(int ranks) { return 2.0 * (ranks - 1) / ranks; }

static int run(const struct sb_backend *be, const struct sb_call *call) { return be->allreduce(be, call); }

static int64_t input(const struct sb_pattern *p, int rank, size_t i) { return sb_pattern_reduce_input(p, rank, i); }

static int64_t expected(const struct sb_pattern *p, int rank, size_t i)
{
    (void)rank;
    return sb_pattern_reduce_result(p, i);
}

static const struct sb_collective sb_allreduce = {
    .name = "allreduce",
    .title = "AllReduce",
    .bytes_is = "the vector each rank contributes",
    .reduces = true,
    .granule = granule,
    .layout = layout,
    .busbw_factor = busbw_factor,
    .run = run,
    .input = input,
    .expected = expected,
    .pattern = SB_PATTERN_REDUCE_ALL,
};

int main(int argc, char **argv) { return sb_main(&sb_allreduce, argc, argv); }
