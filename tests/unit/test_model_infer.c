/* The inference model: roofline and communication terms on hand-computed cases, the memory
 * wall's boundary, monotonicity and the Pareto front, the law fit on synthetic data, and the
 * LLM catalog's parameter counts against the published sizes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "infer.h"
#include "predict.h"

#define near(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-9 * (1 + fabs((double)(b))))

/* A dense model small enough to cost by hand (elements):
 * attention 2*4*(2*2) + 2*4*(1*2) = 48, MLP 2*4*8 = 64, embeddings 2*10*4 = 80,
 * total 2*(48+64) + 80 = 304; KV 2*1*2 = 4 bytes per token and layer. */
static const struct sbm_llm tiny = {
    .id = "tiny", .layers = 2, .hidden = 4, .heads = 2, .kv_heads = 1, .head_dim = 2, .ffn = 8,
    .mlp_matrices = 2, .vocab = 10, .bytes_per_weight = 1, .bytes_per_activation = 2,
    .bytes_per_kv = 1,
};

static const struct sbm_serving ideal = {1, 1, 1, 0.25};

/* 1e7 FLOP/s and 1e6 B/s: the tiny model's layers are memory-bound. 1000 bytes of HBM. */
static struct sbm_infer_hw slow_hw(void)
{
    return (struct sbm_infer_hw){.hbm_gbytes = 1e-6, .hbm_tbytes_s = 1e-6, .tflops = 1e-5,
                                 .domain_gpus = 8};
}

static void tiny_parameter_counts(void **state)
{
    (void)state;
    near(sbm_llm_attention_params(&tiny), 48);
    near(sbm_llm_mlp_params(&tiny, tiny.ffn), 64);
    near(sbm_llm_embedding_params(&tiny), 80);
    near(sbm_llm_total_params(&tiny), 304);
    near(sbm_llm_kv_bytes_per_token_layer(&tiny), 4);
    near(sbm_llm_attention_core_flops(&tiny, 10), 2 * 2 * 4 * 10);
}

/* Batch 1, context 10, one GPU. Per layer: attention 2*48 + 160 = 256 FLOPs and 48 + 10*4 = 88
 * bytes, MLP 128 FLOPs and 64 bytes: 384 FLOPs (38.4 us) < 152 bytes (152 us), memory-bound.
 * lm head: 40 bytes (40 us) > 80 FLOPs (8 us). Step = 2*152 + 40 = 344 us. */
static void roofline_by_hand(void **state)
{
    (void)state;
    struct sbm_infer_hw hw = slow_hw();
    struct sbm_infer_case c = {&tiny, &ideal, &hw, 10, false};
    struct sbm_layout l = {1, 1, 1};
    struct sbm_step s;
    sbm_infer_step(&c, &l, 1, &s);
    near(s.memory_ms, 0.344);
    near(s.compute_ms, 0);
    near(s.tp_comm_ms + s.ep_comm_ms + s.pp_comm_ms, 0);
    near(s.step_ms, 0.344);
    near(s.tok_s_per_user, 1e3 / 0.344);
    near(s.tok_s_per_gpu, 1e3 / 0.344);
    near(s.weights_gbytes_per_gpu, 304e-9);
    near(s.kv_gbytes_per_gpu, 80e-9);
    /* At 1e5 FLOP/s every layer is compute-bound: 2*384 + 80 = 848 FLOPs = 8.48 ms. */
    hw.tflops = 1e-7;
    sbm_infer_step(&c, &l, 1, &s);
    near(s.compute_ms, 8.48);
    near(s.memory_ms, 0);
}

/* (1000 - 304) / 80 = 8.7: 8 sequences fit on one GPU. */
static void max_batch_by_hand(void **state)
{
    (void)state;
    struct sbm_infer_hw hw = slow_hw();
    struct sbm_infer_case c = {&tiny, &ideal, &hw, 10, false};
    struct sbm_layout l = {1, 1, 1};
    near(sbm_infer_max_batch(&c, &l), 8);
}

/* One GPU needs 304 + 80 = 384 bytes for one sequence; with two (tp 2: 152 weights + 80 KV,
 * the single KV head replicated; or pp 2: 152 + 40) it fits in 300. */
