/* Placement and device locality on saved machines (the XML files in tests/fixtures, see make_fixtures.py):
 *   dgx-h100:    2 packages x 2 NUMA nodes x 8 cores x 2 PUs (core c = PUs c, c+32);
 *                NUMA node k holds GPUs 2k, 2k+1 and HCA mlx5_k; eno1 on node 0.
 *   pcigpu-2p2n: 2 packages x 1 node x 4 cores; GPUs seen only as PCI devices; eth0 on package 1.
 *   vm-1n:       1 package, 1 node, 2 cores, eth0; no GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "topo.h"

#ifndef SB_FIXTURES
#define SB_FIXTURES "tests/fixtures"
#endif

static struct sb_topo *open_fixture(const char *name)
{
    char path[512], err[256] = "";
    struct sb_topo *t = NULL;
    snprintf(path, sizeof path, "%s/%s", SB_FIXTURES, name);
    int rc = sb_topo_open(&t, path, err, sizeof err);
    if (rc != 0)
        print_error("cannot open %s: %s\n", path, err);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

static int setup_dgx(void **state)
{
    *state = open_fixture("dgx-h100.xml");
    return 0;
}

static int teardown(void **state)
{
    sb_topo_close(*state);
    return 0;
}

static struct sb_binding plan(struct sb_topo *t, enum sb_bind_mode mode, int rank, int size, int gpu)
{
    struct sb_binding b;
    char err[256] = "";
    int rc = sb_topo_plan_binding(t, mode, rank, size, gpu, &b, err, sizeof err);
    if (rc != 0)
        print_error("plan failed: %s\n", err);
    assert_int_equal(rc, 0);
    return b;
}

static void bind_modes_parse(void **state)
{
    (void)state;
    assert_int_equal(sb_bind_mode_parse("auto"), SB_BIND_AUTO);
    assert_int_equal(sb_bind_mode_parse("none"), SB_BIND_NONE);
    assert_int_equal(sb_bind_mode_parse("core"), SB_BIND_CORE);
    assert_int_equal(sb_bind_mode_parse("numa"), SB_BIND_NUMA);
    assert_int_equal(sb_bind_mode_parse("socket"), -1);
    assert_int_equal(sb_bind_mode_parse(""), -1);
    assert_int_equal(sb_bind_mode_parse(NULL), -1);
    assert_string_equal(sb_bind_mode_name(SB_BIND_NUMA), "numa");
}

static void missing_xml_is_an_error(void **state)
{
    (void)state;
    struct sb_topo *t = NULL;
    char err[256] = "";
    assert_int_equal(sb_topo_open(&t, "/nonexistent/topo.xml", err, sizeof err), 2);
    assert_null(t);
    assert_non_null(strstr(err, "/nonexistent/topo.xml"));
}

static void dgx_devices_are_found_in_bus_order(void **state)
{
    struct sb_topo *t = *state;
    struct sb_topo_device d;
    assert_false(sb_topo_is_this_system(t));
    assert_int_equal(sb_topo_gpu_count(t), 8);
    assert_int_equal(sb_topo_nic_count(t), 5);
    assert_int_equal(sb_topo_gpu(t, 0, &d), 0);
    assert_string_equal(d.name, "cuda0");
    assert_string_equal(d.aliases, "nvml0");
    assert_string_equal(d.model, "NVIDIA H100 80GB HBM3");
    assert_string_equal(d.pci, "0000:24:00.0");
    assert_string_equal(d.numa_nodes, "0");
    assert_string_equal(d.local_pus, "0-7,32-39");
    assert_int_equal(d.package, 0);
    assert_int_equal(sb_topo_gpu(t, 7, &d), 0);
    assert_string_equal(d.name, "cuda7");
    assert_string_equal(d.numa_nodes, "3");
    assert_int_equal(d.package, 1);
    assert_int_equal(sb_topo_gpu(t, 8, &d), -1);
    /* eno1 (bus 01) comes first, then the HCAs */
    assert_int_equal(sb_topo_nic(t, 0, &d), 0);
    assert_string_equal(d.name, "eno1");
    assert_string_equal(d.kind, "ethernet");
    assert_int_equal(sb_topo_nic(t, 1, &d), 0);
    assert_string_equal(d.name, "mlx5_0");
    assert_string_equal(d.kind, "infiniband");
    assert_string_equal(d.aliases, "ibp37s0");
    assert_string_equal(d.numa_nodes, "0");
    assert_int_equal(sb_topo_nic(t, 4, &d), 0);
    assert_string_equal(d.name, "mlx5_3");
    assert_string_equal(d.pci, "0000:80:02.0");
    assert_string_equal(d.numa_nodes, "3");
}

