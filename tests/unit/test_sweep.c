/* The size sweep: ranges, lists, rounding to whole elements (per peer), and the notes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sweep.h"

/* A collective that exchanges blocks per peer, like all-to-all. */
static size_t per_peer(int ranks) { return (size_t)ranks; }
static size_t whole(int ranks) { (void)ranks; return 1; }
static void layout(size_t count, int ranks, struct sb_layout *out)
{
    *out = (struct sb_layout){count, count / (size_t)ranks, count, count};
}
static const struct sb_collective blocks = {.name = "blocks", .granule = per_peer, .layout = layout};
static const struct sb_collective vector = {.name = "vector", .granule = whole, .layout = layout};

static struct sb_options base(void)
{
    struct sb_options o;
    char err[64];
    char *argv[] = {"t"};
    sb_options_parse(&o, true, 1, argv, err, sizeof err);
    return o;
}

static void range_by_factor(void **state)
{
    (void)state;
    struct sb_options o = base();
    o.min_bytes = 8;
    o.max_bytes = 1024;
    o.step_factor = 4;
    struct sb_size s[32];
    char notes[1024];
    size_t n = sb_sweep_build(&o, &vector, 4, 2, s, 32, notes, sizeof notes);
    assert_int_equal(n, 4); /* 8, 32, 128, 512 */
    assert_int_equal(s[3].bytes, 512);
    assert_int_equal(s[3].layout.count, 128);
    assert_string_equal(notes, "");
}

static void range_by_increment(void **state)
{
    (void)state;
    struct sb_options o = base();
    o.min_bytes = 1000;
    o.max_bytes = 4000;
    o.step_bytes = 1000;
    struct sb_size s[32];
    char notes[1024];
    assert_int_equal(sb_sweep_build(&o, &vector, 8, 2, s, 32, notes, sizeof notes), 4);
    assert_int_equal(s[1].bytes, 2000);
}

/* More notes than the buffer holds: the ones left out are counted, not lost without a word. */
static void notes_left_out_are_counted(void **state)
{
    (void)state;
    struct sb_options o = base();
    o.min_bytes = 3;
    o.max_bytes = 3 + 8 * 99;
    o.step_bytes = 8; /* 100 sizes, none a whole number of 8-byte elements */
    struct sb_size s[128];
    char notes[1024];
    assert_int_equal(sb_sweep_build(&o, &vector, 8, 2, s, 128, notes, sizeof notes), 99);
    assert_true(strlen(notes) < sizeof notes);
    const char *tail = strstr(notes, "more size notes like the above left out");
    assert_non_null(tail);
    assert_string_equal(tail + strlen("more size notes like the above left out"), "\n");
}

static void rounding_is_reported(void **state)
{
    (void)state;
    struct sb_options o = base();
    o.n_sizes = 3;
    o.sizes[0] = 2;   /* less than one 4-byte element per peer on 3 ranks: skipped */
    o.sizes[1] = 100; /* 3 ranks x 4 bytes = 12-byte granule: 96 bytes */
    o.sizes[2] = 96;  /* the same after rounding: skipped */
    struct sb_size s[8];
    char notes[1024];
    size_t n = sb_sweep_build(&o, &blocks, 4, 3, s, 8, notes, sizeof notes);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].requested, 100);
    assert_int_equal(s[0].bytes, 96);
    assert_int_equal(s[0].layout.count_per_peer, 8);
    assert_non_null(strstr(notes, "size 2 skipped"));
    assert_non_null(strstr(notes, "size 100 rounded down to 96 bytes"));
    assert_non_null(strstr(notes, "size 96 skipped"));
}

/* --sizes with a size twice, apart or rounded to one measured before: each point once (only a
 * repeat right after the first was skipped; 8,1K,8 measured 8 twice). */
static void duplicates_are_measured_once(void **state)
{
    (void)state;
    struct sb_options o = base();
    size_t list[] = {100, 8, 100, 1024, 99, 8};
    o.n_sizes = sizeof list / sizeof *list;
    memcpy(o.sizes, list, sizeof list);
    struct sb_size s[8];
    char notes[1024];
    size_t n = sb_sweep_build(&o, &vector, 4, 2, s, 8, notes, sizeof notes);
    assert_int_equal(n, 4); /* 100, 8, 1024, and 99 -> 96 */
    assert_int_equal(s[0].bytes, 100);
    assert_int_equal(s[1].bytes, 8);
    assert_int_equal(s[2].bytes, 1024);
    assert_int_equal(s[3].bytes, 96);
    assert_non_null(strstr(notes, "size 100 skipped: measured already"));
    assert_non_null(strstr(notes, "size 8 skipped: measured already"));
    o.sizes[4] = 98; /* 98 -> 96 rounds down to a size measured already when 99 came first */
    o.sizes[5] = 99;
    n = sb_sweep_build(&o, &vector, 4, 2, s, 8, notes, sizeof notes);
    assert_int_equal(n, 4);
    assert_non_null(strstr(notes, "size 99 skipped: rounds down to 96 bytes, measured already"));
}

static void footprint_counts_both_buffers(void **state)
{
    (void)state;
    struct sb_size s = {.bytes = 1024, .layout = {256, 256, 256, 256}};
    assert_int_equal(sb_sweep_footprint(&s, 4), 2048);
    /* both buffers are allocated at the larger one's size (allgather: recv = ranks x send) */
    struct sb_size g = {.bytes = 4096, .layout = {.count = 1024, .count_per_peer = 256, .send_count = 256,
                                                  .recv_count = 1024}};
    assert_int_equal(sb_sweep_footprint(&g, 4), 8192);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_by_factor),
        cmocka_unit_test(range_by_increment),
        cmocka_unit_test(rounding_is_reported),
        cmocka_unit_test(notes_left_out_are_counted),
        cmocka_unit_test(duplicates_are_measured_once),
        cmocka_unit_test(footprint_counts_both_buffers),
    };
    return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
