// Command spameval trains gdprkit's spam filter on one labelled set of
// messages and tests it on another, then prints the error rates, the area
// over the ROC curve, throughput and peak memory.
//
// Usage:
//
//	spameval [flags] TRAIN.tsv TEST.tsv
//
// Each file holds lines "ham<TAB>path" or "spam<TAB>path"; each path is a
// raw RFC 5322 message. The SpamAssassin-corpus splits used for the
// benchmark are made by bench/spam/make_splits.sh (see bench/spam/README.md).
//
// With -chat each file is read as the plain text of a chat message
// (spam.Chat) instead of an e-mail: the short-message splits (YouTube
// comments, bench/spam/youtube_splits.sh) are read this way, as a helpdesk
// classifies chat lines and contact-form notes.
//
// Rates: FP is ham called spam over all ham; FN is spam called ham over all
// spam (unsure verdicts count in neither); 1−AUC is the probability that a
// random ham scores at least as spammy as a random spam (ties count half),
// in percent. Every count is also reported per length band of the test
// messages, by the number of distinct tokens the filter read from each
// (Result.Tokens): at most 20 (a chat line), 21 to 200, more than 200. Throughput is messages per second in process, reading each
// message file included (on Linux with open, read and close into a buffer
// each goroutine reuses; with -mbox from memory, and a chat message
// without its "From " separator line); classification runs on -workers
// goroutines. Peak
// memory is the process's maximum resident set size. With -sqlite the model
// is kept in a SQLite file through store/sqlstore (one transaction per
// training batch) instead of in memory. With -explain N it also prints, to
// stderr, the strongest clues of the N test ham scored spammiest and the N
// test spam scored hammiest: the errors to study when tuning (on the tuning
// splits only, see bench/spam/README.md).
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/sqlstore"

	_ "modernc.org/sqlite" // the embedded SQLite driver, for -sqlite
)

type item struct {
	class spam.Class
	path  string
	raw   []byte // the message, when read from an mbox (-mbox)
}

// read returns the item's message: its file's bytes, or the mbox's.
func (it item) read() ([]byte, error) {
	if it.raw != nil {
		return it.raw, nil
	}
	return os.ReadFile(it.path)
}

// readBuf is read into buf, which the bytes returned share: valid until
// the next call with the same buf (one per classifying goroutine).
func (it item) readBuf(buf *[]byte) ([]byte, error) {
	if it.raw != nil {
		return it.raw, nil
	}
	return readInto(it.path, buf)
}

// pathError is a failed read of a message file.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// Band is one length band's counts.
type Band struct {
	// Name is "<=20", "21-200" or ">200" (distinct tokens).
	Name string `json:"band"`
	// Ham and Spam count the band's test messages of each class.
	Ham  int `json:"ham"`
	Spam int `json:"spam"`
	// FP counts ham called spam, FN spam called ham.
	FP int `json:"fp"`
	FN int `json:"fn"`
	// UnsureHam and UnsureSpam count the unsure verdicts of each class.
	UnsureHam  int `json:"unsure_ham"`
	UnsureSpam int `json:"unsure_spam"`
	// OneMinusAUC is nil when the band lacks ham or spam.
	OneMinusAUC *float64 `json:"one_minus_auc_percent"`
}

// bands are the length bands, by the distinct tokens a message held.
var bands = []struct {
	name     string
	min, max int
}{{"<=20", 0, 20}, {"21-200", 21, 200}, {">200", 201, int(^uint(0) >> 1)}}

func bandOf(tokens int) int {
	for i, b := range bands {
		if tokens >= b.min && tokens <= b.max {
			return i
		}
	}
	return len(bands) - 1
}

