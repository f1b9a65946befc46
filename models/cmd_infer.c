/* sb_model infer: per-GPU against per-user decode throughput of an LLM on catalog systems
 * (the Pareto curve of the layout and batch sweep), the memory wall, and the seed's claims. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "infer.h"

#ifndef SB_LLM_DIR
#define SB_LLM_DIR "models/llms"
#endif
#ifndef SB_LLM_INSTALLED
#define SB_LLM_INSTALLED SB_LLM_DIR
#endif

#define DEFAULT_SYSTEMS "dgx-h200,hgx-b200,gb200-nvl72,gb200-nvl576"
#define DEFAULT_MODEL "gpt-moe-1.8t"

struct infer_args {
    const char *dir, *llm_dir, *systems, *model, *params;
    enum sbm_precision precision;
    double context;
    bool json, csv, all, claims, list, in_domain;
};

static const char usage[] =
    "Usage: sb_model infer [--systems A,B,...] [--model NAME] [--precision P] [--context N]\n"
    "                      [--params FILE] [--all] [--csv | --json] [--llms DIR] [--catalog DIR]\n"
    "       sb_model infer --list-models [--json]\n"
    "       sb_model infer --claims [--model NAME] [--context N] [--params FILE] [--json]\n"
    "  Decode model: per layer a roofline (weights once per micro-batch, KV cache per sequence),\n"
    "  2 TP AllReduces, an EP dispatch + combine all-to-all per MoE layer, pipeline stages;\n"
    "  swept over layouts (tp, ep, pp within the scale-up domain) and batch sizes.\n"
    "  Prints the Pareto curve of tok/s/GPU against tok/s/user per system (--all: every point).\n"
    "  --systems (default " DEFAULT_SYSTEMS "), --model (default " DEFAULT_MODEL "),\n"
    "  --precision native|bf16|fp8|fp4 (weights and tensor-core rate; default native),\n"
    "  --context N: cached tokens per sequence (default 8192),\n"
    "  --params FILE: fitted collectives (sb_model fit --save) replace the catalog's,\n"
    "  --within-domain: the whole replica in one scale-up domain (default: tp and ep inside,\n"
    "    pipeline stages may sit in other domains, hops over the scale-out network),\n"
    "  --claims: the seed's R10-R12 with the model's numbers and a verdict (exit 1 if contradicted).\n";

static int parse_option(int c, struct infer_args *a)
{
    switch (c) {
    case 'C': a->dir = optarg; return 0;
    case 'L': a->llm_dir = optarg; return 0;
    case 's': a->systems = optarg; return 0;
    case 'm': a->model = optarg; return 0;
    case 'p': a->params = optarg; return 0;
    case 'j': a->json = true; return 0;
    case 'v': a->csv = true; return 0;
    case 'a': a->all = true; return 0;
    case 'k': a->claims = true; return 0;
    case 'l': a->list = true; return 0;
    case 'd': a->in_domain = true; return 0;
    case 'P':
        return sbm_precision_parse(optarg, &a->precision) ? sbm_cli_fail("infer: invalid --precision '%s' (native, bf16, fp8, fp4)", optarg) : 0;
    case 'x': {
        int n;
        if (sbm_cli_parse_int(optarg, &n) || n > 10000000)
            return sbm_cli_fail("infer: invalid --context '%s' (tokens, 1 to 10000000)", optarg);
        a->context = n;
        return 0;
    }
    default: return sbm_cli_fail("infer: unknown option '%c'", c);
    }
}

static int parse_args(int argc, char **argv, struct infer_args *a)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"llms", required_argument, NULL, 'L'},
        {"systems", required_argument, NULL, 's'}, {"model", required_argument, NULL, 'm'},
        {"params", required_argument, NULL, 'p'}, {"precision", required_argument, NULL, 'P'},
        {"context", required_argument, NULL, 'x'}, {"json", no_argument, NULL, 'j'},
        {"csv", no_argument, NULL, 'v'}, {"all", no_argument, NULL, 'a'},
        {"claims", no_argument, NULL, 'k'}, {"list-models", no_argument, NULL, 'l'},
        {"within-domain", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct infer_args){.llm_dir = sbm_cli_data_dir(SB_LLM_DIR, SB_LLM_INSTALLED), .systems = DEFAULT_SYSTEMS,
                             .model = DEFAULT_MODEL, .context = 8192};
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        if (c == 'h')
            return fputs(usage, stdout), -1;
        if (c == '?' || c == ':')
            return sbm_cli_fail("infer: unknown option or missing value '%s'", argv[optind - 1]);
        if (parse_option(c, a) != 0)
            return SBM_BAD_INPUT;
    }
    if (optind < argc)
        return sbm_cli_fail("infer: unexpected argument '%s'", argv[optind]);
    if (a->json && a->csv)
        return sbm_cli_fail("infer: give at most one of --json and --csv");
    return 0;
}

/* ---- --list-models ---- */

