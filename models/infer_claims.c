/* One system's throughput-interactivity curve, and the seed's inference claims (R10-R12 of
 * sizing-rules.md) evaluated on the model's own curves. */
#include "infer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sbm_infer_curve_build(const struct sbm_infer_setup *s, const char *system,
                          struct sbm_infer_curve *out, struct sbm_error *err)
{
    memset(out, 0, sizeof *out);
    if (sbm_system_resolve(s->cat, system, &out->sys, err) ||
        sbm_llm_resolve(s->llms, s->model, &out->model, err) ||
        sbm_serving_resolve(s->llms, &out->serving, err) ||
        sbm_infer_hw_make(s->cat, &out->sys, s->precision, &out->model, &out->hw, err))
        return SBM_BAD_INPUT;
    out->hw.comm.sys = &out->sys;
    out->hw.comm.params = s->params;
    out->c = (struct sbm_infer_case){&out->model, &out->serving, &out->hw, s->context,
                                     s->replica_in_domain};
    out->memory_wall_gpus = sbm_infer_memory_wall(&out->c, 1, &out->memory_wall_layout);
    sbm_infer_sweep(&out->c, &out->all);
    sbm_infer_pareto(&out->all, &out->front);
    return SBM_OK;
}

void sbm_infer_curve_free(struct sbm_infer_curve *curve)
{
    sbm_infer_points_free(&curve->all);
    sbm_infer_points_free(&curve->front);
}

/* ---- the law's data ---- */

static const double law_users[] = {5, 10, 20, 30, 50, 75, 100, 150, 200, 300};
static const double law_gpu_fractions[] = {0.05, 0.1, 0.2, 0.3, 0.5, 0.7};
#define COUNT(a) (sizeof(a) / sizeof(a)[0])

/* The smallest replica with at least U tok/s per user and G per GPU; 0 when none. */
static int smallest_domain(const struct sbm_infer_points *all, double g, double u)
{
    int best = 0;
    for (size_t i = 0; i < all->n; i++) {
        const struct sbm_infer_point *p = &all->v[i];
        int gpus = sbm_layout_gpus(&p->layout);
        if (p->step.tok_s_per_user >= u && p->step.tok_s_per_gpu >= g && (!best || gpus < best))
            best = gpus;
    }
    return best;
}

size_t sbm_infer_law_points(const struct sbm_infer_curve *curve, double *s, double *g, double *u,
                            size_t max)
{
    double g_max = sbm_infer_best_at(&curve->front, 0, NULL);
    size_t n = 0;
    for (size_t i = 0; i < COUNT(law_users); i++)
        for (size_t j = 0; j < COUNT(law_gpu_fractions) && n < max; j++) {
            double gj = law_gpu_fractions[j] * g_max;
            int d = smallest_domain(&curve->all, gj, law_users[i]);
            if (d > 0) {
                s[n] = d;
                g[n] = gj;
                u[n] = law_users[i];
                n++;
            }
        }
    return n;
}

/* ---- claims ---- */

static struct sbm_claim *row(struct sbm_claim *rows, int *n, const char *id, const char *claim,
                             const char *unit, double claimed)
{
    struct sbm_claim *r = &rows[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%.7s", id);
    snprintf(r->claim, sizeof r->claim, "%s", claim);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->claimed = claimed;
    return r;
}

static void say(struct sbm_claim *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct sbm_claim *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->arithmetic, sizeof r->arithmetic, fmt, ap);
    va_end(ap);
}

/* Holds within the tolerance (relative, either way); unverifiable when the ratio has no
 * denominator (the smaller system cannot hold the model at all). */
static void judge_ratio(struct sbm_claim *r, double derived, double tolerance)
{
    r->derived = derived;
    bool near = derived >= r->claimed / (1 + tolerance) && derived <= r->claimed * (1 + tolerance);
    snprintf(r->verdict, sizeof r->verdict, "%s",
             !isfinite(derived) ? "unverifiable" : near ? "holds" : "contradicted");
}

static void judge_at_least(struct sbm_claim *r, double derived)
{
    r->derived = derived;
    snprintf(r->verdict, sizeof r->verdict, "%s", derived >= r->claimed ? "holds" : "contradicted");
}

struct claim_curves {
    struct sbm_infer_curve nvl8, nvl72, nvl72_fp4, nvl576, law;
};

static double ratio(double a, double b) { return b > 0 ? a / b : (a > 0 ? INFINITY : NAN); }

