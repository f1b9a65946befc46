/* sb_compare's core: read two runs, join them per point, judge each point (see compare.h). */
#include "compare.h"
#include "method.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 2;
}

/* ---- reading ---------------------------------------------------------------------------- */

static int get_string(json_t *rec, const char *key, char *dst, size_t len, int required)
{
    json_t *v = json_object_get(rec, key);
    if (!v && !required) {
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) >= len)
        return -1;
    strcpy(dst, json_string_value(v));
    return 0;
}

static int get_number(json_t *obj, const char *key, double *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return -1;
    *dst = json_number_value(v);
    return isfinite(*dst) ? 0 : -1;
}

/* The same curve: every key but the size (an sb_pairs pair is a curve of its own). */
static int same_curve(const struct sbc_point *a, const struct sbc_point *b)
{
    return a->in_place == b->in_place && a->ranks == b->ranks && a->nodes == b->nodes &&
           a->member == b->member && a->peer_member == b->peer_member && strcmp(a->level, b->level) == 0 &&
           strcmp(a->collective, b->collective) == 0 && strcmp(a->backend, b->backend) == 0 &&
           strcmp(a->memory, b->memory) == 0 && strcmp(a->dtype, b->dtype) == 0 && strcmp(a->op, b->op) == 0 &&
           strcmp(a->method, b->method) == 0;
}

static int same_point(const struct sbc_point *a, const struct sbc_point *b)
{
    return a->bytes == b->bytes && same_curve(a, b);
}

/* sb_pairs' member or peer_member: absent -1, else a whole number >= 0 (-2: invalid). */
static int member_of(json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    if (!v)
        return -1;
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1000000000
               ? (int)json_integer_value(v) : -2;
}

/* Fills P from one result record; returns the name of the first bad field, or NULL. */
static const char *point_from_json(json_t *rec, struct sbc_point *p)
{
    memset(p, 0, sizeof *p);
    if (get_string(rec, "collective", p->collective, sizeof p->collective, 1))
        return "collective";
    if (get_string(rec, "backend", p->backend, sizeof p->backend, 0))
        return "backend";
    if (get_string(rec, "memory", p->memory, sizeof p->memory, 0))
        return "memory";
    if (get_string(rec, "dtype", p->dtype, sizeof p->dtype, 1))
        return "dtype";
    if (get_string(rec, "op", p->op, sizeof p->op, 0))
        return "op";
    json_t *v = json_object_get(rec, "in_place");
    if (!json_is_boolean(v))
        return "in_place";
    p->in_place = json_is_true(v);
    sbm_record_method(rec, p->method, sizeof p->method);
    v = json_object_get(rec, "ranks");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return "ranks";
    p->ranks = (int)json_integer_value(v);
    v = json_object_get(rec, "nodes");
    p->nodes = 1;
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return "nodes";
        p->nodes = (int)json_integer_value(v);
    }
    if (get_string(rec, "level", p->level, sizeof p->level, 0))
        return "level";
    if ((p->member = member_of(rec, "member")) < -1)
        return "member";
    if ((p->peer_member = member_of(rec, "peer_member")) < -1)
        return "peer_member";
    v = json_object_get(rec, "bytes");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return "bytes";
    p->bytes = json_integer_value(v);
    json_t *t = json_object_get(rec, "time_us");
    if (!json_is_object(t) || get_number(t, "median", &p->median_us) || p->median_us < 0)
        return "time_us.median";
    p->ci_lo_us = p->ci_hi_us = NAN;
    double lo, hi;
    if (get_number(t, "median_ci_lo", &lo) == 0 && get_number(t, "median_ci_hi", &hi) == 0 && lo <= hi) {
        p->ci_lo_us = lo;
        p->ci_hi_us = hi;
    }
    if (get_number(rec, "busbw_gbps", &p->busbw_gbps) || p->busbw_gbps < 0)
        return "busbw_gbps";
    v = json_object_get(rec, "wrong");
    p->wrong = -1;
    if (json_is_integer(v))
        p->wrong = json_integer_value(v);
    else if (v && !json_is_null(v))
        return "wrong";
    v = json_object_get(rec, "error");
    p->failed = v && !json_is_null(v);
    return NULL;
}

