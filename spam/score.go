package spam

import (
	"cmp"
	"math"
	"slices"
)

// tokenProb is Robinson's smoothed spam probability of a token seen in
// nh of the model's hamMsgs ham messages and ns of its spamMsgs spam
// messages: p = (s·x + n·q) / (s + n), where q is the Graham probability
// from the per-class frequencies and n = nh + ns. With no evidence p = x.
func tokenProb(nh, ns, hamMsgs, spamMsgs int64, s, x float64) float64 {
	var hr, sr float64
	if hamMsgs > 0 {
		hr = float64(nh) / float64(hamMsgs)
	}
	if spamMsgs > 0 {
		sr = float64(ns) / float64(spamMsgs)
	}
	n := float64(nh + ns)
	if hr+sr == 0 {
		return x
	}
	q := sr / (hr + sr)
	return (s*x + n*q) / (s + n)
}

// chi2Q returns the probability that a chi-square variable with v degrees
// of freedom (v even) exceeds x2: e^−m · Σ_{i<v/2} m^i/i! with m = x2/2.
// The factor e^−m underflows for m > 745 while the sum overflows, so the sum
// is kept scaled, the scale and e^−m are combined as logarithms, and the
// result neither underflows nor loses the tail on messages with thousands of
// clues.
func chi2Q(x2 float64, v int) float64 {
	return math.Min(math.Exp(logChi2Q(x2, v)), 1)
}

// logChi2Q is ln chi2Q(x2, v) (at most 0), finite however small chi2Q is.
func logChi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	if m <= 0 {
		return 0
	}
	term, sum, scale := 1.0, 1.0, 0.0
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
		if sum > 1e250 {
			sum *= 1e-250
			term *= 1e-250
			scale += 250 * math.Ln10
		}
	}
	// min(·, 0) by comparison: math.Min is a call on amd64 (same result,
	// −0 and NaN included).
	if l := math.Log(sum) + scale - m; !(l > 0) {
		return l
	}
	return 0
}

// clue is one token's evidence in a verdict.
type clue struct {
	hash   uint64
	dev    float64 // |prob − 0.5|
	prob   float64
	weight float64 // how well attested the token is: n/(n+Attestation)
	ham    int64
	spam   int64
	// lnP and lnQ are ln p and ln(1 − p), p being prob clamped to
	// [1e-9, 1 − 1e-9]: the terms combine adds up.
	lnP, lnQ float64
}

// newClue returns the clue of a token of probability p.
func newClue(hash uint64, p, weight float64, ham, spam int64) clue {
	q := p // clamped to [1e-9, 1−1e-9], as math.Max and math.Min would
	if q < 1e-9 {
		q = 1e-9
	} else if q > 1-1e-9 {
		q = 1 - 1e-9
	}
	return clue{hash: hash, dev: math.Abs(p - 0.5), prob: p, weight: weight, ham: ham, spam: spam,
		lnP: math.Log(q), lnQ: math.Log1p(-q)}
}

// clueWeight is how much of a clue a token seen in n trained messages
// counts as when the amount of evidence is weighed: n/(n+k). A token seen
// once or twice is weak evidence however one-sided its counts are
// (Robinson's small strength makes its probability extreme); one seen in
// dozens of messages counts almost fully.
func clueWeight(n int64, k float64) float64 {
	return float64(n) / (float64(n) + k)
}

// evidence is what combine makes of a message's clues.
type evidence struct {
	score      float64 // 0 (ham) … 1 (spam), drawn towards 0.5 by little evidence
	lnQH, lnQS float64 // ln of the ham and spam sides' tail probabilities (0: none)
	hamClues   int     // clues below 0.5
	spamClues  int     // clues above 0.5
	spamWeight float64 // the spam clues' weights (clueWeight) added up
}

