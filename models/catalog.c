#include "catalog.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sbm_catalog_section_names[SBM_CATALOG_SECTIONS] = {
    "gpus", "switches", "nics", "media", "efficiencies", "latencies", "systems",
};

static int section_index(const char *name)
{
    for (int i = 0; i < SBM_CATALOG_SECTIONS; i++)
        if (strcmp(sbm_catalog_section_names[i], name) == 0)
            return i;
    return -1;
}

/* Every number must sit in an object that also has a "source" string. */
static int check_sources(json_t *node, const char *path, const char *file, struct sbm_error *err)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (json_is_number(v))
                return sbm_error_set(err, "%s: %s: number without a source", file, sub);
            if (check_sources(v, sub, file, err))
                return SBM_BAD_INPUT;
        }
        return SBM_OK;
    }
    if (!json_is_object(node))
        return SBM_OK;
    bool sourced = json_is_string(json_object_get(node, "source"));
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (json_is_number(v) && !sourced)
            return sbm_error_set(err, "%s: %s: number without a source", file, sub);
        if (check_sources(v, sub, file, err))
            return SBM_BAD_INPUT;
    }
    return SBM_OK;
}

/* The fields each kind of entry may have: a misspelt optional field ("l2_swtich") would
 * otherwise be ignored and its default used without a word. */
static const char *const known_fields[SBM_CATALOG_SECTIONS] = {
    " name hbm_gbytes hbm_tbytes_s dense_tflops_bf16 dense_tflops_fp8 dense_tflops_fp4"
    " nvlink_generation links link_gbytes_s ",
    " name ports port_gbit_s chips_per_tray in_switch_reduction ",
    " name rate_gbit_s ",
    " name reach_m order ",
    " name value source ",
    " name value source ",
    " name gpu gpus_per_node scale_up scale_out ",
};
static const char scale_up_fields[] = " domain_gpus tiers switch l2_switch tier1_length_m"
    " tier2_length_m link_efficiency nvls_efficiency launch step nvls_step ";
static const char scale_out_fields[] = " nic nics_per_gpu switch efficiency step tier1_length_m"
    " upper_length_m ";

static int check_fields(json_t *obj, const char *known, const char *file, const char *path,
                        struct sbm_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char word[128];
        snprintf(word, sizeof word, " %s ", key);
        if (!strstr(known, word))
            return sbm_error_set(err, "%s: %s: unknown field '%s' (known:%.*s)", file, path, key,
                                 (int)strlen(known) - 1, known);
    }
    return SBM_OK;
}

static int check_entry_fields(int idx, const char *name, json_t *entry, const char *file,
                              struct sbm_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "%s.%s", sbm_catalog_section_names[idx], name);
    if (check_fields(entry, known_fields[idx], file, path, err))
        return SBM_BAD_INPUT;
    if (strcmp(sbm_catalog_section_names[idx], "systems") != 0)
        return SBM_OK;
    static const char *const parts[] = {"scale_up", "scale_out"};
    static const char *const part_fields[] = {scale_up_fields, scale_out_fields};
    for (int i = 0; i < 2; i++) {
        json_t *part = json_object_get(entry, parts[i]);
        char sub[300];
        snprintf(sub, sizeof sub, "%s.%s", path, parts[i]);
        if (json_is_object(part) && check_fields(part, part_fields[i], file, sub, err))
            return SBM_BAD_INPUT;
    }
    return SBM_OK;
}

static int merge_section(struct sbm_catalog *cat, int idx, json_t *entries, const char *file,
                         struct sbm_error *err)
{
    if (!json_is_object(entries))
        return sbm_error_set(err, "%s: section '%s' is not an object", file,
                             sbm_catalog_section_names[idx]);
    const char *name;
    json_t *entry;
    json_object_foreach(entries, name, entry) {
        if (!json_is_object(entry))
            return sbm_error_set(err, "%s: %s.%s is not an object", file,
                                 sbm_catalog_section_names[idx], name);
        if (check_entry_fields(idx, name, entry, file, err))
            return SBM_BAD_INPUT;
        if (json_object_get(cat->section[idx], name))
            return sbm_error_set(err, "%s: %s '%s' is defined twice in the catalog", file,
                                 sbm_catalog_section_names[idx], name);
        json_object_set(cat->section[idx], name, entry);
    }
    return SBM_OK;
}