static void memory_wall_boundary(void **state)
{
    (void)state;
    struct sbm_infer_hw hw = slow_hw();
    struct sbm_serving s = ideal;
    struct sbm_infer_case c = {&tiny, &s, &hw, 10, true};
    struct sbm_layout l;
    s.hbm_usable = 0.3845; /* 384.5 bytes */
    assert_int_equal(sbm_infer_memory_wall(&c, 1, &l), 1);
    s.hbm_usable = 0.3835;
    assert_int_equal(sbm_infer_memory_wall(&c, 1, &l), 2);
    s.hbm_usable = 0.1915; /* pp 2: 192 bytes per GPU; tp 2: 232 */
    assert_int_equal(sbm_infer_memory_wall(&c, 1, &l), 4);
    s.hbm_usable = 0.1925;
    assert_int_equal(sbm_infer_memory_wall(&c, 1, &l), 2);
    assert_int_equal(l.pp, 2);
    s.hbm_usable = 0.01; /* 10 bytes: not even 8 GPUs inside the domain */
    assert_int_equal(sbm_infer_memory_wall(&c, 1, &l), 0);
}

struct fixture {
    struct sbm_catalog cat;
    struct sbm_llm_catalog llms;
};

static int load(void **state)
{
    static struct fixture f;
    struct sbm_error err;
    if (sbm_catalog_load(SB_CATALOG_DIR, &f.cat, &err) != SBM_OK ||
        sbm_llm_catalog_load(SB_LLM_DIR, &f.llms, &err) != SBM_OK)
        return -1;
    *state = &f;
    return 0;
}

static int unload(void **state)
{
    struct fixture *f = *state;
    sbm_catalog_free(&f->cat);
    sbm_llm_catalog_free(&f->llms);
    return 0;
}

/* Two AllReduces of b * hidden * 2 bytes per layer, costed as cost.h's best on the fabric. */
static void tp_comm_is_two_allreduces_per_layer(void **state)
{
    struct fixture *f = *state;
    struct sbm_system sys;
    struct sbm_error err;
    assert_int_equal(sbm_system_resolve(&f->cat, "dgx-h100", &sys, &err), SBM_OK);
    struct sbm_infer_hw hw = slow_hw();
    hw.comm.sys = &sys;
    struct sbm_infer_case c = {&tiny, &ideal, &hw, 10, false};
    struct sbm_layout l = {2, 1, 1};
    struct sbm_step s;
    sbm_infer_step(&c, &l, 3, &s);
    struct sbm_fabric fab;
    double ar;
    assert_int_equal(sbm_fabric_from_system(&sys, 2, 1, &fab, &err), SBM_OK);
    sbm_cost_best(SBM_ALLREDUCE, &fab, 3 * 4 * 2, &ar);
    assert_true(ar > 0);
    near(s.tp_comm_ms, 2 * 2 * ar * 1e-3);
    near(s.ep_comm_ms, 0);
}

/* A fitted AllReduce (10 us + 1 ns per byte, p = 2) replaces the catalog's. */
static void fitted_params_replace_the_catalog(void **state)
{
    (void)state;
    struct sbm_fit fit = {0};
    snprintf(fit.group.collective, sizeof fit.group.collective, "allreduce");
    fit.group.ranks = 2;
    fit.line = (struct sbm_line){10, 1e-3, 1};
    struct sbm_params params = {&fit, 1};
    struct sbm_infer_hw hw = slow_hw();
    hw.comm.params = &params;
    struct sbm_infer_case c = {&tiny, &ideal, &hw, 10, false};
    struct sbm_layout l = {2, 1, 1};
    struct sbm_step s;
    sbm_infer_step(&c, &l, 3, &s);
    near(s.tp_comm_ms, 2 * 2 * (10 + 1e-3 * 24) * 1e-3);
}

/* A tiny MoE: 4 experts, top 2, ep 4, tp 1 on 4 GPUs. Per MoE layer one AllReduce over tp = 1
 * (free) and a dispatch + combine of b k / ep tokens of 8 bytes over 4 ranks. */
static void ep_comm_is_dispatch_and_combine(void **state)
{
    struct fixture *f = *state;
    struct sbm_system sys;
    struct sbm_error err;
    assert_int_equal(sbm_system_resolve(&f->cat, "dgx-h100", &sys, &err), SBM_OK);
    struct sbm_llm moe = tiny;
    moe.experts = 4;
    moe.top_k = 2;
    moe.expert_ffn = 8;
    struct sbm_infer_hw hw = slow_hw();
    hw.comm.sys = &sys;
    struct sbm_infer_case c = {&moe, &ideal, &hw, 10, false};
    struct sbm_layout l = {1, 4, 1};
    struct sbm_step s;
    sbm_infer_step(&c, &l, 8, &s);
    double a2a = sbm_comm_alltoall_us(&hw.comm, 4, 8.0 * 2 / 4 * 4 * 2);
    assert_true(a2a > 0);
    near(s.ep_comm_ms, 2 * 2 * a2a * 1e-3);
    near(s.tp_comm_ms, 0);
}

