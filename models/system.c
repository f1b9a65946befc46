#include "system.h"

#include <stdio.h>
#include <string.h>

static void copy_string(char *dst, size_t len, json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(dst, len, "%s", s ? s : dflt);
}

static int sourced_int(json_t *obj, const char *key, const char *owner, int *out,
                       struct sbm_error *err)
{
    double v;
    int rc = sbm_sourced_number(obj, key, owner, &v, NULL, err);
    if (rc == SBM_OK && (v < 0 || v != (int)v))
        return sbm_error_set(err, "catalog: %s.%s must be a whole number >= 0", owner, key);
    *out = (int)v;
    return rc;
}

static int resolve_gpu(const struct sbm_catalog *cat, const char *id, struct sbm_gpu *g,
                       struct sbm_error *err)
{
    json_t *e = sbm_catalog_entry(cat, "gpus", id);
    if (!e)
        return sbm_error_set(err, "catalog: unknown gpu '%s'", id ? id : "(none)");
    char owner[96];
    snprintf(owner, sizeof owner, "gpu '%s'", id);
    snprintf(g->id, sizeof g->id, "%s", id);
    copy_string(g->name, sizeof g->name, e, "name", id);
    if (sbm_sourced_number(e, "hbm_gbytes", owner, &g->hbm_gbytes, NULL, err) ||
        sbm_sourced_number(e, "hbm_tbytes_s", owner, &g->hbm_tbytes_s, NULL, err) ||
        sbm_sourced_number(e, "dense_tflops_bf16", owner, &g->dense_tflops_bf16, NULL, err) ||
        sourced_int(e, "nvlink_generation", owner, &g->nvlink_generation, err) ||
        sourced_int(e, "links", owner, &g->links, err) ||
        sbm_sourced_number(e, "link_gbytes_s", owner, &g->link_gbytes_s, NULL, err))
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
    if (sourced_int(e, "ports", owner, &s->ports, err) ||
        sbm_sourced_number(e, "port_gbit_s", owner, &s->port_gbit_s, NULL, err) ||
        sourced_int(e, "chips_per_tray", owner, &s->chips_per_tray, err))
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
    if (sourced_int(u, "domain_gpus", owner, &up->domain_gpus, err) ||
        sourced_int(u, "tiers", owner, &up->tiers, err) ||
        resolve_switch(cat, string_of(u, "switch"), &up->l1, err) ||
        resolve_switch(cat, l2, &up->l2, err) ||
        sbm_sourced_number(u, "tier1_length_m", owner, &up->tier1_length_m, NULL, err) ||
        (up->tiers > 1 &&
         sbm_sourced_number(u, "tier2_length_m", owner, &up->tier2_length_m, NULL, err)) ||
        sbm_catalog_parameter(cat, "efficiencies", string_of(u, "link_efficiency"),
                              &up->link_efficiency, NULL, err) ||
        sbm_catalog_parameter(cat, "efficiencies", string_of(u, "nvls_efficiency"),
                              &up->nvls_efficiency, NULL, err) ||
        sbm_catalog_parameter(cat, "latencies", string_of(u, "launch"), &up->launch_us, NULL, err) ||
        sbm_catalog_parameter(cat, "latencies", string_of(u, "step"), &up->step_us, NULL, err) ||
        sbm_catalog_parameter(cat, "latencies", string_of(u, "nvls_step"), &up->nvls_step_us,
                              NULL, err))
        return SBM_BAD_INPUT;
    if (up->domain_gpus < 1 || up->tiers < 1 || up->tiers > 2)
        return sbm_error_set(err, "catalog: %s: scale_up needs domain_gpus >= 1 and tiers 1 or 2",
                             owner);
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
    if (sbm_sourced_number(nic, "rate_gbit_s", out->nic_id, &out->nic_gbit_s, NULL, err) ||
        sourced_int(o, "nics_per_gpu", owner, &out->nics_per_gpu, err) ||
        resolve_switch(cat, string_of(o, "switch"), &out->sw, err) ||
        sbm_catalog_parameter(cat, "efficiencies", string_of(o, "efficiency"), &out->efficiency,
                              NULL, err) ||
        sbm_catalog_parameter(cat, "latencies", string_of(o, "step"), &out->step_us, NULL, err) ||
        sbm_sourced_number(o, "tier1_length_m", owner, &out->tier1_length_m, NULL, err) ||
        sbm_sourced_number(o, "upper_length_m", owner, &out->upper_length_m, NULL, err))
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
    if (resolve_gpu(cat, string_of(e, "gpu"), &sys->gpu, err) ||
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