static int load_file(struct sbm_catalog *cat, const char *path, struct sbm_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return sbm_error_set(err, "%s:%d: invalid JSON: %s", path, jerr.line, jerr.text);
    int rc = SBM_OK;
    if (!json_is_object(root))
        rc = sbm_error_set(err, "%s: the catalog file is not a JSON object", path);
    if (rc == SBM_OK)
        rc = check_sources(root, "", path, err);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (rc != SBM_OK)
            break;
        int idx = section_index(key);
        if (idx >= 0)
            rc = merge_section(cat, idx, v, path, err);
        else if (strcmp(key, "about") != 0)
            rc = sbm_error_set(err, "%s: unknown catalog section '%s'", path, key);
    }
    json_decref(root);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names of DIR, sorted; the caller frees each and the array. */
static int list_json_files(const char *dir, char ***names, size_t *n, struct sbm_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sbm_error_set(err, "cannot open catalog directory '%s'", dir);
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *names = realloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, compare_names);
    return *n ? SBM_OK : sbm_error_set(err, "catalog directory '%s' has no *.json file", dir);
}

int sbm_catalog_load(const char *dir, struct sbm_catalog *cat, struct sbm_error *err)
{
    memset(cat, 0, sizeof *cat);
    snprintf(cat->dir, sizeof cat->dir, "%s", dir);
    for (int i = 0; i < SBM_CATALOG_SECTIONS; i++)
        cat->section[i] = json_object();
    char **names = NULL;
    size_t n = 0;
    int rc = list_json_files(dir, &names, &n, err);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == SBM_OK)
            rc = load_file(cat, path, err);
        free(names[i]);
    }
    free(names);
    if (rc != SBM_OK)
        sbm_catalog_free(cat);
    return rc;
}

void sbm_catalog_free(struct sbm_catalog *cat)
{
    for (int i = 0; i < SBM_CATALOG_SECTIONS; i++) {
        json_decref(cat->section[i]);
        cat->section[i] = NULL;
    }
}

json_t *sbm_catalog_section(const struct sbm_catalog *cat, const char *section)
{
    int idx = section_index(section);
    return idx < 0 ? NULL : cat->section[idx];
}

json_t *sbm_catalog_entry(const struct sbm_catalog *cat, const char *section, const char *name)
{
    json_t *s = sbm_catalog_section(cat, section);
    return s && name ? json_object_get(s, name) : NULL;
}

int sbm_sourced_number(json_t *obj, const char *key, const char *owner, double *value,
                       const char **source, struct sbm_error *err)
{
    json_t *n = json_object_get(obj, key);
    json_t *v = json_object_get(n, "value");
    json_t *s = json_object_get(n, "source");
    if (!json_is_number(v) || !json_is_string(s))
        return sbm_error_set(err, "catalog: %s lacks '%s' as {\"value\": N, \"source\": \"...\"}",
                             owner, key);
    *value = json_number_value(v);
    if (source)
        *source = json_string_value(s);
    return SBM_OK;
}

int sbm_catalog_parameter(const struct sbm_catalog *cat, const char *section, const char *name,
                          double *value, const char **source, struct sbm_error *err)
{
    json_t *e = sbm_catalog_entry(cat, section, name);
    json_t *v = json_object_get(e, "value");
    json_t *s = json_object_get(e, "source");
    if (!json_is_number(v) || !json_is_string(s))
        return sbm_error_set(err, "catalog: %s '%s' not found (or lacks value and source)",
                             section, name ? name : "(none)");
    *value = json_number_value(v);
    if (source)
        *source = json_string_value(s);
    return SBM_OK;
}