static void dgx_gpu_nic_paths(void **state)
{
    struct sb_topo *t = *state;
    /* NIC indexes: 0 eno1, 1..4 mlx5_0..3 */
    assert_string_equal(sb_topo_gpu_nic_path(t, 0, 1), "PIX");  /* same switch */
    assert_string_equal(sb_topo_gpu_nic_path(t, 1, 1), "PXB");  /* two switch levels */
    assert_string_equal(sb_topo_gpu_nic_path(t, 6, 4), "PHB");  /* HCA on the host bridge */
    assert_string_equal(sb_topo_gpu_nic_path(t, 7, 4), "PHB");
    assert_string_equal(sb_topo_gpu_nic_path(t, 0, 0), "NODE"); /* other host bridge, same node */
    assert_string_equal(sb_topo_gpu_nic_path(t, 2, 0), "SYS");  /* other node, same package */
    assert_string_equal(sb_topo_gpu_nic_path(t, 0, 4), "SYS");  /* other package */
    assert_string_equal(sb_topo_gpu_nic_path(t, 2, 2), "PIX");
    assert_string_equal(sb_topo_gpu_nic_path(t, 9, 0), "?");
}

/* auto: NUMA nodes interleaved across packages (0, 2, 1, 3), then the next core of each. */
static void dgx_auto_spreads_over_packages_and_nodes(void **state)
{
    struct sb_topo *t = *state;
    static const int node[8] = {0, 2, 1, 3, 0, 2, 1, 3};
    static const int core[8] = {0, 16, 8, 24, 1, 17, 9, 25};
    for (int r = 0; r < 8; r++) {
        struct sb_binding b = plan(t, SB_BIND_AUTO, r, 8, -1);
        char cores[16], pus[32];
        snprintf(cores, sizeof cores, "%d", core[r]);
        snprintf(pus, sizeof pus, "%d,%d", core[r], core[r] + 32);
        assert_int_equal(b.numa_node, node[r]);
        assert_int_equal(b.package, node[r] / 2);
        assert_string_equal(b.cores, cores);
        assert_string_equal(b.pus, pus);
        assert_string_equal(b.note, "");
    }
    struct sb_binding b = plan(t, SB_BIND_AUTO, 0, 8, -1);
    assert_string_equal(b.cpuset, "0x00000001,0x00000001");
    assert_string_equal(b.how, "planned auto");
}

static void dgx_auto_oversubscribed_leaves_ranks_unbound(void **state)
{
    struct sb_topo *t = *state;
    /* 34 ranks on 32 cores: auto binds nothing (two spinning ranks on one core starve each
     * other) and says so; 32 ranks still get one core each. */
    struct sb_binding b = plan(t, SB_BIND_AUTO, 32, 34, -1);
    assert_int_equal(b.numa_node, -1);
    assert_string_equal(b.cores, "0-31");
    assert_non_null(strstr(b.note, "34 ranks on 32 cores: oversubscribed, left unbound"));
    b = plan(t, SB_BIND_AUTO, 31, 32, -1); /* node 3 holds ranks 3, 7, ..., 31: 8, no note */
    assert_string_equal(b.cores, "31");
    assert_string_equal(b.note, "");
    b = plan(t, SB_BIND_CORE, 33, 34, -1); /* core mode still wraps, and notes it */
    assert_string_equal(b.cores, "1");
    assert_non_null(strstr(b.note, "34 ranks on 32 cores"));
}

static void dgx_core_packs_in_order(void **state)
{
    struct sb_topo *t = *state;
    for (int r = 0; r < 4; r++) {
        struct sb_binding b = plan(t, SB_BIND_CORE, r, 4, -1);
        char cores[16];
        snprintf(cores, sizeof cores, "%d", r);
        assert_string_equal(b.cores, cores);
        assert_int_equal(b.numa_node, 0);
    }
    struct sb_binding b = plan(t, SB_BIND_CORE, 33, 40, -1);
    assert_string_equal(b.cores, "1");
    assert_non_null(strstr(b.note, "40 ranks on 32 cores"));
}

static void dgx_numa_gives_whole_nodes(void **state)
{
    struct sb_topo *t = *state;
    struct sb_binding b = plan(t, SB_BIND_NUMA, 1, 4, -1);
    assert_int_equal(b.numa_node, 1);
    assert_int_equal(b.package, 0);
    assert_string_equal(b.cores, "8-15");
    assert_string_equal(b.pus, "8-15,40-47");
    assert_string_equal(b.note, "");
    b = plan(t, SB_BIND_NUMA, 5, 6, -1);
    assert_int_equal(b.numa_node, 1);
    assert_non_null(strstr(b.note, "6 ranks on 4 NUMA nodes"));
}

