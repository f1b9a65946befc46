/* The pairwise sweep's schedule: a round-robin tournament (the circle method), so every pair of
 * n members meets exactly once and nobody is in two pairs of one round.  n even: n - 1 rounds of
 * n/2 pairs; n odd: n rounds, in each of which one member sits out (a bye). */
#ifndef SB_SCHEDULE_H
#define SB_SCHEDULE_H

/* Rounds of the tournament of n members (0 for n < 2). */
int sb_schedule_rounds(int n);

/* The partner of `member` in `round` (0 .. rounds-1), or -1 for a bye (or arguments out of
 * range).  Symmetric: partner(partner(m)) == m. */
int sb_schedule_partner(int n, int round, int member);

#endif
