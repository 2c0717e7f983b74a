package sqltarget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// MaxConfigJSON is the largest binding LoadConfig reads: 16 MiB, far above
// any helpdesk's (the restrict binding, 40 kinds, takes 8 KiB).
const MaxConfigJSON = 16 << 20

// LoadConfig reads a binding written as JSON: the JSON form of Config
// ({"dialect": …, "specs": […], "blobs": […], "cascade": […], "ignore":
// […]}, field names as in the struct tags of Config, Spec, BlobSpec,
// Column and Cond), so the same file can serve the host's program and its
// CI (cmd/gdprkit-bindcheck).
//
// What JSON cannot hold stays zero and is the caller's to set: Config.DB,
// BlobSpec.Store, and the functions BlobSpec.Keys and BlobSpec.Variants
// (a blob spec with computed keys lists the Columns its Keys reads and
// leaves key_column out). Dialect may be left out too.
//
// Values — Cond.Values, Spec.FilterArgs, Column.Value, Spec.MarkerValue —
// come out as Go values of their JSON type: a whole number within int64's
// range as int64, however written (1, 1.0, 1e3), so it fits an integer
// column the way the Go literal 1 does; any other number as float64; strings, booleans and nil; an array or object there is
// refused. Unknown fields are refused too, so a misspelt "subject_colum"
// cannot silently drop a check.
//
// Errors wrap gdprkit.ErrInvalid and say where (line, or the field);
// nothing is returned but the error. LoadConfig checks the form of the
// file, not the binding: Bind and Coverage check that against the
// database.
func LoadConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigJSON+1))
	if err != nil {
		return Config{}, fmt.Errorf("sqltarget: read the binding: %w", err)
	}
	if len(data) > MaxConfigJSON {
		return Config{}, fmt.Errorf("%w: sqltarget: the binding is larger than %d bytes", gdprkit.ErrInvalid, MaxConfigJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%w: sqltarget: binding JSON: %s", gdprkit.ErrInvalid, describeJSONError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, fmt.Errorf("%w: sqltarget: binding JSON: %s: more after the binding's closing brace", gdprkit.ErrInvalid, lineOf(data, dec.InputOffset()))
	}
	if cfg.Dialect != "" {
		if err := cfg.Dialect.Validate(); err != nil {
			return Config{}, fmt.Errorf("%w: sqltarget: binding JSON: dialect %q: use sqlite, postgres or mysql", gdprkit.ErrInvalid, truncate(string(cfg.Dialect)))
		}
	}
	for i := range cfg.Specs {
		s := &cfg.Specs[i]
		at := fmt.Sprintf("specs[%d] (%s)", i, truncate(string(s.Kind)))
		if err := scalars(at+".where", s.Where); err != nil {
			return Config{}, err
		}
		if err := scalars(at+".find_where", s.FindWhere); err != nil {
			return Config{}, err
		}
		if err := scalars(at+".export_where", s.ExportWhere); err != nil {
			return Config{}, err
		}
		for j := range s.FilterArgs {
			if s.FilterArgs[j], err = scalar(fmt.Sprintf("%s.filter_args[%d]", at, j), s.FilterArgs[j]); err != nil {
				return Config{}, err
			}
		}
		for j := range s.Columns {
			if s.Columns[j].Value, err = scalar(fmt.Sprintf("%s.columns[%d].value", at, j), s.Columns[j].Value); err != nil {
				return Config{}, err
			}
		}
		if s.MarkerValue, err = scalar(at+".marker_value", s.MarkerValue); err != nil {
			return Config{}, err
		}
	}
	for i := range cfg.Blobs {
		if err := scalars(fmt.Sprintf("blobs[%d] (%s).where", i, truncate(string(cfg.Blobs[i].Kind))), cfg.Blobs[i].Where); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// scalars converts the values of conds in place.
func scalars(at string, conds []Cond) error {
	for i := range conds {
		for j := range conds[i].Values {
			v, err := scalar(fmt.Sprintf("%s[%d].values[%d]", at, i, j), conds[i].Values[j])
			if err != nil {
				return err
			}
			conds[i].Values[j] = v
		}
	}
	return nil
}

// scalar turns a decoded JSON value into the Go value a spec holds: a
// whole number into int64, another number into float64; strings, booleans
// and null as they are. Arrays and objects are refused.
func scalar(at string, v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return v, nil
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: sqltarget: binding JSON: %s: the number %s does not fit", gdprkit.ErrInvalid, at, truncate(string(x)))
		}
		if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil // 1.0, 1e3: whole, however written
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: sqltarget: binding JSON: %s: a value must be a string, number, boolean or null, not %s", gdprkit.ErrInvalid, at, jsonType(v))
}

func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// describeJSONError says where a decoding error is: the line for syntax
// and type errors, and the field for type errors.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s: %v", lineOf(data, syn.Offset), syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the binding"
		}
		return fmt.Sprintf("%s: %s: a JSON %s where %s belongs", lineOf(data, typ.Offset), field, typ.Value, goType(typ.Type.String()))
	case errors.Is(err, io.EOF):
		return "empty input: a binding is one JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the input ends inside the binding"
	}
	return err.Error() // unknown fields: `json: unknown field "subject_colum"`
}

// goType names a Go type the way a JSON author reads it.
func goType(t string) string {
	switch t {
	case "string", "erasure.Kind", "erasure.Action", "sqltarget.ColumnAction", "sqltarget.Op", "sqldb.Dialect":
		return "a string"
	case "bool":
		return "true or false"
	}
	if len(t) > 2 && t[:2] == "[]" {
		return "an array"
	}
	if len(t) > 4 && t[:4] == "map[" {
		return "an object"
	}
	return "an object (" + t + ")"
}

// lineOf returns "line N" for a byte offset into data.
func lineOf(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return "line " + strconv.Itoa(1+bytes.Count(data[:off], []byte("\n")))
}
