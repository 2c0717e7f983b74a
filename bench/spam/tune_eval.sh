#!/usr/bin/env bash
# Score gdprkit's filter on the held-out tuning splits (tune_splits.sh) and
# weigh its verdicts against bogofilter's on the same splits, without
# touching any test split. This is how the defaults were chosen (README.md,
# "Issue 16").
#
# Usage: tune_eval.sh [WORK] [spameval flags…]
#   WORK as for make_splits.sh (default ${TMPDIR:-/tmp}/gdprkit-spam).
# Prints, per group of tuning splits (sa-chain for the temporal split,
# sa-cv for the random one, yt-video for the cross-video split, yt-cv for
# the YouTube random one), pooled over its splits: 1−AUC % and FP, FN and
# unsure for gdprkit and for bogofilter, and gdprkit's figures as shares of
# bogofilter's; the last line is the worst share (the goal: at most 1).
# bogofilter's verdicts and scores come from tune_bogofilter.sh, cached in
# WORK/tune/bogofilter.txt and WORK/tune/*/bogofilter.scores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${TMPDIR:-/tmp}/gdprkit-spam
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then WORK=$1; shift; fi
[ -d "$WORK/tune/yt-cv5" ] || { echo "tune_eval.sh: run tune_splits.sh $WORK first" >&2; exit 1; }
[ -s "$WORK/tune/bogofilter.txt" ] && [ -s "$WORK/tune/yt-cv5/bogofilter.scores" ] ||
  "$HERE/tune_bogofilter.sh" "$WORK" > "$WORK/tune/bogofilter.txt"
(cd "$ROOT" && go build -o "$WORK/spameval" ./examples/spameval)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for d in "$WORK"/tune/*/; do
  s=$(basename "$d"); chat=
  case $s in yt-*) chat=-chat;; esac
  "$WORK/spameval" -progress=false $chat -scores "$OUT/$s.scores" "$@" "$d/train.tsv" "$d/test.tsv" > /dev/null
done
# 1-AUC % per group of bogofilter's pooled scores, as "group value" lines.
for f in "$WORK"/tune/*/bogofilter.scores; do
  s=$(basename "$(dirname "$f")"); g=${s%%[0-9]*}
  awk -F'\t' -v g="$g" '{ print g, $1, $2 }' "$f"
done | sort -k1,1 -k3,3g | awk '
  function flush() { if (lastg != "") { bad[lastg] += th * (sp[lastg] + ts / 2); sp[lastg] += ts; hm[lastg] += th }; th = ts = 0 }
  { if ($1 != lastg || $3 != lasts) { flush(); lastg = $1; lasts = $3 }; if ($2 == "ham") th++; else ts++ }
  END { flush(); for (g in hm) printf "%s %.6f\n", g, 100 * bad[g] / (hm[g] * sp[g]) }' > "$OUT/bogo.auc"
# Lines "group label score verdict" for gdprkit; bogofilter's counts per group.
for f in "$OUT"/*.scores; do
  s=$(basename "$f" .scores); g=${s%%[0-9]*}
  awk -F'\t' -v g="$g" '{ print g, $1, $2, $6 }' "$f"
done | sort -k1,1 -k3,3g | awk -v bogo="$WORK/tune/bogofilter.txt" -v bauc="$OUT/bogo.auc" '
  BEGIN {
    while ((getline line < bauc) > 0) { split(line, f, " "); ba[f[1]] = f[2] }
    while ((getline line < bogo) > 0) {
      n = split(line, f, " "); g = f[1]; sub(/[0-9]+$/, "", g)
      for (i = 2; i <= n; i++) { split(f[i], kv, "=")
        if (kv[1] == "ham:Spam") bfp[g] += kv[2]
        if (kv[1] == "spam:Ham") bfn[g] += kv[2]
        if (kv[1] ~ /:Unsure$/) bu[g] += kv[2] }
    }
  }
  { g = $1; groups[g] = 1
    if ($4 == "unsure") u[g]++
    if ($2 == "ham" && $4 == "spam") fp[g]++
    if ($2 == "spam" && $4 == "ham") fn[g]++
    # 1-AUC: scores arrive sorted within a group; ties count half.
    if (g != lastg || $3 != lasts) { flush(); lastg = g; lasts = $3 }
    if ($2 == "ham") th++; else ts++ }
  function flush() { if (lastg != "") { bad[lastg] += th * (sp[lastg] + ts / 2); sp[lastg] += ts; hm[lastg] += th }; th = ts = 0 }
  function share(o, b) { return o == 0 ? 0 : (b == 0 ? 99 : o / b) }
  END {
    flush(); worst = 0
    printf "%-9s %-15s %-15s %-17s %s\n", "group", "1-AUC % gdprkit", "bogofilter", "FP/FN/U gdprkit", "bogofilter  gdprkit over bogofilter: 1-AUC FP FN U"
    n = split("sa-chain sa-cv yt-video yt-cv", order, " ")
    for (i = 1; i <= n; i++) { g = order[i]; ga = 100 * bad[g] / (hm[g] * sp[g])
      a = share(fp[g], bfp[g]); b = share(fn[g], bfn[g]); c = share(u[g], bu[g]); d = share(ga, ba[g])
      worst = a > worst ? a : worst; worst = b > worst ? b : worst; worst = c > worst ? c : worst; worst = d > worst ? d : worst
      printf "%-9s %-15.3f %-15.3f %-17s %-11s %.2f %.2f %.2f %.2f\n", g, ga, ba[g],
        sprintf("%d/%d/%d", fp[g], fn[g], u[g]), sprintf("%d/%d/%d", bfp[g], bfn[g], bu[g]), d, a, b, c }
    printf "worst share %.3f\n", worst
  }'
