/* The outlier rule of sb_model pairs on synthetic matrices: a slow node is named and nobody
 * else, a bad link is named as a link, equal links (with noise) name nobody, two members name
 * nobody, high latency is caught on its own, missing pairs are tolerated. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pairs.h"

static const struct sbm_pairs_rule rule = {SBM_PAIRS_BW_DROP, SBM_PAIRS_LAT_RISE};

/* n members, every pair at bw GB/s and lat us, with a deterministic +-noise spread. */
static void fill(struct sbm_pairs_matrix *m, int n, double bw, double lat, double noise)
{
    assert_int_equal(sbm_pairs_matrix_init(m, n), 0);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double wiggle = noise * sin(7.0 * i + 3.0 * j); /* in [-noise, noise] */
            sbm_pairs_matrix_put(m, i, j, bw * (1 + wiggle), lat * (1 - wiggle));
        }
}

/* Scales every pair of member k (bandwidth by f, latency by g). */
static void degrade_member(struct sbm_pairs_matrix *m, int k, double f, double g)
{
    for (int j = 0; j < m->n; j++)
        if (j != k) {
            m->bw[k * m->n + j] *= f;
            m->bw[j * m->n + k] = m->bw[k * m->n + j];
            m->lat[k * m->n + j] *= g;
            m->lat[j * m->n + k] = m->lat[k * m->n + j];
        }
}

static void slow_node_is_named_alone(void **state)
{
    (void)state;
    for (int n = 3; n <= 16; n++) {
        struct sbm_pairs_matrix m;
        fill(&m, n, 50.0, 2.0, 0.08);
        degrade_member(&m, n / 2, 0.5, 1.0);
        struct sbm_pairs_verdict v;
        assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
        assert_int_equal(v.count, 1);
        assert_int_equal(v.suspects[0].kind, SBM_SUSPECT_NODE);
        assert_int_equal(v.suspects[0].a, n / 2);
        assert_string_equal(v.suspects[0].metric, "bandwidth");
        assert_int_equal(v.suspects[0].bad, n - 1);
        assert_true(v.suspects[0].ratio_min > 0.4 && v.suspects[0].ratio_max < 0.6);
        char text[512];
        sbm_pairs_suspect_text(&m, &v, &v.suspects[0], text, sizeof text);
        assert_non_null(strstr(text, m.names[n / 2]));
        assert_non_null(strstr(text, "of the reference bandwidth"));
        sbm_pairs_verdict_free(&v);
        sbm_pairs_matrix_free(&m);
    }
}

static void equal_links_name_nobody(void **state)
{
    (void)state;
    for (int n = 2; n <= 16; n++) {
        struct sbm_pairs_matrix m;
        fill(&m, n, 0.025, 80.0, 0.12);
        struct sbm_pairs_verdict v;
        assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
        assert_int_equal(v.count, 0);
        assert_int_equal(v.measured_pairs, n * (n - 1) / 2);
        assert_true(fabs(v.bw_ref - 0.025) < 0.025 * 0.13);
        sbm_pairs_verdict_free(&v);
        sbm_pairs_matrix_free(&m);
    }
}

static void bad_link_is_a_link(void **state)
{
    (void)state;
    struct sbm_pairs_matrix m;
    fill(&m, 6, 100.0, 3.0, 0.05);
    m.bw[1 * 6 + 4] = m.bw[4 * 6 + 1] = 30.0;
    struct sbm_pairs_verdict v;
    assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
    assert_int_equal(v.count, 1);
    assert_int_equal(v.suspects[0].kind, SBM_SUSPECT_LINK);
    assert_int_equal(v.suspects[0].a, 1);
    assert_int_equal(v.suspects[0].b, 4);
    assert_true(fabs(v.suspects[0].ratio_min - 0.3) < 0.03);
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
}

static void two_members_name_nobody(void **state)
{
    (void)state;
    struct sbm_pairs_matrix m;
    assert_int_equal(sbm_pairs_matrix_init(&m, 2), 0);
    sbm_pairs_matrix_put(&m, 0, 1, 1.0, 1000.0); /* terrible, but compared with nothing */
    struct sbm_pairs_verdict v;
    assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
    assert_int_equal(v.count, 0);
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
}

static void two_slow_nodes_of_six(void **state)
{
    (void)state;
    struct sbm_pairs_matrix m;
    fill(&m, 6, 25.0, 5.0, 0.05);
    degrade_member(&m, 0, 0.4, 1.0);
    degrade_member(&m, 5, 0.3, 1.0);
    struct sbm_pairs_verdict v;
    assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
    assert_int_equal(v.count, 2);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(v.suspects[k].kind, SBM_SUSPECT_NODE);
        assert_true(v.suspects[k].a == 0 || v.suspects[k].a == 5);
    }
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
}

static void high_latency_node(void **state)
{
    (void)state;
    struct sbm_pairs_matrix m;
    fill(&m, 5, 25.0, 5.0, 0.1);
    degrade_member(&m, 3, 1.0, 3.0); /* bandwidth fine, latency 3x */
    struct sbm_pairs_verdict v;
    assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
    assert_int_equal(v.count, 1);
    assert_string_equal(v.suspects[0].metric, "latency");
    assert_int_equal(v.suspects[0].a, 3);
    assert_true(v.suspects[0].ratio_min > 2.4);
    json_t *j = sbm_pairs_verdict_json(&m, &rule, &v);
    json_t *s = json_array_get(json_object_get(j, "suspects"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "kind")), "node");
    assert_string_equal(json_string_value(json_object_get(s, "name")), "m3");
    assert_string_equal(json_string_value(json_object_get(s, "metric")), "latency");
    json_decref(j);
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
}

static void missing_pairs_and_best_of_duplicates(void **state)
{
    (void)state;
    struct sbm_pairs_matrix m;
    fill(&m, 4, 10.0, 1.0, 0.0);
    m.bw[0 * 4 + 1] = m.bw[1 * 4 + 0] = NAN; /* one pair not measured */
    sbm_pairs_matrix_put(&m, 2, 3, 5.0, 4.0); /* a worse duplicate is ignored */
    assert_true(m.bw[2 * 4 + 3] == 10.0 && m.lat[3 * 4 + 2] == 1.0);
    struct sbm_pairs_verdict v;
    assert_int_equal(sbm_pairs_judge(&m, &rule, &v), 0);
    assert_int_equal(v.count, 0);
    assert_int_equal(v.measured_pairs, 6); /* its latency is still there */
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_node_is_named_alone),
        cmocka_unit_test(equal_links_name_nobody),
        cmocka_unit_test(bad_link_is_a_link),
        cmocka_unit_test(two_members_name_nobody),
        cmocka_unit_test(two_slow_nodes_of_six),
        cmocka_unit_test(high_latency_node),
        cmocka_unit_test(missing_pairs_and_best_of_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
