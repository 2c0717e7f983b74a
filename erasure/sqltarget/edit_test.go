package sqltarget

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
)

var anaIDs = []erasure.Identifier{{Kind: "email", Value: "ana@example.com"}, {Kind: "name", Value: "Ana Lima"}, {Kind: "phone", Value: "+351 900 000 001"}}

func paths(t *testing.T, ps ...string) [][]pathSeg {
	var out [][]pathSeg
	for _, p := range ps {
		x, err := parsePath(p)
		require.NoError(t, err)
		out = append(out, x)
	}
	return out
}

func TestEditJSONRemovesTheSubjectFromRecipients(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		paths          []string
		label          string
		changed        bool
	}{
		{"address lists at paths", `{"to":["bo@x.org","ana@example.com"],"cc":["Ana@Example.com"],"subject":"ana@example.com"}`,
			`{"cc":[],"subject":"ana@example.com","to":["bo@x.org"]}`, []string{"to", "cc"}, "", true},
		{"a mailbox string holding the address", `{"to":["\"Ana Lima\" <ana@example.com>","bo@x.org"]}`, `{"to":["bo@x.org"]}`, []string{"to"}, "", true},
		{"objects in an array", `{"participants":[{"name":"Bo","email":"bo@x.org"},{"name":"Ana Lima","email":"ana@example.com"}]}`,
			`{"participants":[{"email":"bo@x.org","name":"Bo"}]}`, []string{"participants"}, "", true},
		{"a field inside every element", `{"p":[{"email":"ana@example.com","n":1},{"email":"bo@x.org"}]}`,
			`{"p":[{"n":1},{"email":"bo@x.org"}]}`, []string{"p[].email"}, "", true},
		{"replaced with a label", `{"to":["ana@example.com","bo@x.org"]}`, `{"to":["[redacted]","bo@x.org"]}`, []string{"to"}, "[redacted]", true},
		{"anywhere when no path", `{"a":{"b":["ana@example.com"]},"c":"Ana Lima","d":"keep"}`, `{"a":{"b":[]},"d":"keep"}`, nil, "", true},
		{"a mention inside a longer string is redacted", `{"note":"Ana Lima's sister","x":"Analima"}`, `{"note":"[redacted]'s sister","x":"Analima"}`, nil, "", true},
		{"nothing of the subject", `{"to":["bo@x.org"]}`, `{"to":["bo@x.org"]}`, []string{"to"}, "", false},
		{"a path that is absent", `{"cc":["ana@example.com"]}`, `{"cc":["ana@example.com"]}`, []string{"to"}, "", false},
		{"numbers keep their form", `{"to":["ana@example.com"],"n":12345678901234567890}`, `{"n":12345678901234567890,"to":[]}`, []string{"to"}, "", true},
		{"empty", ``, ``, []string{"to"}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := editJSON([]byte(c.in), paths(t, c.paths...), needles(anaIDs), "", c.label)
			require.NoError(t, err)
			assert.Equal(t, c.changed, changed)
			if c.want == "" {
				assert.Empty(t, out)
				return
			}
			assert.JSONEq(t, c.want, string(out))
			if !c.changed {
				assert.Equal(t, c.in, string(out), "unchanged documents are returned as they were")
			}
		})
	}
	_, _, err := editJSON([]byte(`{"to":`), nil, needles(anaIDs), "", "")
	assert.Error(t, err, "not JSON")
}

func TestRemoveFromJSONArray(t *testing.T) {
	out, changed, err := removeFromJSONArray([]byte(`[3, 42, "42", 420]`), "42")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.JSONEq(t, `[3, 420]`, string(out))
	out, changed, err = removeFromJSONArray([]byte(`[3, 420]`), "42")
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, `[3, 420]`, string(out))
	_, _, err = removeFromJSONArray([]byte(`{"a":1}`), "42")
	assert.Error(t, err)
}

