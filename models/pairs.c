#include "pairs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sbm_pairs_matrix_init(struct sbm_pairs_matrix *m, int n)
{
    memset(m, 0, sizeof *m);
    size_t cells = (size_t)n * (size_t)n;
    m->names = calloc((size_t)n, sizeof *m->names);
    m->bw = malloc(cells * sizeof *m->bw);
    m->lat = malloc(cells * sizeof *m->lat);
    if (n < 1 || !m->names || !m->bw || !m->lat) {
        sbm_pairs_matrix_free(m);
        return -1;
    }
    m->n = n;
    for (size_t c = 0; c < cells; c++)
        m->bw[c] = m->lat[c] = NAN;
    for (int i = 0; i < n; i++)
        snprintf(m->names[i], sizeof m->names[i], "m%d", i);
    return 0;
}

void sbm_pairs_matrix_free(struct sbm_pairs_matrix *m)
{
    free(m->names);
    free(m->bw);
    free(m->lat);
    memset(m, 0, sizeof *m);
}

static void put_best(double *cell, double v, int higher_is_better)
{
    if (!isfinite(v) || v <= 0)
        return;
    if (isnan(*cell) || (higher_is_better ? v > *cell : v < *cell))
        *cell = v;
}

void sbm_pairs_matrix_put(struct sbm_pairs_matrix *m, int i, int j, double bw_gbps, double lat_us)
{
    if (i < 0 || j < 0 || i >= m->n || j >= m->n || i == j)
        return;
    int n = m->n;
    put_best(&m->bw[i * n + j], bw_gbps, 1);
    put_best(&m->lat[i * n + j], lat_us, 0);
    m->bw[j * n + i] = m->bw[i * n + j];
    m->lat[j * n + i] = m->lat[i * n + j];
}

/* One metric, as "goodness" (higher is better): bandwidth itself, or 1 / latency. */
struct metric {
    const char *name;
    const double *values; /* the matrix in natural units */
    int inverse;          /* latency: goodness = 1 / value */
    double keep;          /* a pair is bad below keep x the reference goodness */
};

