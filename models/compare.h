/* sb_compare's core: joins two runs' result records per point (collective, backend, memory,
 * dtype, op, in_place, ranks, nodes, bytes; for sb_pairs also level, member, peer_member) and
 * gives each point a noise-aware verdict.
 *
 * The metric judged is the latency (median time) below the crossover size and busbw from it
 * on.  The 95% confidence intervals of the two medians bound the ratio of the times, hence the
 * change of either metric.  A point regresses when it is worse than its tolerance even at the
 * most favourable end of that bound (when either record lacks the interval, the point estimate
 * alone decides).  Worse than the tolerance by the point estimate only is "noise": reported,
 * never a failure.  So wide intervals (a noisy machine) do not cry wolf, and a drop twice the
 * tolerance is caught as long as the intervals are tighter than the tolerance. */
#ifndef SBC_COMPARE_H
#define SBC_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct sbc_point {
    char collective[24], backend[24], memory[16], dtype[16], op[16];
    int in_place, ranks, nodes;
    char level[8];                        /* sb_pairs: "node" or "rank"; "" elsewhere */
    char method[32];                      /* how it was timed (sbm_record_method); "" default */
    int member, peer_member;              /* sb_pairs: the pair; -1 elsewhere */
    long long bytes;
    double median_us, ci_lo_us, ci_hi_us; /* interval: NAN when the record has none */
    double busbw_gbps;
    long long wrong;                      /* -1: not checked */
    int failed;                           /* the record carries an error */
    long line;                            /* where it was read, for messages */
};

struct sbc_run {
    char name[256]; /* the file name, for messages and the table */
    struct sbc_point *v;
    size_t n, cap;
};

/* Reads the result records of one JSON Lines stream (other record types are skipped).
 * Returns 0, or 2 with "NAME:LINE: what is wrong" in err (invalid JSON, a result record
 * without a required field, the same point twice). */
int sbc_run_read_stream(FILE *f, const char *name, struct sbc_run *out, char *err, size_t errlen);
/* Opens PATH and reads it; also 2 when it cannot be opened or holds no result record. */
int sbc_run_read(const char *path, struct sbc_run *out, char *err, size_t errlen);
void sbc_run_free(struct sbc_run *run);

enum sbc_metric { SBC_LATENCY, SBC_BUSBW };

enum sbc_verdict {
    SBC_OK,         /* within tolerance */
    SBC_IMPROVED,   /* better than tolerance even at the intervals' worst */
    SBC_NOISE,      /* beyond tolerance by the point estimate only: not a failure */
    SBC_REGRESSION, /* worse than tolerance even at the intervals' best: fails */
    SBC_WRONG,      /* B has wrong elements: fails */
    SBC_FAILED,     /* B's record carries an error: fails */
    SBC_MISSING,    /* in A, not in B: fails unless allow_missing */
    SBC_NEW,        /* in B, not in A: reported only */
};

struct sbc_options {
    double busbw_tolerance;   /* relative, e.g. 0.05 */
    double latency_tolerance; /* relative */
    long long crossover;      /* bytes: latency below, busbw from here on */
    int allow_missing;
};

/* Defaults: busbw 5%, latency 10%, crossover 64 KiB, missing points fail. */
void sbc_options_default(struct sbc_options *o);

struct sbc_row {
    const struct sbc_point *a, *b; /* either may be NULL (missing / new) */
    enum sbc_metric metric;
    double a_value, b_value;       /* us for latency, GB/s for busbw */
    double change;                 /* (b - a) / a of the metric */
    double degradation;            /* > 0 worse: the change for latency, -change for busbw */
    double degradation_min, degradation_max; /* its bounds from the medians' intervals */
    double tolerance;
    int significant;               /* the two intervals do not overlap */
    enum sbc_verdict verdict;
};

struct sbc_result {
    struct sbc_row *rows;
    size_t n;
    size_t count[SBC_NEW + 1];
    size_t failures; /* rows whose verdict fails */
};

/* Joins A (expected, e.g. a baseline) and B (measured).  Rows follow B's order, then A's
 * points missing from B.  Returns 0, or 2 when nothing joins (err says so). */
int sbc_compare(const struct sbc_run *a, const struct sbc_run *b, const struct sbc_options *opt,
                struct sbc_result *out, char *err, size_t errlen);
void sbc_result_free(struct sbc_result *r);

const char *sbc_verdict_name(enum sbc_verdict v);
int sbc_verdict_fails(enum sbc_verdict v, const struct sbc_options *opt);

/* One row as a JSON object ("type":"row"), and the closing summary ("type":"summary"). */
json_t *sbc_row_json(const struct sbc_row *row, const struct sbc_options *opt);
json_t *sbc_summary_json(const struct sbc_result *r, const struct sbc_options *opt);
/* The readable diff table, grouped by curve, with a closing verdict line. */
void sbc_print_table(FILE *out, const struct sbc_run *a, const struct sbc_run *b, const struct sbc_result *r,
                     const struct sbc_options *opt);

#endif
