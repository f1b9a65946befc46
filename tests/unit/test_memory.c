/* --mem-node parsing, and buffers placed on this machine's NUMA nodes, verified page by page.
 * On a one-node machine every placement is node 0; on a multi-node one each node is tried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <numa.h>

#include "memory.h"

#define MIB (1024 * 1024)

static void policies_parse(void **state)
{
    (void)state;
    struct sb_mem_policy p;
    char err[256], name[32];
    assert_int_equal(sb_mem_policy_parse("local", &p, err, sizeof err), 0);
    assert_int_equal(p.kind, SB_MEM_LOCAL);
    assert_int_equal(sb_mem_policy_parse("interleave", &p, err, sizeof err), 0);
    assert_int_equal(p.kind, SB_MEM_INTERLEAVE);
    assert_int_equal(sb_mem_policy_parse("3", &p, err, sizeof err), 0);
    assert_int_equal(p.kind, SB_MEM_NODE);
    assert_int_equal(p.node, 3);
    sb_mem_policy_name(&p, name, sizeof name);
    assert_string_equal(name, "node 3");
}

static void bad_policies_are_refused_with_the_value(void **state)
{
    (void)state;
    static const char *bad[] = {"", "x", "-1", "1x", "+1", " 1", "99999", "Local"};
    struct sb_mem_policy p;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256] = "", want[64];
        assert_int_equal(sb_mem_policy_parse(bad[i], &p, err, sizeof err), 2);
        snprintf(want, sizeof want, "invalid --mem-node '%s'", bad[i]);
        assert_non_null(strstr(err, want));
    }
}

static void absent_node_is_refused(void **state)
{
    (void)state;
    struct sb_mem_policy p = {SB_MEM_NODE, 999};
    char err[256] = "";
    if (!sb_mem_numa_available())
        skip();
    assert_int_equal(sb_mem_policy_check(&p, err, sizeof err), 2);
    assert_non_null(strstr(err, "--mem-node 999: no such NUMA node"));
    assert_null(sb_mem_alloc(&p, MIB, err, sizeof err));
    struct bitmask *mems = numa_get_mems_allowed();
    p.node = 0;
    while (p.node < numa_max_node() && !numa_bitmask_isbitset(mems, (unsigned)p.node))
        p.node++;
    assert_int_equal(sb_mem_policy_check(&p, err, sizeof err), 0); /* the first allowed node */
    numa_bitmask_free(mems);
}

/* Allocates 8 MiB under `p`; every byte is zero, and the placement is read back. */
static int alloc_and_place(const struct sb_mem_policy *p, struct sb_mem_placement *pl, char *report, size_t len)
{
    char err[256] = "";
    unsigned char *buf = sb_mem_alloc(p, 8 * MIB, err, sizeof err);
    if (!buf)
        print_error("alloc failed: %s\n", err);
    assert_non_null(buf);
    assert_int_equal((uintptr_t)buf % 4096, 0);
    for (size_t i = 0; i < 8 * MIB; i += 4093)
        assert_int_equal(buf[i], 0);
    int node = sb_mem_placement(buf, 8 * MIB, report, len);
    assert_int_equal(sb_mem_placement_get(buf, 8 * MIB, pl), 0);
    sb_mem_free(buf, 8 * MIB);
    return node;
}

static void each_node_gets_its_pages(void **state)
{
    (void)state;
    if (!sb_mem_numa_available())
        skip();
    struct bitmask *mems = numa_get_mems_allowed();
    int tried = 0;
    for (int n = 0; n <= numa_max_node() && tried < 4; n++) {
        if (!numa_bitmask_isbitset(mems, (unsigned)n))
            continue;
        struct sb_mem_policy p = {SB_MEM_NODE, n};
        struct sb_mem_placement pl;
        char report[256], want[64];
        assert_int_equal(alloc_and_place(&p, &pl, report, sizeof report), n);
        snprintf(want, sizeof want, "node %d: 100%% of 2048 sampled pages", n);
        assert_string_equal(report, want);
        assert_int_equal(pl.on_node[n], 2048);
        tried++;
    }
    numa_bitmask_free(mems);
    assert_true(tried > 0);
}

