package spam

import "fmt"

// Profile is a set of verdict rules — the two cutoffs, the two vetoes and
// the evidence a spam verdict needs — chosen by how a host weighs a ham
// message called spam against a message left for a human to look at.
// Set Config.Profile; fields set in Config override single rules.
//
// Each profile was chosen on held-out tuning splits only (bench/spam,
// README "Issue 16"); the figures there are their error counts against
// bogofilter's on those splits.
type Profile int8

const (
	// Balanced is the default: a message is spam when its score is at
	// least 0.7, at least three clues favour spam and weigh at least 1.5
	// (Config.MinSpamWeight) and its ham evidence alone is not significant
	// at 0.01; ham when its score is below 0.475, at least one clue
	// favours ham and its spam evidence alone is not significant at 0.2;
	// unsure otherwise. On the tuning splits it called fewer ham spam,
	// fewer spam ham, left fewer messages unsure and ranked better than
	// bogofilter on every split group.
	Balanced Profile = iota
	// Cautious calls a message spam only on stronger evidence (score at
	// least 0.9, at least four spam clues weighing at least 3) and leaves
	// more messages unsure: for hosts where a customer's message must
	// never be hidden and agents review the unsure queue.
	Cautious
)

// String returns "balanced" or "cautious".
func (p Profile) String() string {
	switch p {
	case Balanced:
		return "balanced"
	case Cautious:
		return "cautious"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// rules are a profile's verdict rules, as the Config fields they fill.
type rules struct {
	HamCutoff, SpamCutoff     float64
	HamVeto, SpamVeto         float64
	MinSpamClues, MinHamClues int
	MinSpamWeight             float64
}

var profiles = map[Profile]rules{
	Balanced: {HamCutoff: 0.475, SpamCutoff: 0.7, HamVeto: 0.01, SpamVeto: 0.2, MinSpamClues: 3, MinSpamWeight: 1.5, MinHamClues: 1},
	Cautious: {HamCutoff: 0.475, SpamCutoff: 0.9, HamVeto: 0.01, SpamVeto: 0.2, MinSpamClues: 4, MinSpamWeight: 3, MinHamClues: 1},
}
