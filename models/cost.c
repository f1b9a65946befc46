#include "cost.h"

#include <math.h>
#include <string.h>

static const char *const collective_names[SBM_COLLECTIVE_COUNT] = {"allreduce", "alltoall"};
static const char *const algorithm_names[SBM_ALGORITHM_COUNT] = {
    "ring", "recursive-doubling", "rabenseifner", "tree", "nvls",
    "pairwise", "bruck", "hierarchical", "best",
};

double sbm_us_per_byte(double gbytes_s) { return gbytes_s > 0 ? 1e-3 / gbytes_s : 0.0; }
double sbm_gbytes_s(double us_per_byte) { return us_per_byte > 0 ? 1e-3 / us_per_byte : 0.0; }

struct sbm_tier sbm_tier_make(double alpha_us, double bandwidth_gbps, double gamma_gbps)
{
    return (struct sbm_tier){alpha_us, sbm_us_per_byte(bandwidth_gbps), sbm_us_per_byte(gamma_gbps)};
}

const char *sbm_collective_name(enum sbm_collective c) { return collective_names[c]; }
const char *sbm_algorithm_name(enum sbm_algorithm a) { return algorithm_names[a]; }

int sbm_collective_parse(const char *name, enum sbm_collective *c)
{
    for (int i = 0; i < SBM_COLLECTIVE_COUNT; i++)
        if (name && strcmp(name, collective_names[i]) == 0) {
            *c = (enum sbm_collective)i;
            return 0;
        }
    return -1;
}

int sbm_algorithm_parse(const char *name, enum sbm_algorithm *a)
{
    for (int i = 0; i < SBM_ALGORITHM_COUNT; i++)
        if (name && strcmp(name, algorithm_names[i]) == 0) {
            *a = (enum sbm_algorithm)i;
            return 0;
        }
    return -1;
}

bool sbm_algorithm_applies(enum sbm_collective c, enum sbm_algorithm a)
{
    if (a == SBM_HIERARCHICAL || a == SBM_BEST)
        return true;
    return c == SBM_ALLREDUCE ? a <= SBM_NVLS : (a == SBM_PAIRWISE || a == SBM_BRUCK);
}

double sbm_busbw_factor(enum sbm_collective c, int ranks)
{
    double p = ranks;
    return c == SBM_ALLREDUCE ? 2.0 * (p - 1) / p : (p - 1) / p;
}

static double ceil_log2(int p) { return p > 1 ? ceil(log2((double)p)) : 0.0; }

/* Rabenseifner on a power of two p2 <= p; the p - p2 extra ranks first hand their vector to
 * a partner and get the result back at the end (Thakur, Rabenseifner & Gropp 2005). */
static struct sbm_terms rabenseifner_terms(int p)
{
    int p2 = 1;
    while (p2 * 2 <= p)
        p2 *= 2;
    double f = (p2 - 1.0) / p2;
    struct sbm_terms t = {2.0 * log2((double)p2), 2.0 * f, f};
    if (p2 != p) {
        t.alpha += 2.0;
        t.beta += 2.0;
        t.gamma += 1.0;
    }
    return t;
}

static struct sbm_terms allreduce_terms(enum sbm_algorithm a, int p)
{
    double q = p, lg = ceil_log2(p);
    switch (a) {
    case SBM_RING: return (struct sbm_terms){2 * (q - 1), 2 * (q - 1) / q, (q - 1) / q};
    case SBM_RECURSIVE_DOUBLING: return (struct sbm_terms){lg, lg, lg};
    case SBM_RABENSEIFNER: return rabenseifner_terms(p);
    case SBM_TREE: return (struct sbm_terms){2 * lg, 2.0, 1.0};
    case SBM_NVLS: return (struct sbm_terms){1.0, 1.0 + 1.0 / q, 0.0};
    default: return (struct sbm_terms){-1, -1, -1};
    }
}

static struct sbm_terms alltoall_terms(enum sbm_algorithm a, int p)
{
    double q = p, lg = ceil_log2(p);
    switch (a) {
    case SBM_PAIRWISE: return (struct sbm_terms){q - 1, (q - 1) / q, 0.0};
    case SBM_BRUCK: return (struct sbm_terms){lg, lg / 2.0, 0.0};
    default: return (struct sbm_terms){-1, -1, -1};
    }
}

int sbm_single_tier_terms(enum sbm_collective c, enum sbm_algorithm a, int p, struct sbm_terms *t)
{
    if (p <= 1) {
        *t = (struct sbm_terms){0, 0, 0};
        return sbm_algorithm_applies(c, a) && a != SBM_BEST ? 0 : -1;
    }
    *t = c == SBM_ALLREDUCE ? allreduce_terms(a, p) : alltoall_terms(a, p);
    return t->alpha < 0 ? -1 : 0;
}

