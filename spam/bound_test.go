package spam

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// Adversarial messages of about maxInput bytes each, made of header fields
// that once cost seconds and gigabytes to tokenize.
var headerBombs = []struct{ name, raw string }{
	{"plain body", "Subject: x\nContent-Type: text/plain\n\n" + strings.Repeat("lorem ipsum dolor sit amet ", maxInput/27)},
	// 16 KiB fields of one-letter RFC 2047 words in a charset x/text does
	// not know: a decoder and a copy buffer per word.
	{"encoded words", bombOf("X-A: " + strings.Repeat("=?x?q?a?= ", 1600) + "\n")},
	{"encoded words, known charset", bombOf("Subject: " + strings.Repeat("=?iso-8859-7?q?=E1?= ", 700) + "\n")},
	// Fields folded over 16,384 empty continuation lines: the value was
	// copied once per line.
	{"folded fields", bombOf("X-A: a\n" + strings.Repeat(" \n", 16384))},
	{"folded words", bombOf("To: a@b.c\n" + strings.Repeat(" x@y.z,\n", 4096))},
}

func bombOf(field string) string {
	return strings.Repeat(field, maxInput/len(field)) + "\nbody\n"
}

// TestTokenizeAllocatesLinearly bounds what tokenizing each bomb allocates
// by a multiple of its size (a 2 MiB plain body allocates a few times its
// size; the bombs allocated thousands of times theirs). Allocation, unlike
// time, does not depend on the machine or its load.
func TestTokenizeAllocatesLinearly(t *testing.T) {
	const factor = 64
	for _, c := range headerBombs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		toks := Tokens(Email([]byte(c.raw)))
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-30s %7d bytes, %5d tokens: %6.1f MiB allocated (%.1f× its size)", c.name, len(c.raw), len(toks), float64(alloc)/(1<<20), float64(alloc)/float64(len(c.raw)))
		if alloc > factor*uint64(len(c.raw)) {
			t.Errorf("%s: tokenizing %d bytes allocated %d bytes, more than %d× its size", c.name, len(c.raw), alloc, factor)
		}
	}
}

// BenchmarkTokenizeHeaderBombs measures the bombs' cost per message.
func BenchmarkTokenizeHeaderBombs(b *testing.B) {
	for _, c := range headerBombs {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			raw := []byte(c.raw)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				Tokens(Email(raw))
			}
		})
	}
}

// FuzzClassify checks that any byte string, as an e-mail or as chat text,
// classifies against a trained model without error into a verdict with a
// probability, its clue counts adding up.
func FuzzClassify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("free money free money viagra"))
	fl, err := New(Config{Store: NewMemoryStore(), Key: []byte("fuzz key, 16 bytes or more")})
	if err != nil {
		f.Fatal(err)
	}
	var ex []Example
	for i, s := range []string{"free money now viagra prize claim", "meeting agenda notes for tomorrow", "claim your prize money", "notes from the agenda review"} {
		ex = append(ex, Example{ID: string(rune('a' + i)), Message: Chat(s), Class: Class(2 - i%2)})
	}
	if _, err := fl.TrainBatch(context.Background(), "fuzz", ex); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, m := range []Message{Email(raw), Chat(string(raw))} {
			r, err := fl.Classify(context.Background(), "fuzz", m)
			if err != nil {
				t.Fatal(err)
			}
			if !(r.Score >= 0 && r.Score <= 1) || r.Verdict < VerdictHam || r.Verdict > VerdictSpam {
				t.Fatalf("%+v", r)
			}
			if r.HamClues+r.SpamClues != r.ClueCount {
				t.Fatalf("clues %d + %d != %d", r.HamClues, r.SpamClues, r.ClueCount)
			}
		}
	})
}
