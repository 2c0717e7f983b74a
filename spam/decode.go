package spam

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// charsetDecoder returns a decoder for a MIME charset name; an unknown name
// decodes as Windows-1252, the charset mislabelled mail most often is in.
func charsetDecoder(name string) *encoding.Decoder { return charsetEncoding(name).NewDecoder() }

// charsetEncoding returns the encoding of a MIME charset name, Windows-1252
// for an unknown name.
func charsetEncoding(name string) encoding.Encoding {
	if e, err := htmlindex.Get(strings.Trim(name, "\"' ")); err == nil {
		return e
	}
	return charmap.Windows1252
}

// toUTF8 converts text in charset to valid UTF-8. Text labelled UTF-8 or
// ASCII (or not labelled) that is not valid UTF-8 is read as Windows-1252.
func toUTF8(b []byte, charset string) string {
	cs := strings.ToLower(strings.Trim(charset, "\"' "))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if utf8.Valid(b) {
			return string(b)
		}
		cs = "windows-1252"
	}
	e := charsetEncoding(cs)
	if _, single := e.(*charmap.Charmap); single && isASCIIBytes(b) {
		// Every single-byte charset a mail client labels text with (the
		// web's: ISO-8859-*, Windows-125*, KOI8-*, …) keeps ASCII as it
		// is, and most text labelled with one is ASCII.
		return string(b)
	}
	out, err := e.NewDecoder().Bytes(b)
	if err != nil {
		out = b
	}
	if utf8.Valid(out) {
		return string(out)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// stringToUTF8 is toUTF8 for text already in a string, without copying it
// when it needs no conversion.
func stringToUTF8(t, charset string) string {
	cs := strings.ToLower(strings.Trim(charset, "\"' "))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if utf8.ValidString(t) {
			return t
		}
		cs = "windows-1252"
	}
	if _, single := charsetEncoding(cs).(*charmap.Charmap); single && isASCII(t) {
		return t
	}
	return toUTF8([]byte(t), cs)
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func decodeHeader(v string) string {
	if len(v) > maxDecoded {
		v = v[:maxDecoded]
	}
	if strings.Contains(v, "=?") {
		// RFC 2047 encoded words, in any charset x/text knows. Each word
		// is decoded whole into a bytes.Reader: a transform.Reader would
		// cost its buffers, and mime's copy of it another 32 KiB, per
		// word, which a header of thousands of tiny words multiplies.
		wd := mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			out, err := charsetDecoder(charset).Bytes(b)
			if err != nil {
				return nil, err
			}
			return bytes.NewReader(out), nil
		}}
		if d, err := wd.DecodeHeader(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		v = toUTF8([]byte(v), "windows-1252")
	}
	return v
}

// decodeTransfer undoes a Content-Transfer-Encoding, tolerantly: invalid
// base64 characters are skipped and a bad quoted-printable escape is kept
// as it is, so a damaged part still yields what can be read.
func decodeTransfer(body, cte string) []byte {
	switch cte {
	case "base64":
		clean := make([]byte, 0, len(body))
		for i := 0; i < len(body); i++ {
			c := body[i]
			if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		clean = clean[:len(clean)/4*4+len(clean)%4*boolInt(len(clean)%4 > 1)]
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		return decodeQP(body)
	}
	return []byte(body)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decodeQP(s string) []byte {
	var b bytes.Buffer
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '\n' {
			i++
			continue
		}
		if i+2 < len(s) && s[i+1] == '\r' && s[i+2] == '\n' {
			i += 2
			continue
		}
		if i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.Bytes()
}
