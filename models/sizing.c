#include "sizing.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct sbm_quantity *add(struct sbm_sizing *s, const char *key, const char *label,
                                const char *unit, double value, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static struct sbm_quantity *add(struct sbm_sizing *s, const char *key, const char *label,
                                const char *unit, double value, const char *fmt, ...)
{
    if (s->n == SBM_SIZING_MAX)
        return NULL;
    struct sbm_quantity *q = &s->q[s->n++];
    memset(q, 0, sizeof *q);
    snprintf(q->key, sizeof q->key, "%s", key);
    snprintf(q->label, sizeof q->label, "%s", label);
    snprintf(q->unit, sizeof q->unit, "%s", unit);
    q->value = value;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->arithmetic, sizeof q->arithmetic, fmt, ap);
    va_end(ap);
    return q;
}

const struct sbm_quantity *sbm_sizing_get(const struct sbm_sizing *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->q[i].key, key) == 0)
            return &s->q[i];
    return NULL;
}

double sbm_fat_tree_capacity(int radix, int tiers)
{
    double k = radix;
    return tiers == 1 ? k : tiers == 2 ? k * k / 2 : k * k * k / 4;
}

int sbm_medium_for_length(const struct sbm_catalog *cat, double length_m, char *name, int len,
                          double *reach_m)
{
    json_t *media = sbm_catalog_section(cat, "media");
    const char *key, *best = NULL;
    json_t *m;
    double best_order = INFINITY;
    json_object_foreach(media, key, m) {
        double reach, order;
        if (sbm_sourced_number(m, "reach_m", key, &reach, NULL, NULL) ||
            sbm_sourced_number(m, "order", key, &order, NULL, NULL))
            continue;
        if (reach >= length_m && order < best_order) {
            best = key;
            best_order = order;
            *reach_m = reach;
        }
    }
    snprintf(name, len, "%s", best ? best : "none in catalog");
    return best ? 0 : -1;
}

static void add_medium(struct sbm_sizing *s, const struct sbm_catalog *cat, const char *key,
                       const char *label, double length_m)
{
    if (!cat)
        return;
    char name[48];
    double reach = 0;
    sbm_medium_for_length(cat, length_m, name, sizeof name, &reach);
    struct sbm_quantity *q = add(s, key, label, "m", length_m,
                                 "%.1f m link: cheapest medium whose reach covers it: %s (reach %g m)",
                                 length_m, name, reach);
    if (q)
        snprintf(q->text, sizeof q->text, "%s", name);
}

static void add_gpu_bandwidth(struct sbm_sizing *s, const struct sbm_system *sys)
{
    const struct sbm_gpu *g = &sys->gpu;
    add(s, "gpus", "GPUs in the scale-up fabric", "GPUs", 0, "given");
    add(s, "gpu_scale_up_gbit_s", "scale-up bandwidth per GPU, per direction", "Gb/s",
        g->links * g->link_gbytes_s * 8, "%d links x %g GB/s x 8 bit", g->links, g->link_gbytes_s);
}

static void size_one_tier(struct sbm_sizing *s, const struct sbm_system *sys, int G)
{
    const struct sbm_switch *sw = &sys->up.l1;
    int L = sys->gpu.links, P = sw->ports;
    double chips = ceil((double)G * L / P), trays = ceil(chips / sw->chips_per_tray);
    add(s, "l1_chips", "tier-1 switch chips", "chips", chips,
        "ceil(%d GPUs x %d links / %d ports) = ceil(%d / %d)", G, L, P, G * L, P);
    add(s, "l1_trays", "tier-1 switch trays", "trays", trays, "ceil(%g chips / %d per tray)",
        chips, sw->chips_per_tray);
    /* Whole trays carry more chips than the port count needs (an HGX H100 board has 4 NVSwitch
     * chips for the 3 its 144 GPU links fill): say what is installed beside what is needed. */
    if (trays * sw->chips_per_tray > chips)
        add(s, "l1_chips_installed", "tier-1 switch chips on those trays", "chips", trays * sw->chips_per_tray,
            "%g trays x %d chips per tray: %g more than the GPU links need, %.2f of their ports used", trays,
            sw->chips_per_tray, trays * sw->chips_per_tray - chips, G * L / (trays * sw->chips_per_tray * P));
    add(s, "l1_port_use", "tier-1 ports used", "fraction", G * L / (chips * P),
        "%d GPU links / (%g chips x %d ports): 1 = non-blocking with no spare port", G * L, chips, P);
    add(s, "one_tier_max_gpus", "largest one-tier domain", "GPUs", P,
        "%d ports per chip: each GPU puts one of its %d links on each of %d chips", P, L, L);
}

