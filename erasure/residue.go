package erasure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// ErrResidue is wrapped when an erasure's verify pass still finds the
// subject's identifiers somewhere that no keep rule or hold explains: the
// job ends failed with the findings (kind, record, field — never the
// value), and is never reported done. EraseAccount wraps it too when a
// record of a deleted kind is found again after the account deletion.
var ErrResidue = errors.New("erasure: the subject's identifiers remain")

// maxFindings caps the findings one search reports.
const maxFindings = 100

// residueNeedles returns what a residue search looks for: the subject's
// identifiers and, when it is distinctive (not a short number), their key.
func residueNeedles(ids []Identifier, key gdprkit.SubjectID) []Identifier {
	var out []Identifier
	seen := map[string]bool{}
	add := func(id Identifier) {
		v := strings.TrimSpace(id.Value)
		if utf8.RuneCountInString(v) < minNeedle || seen[strings.ToLower(v)] {
			return
		}
		seen[strings.ToLower(v)] = true
		out = append(out, Identifier{Kind: id.Kind, Value: v})
	}
	for _, id := range ids {
		add(id)
	}
	if k := string(key); k != "" && !numeric(k) {
		add(Identifier{Kind: "key", Value: k})
	}
	return out
}

func numeric(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// findResidue asks every kind in kinds that can search (Caps.Residue) for
// records still holding needles, and drops the findings a Keep rule or an
// active hold explains (a hold on the subject, ps, explains everything).
func (s *Service) findResidue(ctx context.Context, account gdprkit.AccountID, kinds []Kind, rules map[Kind]Rule, key gdprkit.SubjectID, ps gdprkit.Pseudonym, needles []Identifier, holds []Hold, pinned map[Kind][]string) ([]Finding, error) {
	if len(needles) == 0 {
		return nil, nil
	}
	for _, h := range holds {
		if ps != "" && h.SubjectPS == ps {
			return nil, nil // every record of the subject is held
		}
	}
	var out []Finding
	for _, k := range kinds {
		info := s.cfg.Graph.infos[k]
		if !info.Caps.Residue {
			continue
		}
		fs, err := s.cfg.Graph.byKind[k].Residue(ctx, account, ResidueQuery{Subject: key, Identifiers: needles, Limit: maxFindings})
		if err != nil {
			return nil, fmt.Errorf("erasure: residue search of %s: %w", k, err)
		}
		if len(fs) == 0 {
			continue
		}
		if r, ok := rules[k]; ok && r.Action == Keep {
			continue // kept on purpose, with its ground in the receipt
		}
		ids := make([]string, len(fs))
		for i, f := range fs {
			ids[i] = f.Record
		}
		above, _, err := s.heldAbove(ctx, account, holds, k, ids)
		if err != nil {
			return nil, err
		}
		kept := map[string]bool{}
		rec := info.Records
		for pk, list := range pinned {
			if pk == k || (rec != "" && s.cfg.Graph.infos[pk].Records == rec) {
				for _, id := range list {
					kept[id] = true
				}
			}
		}
		for _, f := range fs {
			if _, held := recordHold(s.cfg.Graph, holds, k, f.Record); held || kept[f.Record] {
				continue
			}
			if _, held := above[f.Record]; held {
				continue
			}
			if f.Kind == "" {
				f.Kind = k
			}
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Record != b.Record {
			return a.Record < b.Record
		}
		return a.Field < b.Field
	})
	return out, nil
}

// residueError describes findings without their values.
func residueError(fs []Finding) error {
	parts := make([]string, 0, min(len(fs), 10))
	for i, f := range fs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-10))
			break
		}
		where := string(f.Kind) + " " + f.Record
		if f.Field != "" {
			where += "." + f.Field
		}
		parts = append(parts, where+" ("+f.Identifier+")")
	}
	return fmt.Errorf("%w: %w: %s", ErrResidue, gdprkit.ErrConflict, strings.Join(parts, ", "))
}

// FindResidue searches every target that can (Caps.Residue: bound SQL
// tables' text and JSON columns, blob keys) for any of the given
// identifiers of a person — "is anything of this person left?" — and
// returns where they are found (kind, record, field; never the value).
// Active holds and Keep rules do not hide findings here: this is the whole
// answer. Identifiers shorter than four characters are not searched.
func (s *Service) FindResidue(ctx context.Context, account gdprkit.AccountID, ids []Identifier) ([]Finding, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	needles := residueNeedles(ids, "")
	if len(needles) == 0 {
		return nil, fmt.Errorf("%w: give at least one identifier of four characters or more", gdprkit.ErrInvalid)
	}
	return s.findResidue(ctx, account, s.cfg.Graph.order, nil, "", "", needles, nil, nil)
}
