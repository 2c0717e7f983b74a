package hostfixture

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const canonicalTime = "2006-01-02 15:04:05.999999"

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04",
	"2006-01-02",
}

// canonical turns a scanned value into its canonical Value.
func canonical(k valueKind, v any) Value {
	if v == nil {
		return Null
	}
	var s string
	isText := false
	switch x := v.(type) {
	case []byte:
		if k == kBinary {
			return Text(`\x` + hex.EncodeToString(x))
		}
		s, isText = string(x), true
	case string:
		s, isText = x, true
	case int64:
		switch k {
		case kBool:
			if x == 0 || x == 1 {
				return Text(strconv.FormatBool(x == 1))
			}
		case kTime:
			return Text(time.Unix(x, 0).UTC().Format(canonicalTime))
		}
		return Text(strconv.FormatInt(x, 10))
	case int32:
		return canonical(k, int64(x))
	case int16:
		return canonical(k, int64(x))
	case int8:
		return canonical(k, int64(x))
	case int:
		return canonical(k, int64(x))
	case float64:
		if k == kInt && x == float64(int64(x)) {
			return Text(strconv.FormatInt(int64(x), 10))
		}
		return Text(strconv.FormatFloat(x, 'f', -1, 64))
	case float32:
		return canonical(k, float64(x))
	case bool:
		return Text(strconv.FormatBool(x))
	case time.Time:
		return Text(x.UTC().Format(canonicalTime))
	default:
		return Text(fmt.Sprint(v))
	}
	if !isText {
		return Text(s)
	}
	switch k {
	case kInt:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return Text(strconv.FormatInt(n, 10))
		}
	case kBool:
		switch strings.ToLower(s) {
		case "1", "t", "true":
			return Text("true")
		case "0", "f", "false":
			return Text("false")
		}
	case kTime:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return Text(t.UTC().Format(canonicalTime))
			}
		}
	case kNumber:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return Text(strconv.FormatFloat(f, 'f', -1, 64))
		}
	case kJSON:
		if j, ok := canonicalJSON([]byte(s)); ok {
			return Text(j)
		}
	case kArray:
		if j, ok := pgArrayToJSON(s); ok {
			return Text(j)
		}
	}
	return Text(s)
}

// canonicalJSON re-encodes a JSON document compactly, object keys sorted,
// numbers as written, without HTML escaping.
func canonicalJSON(b []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(out.String(), "\n"), true
}

// pgArrayToJSON converts a one-dimensional PostgreSQL array literal
// ({1,2,NULL} or {"a b",c}) to a canonical JSON array: elements that are
// numbers stay numbers, NULL becomes null, everything else a string.
func pgArrayToJSON(s string) (string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return "", false
	}
	body := s[1 : len(s)-1]
	var elems []any
	if body != "" {
		for i := 0; i <= len(body); {
			if i < len(body) && body[i] == '{' {
				return "", false // multi-dimensional: keep the literal
			}
			var el string
			quoted := false
			if i < len(body) && body[i] == '"' {
				quoted = true
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
				el = b.String()
			} else {
				j := strings.IndexByte(body[i:], ',')
				if j < 0 {
					j = len(body) - i
				}
				el = body[i : i+j]
				i += j
			}
			switch {
			case !quoted && el == "NULL":
				elems = append(elems, nil)
			case !quoted && isJSONNumber(el):
				elems = append(elems, json.Number(el))
			default:
				elems = append(elems, el)
			}
			if i >= len(body) {
				break
			}
			if body[i] != ',' {
				return "", false
			}
			i++
		}
	}
	if elems == nil {
		elems = []any{}
	}
	b, err := json.Marshal(elems)
	if err != nil {
		return "", false
	}
	return canonicalJSON(b)
}

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	return (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && json.Valid([]byte(s))
}

// naturalLess orders strings with runs of digits compared as numbers, so
// "id=9" sorts before "id=10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
