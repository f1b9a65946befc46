#include "predict.h"

#include <string.h>

#include "sizing.h"

int sbm_fabric_from_system(const struct sbm_system *sys, int ranks, int domains,
                           struct sbm_fabric *f, struct sbm_error *err)
{
    int size = sys->up.domain_gpus;
    if (ranks < 1)
        return sbm_error_set(err, "--ranks must be at least 1");
    if (domains <= 0)
        domains = (ranks + size - 1) / size;
    if (ranks % domains != 0)
        return sbm_error_set(err, "%d ranks do not split evenly over %d scale-up domains", ranks,
                             domains);
    if (ranks / domains > size)
        return sbm_error_set(err, "%d ranks per scale-up domain exceed %s's domain of %d GPUs",
                             ranks / domains, sys->id, size);
    /* Domains meet over the scale-out fat tree: it must hold every rank's NIC ports (as
     * `sb_model size` builds it, at most 3 tiers). */
    const struct sbm_switch *sw = &sys->out.sw;
    if (domains > 1 && sw->present && sw->ports > 0 && sw->port_gbit_s > 0) {
        double ports = (double)ranks * sys->out.nics_per_gpu * sys->out.nic_gbit_s / sw->port_gbit_s;
        if (ports > sbm_fat_tree_capacity(sw->ports, 3))
            return sbm_error_set(err, "%d ranks need %.0f scale-out ports: more than a 3-tier fat tree "
                                 "of %s (%d ports per switch) holds (%.0f)", ranks, ports, sw->id,
                                 sw->ports, sbm_fat_tree_capacity(sw->ports, 3));
    }
    double up = sbm_system_up_planned_gbytes_s(sys);
    *f = (struct sbm_fabric){
        .ranks = ranks,
        .domains = domains,
        .intra = sbm_tier_make(sys->up.step_us, up, 0),
        .in_switch = sbm_tier_make(sys->up.nvls_step_us, up * sys->up.nvls_efficiency, 0),
        .inter = sbm_tier_make(sys->out.step_us, sbm_system_out_planned_gbytes_s(sys), 0),
        .launch_us = sys->up.launch_us,
        .intra_reduces = sys->up.l1.in_switch_reduction &&
                         (sys->up.tiers < 2 || !sys->up.l2.present || sys->up.l2.in_switch_reduction),
        .inter_reduces = sys->out.sw.present && sys->out.sw.in_switch_reduction,
    };
    return SBM_OK;
}

int sbm_domains_of_job(const struct sbm_system *sys, int ranks, int nodes)
{
    if (nodes < 1 || ranks < 1)
        return 0;
    int size = sys->up.domain_gpus > 0 ? sys->up.domain_gpus : 1;
    int per_node = sys->gpus_per_node > 0 ? sys->gpus_per_node : size;
    int nodes_per_domain = size / per_node > 1 ? size / per_node : 1;
    int by_nodes = (nodes + nodes_per_domain - 1) / nodes_per_domain;
    int by_ranks = (ranks + size - 1) / size;
    int domains = by_nodes > by_ranks ? by_nodes : by_ranks;
    return domains < ranks ? domains : ranks;
}

void sbm_fabric_use_fit(struct sbm_fabric *f, const struct sbm_fit *fit)
{
    struct sbm_tier t = sbm_tier_make(fit->alpha_us, fit->bandwidth_gbps, fit->gamma_gbps);
    f->intra = t;
    f->launch_us = 0; /* a fitted alpha already holds the launch cost */
    if (f->domains <= 1) {
        f->inter = t;
        f->intra_reduces = f->inter_reduces = false;
    }
}

int sbm_predict(enum sbm_collective c, enum sbm_algorithm a, const struct sbm_fabric *f,
                double bytes, struct sbm_prediction *out)
{
    memset(out, 0, sizeof *out);
    out->bytes = bytes;
    out->algorithm = a;
    if (a == SBM_BEST)
        out->algorithm = sbm_cost_best(c, f, bytes, &out->time_us);
    else
        out->time_us = sbm_cost_time_us(c, a, f, bytes);
    if (out->time_us < 0)
        return -1;
    if (out->time_us > 0)
        out->algbw_gbps = bytes / out->time_us * 1e-3;
    out->busbw_gbps = out->algbw_gbps * sbm_busbw_factor(c, f->ranks);
    return 0;
}
