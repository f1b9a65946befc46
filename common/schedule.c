#include "schedule.h"

int sb_schedule_rounds(int n)
{
    if (n < 2)
        return 0;
    return n % 2 == 0 ? n - 1 : n;
}

/* Circle method on m = n (even) or n + 1 (odd, the extra member being the bye) places: member
 * m - 1 stays put and meets `round`; the others sit on a circle of m - 1 places, and member a
 * meets the member at the mirror place, b = (2 * round - a) mod (m - 1).  Over m - 1 rounds each
 * pair comes up exactly once: for a != b the equation a + b = 2 round (mod m - 1) has exactly
 * one solution round, m - 1 being odd. */
int sb_schedule_partner(int n, int round, int member)
{
    int rounds = sb_schedule_rounds(n);
    if (rounds == 0 || round < 0 || round >= rounds || member < 0 || member >= n)
        return -1;
    int m = n % 2 == 0 ? n : n + 1, circle = m - 1, partner;
    if (member == m - 1)
        partner = round;
    else if (member == round)
        partner = m - 1;
    else
        partner = ((2 * round - member) % circle + circle) % circle;
    return partner < n ? partner : -1; /* the extra member of an odd n is the bye */
}