/* Two tiers: every L1 chip gives half its ports to GPUs and half to tier 2 (non-blocking). */
static void size_two_tiers(struct sbm_sizing *s, const struct sbm_system *sys, int G)
{
    const struct sbm_switch *l1 = &sys->up.l1, *l2 = &sys->up.l2;
    int L = sys->gpu.links, P = l1->ports;
    double up_ports = (double)G * L, l1_chips = ceil(2.0 * G * L / P);
    double l1_one = ceil((double)G * L / P), link_gbit = sys->gpu.link_gbytes_s * 8;
    add(s, "l1_chips", "tier-1 switch chips (half the ports up)", "chips", l1_chips,
        "ceil(2 x %d GPUs x %d links / %d ports)", G, L, P);
    add(s, "l1_trays", "tier-1 switch trays", "trays", ceil(l1_chips / l1->chips_per_tray),
        "ceil(%g chips / %d per tray)", l1_chips, l1->chips_per_tray);
    add(s, "l1_up_fraction", "tier-1 ports facing tier 2", "fraction", up_ports / (l1_chips * P),
        "%g up ports / (%g chips x %d ports)", up_ports, l1_chips, P);
    double l2_chips = l2->present ? ceil(up_ports / l2->ports) : 0;
    double l2_trays = l2->present ? ceil(l2_chips / l2->chips_per_tray) : 0;
    if (l2->present) {
        add(s, "l2_chips", "tier-2 switch chips", "chips", l2_chips,
            "ceil(%g up ports / %d ports per %s chip)", up_ports, l2->ports, l2->id);
        add(s, "l2_trays", "tier-2 switch trays or boxes", "trays", l2_trays,
            "ceil(%g chips / %d per tray)", l2_chips, l2->chips_per_tray);
        add(s, "gpus_per_l2_tray", "GPUs per tier-2 tray or box", "GPUs", G / l2_trays,
            "%d GPUs / %g trays", G, l2_trays);
        add(s, "l2_chips_per_gpu", "tier-2 chips per GPU", "chips/GPU", l2_chips / G,
            "%g / %d GPUs", l2_chips, G);
    }
    double l1_one_trays = ceil(l1_one / l1->chips_per_tray);
    double extra_trays = ceil(l1_chips / l1->chips_per_tray) - l1_one_trays + l2_trays;
    add(s, "extra_trays_per_gpu", "trays added by tier 2, per GPU", "trays/GPU", extra_trays / G,
        "(%g tier-1 trays - %g for one tier + %g tier-2 trays) / %d GPUs",
        ceil(l1_chips / l1->chips_per_tray), l1_one_trays, l2_trays, G);
    add(s, "extra_chips_per_gpu", "chips added by tier 2, per GPU", "chips/GPU",
        (l1_chips - l1_one + l2_chips) / G, "(%g - %g + %g) chips / %d GPUs", l1_chips, l1_one,
        l2_chips, G);
    /* Each tier-2 link has a module at both ends, unless it joins two tier-1 chips directly
     * (then both ends are tier-1 up ports, already counted once each). */
    double ends = l2->present ? 2.0 : 1.0, module_gbit = ends * L * link_gbit;
    add(s, "t2_modules_1600g_per_gpu", "tier-2 connections per GPU (1.6T equivalents)",
        "x1.6T/GPU", module_gbit / 1600, "%g ends x %d links x %g Gb/s / 1600", ends, L, link_gbit);
    add(s, "t2_modules_800g_per_gpu", "tier-2 connections per GPU (800G equivalents)",
        "x800G/GPU", module_gbit / 800, "%g ends x %d links x %g Gb/s / 800", ends, L, link_gbit);
}

int sbm_size_scale_up_tiers(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                            int tiers, struct sbm_sizing *s)
{
    memset(s, 0, sizeof *s);
    int G = gpus > 0 ? gpus : sys->up.domain_gpus;
    if (tiers < 1 || tiers > 2)
        return -1;
    add_gpu_bandwidth(s, sys);
    s->q[0].value = G;
    if (sys->up.l1.ports <= 0 || (tiers == 2 && sys->up.l2.present && sys->up.l2.ports <= 0)) {
        snprintf(s->unverifiable, sizeof s->unverifiable,
                 "switch port counts of %s are not in the catalog", sys->id);
        return 0;
    }
    if (tiers == 1)
        size_one_tier(s, sys, G);
    else
        size_two_tiers(s, sys, G);
    add_medium(s, cat, "medium_t1", "medium of GPU to tier-1 links", sys->up.tier1_length_m);
    if (tiers == 2)
        add_medium(s, cat, "medium_t2", "medium of tier-1 to tier-2 links", sys->up.tier2_length_m);
    return 0;
}

