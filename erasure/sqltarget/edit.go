package sqltarget

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// redacted replaces identifiers in free text.
const redacted = "[redacted]"

// minNeedle is the shortest identifier looked for in other rows: shorter
// values ("Al", "42") would match too much.
const minNeedle = 4

// needles returns the values to look for in other rows' text and JSON.
func needles(ids []erasure.Identifier) []erasure.Identifier {
	var out []erasure.Identifier
	for _, id := range ids {
		v := strings.TrimSpace(id.Value)
		if utf8.RuneCountInString(v) < minNeedle {
			continue
		}
		out = append(out, erasure.Identifier{Kind: id.Kind, Value: v})
	}
	return out
}

// pathSeg is one step of a JSON path: an object key, or every element of
// an array ("[]").
type pathSeg struct {
	key string
	all bool
}

// parsePath parses "a.b[].c".
func parsePath(p string) ([]pathSeg, error) {
	if p == "" {
		return nil, fmt.Errorf("%w: empty JSON path", gdprkit.ErrInvalid)
	}
	var out []pathSeg
	for _, part := range strings.Split(p, ".") {
		arr := strings.HasSuffix(part, "[]")
		part = strings.TrimSuffix(part, "[]")
		if part == "" || strings.ContainsAny(part, "[]") {
			return nil, fmt.Errorf("%w: bad JSON path %q (keys separated by dots, [] for every element)", gdprkit.ErrInvalid, truncate(p))
		}
		out = append(out, pathSeg{key: part})
		if arr {
			out = append(out, pathSeg{all: true})
		}
	}
	return out, nil
}

// matchString reports whether s names one of the needles: equal to it
// (case and surrounding space ignored), or, for an e-mail address,
// containing it ("Ana <ana@example.com>").
func matchString(s string, ns []erasure.Identifier) bool {
	ls := strings.ToLower(strings.TrimSpace(s))
	for _, n := range ns {
		lv := strings.ToLower(n.Value)
		if ls == lv || (strings.Contains(lv, "@") && containsWord(ls, lv)) {
			return true
		}
	}
	return false
}

// matchValue reports whether a JSON value names a needle: a matching
// string, a number equal to the subject's key, or an object with such a
// value among its fields.
func matchValue(v any, ns []erasure.Identifier, key string) bool {
	switch x := v.(type) {
	case string:
		return matchString(x, ns) || (key != "" && x == key)
	case json.Number:
		return key != "" && x.String() == key
	case map[string]any:
		for _, f := range x {
			switch f.(type) {
			case string, json.Number:
				if matchValue(f, ns, key) {
					return true
				}
			}
		}
	}
	return false
}

// editJSON removes (or, with label set, replaces) the values naming the
// subject at paths (everywhere when paths is empty) in the JSON document
// doc, and reports whether anything changed.
func editJSON(doc []byte, paths [][]pathSeg, ns []erasure.Identifier, key, label string) ([]byte, bool, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return doc, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return doc, false, fmt.Errorf("%w: not JSON: %v", gdprkit.ErrInvalid, err)
	}
	changed := false
	if len(paths) == 0 {
		v = scrub(v, ns, key, label, &changed)
	} else {
		for _, p := range paths {
			v = atPath(v, p, ns, key, label, &changed)
		}
	}
	if !changed {
		return doc, false, nil
	}
	out, err := json.Marshal(v)
	return out, true, err
}

// atPath applies the edit to the value(s) at path p below v.
func atPath(v any, p []pathSeg, ns []erasure.Identifier, key, label string, changed *bool) any {
	if len(p) == 0 {
		return editValue(v, ns, key, label, changed)
	}
	switch x := v.(type) {
	case map[string]any:
		if p[0].all {
			return v
		}
		f, ok := x[p[0].key]
		if !ok {
			return v
		}
		if len(p) == 1 && label == "" && !isContainer(f) && matchValue(f, ns, key) {
			delete(x, p[0].key)
			*changed = true
			return x
		}
		x[p[0].key] = atPath(f, p[1:], ns, key, label, changed)
		return x
	case []any:
		if !p[0].all {
			return v
		}
		out := x[:0:0]
		for _, e := range x {
			if len(p) == 1 && label == "" && matchValue(e, ns, key) {
				*changed = true
				continue
			}
			out = append(out, atPath(e, p[1:], ns, key, label, changed))
		}
		return out
	}
	return v
}