static void dgx_none_is_the_whole_machine(void **state)
{
    struct sb_topo *t = *state;
    struct sb_binding b = plan(t, SB_BIND_NONE, 0, 2, -1);
    assert_string_equal(b.pus, "0-63");
    assert_string_equal(b.cores, "0-31");
    assert_string_equal(b.numa_nodes, "0-3");
    assert_string_equal(b.packages, "0-1");
    assert_int_equal(b.numa_node, -1);
    assert_int_equal(b.package, -1);
}

static void dgx_gpu_ranks_get_gpu_local_cores(void **state)
{
    struct sb_topo *t = *state;
    for (int g = 0; g < 8; g++) {
        struct sb_binding b = plan(t, SB_BIND_AUTO, g, 8, g);
        assert_int_equal(b.numa_node, g / 2);
        assert_int_equal(b.package, g / 4);
        assert_int_equal(b.gpu, g);
    }
    struct sb_binding b = plan(t, SB_BIND_AUTO, 3, 8, 3);
    assert_string_equal(b.cores, "8-15");
    assert_string_equal(b.pus, "8-15,40-47");
    b = plan(t, SB_BIND_NUMA, 0, 8, 5);
    assert_string_equal(b.cores, "16-23");
}

static void dgx_core_mode_with_gpus_takes_successive_local_cores(void **state)
{
    struct sb_topo *t = *state;
    static const int core[8] = {0, 1, 8, 9, 16, 17, 24, 25};
    for (int g = 0; g < 8; g++) {
        struct sb_binding b = plan(t, SB_BIND_CORE, g, 8, g);
        char cores[16];
        snprintf(cores, sizeof cores, "%d", core[g]);
        assert_string_equal(b.cores, cores);
        assert_int_equal(b.numa_node, g / 2);
    }
}

static void dgx_bad_placements_are_refused(void **state)
{
    struct sb_topo *t = *state;
    struct sb_binding b;
    char err[256] = "";
    assert_int_equal(sb_topo_plan_binding(t, SB_BIND_AUTO, 0, 1, 8, &b, err, sizeof err), 2);
    assert_non_null(strstr(err, "GPU 8 of 8"));
    assert_int_equal(sb_topo_plan_binding(t, SB_BIND_AUTO, 2, 2, -1, &b, err, sizeof err), 2);
    assert_int_equal(sb_topo_plan_binding(t, SB_BIND_AUTO, -1, 2, -1, &b, err, sizeof err), 2);
    /* an XML machine is not this one: nothing to bind */
    assert_int_equal(sb_topo_apply_binding(t, SB_BIND_AUTO, 0, 0, 1, -1, &b, err, sizeof err), 2);
    assert_non_null(strstr(err, "XML"));
    assert_int_equal(sb_topo_get_binding(t, &b, err, sizeof err), 2);
}

static void dgx_rank_record_names_its_devices(void **state)
{
    struct sb_topo *t = *state;
    struct sb_binding b = plan(t, SB_BIND_AUTO, 0, 8, 0);
    json_t *o = sb_topo_rank_json(t, &b);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "host")), "dgx-fixture");
    assert_string_equal(json_string_value(json_object_get(o, "cores")), "0-7");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "numa_nodes"), 0)), 0);
    assert_int_equal(json_array_size(json_object_get(o, "numa_nodes")), 1);
    json_t *gpu = json_object_get(o, "gpu");
    assert_string_equal(json_string_value(json_object_get(gpu, "pci")), "0000:24:00.0");
    assert_int_equal(json_array_size(json_object_get(o, "near_gpus")), 2);
    json_t *nics = json_object_get(o, "near_nics");
    assert_int_equal(json_array_size(nics), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(nics, 0), "name")), "eno1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(nics, 1), "name")), "mlx5_0");
    json_decref(o);

    char line[1024];
    sb_topo_rank_summary(t, &b, line, sizeof line);
    assert_non_null(strstr(line, "dgx-fixture: package 0, NUMA node 0, cores 0-7 (PUs 0-7,32-39)"));
    assert_non_null(strstr(line, "GPU cuda0 (0000:24:00.0)"));
    assert_non_null(strstr(line, "near NICs: eno1, mlx5_0"));
}

