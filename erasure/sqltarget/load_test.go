package sqltarget_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

var update = flag.Bool("update", false, "rewrite testdata/*.binding.json from the Go bindings")

// bindingJSON writes cfg the way testdata/*.binding.json are written: one
// spec per line, the zero default rule left out, no dialect (the reader
// takes it from its driver).
func bindingJSON(t *testing.T, cfg sqltarget.Config) []byte {
	t.Helper()
	compact := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		s := strings.TrimSpace(b.String())
		s = strings.ReplaceAll(s, `"default":{"action":""},`, "")
		return strings.ReplaceAll(s, `,"default":{"action":""}`, "")
	}
	var b strings.Builder
	b.WriteString("{\n  \"specs\": [\n")
	for i, s := range cfg.Specs {
		b.WriteString("    " + compact(s))
		if i < len(cfg.Specs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]")
	if len(cfg.Blobs) > 0 {
		b.WriteString(",\n  \"blobs\": [\n")
		for i, s := range cfg.Blobs {
			b.WriteString("    " + compact(s))
			if i < len(cfg.Blobs)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("  ]")
	}
	if len(cfg.Cascade) > 0 {
		b.WriteString(",\n  \"cascade\": " + compact(cfg.Cascade))
	}
	if len(cfg.Ignore) > 0 {
		b.WriteString(",\n  \"ignore\": " + compact(cfg.Ignore))
	}
	b.WriteString("\n}\n")
	return []byte(b.String())
}

// withoutCode is cfg as JSON can hold it: no database, no stores, no
// functions, and whole numbers as int64.
func withoutCode(cfg sqltarget.Config) sqltarget.Config {
	cfg.DB, cfg.Dialect = nil, ""
	norm := func(v any) any {
		switch x := v.(type) {
		case int:
			return int64(x)
		case int32:
			return int64(x)
		}
		return v
	}
	conds := func(cs []sqltarget.Cond) []sqltarget.Cond {
		out := append([]sqltarget.Cond(nil), cs...)
		for i := range out {
			out[i].Values = append([]any(nil), out[i].Values...)
			for j := range out[i].Values {
				out[i].Values[j] = norm(out[i].Values[j])
			}
		}
		return out
	}
	specs := append([]sqltarget.Spec(nil), cfg.Specs...)
	for i := range specs {
		s := &specs[i]
		s.Where, s.FindWhere, s.ExportWhere = conds(s.Where), conds(s.FindWhere), conds(s.ExportWhere)
		s.FilterArgs = append([]any(nil), s.FilterArgs...)
		for j := range s.FilterArgs {
			s.FilterArgs[j] = norm(s.FilterArgs[j])
		}
		s.Columns = append([]sqltarget.Column(nil), s.Columns...)
		for j := range s.Columns {
			s.Columns[j].Value = norm(s.Columns[j].Value)
		}
		s.MarkerValue = norm(s.MarkerValue)
	}
	cfg.Specs = specs
	blobs := append([]sqltarget.BlobSpec(nil), cfg.Blobs...)
	for i := range blobs {
		blobs[i].Store, blobs[i].Keys, blobs[i].Variants = nil, nil, nil
		blobs[i].Where = conds(blobs[i].Where)
	}
	cfg.Blobs = blobs
	return cfg
}

// The JSON form of the two worked bindings (what cmd/gdprkit-bindcheck
// reads) says exactly what the Go bindings say, minus what JSON cannot
// hold: the files' store and the functions that compute file keys.
// go test -run TestLoadConfigReadsTheWorkedBindings -update rewrites them.
func TestLoadConfigReadsTheWorkedBindings(t *testing.T) {
	for name, cfg := range map[string]sqltarget.Config{
		"restrict": restrictBinding(nil, sqldb.SQLite, nil),
		"convo":    convoBinding(nil, sqldb.SQLite, nil),
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", name+".binding.json")
			if *update {
				require.NoError(t, os.WriteFile(file, bindingJSON(t, cfg), 0o644))
			}
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			got, err := sqltarget.LoadConfig(f)
			require.NoError(t, err)
			want := withoutCode(cfg)
			require.Equal(t, len(want.Specs), len(got.Specs))
			for i := range want.Specs {
				assert.Equal(t, emptyToNilSpec(want.Specs[i]), got.Specs[i], "spec %s", want.Specs[i].Kind)
			}
			assert.Equal(t, want.Cascade, got.Cascade)
			assert.Equal(t, want.Ignore, got.Ignore)
			require.Equal(t, len(want.Blobs), len(got.Blobs))
			for i := range want.Blobs {
				assert.Equal(t, want.Blobs[i], got.Blobs[i], "blob %s", want.Blobs[i].Kind)
			}
			assert.Empty(t, got.Dialect, "the file leaves the dialect to the reader")
		})
	}
}

