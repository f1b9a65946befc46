#include "rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sizing.h"
#include "system.h"

/* The seed's claims (seeds/002, sizing-rules.md): the numbers the seed states, never derived. */
struct rule_claim {
    const char *id, *system, *claim, *unit;
    double lo, hi;
};

static const struct rule_claim claims[] = {
    {"R1", "gb200-nvl72", "NVLink 5 gives 7200 Gb/s per GPU", "Gb/s", 7200, 7200},
    {"R1b", "gb200-nvl72", "NVLink 5 per GPU is twice NVLink 4 (H100)", "ratio", 2, 2},
    {"R2", "gb200-nvl72", "GB200 NVL72: 9 switch trays make 72 GPUs non-blocking", "trays", 9, 9},
    {"R3", "gb200-nvl36x2", "NVL36x2: first-tier switch trays double to 18 for 72 GPUs", "trays", 18, 18},
    {"R3b", "gb200-nvl36x2", "NVL36x2: half of each first-tier chip's ports go up", "fraction", 0.5, 0.5},
    {"R4", "gb200-nvl576", "Second scale-up tier: 9 more 1.6T-equivalent connections per GPU", "x1.6T/GPU", 9, 9},
    {"R5", "gb200-nvl576", "Second scale-up tier: one more NVLink 5 switch per 4 GPUs", "chips/GPU", 0.25, 0.25},
    {"R6", "gb200-nvl576", "Scale-out in 2-3 tiers: 2-3 1.6T-equivalent connections per GPU", "x1.6T/GPU", 2, 3},
    {"R6b", "gb200-nvl576", "Scale-out: one Quantum-X800 Q34xx switch per 30-48 GPUs", "GPUs/switch", 30, 48},
    {"R7", "gb200-nvl576", "Scale-up needs 3-4.5x the connections of scale-out", "ratio", 3, 4.5},
    {"R7b", "gb200-nvl576", "Scale-up needs 7.5-12x the switches of scale-out", "ratio", 7.5, 12},
    {"R8", "gh200-nvl256", "GH200 NVL256: 8 x 800G optical modules per GPU", "x800G/GPU", 8, 8},
    {"R8b", "gh200-nvl256", "GH200 NVL256: about one L2 NVLink switch per 7 GPUs", "GPUs/switch", 7, 7},
    {"R9", "", "Passive copper reaches about 1 m at 200G per lane", "m", 1, 1},
    {"R9b", "", "AEC reaches about 3 m at 200G per lane; optics beyond", "m", 3, 3},
    {"R10", "", "TP needs two AllReduces per layer, EP an all-to-all dispatch and combine; KV cache can reach 50% of the model size", "", 0, 0},
    {"R11", "", "Scale-up size follows S = a G^b U^c with b, c > 1", "", 0, 0},
    {"R12", "", "GB200 NVL72 per-GPU throughput is ~3x B200 NVL8 at 10 tok/s/user, 7x at 20; NVL576 ~2x NVL72", "", 0, 0},
    {"R13", "gb200-nvl576", "Interconnect demand = chips x per-chip bandwidth x scale-up tiers", "x1.6T/GPU", 9, 9},
};

const char *sbm_rule_verdict(double claimed_lo, double claimed_hi, double derived_lo,
                             double derived_hi)
{
    double t = SBM_RULE_TOLERANCE;
    bool lo_ok = derived_lo >= claimed_lo * (1 - t) && derived_lo <= claimed_hi * (1 + t);
    bool hi_ok = derived_hi >= claimed_lo * (1 - t) && derived_hi <= claimed_hi * (1 + t);
    bool spans = fabs(derived_lo - claimed_lo) <= t * claimed_lo &&
                 fabs(derived_hi - claimed_hi) <= t * claimed_hi;
    return (lo_ok && hi_ok) || spans ? "holds" : "contradicted";
}

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static void derive(struct sbm_rule_result *r, double lo, double hi)
{
    r->has_derived = true;
    r->derived_lo = lo;
    r->derived_hi = hi;
}

static bool quantity(struct sbm_rule_result *r, const struct sbm_sizing *s, const char *key)
{
    const struct sbm_quantity *q = sbm_sizing_get(s, key);
    if (!q) {
        say(r->arithmetic, sizeof r->arithmetic, "%s", s->unverifiable[0] ? s->unverifiable
                                                                          : "not derivable from the catalog");
        return false;
    }
    derive(r, q->value, q->value);
    say(r->arithmetic, sizeof r->arithmetic, "%s = %s = %.4g", q->label, q->arithmetic, q->value);
    return true;
}