static void local_lands_on_the_cpu_node(void **state)
{
    (void)state;
    if (!sb_mem_numa_available())
        skip();
    /* pin to one CPU so that "local" has a single answer */
    struct bitmask *cpus = numa_allocate_cpumask();
    numa_sched_getaffinity(0, cpus);
    int cpu = 0;
    while (!numa_bitmask_isbitset(cpus, (unsigned)cpu))
        cpu++;
    struct bitmask *one = numa_allocate_cpumask();
    numa_bitmask_setbit(one, (unsigned)cpu);
    assert_int_equal(numa_sched_setaffinity(0, one), 0);
    struct sb_mem_policy p = {SB_MEM_LOCAL, 0};
    struct sb_mem_placement pl;
    char report[256];
    int node = alloc_and_place(&p, &pl, report, sizeof report);
    numa_sched_setaffinity(0, cpus);
    assert_int_equal(node, numa_node_of_cpu(cpu));
    numa_free_cpumask(one);
    numa_free_cpumask(cpus);
}

static void interleave_spreads_over_allowed_nodes(void **state)
{
    (void)state;
    if (!sb_mem_numa_available())
        skip();
    struct sb_mem_policy p = {SB_MEM_INTERLEAVE, 0};
    struct sb_mem_placement pl;
    char report[256];
    struct bitmask *mems = numa_get_mems_allowed();
    int nodes = numa_bitmask_weight(mems);
    int node = alloc_and_place(&p, &pl, report, sizeof report);
    assert_int_equal(pl.sampled, 2048);
    assert_int_equal(pl.absent + pl.other, 0);
    int holding = 0, first = -1;
    for (int n = 0; n < SB_MEM_MAX_NODES; n++) {
        if (!numa_bitmask_isbitset(mems, (unsigned)n)) {
            assert_int_equal(pl.on_node[n], 0); /* never on a node we may not use */
            continue;
        }
        first = first < 0 ? n : first;
        holding += pl.on_node[n] > 0;
    }
    /* transparent huge pages interleave 2 MiB at a time: 8 MiB reaches at least two nodes */
    if (nodes > 1) {
        assert_true(holding >= 2);
        assert_int_equal(node, -1);
    } else {
        assert_int_equal(node, first);
    }
    numa_bitmask_free(mems);
}

static void untouched_pages_are_reported_absent(void **state)
{
    (void)state;
    if (!sb_mem_numa_available())
        skip();
    void *raw = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(raw != MAP_FAILED);
    char report[256];
    assert_int_equal(sb_mem_placement(raw, 4 * MIB, report, sizeof report), -1);
    assert_string_equal(report, "not present: 100% of 1024 sampled pages");
    munmap(raw, 4 * MIB);
}

static void large_buffers_are_sampled(void **state)
{
    (void)state;
    if (!sb_mem_numa_available())
        skip();
    struct sb_mem_policy p = {SB_MEM_LOCAL, 0};
    char err[256] = "";
    size_t bytes = 64 * MIB + 123; /* not a whole number of pages */
    void *buf = sb_mem_alloc(&p, bytes, err, sizeof err);
    assert_non_null(buf);
    struct sb_mem_placement pl;
    assert_int_equal(sb_mem_placement_get(buf, bytes, &pl), 0);
    assert_int_equal(pl.sampled, SB_MEM_SAMPLES);
    assert_int_equal(pl.absent, 0);
    json_t *j = sb_mem_placement_json(&p, buf, bytes);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "local");
    assert_true(json_is_true(json_object_get(j, "numa")));
    assert_int_equal(json_integer_value(json_object_get(j, "sampled_pages")), SB_MEM_SAMPLES);
    assert_true(json_object_size(json_object_get(j, "pages_by_node")) >= 1);
    assert_non_null(strstr(json_string_value(json_object_get(j, "report")), "of 4096 sampled pages"));
    json_decref(j);
    sb_mem_free(buf, bytes);
}

static void zero_bytes_still_gives_a_buffer(void **state)
{
    (void)state;
    struct sb_mem_policy p = {SB_MEM_LOCAL, 0};
    char err[256] = "";
    void *buf = sb_mem_alloc(&p, 0, err, sizeof err);
    assert_non_null(buf);
    sb_mem_free(buf, 0);
    sb_mem_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policies_parse),
        cmocka_unit_test(bad_policies_are_refused_with_the_value),
        cmocka_unit_test(absent_node_is_refused),
        cmocka_unit_test(each_node_gets_its_pages),
        cmocka_unit_test(local_lands_on_the_cpu_node),
        cmocka_unit_test(interleave_spreads_over_allowed_nodes),
        cmocka_unit_test(untouched_pages_are_reported_absent),
        cmocka_unit_test(large_buffers_are_sampled),
        cmocka_unit_test(zero_bytes_still_gives_a_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