// emptyToNilSpec is spec with the zero-length slices a Go literal may
// hold as JSON decoding leaves them (absent), values untouched.
func emptyToNilSpec(s sqltarget.Spec) sqltarget.Spec {
	if len(s.Where) == 0 {
		s.Where = nil
	}
	if len(s.FindWhere) == 0 {
		s.FindWhere = nil
	}
	if len(s.ExportWhere) == 0 {
		s.ExportWhere = nil
	}
	if len(s.FilterArgs) == 0 {
		s.FilterArgs = nil
	}
	if len(s.Columns) == 0 {
		s.Columns = nil
	}
	return s
}

// Whole numbers load as int64, so a JSON binding passes Bind's type checks
// exactly as the Go literal would: the unassigned queue 0 into an integer
// column, a marker value, a filter on an integer column.
func TestLoadConfigNumbersFitIntegerColumns(t *testing.T) {
	const doc = `{
  "specs": [
    {"kind": "person", "table": "people", "key": "id", "subject_column": "id", "marker": "erased_at",
     "default": {"action": "anonymize"}, "identifiers": {"email": "email", "name": "name"},
     "columns": [{"name": "name", "action": "label"}, {"name": "email", "action": "null"}]},
    {"kind": "ticket", "parent": "person", "table": "tickets", "key": "id", "parent_column": "requester_id",
     "where": [{"column": "id", "op": "not in", "values": [0, -1]}]},
    {"kind": "reply", "parent": "ticket", "table": "replies", "key": "id", "parent_column": "ticket_id",
     "filter": "author_id > ?", "filter_args": [0]},
    {"kind": "authored", "table": "replies", "key": "id", "subject_column": "author_id"},
    {"kind": "assigned", "table": "tickets", "key": "id", "subject_column": "assignee_id", "actions": ["anonymize"],
     "columns": [{"name": "assignee_id", "action": "reassign", "value": 1}]}
  ],
  "cascade": ["stats"],
  "ignore": ["audit.person_id"]
}`
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := openSmall(t, d)
			cfg, err := sqltarget.LoadConfig(strings.NewReader(doc))
			require.NoError(t, err)
			assert.Equal(t, int64(1), cfg.Specs[4].Columns[0].Value)
			assert.Equal(t, []any{int64(0), int64(-1)}, cfg.Specs[1].Where[0].Values)
			cfg.DB, cfg.Dialect = db.DB, d
			b, err := sqltarget.Bind(ctx, cfg)
			require.NoError(t, err)
			assert.Equal(t, []erasure.Kind{"reply", "ticket", "assigned", "authored", "person"}, b.Report().Kinds)

			// The same binding with 1.5 as the queue is refused at Bind, as
			// the Go literal 1.5 would be.
			cfg, err = sqltarget.LoadConfig(strings.NewReader(strings.Replace(doc, `"value": 1}`, `"value": 1.5}`, 1)))
			require.NoError(t, err)
			assert.Equal(t, 1.5, cfg.Specs[4].Columns[0].Value)
			cfg.DB, cfg.Dialect = db.DB, d
			_, err = sqltarget.Bind(ctx, cfg)
			assert.Equal(t, []string{"not-null tickets.assignee_id"}, classes(err), "a float64 into an integer column: %v", err)
		})
	}
}