static int run_append(struct sbc_run *run, const struct sbc_point *p)
{
    if (run->n == run->cap) {
        size_t cap = run->cap ? 2 * run->cap : 64;
        struct sbc_point *v = realloc(run->v, cap * sizeof *v);
        if (!v)
            return -1;
        run->v = v;
        run->cap = cap;
    }
    run->v[run->n++] = *p;
    return 0;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static int read_line(const char *name, long lineno, const char *line, struct sbc_run *run, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *rec = json_loads(line, JSON_DECODE_ANY, &jerr);
    int rc = 0;
    if (!rec)
        return fail(err, errlen, "%s:%ld: invalid JSON: %s (column %d)", name, lineno, jerr.text, jerr.column);
    if (!json_is_object(rec)) {
        rc = fail(err, errlen, "%s:%ld: a record must be a JSON object", name, lineno);
        goto out;
    }
    json_t *type = json_object_get(rec, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "result") != 0)
        goto out; /* run header, summary, error records: not points */
    struct sbc_point p;
    const char *bad = point_from_json(rec, &p);
    if (bad) {
        rc = fail(err, errlen, "%s:%ld: result record lacks a valid '%s'", name, lineno, bad);
        goto out;
    }
    p.line = lineno;
    for (size_t i = 0; i < run->n; i++)
        if (same_point(&run->v[i], &p)) {
            rc = fail(err, errlen,
                      "%s:%ld: the same point (%s %s %s %lld bytes) was already recorded at line %ld; "
                      "compare one run per file",
                      name, lineno, p.collective, p.dtype, p.in_place ? "in-place" : "out-of-place", p.bytes,
                      run->v[i].line);
            goto out;
        }
    if (run_append(run, &p))
        rc = fail(err, errlen, "%s:%ld: out of memory", name, lineno);
out:
    json_decref(rec);
    return rc;
}

int sbc_run_read_stream(FILE *f, const char *name, struct sbc_run *out, char *err, size_t errlen)
{
    struct sbc_run run = {0};
    snprintf(run.name, sizeof run.name, "%s", name);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (!is_blank(line))
            rc = read_line(name, lineno, line, &run, err, errlen);
    }
    free(line);
    if (rc == 0 && ferror(f))
        rc = fail(err, errlen, "%s: read error", name);
    if (rc) {
        sbc_run_free(&run);
        return rc;
    }
    *out = run;
    return 0;
}

int sbc_run_read(const char *path, struct sbc_run *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    int rc = sbc_run_read_stream(f, path, out, err, errlen);
    fclose(f);
    if (rc == 0 && out->n == 0) {
        sbc_run_free(out);
        return fail(err, errlen, "%s: no result records (is it a scalebench JSON Lines file?)", path);
    }
    return rc;
}

void sbc_run_free(struct sbc_run *run)
{
    free(run->v);
    run->v = NULL;
    run->n = run->cap = 0;
}

/* ---- judging ---------------------------------------------------------------------------- */

void sbc_options_default(struct sbc_options *o)
{
    o->busbw_tolerance = 0.05;
    o->latency_tolerance = 0.10;
    o->crossover = 64 * 1024;
    o->allow_missing = 0;
}

const char *sbc_verdict_name(enum sbc_verdict v)
{
    static const char *const names[] = {"ok", "improved", "noise", "regression", "wrong", "failed", "missing", "new"};
    return (unsigned)v <= SBC_NEW ? names[v] : "?";
}

int sbc_verdict_fails(enum sbc_verdict v, const struct sbc_options *opt)
{
    return v == SBC_REGRESSION || v == SBC_WRONG || v == SBC_FAILED || (v == SBC_MISSING && !opt->allow_missing);
}

static double metric_value(const struct sbc_point *p, enum sbc_metric m)
{
    return m == SBC_LATENCY ? p->median_us : p->busbw_gbps;
}

