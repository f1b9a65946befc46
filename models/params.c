#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SBM_PARAMS_SCHEMA "scalebench-model-params/1"

static json_t *number_or_null(double v, int present)
{
    return present ? json_real(v) : json_null();
}

static json_t *sizes_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static json_t *residuals_array(const struct sbm_fit *fit)
{
    json_t *a = json_array();
    for (size_t i = 0; i < fit->n_all; i++)
        json_array_append_new(a, json_pack("{s:I, s:f, s:f, s:f}", "bytes",
                                           (json_int_t)fit->bytes[i], "measured_us",
                                           fit->measured_us[i], "fitted_us", fit->fitted_us[i],
                                           "relative_error",
                                           (fit->fitted_us[i] - fit->measured_us[i]) /
                                               fit->measured_us[i]));
    return a;
}

json_t *sbm_fit_to_json(const struct sbm_fit *fit, int with_residuals)
{
    const struct sbm_point *g = &fit->group;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:s}", "collective",
                          g->collective, "backend", g->backend, "memory", g->memory, "dtype",
                          g->dtype, "op", g->op, "in_place", g->in_place, "ranks", g->ranks,
                          "nodes", g->nodes, "algorithm", fit->algorithm);
    json_object_set_new(o, "method", json_string(g->method));
    json_object_set_new(o, "alpha_us", json_real(fit->alpha_us));
    json_object_set_new(o, "bandwidth_gbps", number_or_null(fit->bandwidth_gbps, fit->bandwidth_gbps > 0));
    json_object_set_new(o, "gamma_gbps", number_or_null(fit->gamma_gbps, fit->gamma_gbps > 0));
    json_object_set_new(o, "r2", json_real(fit->line.r2));
    json_object_set_new(o, "intercept_us", json_real(fit->line.intercept_us));
    json_object_set_new(o, "slope_us_per_byte", json_real(fit->line.slope_us_per_byte));
    json_object_set_new(o, "sizes_used", sizes_array(fit->sizes_used, fit->n_used));
    json_object_set_new(o, "min_bytes", json_integer((json_int_t)fit->min_bytes));
    json_object_set_new(o, "max_bytes", json_integer((json_int_t)fit->max_bytes));
    if (with_residuals)
        json_object_set_new(o, "residuals", residuals_array(fit));
    return o;
}

int sbm_params_save(const char *path, const struct sbm_fit *fits, size_t n, const char *from,
                    struct sbm_error *err)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, sbm_fit_to_json(&fits[i], 0));
    json_t *doc = json_pack("{s:s, s:s, s:o}", "schema", SBM_PARAMS_SCHEMA, "fitted_from", from,
                            "fits", list);
    /* Written to a temporary name first, so a failure leaves no half-written file. */
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(doc, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0
                 ? SBM_OK
                 : sbm_error_set(err, "cannot write parameters file '%s'", path);
    if (rc != SBM_OK)
        remove(tmp);
    json_decref(doc);
    return rc;
}

static void copy_key(char *dst, size_t len, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, len, "%s", s ? s : "");
}

/* The algorithm a fit was mapped through is one `fit` maps through: a one-tier formula of an
 * AllReduce or AllToAll on more than one rank, or "linear" (one rank, another collective). */
static bool algorithm_maps(const struct sbm_fit *fit)
{
    enum sbm_collective c;
    enum sbm_algorithm a;
    struct sbm_terms t;
    if (sbm_collective_parse(fit->group.collective, &c) != 0 || fit->group.ranks == 1)
        return strcmp(fit->algorithm, "linear") == 0;
    return sbm_algorithm_parse(fit->algorithm, &a) == 0 &&
           sbm_single_tier_terms(c, a, fit->group.ranks, &t) == 0;
}

