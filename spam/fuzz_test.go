package spam

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"",
	"From x\n",
	"Subject: hi\r\n\r\nhello world\r\n",
	"Subject: =?utf-8?b?w6lsw6h2ZQ==?=\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=iso-8859-7\nContent-Transfer-Encoding: quoted-printable\n\n=E1=E2 caf=\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--b--\n",
	"Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\n<html><a href='http://[::1]:80/%41'>x</a>",
	"Content-Type: text/plain; charset=shift_jis\n\n\x82\xa0\x82\xa2 東京 ÿþ",
	"<script>" + strings.Repeat("<", 100),
	"To: a@b, \"broken <c@d\nReceived: from [300.1.2.3] (x@y.z)\n\nhttp://a@b:c/d?e=f www. user@host.",
}

// FuzzTokenize checks that any byte string is tokenized without panicking,
// within the token bound, into valid UTF-8 tokens.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		toks := Tokens(Email(raw))
		if len(toks) > maxTokens {
			t.Fatalf("%d tokens, more than %d", len(toks), maxTokens)
		}
		for _, tok := range toks {
			if !utf8.ValidString(tok) {
				t.Fatalf("token %q is not valid UTF-8", tok)
			}
		}
		toks = Tokens(Message{Subject: string(raw), Text: string(raw)})
		if len(toks) > maxTokens {
			t.Fatalf("%d chat tokens", len(toks))
		}
	})
}

// FuzzChi2Q checks the combining math stays a probability for any input.
func FuzzChi2Q(f *testing.F) {
	f.Add(2.0, 2)
	f.Add(1e6, 20000)
	f.Add(0.0, 0)
	f.Fuzz(func(t *testing.T, x2 float64, v int) {
		if v < 0 || v > 1<<16 || x2 != x2 || x2 > 1e12 {
			return
		}
		q := chi2Q(x2, v)
		if !(q >= 0 && q <= 1) {
			t.Fatalf("chi2Q(%v, %d) = %v", x2, v, q)
		}
		if l := logChi2Q(x2, v); !(l <= 0) || math.IsInf(l, -1) {
			t.Fatalf("logChi2Q(%v, %d) = %v", x2, v, l)
		}
	})
}

// FuzzCombine checks that any clue list, with any probabilities and
// weights, scores a finite probability, and that the damped score lies
// between 0.5 and the raw one.
func FuzzCombine(f *testing.F) {
	f.Add([]byte{255, 3, 0, 3, 128, 0}, 0.5, 2.0)
	f.Add([]byte{1, 1}, 1.0, 0.1)
	f.Fuzz(func(t *testing.T, b []byte, esf, scale float64) {
		if !(esf > 0 && esf <= 1) || !(scale > 0 && scale < 1e6) || len(b) > 2*4000 {
			return
		}
		var clues []clue
		for i := 0; i+1 < len(b); i += 2 {
			p := (float64(b[i]) + 0.5) / 256
			clues = append(clues, newClue(uint64(i), p, clueWeight(int64(b[i+1]), 3), 0, 0))
		}
		raw, ev := combine(clues, esf, 0), combine(clues, esf, scale)
		for _, s := range []float64{raw.score, ev.score} {
			if !(s >= 0 && s <= 1) {
				t.Fatalf("score %v", s)
			}
		}
		if lo, hi := math.Min(raw.score, 0.5), math.Max(raw.score, 0.5); ev.score < lo-1e-12 || ev.score > hi+1e-12 {
			t.Fatalf("damped %v outside [%v, %v]", ev.score, lo, hi)
		}
		if ev.hamClues+ev.spamClues != len(clues) {
			t.Fatalf("%d + %d clues of %d", ev.hamClues, ev.spamClues, len(clues))
		}
		if ev.lnQH > 0 || ev.lnQS > 0 || math.IsNaN(ev.lnQH) || math.IsNaN(ev.lnQS) {
			t.Fatalf("tails %v %v", ev.lnQH, ev.lnQS)
		}
	})
}