static int list_models(const struct infer_args *a, const struct sbm_llm_catalog *llms)
{
    const char *id;
    json_t *e;
    if (!a->json)
        printf("%-16s %9s %9s %9s %11s  %s\n", "model", "params_B", "published", "active_B",
               "KV_KB/token", "name");
    json_object_foreach(llms->llms, id, e) {
        struct sbm_llm m;
        struct sbm_error err;
        (void)e;
        if (sbm_llm_resolve(llms, id, &m, &err) != SBM_OK)
            return sbm_cli_report(SBM_BAD_INPUT, &err);
        double total = sbm_llm_total_params(&m) * 1e-9, active = sbm_llm_active_params(&m) * 1e-9;
        double kv = sbm_llm_kv_bytes_per_token_layer(&m) * m.layers;
        if (a->json)
            sbm_cli_print_json(json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:b, s:i, s:i}", "model", id,
                                         "name", m.name, "params_b", total, "published_params_b",
                                         m.published_params_b, "active_params_b", active,
                                         "kv_bytes_per_token", kv, "moe", sbm_llm_is_moe(&m),
                                         "experts", m.experts, "top_k", m.top_k));
        else
            printf("%-16s %9.1f %9.1f %9.1f %11.1f  %s\n", id, total, m.published_params_b, active,
                   kv / 1024, m.name);
    }
    return SBM_OK;
}

/* ---- curve output ---- */

static const char *const csv_fields =
    "system,model,precision,context,tp,ep,pp,gpus,domains,batch,tok_s_per_user,tok_s_per_gpu,"
    "step_ms,compute_ms,memory_ms,tp_comm_ms,ep_comm_ms,pp_comm_ms,pp_bubble,"
    "weights_gbytes_per_gpu,kv_gbytes_per_gpu,memory_wall_gpus,collectives";

static const char *collectives_source(const struct sbm_infer_curve *k)
{
    return k->hw.comm.params ? "fitted" : "catalog";
}

/* Scale-up domains one replica spans. */
static int domains_of(const struct sbm_infer_curve *k, int gpus)
{
    return (gpus + k->hw.domain_gpus - 1) / k->hw.domain_gpus;
}

static json_t *point_json(const struct sbm_infer_curve *k, const char *prec,
                          const struct sbm_infer_point *p)
{
    const struct sbm_step *s = &p->step;
    int gpus = sbm_layout_gpus(&p->layout);
    json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:i, s:i, s:f}", "system", k->sys.id,
                          "model", k->model.id, "precision", prec, "context", k->c.context, "tp",
                          p->layout.tp, "ep", p->layout.ep, "pp", p->layout.pp, "gpus", gpus,
                          "domains", domains_of(k, gpus), "batch", p->batch);
    json_object_set_new(o, "tok_s_per_user", json_real(s->tok_s_per_user));
    json_object_set_new(o, "tok_s_per_gpu", json_real(s->tok_s_per_gpu));
    json_object_set_new(o, "step_ms", json_real(s->step_ms));
    json_object_set_new(o, "compute_ms", json_real(s->compute_ms));
    json_object_set_new(o, "memory_ms", json_real(s->memory_ms));
    json_object_set_new(o, "tp_comm_ms", json_real(s->tp_comm_ms));
    json_object_set_new(o, "ep_comm_ms", json_real(s->ep_comm_ms));
    json_object_set_new(o, "pp_comm_ms", json_real(s->pp_comm_ms));
    json_object_set_new(o, "pp_bubble", json_real(s->pp_bubble));
    json_object_set_new(o, "weights_gbytes_per_gpu", json_real(s->weights_gbytes_per_gpu));
    json_object_set_new(o, "kv_gbytes_per_gpu", json_real(s->kv_gbytes_per_gpu));
    json_object_set_new(o, "memory_wall_gpus", json_integer(k->memory_wall_gpus));
    json_object_set_new(o, "collectives", json_string(collectives_source(k)));
    return o;
}