static int fit_from_json(json_t *o, struct sbm_fit *fit)
{
    memset(fit, 0, sizeof *fit);
    struct sbm_point *g = &fit->group;
    copy_key(g->collective, sizeof g->collective, o, "collective");
    copy_key(g->backend, sizeof g->backend, o, "backend");
    copy_key(g->memory, sizeof g->memory, o, "memory");
    copy_key(g->dtype, sizeof g->dtype, o, "dtype");
    copy_key(g->op, sizeof g->op, o, "op");
    copy_key(fit->algorithm, sizeof fit->algorithm, o, "algorithm");
    copy_key(g->method, sizeof g->method, o, "method"); /* absent in older files: the default */
    g->in_place = json_is_true(json_object_get(o, "in_place"));
    g->ranks = (int)json_integer_value(json_object_get(o, "ranks"));
    g->nodes = (int)json_integer_value(json_object_get(o, "nodes"));
    fit->alpha_us = json_number_value(json_object_get(o, "alpha_us"));
    fit->bandwidth_gbps = json_number_value(json_object_get(o, "bandwidth_gbps"));
    fit->gamma_gbps = json_number_value(json_object_get(o, "gamma_gbps"));
    fit->line.r2 = json_number_value(json_object_get(o, "r2"));
    fit->line.intercept_us = json_number_value(json_object_get(o, "intercept_us"));
    fit->line.slope_us_per_byte = json_number_value(json_object_get(o, "slope_us_per_byte"));
    fit->min_bytes = json_number_value(json_object_get(o, "min_bytes"));
    fit->max_bytes = json_number_value(json_object_get(o, "max_bytes"));
    json_t *ranks = json_object_get(o, "ranks"), *gamma = json_object_get(o, "gamma_gbps");
    bool ok = *g->collective && json_is_integer(ranks) && json_integer_value(ranks) >= 1 &&
              json_integer_value(ranks) <= 1000000000 && fit->bandwidth_gbps > 0 &&
              json_is_number(json_object_get(o, "alpha_us")) && fit->alpha_us >= 0 &&
              (!gamma || json_is_null(gamma) || (json_is_number(gamma) && fit->gamma_gbps >= 0));
    return ok && algorithm_maps(fit) ? 0 : -1;
}

int sbm_params_load(const char *path, struct sbm_params *params, struct sbm_error *err)
{
    memset(params, 0, sizeof *params);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc && jerr.line < 1) /* not read at all (jansson's line -1) */
        return sbm_error_set(err, "cannot read parameters file '%s': %s", path, jerr.text);
    if (!doc)
        return sbm_error_set(err, "%s:%d: invalid JSON: %s", path, jerr.line, jerr.text);
    json_t *list = json_object_get(doc, "fits");
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    int rc = SBM_OK;
    if (!schema || strcmp(schema, SBM_PARAMS_SCHEMA) != 0 || !json_is_array(list) ||
        json_array_size(list) == 0)
        rc = sbm_error_set(err, "%s: not a parameters file (schema %s with a non-empty 'fits')",
                           path, SBM_PARAMS_SCHEMA);
    params->fits = rc == SBM_OK ? calloc(json_array_size(list), sizeof *params->fits) : NULL;
    for (size_t i = 0; rc == SBM_OK && i < json_array_size(list); i++)
        if (fit_from_json(json_array_get(list, i), &params->fits[params->n++]) != 0)
            rc = sbm_error_set(err, "%s: fits[%zu] lacks collective, ranks (1 to 1e9), alpha_us "
                                    ">= 0, a positive bandwidth_gbps, gamma_gbps >= 0 or null, or "
                                    "an algorithm that fit maps through", path, i);
    json_decref(doc);
    if (rc != SBM_OK)
        sbm_params_free(params);
    return rc;
}

void sbm_params_free(struct sbm_params *params)
{
    free(params->fits);
    memset(params, 0, sizeof *params);
}

static bool matches(const struct sbm_fit *f, const char *collective, const char *backend,
                    const char *memory)
{
    return strcmp(f->group.collective, collective) == 0 &&
           (!backend || strcmp(f->group.backend, backend) == 0) &&
           (!memory || strcmp(f->group.memory, memory) == 0);
}

const struct sbm_fit *sbm_params_find(const struct sbm_params *params, const char *collective,
                                      int ranks, const char *backend, const char *memory)
{
    const struct sbm_fit *best = NULL;
    for (size_t i = 0; i < params->n; i++) {
        const struct sbm_fit *f = &params->fits[i];
        if (!matches(f, collective, backend, memory))
            continue;
        if (f->group.ranks == ranks)
            return f;
        if (!best || f->group.ranks > best->group.ranks)
            best = f;
    }
    return best;
}

/* How alike a fit's curve is to a measured one: rank count first, then dtype, then op. */
static int likeness(const struct sbm_fit *f, const struct sbm_point *c)
{
    return 4 * (f->group.ranks == c->ranks) + 2 * (strcmp(f->group.dtype, c->dtype) == 0) +
           (strcmp(f->group.op, c->op) == 0);
}

const struct sbm_fit *sbm_params_find_curve(const struct sbm_params *params, const struct sbm_point *curve)
{
    const struct sbm_fit *best = NULL;
    for (size_t i = 0; i < params->n; i++) {
        const struct sbm_fit *f = &params->fits[i];
        if (!matches(f, curve->collective, curve->backend, curve->memory) || f->group.in_place != curve->in_place)
            continue; /* an out-of-place fit says nothing of in-place calls (1 rank: a copy or nothing) */
        if (strcmp(f->group.method, curve->method) != 0)
            continue; /* a fit of batches, cold caches or window-started calls predicts only those */
        int l = likeness(f, curve), lb = best ? likeness(best, curve) : -1;
        if (l > lb || (l == lb && f->group.ranks > best->group.ranks))
            best = f;
    }
    return best;
}