static void judge(struct sbc_row *row, const struct sbc_options *opt)
{
    const struct sbc_point *a = row->a, *b = row->b, *any = b ? b : a;
    row->metric = any->bytes >= opt->crossover ? SBC_BUSBW : SBC_LATENCY;
    row->tolerance = row->metric == SBC_BUSBW ? opt->busbw_tolerance : opt->latency_tolerance;
    row->a_value = a ? metric_value(a, row->metric) : NAN;
    row->b_value = b ? metric_value(b, row->metric) : NAN;
    row->change = row->degradation = row->degradation_min = row->degradation_max = NAN;
    row->significant = 0;
    if (!a) {
        row->verdict = SBC_NEW;
        return;
    }
    if (!b) {
        row->verdict = SBC_MISSING;
        return;
    }
    if (b->failed) { /* B measured nothing: no value to set beside A's */
        row->b_value = NAN;
        row->verdict = SBC_FAILED;
        return;
    }
    if (a->failed || a->wrong > 0) { /* A measured nothing valid here: no expectation for B */
        row->a_value = NAN;
        row->verdict = b->wrong > 0 ? SBC_WRONG : SBC_NEW;
        return;
    }
    if (row->metric == SBC_BUSBW && !(row->a_value > 0)) { /* busbw 0: judge the time instead */
        row->metric = SBC_LATENCY;
        row->a_value = a->median_us;
        row->b_value = b->median_us;
    }
    if (row->a_value > 0) {
        row->change = (row->b_value - row->a_value) / row->a_value;
        row->degradation = row->metric == SBC_LATENCY ? row->change : -row->change;
    } else {
        row->change = row->degradation = 0;
    }
    /* busbw is bytes x factor / time, so both metrics move with the ratio of the times, and
     * the 95% intervals of the two medians bound that ratio: [B.lo / A.hi, B.hi / A.lo]. */
    double r = a->median_us > 0 ? b->median_us / a->median_us : 1, r_lo = r, r_hi = r;
    if (!isnan(a->ci_lo_us) && !isnan(b->ci_lo_us) && a->ci_hi_us > 0) {
        r_lo = b->ci_lo_us / a->ci_hi_us;
        r_hi = a->ci_lo_us > 0 ? b->ci_hi_us / a->ci_lo_us : INFINITY;
    }
    row->significant = r_lo > 1 || r_hi < 1; /* the intervals do not overlap */
    row->degradation_min = row->metric == SBC_LATENCY ? r_lo - 1 : 1 - 1 / r_lo;
    row->degradation_max = row->metric == SBC_LATENCY ? r_hi - 1 : 1 - 1 / r_hi;
    if (b->wrong > 0)
        row->verdict = SBC_WRONG;
    else if (row->degradation_min > row->tolerance)
        row->verdict = SBC_REGRESSION; /* worse than tolerance even at the intervals' best */
    else if (row->degradation_max < -row->tolerance)
        row->verdict = SBC_IMPROVED;
    else if (fabs(row->degradation) > row->tolerance)
        row->verdict = SBC_NOISE; /* beyond tolerance, but the intervals allow otherwise */
    else
        row->verdict = SBC_OK;
}

int sbc_compare(const struct sbc_run *a, const struct sbc_run *b, const struct sbc_options *opt,
                struct sbc_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->rows = calloc(a->n + b->n + 1, sizeof *out->rows);
    char *matched = calloc(a->n + 1, 1);
    if (!out->rows || !matched) {
        free(out->rows);
        free(matched);
        out->rows = NULL;
        return fail(err, errlen, "out of memory");
    }
    size_t joined = 0;
    for (size_t j = 0; j < b->n; j++) {
        struct sbc_row *row = &out->rows[out->n++];
        row->b = &b->v[j];
        for (size_t i = 0; i < a->n; i++)
            if (!matched[i] && same_point(&a->v[i], &b->v[j])) {
                row->a = &a->v[i];
                matched[i] = 1;
                joined++;
                break;
            }
    }
    for (size_t i = 0; i < a->n; i++)
        if (!matched[i])
            out->rows[out->n++].a = &a->v[i];
    free(matched);
    for (size_t k = 0; k < out->n; k++) {
        judge(&out->rows[k], opt);
        out->count[out->rows[k].verdict]++;
        if (sbc_verdict_fails(out->rows[k].verdict, opt))
            out->failures++;
    }
    if (joined == 0) {
        sbc_result_free(out);
        return fail(err, errlen,
                    "%s and %s have no point in common (same collective, backend, memory, dtype, op, "
                    "in_place, ranks, nodes and bytes)",
                    a->name, b->name);
    }
    return 0;
}