static void print_point(const struct infer_args *a, const struct sbm_infer_curve *k,
                        const struct sbm_infer_point *p)
{
    const char *prec = sbm_precision_name(a->precision);
    const struct sbm_step *s = &p->step;
    int gpus = sbm_layout_gpus(&p->layout);
    if (a->json) {
        sbm_cli_print_json(point_json(k, prec, p));
    } else if (a->csv) {
        printf("%s,%s,%s,%g,%d,%d,%d,%d,%d,%g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.6g,%.6g,%d,%s\n",
               k->sys.id, k->model.id, prec, k->c.context, p->layout.tp, p->layout.ep, p->layout.pp,
               gpus, domains_of(k, gpus), p->batch, s->tok_s_per_user, s->tok_s_per_gpu,
               s->step_ms, s->compute_ms, s->memory_ms, s->tp_comm_ms, s->ep_comm_ms, s->pp_comm_ms,
               s->pp_bubble, s->weights_gbytes_per_gpu, s->kv_gbytes_per_gpu, k->memory_wall_gpus,
               collectives_source(k));
    } else {
        printf("%10.1f %10.1f %4d %4d %3d %6g %9.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7.1f %7.1f\n",
               s->tok_s_per_user, s->tok_s_per_gpu, p->layout.tp, p->layout.ep, p->layout.pp,
               p->batch, s->step_ms, s->compute_ms, s->memory_ms, s->tp_comm_ms, s->ep_comm_ms,
               s->pp_comm_ms, s->weights_gbytes_per_gpu, s->kv_gbytes_per_gpu);
    }
}

static void print_header(const struct infer_args *a, const struct sbm_infer_curve *k)
{
    const struct sbm_layout *w = &k->memory_wall_layout;
    if (a->json || a->csv)
        return;
    printf("# %s on %s (%d-GPU scale-up domain), %s, context %g; %.0f TFLOPS, %.2f TB/s, %.0f GB per GPU; "
           "collectives: %s\n", k->model.id, k->sys.id, k->hw.domain_gpus,
           sbm_precision_name(a->precision), k->c.context, k->hw.tflops, k->hw.hbm_tbytes_s,
           k->hw.hbm_gbytes, collectives_source(k));
    if (k->memory_wall_gpus)
        printf("# memory wall: weights + KV of one sequence need %d GPUs (tp %d ep %d pp %d, %d domain%s)\n",
               k->memory_wall_gpus, w->tp, w->ep, w->pp, domains_of(k, k->memory_wall_gpus),
               domains_of(k, k->memory_wall_gpus) > 1 ? "s" : "");
    else
        printf("# memory wall: weights + KV of one sequence fit in no layout%s\n",
               a->in_domain ? " inside the domain" : "");
    printf("%10s %10s %4s %4s %3s %6s %9s %8s %8s %8s %8s %8s %7s %7s\n", "tok/s/user",
           "tok/s/GPU", "tp", "ep", "pp", "batch", "step_ms", "compute", "memory", "tp_comm",
           "ep_comm", "pp_comm", "W_GB", "KV_GB");
}

/* Every system, the model and the precision resolve before anything is printed, so bad input
 * leaves stdout empty. */
static int check_inputs(const struct infer_args *a, const struct sbm_infer_setup *s)
{
    char list[512];
    snprintf(list, sizeof list, "%s", a->systems);
    char *save = NULL;
    int n = 0;
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save), n++) {
        struct sbm_system sys;
        struct sbm_llm m;
        struct sbm_infer_hw hw;
        struct sbm_error err;
        if (sbm_system_resolve(s->cat, id, &sys, &err) || sbm_llm_resolve(s->llms, s->model, &m, &err) ||
            sbm_infer_hw_make(s->cat, &sys, s->precision, &m, &hw, &err))
            return sbm_cli_report(SBM_BAD_INPUT, &err);
    }
    return n ? SBM_OK : sbm_cli_fail("infer: --systems is empty");
}