static void rule_bandwidth(const struct sbm_catalog *cat, const struct sbm_system *sys,
                           struct sbm_rule_result *r)
{
    double gbit = sys->gpu.links * sys->gpu.link_gbytes_s * 8;
    if (strcmp(r->id, "R1") == 0) {
        derive(r, gbit, gbit);
        say(r->arithmetic, sizeof r->arithmetic, "%s: %d links x %g GB/s x 8 = %g Gb/s per direction",
            sys->gpu.id, sys->gpu.links, sys->gpu.link_gbytes_s, gbit);
        return;
    }
    struct sbm_system h;
    struct sbm_error err;
    if (sbm_system_resolve(cat, "dgx-h100", &h, &err) != SBM_OK) {
        say(r->arithmetic, sizeof r->arithmetic, "%s", err.msg);
        return;
    }
    double h_gbit = h.gpu.links * h.gpu.link_gbytes_s * 8;
    derive(r, gbit / h_gbit, gbit / h_gbit);
    say(r->arithmetic, sizeof r->arithmetic, "%g Gb/s (%s) / (%d x %g GB/s x 8 = %g Gb/s, %s) = %g",
        gbit, sys->gpu.id, h.gpu.links, h.gpu.link_gbytes_s, h_gbit, h.gpu.id, gbit / h_gbit);
}

static void rule_scale_up(const struct sbm_catalog *cat, const struct sbm_system *sys,
                          struct sbm_rule_result *r)
{
    struct sbm_sizing s;
    sbm_size_scale_up(cat, sys, 0, &s);
    const char *key = strcmp(r->id, "R2") == 0 || strcmp(r->id, "R3") == 0 ? "l1_trays"
                      : strcmp(r->id, "R3b") == 0                         ? "l1_up_fraction"
                      : strcmp(r->id, "R4") == 0 || strcmp(r->id, "R13") == 0 ? "t2_modules_1600g_per_gpu"
                      : strcmp(r->id, "R5") == 0                          ? "l2_chips_per_gpu"
                      : strcmp(r->id, "R8") == 0                          ? "t2_modules_800g_per_gpu"
                                                                          : "gpus_per_l2_tray";
    if (!quantity(r, &s, key) || strcmp(r->id, "R5") != 0)
        return;
    const struct sbm_quantity *t = sbm_sizing_get(&s, "extra_trays_per_gpu");
    const struct sbm_quantity *c = sbm_sizing_get(&s, "extra_chips_per_gpu");
    size_t used = strlen(r->arithmetic);
    say(r->arithmetic + used, sizeof r->arithmetic - used,
        "; unit counted: tier-2 chips. In trays of 2 chips (tier-1 doubling + tier 2): %.4g per GPU; "
        "counting every added chip: %.4g per GPU", t ? t->value : NAN, c ? c->value : NAN);
}

/* Scale-out at full 2-tier and 3-tier size of the system's switch (R6, R6b), and the
 * scale-up / scale-out ratios (R7 connections, R7b switches). */