// Bad input is refused with an error that says where, wrapping
// gdprkit.ErrInvalid.
func TestLoadConfigRefusesBadInput(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", ``, "empty input"},
		{"not an object", `[]`, "line 1"},
		{"a misspelt field", "{\"specs\": [\n {\"kind\": \"a\", \"subject_colum\": \"id\"}]}", `unknown field "subject_colum"`},
		{"a syntax error", "{\"specs\": [\n\n {\"kind\": \"a\",}]}", "line 3"},
		{"a number for a string", "{\"specs\": [\n {\"kind\": 7}]}", "specs.kind: a JSON number where a string belongs"},
		{"a string for a list", `{"cascade": "stats"}`, "cascade: a JSON string where an array belongs"},
		{"cut short", `{"specs": [{"kind": "a"`, "ends inside the binding"},
		{"two documents", "{}\n{}", "line 2: more after"},
		{"an array as a value", `{"specs": [{"kind": "a", "where": [{"column": "c", "op": "=", "values": [[1]]}]}]}`, "specs[0] (a).where[0].values[0]: a value must be a string, number, boolean or null, not an array"},
		{"an object as a filter argument", `{"specs": [{"kind": "a", "filter_args": [{"x": 1}]}]}`, "filter_args[0]: a value must be a string, number, boolean or null, not an object"},
		{"an object as a column value", `{"specs": [{"kind": "a", "columns": [{"name": "c", "action": "fixed", "value": {}}]}]}`, "columns[0].value"},
		{"an array as a marker value", `{"specs": [{"kind": "a", "marker_value": []}]}`, "marker_value"},
		{"an array in a blob filter", `{"blobs": [{"kind": "f", "where": [{"column": "c", "op": "in", "values": [{}]}]}]}`, "blobs[0] (f).where[0].values[0]"},
		{"a number out of range", `{"specs": [{"kind": "a", "marker_value": 1e999}]}`, "does not fit"},
		{"an unknown dialect", `{"dialect": "oracle"}`, `dialect "oracle"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := sqltarget.LoadConfig(strings.NewReader(c.in))
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
			assert.Zero(t, cfg.Specs, "nothing but the error")
		})
	}
	_, err := sqltarget.LoadConfig(strings.NewReader(`{"specs": []}` + strings.Repeat(" ", sqltarget.MaxConfigJSON)))
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "too large")
}

// Values keep their JSON type; a whole number is an int64 however it is
// written, one beyond int64 a float64; a dialect that is named is kept.
func TestLoadConfigValues(t *testing.T) {
	cfg, err := sqltarget.LoadConfig(strings.NewReader(`{"dialect": "postgres", "specs": [{"kind": "a",
		"where": [{"column": "c", "op": "in", "values": ["x", 3, 2.5, true, null, 99999999999999999999, 1e3, 2.0]}],
		"columns": [{"name": "n", "action": "fixed", "value": "Former"}]}]}`))
	require.NoError(t, err)
	assert.Equal(t, sqldb.Postgres, cfg.Dialect)
	assert.Equal(t, []any{"x", int64(3), 2.5, true, nil, 1e20, int64(1000), int64(2)}, cfg.Specs[0].Where[0].Values)
	assert.Equal(t, "Former", cfg.Specs[0].Columns[0].Value)
	assert.Nil(t, cfg.Specs[0].MarkerValue)
}

// LoadConfig never panics, and what it loads survives a round trip
// through JSON unchanged.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"restrict", "convo"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".binding.json"))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"specs":[{"kind":"a","where":[{"column":"c","op":"=","values":[1,1.5,"x",null,true]}],"marker_value":2}]}`))
	f.Add([]byte(`{"blobs":[{"kind":"f","where":[{"column":"c","op":"in","values":[-0, 1e3]}]}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := sqltarget.LoadConfig(bytes.NewReader(in))
		if err != nil {
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			return
		}
		out, err := json.Marshal(cfg)
		require.NoError(t, err)
		again, err := sqltarget.LoadConfig(bytes.NewReader(out))
		require.NoError(t, err, "%s", out)
		out2, err := json.Marshal(again)
		require.NoError(t, err)
		assert.Equal(t, string(out), string(out2))
	})
}
