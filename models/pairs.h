/* Finding the bad node or link from a pairwise sweep (sb_pairs): the N x N matrices of
 * bandwidth and latency, and a robust outlier rule.
 *
 * The rule, per metric (bandwidth: higher is better; latency: its inverse is used):
 *   - a member's score is the upper median of its pairs: a slow NIC, port or cable drags most of
 *     that member's pairs down, while a healthy member's pairs are mostly healthy;
 *   - the reference is the upper median of the members' scores (medians, so noise does not
 *     move it; it assumes most members are healthy);
 *   - a pair is bad when it is below (1 - drop) x the reference (bandwidth) or above
 *     (1 + rise) x the reference (latency);
 *   - a member is a suspect when more than half of its pairs are bad; a bad pair between two
 *     members that are not suspects is a suspect link.
 * With 2 members there is one pair and nothing to compare it with: nobody is named; when half
 * or more of the members are slow, the slow ones look normal and nobody is named either. */
#ifndef SBM_PAIRS_H
#define SBM_PAIRS_H

#include <jansson.h>
#include <stdio.h>

#define SBM_PAIRS_BW_DROP 0.25  /* a pair below 75% of the reference bandwidth is bad */
#define SBM_PAIRS_LAT_RISE 1.0  /* a pair above 2x the reference latency is bad */
#define SBM_PAIRS_NAME_LEN 96

struct sbm_pairs_matrix {
    int n;
    char (*names)[SBM_PAIRS_NAME_LEN];
    double *bw;  /* n x n, GB/s (both directions together); NAN where not measured */
    double *lat; /* n x n, us; NAN where not measured */
};

struct sbm_pairs_rule {
    double bw_drop, lat_rise;
};

enum sbm_suspect_kind { SBM_SUSPECT_NODE, SBM_SUSPECT_LINK };

struct sbm_suspect {
    enum sbm_suspect_kind kind;
    const char *metric;   /* "bandwidth" or "latency" */
    int a, b;             /* the node (a), or the link's two ends */
    int bad, pairs;       /* a node's bad pairs, of its measured pairs */
    double ratio_min, ratio_max; /* value / reference over the bad pairs (a link: its one pair) */
    double value_min, value_max;
};

struct sbm_pairs_verdict {
    double bw_ref, lat_ref; /* GB/s, us; NAN when the metric has no data */
    int measured_pairs, expected_pairs;
    int count;
    struct sbm_suspect *suspects;
};

/* 0, or -1 when out of memory; every entry starts NAN, names "m<i>". */
int sbm_pairs_matrix_init(struct sbm_pairs_matrix *m, int n);
void sbm_pairs_matrix_free(struct sbm_pairs_matrix *m);
/* Sets both (i, j) and (j, i); a value already there is kept when it is better (more bandwidth,
 * less latency): several records of one pair (dtypes, in place or not) give the pair's best. */
void sbm_pairs_matrix_put(struct sbm_pairs_matrix *m, int i, int j, double bw_gbps, double lat_us);

/* Applies the rule; 0, or -1 when out of memory (v is then empty). */
int sbm_pairs_judge(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule,
                    struct sbm_pairs_verdict *v);
void sbm_pairs_verdict_free(struct sbm_pairs_verdict *v);

/* "node h3: 3 of 3 pairs at 24-26% of the reference bandwidth (0.0500 GB/s)" */
void sbm_pairs_suspect_text(const struct sbm_pairs_matrix *m, const struct sbm_pairs_verdict *v,
                            const struct sbm_suspect *s, char *buf, size_t len);
/* The rule in one line, for reports. */
void sbm_pairs_rule_text(const struct sbm_pairs_rule *rule, char *buf, size_t len);
/* {"reference": {...}, "rule": "...", "suspects": [{kind, name(s), metric, evidence, ...}]} */
json_t *sbm_pairs_verdict_json(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule,
                               const struct sbm_pairs_verdict *v);
/* The verdict as text lines ("# suspect: ..." or "# suspects: none ..."), each with `prefix`. */
void sbm_pairs_verdict_print(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule,
                             const struct sbm_pairs_verdict *v, const char *prefix, FILE *out);

#endif