static int run_curves(const struct infer_args *a, const struct sbm_infer_setup *s)
{
    char list[512];
    snprintf(list, sizeof list, "%s", a->systems);
    if (check_inputs(a, s) != SBM_OK)
        return SBM_BAD_INPUT;
    if (a->csv)
        puts(csv_fields);
    char *save = NULL;
    int rc = SBM_OK;
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        struct sbm_infer_curve *k = malloc(sizeof *k);
        struct sbm_error err;
        if (sbm_infer_curve_build(s, id, k, &err) != SBM_OK) {
            free(k);
            return sbm_cli_report(SBM_BAD_INPUT, &err);
        }
        if (k->all.n == 0) { /* no throughput to print: say so, and go on with the others */
            rc = sbm_cli_fail("infer: %s does not fit in the memory of %s (%.0f GB per GPU): no "
                              "layout%s holds its weights and the KV of one sequence of %g tokens",
                              k->model.id, k->sys.id, k->hw.hbm_gbytes,
                              a->in_domain ? " inside the scale-up domain" : "", k->c.context);
            sbm_infer_curve_free(k);
            free(k);
            continue;
        }
        print_header(a, k);
        const struct sbm_infer_points *pts = a->all ? &k->all : &k->front;
        for (size_t i = 0; i < pts->n; i++)
            print_point(a, k, &pts->v[i]);
        if (!a->json && !a->csv)
            printf("\n");
        sbm_infer_curve_free(k);
        free(k);
    }
    return rc;
}

/* ---- --claims ---- */

static int run_claims(const struct infer_args *a, const struct sbm_infer_setup *s)
{
    struct sbm_claim rows[SBM_CLAIMS_MAX];
    struct sbm_error err;
    int n = sbm_infer_claims(s, rows, SBM_CLAIMS_MAX, &err), contradicted = 0;
    if (n < 0)
        return sbm_cli_report(SBM_BAD_INPUT, &err);
    if (!a->json)
        printf("# seed claims R10-R12 on %s, context %g, collectives from %s\n", s->model,
               s->context, s->params ? "fitted parameters" : "the catalog");
    for (int i = 0; i < n; i++) {
        const struct sbm_claim *r = &rows[i];
        contradicted += strcmp(r->verdict, "contradicted") == 0;
        if (a->json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->id, "claim", r->claim,
                                  "unit", r->unit, "verdict", r->verdict, "arithmetic",
                                  r->arithmetic, "model", s->model);
            json_object_set_new(o, "claimed", json_real(r->claimed));
            json_object_set_new(o, "derived", isfinite(r->derived) ? json_real(r->derived) : json_null());
            sbm_cli_print_json(o);
        } else {
            printf("%-8s %-13s %s\n         claimed %.4g %s, model %.4g %s\n         %s\n", r->id,
                   r->verdict, r->claim, r->claimed, r->unit, r->derived, r->unit, r->arithmetic);
        }
    }
    if (!a->json)
        printf("\n# %d claims: %d contradicted by the model\n", n, contradicted);
    return contradicted ? SBM_CHECK_FAILED : SBM_OK;
}

int sbm_cmd_infer(int argc, char **argv)
{
    struct infer_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct sbm_llm_catalog llms;
    struct sbm_error err;
    if (sbm_llm_catalog_load(a.llm_dir, &llms, &err) != SBM_OK)
        return sbm_cli_report(SBM_BAD_INPUT, &err);
    if (a.list) {
        rc = list_models(&a, &llms);
        sbm_llm_catalog_free(&llms);
        return rc;
    }
    struct sbm_catalog cat;
    struct sbm_params params = {0};
    if (sbm_cli_load_catalog(a.dir, &cat) != SBM_OK) {
        sbm_llm_catalog_free(&llms);
        return SBM_BAD_INPUT;
    }
    rc = a.params ? sbm_cli_report(sbm_params_load(a.params, &params, &err), &err) : SBM_OK;
    struct sbm_infer_setup s = {&cat, &llms, a.model, a.precision, a.context,
                                a.params ? &params : NULL, a.in_domain};
    if (rc == SBM_OK)
        rc = a.claims ? run_claims(&a, &s) : run_curves(&a, &s);
    if (a.params)
        sbm_params_free(&params);
    sbm_catalog_free(&cat);
    sbm_llm_catalog_free(&llms);
    return rc;
}
