package sqltarget_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure/sqltarget"
)

// guidePath is the binding guide, from this package's directory.
var guidePath = filepath.Join("..", "..", "docs", "binding-an-existing-schema.md")

// block is one fenced code block of a Markdown page.
type block struct {
	lang   string
	marker string // the <!-- from: … --> or <!-- output: … --> line before it
	lines  []string
	at     int // line number of the opening fence
}

var markerRe = regexp.MustCompile(`^\s*<!--\s*(from|output):\s*(.+?)\s*-->\s*$`)

// guideBlocks returns the fenced blocks of a Markdown page with the marker
// comment on the line before each (marker "" when there is none).
func guideBlocks(t *testing.T, page string) []block {
	t.Helper()
	var out []block
	lines := strings.Split(page, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "```") {
			continue
		}
		b := block{lang: strings.TrimPrefix(l, "```"), at: i + 1}
		if i > 0 {
			if m := markerRe.FindStringSubmatch(lines[i-1]); m != nil {
				b.marker = m[1] + ": " + m[2]
			}
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.lines = append(b.lines, lines[i])
		}
		require.Less(t, i, len(lines), "an unclosed block at line %d", b.at)
		out = append(out, b)
	}
	return out
}

// chunks splits lines at elision lines (elide reports them), trimming
// every line and dropping blank ones.
func chunks(lines []string, elide func(string) bool) [][]string {
	out := [][]string{nil}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case elide(l):
			out = append(out, nil)
		case l != "":
			out[len(out)-1] = append(out[len(out)-1], l)
		}
	}
	return out
}

// trimmed returns text's lines trimmed, blank ones dropped.
func trimmed(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// indexRun returns where run occurs as consecutive lines of lines at or
// after from, or -1.
func indexRun(lines, run []string, from int) int {
	for i := from; i+len(run) <= len(lines); i++ {
		ok := true
		for j := range run {
			if lines[i+j] != run[j] {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// inOrder reports whether every chunk occurs in lines, consecutively
// within itself, the chunks in order.
func inOrder(lines []string, cs [][]string) (bool, []string) {
	at := 0
	for _, c := range cs {
		if len(c) == 0 {
			continue
		}
		i := indexRun(lines, c, at)
		if i < 0 {
			return false, c
		}
		at = i + len(c)
	}
	return true, nil
}

// exampleOutputs returns the Output of every Example function in this
// package's test files, by function name.
func exampleOutputs(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	var files []*ast.File
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	out := map[string]string{}
	for _, ex := range doc.Examples(files...) {
		out["Example"+ex.Name] = ex.Output // Name: "Bind_refused", "_planReceiptActual"
	}
	return out
}

// The binding guide cannot rot: every Go snippet is an excerpt of the file
// its marker names (consecutive lines, "// …" between the parts left
// out), every output block is lines of what the Example its marker names
// prints (checked by `go test` against the Example's // Output:), and
// every JSON block is a binding LoadConfig reads, excerpted from the file
// named. Outputs of gdprkit-bindcheck are checked by its own tests.
func TestGuide(t *testing.T) {
	page, err := os.ReadFile(guidePath)
	require.NoError(t, err)
	outputs := exampleOutputs(t)
	var goBlocks, outBlocks, jsonBlocks int
	for _, b := range guideBlocks(t, string(page)) {
		switch b.lang {
		case "go":
			goBlocks++
			file, ok := strings.CutPrefix(b.marker, "from: ")
			if !assert.True(t, ok, "the Go block at line %d needs <!-- from: path --> on the line before it", b.at) {
				continue
			}
			src, err := os.ReadFile(filepath.Join("..", "..", file))
			if !assert.NoError(t, err, "block at line %d", b.at) {
				continue
			}
			cs := chunks(b.lines, func(l string) bool { return l == "// …" })
			for _, c := range cs {
				assert.NotEmpty(t, c, "the Go block at line %d has an empty part", b.at)
				assert.GreaterOrEqual(t, indexRun(trimmed(string(src)), c, 0), 0,
					"the Go block at line %d is not in %s; this part differs:\n%s", b.at, file, strings.Join(c, "\n"))
			}
		case "text":
			name, ok := strings.CutPrefix(b.marker, "output: ")
			if !assert.True(t, ok, "the text block at line %d needs <!-- output: ExampleName --> on the line before it", b.at) {
				continue
			}
			if strings.HasPrefix(name, "gdprkit-bindcheck ") {
				continue // cmd/gdprkit-bindcheck's TestGuideShowsRealOutput
			}
			outBlocks++
			want, found := outputs[name]
			if !assert.True(t, found, "the text block at line %d names %s, which is no Example of this package", b.at, name) {
				continue
			}
			ok, missing := inOrder(trimmed(want), chunks(b.lines, func(l string) bool { return l == "…" }))
			assert.True(t, ok, "the text block at line %d is not what %s prints; this part differs:\n%s", b.at, name, strings.Join(missing, "\n"))
		case "json":
			jsonBlocks++
			_, err := sqltarget.LoadConfig(strings.NewReader(strings.Join(b.lines, "\n")))
			assert.NoError(t, err, "the JSON block at line %d", b.at)
			if file, ok := strings.CutPrefix(b.marker, "from: "); ok {
				src, err := os.ReadFile(filepath.Join("..", "..", file))
				require.NoError(t, err)
				have := map[string]bool{}
				for _, l := range trimmed(string(src)) {
					have[strings.TrimSuffix(l, ",")] = true
				}
				for _, l := range trimmed(strings.Join(b.lines, "\n")) {
					assert.True(t, have[strings.TrimSuffix(l, ",")], "the JSON block at line %d has a line %s does not: %s", b.at, file, l)
				}
			}
		}
	}
	assert.Positive(t, goBlocks)
	assert.Positive(t, outBlocks)
	assert.Positive(t, jsonBlocks)
}

// The checks of TestGuide can fail: a changed line, a line out of order,
// a part missing.
func TestGuideChecksCanFail(t *testing.T) {
	src := trimmed("a\nb\nc\nd\ne")
	ok, _ := inOrder(src, chunks([]string{"b", "c", "…", "e"}, func(l string) bool { return l == "…" }))
	assert.True(t, ok)
	ok, _ = inOrder(src, chunks([]string{"b", "d"}, func(l string) bool { return l == "…" }))
	assert.False(t, ok, "b and d are not consecutive")
	ok, _ = inOrder(src, chunks([]string{"d", "…", "b"}, func(l string) bool { return l == "…" }))
	assert.False(t, ok, "out of order")
	assert.Equal(t, -1, indexRun(src, []string{"c", "x"}, 0))
	bs := guideBlocks(t, "x\n<!-- from: a.go -->\n```go\n\tfoo()\n```\n```text\nbar\n```\n")
	require.Len(t, bs, 2)
	assert.Equal(t, "from: a.go", bs[0].marker)
	assert.Equal(t, []string{"\tfoo()"}, bs[0].lines)
	assert.Empty(t, bs[1].marker)
}
