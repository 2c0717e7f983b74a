package hostfixture

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeSection renders fixture f's table list and foreign-key list for
// README.md, from the same model Create uses.
func readmeSection(f Name) string {
	s, err := schemaOf(f)
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	b.WriteString("| table | primary key | what it holds |\n|---|---|---|\n")
	for _, t := range s.tables {
		pk := "none"
		if len(t.pk) > 0 {
			pk = "`" + strings.Join(t.pk, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", t.name, pk, strings.ReplaceAll(t.comment, "\n", " "))
	}
	fks, _ := ForeignKeys(f)
	fmt.Fprintf(&b, "\n%d foreign keys", len(fks))
	count := map[string]int{}
	for _, k := range fks {
		count[k.OnDelete]++
	}
	var parts []string
	for _, a := range []string{"CASCADE", "SET NULL", "NO ACTION"} {
		if count[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[a], a))
		}
	}
	fmt.Fprintf(&b, " (%s):\n\n| column | references | ON DELETE |\n|---|---|---|\n", strings.Join(parts, ", "))
	for i := 0; i < len(fks); i++ {
		k := fks[i]
		// Audit columns come in pairs: one line for both.
		if k.Column == "create_by" && i+1 < len(fks) && fks[i+1].Table == k.Table && fks[i+1].Column == "change_by" {
			fmt.Fprintf(&b, "| `%s.create_by`, `%s.change_by` | `%s.%s` | %s |\n", k.Table, k.Table, k.RefTable, k.RefColumn, k.OnDelete)
			i++
			continue
		}
		fmt.Fprintf(&b, "| `%s.%s` | `%s.%s` | %s |\n", k.Table, k.Column, k.RefTable, k.RefColumn, k.OnDelete)
	}
	return b.String()
}

// README.md's table and foreign-key lists are the model's: regenerated
// with -update, checked otherwise.
func TestReadmeListsUpToDate(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	doc := string(raw)
	for _, f := range Fixtures() {
		begin, end := "<!-- generated:"+string(f)+" -->\n", "<!-- end:"+string(f)+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		require.True(t, i >= 0 && j > i, "README.md lacks the %s markers", f)
		want := readmeSection(f)
		if *update {
			doc = doc[:i+len(begin)] + want + doc[j:]
			continue
		}
		require.Equal(t, want, doc[i+len(begin):j], "README.md's %s lists are stale: go test ./internal/hostfixture -run TestReadmeListsUpToDate -update", f)
	}
	if *update {
		require.NoError(t, os.WriteFile("README.md", []byte(doc), 0o644))
	}
}
