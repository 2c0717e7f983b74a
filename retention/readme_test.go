package retention_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit/retention"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the diagram in README.md from the transition table")

const (
	diagramBegin = "<!-- BEGIN generated lifecycle diagram: go test ./retention -run TestREADMEDiagram -update-readme -->\n```mermaid\n"
	diagramEnd   = "```\n<!-- END generated lifecycle diagram -->"
)

// The README's diagram is generated from Table: docs never drift from code.
func TestREADMEDiagram(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, diagramBegin)
	j := strings.Index(readme, diagramEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the generated diagram markers %q … %q", diagramBegin, diagramEnd)
	}
	want := retention.Diagram(retention.DefaultPolicy())
	got := readme[i+len(diagramBegin) : j]
	if got == want {
		return
	}
	if *updateREADME {
		readme = readme[:i+len(diagramBegin)] + want + readme[j:]
		if err := os.WriteFile("README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md diagram differs from Diagram(DefaultPolicy()); run go test ./retention -run TestREADMEDiagram -update-readme\n--- README\n%s--- generated\n%s", got, want)
}
