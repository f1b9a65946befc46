/* Descriptor pieces shared by the collectives that move one whole buffer (Broadcast, SendRecv). */
#include "collective.h"

size_t sb_granule_one(int ranks)
{
    (void)ranks;
    return 1;
}

void sb_layout_whole(size_t count, int ranks, struct sb_layout *out)
{
    (void)ranks;
    *out = (struct sb_layout){.count = count, .count_per_peer = count, .send_count = count, .recv_count = count};
}

double sb_busbw_factor_one(int ranks)
{
    (void)ranks;
    return 1.0;
}

int sb_pair_peer(int rank, int ranks) { return (rank + ranks / 2) % ranks; }
