package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// root is the module root, seen from this package's directory.
const root = "../../.."

// The package map in docs/architecture.md is what `go list ./...` says
// today. When a package is added, removed, re-documented or its imports
// change, this fails until `go run ./internal/cmd/pkgmap -w` is run.
func TestDocMapMatchesGoList(t *testing.T) {
	want, err := Render(root)
	if err != nil {
		t.Fatal(err)
	}
	touchSources(t)
	doc, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Current(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSpace(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(strings.TrimSpace(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("first difference, line %d of the map:\n doc:     %s\n go list: %s", i+1, g, w)
				break
			}
		}
		t.Fatalf("the package map in %s is stale: run go run ./internal/cmd/pkgmap -w", docPath)
	}
}

// touchSources stats every Go file of the module so that go test's cache,
// which records the files a test looks at, reruns this test when any of
// them changes (the output of go list itself is not recorded).
func touchSources(t *testing.T) {
	t.Helper()
	ps, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := os.ReadDir(p.Dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range append(slices.Clip(p.GoFiles), p.TestGoFiles...) {
			if _, err := os.Stat(filepath.Join(p.Dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The dependency rules docs/architecture.md states hold for the code.
func TestDependenciesRunOneWay(t *testing.T) {
	ps, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	touchSources(t)
	domain := []string{"authn", "breach", "consent", "erasure", "ipfilter", "processing", "retention", "spam", "staffaccess", "sqldb"}
	kit := []string{"authn", "breach", "consent", "ipfilter", "retention", "spam", "staffaccess", "processing"}
	seen := 0
	for _, p := range ps {
		name := short(p.ImportPath)
		var own []string
		for _, i := range p.Imports {
			if i == module || strings.HasPrefix(i, module+"/") {
				own = append(own, short(i))
			}
		}
		switch {
		case name == ".":
			seen++
			if len(own) > 0 {
				t.Errorf("the root package imports %v; it must import no other package of the module", own)
			}
		case slices.Contains(domain, name):
			seen++
			for _, i := range own {
				if strings.HasPrefix(i, "store") || strings.HasPrefix(i, "examples") || strings.HasPrefix(i, "internal/testdb") || strings.HasPrefix(i, "internal/hostfixture") {
					t.Errorf("domain package %s imports %s: domain packages never import an adapter, an example or test tooling", name, i)
				}
			}
		}
		if slices.Contains(kit, name) && name != "processing" || name == "erasure" || name == "sqldb" {
			for _, i := range own {
				if i != "." && i != "internal/chain" {
					t.Errorf("domain package %s imports %s: domain packages import only the root package (and internal/chain); the host connects them through small interfaces", name, i)
				}
			}
		}
		if name == "erasure" {
			for _, i := range own {
				if slices.Contains(kit, i) {
					t.Errorf("erasure imports %s: the engine stands alone; gdprkit's own data is bound in erasure/kitdata", i)
				}
			}
		}
		if !strings.HasPrefix(name, "examples") {
			for _, i := range own {
				if strings.HasPrefix(i, "examples") {
					t.Errorf("%s imports %s: nothing imports the examples", name, i)
				}
			}
		}
	}
	if seen != len(domain)+1 {
		t.Fatalf("found %d of the %d root and domain packages in go list", seen, len(domain)+1)
	}
}

func TestReplaceKeepsTheTextAroundTheMap(t *testing.T) {
	doc := "# Title\n\nbefore\n\n" + BeginMarker + "\n\nold map\n" + EndMarker + "\n\nafter\n"
	next, err := Replace(doc, "| new | map |\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nbefore\n\n" + BeginMarker + "\n\n| new | map |\n\n" + EndMarker + "\n\nafter\n"
	if next != want {
		t.Fatalf("Replace:\n%q\nwant\n%q", next, want)
	}
	m, err := Current(next)
	if err != nil || m != "| new | map |" {
		t.Fatalf("Current = %q, %v", m, err)
	}
	if _, err := Replace("no markers here", "x"); err == nil {
		t.Fatal("Replace without markers: no error")
	}
	if _, err := Current(EndMarker + BeginMarker); err == nil {
		t.Fatal("Current with the markers reversed: no error")
	}
}

func TestSynopsisDoesNotStopAtAnAbbreviation(t *testing.T) {
	dir := t.TempDir()
	src := "// Package x keeps what GDPR Art. 30 asks, e.g. a record. It does more.\npackage x\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := synopsis(pkg{ImportPath: module + "/x", Name: "x", Dir: dir, GoFiles: []string{"x.go"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Package x keeps what GDPR Art. 30 asks, e.g. a record."; got != want {
		t.Fatalf("synopsis = %q, want %q", got, want)
	}
	if _, err := synopsis(pkg{ImportPath: module + "/y", Name: "y", Dir: dir}); err == nil {
		t.Fatal("a package without documentation: no error")
	}
}
