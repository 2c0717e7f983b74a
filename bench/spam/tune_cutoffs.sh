#!/usr/bin/env bash
# Score gdprkit's filter on the twelve held-out tuning splits (made by
# tune_splits.sh) and weigh cutoff pairs against the unsure limit, without
# touching the test splits. This is how the defaults' cutoffs were chosen
# (see README.md).
#
# Usage: tune_cutoffs.sh [WORK] [spameval flags…]
#   WORK as for make_splits.sh (default ${TMPDIR:-/tmp}/gdprkit-spam);
#   CUTOFFS="ham/spam …" lists the pairs to weigh (default below); HAM_VETO
#   is the veto's significance level (default 0.01, as Config.HamVeto).
# Prints 1−AUC % per split group (scores pooled over the group's splits),
# then per cutoff pair: FP, FN and unsure pooled over all twelve splits and
# the worst split's unsure verdicts as a share of bogofilter's (the goal is
# at most 0.5; the defaults keep 0.45). bogofilter's verdicts come from
# tune_bogofilter.sh, cached in WORK/tune/bogofilter.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${TMPDIR:-/tmp}/gdprkit-spam
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then WORK=$1; shift; fi
CUTOFFS=${CUTOFFS:-"0.48/0.70 0.49/0.70 0.50/0.70 0.49/0.80 0.49/0.90"}
HAM_VETO=${HAM_VETO:-0.01}
SPLITS="random tempo tempo30 chain2 chain3 chain4 chain5 cv1 cv2 cv3 cv4 cv5"
[ -d "$WORK/tune/cv5" ] || { echo "tune_cutoffs.sh: run tune_splits.sh $WORK first" >&2; exit 1; }
[ -s "$WORK/tune/bogofilter.txt" ] || "$HERE/tune_bogofilter.sh" "$WORK" > "$WORK/tune/bogofilter.txt"
(cd "$ROOT" && go build -o "$WORK/spameval" ./examples/spameval)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for s in $SPLITS; do
  "$WORK/spameval" -scores "$OUT/$s.scores" "$@" "$WORK/tune/$s/train.tsv" "$WORK/tune/$s/test.tsv" > /dev/null
done

# auc FILES…: 1−AUC % of the pooled "label<TAB>score…" lines (ties half).
auc() {
  cat "$@" | sort -t$'\t' -k2,2g | awk -F'\t' '
    function flush() { bad += th * (spam + ts / 2); spam += ts; ham += th; th = ts = 0 }
    NR > 1 && $2 != last { flush() }
    { last = $2; if ($1 == "ham") th++; else ts++ }
    END { flush(); printf "%.3f", 100 * bad / (ham * spam) }'
}
printf '1-AUC %%:'
printf ' random %s' "$(auc "$OUT/random.scores")"
printf ' tempo %s' "$(auc "$OUT/tempo.scores")"
printf ' tempo30 %s' "$(auc "$OUT/tempo30.scores")"
printf ' chain %s' "$(auc "$OUT"/chain?.scores)"
printf ' cv %s\n' "$(auc "$OUT"/cv?.scores)"

# Unsure verdicts per split: bogofilter's, then gdprkit's per cutoff pair.
for s in $SPLITS; do awk -v s="$s" -F'\t' '{ print s "\t" $0 }' "$OUT/$s.scores"; done |
  awk -F'\t' -v cutoffs="$CUTOFFS" -v veto="$HAM_VETO" -v bogo="$WORK/tune/bogofilter.txt" '
    BEGIN {
      while ((getline line < bogo) > 0) {
        n = split(line, f, " ")
        for (i = 2; i <= n; i++) if (f[i] ~ /:Unsure=/) { split(f[i], kv, "="); bu[f[1]] += kv[2] }
      }
      np = split(cutoffs, pairs, " ")
      sig = -log(veto) / log(10)
    }
    { split_[NR] = $1; label[NR] = $2; score[NR] = $3; hsig[NR] = $5; names[$1] = 1 }
    END {
      printf "%-11s %4s %5s %7s  %s\n", "ham/spam", "FP", "FN", "unsure", "worst split unsure / bogofilter unsure"
      for (p = 1; p <= np; p++) {
        split(pairs[p], hs, "/"); hc = hs[1] + 0; sc = hs[2] + 0
        fp = fn = un = 0; delete u
        for (i = 1; i <= NR; i++) {
          x = score[i] + 0
          if (x < hc) v = "ham"
          else if (x >= sc && !(veto > 0 && hsig[i] + 0 > sig)) v = "spam"
          else v = "unsure"
          if (v == "unsure") { un++; u[split_[i]]++ }
          if (v == "spam" && label[i] == "ham") fp++
          if (v == "ham" && label[i] == "spam") fn++
        }
        worst = 0; ws = ""
        for (s in names) if (bu[s] > 0 && u[s] / bu[s] > worst) { worst = u[s] / bu[s]; ws = s }
        printf "%-11s %4d %5d %7d  %.3f (%s)\n", pairs[p], fp, fn, un, worst, ws
      }
    }'