void sbc_result_free(struct sbc_result *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* ---- output ----------------------------------------------------------------------------- */

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *point_json(const struct sbc_point *p)
{
    if (!p)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "median_us", num(p->median_us));
    json_object_set_new(o, "ci_lo_us", num(p->ci_lo_us));
    json_object_set_new(o, "ci_hi_us", num(p->ci_hi_us));
    json_object_set_new(o, "busbw_gbps", num(p->busbw_gbps));
    json_object_set_new(o, "wrong", p->wrong < 0 ? json_null() : json_integer(p->wrong));
    json_object_set_new(o, "failed", json_boolean(p->failed));
    json_object_set_new(o, "line", json_integer(p->line));
    return o;
}

json_t *sbc_row_json(const struct sbc_row *row, const struct sbc_options *opt)
{
    const struct sbc_point *p = row->b ? row->b : row->a;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("row"));
    json_object_set_new(o, "collective", json_string(p->collective));
    json_object_set_new(o, "backend", json_string(p->backend));
    json_object_set_new(o, "memory", json_string(p->memory));
    json_object_set_new(o, "dtype", json_string(p->dtype));
    json_object_set_new(o, "op", json_string(p->op));
    json_object_set_new(o, "in_place", json_boolean(p->in_place));
    json_object_set_new(o, "ranks", json_integer(p->ranks));
    json_object_set_new(o, "nodes", json_integer(p->nodes));
    if (p->member >= 0 || p->peer_member >= 0) { /* an sb_pairs pair */
        json_object_set_new(o, "level", p->level[0] ? json_string(p->level) : json_null());
        json_object_set_new(o, "member", json_integer(p->member));
        json_object_set_new(o, "peer_member", json_integer(p->peer_member));
    }
    json_object_set_new(o, "bytes", json_integer(p->bytes));
    json_object_set_new(o, "metric", json_string(row->metric == SBC_BUSBW ? "busbw" : "latency"));
    json_object_set_new(o, "unit", json_string(row->metric == SBC_BUSBW ? "GB/s" : "us"));
    json_object_set_new(o, "expected", num(row->a_value));
    json_object_set_new(o, "measured", num(row->b_value));
    json_object_set_new(o, "change", num(row->change));
    json_object_set_new(o, "degradation", num(row->degradation));
    json_object_set_new(o, "degradation_min", num(row->degradation_min));
    json_object_set_new(o, "degradation_max", num(row->degradation_max));
    json_object_set_new(o, "tolerance", json_real(row->tolerance));
    json_object_set_new(o, "significant", json_boolean(row->significant));
    json_object_set_new(o, "verdict", json_string(sbc_verdict_name(row->verdict)));
    json_object_set_new(o, "fails", json_boolean(sbc_verdict_fails(row->verdict, opt)));
    json_object_set_new(o, "a", point_json(row->a));
    json_object_set_new(o, "b", point_json(row->b));
    return o;
}

json_t *sbc_summary_json(const struct sbc_result *r, const struct sbc_options *opt)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("summary"));
    json_object_set_new(o, "points", json_integer((json_int_t)r->n));
    for (int v = SBC_OK; v <= SBC_NEW; v++)
        json_object_set_new(o, sbc_verdict_name((enum sbc_verdict)v), json_integer((json_int_t)r->count[v]));
    json_object_set_new(o, "failures", json_integer((json_int_t)r->failures));
    json_object_set_new(o, "busbw_tolerance", json_real(opt->busbw_tolerance));
    json_object_set_new(o, "latency_tolerance", json_real(opt->latency_tolerance));
    json_object_set_new(o, "crossover", json_integer(opt->crossover));
    json_object_set_new(o, "verdict", json_string(r->failures ? "fail" : "pass"));
    return o;
}

static const char *size_str(long long bytes, char *buf, size_t len)
{
    static const char suffix[] = "KMGT";
    int k = -1;
    long long v = bytes;
    while (v >= 1024 && v % 1024 == 0 && k < 3) {
        v /= 1024;
        k++;
    }
    if (k < 0)
        snprintf(buf, len, "%lld", bytes);
    else
        snprintf(buf, len, "%lld%c", v, suffix[k]);
    return buf;
}

