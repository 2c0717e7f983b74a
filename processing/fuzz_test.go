package processing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/processing"
)

// recordWith puts s in every free-text field of a record.
func recordWith(s string) processing.Record {
	return processing.Record{Account: "acme", GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Controller:   processing.Party{Name: s, Contact: s, DPO: s},
		Purposes:     []processing.Purpose{{Key: "k", Name: s, LegalBasis: s, Description: s, Categories: []string{s}}},
		DataSubjects: []string{s},
		DataCategories: []processing.DataCategory{{Category: s, Description: s,
			Kinds: []processing.Kind{{Kind: "end_user", Description: s, OnErasure: erasure.Keep, Ground: s}}}},
		Recipients: []processing.Recipient{{Name: s, Purpose: s, Region: s, Country: s, Agreement: s, TransferMechanism: s}},
		Transfers:  []processing.Transfer{{Recipient: s, Country: s, Region: s, Mechanism: s}},
		Retention:  []processing.Period{{What: s, After: s, Then: s, Source: s}},
		Security:   []processing.Measure{{Name: s, Detail: s, Source: s}},
		Issues:     []string{s},
	}
}

// skeleton is the Markdown's structure: each line's kind (heading level,
// list item, table row with its cell count, text).
func skeleton(md string) []string {
	var out []string
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			out = append(out, l[:strings.IndexByte(l, ' ')+1])
		case strings.HasPrefix(l, "- "):
			out = append(out, "item")
		case strings.HasPrefix(l, "|"):
			out = append(out, "row"+strings.Repeat("|", strings.Count(l, "|")-strings.Count(l, `\|`)))
		case l == "":
			out = append(out, "")
		default:
			out = append(out, "text")
		}
	}
	return out
}

// Whatever a value holds, the Markdown keeps the structure it has with a
// plain word: no line, heading, list item or table cell is added or lost.
func FuzzMarkdownKeepsStructure(f *testing.F) {
	for _, s := range []string{"plain", "a|b", "# h", "- x", "1. y", "line\nbreak", "`code`", "<b>", "[l](u)", `\|`, "\r\n## x", "+ z"} {
		f.Add(s)
	}
	want := skeleton(recordWith("word").Markdown())
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return // empty values drop optional lines by design
		}
		got := skeleton(recordWith(s).Markdown())
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("value %q changed the structure:\n%s", s, recordWith(s).Markdown())
		}
	})
}
