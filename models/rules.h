/* The seed's sizing and bandwidth rules (R1-R13 of sizing-rules.md), each derived from the
 * catalog and compared with the seed's claimed value: holds, contradicted or unverifiable. */
#ifndef SBM_RULES_H
#define SBM_RULES_H

#include <stdbool.h>

#include "catalog.h"

/* A claim holds when the derived value lies within this relative distance of the claim. */
#define SBM_RULE_TOLERANCE 0.05

struct sbm_rule_result {
    char id[8], claim[240], unit[32], arithmetic[640], verdict[16], system[64];
    double claimed_lo, claimed_hi, derived_lo, derived_hi; /* lo == hi for one value */
    bool has_derived;
};

#define SBM_RULES_MAX 32

/* Evaluates every rule (or the one whose id is ONLY, when not NULL). Returns the row count. */
int sbm_rules_evaluate(const struct sbm_catalog *cat, const char *only,
                       struct sbm_rule_result *rows, int max);

/* The verdict of a claimed range against a derived range, with SBM_RULE_TOLERANCE. */
const char *sbm_rule_verdict(double claimed_lo, double claimed_hi, double derived_lo,
                             double derived_hi);

#endif
