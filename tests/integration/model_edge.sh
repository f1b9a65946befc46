#!/bin/sh
# sb_model and sb_compare on unusual but valid input: the numbers must still be the right ones.
. "$(dirname "$0")/lib.sh"
M="$top_builddir/models/sb_model"

# pairs: the member count is the highest member number on either side of a record (sb_pairs
# writes each pair once, member < peer_member: the last member is only ever a peer).
printf '{"type":"result","collective":"pairs","level":"node","member":0,"peer_member":1,"host":"a","peer_host":"b","bytes":8,"bidir_gbps":1,"time_us":{"median":3}}\n' >"$TMP/pair2.jsonl"
"$M" pairs "$TMP/pair2.jsonl" --json >"$TMP/pair2.out" 2>"$TMP/err"; rc=$?
check "pairs with 2 members, one record (0, 1): exit 0 (got $rc), members a and b, 2x2 matrices" \
  jqs '.[0].members == ["a", "b"] and (.[0].bandwidth_gbps | length) == 2 and .[0].bandwidth_gbps[0][1] == 1' "$TMP/pair2.out"
done_testing