func TestRedactReplacesWholeIdentifiersOnly(t *testing.T) {
	in := "Thanks Ana Lima!\n-- \nOn Tue, \"Ana Lima\" <ana@example.com> wrote:\n> call me on +351 900 000 001\nAnalima and Ana Limas stay."
	out, changed := redact(in, needles(anaIDs))
	assert.True(t, changed)
	assert.Equal(t, "Thanks [redacted]!\n-- \nOn Tue, \"[redacted]\" <[redacted]> wrote:\n> call me on [redacted]\nAnalima and Ana Limas stay.", out)
	out, changed = redact("ANA LIMA wrote", needles(anaIDs))
	assert.True(t, changed, "case is ignored")
	assert.Equal(t, "[redacted] wrote", out)
	out, changed = redact("nothing here", needles(anaIDs))
	assert.False(t, changed)
	assert.Equal(t, "nothing here", out)
	assert.Len(t, needles([]erasure.Identifier{{Kind: "name", Value: "Al"}}), 0, "short identifiers are not looked for")
}

func TestPGArrayLiterals(t *testing.T) {
	els, err := pgArray(`{1,22,NULL,"a b","q\"x"}`)
	require.NoError(t, err)
	require.Len(t, els, 5)
	assert.Equal(t, "1", *els[0])
	assert.Nil(t, els[2])
	assert.Equal(t, "a b", *els[3])
	assert.Equal(t, `q"x`, *els[4])
	j, err := pgArrayJSON(`{1,2,3}`, true)
	require.NoError(t, err)
	assert.JSONEq(t, `[1,2,3]`, string(j))
	j, err = pgArrayJSON(`{}`, true)
	require.NoError(t, err)
	assert.JSONEq(t, `[]`, string(j))
	_, err = pgArray("1,2")
	assert.Error(t, err)
}

func TestParsePath(t *testing.T) {
	p, err := parsePath("a.b[].c")
	require.NoError(t, err)
	assert.Equal(t, []pathSeg{{key: "a"}, {key: "b"}, {all: true}, {key: "c"}}, p)
	for _, bad := range []string{"", ".", "a..b", "[]", "a[0]", "a.[]"} {
		_, err := parsePath(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzEditJSON(f *testing.F) {
	f.Add(`{"to":["ana@example.com"]}`, "to")
	f.Add(`[1,{"a":"Ana Lima"}]`, "a[].b")
	f.Add(`{"a":{"b":[{"c":"+351 900 000 001"}]}}`, "a.b[].c")
	f.Fuzz(func(t *testing.T, doc, path string) {
		ps, err := parsePath(path)
		if err != nil {
			ps = nil
		}
		var pp [][]pathSeg
		if ps != nil {
			pp = [][]pathSeg{ps}
		}
		out, changed, err := editJSON([]byte(doc), pp, needles(anaIDs), "42", "")
		if err != nil {
			return
		}
		if !changed {
			if string(out) != doc {
				t.Fatalf("unchanged but different: %q -> %q", doc, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("edit produced invalid JSON %q from %q", out, doc)
		}
		// Editing again changes nothing more.
		again, changed2, err := editJSON(out, pp, needles(anaIDs), "42", "")
		if err != nil || changed2 && string(again) != string(out) && pp != nil {
			// Paths that remove array elements may expose matches only once;
			// a second pass must never fail.
			if err != nil {
				t.Fatalf("second edit failed: %v", err)
			}
		}
	})
}

func FuzzRedact(f *testing.F) {
	f.Add("Thanks Ana Lima, ana@example.com")
	f.Add("\xff\xfeAna Lima")
	f.Fuzz(func(t *testing.T, s string) {
		out, changed := redact(s, needles(anaIDs))
		if !changed && out != s {
			t.Fatalf("unchanged but different")
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("redaction broke UTF-8: %q -> %q", s, out)
		}
		if changed && !strings.Contains(out, redacted) {
			t.Fatalf("changed without a redaction mark")
		}
	})
}

func FuzzPGArray(f *testing.F) {
	f.Add(`{1,2,"a,b",NULL}`)
	f.Add(`{"\\"}`)
	f.Fuzz(func(t *testing.T, s string) {
		els, err := pgArray(s)
		if err != nil {
			return
		}
		if _, err := pgArrayJSON(s, true); err != nil {
			t.Fatalf("parsed %d elements but no JSON: %v", len(els), err)
		}
	})
}
