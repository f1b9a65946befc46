/* Alpha-beta-gamma cost of AllReduce and AllToAll (cost-models.md).
 * A tier is alpha (us per message), beta (us per byte) and gamma (us per reduced byte).
 * n is the nccl-tests size: the vector for AllReduce, one rank's whole send buffer for AllToAll. */
#ifndef SBM_COST_H
#define SBM_COST_H

#include <stdbool.h>

enum sbm_collective { SBM_ALLREDUCE, SBM_ALLTOALL, SBM_COLLECTIVE_COUNT };

enum sbm_algorithm {
    SBM_RING, SBM_RECURSIVE_DOUBLING, SBM_RABENSEIFNER, SBM_TREE, SBM_NVLS, /* AllReduce */
    SBM_PAIRWISE, SBM_BRUCK,                                                /* AllToAll */
    SBM_HIERARCHICAL,                                                       /* both */
    SBM_BEST, SBM_ALGORITHM_COUNT
};

struct sbm_tier {
    double alpha_us, beta_us_per_byte, gamma_us_per_byte;
};

/* time = alpha * tier.alpha + beta * n * tier.beta + gamma * n * tier.gamma on one tier. */
struct sbm_terms {
    double alpha, beta, gamma;
};

/* p ranks, `domains` scale-up domains of p/domains ranks each. */
struct sbm_fabric {
    int ranks, domains;
    struct sbm_tier intra, inter, in_switch; /* in_switch: NVLS/SHARP path inside a domain */
    double launch_us;                        /* added once per call */
    bool intra_reduces, inter_reduces;       /* switches can reduce (NVLS, SHARP) */
};

/* GB/s (1e9 B/s) to us per byte and back; 0 or less maps to 0 (free). */
double sbm_us_per_byte(double gbytes_s);
double sbm_gbytes_s(double us_per_byte);
struct sbm_tier sbm_tier_make(double alpha_us, double bandwidth_gbps, double gamma_gbps);

const char *sbm_collective_name(enum sbm_collective c);
int sbm_collective_parse(const char *name, enum sbm_collective *c);
const char *sbm_algorithm_name(enum sbm_algorithm a);
int sbm_algorithm_parse(const char *name, enum sbm_algorithm *a);
bool sbm_algorithm_applies(enum sbm_collective c, enum sbm_algorithm a);

/* nccl-tests busbw factor: AllReduce 2(p-1)/p, AllToAll (p-1)/p. */
double sbm_busbw_factor(enum sbm_collective c, int ranks);

/* Coefficients of a single-tier algorithm on p ranks; -1 when it is not single-tier. */
int sbm_single_tier_terms(enum sbm_collective c, enum sbm_algorithm a, int p, struct sbm_terms *t);
double sbm_terms_time_us(const struct sbm_terms *t, const struct sbm_tier *tier, double bytes);

/* Time of one call, us; -1 when the algorithm does not apply to this collective or fabric
 * (nvls without in-switch reduction). SBM_BEST is resolved by sbm_cost_best. */
double sbm_cost_time_us(enum sbm_collective c, enum sbm_algorithm a, const struct sbm_fabric *f,
                        double bytes);
enum sbm_algorithm sbm_cost_best(enum sbm_collective c, const struct sbm_fabric *f, double bytes,
                                 double *time_us);

#endif