/* "12.34 ±3%": the metric and the half-width of its 95% interval, relative. */
static const char *value_str(const struct sbc_point *p, enum sbc_metric m, char *buf, size_t len)
{
    if (!p)
        return "-";
    if (p->failed)
        return "failed";
    double v = metric_value(p, m);
    if (isnan(p->ci_lo_us) || !(p->median_us > 0))
        snprintf(buf, len, "%.3g", v);
    else
        snprintf(buf, len, "%.4g ±%.0f%%", v, 100.0 * (p->ci_hi_us - p->ci_lo_us) / (2 * p->median_us));
    return buf;
}

static void verdict_str(const struct sbc_row *row, char *buf, size_t len)
{
    switch (row->verdict) {
    case SBC_REGRESSION: snprintf(buf, len, "REGRESSION"); break;
    case SBC_WRONG: snprintf(buf, len, "WRONG (%lld elements)", row->b->wrong); break;
    case SBC_FAILED: snprintf(buf, len, "FAILED (error recorded)"); break;
    case SBC_MISSING: snprintf(buf, len, "MISSING from B"); break;
    case SBC_NEW: snprintf(buf, len, "%s", !row->a ? "new (not in A)" : row->a->failed ? "new (A failed here)"
                                                               : "new (A was wrong here)"); break;
    case SBC_NOISE: snprintf(buf, len, "noise (within the intervals)"); break;
    default: snprintf(buf, len, "%s", sbc_verdict_name(row->verdict)); break;
    }
}

void sbc_print_table(FILE *out, const struct sbc_run *a, const struct sbc_run *b, const struct sbc_result *r,
                     const struct sbc_options *opt)
{
    char sz[32];
    fprintf(out, "# A (expected): %s\n# B (measured): %s\n", a->name, b->name);
    fprintf(out,
            "# judged: latency (median us) below %s with tolerance %.3g%%, busbw (GB/s) from %s on with "
            "tolerance %.3g%%;\n#   a regression is worse than tolerance even between the nearest ends of the "
            "two medians' 95%% intervals;\n#   'noise': beyond tolerance, but within what the intervals allow\n",
            size_str(opt->crossover, sz, sizeof sz), 100 * opt->latency_tolerance, sz, 100 * opt->busbw_tolerance);
    const struct sbc_point *curve = NULL;
    for (size_t k = 0; k < r->n; k++) {
        const struct sbc_row *row = &r->rows[k];
        const struct sbc_point *p = row->b ? row->b : row->a;
        if (!curve || !same_curve(curve, p)) {
            curve = p;
            fprintf(out, "\n%s %s/%s %s %s %s ranks=%d nodes=%d", p->collective, p->backend, p->memory, p->dtype,
                    p->op, p->in_place ? "in-place" : "out-of-place", p->ranks, p->nodes);
            if (p->member >= 0 || p->peer_member >= 0)
                fprintf(out, " %s pair %d-%d", p->level[0] ? p->level : "member", p->member, p->peer_member);
            if (p->method[0])
                fprintf(out, " [%s]", p->method);
            fputc('\n', out);
            fprintf(out, "%10s  %-7s %16s %16s %9s %6s  %s\n", "bytes", "metric", "A", "B", "change", "tol",
                    "verdict");
        }
        char av[48], bv[48], ch[24], verdict[64];
        if (isnan(row->change))
            snprintf(ch, sizeof ch, "-");
        else
            snprintf(ch, sizeof ch, "%+.1f%%", 100 * row->change);
        verdict_str(row, verdict, sizeof verdict);
        fprintf(out, "%10s  %-7s %16s %16s %9s %5.3g%%  %s\n", size_str(p->bytes, sz, sizeof sz),
                row->metric == SBC_BUSBW ? "busbw" : "lat_us", value_str(row->a, row->metric, av, sizeof av),
                value_str(row->b, row->metric, bv, sizeof bv), ch, 100 * row->tolerance, verdict);
    }
    fprintf(out, "\n# %zu points: %zu ok, %zu improved, %zu noise, %zu regression, %zu wrong, %zu failed, "
                 "%zu missing, %zu new: %s\n",
            r->n, r->count[SBC_OK], r->count[SBC_IMPROVED], r->count[SBC_NOISE], r->count[SBC_REGRESSION],
            r->count[SBC_WRONG], r->count[SBC_FAILED], r->count[SBC_MISSING], r->count[SBC_NEW],
            r->failures ? "FAIL" : "pass");
}
