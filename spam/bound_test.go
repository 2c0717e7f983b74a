package spam

import (
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