// combine is Fisher's method as Robinson applied it to spam (and SpamBayes
// and bogofilter ship it): with ln H = Σ ln p and ln S = Σ ln(1−p) over
// the n clues, H' = 1 − χ²Q(−2 ln H, 2n) measures hamminess (many p near
// 0), S' likewise spamminess (many p near 1), and Fisher's score is
// (1 + S' − H') / 2: near 1 spam, near 0 ham, near 0.5 either no evidence
// or strong evidence both ways. Sums of logs replace products, so nothing
// underflows however long the message is.
//
// Fisher's method assumes independent tests, and tokens are not (a URL
// yields several tokens, a phrase repeats across header and body), so
// evidence piles up and both S' and H' saturate at 1 on messages with any
// evidence both ways. esf (0 < esf <= 1) is the effective size factor:
// each clue counts as esf of an independent one, −2·esf·ln H with
// 2·⌈esf·n⌉ degrees of freedom, which keeps scores graded.
//
// Even so, a message with strong evidence both ways gets Fisher's score
// 0.5 whichever side is stronger. The tail probabilities themselves still
// tell: with qH = χ²Q(−2·esf·ln H) and qS likewise, ln qS / (ln qH + ln qS)
// is 0.5 when both sides are equally strong and moves towards the stronger
// one however far both tails have saturated (ln χ²Q is computed directly,
// so it never rounds to −∞). The raw score blends the two, ratioWeight of
// the log ratio and the rest Fisher's score.
//
// The log ratio is 1 for any spam evidence without ham evidence, however
// little: two clues seen once would make a message "99 % spam". So the
// confidence of the score follows the amount of evidence, its strength and
// its number of clues: with L = |ln qS − ln qH| (nats of net evidence) and
// W the clues on the side the raw score leans to, each counted by its
// weight (how many trained messages back it, clueWeight), the score is
// 0.5 + (raw − 0.5)·(1 − e^(−L/scale))·(1 − e^(−W/clueScale)). A message
// with a few clues, or clues seen only once or twice, stays nearer 0.5;
// one with dozens of well-attested clues keeps its raw score. scale <= 0
// keeps the raw score. An empty clue list scores 0.5.
func combine(clues []clue, esf, scale float64) evidence {
	var lnH, lnS, wh, ws float64
	var ev evidence
	for _, c := range clues {
		lnH += c.lnP
		lnS += c.lnQ
		if c.prob > 0.5 {
			ws += c.weight
			ev.spamClues++
		} else {
			wh += c.weight
			ev.hamClues++
		}
	}
	if len(clues) == 0 {
		ev.score = 0.5
		return ev
	}
	n := 2 * int(math.Ceil(esf*float64(len(clues))))
	lqH := logChi2Q(-2*esf*lnH, n)
	lqS := logChi2Q(-2*esf*lnS, n)
	score := (1 + math.Exp(lqH) - math.Exp(lqS)) / 2
	if lqH+lqS != 0 {
		score = (1-ratioWeight)*score + ratioWeight*lqS/(lqH+lqS)
	}
	if scale > 0 {
		side := wh // the weighted clues on the side the raw score leans to
		if score > 0.5 {
			side = ws
		}
		score = 0.5 + (score-0.5)*(1-math.Exp(-math.Abs(lqS-lqH)/scale))*(1-math.Exp(-side/clueScale))
	}
	ev.score, ev.lnQH, ev.lnQS, ev.spamWeight = score, lqH, lqS, ws
	return ev
}

// ratioWeight is the share of the tail log ratio in combine's raw score
// (chosen on the tuning splits: 0.5 and 0.7 ranked alike, 1 ranked worse).
const ratioWeight = 0.7

// clueScale is how many weighted clues take the score 63% of the way from
// 0.5 to where the evidence's strength puts it (chosen on the tuning
// splits with Config.EvidenceScale; 1 let three clues seen once make a
// spam verdict).
const clueScale = 2

// strongest returns the max clues farthest from 0.5, strongest first; with
// max <= 0, or no more clues than max, it returns clues unchanged.
func strongest(clues []clue, max int) []clue {
	if max <= 0 || len(clues) <= max {
		return clues
	}
	sortClues(clues)
	return clues[:max]
}

// sortClues orders clues strongest first (ties by hash, so the order is
// deterministic).
func sortClues(clues []clue) {
	slices.SortFunc(clues, func(a, b clue) int {
		if a.dev != b.dev {
			if a.dev > b.dev {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.hash, b.hash)
	})
}