/* R12 at U tok/s/user: NVL72 over NVL8, with (NVL72 in FP4) and without the FP4 factor. */
static void r12_at(struct sbm_claim *rows, int *n, const struct claim_curves *k, double u,
                   double claim_fp4, double tol)
{
    char id[32], text[200];
    double g8 = sbm_infer_best_at(&k->nvl8.front, u, NULL);
    double g72 = sbm_infer_best_at(&k->nvl72.front, u, NULL);
    double g72f = sbm_infer_best_at(&k->nvl72_fp4.front, u, NULL);
    snprintf(id, sizeof id, "R12/%.0f", u);
    snprintf(text, sizeof text, "GB200 NVL72 (FP4) / B200 NVL8 per-GPU throughput at %g tok/s/user is about %gx", u, claim_fp4);
    struct sbm_claim *r = row(rows, n, id, text, "ratio", claim_fp4);
    judge_ratio(r, ratio(g72f, g8), tol);
    say(r, "best tok/s/GPU with >= %g tok/s/user: nvl72 %s %.1f / hgx-b200 %s %.1f", u,
        sbm_precision_name(SBM_PREC_FP4), g72f, "native", g8);
    snprintf(id, sizeof id, "R12/%.0fs", u);
    snprintf(text, sizeof text, "same without the FP4 factor (seed: %gx / 2 = %gx)", claim_fp4, claim_fp4 / 2);
    r = row(rows, n, id, text, "ratio", claim_fp4 / 2);
    judge_ratio(r, ratio(g72, g8), tol);
    say(r, "nvl72 %.1f / hgx-b200 %.1f tok/s/GPU, both at the model's native precision", g72, g8);
}

static void r12_at_50(struct sbm_claim *rows, int *n, const struct claim_curves *k, double tol)
{
    double g8 = sbm_infer_best_at(&k->nvl8.front, 50, NULL), g8max = sbm_infer_best_at(&k->nvl8.front, 0, NULL);
    double g72 = sbm_infer_best_at(&k->nvl72_fp4.front, 50, NULL);
    double g72max = sbm_infer_best_at(&k->nvl72_fp4.front, 0, NULL);
    struct sbm_claim *r = row(rows, n, "R12/50", "at 50 tok/s/user NVL72 keeps about 70 tok/s/GPU (FP4)", "tok/s/GPU", 70);
    judge_ratio(r, g72, tol);
    say(r, "nvl72 fp4: %.1f tok/s/GPU at >= 50 tok/s/user, %.0f%% of its best %.1f (seed: about 50%%)",
        g72, 100 * ratio(g72, g72max), g72max);
    r = row(rows, n, "R12/50b", "at 50 tok/s/user B200 NVL8 is useless (read: < 10% of its best)", "fraction", 0.1);
    r->derived = ratio(g8, g8max);
    snprintf(r->verdict, sizeof r->verdict, "%s",
             !isfinite(r->derived) ? "unverifiable" : r->derived < 0.1 ? "holds" : "contradicted");
    say(r, "hgx-b200: %.1f tok/s/GPU at >= 50 tok/s/user of its best %.1f", g8, g8max);
}

/* NVL576 over NVL72 (both FP4) at increasing per-user speed: the largest ratio on the grid. */
static void r12_nvl576(struct sbm_claim *rows, int *n, const struct claim_curves *k, double tol)
{
    static const double us[] = {10, 20, 50, 100, 150, 200, 300, 400};
    struct sbm_claim *r = row(rows, n, "R12/576", "GB200 NVL576 per-GPU throughput reaches about 2x NVL72 as tok/s/user grows", "ratio", 2);
    double best = 0;
    size_t used = 0;
    for (size_t i = 0; i < COUNT(us); i++) {
        double a = sbm_infer_best_at(&k->nvl576.front, us[i], NULL);
        double b = sbm_infer_best_at(&k->nvl72_fp4.front, us[i], NULL);
        double q = ratio(a, b);
        if (a > 0 && q > best)
            best = q;
        used += snprintf(r->arithmetic + used, sizeof r->arithmetic - used, "%s@%g: %.1f/%.1f",
                         i ? "; " : "nvl576/nvl72 fp4 tok/s/GPU ", us[i], a, b);
        if (used >= sizeof r->arithmetic)
            break;
    }
    r->derived = best;
    snprintf(r->verdict, sizeof r->verdict, "%s", best >= 2 / (1 + tol) ? "holds" : "contradicted");
}