// Report is what spameval prints.
type Report struct {
	Train         int     `json:"train_messages"`
	TestHam       int     `json:"test_ham"`
	TestSpam      int     `json:"test_spam"`
	FPPercent     float64 `json:"fp_percent"`
	FNPercent     float64 `json:"fn_percent"`
	FP            int     `json:"fp"`
	FN            int     `json:"fn"`
	UnsureHam     int     `json:"unsure_ham"`
	UnsureSpam    int     `json:"unsure_spam"`
	HamVetoed     int     `json:"ham_vetoed"`
	OneMinusAUC   float64 `json:"one_minus_auc_percent"`
	TrainPerSec   float64 `json:"train_msgs_per_sec"`
	ClassifyPerSc float64 `json:"classify_msgs_per_sec"`
	Workers       int     `json:"classify_workers"`
	// ClassifyPerCPUSec is messages classified per CPU second the process
	// spent classifying (all threads, the garbage collector's included):
	// throughput per core, much less disturbed by other load on the
	// machine than the wall-clock rate. 0 where not measured.
	ClassifyPerCPUSec float64 `json:"classify_msgs_per_cpu_sec"`
	ModelTokens       int     `json:"model_tokens"`
	PeakRSSMiB        float64 `json:"peak_rss_mib"`
	Profile           string  `json:"profile"`
	Bands             []Band  `json:"bands"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "spameval:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("spameval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	batch := fs.Int("batch", 100, "messages per training batch")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "classify goroutines")
	var cfg spam.Config
	fs.Float64Var(&cfg.Strength, "s", 0, "Robinson strength s (0: default)")
	fs.Float64Var(&cfg.Prior, "x", 0, "Robinson prior x (0: default)")
	fs.Float64Var(&cfg.MinDeviation, "mindev", 0, "minimum deviation from 0.5 (0: default)")
	fs.Float64Var(&cfg.EffectiveSize, "esf", 0, "effective size factor (0: default)")
	fs.Float64Var(&cfg.Attestation, "attestation", 0, "messages that make a token count half a clue (0: default)")
	fs.Float64Var(&cfg.EvidenceScale, "evidence-scale", 0, "nats of evidence for 63% confidence (0: default, negative: off)")
	fs.Float64Var(&cfg.SpamVeto, "spam-veto", 0, "spam veto significance level (0: default, negative: off)")
	fs.IntVar(&cfg.MinSpamClues, "min-spam-clues", 0, "clues a spam verdict needs (0: default, negative: none)")
	fs.IntVar(&cfg.MinHamClues, "min-ham-clues", 0, "clues a ham verdict needs (0: default, negative: none)")
	fs.Float64Var(&cfg.MinSpamWeight, "min-spam-weight", 0, "weight of clues a spam verdict needs (0: default, negative: none)")
	profile := fs.String("profile", "balanced", "verdict rules: balanced or cautious")
	fs.IntVar(&cfg.MaxClues, "maxclues", 0, "clues combined (0: all)")
	fs.Float64Var(&cfg.HamVeto, "ham-veto", 0, "ham veto significance level (0: default, negative: off)")
	fs.IntVar(&cfg.MaxTokens, "maxtokens", 0, "tokens kept in the model before pruning (0: default)")
	fs.Float64Var(&cfg.HamCutoff, "ham-cutoff", 0, "ham cutoff (0: default)")
	fs.Float64Var(&cfg.SpamCutoff, "spam-cutoff", 0, "spam cutoff (0: default)")
	fs.BoolVar(&cfg.TrainOnError, "train-on-error", false, "train only messages the model gets wrong or is unsure of")
	scoresOut := fs.String("scores", "", "also write one line per test message to this file: label, score, path, ham and spam significance, verdict, ham and spam clues, tokens (tab-separated)")
	sqlitePath := fs.String("sqlite", "", "keep the model in this SQLite file (through store/sqlstore) instead of in memory")
	explain := fs.Int("explain", 0, "print the strongest clues of the N test ham scored spammiest and the N test spam scored hammiest (to stderr)")
	progress := fs.Bool("progress", isTerminal(os.Stderr), "show progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the classify phase to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile (whole run) to this file")
	chat := fs.Bool("chat", false, "read each file as the plain text of a chat message (spam.Chat), not as an e-mail")
	mbox := fs.Bool("mbox", false, "TEST is an mbox (messages after lines that start with \"From \"), for throughput: every message counts as ham")
	dump := fs.String("dump", "", "write every test message's known tokens with their counts to this file (for offline tuning)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: spameval [flags] TRAIN.tsv TEST.tsv")
	}
	switch *profile {
	case "balanced":
		cfg.Profile = spam.Balanced
	case "cautious":
		cfg.Profile = spam.Cautious
	default:
		return fmt.Errorf("-profile %q: want balanced or cautious", *profile)
	}
	train, err := readSplit(fs.Arg(0))
	if err != nil {
		return err
	}
	var test []item
	if *mbox {
		test, err = readMbox(fs.Arg(1), *chat)
	} else {
		test, err = readSplit(fs.Arg(1))
	}
	if err != nil {
		return err
	}
	cfg.Key = []byte("spameval fixed demo key 16+bytes")
	cfg.Refresh = -1
	ctx := context.Background()
	var st spam.Store = memstore.New().Spam()
	if *sqlitePath != "" {
		db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(*sqlitePath))
		if err != nil {
			return err
		}
		defer db.Close()
		s, err := sqlstore.New(db, sqlstore.SQLite)
		if err != nil {
			return err
		}
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		st = s.Spam()
	}
	cfg.Store = st
	f, err := spam.New(cfg)
	if err != nil {
		return err
	}
	acct := gdprkit.AccountID("spameval")
	prog := func(phase string, done, total int) {
		if *progress {
			fmt.Fprintf(stderr, "\r%s %d/%d", phase, done, total)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}

	// Train.
	start := time.Now()
	var ex []spam.Example
	for i, it := range train {
		raw, err := os.ReadFile(it.path)
		if err != nil {
			return err
		}
		ex = append(ex, spam.Example{ID: it.path, Message: asMessage(raw, *chat), Class: it.class})
		if len(ex) == *batch || i == len(train)-1 {
			if _, err := f.TrainBatch(ctx, acct, ex); err != nil {
				return fmt.Errorf("train: %w", err)
			}
			ex = ex[:0]
			prog("training", i+1, len(train))
		}
	}
	trainDur := time.Since(start)

	// Test.
	results := make([]spam.Result, len(test))
	var next, done, vetoed atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, *workers)
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	start = time.Now()
	cpu0 := cpuSeconds()
	for w := 0; w < max(1, *workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(test) {
					return
				}
				raw, err := test[i].readBuf(&buf)
				if err != nil {
					errc <- err
					return
				}
				r, err := f.Classify(ctx, acct, asMessage(raw, *chat))
				if err != nil {
					errc <- err
					return
				}
				results[i] = r
				if r.HamVetoed {
					vetoed.Add(1)
				}
				if d := done.Add(1); d%200 == 0 || int(d) == len(test) {
					prog("testing", int(d), len(test))
				}
			}
		}()
	}
	wg.Wait()
	testDur := time.Since(start)
	testCPU := cpuSeconds() - cpu0
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	select {
	case err := <-errc:
		return err
	default:
	}

	stats, err := f.Stats(ctx, acct)
	if err != nil {
		return err
	}
	if *memProfile != "" {
		pf, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.Lookup("allocs").WriteTo(pf, 0); err != nil {
			return err
		}
	}
	rep := Report{Train: len(train), Workers: max(1, *workers), ModelTokens: stats.Tokens,
		TrainPerSec: float64(len(train)) / trainDur.Seconds(), ClassifyPerSc: float64(len(test)) / testDur.Seconds()}
	rep.Profile = cfg.Profile.String()
	if testCPU > 0 {
		rep.ClassifyPerCPUSec = float64(len(test)) / testCPU
	}
	var hamScores, spamScores []float64
	bandScores := make([][2][]float64, len(bands))
	rep.Bands = make([]Band, len(bands))
	for i, b := range bands {
		rep.Bands[i].Name = b.name
	}
	scores := make([]float64, len(test))
	for i, it := range test {
		r := results[i]
		scores[i] = r.Score
		b := &rep.Bands[bandOf(r.Tokens)]
		bs := &bandScores[bandOf(r.Tokens)]
		if it.class == spam.Ham {
			rep.TestHam++
			b.Ham++
			hamScores = append(hamScores, r.Score)
			bs[0] = append(bs[0], r.Score)
			switch r.Verdict {
			case spam.VerdictSpam:
				rep.FP++
				b.FP++
			case spam.VerdictUnsure:
				rep.UnsureHam++
				b.UnsureHam++
			}
		} else {
			rep.TestSpam++
			b.Spam++
			spamScores = append(spamScores, r.Score)
			bs[1] = append(bs[1], r.Score)
			switch r.Verdict {
			case spam.VerdictHam:
				rep.FN++
				b.FN++
			case spam.VerdictUnsure:
				rep.UnsureSpam++
				b.UnsureSpam++
			}
		}
	}
	for i := range rep.Bands {
		if len(bandScores[i][0]) > 0 && len(bandScores[i][1]) > 0 {
			v := 100 * (1 - auc(bandScores[i][0], bandScores[i][1]))
			rep.Bands[i].OneMinusAUC = &v
		}
	}
	if rep.TestHam > 0 {
		rep.FPPercent = 100 * float64(rep.FP) / float64(rep.TestHam)
	}
	if rep.TestSpam > 0 {
		rep.FNPercent = 100 * float64(rep.FN) / float64(rep.TestSpam)
	}
	rep.HamVetoed = int(vetoed.Load())
	rep.OneMinusAUC = 100 * (1 - auc(hamScores, spamScores))
	rep.PeakRSSMiB = peakRSSMiB()
	if *scoresOut != "" {
		var b strings.Builder
		for i, it := range test {
			r := results[i]
			fmt.Fprintf(&b, "%s\t%.17g\t%s\t%.6g\t%.6g\t%s\t%d\t%d\t%d\n", it.class, r.Score, it.path,
				r.HamSignificance, r.SpamSignificance, r.Verdict, r.HamClues, r.SpamClues, r.Tokens)
		}
		if err := os.WriteFile(*scoresOut, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if *dump != "" {
		if err := dumpTokens(ctx, st, cfg, acct, test, *chat, *dump); err != nil {
			return err
		}
	}
	if *explain > 0 {
		if err := explainWorst(ctx, f, acct, test, scores, *explain, *chat, stderr); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "trained      %d messages, %d tokens in model\n", rep.Train, rep.ModelTokens)
	fmt.Fprintf(stdout, "tested       %d ham, %d spam\n", rep.TestHam, rep.TestSpam)
	fmt.Fprintf(stdout, "FP (ham→spam) %.3f %% (%d)\n", rep.FPPercent, rep.FP)
	fmt.Fprintf(stdout, "FN (spam→ham) %.3f %% (%d)\n", rep.FNPercent, rep.FN)
	fmt.Fprintf(stdout, "unsure       %d ham, %d spam (%d; %d of them held back by the ham veto)\n", rep.UnsureHam, rep.UnsureSpam, rep.UnsureHam+rep.UnsureSpam, rep.HamVetoed)
	fmt.Fprintf(stdout, "1-AUC        %.3f %%\n", rep.OneMinusAUC)
	fmt.Fprintf(stdout, "train        %.0f msg/s\n", rep.TrainPerSec)
	fmt.Fprintf(stdout, "classify     %.0f msg/s (%d workers), %.0f msg per CPU second\n", rep.ClassifyPerSc, rep.Workers, rep.ClassifyPerCPUSec)
	fmt.Fprintf(stdout, "peak memory  %.1f MiB RSS\n", rep.PeakRSSMiB)
	fmt.Fprintf(stdout, "profile      %s\n", rep.Profile)
	fmt.Fprintf(stdout, "by length (distinct tokens):\n")
	for _, b := range rep.Bands {
		a := "n/a"
		if b.OneMinusAUC != nil {
			a = fmt.Sprintf("%.3f %%", *b.OneMinusAUC)
		}
		fmt.Fprintf(stdout, "  %-7s %5d ham %5d spam  FP %4d  FN %4d  unsure %4d ham %4d spam  1-AUC %s\n",
			b.Name, b.Ham, b.Spam, b.FP, b.FN, b.UnsureHam, b.UnsureSpam, a)
	}
	return nil
}

// auc is the probability that a random spam scores higher than a random
// ham, ties counting half (the Mann–Whitney U statistic).
func auc(ham, sp []float64) float64 {
	if len(ham) == 0 || len(sp) == 0 {
		return 1
	}
	type s struct {
		v    float64
		spam bool
	}
	all := make([]s, 0, len(ham)+len(sp))
	for _, v := range ham {
		all = append(all, s{v, false})
	}
	for _, v := range sp {
		all = append(all, s{v, true})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var u float64 // pairs (ham, spam) with spam > ham, ties half
	hamBelow := 0
	for i := 0; i < len(all); {
		j := i
		h, sp := 0, 0
		for j < len(all) && all[j].v == all[i].v {
			if all[j].spam {
				sp++
			} else {
				h++
			}
			j++
		}
		u += float64(sp) * (float64(hamBelow) + float64(h)/2)
		hamBelow += h
		i = j
	}
	return u / (float64(len(ham)) * float64(len(sp)))
}

// readMbox reads an mbox: each message starts at a line beginning "From "
// (the line is kept for an e-mail, as the filter skips it, and dropped for
// a chat message, whose text it is not part of), and a line inside a
// message that began "From " is expected quoted (">From "). Each message
// becomes a ham item held in memory, so classifying it reads no file.
func readMbox(path string, chat bool) ([]item, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []item
	start := -1
	for i := 0; i < len(b); {
		if (i == 0 || b[i-1] == '\n') && bytes.HasPrefix(b[i:], []byte("From ")) {
			if start >= 0 {
				out = append(out, item{class: spam.Ham, path: fmt.Sprintf("%s#%d", path, len(out)), raw: mboxMessage(b[start:i], chat)})
			}
			start = i
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if start >= 0 {
		out = append(out, item{class: spam.Ham, path: fmt.Sprintf("%s#%d", path, len(out)), raw: mboxMessage(b[start:], chat)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no messages (no line starts with \"From \")", path)
	}
	return out, nil
}

// mboxMessage is one mbox message as the filter reads it: for a chat
// message without its "From " separator line.
func mboxMessage(m []byte, chat bool) []byte {
	if !chat {
		return m
	}
	if i := bytes.IndexByte(m, '\n'); i >= 0 {
		return m[i+1:]
	}
	return m[:0:0]
}

func readSplit(path string) ([]item, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []item
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		label, p, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"ham|spam<TAB>path\"", path, n)
		}
		switch label {
		case "ham":
			out = append(out, item{class: spam.Ham, path: p})
		case "spam":
			out = append(out, item{class: spam.Spam, path: p})
		default:
			return nil, fmt.Errorf("%s:%d: label %q is neither ham nor spam", path, n, label)
		}
	}
	return out, sc.Err()
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// explainWorst prints the clues behind the n spammiest-scored test ham and
// the n hammiest-scored test spam: the errors to study when tuning.
func explainWorst(ctx context.Context, f *spam.Filter, acct gdprkit.AccountID, test []item, scores []float64, n int, chat bool, w io.Writer) error {
	idx := make([]int, len(test))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pick []int
	for _, i := range idx {
		if test[i].class == spam.Spam && len(pick) < n {
			pick = append(pick, i)
		}
	}
	for k, c := len(idx)-1, 0; k >= 0 && c < n; k-- {
		if i := idx[k]; test[i].class == spam.Ham {
			pick = append(pick, i)
			c++
		}
	}
	for _, i := range pick {
		raw, err := test[i].read()
		if err != nil {
			return err
		}
		r, err := f.Explain(ctx, acct, asMessage(raw, chat), 20)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %.4f %s (%d tokens, %d clues)\n", test[i].class, r.Score, test[i].path, r.Tokens, r.ClueCount)
		for _, c := range r.Clues {
			fmt.Fprintf(w, "    %.3f %4d %4d %s\n", c.Prob, c.Ham, c.Spam, c.Token)
		}
	}
	return nil
}

func asMessage(raw []byte, chat bool) spam.Message {
	if chat {
		return spam.Chat(string(raw))
	}
	return spam.Email(raw)
}

// dumpTokens writes, per test message, "label<TAB>path<TAB>H S<TAB>tokens"
// and then "nh:ns:token" for every token the model knows.
func dumpTokens(ctx context.Context, st spam.Store, cfg spam.Config, acct gdprkit.AccountID, test []item, chat bool, path string) error {
	cfg.MinDeviation = 1e-300
	cfg.Store = st
	f, err := spam.New(cfg)
	if err != nil {
		return err
	}
	stats, err := f.Stats(ctx, acct)
	if err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	for _, it := range test {
		raw, err := os.ReadFile(it.path)
		if err != nil {
			return err
		}
		r, err := f.Explain(ctx, acct, asMessage(raw, chat), 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%d %d\t%d", it.class, it.path, stats.Ham, stats.Spam, r.Tokens)
		for _, c := range r.Clues {
			fmt.Fprintf(w, "\t%d:%d:%s", c.Ham, c.Spam, strings.ReplaceAll(strings.ReplaceAll(c.Token, "\t", " "), "\n", " "))
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}
