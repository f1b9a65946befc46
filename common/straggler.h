/* --per-rank: ranks that are consistently slower than the others.  Each rank times the same
 * iterations from its own barrier exit, so a rank whose median is high while the others' are
 * not is slow inside the call itself (a slow link, NIC, copy or core); when every rank is slow
 * together the cause is shared (the fabric, or one late arrival everybody waits for). */
#ifndef SB_STRAGGLER_H
#define SB_STRAGGLER_H

#include <jansson.h>

/* A rank is slow at a point when its median exceeds the median of the other ranks' medians by
 * more than this fraction, and a straggler when it is slow at SB_STRAGGLER_SHARE of the points
 * (and at SB_STRAGGLER_MIN_POINTS at least). */
#define SB_STRAGGLER_THRESHOLD 0.25
#define SB_STRAGGLER_SHARE 0.75
#define SB_STRAGGLER_MIN_POINTS 3
/* The other reading: a rank that reaches the call late (after the barrier, before its clock
 * starts: a busy core, OS noise, a slow wake-up) is timed short, while the others' time grows by
 * their wait for it.  A rank is a late arrival when its median is below this fraction of the
 * others' median at SB_STRAGGLER_SHARE of the points.  With 2 ranks the two readings look alike
 * (the other rank is then also "slow"). */
#define SB_LATE_THRESHOLD 0.5

struct sb_stragglers {
    int ranks, points;
    int *slow;          /* per rank: points at which it was slow */
    double *ratio;      /* per rank: sum of its median / the others' median over the slow points */
    int *late;          /* per rank: points at which it was timed far shorter than the others */
    double *late_ratio; /* per rank: the same sum over those points */
};

int sb_stragglers_init(struct sb_stragglers *s, int ranks); /* 0, or -1 out of memory */
/* One point: medians[r] for every rank. */
void sb_stragglers_add(struct sb_stragglers *s, const double *medians);
int sb_stragglers_flagged(const struct sb_stragglers *s, int rank);
int sb_stragglers_late(const struct sb_stragglers *s, int rank);
/* [{"rank", "slow_points", "points", "mean_ratio"}] of the flagged ranks. */
json_t *sb_stragglers_json(const struct sb_stragglers *s);
/* [{"rank", "late_points", "points", "mean_ratio"}] of the late arrivals. */
json_t *sb_stragglers_late_json(const struct sb_stragglers *s);
void sb_stragglers_free(struct sb_stragglers *s);

#endif