/* R10: the collectives per layer and the KV cache's share of the weights. */
static void r10(struct sbm_claim *rows, int *n, const struct claim_curves *k)
{
    const struct sbm_llm *m = &k->nvl72.model;
    const struct sbm_infer_point *p = NULL;
    sbm_infer_best_at(&k->nvl72.front, 20, &p);
    struct sbm_claim *r = row(rows, n, "R10", "TP: 2 AllReduces per layer; EP: dispatch + combine per MoE layer", "comm share", 0);
    if (p) {
        double comm = p->step.tp_comm_ms + p->step.ep_comm_ms;
        r->derived = comm / p->step.step_ms;
        say(r, "%s: dense layers 2 AllReduce, MoE layers (ep > 1) 1 AllReduce + 2 all-to-all; at the nvl72 "
            "optimum for 20 tok/s/user (tp %d ep %d pp %d batch %g) TP %.3f + EP %.3f ms of a %.3f ms step",
            m->id, p->layout.tp, p->layout.ep, p->layout.pp, p->batch, p->step.tp_comm_ms,
            p->step.ep_comm_ms, p->step.step_ms);
    }
    snprintf(r->verdict, sizeof r->verdict, "holds");
    /* KV cache against the weights, over the NVL72 front: the most KV-heavy point. */
    double share = 0;
    const struct sbm_infer_point *q = NULL;
    for (size_t i = 0; i < k->nvl72.front.n; i++) {
        const struct sbm_step *s = &k->nvl72.front.v[i].step;
        if (s->kv_gbytes_per_gpu / s->weights_gbytes_per_gpu > share) {
            share = s->kv_gbytes_per_gpu / s->weights_gbytes_per_gpu;
            q = &k->nvl72.front.v[i];
        }
    }
    r = row(rows, n, "R10/kv", "KV cache can reach 50% of the model size or more", "KV/weights", 0.5);
    judge_at_least(r, share);
    double one = k->nvl72.c.context * sbm_llm_kv_bytes_per_token_layer(m) * m->layers;
    say(r, "%s at context %g: one sequence holds %.3g GB of KV (%.2g%% of %.4g GB of weights); on the "
        "nvl72 front KV/weights peaks at %.2f (batch %g, %.1f tok/s/user)", m->id, k->nvl72.c.context,
        one * 1e-9, 100 * one / (sbm_llm_total_params(m) * m->bytes_per_weight),
        sbm_llm_total_params(m) * m->bytes_per_weight * 1e-9, share, q ? q->batch : 0,
        q ? q->step.tok_s_per_user : 0);
}

static void r11(struct sbm_claim *rows, int *n, const struct sbm_infer_curve *curve)
{
    double s[64], g[64], u[64];
    size_t np = sbm_infer_law_points(curve, s, g, u, 64);
    struct sbm_law law;
    int ok = sbm_law_fit(s, g, u, np, &law) == 0;
    const char *ids[2] = {"R11/b", "R11/c"};
    const char *what[2] = {"S = a G^b U^c: exponent b of per-GPU throughput G is > 1",
                           "S = a G^b U^c: exponent c of per-user throughput U is > 1"};
    for (int i = 0; i < 2; i++) {
        struct sbm_claim *r = row(rows, n, ids[i], what[i], "exponent", 1);
        if (!ok) {
            snprintf(r->verdict, sizeof r->verdict, "unverifiable");
            say(r, "%zu (G, U) targets reachable on %s: too few for a fit", np, curve->sys.id);
            continue;
        }
        r->derived = i ? law.c : law.b;
        snprintf(r->verdict, sizeof r->verdict, "%s", r->derived > 1 ? "holds" : "contradicted");
        say(r, "fit of the smallest domain (whole replica inside) reaching (G, U) on %s, %zu targets: a = %.4g, b = %.3f, "
            "c = %.3f, R^2 (log) = %.3f, worst relative error %.0f%%", curve->sys.id, law.n, law.a,
            law.b, law.c, law.r2, 100 * law.max_rel_error);
    }
}

static int build_all(const struct sbm_infer_setup *s, struct claim_curves *k, struct sbm_error *err)
{
    struct sbm_infer_setup fp4 = *s, law = *s;
    fp4.precision = SBM_PREC_FP4;
    law.replica_in_domain = true; /* S is the scale-up domain: the whole replica inside it */
    memset(k, 0, sizeof *k);
    return sbm_infer_curve_build(s, "hgx-b200", &k->nvl8, err) ||
                   sbm_infer_curve_build(s, "gb200-nvl72", &k->nvl72, err) ||
                   sbm_infer_curve_build(&fp4, "gb200-nvl72", &k->nvl72_fp4, err) ||
                   sbm_infer_curve_build(&fp4, "gb200-nvl576", &k->nvl576, err) ||
                   sbm_infer_curve_build(&law, "gb200-nvl576", &k->law, err)
               ? -1
               : 0;
}

int sbm_infer_claims(const struct sbm_infer_setup *s, struct sbm_claim *rows, int max,
                     struct sbm_error *err)
{
    struct claim_curves k;
    int n = 0;
    if (max < 12)
        return sbm_error_set(err, "claims: room for 12 rows needed"), -1;
    int rc = build_all(s, &k, err);
    if (rc == 0) {
        double tol = k.nvl72.serving.claim_tolerance;
        r10(rows, &n, &k);
        r11(rows, &n, &k.law);
        r12_at(rows, &n, &k, 10, 3, tol);
        r12_at(rows, &n, &k, 20, 7, tol);
        r12_at_50(rows, &n, &k, tol);
        r12_nvl576(rows, &n, &k, tol);
    }
    sbm_infer_curve_free(&k.nvl8);
    sbm_infer_curve_free(&k.nvl72);
    sbm_infer_curve_free(&k.nvl72_fp4);
    sbm_infer_curve_free(&k.nvl576);
    sbm_infer_curve_free(&k.law);
    return rc == 0 ? n : -1;
}
