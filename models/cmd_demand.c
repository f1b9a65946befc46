/* sb_model demand: the seed's interconnect-demand arithmetic (R13): chips x per-chip
 * bandwidth x scale-up tiers, read as optical tiers, into transceivers. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "system.h"

struct demand_args {
    const char *dir, *system;
    double chips, module_gbit_s, capex, chip_share, usd_per_chip;
    bool json;
};

static const char usage[] =
    "Usage: sb_model demand --system NAME [--chips N | --capex USD --chip-share F --usd-per-chip P]\n"
    "                       [--module-gbps G] [--catalog DIR] [--json]\n"
    "  Seed (R13): interconnect demand = chip demand x per-chip bandwidth x scale-up tiers, and\n"
    "  chip demand = CapEx x chip share of CapEx / price per chip. A tier needs transceivers\n"
    "  only where its cables are longer than the AEC reach (the catalog's media): modules per\n"
    "  chip = 2 (one at each end) x per-chip scale-up bandwidth / module rate x optical tiers.\n"
    "  --chips defaults to the system's scale-up domain; --module-gbps to 1600 (1.6T modules).\n";

static int parse_number(const char *text, double lo, double *out)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : NAN;
    if (!text || end == text || *end || !isfinite(v) || v < lo)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct demand_args *a)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"system", required_argument, NULL, 's'},
        {"chips", required_argument, NULL, 'n'}, {"module-gbps", required_argument, NULL, 'm'},
        {"capex", required_argument, NULL, 'c'}, {"chip-share", required_argument, NULL, 'f'},
        {"usd-per-chip", required_argument, NULL, 'u'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct demand_args){.module_gbit_s = 1600};
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        int bad = 0;
        switch (c) {
        case 'h': return fputs(usage, stdout), -1;
        case 'C': a->dir = optarg; break;
        case 's': a->system = optarg; break;
        case 'j': a->json = true; break;
        case 'n': bad = parse_number(optarg, 1, &a->chips) || a->chips != floor(a->chips) || a->chips > 1e15; break;
        case 'm': bad = parse_number(optarg, 1, &a->module_gbit_s); break;
        case 'c': bad = parse_number(optarg, 1, &a->capex); break;
        case 'f': bad = parse_number(optarg, 1e-9, &a->chip_share) || a->chip_share > 1; break;
        case 'u': bad = parse_number(optarg, 1, &a->usd_per_chip); break;
        default: return sbm_cli_fail("demand: unknown option or missing value '%s'", argv[optind - 1]);
        }
        if (bad)
            return sbm_cli_fail("demand: invalid --%s '%s'", c == 'n' ? "chips" " (a whole number >= 1)" : c == 'm' ? "module-gbps" : c == 'c' ? "capex" : c == 'f' ? "chip-share (0 to 1)" : "usd-per-chip", optarg);
    }
    if (optind < argc)
        return sbm_cli_fail("demand: unexpected argument '%s'", argv[optind]);
    if (!a->system)
        return sbm_cli_fail("demand: --system NAME is required");
    bool some = a->capex || a->chip_share || a->usd_per_chip;
    if (some && !(a->capex && a->chip_share && a->usd_per_chip))
        return sbm_cli_fail("demand: --capex, --chip-share and --usd-per-chip go together");
    if (some && a->chips)
        return sbm_cli_fail("demand: give --chips or the CapEx triple, not both");
    return 0;
}

/* A tier is optical when its cable length is beyond the reach of active copper (AEC). */
static int optical_tiers(const struct sbm_catalog *cat, const struct sbm_system *sys,
                         double *aec_reach, struct sbm_error *err)
{
    json_t *aec = sbm_catalog_entry(cat, "media", "aec");
    if (sbm_sourced_number(aec, "reach_m", "media 'aec'", aec_reach, NULL, err) != SBM_OK)
        return -1;
    int n = sys->up.tier1_length_m > *aec_reach;
    if (sys->up.tiers > 1)
        n += sys->up.tier2_length_m > *aec_reach;
    return n;
}

int sbm_cmd_demand(int argc, char **argv)
{
    struct demand_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct sbm_catalog cat;
    struct sbm_system sys;
    struct sbm_error err;
    double reach = 0;
    if (sbm_cli_load_catalog(a.dir, &cat) != SBM_OK)
        return SBM_BAD_INPUT;
    rc = sbm_system_resolve(&cat, a.system, &sys, &err);
    int optical = rc == SBM_OK ? optical_tiers(&cat, &sys, &reach, &err) : -1;
    sbm_catalog_free(&cat);
    if (rc != SBM_OK || optical < 0)
        return sbm_cli_report(SBM_BAD_INPUT, &err);

    double chips = a.chips ? a.chips : a.capex ? floor(a.capex * a.chip_share / a.usd_per_chip) : sys.up.domain_gpus;
    if (chips < 1)
        return sbm_cli_fail("demand: --capex %g x --chip-share %g / --usd-per-chip %g = %.3g: buys no chip",
                            a.capex, a.chip_share, a.usd_per_chip, a.capex * a.chip_share / a.usd_per_chip);
    double gbit = sbm_system_up_line_gbytes_s(&sys) * 8;
    double per_tier = 2 * gbit / a.module_gbit_s;
    double per_chip = per_tier * optical, literal = per_tier * sys.up.tiers;
    char arithmetic[400];
    snprintf(arithmetic, sizeof arithmetic,
             "%d links x %g GB/s x 8 = %g Gb/s per chip; 2 ends x %g / %g = %g modules per optical tier; "
             "%d of %d scale-up tiers longer than the AEC reach of %g m",
             sys.gpu.links, sys.gpu.link_gbytes_s, gbit, gbit, a.module_gbit_s, per_tier, optical,
             sys.up.tiers, reach);
    if (a.json) {
        json_t *o = json_pack("{s:s, s:f, s:f, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:s}", "system", sys.id,
                              "chips", chips, "gbit_s_per_chip", gbit, "scale_up_tiers", sys.up.tiers,
                              "optical_tiers", optical, "module_gbit_s", a.module_gbit_s,
                              "modules_per_chip", per_chip, "modules_total", per_chip * chips,
                              "literal_modules_per_chip", literal, "optical_tbit_s_total",
                              chips * gbit * optical * 1e-3, "arithmetic", arithmetic);
        sbm_cli_print_json(o);
        return SBM_OK;
    }
    printf("# %s: %s\n", sys.id, arithmetic);
    printf("chips %.0f, modules per chip %.4g (%.0f G), modules in all %.0f, optical bandwidth %.4g Tb/s per direction\n",
           chips, per_chip, a.module_gbit_s, per_chip * chips, chips * gbit * optical * 1e-3);
    printf("seed's literal 'x scale-up tiers' (all %d tiers): %.4g modules per chip; R13 is consistent "
           "with the sizing (R4: 9 x 1.6T per GPU on a second tier) only if 'tiers' means optical tiers\n",
           sys.up.tiers, literal);
    return SBM_OK;
}