static void dgx_machine_record(void **state)
{
    struct sb_topo *t = *state;
    json_t *m = sb_topo_machine_json(t);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "package_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(m, "numa_node_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(m, "core_count")), 32);
    assert_int_equal(json_integer_value(json_object_get(m, "pu_count")), 64);
    assert_int_equal(json_array_size(json_object_get(m, "gpus")), 8);
    assert_int_equal(json_array_size(json_object_get(m, "nics")), 5);
    json_t *node2 = json_array_get(json_object_get(m, "numa_nodes"), 2);
    assert_int_equal(json_integer_value(json_object_get(node2, "package")), 1);
    assert_string_equal(json_string_value(json_object_get(node2, "cores")), "16-23");
    json_t *paths = json_object_get(json_object_get(m, "gpu_nic_affinity"), "paths");
    assert_int_equal(json_array_size(paths), 8);
    assert_string_equal(json_string_value(json_array_get(json_array_get(paths, 1), 1)), "PXB");
    assert_null(json_object_get(m, "gpu_note"));
    json_decref(m);
}

static void pci_only_gpus_are_found_by_class(void **state)
{
    (void)state;
    struct sb_topo *t = open_fixture("pcigpu-2p2n.xml");
    struct sb_topo_device d;
    assert_int_equal(sb_topo_gpu_count(t), 2);
    assert_int_equal(sb_topo_gpu(t, 1, &d), 0);
    assert_string_equal(d.name, "0000:81:00.0"); /* no OS device: named by PCI id */
    assert_string_equal(d.model, "GA100 [A100 PCIe 80GB]");
    assert_int_equal(d.package, 1);
    assert_int_equal(sb_topo_nic_count(t), 1);
    assert_string_equal(sb_topo_gpu_nic_path(t, 0, 0), "SYS");
    assert_string_equal(sb_topo_gpu_nic_path(t, 1, 0), "PHB");
    struct sb_binding b = plan(t, SB_BIND_AUTO, 1, 2, -1);
    assert_string_equal(b.cores, "4");
    assert_int_equal(b.package, 1);
    b = plan(t, SB_BIND_AUTO, 0, 2, 1);
    assert_string_equal(b.cores, "4-7");
    sb_topo_close(t);
}

static void gpu_less_machine_says_so(void **state)
{
    (void)state;
    struct sb_topo *t = open_fixture("vm-1n.xml");
    assert_int_equal(sb_topo_gpu_count(t), 0);
    assert_int_equal(sb_topo_nic_count(t), 1);
    json_t *m = sb_topo_machine_json(t);
    assert_true(json_is_null(json_object_get(m, "gpu_nic_affinity")));
    assert_string_equal(json_string_value(json_object_get(m, "gpu_note")), "no GPU found");
    json_decref(m);
    struct sb_binding b = plan(t, SB_BIND_AUTO, 1, 2, -1);
    assert_string_equal(b.cores, "1");
    assert_string_equal(b.cpuset, "0x00000002");
    b = plan(t, SB_BIND_AUTO, 2, 3, -1);
    assert_string_equal(b.cores, "0-1");
    assert_non_null(strstr(b.note, "3 ranks on 2 cores: oversubscribed"));
    sb_topo_close(t);
}

static void this_machine_loads_and_reports_its_binding(void **state)
{
    (void)state;
    struct sb_topo *t = NULL;
    char err[256] = "";
    assert_int_equal(sb_topo_open(&t, NULL, err, sizeof err), 0);
    assert_true(sb_topo_is_this_system(t));
    struct sb_binding b;
    assert_int_equal(sb_topo_get_binding(t, &b, err, sizeof err), 0);
    assert_string_equal(b.how, "current");
    assert_true(b.cpuset[0] == '0' && b.cpuset[1] == 'x');
    json_t *m = sb_topo_machine_json(t);
    assert_true(json_integer_value(json_object_get(m, "core_count")) >= 1);
    json_decref(m);
    sb_topo_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bind_modes_parse),
        cmocka_unit_test(missing_xml_is_an_error),
        cmocka_unit_test_setup_teardown(dgx_devices_are_found_in_bus_order, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_gpu_nic_paths, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_auto_spreads_over_packages_and_nodes, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_auto_oversubscribed_leaves_ranks_unbound, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_core_packs_in_order, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_numa_gives_whole_nodes, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_none_is_the_whole_machine, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_gpu_ranks_get_gpu_local_cores, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_core_mode_with_gpus_takes_successive_local_cores, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_bad_placements_are_refused, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_rank_record_names_its_devices, setup_dgx, teardown),
        cmocka_unit_test_setup_teardown(dgx_machine_record, setup_dgx, teardown),
        cmocka_unit_test(pci_only_gpus_are_found_by_class),
        cmocka_unit_test(gpu_less_machine_says_so),
        cmocka_unit_test(this_machine_loads_and_reports_its_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