func isContainer(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// editValue edits the value a path points at: an array loses (or has
// replaced) its elements that name the subject; a matching string or
// object is replaced by the label or becomes null.
func editValue(v any, ns []erasure.Identifier, key, label string, changed *bool) any {
	switch x := v.(type) {
	case []any:
		out := x[:0:0]
		for _, e := range x {
			if matchValue(e, ns, key) {
				*changed = true
				if label != "" {
					out = append(out, label)
				}
				continue
			}
			out = append(out, e)
		}
		return out
	default:
		if matchValue(v, ns, key) {
			*changed = true
			if label != "" {
				return label
			}
			return nil
		}
		if x, ok := v.(string); ok {
			if out, ok := redact(x, ns); ok {
				*changed = true
				return out
			}
		}
	}
	return v
}

// scrub edits the whole document: every array element, object field and
// string naming the subject; a longer string that mentions them has the
// mention redacted.
func scrub(v any, ns []erasure.Identifier, key, label string, changed *bool) any {
	switch x := v.(type) {
	case string:
		if out, ok := redact(x, ns); ok {
			*changed = true
			return out
		}
		return x
	case map[string]any:
		for k, f := range x {
			if !isContainer(f) && matchValue(f, ns, key) {
				*changed = true
				if label != "" {
					x[k] = label
				} else {
					delete(x, k)
				}
				continue
			}
			x[k] = scrub(f, ns, key, label, changed)
		}
		return x
	case []any:
		out := x[:0:0]
		for _, e := range x {
			if matchValue(e, ns, key) {
				*changed = true
				if label != "" {
					out = append(out, label)
				}
				continue
			}
			out = append(out, scrub(e, ns, key, label, changed))
		}
		return out
	}
	return v
}

// removeFromJSONArray removes the subject's key (as a number or a string)
// from a JSON array.
func removeFromJSONArray(doc []byte, key string) ([]byte, bool, error) {
	if len(bytes.TrimSpace(doc)) == 0 || key == "" {
		return doc, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v []any
	if err := dec.Decode(&v); err != nil {
		return doc, false, fmt.Errorf("%w: not a JSON array: %v", gdprkit.ErrInvalid, err)
	}
	out := v[:0:0]
	for _, e := range v {
		switch x := e.(type) {
		case json.Number:
			if x.String() == key {
				continue
			}
		case string:
			if x == key {
				continue
			}
		}
		out = append(out, e)
	}
	if len(out) == len(v) {
		return doc, false, nil
	}
	b, err := json.Marshal(out)
	return b, true, err
}

// redact replaces every occurrence of a needle in text (case ignored; a
// name only as whole words) with "[redacted]".
func redact(text string, ns []erasure.Identifier) (string, bool) {
	changed := false
	for _, n := range ns {
		out, ok := replaceWord(text, n.Value, redacted)
		if ok {
			text, changed = out, true
		}
	}
	return text, changed
}

// containsWord reports whether s holds needle as a whole word (lower
// case both).
func containsWord(s, needle string) bool {
	_, ok := replaceWord(s, needle, "")
	return ok
}

// replaceWord replaces, case ignored, every occurrence of needle in s that
// does not run into a letter or digit on either side.
func replaceWord(s, needle, with string) (string, bool) {
	if needle == "" {
		return s, false
	}
	ls, ln := strings.ToLower(s), strings.ToLower(needle)
	if len(ls) != len(s) {
		// Lower-casing changed byte lengths (rare scripts): fall back to
		// exact matches only.
		ls, ln = s, needle
	}
	var b strings.Builder
	changed := false
	i := 0
	for {
		j := strings.Index(ls[i:], ln)
		if j < 0 {
			break
		}
		j += i
		end := j + len(ln)
		before, _ := utf8.DecodeLastRuneInString(s[:j])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (j > 0 && wordRune(before)) || (end < len(s) && wordRune(after)) {
			b.WriteString(s[i : j+1])
			i = j + 1
			continue
		}
		b.WriteString(s[i:j])
		b.WriteString(with)
		i, changed = end, true
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[i:])
	return b.String(), true
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// pgArray parses a PostgreSQL array literal of one dimension ({1,2,"a b"})
// into its elements; NULL elements are nil.
func pgArray(s string) ([]*string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("%w: not an array literal", gdprkit.ErrInvalid)
	}
	body := s[1 : len(s)-1]
	var out []*string
	for i := 0; i < len(body); {
		if body[i] == '"' {
			var b strings.Builder
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
				i++
			}
			i++ // closing quote
			v := b.String()
			out = append(out, &v)
		} else {
			j := strings.IndexByte(body[i:], ',')
			if j < 0 {
				j = len(body) - i
			}
			v := strings.TrimSpace(body[i : i+j])
			if strings.EqualFold(v, "NULL") {
				out = append(out, nil)
			} else {
				out = append(out, &v)
			}
			i += j
		}
		if i < len(body) && body[i] == ',' {
			i++
		}
	}
	return out, nil
}

// pgArrayJSON turns a PostgreSQL array literal into a JSON array: numbers
// stay numbers when numeric is set.
func pgArrayJSON(s string, numeric bool) (json.RawMessage, error) {
	els, err := pgArray(s)
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(els))
	for i, e := range els {
		switch {
		case e == nil:
		case numeric:
			if _, err := strconv.ParseFloat(*e, 64); err == nil && json.Valid([]byte(*e)) {
				vals[i] = json.Number(*e)
			} else {
				vals[i] = *e // not a JSON number ("000", "NaN"): keep the text
			}
		default:
			vals[i] = *e
		}
	}
	return json.Marshal(vals)
}
