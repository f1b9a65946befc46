/* sb_model systems: the catalog, one line (or one JSON object) per system. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "system.h"

static json_t *system_json(const struct sbm_system *s)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:f, s:f, s:s, s:s, s:f, s:s}", "system",
                     s->id, "name", s->name, "gpu", s->gpu.id, "domain_gpus", s->up.domain_gpus,
                     "scale_up_tiers", s->up.tiers, "gpus_per_node", s->gpus_per_node,
                     "scale_up_switch", s->up.l1.id, "scale_up_gbps_line",
                     sbm_system_up_line_gbytes_s(s), "scale_up_gbps_planned",
                     sbm_system_up_planned_gbytes_s(s), "link_efficiency",
                     s->up.link_efficiency_name, "nic", s->out.nic_id, "scale_out_gbps_planned",
                     sbm_system_out_planned_gbytes_s(s), "scale_out_switch", s->out.sw.id);
}

static void print_row(const struct sbm_system *s)
{
    printf("%-16s %-12s %6d %5d %8.1f %8.1f  %-18s %-8s %s\n", s->id, s->gpu.id, s->up.domain_gpus,
           s->up.tiers, sbm_system_up_line_gbytes_s(s), sbm_system_up_planned_gbytes_s(s),
           s->out.nic_id, s->out.sw.id, s->name);
}

int sbm_cmd_systems(int argc, char **argv)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'C') dir = optarg;
        else if (c == 'j') json = 1;
        else if (c == 'h') return puts("Usage: sb_model systems [--catalog DIR] [--json]\n"
                                       "Lists the systems of the catalog; --json: one object per line."), 0;
        else return sbm_cli_fail("systems: unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return sbm_cli_fail("systems: unexpected argument '%s'", argv[optind]);
    struct sbm_catalog cat;
    if (sbm_cli_load_catalog(dir, &cat) != SBM_OK)
        return SBM_BAD_INPUT;
    /* Every system resolves before anything is printed, so a bad entry leaves stdout empty. */
    const char *id;
    json_t *entry;
    int rc = SBM_OK;
    for (int pass = 0; pass < 2 && rc == SBM_OK; pass++) {
        if (pass == 1 && !json)
            printf("%-16s %-12s %6s %5s %8s %8s  %-18s %-8s %s\n", "system", "gpu", "domain",
                   "tiers", "up GB/s", "planned", "scale-out NIC", "switch", "name");
        json_object_foreach(sbm_catalog_section(&cat, "systems"), id, entry) {
            struct sbm_system s;
            struct sbm_error err;
            (void)entry;
            if ((rc = sbm_cli_report(sbm_system_resolve(&cat, id, &s, &err), &err)) != SBM_OK)
                break;
            if (pass == 1 && json)
                sbm_cli_print_json(system_json(&s));
            else if (pass == 1)
                print_row(&s);
        }
    }
    sbm_catalog_free(&cat);
    return rc;
}
