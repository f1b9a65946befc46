#include "check.h"

#include <string.h>

void sb_fill_input(const struct sb_collective *coll, const struct sb_pattern *p, int rank, void *send)
{
    for (size_t i = 0; i < p->layout.send_count; i++)
        sb_dtype_store(p->dtype, send, i, coll->input(p, rank, i));
}

void sb_poison(void *buf, size_t bytes) { memset(buf, 0xff, bytes); }

int64_t sb_count_wrong(const struct sb_collective *coll, const struct sb_pattern *p, int rank, const void *recv)
{
    int64_t wrong = 0;
    for (size_t i = 0; i < p->layout.recv_count; i++)
        wrong += !sb_dtype_equals(p->dtype, recv, i, coll->expected(p, rank, i));
    return wrong;
}
