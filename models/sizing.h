/* Fabric sizing from port counts and bandwidths only: switch chips and trays per tier,
 * transceivers per GPU, the medium of each link class by reach, scale-up vs scale-out. */
#ifndef SBM_SIZING_H
#define SBM_SIZING_H

#include <stdbool.h>

#include "catalog.h"
#include "system.h"

#define SBM_SIZING_MAX 48

/* One derived quantity, with the arithmetic that gives it. */
struct sbm_quantity {
    char key[48], label[96], unit[32], arithmetic[320];
    char text[48]; /* a named result (a medium) instead of a number, when non-empty */
    double value;
};

struct sbm_sizing {
    int n;
    struct sbm_quantity q[SBM_SIZING_MAX];
    char unverifiable[200]; /* non-empty: what the catalog lacks to size this */
};

/* Scale-up fabric of GPUS GPUs (0: the system's domain) with the system's tier count. */
int sbm_size_scale_up(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                      struct sbm_sizing *s);
/* Scale-up fabric with TIERS forced (1 or 2), for the rules that compare designs.
 * CAT may be NULL (no media chosen). Each returns 0, or -1 for impossible arguments. */
int sbm_size_scale_up_tiers(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                            int tiers, struct sbm_sizing *s);
/* Fat tree of the system's scale-out switch for GPUS GPUs, TIERS 1-3 (0: fewest that fit). */
int sbm_size_scale_out(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                       int tiers, struct sbm_sizing *s);

/* Fat-tree endpoints of radix k in t tiers: k, k^2/2, k^3/4. */
double sbm_fat_tree_capacity(int radix, int tiers);

/* The medium whose reach first covers LENGTH_M (media sorted by their "order"). */
int sbm_medium_for_length(const struct sbm_catalog *cat, double length_m, char *name, int len,
                          double *reach_m);

/* The quantity KEY of S, or NULL. */
const struct sbm_quantity *sbm_sizing_get(const struct sbm_sizing *s, const char *key);

#endif