static double goodness(const struct metric *mt, double v) { return mt->inverse ? 1.0 / v : v; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double upper_median(double *v, int k)
{
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    return v[k / 2];
}

/* Every member's score, the upper median of its pairs' goodness (NAN where it has none), and the
 * reference: the upper median of the scores.  A median, not the best pair, so that noise does
 * not raise the reference (the largest of 63 noisy pairs sits ~3 sigma high); the upper one, so
 * that with 2 pairs a member's healthy pair counts, not the average with its bad one. */
static double reference(const struct sbm_pairs_matrix *m, const struct metric *mt, double *score, double *scratch)
{
    int n = m->n, k = 0;
    for (int i = 0; i < n; i++) {
        int pairs = 0;
        for (int j = 0; j < n; j++)
            if (j != i && !isnan(mt->values[i * n + j]))
                scratch[pairs++] = goodness(mt, mt->values[i * n + j]);
        score[i] = pairs ? upper_median(scratch, pairs) : NAN;
    }
    for (int i = 0; i < n; i++)
        if (!isnan(score[i]))
            scratch[k++] = score[i];
    return k ? upper_median(scratch, k) : NAN;
}

static int add_suspect(struct sbm_pairs_verdict *v, const struct sbm_suspect *s)
{
    struct sbm_suspect *grown = realloc(v->suspects, (size_t)(v->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    v->suspects = grown;
    v->suspects[v->count++] = *s;
    return 0;
}

static int is_bad(const struct metric *mt, double value, double ref)
{
    return !isnan(value) && goodness(mt, value) < mt->keep * ref;
}

/* A node's bad pairs and the range of value / reference (natural units) over them. */
static void node_evidence(const struct sbm_pairs_matrix *m, const struct metric *mt, double ref, int i,
                          struct sbm_suspect *s)
{
    int n = m->n;
    double ref_value = goodness(mt, ref); /* 1/x is its own inverse */
    *s = (struct sbm_suspect){.kind = SBM_SUSPECT_NODE, .metric = mt->name, .a = i, .b = -1,
                              .ratio_min = INFINITY, .ratio_max = -INFINITY, .value_min = INFINITY,
                              .value_max = -INFINITY};
    for (int j = 0; j < n; j++) {
        double v = mt->values[i * n + j];
        if (j == i || isnan(v))
            continue;
        s->pairs++;
        if (!is_bad(mt, v, ref))
            continue;
        s->bad++;
        s->ratio_min = fmin(s->ratio_min, v / ref_value);
        s->ratio_max = fmax(s->ratio_max, v / ref_value);
        s->value_min = fmin(s->value_min, v);
        s->value_max = fmax(s->value_max, v);
    }
}

static int judge_metric(const struct sbm_pairs_matrix *m, const struct metric *mt, double *ref_out,
                        struct sbm_pairs_verdict *v)
{
    int n = m->n, rc = 0;
    double *score = malloc((size_t)n * sizeof *score), *scratch = malloc((size_t)n * sizeof *scratch);
    int *suspect = calloc((size_t)n, sizeof *suspect);
    if (!score || !scratch || !suspect) {
        rc = -1;
        goto out;
    }
    double ref = reference(m, mt, score, scratch);
    *ref_out = isnan(ref) ? NAN : goodness(mt, ref);
    if (isnan(ref))
        goto out;
    for (int i = 0; i < n && rc == 0; i++) {
        struct sbm_suspect s;
        node_evidence(m, mt, ref, i, &s);
        suspect[i] = 2 * s.bad > s.pairs;
        if (suspect[i])
            rc = add_suspect(v, &s);
    }
    for (int i = 0; i < n && rc == 0; i++)
        for (int j = i + 1; j < n && rc == 0; j++) {
            double val = mt->values[i * n + j];
            if (suspect[i] || suspect[j] || !is_bad(mt, val, ref))
                continue;
            double ratio = val / goodness(mt, ref);
            struct sbm_suspect s = {.kind = SBM_SUSPECT_LINK, .metric = mt->name, .a = i, .b = j, .bad = 1,
                                    .pairs = 1, .ratio_min = ratio, .ratio_max = ratio, .value_min = val,
                                    .value_max = val};
            rc = add_suspect(v, &s);
        }
out:
    free(score);
    free(scratch);
    free(suspect);
    return rc;
}

int sbm_pairs_judge(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule, struct sbm_pairs_verdict *v)
{
    memset(v, 0, sizeof *v);
    int n = m->n;
    v->expected_pairs = n * (n - 1) / 2;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            v->measured_pairs += !isnan(m->bw[i * n + j]) || !isnan(m->lat[i * n + j]);
    struct metric bw = {"bandwidth", m->bw, 0, 1.0 - rule->bw_drop};
    struct metric lat = {"latency", m->lat, 1, 1.0 / (1.0 + rule->lat_rise)};
    if (judge_metric(m, &bw, &v->bw_ref, v) != 0 || judge_metric(m, &lat, &v->lat_ref, v) != 0) {
        sbm_pairs_verdict_free(v);
        return -1;
    }
    return 0;
}

void sbm_pairs_verdict_free(struct sbm_pairs_verdict *v)
{
    free(v->suspects);
    memset(v, 0, sizeof *v);
}

static int is_latency(const struct sbm_suspect *s) { return strcmp(s->metric, "latency") == 0; }

/* "24-26% of" (bandwidth) or "2.1-2.4x" (latency) */
static void ratio_text(const struct sbm_suspect *s, char *buf, size_t len)
{
    if (is_latency(s)) {
        if (s->ratio_max - s->ratio_min < 0.05)
            snprintf(buf, len, "%.1fx", s->ratio_min);
        else
            snprintf(buf, len, "%.1f-%.1fx", s->ratio_min, s->ratio_max);
    } else if (s->ratio_max - s->ratio_min < 0.005) {
        snprintf(buf, len, "%.0f%% of", 100 * s->ratio_min);
    } else {
        snprintf(buf, len, "%.0f-%.0f%% of", 100 * s->ratio_min, 100 * s->ratio_max);
    }
}

void sbm_pairs_suspect_text(const struct sbm_pairs_matrix *m, const struct sbm_pairs_verdict *v,
                            const struct sbm_suspect *s, char *buf, size_t len)
{
    char ratio[48], ref[64];
    ratio_text(s, ratio, sizeof ratio);
    if (is_latency(s))
        snprintf(ref, sizeof ref, "the reference latency (%.2f us)", v->lat_ref);
    else
        snprintf(ref, sizeof ref, "the reference bandwidth (%.4g GB/s)", v->bw_ref);
    if (s->kind == SBM_SUSPECT_NODE)
        snprintf(buf, len, "node %s: %d of %d pairs at %s %s", m->names[s->a], s->bad, s->pairs, ratio, ref);
    else
        snprintf(buf, len, "link %s - %s: %.4g %s, %s %s (both ends healthy with their other peers)",
                 m->names[s->a], m->names[s->b], s->value_min, is_latency(s) ? "us" : "GB/s", ratio, ref);
}

void sbm_pairs_rule_text(const struct sbm_pairs_rule *rule, char *buf, size_t len)
{
    snprintf(buf, len,
             "reference = upper median over members of each member's upper-median pair; a pair is bad below "
             "%.0f%% of the reference bandwidth or above %.1fx the reference latency; a member is a suspect when "
             "more than half of its pairs are bad; a bad pair between two members that are not suspects is a "
             "suspect link",
             100 * (1 - rule->bw_drop), 1 + rule->lat_rise);
}

static json_t *real_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *sbm_pairs_verdict_json(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule,
                               const struct sbm_pairs_verdict *v)
{
    char rule_text[512], evidence[512];
    sbm_pairs_rule_text(rule, rule_text, sizeof rule_text);
    json_t *list = json_array();
    for (int k = 0; k < v->count; k++) {
        const struct sbm_suspect *s = &v->suspects[k];
        sbm_pairs_suspect_text(m, v, s, evidence, sizeof evidence);
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:s}", "kind",
                              s->kind == SBM_SUSPECT_NODE ? "node" : "link", "metric", s->metric, "name",
                              m->names[s->a], "bad_pairs", s->bad, "pairs", s->pairs, "ratio_min",
                              real_or_null(s->ratio_min), "ratio_max", real_or_null(s->ratio_max), "evidence",
                              evidence);
        if (s->kind == SBM_SUSPECT_LINK)
            json_object_set_new(o, "peer", json_string(m->names[s->b]));
        json_array_append_new(list, o);
    }
    json_t *ref = json_pack("{s:o, s:o}", "bandwidth_gbps", real_or_null(v->bw_ref), "latency_us",
                            real_or_null(v->lat_ref));
    return json_pack("{s:o, s:s, s:f, s:f, s:i, s:i, s:o}", "reference", ref, "rule", rule_text, "bw_drop",
                     rule->bw_drop, "lat_rise", rule->lat_rise, "measured_pairs", v->measured_pairs,
                     "expected_pairs", v->expected_pairs, "suspects", list);
}

void sbm_pairs_verdict_print(const struct sbm_pairs_matrix *m, const struct sbm_pairs_rule *rule,
                             const struct sbm_pairs_verdict *v, const char *prefix, FILE *out)
{
    char line[640];
    fprintf(out, "%sreference: %.4g GB/s (bandwidth, both directions), %.2f us (latency); %d of %d pairs measured\n",
            prefix, v->bw_ref, v->lat_ref, v->measured_pairs, v->expected_pairs);
    if (m->n < 3)
        fprintf(out, "%snote: %d members give %d pair: nothing to compare with, so nobody can be named\n", prefix,
                m->n, v->expected_pairs);
    for (int k = 0; k < v->count; k++) {
        sbm_pairs_suspect_text(m, v, &v->suspects[k], line, sizeof line);
        fprintf(out, "%ssuspect: %s\n", prefix, line);
    }
    if (v->count == 0) {
        sbm_pairs_rule_text(rule, line, sizeof line);
        fprintf(out, "%ssuspects: none (%s)\n", prefix, line);
    }
}
