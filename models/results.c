#include "results.h"
#include "method.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

static int push_point(struct sbm_points *pts, const struct sbm_point *p)
{
    if (pts->n == pts->cap) {
        size_t cap = pts->cap ? 2 * pts->cap : 64;
        struct sbm_point *v = realloc(pts->v, cap * sizeof *v);
        if (!v)
            return -1;
        pts->v = v;
        pts->cap = cap;
    }
    pts->v[pts->n++] = *p;
    return 0;
}

/* A string field into DST (DFLT when absent); -1 when it does not fit: a shortened name
 * could make two curves one. */
static int copy_field(char *dst, size_t len, json_t *rec, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(rec, key));
    return snprintf(dst, len, "%s", s ? s : dflt) < (int)len ? 0 : -1;
}

/* A count field (DFLT when absent); -1 when present but not a whole number in 1..10^9. */
static int count_field(json_t *rec, const char *key, int dflt)
{
    json_t *v = json_object_get(rec, key);
    if (!v)
        return dflt;
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
    return n >= 1 && n <= 1000000000 ? (int)n : -1;
}

/* One "result" record into P; the name of the first missing or invalid field, or NULL. A
 * string longer than P holds (sbm_point) is invalid. */
static const char *point_from_record(json_t *rec, struct sbm_point *p)
{
    memset(p, 0, sizeof *p);
    json_t *bytes = json_object_get(rec, "bytes");
    json_t *median = json_object_get(json_object_get(rec, "time_us"), "median");
    if (!json_is_string(json_object_get(rec, "collective")))
        return "collective";
    if (!json_is_number(bytes) || json_number_value(bytes) < 0)
        return "bytes";
    if (!json_is_number(median) || json_number_value(median) <= 0)
        return "time_us.median";
    if ((p->ranks = count_field(rec, "ranks", -1)) < 1)
        return "ranks";
    if ((p->nodes = count_field(rec, "nodes", 1)) < 1)
        return "nodes";
    if (copy_field(p->collective, sizeof p->collective, rec, "collective", ""))
        return "collective";
    if (copy_field(p->backend, sizeof p->backend, rec, "backend", "unknown"))
        return "backend";
    if (copy_field(p->memory, sizeof p->memory, rec, "memory", "unknown"))
        return "memory";
    if (copy_field(p->dtype, sizeof p->dtype, rec, "dtype", "-"))
        return "dtype";
    if (copy_field(p->op, sizeof p->op, rec, "op", "-"))
        return "op";
    p->in_place = json_is_true(json_object_get(rec, "in_place"));
    sbm_record_method(rec, p->method, sizeof p->method);
    p->bytes = json_number_value(bytes);
    p->median_us = json_number_value(median);
    return NULL;
}

#define SBM_RESULTS_SCHEMA "scalebench/1"

static int is_result(json_t *rec)
{
    json_t *type = json_object_get(rec, "type");
    return json_is_string(type) && strcmp(json_string_value(type), "result") == 0;
}

/* A result whose measurement failed ("error" set) carries no time, and one with wrong
 * elements timed a collective that did not compute the answer: neither is fitted. */
static int is_measured(json_t *rec)
{
    json_t *error = json_object_get(rec, "error"), *wrong = json_object_get(rec, "wrong");
    return (!error || json_is_null(error)) && !(json_is_number(wrong) && json_number_value(wrong) > 0);
}

/* A record naming another schema (a newer major version) may mean other things by its fields. */
static int other_schema(json_t *rec)
{
    json_t *schema = json_object_get(rec, "schema");
    return schema && (!json_is_string(schema) || strcmp(json_string_value(schema), SBM_RESULTS_SCHEMA) != 0);
}

static int read_line(const char *path, long lineno, const char *line, struct sbm_points *pts,
                     struct sbm_error *err)
{
    json_error_t jerr;
    json_t *rec = json_loads(line, 0, &jerr);
    if (!rec)
        return sbm_error_set(err, "%s:%ld: invalid JSON: %s", path, lineno, jerr.text);
    int rc = SBM_OK;
    if (!json_is_object(rec))
        rc = sbm_error_set(err, "%s:%ld: a record must be a JSON object", path, lineno);
    else if (other_schema(rec))
        rc = sbm_error_set(err, "%s:%ld: schema %s is not %s, the one this sb_model reads", path,
                           lineno, json_is_string(json_object_get(rec, "schema"))
                                       ? json_string_value(json_object_get(rec, "schema")) : "(not a string)",
                           SBM_RESULTS_SCHEMA);
    else if (is_result(rec) && !is_measured(rec))
        pts->skipped++;
    else if (is_result(rec)) {
        struct sbm_point p;
        const char *missing = point_from_record(rec, &p);
        if (missing)
            rc = sbm_error_set(err, "%s:%ld: result record lacks a valid '%s' (strings: at most "
                               "%zu characters; ranks, nodes: whole numbers 1 to 1e9)", path, lineno,
                               missing, sizeof p.memory - 1);
        else if (push_point(pts, &p) != 0)
            rc = sbm_error_set(err, "%s:%ld: out of memory", path, lineno);
    }
    json_decref(rec);
    return rc;
}

static int is_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

int sbm_results_read(const char *path, struct sbm_points *out, struct sbm_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return sbm_error_set(err, "cannot read results file '%s': %s", path, strerror(errno));
    size_t start = out->n, skipped = out->skipped;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = SBM_OK;
    while (rc == SBM_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (!is_blank(line))
            rc = read_line(path, lineno, line, out, err);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc != SBM_OK) {
        out->n = start;
        out->skipped = skipped;
    } else if (out->n == start) {
        rc = out->skipped > skipped
                 ? sbm_error_set(err, "%s: no usable result records (%zu failed or with wrong > 0)",
                                 path, out->skipped - skipped)
                 : sbm_error_set(err, "%s: no result records", path);
    }
    return rc;
}

void sbm_points_free(struct sbm_points *pts)
{
    free(pts->v);
    memset(pts, 0, sizeof *pts);
}

int sbm_points_same_group(const struct sbm_point *a, const struct sbm_point *b)
{
    return strcmp(a->collective, b->collective) == 0 && strcmp(a->backend, b->backend) == 0 &&
           strcmp(a->memory, b->memory) == 0 && strcmp(a->dtype, b->dtype) == 0 &&
           strcmp(a->op, b->op) == 0 && a->in_place == b->in_place && a->ranks == b->ranks &&
           a->nodes == b->nodes && strcmp(a->method, b->method) == 0;
}

void sbm_point_describe_group(const struct sbm_point *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s/%s %s %s %s p=%d nodes=%d%s%s%s", p->collective, p->backend, p->memory,
             p->dtype, p->op, p->in_place ? "in-place" : "out-of-place", p->ranks, p->nodes,
             p->method[0] ? " [" : "", p->method, p->method[0] ? "]" : "");
}