static void rule_scale_out(const struct sbm_catalog *cat, const struct sbm_system *sys,
                           struct sbm_rule_result *r)
{
    struct sbm_sizing two, three, up;
    int k = sys->out.sw.ports;
    if (k <= 0 || sbm_size_scale_out(cat, sys, (int)sbm_fat_tree_capacity(k, 2), 2, &two) ||
        sbm_size_scale_out(cat, sys, (int)sbm_fat_tree_capacity(k, 3), 3, &three) || two.n == 0) {
        say(r->arithmetic, sizeof r->arithmetic, "scale-out switch of %s not described", sys->id);
        return;
    }
    bool per_switch = strcmp(r->id, "R6b") == 0 || strcmp(r->id, "R7b") == 0;
    const char *key = per_switch ? "gpus_per_switch" : "modules_1600g_per_gpu";
    const struct sbm_quantity *q2 = sbm_sizing_get(&two, key), *q3 = sbm_sizing_get(&three, key);
    if (strncmp(r->id, "R6", 2) == 0) {
        derive(r, fmin(q2->value, q3->value), fmax(q2->value, q3->value));
        say(r->arithmetic, sizeof r->arithmetic, "%s, k=%d: 2 tiers (%g GPUs): %s = %.4g; "
            "3 tiers (%g GPUs): %s = %.4g", sys->out.sw.id, k, sbm_fat_tree_capacity(k, 2),
            q2->arithmetic, q2->value, sbm_fat_tree_capacity(k, 3), q3->arithmetic, q3->value);
        return;
    }
    sbm_size_scale_up(cat, sys, 0, &up);
    const struct sbm_quantity *u =
        sbm_sizing_get(&up, per_switch ? "l2_chips_per_gpu" : "t2_modules_1600g_per_gpu");
    if (!u) {
        say(r->arithmetic, sizeof r->arithmetic, "%s has no second scale-up tier", sys->id);
        return;
    }
    /* connections: up / out per GPU; switches: up chips per GPU x out GPUs per switch */
    double a = per_switch ? u->value * q2->value : u->value / q2->value;
    double b = per_switch ? u->value * q3->value : u->value / q3->value;
    derive(r, fmin(a, b), fmax(a, b));
    if (per_switch)
        say(r->arithmetic, sizeof r->arithmetic, "scale-up %.4g tier-2 chips per GPU x scale-out "
            "%.4g (2 tiers) or %.4g (3 tiers) GPUs per switch = %.4g..%.4g; note a Q3400 switches "
            "4x the bandwidth of an NVLink 5 chip", u->value, q2->value, q3->value, fmin(a, b),
            fmax(a, b));
    else
        say(r->arithmetic, sizeof r->arithmetic, "scale-up %.4g per GPU / scale-out %.4g (2 tiers) "
            "or %.4g (3 tiers) per GPU = %.4g..%.4g", u->value, q2->value, q3->value, fmin(a, b),
            fmax(a, b));
}

static void rule_media(const struct sbm_catalog *cat, struct sbm_rule_result *r)
{
    const char *name = strcmp(r->id, "R9") == 0 ? "passive-copper" : "aec";
    json_t *m = sbm_catalog_entry(cat, "media", name);
    double reach;
    const char *source;
    if (sbm_sourced_number(m, "reach_m", name, &reach, &source, NULL) != SBM_OK) {
        say(r->arithmetic, sizeof r->arithmetic, "medium '%s' not in the catalog", name);
        return;
    }
    derive(r, reach, reach);
    say(r->arithmetic, sizeof r->arithmetic, "catalog media.%s.reach_m = %g m (%s); links are "
        "given the cheapest medium whose reach covers their length (sb_model size)", name, reach,
        source);
}

static void evaluate(const struct sbm_catalog *cat, const struct rule_claim *c,
                     struct sbm_rule_result *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", c->id);
    snprintf(r->claim, sizeof r->claim, "%s", c->claim);
    snprintf(r->unit, sizeof r->unit, "%s", c->unit);
    snprintf(r->system, sizeof r->system, "%s", c->system);
    r->claimed_lo = c->lo;
    r->claimed_hi = c->hi;
    int n = atoi(c->id + 1);
    struct sbm_system sys;
    struct sbm_error err;
    if (n >= 10 && n <= 12)
        say(r->arithmetic, sizeof r->arithmetic, "inference claim, not a sizing rule: run "
            "`sb_model infer --claims` (the decode model checks it with numbers)");
    else if (n == 9)
        rule_media(cat, r);
    else if (sbm_system_resolve(cat, c->system, &sys, &err) != SBM_OK)
        say(r->arithmetic, sizeof r->arithmetic, "%s", err.msg);
    else if (n == 1)
        rule_bandwidth(cat, &sys, r);
    else if (n == 6 || n == 7)
        rule_scale_out(cat, &sys, r);
    else
        rule_scale_up(cat, &sys, r);
    if (n == 13 && r->has_derived) {
        size_t used = strlen(r->arithmetic);
        say(r->arithmetic + used, sizeof r->arithmetic - used, "; holds when 'tiers' counts the "
            "optical tiers only: the tier-1 links are copper inside the rack, so counting both "
            "scale-up tiers would give %.4g", 2 * r->derived_lo);
    }
    snprintf(r->verdict, sizeof r->verdict, "%s",
             r->has_derived ? sbm_rule_verdict(c->lo, c->hi, r->derived_lo, r->derived_hi)
                            : "unverifiable");
}

int sbm_rules_evaluate(const struct sbm_catalog *cat, const char *only,
                       struct sbm_rule_result *rows, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof claims / sizeof claims[0] && n < max; i++)
        if (!only || strcmp(only, claims[i].id) == 0)
            evaluate(cat, &claims[i], &rows[n++]);
    return n;
}
