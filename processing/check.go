package processing

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// UncategorisedError is Check's error for kinds of the graph that declare
// no data category. It wraps gdprkit.ErrInvalid.
type UncategorisedError struct {
	// Kinds are the kinds without a category, in the graph's order.
	Kinds []erasure.Kind
}

// Error lists the kinds and where to declare their categories.
func (e *UncategorisedError) Error() string {
	names := make([]string, len(e.Kinds))
	for i, k := range e.Kinds {
		names[i] = string(k)
	}
	return fmt.Sprintf("%v: processing: %d kind(s) without a data category: %s (declare erasure.TargetInfo.Categories, "+
		"sqltarget.Spec.Categories or processing.Config.Categories)", gdprkit.ErrInvalid, len(names), strings.Join(names, ", "))
}

// Unwrap returns gdprkit.ErrInvalid.
func (e *UncategorisedError) Unwrap() error { return gdprkit.ErrInvalid }

// Check reports whether every kind of g declares at least one data
// category, in its target's TargetInfo.Categories or in extra (what
// Config.Categories adds). It returns an *UncategorisedError listing the
// kinds that declare none, or an error wrapping gdprkit.ErrInvalid for a
// malformed category (see ValidCategory) or an extra entry naming a kind
// the graph does not have. A host runs it in a test over its binding, so
// a table bound without saying what it holds fails the build, not the
// audit.
func Check(g *erasure.Graph, extra map[erasure.Kind][]string) error {
	if g == nil {
		return fmt.Errorf("%w: processing: no erasure graph", gdprkit.ErrInvalid)
	}
	_, err := categoriesOf(g, extra)
	return err
}

// categoriesOf returns every kind's categories (the target's, then
// extra's, without duplicates), or Check's error.
func categoriesOf(g *erasure.Graph, extra map[erasure.Kind][]string) (map[erasure.Kind][]string, error) {
	infos := g.Targets()
	known := make(map[erasure.Kind]bool, len(infos))
	for _, info := range infos {
		known[info.Kind] = true
	}
	var stray []string
	for k := range extra {
		if !known[k] {
			stray = append(stray, string(k))
		}
	}
	if len(stray) > 0 {
		sort.Strings(stray)
		return nil, fmt.Errorf("%w: processing: categories declared for kinds the graph does not have: %s", gdprkit.ErrInvalid, strings.Join(stray, ", "))
	}
	out := make(map[erasure.Kind][]string, len(infos))
	var missing []erasure.Kind
	for _, info := range infos {
		var cats []string
		seen := map[string]bool{}
		for _, c := range append(append([]string(nil), info.Categories...), extra[info.Kind]...) {
			if err := ValidCategory(c); err != nil {
				return nil, fmt.Errorf("kind %s: %w", info.Kind, err)
			}
			if !seen[c] {
				seen[c] = true
				cats = append(cats, c)
			}
		}
		if len(cats) == 0 {
			missing = append(missing, info.Kind)
		}
		out[info.Kind] = cats
	}
	if len(missing) > 0 {
		return nil, &UncategorisedError{Kinds: missing}
	}
	return out, nil
}

// categoryText describes the standard categories.
var categoryText = map[string]string{
	erasure.CategoryIdentity:          "who the person is: names, user IDs, usernames, roles, social or SSO logins",
	erasure.CategoryContact:           "how to reach the person: e-mail addresses, phone numbers, postal addresses",
	erasure.CategoryContent:           "what the person wrote or what was written about them: tickets, messages, notes, and what is derived from them",
	erasure.CategoryAttachments:       "files and images the person sent or that show them",
	erasure.CategoryOnlineIdentifiers: "IP addresses, user agents, cookies, session and device identifiers",
	erasure.CategoryCredentials:       "password hashes, second-factor secrets, recovery codes, API and OAuth tokens",
	erasure.CategoryUsage:             "what the person did and when: timestamps, activity, preferences, saved searches",
	erasure.CategoryConsent:           "consent decisions with their evidence",
}

// categoryOrder is the order the record lists the standard categories
// in; a host's own follow in name order.
var categoryOrder = []string{erasure.CategoryIdentity, erasure.CategoryContact, erasure.CategoryContent, erasure.CategoryAttachments,
	erasure.CategoryOnlineIdentifiers, erasure.CategoryCredentials, erasure.CategoryUsage, erasure.CategoryConsent}

// CategoryDescription returns the description of a standard data
// category (erasure.CategoryContact, …), or "" for a host's own.
func CategoryDescription(c string) string { return categoryText[c] }
