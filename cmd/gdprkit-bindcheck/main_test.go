package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The worked bindings in JSON, kept equal to the Go bindings by
// erasure/sqltarget's TestLoadConfigReadsTheWorkedBindings.
var (
	restrictJSON = filepath.Join("..", "..", "erasure", "sqltarget", "testdata", "restrict.binding.json")
	convoJSON    = filepath.Join("..", "..", "erasure", "sqltarget", "testdata", "convo.binding.json")
	naiveJSON    = filepath.Join("testdata", "restrict-naive.json")
)

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func bindcheck(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// fixture creates the fixture's schema (no rows: the check reads the
// catalog) in a fresh database of dialect d.
func fixture(t *testing.T, d sqldb.Dialect, f hostfixture.Name) *testdb.DB {
	t.Helper()
	db := testdb.Open(t, d)
	require.NoError(t, hostfixture.Create(context.Background(), db.DB, d, f))
	return db
}

// The restrict binding written from the guide passes: exit 0, the kinds
// listed in the order they act (rows that reference a row before it), and
// a note that the computed file keys are the host's to test.
func TestCorrectBindingPasses(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := fixture(t, d, hostfixture.Restrict)
			r := bindcheck(t, nil, "-driver", db.Driver, "-dsn", db.DSN, "-v", restrictJSON)
			require.Equal(t, exitOK, r.code, "%s\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, "ok: no problems")
			assert.NotContains(t, r.stdout, "PROBLEMS")
			assert.Contains(t, r.stdout, "history before article: ticket_history.article_id references article")
			assert.Contains(t, r.stdout, "ticket_history.article_id -> article (ON DELETE")
			assert.NotContains(t, r.stdout, "NOT HANDLED")
			at := map[string]int{}
			for i, line := range strings.Split(r.stdout[strings.Index(r.stdout, "ORDER"):strings.Index(r.stdout, "WHY")], "\n")[1:] {
				if f := strings.Fields(line); len(f) == 2 {
					at[f[1]] = i
				}
			}
			require.Len(t, at, 40, "39 kinds of rows and 1 of files:\n%s", r.stdout)
			for _, pair := range [][2]string{{"mime", "article"}, {"article_history", "article"}, {"article_files", "article"},
				{"article", "ticket"}, {"ticket_index", "ticket"}, {"ticket", "customer"}, {"agent_prefs", "agent"}} {
				assert.Less(t, at[pair[0]], at[pair[1]], "%s acts before %s", pair[0], pair[1])
			}
			assert.Contains(t, r.stderr, "note: blob article_files: its file keys are computed by host code from id, create_time")
		})
	}
}

// The naive binding — tables bound the way one would without reading the
// schema — fails the build: exit 1, every problem listed with its class,
// table and column, in text and in JSON.
func TestNaiveBindingFails(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := fixture(t, d, hostfixture.Restrict)
			r := bindcheck(t, nil, "-driver", db.Driver, "-dsn", db.DSN, naiveJSON)
			require.Equal(t, exitProblems, r.code, "%s\n%s", r.stdout, r.stderr)
			for _, want := range []string{
				"PROBLEMS (146): the binding would be refused",
				"  refused   message (end_user > ticket > message): article_data_mime.article_id: deleting article rows would be refused by this foreign key",
				"  refused   message (end_user > ticket > message): ticket_history.article_id: ",
				"  refused   ticket (end_user > ticket): article_search_index.ticket_id: ",
				"  refused   agent_profile: group_user.user_id: deleting users rows would be refused",
				"  coverage  user_preferences.user_id: references the subjects' table users, but no target binds it",
				"ORDER: not derived while the binding has problems",
				"FAIL: 146 problems",
			} {
				assert.Contains(t, r.stdout, want)
			}

			r = bindcheck(t, nil, "-driver", db.Driver, "-dsn", db.DSN, "-json", naiveJSON)
			require.Equal(t, exitProblems, r.code, r.stderr)
			var rep sqltarget.Report
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
			require.Len(t, rep.Problems, 146)
			found := map[string]bool{}
			for _, p := range rep.Problems {
				found[p.Class+" "+p.Table+"."+p.Column] = true
				assert.NotEmpty(t, p.Message)
			}
			for _, want := range []string{"refused article_data_mime.article_id", "refused ticket_history.article_id", "refused ticket_watcher.ticket_id",
				"refused group_user.user_id", "refused ticket.user_id", "coverage user_preferences.user_id"} {
				assert.True(t, found[want], want)
			}
			assert.Empty(t, rep.Kinds)
		})
	}
}

// The convo binding passes on its own schema (its avatar variants, a
// function, are simply not part of the check), and the restrict binding
// fails on the convo schema: the tables it names are not there.
func TestEachBindingFitsItsOwnSchema(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := fixture(t, d, hostfixture.Convo)
			r := bindcheck(t, nil, "-driver", db.Driver, "-dsn", db.DSN, "-json", convoJSON)
			require.Equal(t, exitOK, r.code, "%s\n%s", r.stdout, r.stderr)
			var rep sqltarget.Report
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
			assert.Empty(t, rep.Problems)
			assert.Len(t, rep.Kinds, 43, "41 kinds of rows and 2 of files")
			assert.Less(t, index(rep.Kinds, "message"), index(rep.Kinds, "conversation"))
			assert.Empty(t, r.stderr, "no computed keys in this binding")

			r = bindcheck(t, nil, "-driver", db.Driver, "-dsn", db.DSN, restrictJSON)
			require.Equal(t, exitProblems, r.code)
			assert.Contains(t, r.stdout, "  schema    customer: customer_user: no such table or view")
		})
	}
}

