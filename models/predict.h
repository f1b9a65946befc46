/* Predictions: a fabric from the catalog (or from fitted parameters), one size at a time. */
#ifndef SBM_PREDICT_H
#define SBM_PREDICT_H

#include "cost.h"
#include "fit.h"
#include "system.h"

struct sbm_prediction {
    double bytes, time_us, algbw_gbps, busbw_gbps; /* algbw 0 when time is 0 (one rank) */
    enum sbm_algorithm algorithm;
};

/* RANKS over DOMAINS scale-up domains (0: as few as the domain size allows). */
int sbm_fabric_from_system(const struct sbm_system *sys, int ranks, int domains,
                           struct sbm_fabric *f, struct sbm_error *err);

/* The scale-up domains a measured job of RANKS over NODES hosts spanned on SYS: one domain
 * holds domain_gpus / gpus_per_node hosts (1 for a DGX H100, 18 trays for a GB200 NVL72), so 8
 * ranks on 2 DGX nodes crossed 2 domains (and the scale-out tier), not 1; never fewer domains
 * than the ranks need. 0 (as few as the domain size allows) when NODES is unknown (< 1). */
int sbm_domains_of_job(const struct sbm_system *sys, int ranks, int nodes);

/* Replaces the scale-up tier (and, without a system, the whole fabric) by a fitted one. */
void sbm_fabric_use_fit(struct sbm_fabric *f, const struct sbm_fit *fit);

/* -1 when the algorithm does not apply (e.g. nvls on a fabric that cannot reduce). */
int sbm_predict(enum sbm_collective c, enum sbm_algorithm a, const struct sbm_fabric *f,
                double bytes, struct sbm_prediction *out);

#endif
