#include "system.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void copy_string(char *dst, size_t len, json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(dst, len, "%s", s ? s : dflt);
}

/* A sourced number of at least MIN (above MIN when STRICT): a negative bandwidth or a zero
 * link count would otherwise read as a free link or an infinite tray count. */
static int sourced_at_least(json_t *obj, const char *key, const char *owner, double min,
                            bool strict, double *out, struct sbm_error *err)
{
    int rc = sbm_sourced_number(obj, key, owner, out, NULL, err);
    if (rc == SBM_OK && (strict ? !(*out > min) : !(*out >= min)))
        return sbm_error_set(err, "catalog: %s.%s is %g: must be %s %g", owner, key, *out,
                             strict ? ">" : ">=", min);
    return rc;
}

static int sourced_positive(json_t *obj, const char *key, const char *owner, double *out,
                            struct sbm_error *err)
{
    return sourced_at_least(obj, key, owner, 0, true, out, err);
}

static int sourced_int_min(json_t *obj, const char *key, const char *owner, int min, int *out,
                           struct sbm_error *err)
{
    double v;
    int rc = sbm_sourced_number(obj, key, owner, &v, NULL, err);
    if (rc == SBM_OK && (v < min || v != (int)v))
        return sbm_error_set(err, "catalog: %s.%s is %g: must be a whole number >= %d", owner,
                             key, v, min);
    *out = (int)v;
    return rc;
}

static int sourced_int(json_t *obj, const char *key, const char *owner, int *out,
                       struct sbm_error *err)
{
    return sourced_int_min(obj, key, owner, 0, out, err);
}

/* A named parameter within [LO, HI] (efficiencies are fractions of line rate in (0, 1]). */
static int parameter_in(const struct sbm_catalog *cat, const char *section, const char *name,
                        double lo, bool lo_open, double hi, double *out, struct sbm_error *err)
{
    int rc = sbm_catalog_parameter(cat, section, name, out, NULL, err);
    if (rc != SBM_OK || ((lo_open ? *out > lo : *out >= lo) && *out <= hi))
        return rc;
    if (isinf(hi))
        return sbm_error_set(err, "catalog: %s '%s' is %g: must be %s %g", section, name, *out,
                             lo_open ? ">" : ">=", lo);
    return sbm_error_set(err, "catalog: %s '%s' is %g: must be in %s%g, %g]", section, name, *out,
                         lo_open ? "(" : "[", lo, hi);
}

static int efficiency(const struct sbm_catalog *cat, const char *name, double *out,
                      struct sbm_error *err)
{
    return parameter_in(cat, "efficiencies", name, 0, true, 1, out, err);
}

static int latency(const struct sbm_catalog *cat, const char *name, double *out,
                   struct sbm_error *err)
{
    return parameter_in(cat, "latencies", name, 0, false, INFINITY, out, err);
}

static int resolve_gpu(const struct sbm_catalog *cat, const char *id, const char *sys_owner,
                       struct sbm_gpu *g, struct sbm_error *err)
{
    json_t *e = sbm_catalog_entry(cat, "gpus", id);
    if (!e)
        return id ? sbm_error_set(err, "catalog: unknown gpu '%s'", id)
                  : sbm_error_set(err, "catalog: %s lacks 'gpu' (a name of the gpus section)", sys_owner);
    char owner[96];
    snprintf(owner, sizeof owner, "gpu '%s'", id);
    snprintf(g->id, sizeof g->id, "%s", id);
    copy_string(g->name, sizeof g->name, e, "name", id);
    if (sourced_positive(e, "hbm_gbytes", owner, &g->hbm_gbytes, err) ||
        sourced_positive(e, "hbm_tbytes_s", owner, &g->hbm_tbytes_s, err) ||
        sourced_positive(e, "dense_tflops_bf16", owner, &g->dense_tflops_bf16, err) ||
        sourced_int(e, "nvlink_generation", owner, &g->nvlink_generation, err) ||
        sourced_int_min(e, "links", owner, 1, &g->links, err) ||
        sourced_positive(e, "link_gbytes_s", owner, &g->link_gbytes_s, err))
        return SBM_BAD_INPUT;
    return SBM_OK;
}

/* "none" or a missing name gives an absent switch. */
static int resolve_switch(const struct sbm_catalog *cat, const char *id, struct sbm_switch *s,
                          struct sbm_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id ? id : "none");
    if (!id || strcmp(id, "none") == 0)
        return SBM_OK;
    json_t *e = sbm_catalog_entry(cat, "switches", id);
    if (!e)
        return sbm_error_set(err, "catalog: unknown switch '%s'", id);
    char owner[96];
    snprintf(owner, sizeof owner, "switch '%s'", id);
    s->present = true;
    copy_string(s->name, sizeof s->name, e, "name", id);
    s->in_switch_reduction = json_is_true(json_object_get(e, "in_switch_reduction"));
    /* 0 ports: not published (the sizing says unverifiable); a described switch needs a port
     * rate and at least one chip per tray. */
    if (sourced_int(e, "ports", owner, &s->ports, err))
        return SBM_BAD_INPUT;
    bool described = s->ports > 0;
    if (sourced_at_least(e, "port_gbit_s", owner, 0, described, &s->port_gbit_s, err) ||
        sourced_int_min(e, "chips_per_tray", owner, described, &s->chips_per_tray, err))
        return SBM_BAD_INPUT;
    return SBM_OK;
}