double sbm_terms_time_us(const struct sbm_terms *t, const struct sbm_tier *tier, double bytes)
{
    return t->alpha * tier->alpha_us + bytes * (t->beta * tier->beta_us_per_byte +
                                                t->gamma * tier->gamma_us_per_byte);
}

/* A flat algorithm spanning several domains runs at the slower tier's alpha, beta and gamma. */
static struct sbm_tier slowest_tier(const struct sbm_fabric *f)
{
    if (f->domains <= 1)
        return f->intra;
    return (struct sbm_tier){fmax(f->intra.alpha_us, f->inter.alpha_us),
                             fmax(f->intra.beta_us_per_byte, f->inter.beta_us_per_byte),
                             fmax(f->intra.gamma_us_per_byte, f->inter.gamma_us_per_byte)};
}

/* AllReduce: reduce-scatter inside the domain, AllReduce of n/g across domains (one rank per
 * domain per rail), all-gather inside. The inter part is in-switch when `inter_in_switch`. */
static double hierarchical_allreduce_us(const struct sbm_fabric *f, double n, bool intra_nvls)
{
    int g = f->ranks / f->domains, N = f->domains;
    double t = 0;
    if (intra_nvls) {
        struct sbm_terms s;
        sbm_single_tier_terms(SBM_ALLREDUCE, SBM_NVLS, g, &s);
        t += sbm_terms_time_us(&s, &f->in_switch, n);
    } else {
        struct sbm_terms s;
        sbm_single_tier_terms(SBM_ALLREDUCE, SBM_RING, g, &s);
        t += sbm_terms_time_us(&s, &f->intra, n);
    }
    struct sbm_terms x;
    sbm_single_tier_terms(SBM_ALLREDUCE, intra_nvls && f->inter_reduces ? SBM_NVLS : SBM_RING, N, &x);
    return t + sbm_terms_time_us(&x, &f->inter, n / g);
}

/* AllToAll: (g-1)/p of n stays in the domain, (N-1)/N of n leaves it over the NICs,
 * aggregated per remote domain. */
static double hierarchical_alltoall_us(const struct sbm_fabric *f, double n)
{
    double g = (double)f->ranks / f->domains, N = f->domains, p = f->ranks;
    double intra = (g - 1) * f->intra.alpha_us + (g - 1) / p * n * f->intra.beta_us_per_byte;
    double inter = (N - 1) * f->inter.alpha_us + (N - 1) / N * n * f->inter.beta_us_per_byte;
    return intra + inter;
}

static double nvls_time_us(const struct sbm_fabric *f, double n)
{
    if (!f->intra_reduces)
        return -1;
    if (f->domains > 1)
        return hierarchical_allreduce_us(f, n, true);
    struct sbm_terms t;
    sbm_single_tier_terms(SBM_ALLREDUCE, SBM_NVLS, f->ranks, &t);
    return sbm_terms_time_us(&t, &f->in_switch, n);
}

static double raw_time_us(enum sbm_collective c, enum sbm_algorithm a, const struct sbm_fabric *f,
                          double n)
{
    if (!sbm_algorithm_applies(c, a) || a == SBM_BEST)
        return -1;
    if (f->ranks <= 1)
        return 0;
    if (a == SBM_NVLS)
        return nvls_time_us(f, n);
    if (a == SBM_HIERARCHICAL)
        return c == SBM_ALLREDUCE ? hierarchical_allreduce_us(f, n, false)
                                  : hierarchical_alltoall_us(f, n);
    struct sbm_terms t;
    sbm_single_tier_terms(c, a, f->ranks, &t);
    struct sbm_tier tier = slowest_tier(f);
    return sbm_terms_time_us(&t, &tier, n);
}

double sbm_cost_time_us(enum sbm_collective c, enum sbm_algorithm a, const struct sbm_fabric *f,
                        double bytes)
{
    if (f->ranks < 1 || f->domains < 1 || f->ranks % f->domains != 0)
        return -1;
    double t = raw_time_us(c, a, f, bytes);
    return t < 0 ? t : t + (f->ranks > 1 ? f->launch_us : 0.0);
}

enum sbm_algorithm sbm_cost_best(enum sbm_collective c, const struct sbm_fabric *f, double bytes,
                                 double *time_us)
{
    enum sbm_algorithm best = SBM_BEST;
    *time_us = -1;
    for (int i = 0; i < SBM_BEST; i++) {
        double t = sbm_cost_time_us(c, (enum sbm_algorithm)i, f, bytes);
        if (t >= 0 && (*time_us < 0 || t < *time_us)) {
            *time_us = t;
            best = (enum sbm_algorithm)i;
        }
    }
    return best;
}