/* Expert weights read: with one token only top_k of the experts are touched. */
static void moe_reads_only_used_experts(void **state)
{
    (void)state;
    struct sbm_llm moe = tiny;
    moe.experts = 4;
    moe.top_k = 1;
    moe.expert_ffn = 8;
    moe.vocab = 1;
    struct sbm_infer_hw hw = slow_hw();
    struct sbm_infer_case c = {&moe, &ideal, &hw, 0, false};
    struct sbm_layout l = {1, 1, 1};
    struct sbm_step s;
    sbm_infer_step(&c, &l, 1, &s);
    /* per layer: attention 48, one expert of 64 (1 - (3/4)^1 of 4 x 64), router 4 x 4 = 16 */
    double per_layer = 48 + 64 + 16, head = 4;
    near(s.memory_ms, (2 * per_layer + head) * 1e-3);
}

static void catalog_models_match_published_sizes(void **state)
{
    struct fixture *f = *state;
    const char *id;
    json_t *e;
    int n = 0;
    json_object_foreach(f->llms.llms, id, e) {
        struct sbm_llm m;
        struct sbm_error err;
        (void)e;
        assert_int_equal(sbm_llm_resolve(&f->llms, id, &m, &err), SBM_OK);
        double total = sbm_llm_total_params(&m) * 1e-9;
        assert_true(fabs(total - m.published_params_b) <= 0.01 * m.published_params_b);
        n++;
    }
    assert_true(n >= 4);
    struct sbm_llm ds;
    struct sbm_error err;
    assert_int_equal(sbm_llm_resolve(&f->llms, "deepseek-v3", &ds, &err), SBM_OK);
    /* 37B activated (report), 576 latent values of 2 bytes per token and layer */
    assert_true(fabs(sbm_llm_active_params(&ds) * 1e-9 - 37) < 1.0);
    near(sbm_llm_kv_bytes_per_token_layer(&ds), 576 * 2);
}

static void build_curve(void **state, const char *system, bool in_domain,
                        struct sbm_infer_curve *k)
{
    struct fixture *f = *state;
    struct sbm_infer_setup s = {&f->cat, &f->llms, "gpt-moe-1.8t", SBM_PREC_NATIVE, 8192, NULL,
                                in_domain};
    struct sbm_error err;
    assert_int_equal(sbm_infer_curve_build(&s, system, k, &err), SBM_OK);
    assert_true(k->all.n > 100);
}

/* More sequences on the same layout never raise the per-user rate. */
static void more_users_never_faster(void **state)
{
    static struct sbm_infer_curve k;
    build_curve(state, "gb200-nvl72", false, &k);
    for (size_t i = 1; i < k.all.n; i++) {
        const struct sbm_infer_point *a = &k.all.v[i - 1], *b = &k.all.v[i];
        if (memcmp(&a->layout, &b->layout, sizeof a->layout) != 0)
            continue;
        assert_true(b->batch > a->batch);
        assert_true(b->step.tok_s_per_user <= a->step.tok_s_per_user * (1 + 1e-12));
    }
    sbm_infer_curve_free(&k);
}

/* The front: per-user rate up, per-GPU rate down, and no point of the sweep beats a front
 * point on both. */
static void pareto_front_is_monotonic_and_undominated(void **state)
{
    static struct sbm_infer_curve k;
    build_curve(state, "hgx-b200", false, &k);
    assert_true(k.front.n >= 5);
    for (size_t i = 1; i < k.front.n; i++) {
        assert_true(k.front.v[i].step.tok_s_per_user > k.front.v[i - 1].step.tok_s_per_user);
        assert_true(k.front.v[i].step.tok_s_per_gpu < k.front.v[i - 1].step.tok_s_per_gpu);
    }
    for (size_t i = 0; i < k.front.n; i++)
        for (size_t j = 0; j < k.all.n; j++)
            assert_false(k.all.v[j].step.tok_s_per_user > k.front.v[i].step.tok_s_per_user &&
                         k.all.v[j].step.tok_s_per_gpu > k.front.v[i].step.tok_s_per_gpu);
    /* the 1.8T model at FP8 does not fit in one 8 x 180 GB node: its wall is 2 domains */
    assert_true(k.memory_wall_gpus > 8);
    sbm_infer_curve_free(&k);
}

