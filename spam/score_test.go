package spam

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChi2Q(t *testing.T) {
	// Q(x2, 2) = exp(-x2/2); Q(x2, 4) = exp(-m)(1+m).
	assert.InDelta(t, math.Exp(-1), chi2Q(2, 2), 1e-12)
	assert.InDelta(t, math.Exp(-3)*(1+3), chi2Q(6, 4), 1e-12)
	assert.Equal(t, 1.0, chi2Q(0, 10))
	// Far in the tail: tiny but not NaN, and monotone.
	assert.Greater(t, chi2Q(2000, 2000), chi2Q(3000, 2000))
	assert.Equal(t, 0.0, chi2Q(1e7, 2000))
	// Many degrees of freedom near the mean: about one half, no underflow
	// although e^-m alone is 0 in float64.
	assert.InDelta(t, 0.5, chi2Q(20000, 20000), 0.01)
	// In logs the far tail stays finite and ordered where chi2Q is 0.
	assert.InDelta(t, -1, logChi2Q(2, 2), 1e-12)
	assert.Equal(t, 0.0, logChi2Q(0, 10))
	l1, l2 := logChi2Q(1e7, 2000), logChi2Q(2e7, 2000)
	assert.False(t, math.IsInf(l1, 0) || math.IsNaN(l1))
	assert.Greater(t, l1, l2)
}

// mk makes clues of the given probabilities.
func mk(ps ...float64) []clue {
	var c []clue
	for i, p := range ps {
		c = append(c, newClue(uint64(i), p, 1, 0, 0))
	}
	return c
}

func TestCombine(t *testing.T) {
	assert.Equal(t, 0.5, scoreOf(nil, 1))
	assert.Greater(t, scoreOf(mk(0.99, 0.98, 0.95), 1), 0.9)
	assert.Less(t, scoreOf(mk(0.01, 0.02, 0.05), 1), 0.1)
	assert.InDelta(t, 0.5, scoreOf(mk(0.01, 0.99), 1), 0.01, "evidence both ways is unsure")
	// Strong evidence both ways saturates Fisher's method at 0.5; the tail
	// log ratio and the effective size factor keep the majority visible.
	var ps []float64
	for i := range 130 {
		if i < 50 {
			ps = append(ps, 0.99)
		} else {
			ps = append(ps, 0.01)
		}
	}
	mixed := mk(ps...)
	assert.Less(t, scoreOf(mixed, 1), 0.499)
	assert.Less(t, scoreOf(mixed, 0.1), 0.499)
	// …and the same evidence mirrored scores mirrored.
	for i := range ps {
		ps[i] = 1 - ps[i]
	}
	assert.Greater(t, scoreOf(mk(ps...), 1), 0.501)
	// Balanced evidence stays in the middle.
	assert.InDelta(t, 0.5, scoreOf(mk(0.01, 0.99, 0.2, 0.8), 0.3), 1e-6)
	many := make([]float64, 5000)
	for i := range many {
		many[i] = 0.99
	}
	assert.InDelta(t, 1, scoreOf(mk(many...), 1), 1e-12)
	assert.InDelta(t, 1, scoreOf(mk(many...), 0.1), 1e-12)
}

func TestTokenProb(t *testing.T) {
	// Unseen: the prior.
	assert.Equal(t, 0.5, tokenProb(0, 0, 10, 10, 0.45, 0.5))
	// Seen once in spam only: pulled from 1 towards x by s.
	assert.InDelta(t, (0.45*0.5+1)/1.45, tokenProb(0, 1, 10, 10, 0.45, 0.5), 1e-12)
	// Frequencies, not raw counts: 10 of 100 ham vs 10 of 10 spam is spammy.
	assert.Greater(t, tokenProb(10, 10, 100, 10, 0.45, 0.5), 0.85)
}

// scoreOf is combine's score without damping by the amount of evidence.
func scoreOf(clues []clue, esf float64) float64 {
	return combine(clues, esf, 0).score
}

func TestCombineHamTail(t *testing.T) {
	none := combine(nil, 0.3, 2).lnQH
	assert.Zero(t, none, "no clues: no ham evidence")
	spammy := combine(mk(0.99, 0.98, 0.95, 0.99), 0.3, 2).lnQH
	mixed := combine(mk(0.99, 0.98, 0.95, 0.99, 0.001, 0.002, 0.001, 0.003, 0.001, 0.002), 0.3, 2).lnQH
	assert.Greater(t, spammy, math.Log(0.5), "spam clues alone are no ham evidence")
	assert.Less(t, mixed, math.Log(0.01), "a few strong ham clues are significant ham evidence")
	assert.Less(t, mixed, spammy)
}
