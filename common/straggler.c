#include "straggler.h"

#include <stdlib.h>

#include "stats.h"

int sb_stragglers_init(struct sb_stragglers *s, int ranks)
{
    *s = (struct sb_stragglers){.ranks = ranks};
    s->slow = calloc((size_t)ranks, sizeof *s->slow);
    s->ratio = calloc((size_t)ranks, sizeof *s->ratio);
    s->late = calloc((size_t)ranks, sizeof *s->late);
    s->late_ratio = calloc((size_t)ranks, sizeof *s->late_ratio);
    if (!s->slow || !s->ratio || !s->late || !s->late_ratio) {
        sb_stragglers_free(s);
        return -1;
    }
    return 0;
}

/* The median of every rank's median but r's (n - 1 >= 1 values). */
static double others_median(const double *medians, int n, int r, double *scratch, double *sorted)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (i != r)
            scratch[k++] = medians[i];
    struct sb_stats st;
    sb_stats_compute(scratch, (size_t)k, sorted, &st);
    return st.median;
}

void sb_stragglers_add(struct sb_stragglers *s, const double *medians)
{
    if (s->ranks < 2)
        return;
    double *scratch = malloc(2 * (size_t)s->ranks * sizeof *scratch);
    if (!scratch)
        return;
    s->points++;
    for (int r = 0; r < s->ranks; r++) {
        double others = others_median(medians, s->ranks, r, scratch, scratch + s->ranks);
        if (others > 0 && medians[r] > (1.0 + SB_STRAGGLER_THRESHOLD) * others) {
            s->slow[r]++;
            s->ratio[r] += medians[r] / others;
        } else if (others > 0 && medians[r] < SB_LATE_THRESHOLD * others) {
            s->late[r]++;
            s->late_ratio[r] += medians[r] / others;
        }
    }
    free(scratch);
}

int sb_stragglers_flagged(const struct sb_stragglers *s, int rank)
{
    return s->points >= SB_STRAGGLER_MIN_POINTS && s->slow[rank] >= SB_STRAGGLER_SHARE * s->points;
}

int sb_stragglers_late(const struct sb_stragglers *s, int rank)
{
    return s->points >= SB_STRAGGLER_MIN_POINTS && s->late[rank] >= SB_STRAGGLER_SHARE * s->points;
}

/* The ranks `flagged` picks, with their count of points and mean ratio under `key`. */
static json_t *ranks_json(const struct sb_stragglers *s, int (*flagged)(const struct sb_stragglers *, int),
                          const int *count, const double *ratio, const char *key)
{
    json_t *a = json_array();
    for (int r = 0; r < s->ranks && s->points > 0; r++)
        if (flagged(s, r))
            json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:f}", "rank", r, key, count[r], "points", s->points,
                                               "mean_ratio", ratio[r] / count[r]));
    return a;
}

json_t *sb_stragglers_json(const struct sb_stragglers *s)
{
    return ranks_json(s, sb_stragglers_flagged, s->slow, s->ratio, "slow_points");
}

json_t *sb_stragglers_late_json(const struct sb_stragglers *s)
{
    return ranks_json(s, sb_stragglers_late, s->late, s->late_ratio, "late_points");
}

void sb_stragglers_free(struct sb_stragglers *s)
{
    free(s->slow);
    free(s->ratio);
    free(s->late);
    free(s->late_ratio);
    s->slow = s->late = NULL;
    s->ratio = s->late_ratio = NULL;
}