func index(ks []erasure.Kind, k erasure.Kind) int {
	for i, x := range ks {
		if x == k {
			return i
		}
	}
	return -1
}

// The DSN may come from the environment, so a CI log never shows a
// password.
func TestDSNFromTheEnvironment(t *testing.T) {
	db := fixture(t, sqldb.SQLite, hostfixture.Restrict)
	r := bindcheck(t, map[string]string{envDSN: db.DSN}, "-driver", "sqlite", restrictJSON)
	require.Equal(t, exitOK, r.code, r.stderr)
}

// The check could not run: exit 2 with a message that says why, never
// 0 or 1.
func TestCannotRun(t *testing.T) {
	db := fixture(t, sqldb.SQLite, hostfixture.Restrict)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	typo := write("typo.json", "{\"specs\": [\n  {\"kind\": \"customer\", \"table\": \"customer_user\", \"key\": \"login\", \"subject_colum\": \"login\"}\n]}")
	pg := write("pg.json", `{"dialect": "postgres", "specs": []}`)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no binding file", []string{"-driver", "sqlite", "-dsn", db.DSN}, "usage: gdprkit-bindcheck"},
		{"no driver", []string{"-dsn", db.DSN, restrictJSON}, "-driver is required"},
		{"an unknown driver", []string{"-driver", "oracle", "-dsn", db.DSN, restrictJSON}, `-driver "oracle"`},
		{"no dsn", []string{"-driver", "sqlite", restrictJSON}, "-dsn (or $GDPRKIT_BINDCHECK_DSN) is required"},
		{"a missing binding file", []string{"-driver", "sqlite", "-dsn", db.DSN, filepath.Join(dir, "nope.json")}, "nope.json"},
		{"a misspelt field", []string{"-driver", "sqlite", "-dsn", db.DSN, typo}, `typo.json: gdprkit: invalid input: sqltarget: binding JSON: json: unknown field "subject_colum"`},
		{"a binding for another dialect", []string{"-driver", "sqlite", "-dsn", db.DSN, pg}, "the binding says dialect postgres, the driver sqlite speaks sqlite"},
		{"a SQLite file that does not exist", []string{"-driver", "sqlite", "-dsn", filepath.Join(dir, "nope.db"), restrictJSON}, "nope.db"},
		{"an in-memory SQLite database", []string{"-driver", "sqlite", "-dsn", ":memory:", restrictJSON}, "in-memory"},
		{"an unknown flag", []string{"-driver", "sqlite", "-dsn", db.DSN, "-color", restrictJSON}, "flag provided but not defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := bindcheck(t, nil, c.args...)
			assert.Equal(t, exitError, r.code)
			assert.Contains(t, r.stderr, c.want)
			assert.Empty(t, r.stdout)
			_, err := os.Stat(filepath.Join(dir, "nope.db"))
			assert.True(t, os.IsNotExist(err), "a missing SQLite file is not created")
		})
	}
}

// A database that cannot be reached is exit 2, whatever the driver.
func TestUnreachableDatabase(t *testing.T) {
	for _, c := range []struct{ driver, dsn string }{
		{"pgx", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"},
		{"mysql", "nobody@tcp(127.0.0.1:1)/none?timeout=2s"},
	} {
		r := bindcheck(t, nil, "-driver", c.driver, "-dsn", c.dsn, "-timeout", "5s", restrictJSON)
		assert.Equal(t, exitError, r.code, c.driver)
		assert.Contains(t, r.stderr, "connect to the database", c.driver)
	}
}

// The outputs of this command shown in docs/binding-an-existing-schema.md
// (the text blocks marked <!-- output: gdprkit-bindcheck ARGS -->) are
// lines of what it prints with those arguments on the restrict schema
// (SQLite), in order; "…" stands for lines left out.
func TestGuideShowsRealOutput(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "binding-an-existing-schema.md"))
	require.NoError(t, err)
	db := fixture(t, sqldb.SQLite, hostfixture.Restrict)
	lines := strings.Split(string(page), "\n")
	var checked int
	for i := 1; i < len(lines); i++ {
		args, ok := strings.CutPrefix(strings.TrimSpace(lines[i-1]), "<!-- output: gdprkit-bindcheck ")
		if !ok || strings.TrimSpace(lines[i]) != "```text" {
			continue
		}
		args = strings.TrimSuffix(args, " -->")
		var want [][]string
		want = append(want, nil)
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			switch l := strings.TrimSpace(lines[i]); l {
			case "…":
				want = append(want, nil)
			case "":
			default:
				want[len(want)-1] = append(want[len(want)-1], l)
			}
		}
		r := bindcheck(t, nil, append([]string{"-driver", "sqlite", "-dsn", db.DSN}, strings.Fields(args)...)...)
		require.NotEqual(t, exitError, r.code, r.stderr)
		var got []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				got = append(got, l)
			}
		}
		at := 0
		for _, chunk := range want {
			found := -1
			for j := at; j+len(chunk) <= len(got) && found < 0; j++ {
				if slices.Equal(got[j:j+len(chunk)], chunk) {
					found = j
				}
			}
			if !assert.GreaterOrEqual(t, found, 0, "gdprkit-bindcheck %s does not print, here, in this order:\n%s\n\nit prints:\n%s", args, strings.Join(chunk, "\n"), r.stdout) {
				break
			}
			at = found + len(chunk)
		}
		checked++
	}
	assert.Equal(t, 2, checked, "the guide shows two runs of the command")
}