int sbm_size_scale_up(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                      struct sbm_sizing *s)
{
    return sbm_size_scale_up_tiers(cat, sys, gpus, sys->up.tiers, s);
}

static int fewest_tiers(int radix, double endpoints)
{
    for (int t = 1; t <= 3; t++)
        if (sbm_fat_tree_capacity(radix, t) >= endpoints)
            return t;
    return -1;
}

static double fat_tree_switches(int k, int tiers, double endpoints, double *leaves)
{
    *leaves = tiers == 1 ? 1 : ceil(endpoints / (k / 2.0));
    double top = ceil(*leaves * (k / 2.0) / k);
    return tiers == 1 ? 1 : tiers == 2 ? *leaves + top : 2 * *leaves + top;
}

int sbm_size_scale_out(const struct sbm_catalog *cat, const struct sbm_system *sys, int gpus,
                       int tiers, struct sbm_sizing *s)
{
    memset(s, 0, sizeof *s);
    const struct sbm_scale_out *o = &sys->out;
    if (!o->sw.present || o->sw.ports <= 0 || o->sw.port_gbit_s <= 0) {
        snprintf(s->unverifiable, sizeof s->unverifiable,
                 "scale-out switch of %s is not described in the catalog", sys->id);
        return 0;
    }
    int k = o->sw.ports;
    double nic = o->nics_per_gpu * o->nic_gbit_s, per_gpu_ports = nic / o->sw.port_gbit_s;
    double G = gpus > 0 ? gpus : sys->up.domain_gpus, E = G * per_gpu_ports;
    int t = tiers > 0 ? tiers : fewest_tiers(k, E);
    if (t < 1 || t > 3 || sbm_fat_tree_capacity(k, t) < E)
        return -1;
    add(s, "gpus", "GPUs on the scale-out fabric", "GPUs", G, "given");
    add(s, "tiers", "fat-tree tiers", "tiers", t, "%s: capacity k=%d, k^2/2=%g, k^3/4=%g endpoints",
        tiers > 0 ? "given" : "fewest that fit", k, sbm_fat_tree_capacity(k, 2), sbm_fat_tree_capacity(k, 3));
    if (o->nic_gbit_s < o->sw.port_gbit_s) /* the fraction assumes NICs share a port */
        add(s, "ports_per_gpu", "switch ports per GPU", "ports", per_gpu_ports,
            "%d x %g Gb/s NIC / %g Gb/s port: %g NICs share one port through a breakout cable", o->nics_per_gpu,
            o->nic_gbit_s, o->sw.port_gbit_s, o->sw.port_gbit_s / o->nic_gbit_s);
    else
        add(s, "ports_per_gpu", "switch ports per GPU", "ports", per_gpu_ports,
            "%d x %g Gb/s NIC / %g Gb/s port", o->nics_per_gpu, o->nic_gbit_s, o->sw.port_gbit_s);
    double leaves, sw = fat_tree_switches(k, t, E, &leaves);
    if (t == 1)
        add(s, "switches", "scale-out switches", "switches", sw, "one switch of %d ports", k);
    else if (t == 2)
        add(s, "switches", "scale-out switches", "switches", sw,
            "%g leaves (ceil(%g ports / %d down)) + ceil(%g x %d up / %d) spines", leaves, E, k / 2,
            leaves, k / 2, k);
    else
        add(s, "switches", "scale-out switches", "switches", sw,
            "%g leaves + %g aggregation + ceil(%g x %d up / %d) core", leaves, leaves, leaves,
            k / 2, k);
    add(s, "gpus_per_switch", "GPUs per scale-out switch", "GPUs", G / sw, "%g / %g", G, sw);
    double conn = t * 2.0 * nic;
    add(s, "modules_1600g_per_gpu", "scale-out connections per GPU (1.6T equivalents)", "x1.6T/GPU",
        conn / 1600, "%d link levels x 2 ends x %g Gb/s / 1600", t, nic);
    add(s, "modules_800g_per_gpu", "scale-out connections per GPU (800G equivalents)", "x800G/GPU",
        conn / 800, "%d link levels x 2 ends x %g Gb/s / 800", t, nic);
    add_medium(s, cat, "medium_nic", "medium of NIC to leaf links", o->tier1_length_m);
    if (t > 1)
        add_medium(s, cat, "medium_upper", "medium of switch to switch links", o->upper_length_m);
    return 0;
}
