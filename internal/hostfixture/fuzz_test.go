package hostfixture

import (
	"encoding/json"
	"strings"
	"testing"
)

// pgArrayToJSON never panics, and whatever it accepts becomes a canonical
// JSON array.
func FuzzPGArrayToJSON(f *testing.F) {
	for _, s := range []string{"{}", "{1,2,3}", `{"a b",c,NULL}`, `{"x\"y",-1.5e3}`, "{{1,2},{3,4}}", "{1,", `{"unterminated`, "{,}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := pgArrayToJSON(s)
		if !ok {
			return
		}
		var v []any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%q -> %q: not a JSON array: %v", s, out, err)
		}
		if again, ok := canonicalJSON([]byte(out)); !ok || again != out {
			t.Fatalf("%q -> %q is not canonical (%q)", s, out, again)
		}
	})
}

// canonicalJSON is idempotent and keeps the document's meaning.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1,2,{"d":null,"c":"x"}]}`, `[]`, `"s"`, `1.50`, `{"<":"&"}`, `{} {}`, `{"a":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := canonicalJSON([]byte(s))
		if !ok {
			return
		}
		again, ok := canonicalJSON([]byte(out))
		if !ok || again != out {
			t.Fatalf("%q -> %q -> %q", s, out, again)
		}
		var a, b any
		if json.Unmarshal([]byte(s), &a) != nil || json.Unmarshal([]byte(out), &b) != nil {
			t.Fatalf("%q -> %q: not both valid", s, out)
		}
	})
}

// splitStatements yields no empty statement, and splitting its own
// output again (each statement ended by ";") gives the same statements.
func FuzzSplitStatements(f *testing.F) {
	f.Add("CREATE TABLE a (x int);\n-- c\nINSERT INTO a VALUES ('x;\ny');\n")
	f.Add("SELECT 1;")
	f.Add("INSERT INTO t VALUES ('it''s');\n")
	f.Add("--''")
	f.Fuzz(func(t *testing.T, s string) {
		sts := splitStatements(s)
		for _, st := range sts {
			if strings.TrimSpace(st) == "" {
				t.Fatalf("empty statement from %q", s)
			}
		}
		if strings.Count(s, "'")%2 != 0 {
			return
		}
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "--") && strings.Contains(l, "'") {
				return // quotes in comments are out of scope (see splitStatements)
			}
		}
		var b strings.Builder
		for _, st := range sts {
			b.WriteString(st + ";\n")
		}
		again := splitStatements(b.String())
		if strings.Join(again, "\x00") != strings.Join(sts, "\x00") {
			t.Fatalf("%q -> %q -> %q", s, sts, again)
		}
	})
}