static const char *string_of(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int resolve_scale_up(const struct sbm_catalog *cat, json_t *u, const char *owner,
                            struct sbm_scale_up *up, struct sbm_error *err)
{
    if (!json_is_object(u))
        return sbm_error_set(err, "catalog: %s lacks 'scale_up'", owner);
    const char *l2 = string_of(u, "l2_switch") ? string_of(u, "l2_switch") : string_of(u, "switch");
    copy_string(up->link_efficiency_name, sizeof up->link_efficiency_name, u, "link_efficiency", "");
    copy_string(up->nvls_efficiency_name, sizeof up->nvls_efficiency_name, u, "nvls_efficiency", "");
    if (sourced_int_min(u, "domain_gpus", owner, 1, &up->domain_gpus, err) ||
        sourced_int(u, "tiers", owner, &up->tiers, err) ||
        (up->tiers < 1 || up->tiers > 2
             ? sbm_error_set(err, "catalog: %s: scale_up.tiers is %d: must be 1 or 2", owner, up->tiers)
             : SBM_OK) ||
        resolve_switch(cat, string_of(u, "switch"), &up->l1, err) ||
        resolve_switch(cat, l2, &up->l2, err) ||
        sourced_at_least(u, "tier1_length_m", owner, 0, false, &up->tier1_length_m, err) ||
        (up->tiers > 1 &&
         sourced_at_least(u, "tier2_length_m", owner, 0, false, &up->tier2_length_m, err)) ||
        efficiency(cat, string_of(u, "link_efficiency"), &up->link_efficiency, err) ||
        efficiency(cat, string_of(u, "nvls_efficiency"), &up->nvls_efficiency, err) ||
        latency(cat, string_of(u, "launch"), &up->launch_us, err) ||
        latency(cat, string_of(u, "step"), &up->step_us, err) ||
        latency(cat, string_of(u, "nvls_step"), &up->nvls_step_us, err))
        return SBM_BAD_INPUT;
    return SBM_OK;
}

static int resolve_scale_out(const struct sbm_catalog *cat, json_t *o, const char *owner,
                             struct sbm_scale_out *out, struct sbm_error *err)
{
    if (!json_is_object(o))
        return sbm_error_set(err, "catalog: %s lacks 'scale_out'", owner);
    copy_string(out->nic_id, sizeof out->nic_id, o, "nic", "");
    copy_string(out->efficiency_name, sizeof out->efficiency_name, o, "efficiency", "");
    json_t *nic = sbm_catalog_entry(cat, "nics", out->nic_id);
    if (!nic)
        return sbm_error_set(err, "catalog: %s: unknown nic '%s'", owner, out->nic_id);
    char nic_owner[96];
    snprintf(nic_owner, sizeof nic_owner, "nic '%s'", out->nic_id);
    if (sourced_positive(nic, "rate_gbit_s", nic_owner, &out->nic_gbit_s, err) ||
        sourced_int_min(o, "nics_per_gpu", owner, 1, &out->nics_per_gpu, err) ||
        resolve_switch(cat, string_of(o, "switch"), &out->sw, err) ||
        efficiency(cat, string_of(o, "efficiency"), &out->efficiency, err) ||
        latency(cat, string_of(o, "step"), &out->step_us, err) ||
        sourced_at_least(o, "tier1_length_m", owner, 0, false, &out->tier1_length_m, err) ||
        sourced_at_least(o, "upper_length_m", owner, 0, false, &out->upper_length_m, err))
        return SBM_BAD_INPUT;
    return SBM_OK;
}

int sbm_system_resolve(const struct sbm_catalog *cat, const char *id, struct sbm_system *sys,
                       struct sbm_error *err)
{
    memset(sys, 0, sizeof *sys);
    json_t *e = sbm_catalog_entry(cat, "systems", id);
    if (!e)
        return sbm_error_set(err, "unknown system '%s' (sb_model systems lists the catalog %s)",
                             id ? id : "(none)", cat->dir);
    char owner[96];
    snprintf(owner, sizeof owner, "system '%s'", id);
    snprintf(sys->id, sizeof sys->id, "%s", id);
    copy_string(sys->name, sizeof sys->name, e, "name", id);
    if (resolve_gpu(cat, string_of(e, "gpu"), owner, &sys->gpu, err) ||
        sourced_int(e, "gpus_per_node", owner, &sys->gpus_per_node, err) ||
        resolve_scale_up(cat, json_object_get(e, "scale_up"), owner, &sys->up, err) ||
        resolve_scale_out(cat, json_object_get(e, "scale_out"), owner, &sys->out, err))
        return SBM_BAD_INPUT;
    return SBM_OK;
}

double sbm_system_up_line_gbytes_s(const struct sbm_system *sys)
{
    return sys->gpu.links * sys->gpu.link_gbytes_s;
}

double sbm_system_up_planned_gbytes_s(const struct sbm_system *sys)
{
    return sbm_system_up_line_gbytes_s(sys) * sys->up.link_efficiency;
}

double sbm_system_out_planned_gbytes_s(const struct sbm_system *sys)
{
    return sys->out.nics_per_gpu * sys->out.nic_gbit_s / 8.0 * sys->out.efficiency;
}