/* Inside the domain only: an 8-GPU node cannot hold the model at all. */
static void within_domain_bounds_the_replica(void **state)
{
    struct fixture *f = *state;
    struct sbm_infer_setup s = {&f->cat, &f->llms, "gpt-moe-1.8t", SBM_PREC_NATIVE, 8192, NULL, true};
    static struct sbm_infer_curve k;
    struct sbm_error err;
    assert_int_equal(sbm_infer_curve_build(&s, "hgx-b200", &k, &err), SBM_OK);
    assert_int_equal(k.all.n, 0);
    assert_int_equal(k.memory_wall_gpus, 0);
    sbm_infer_curve_free(&k);
}

/* S = 2 G^1.3 U^1.7 sampled on a grid is recovered exactly; too few points are refused. */
static void law_fit_recovers_synthetic_exponents(void **state)
{
    (void)state;
    double s[15], g[15], u[15];
    static const double us[] = {10, 20, 50};
    size_t n = 0;
    for (int i = 1; i <= 5; i++)
        for (int j = 0; j < 3; j++, n++) {
            g[n] = 100.0 * i;
            u[n] = us[j];
            s[n] = 2 * pow(g[n], 1.3) * pow(u[n], 1.7);
        }
    struct sbm_law law;
    assert_int_equal(sbm_law_fit(s, g, u, n, &law), 0);
    assert_true(fabs(law.a - 2) < 1e-6);
    assert_true(fabs(law.b - 1.3) < 1e-9);
    assert_true(fabs(law.c - 1.7) < 1e-9);
    assert_true(law.r2 > 1 - 1e-9);
    assert_true(law.max_rel_error < 1e-9);
    assert_int_equal(sbm_law_fit(s, g, u, 3, &law), -1);
    for (size_t i = 0; i < n; i++)
        u[i] = 20; /* no spread in U: singular */
    assert_int_equal(sbm_law_fit(s, g, u, n, &law), -1);
}

static void layouts_are_checked(void **state)
{
    (void)state;
    struct sbm_llm moe = tiny;
    moe.experts = 4;
    moe.top_k = 2;
    moe.expert_ffn = 8;
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){2, 1, 1}, &tiny, 8), 0);
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){4, 1, 1}, &tiny, 8), -1); /* > heads */
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){1, 2, 1}, &tiny, 8), -1); /* dense ep */
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){2, 4, 2}, &moe, 8), 0);
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){1, 8, 1}, &moe, 8), -1); /* > experts */
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){1, 1, 3}, &tiny, 8), -1); /* > layers */
    struct sbm_llm six = tiny; /* 6 heads (3 KV heads): tp 4 would give 1.5 heads a rank */
    six.heads = 6;
    six.kv_heads = 3;
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){2, 1, 1}, &six, 8), -1); /* 1.5 KV */
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){4, 1, 1}, &six, 8), -1);
    six.kv_heads = 1;
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){2, 1, 1}, &six, 8), 0);
    assert_int_equal(sbm_layout_check(&(struct sbm_layout){4, 1, 1}, &six, 8), -1); /* 6 % 4 */
    assert_int_equal(sbm_layout_cross_hops(&(struct sbm_layout){8, 1, 2}, 8), 2);
    assert_int_equal(sbm_layout_cross_hops(&(struct sbm_layout){4, 1, 2}, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_parameter_counts),
        cmocka_unit_test(roofline_by_hand),
        cmocka_unit_test(max_batch_by_hand),
        cmocka_unit_test(memory_wall_boundary),
        cmocka_unit_test(fitted_params_replace_the_catalog),
        cmocka_unit_test(moe_reads_only_used_experts),
        cmocka_unit_test(law_fit_recovers_synthetic_exponents),
        cmocka_unit_test(layouts_are_checked),
        cmocka_unit_test(tp_comm_is_two_allreduces_per_layer),
        cmocka_unit_test(ep_comm_is_dispatch_and_combine),
        cmocka_unit_test(catalog_models_match_published_sizes),
        cmocka_unit_test(more_users_never_faster),
        cmocka_unit_test(pareto_front_is_monotonic_and_undominated),
        cmocka_unit_test(within_domain_bounds_the_replica),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
