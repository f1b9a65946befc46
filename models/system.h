/* One system of the catalog, resolved into plain numbers for the models. */
#ifndef SBM_SYSTEM_H
#define SBM_SYSTEM_H

#include <stdbool.h>

#include "catalog.h"

struct sbm_gpu {
    char id[64], name[128];
    double hbm_gbytes, hbm_tbytes_s, dense_tflops_bf16;
    int nvlink_generation, links;
    double link_gbytes_s; /* per link, per direction */
};

struct sbm_switch {
    char id[64], name[128];
    bool present;   /* false for "none" (direct links, or not described) */
    int ports;      /* 0: not published */
    double port_gbit_s;
    int chips_per_tray;
    bool in_switch_reduction;
};

struct sbm_scale_up {
    int domain_gpus, tiers;
    struct sbm_switch l1, l2;
    double tier1_length_m, tier2_length_m;
    double link_efficiency, nvls_efficiency; /* named parameters */
    double launch_us, step_us, nvls_step_us;  /* named parameters */
    char link_efficiency_name[64], nvls_efficiency_name[64];
};

struct sbm_scale_out {
    char nic_id[64];
    double nic_gbit_s;
    int nics_per_gpu;
    struct sbm_switch sw;
    double efficiency, step_us;
    double tier1_length_m, upper_length_m;
    char efficiency_name[64];
};

struct sbm_system {
    char id[64], name[160];
    int gpus_per_node;
    struct sbm_gpu gpu;
    struct sbm_scale_up up;
    struct sbm_scale_out out;
};

int sbm_system_resolve(const struct sbm_catalog *cat, const char *id, struct sbm_system *sys,
                       struct sbm_error *err);

/* Per-GPU scale-up bandwidth, GB/s per direction: at line rate, and as planned (x efficiency). */
double sbm_system_up_line_gbytes_s(const struct sbm_system *sys);
double sbm_system_up_planned_gbytes_s(const struct sbm_system *sys);
/* Per-GPU scale-out bandwidth, GB/s per direction, as planned. */
double sbm_system_out_planned_gbytes_s(const struct sbm_system *sys);

#endif
