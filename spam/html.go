package spam

import (
	"html"
	"strings"
)

// htmlText reduces HTML to its text and emits, on the way, a token per
// distinct tag name ("html:font"), per comment ("html:comment") and the
// URLs of href/src/action attributes. The scanner is tolerant: an unclosed
// tag or comment ends the document; script and style contents are dropped.
// Tags become spaces, so words split by empty tags ("V<b></b>iagra") stay
// split, as SpamBayes found to be harmless.
func (s *sink) htmlText(doc string) string {
	var b strings.Builder
	b.Grow(len(doc) / 2)
	seen := map[string]bool{}
	for len(doc) > 0 && !s.full() {
		lt := strings.IndexByte(doc, '<')
		if lt < 0 {
			b.WriteString(doc)
			break
		}
		b.WriteString(doc[:lt])
		doc = doc[lt:]
		if strings.HasPrefix(doc, "<!--") {
			s.addExact("html:", "comment")
			end := strings.Index(doc[4:], "-->")
			if end < 0 {
				break
			}
			doc = doc[4+end+3:]
			continue
		}
		if len(doc) < 2 || !(isLetter(doc[1]) || doc[1] == '/' || doc[1] == '!' || doc[1] == '?') {
			b.WriteByte('<')
			doc = doc[1:]
			continue
		}
		gt := tagEnd(doc)
		if gt < 0 {
			break
		}
		tag := doc[1:gt]
		doc = doc[gt+1:]
		b.WriteByte(' ')
		closing := strings.HasPrefix(tag, "/")
		tag = strings.TrimPrefix(tag, "/")
		n := 0
		for n < len(tag) && (isLetter(tag[n]) || ('0' <= tag[n] && tag[n] <= '9')) {
			n++
		}
		name := strings.ToLower(tag[:n])
		if name == "" || closing {
			continue
		}
		if !seen[name] && len(seen) < 64 {
			seen[name] = true
			s.addExact("html:", name)
		}
		s.attrs(tag[n:])
		if name == "script" || name == "style" {
			end := indexFold(doc, "</"+name)
			if end < 0 {
				break
			}
			doc = doc[end:]
		}
	}
	return html.UnescapeString(b.String())
}

// tagEnd returns the index of the '>' closing the tag at doc[0], skipping
// quoted attribute values; an unbalanced quote falls back to the first '>'.
// It returns -1 when there is none.
func tagEnd(doc string) int {
	var q byte
	limit := min(len(doc), 8192)
	for i := 1; i < limit; i++ {
		c := doc[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return i
		}
	}
	return strings.IndexByte(doc[:limit], '>')
}

func isLetter(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }

// indexFold is a case-insensitive strings.Index for an ASCII needle that
// starts with '<'.
func indexFold(s, sub string) int {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if len(s)-i < len(sub) {
			return -1
		}
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
		i++
	}
}

// attrs emits the URLs found in href, src and action attributes.
func (s *sink) attrs(a string) {
	for a != "" {
		a = strings.TrimLeft(a, " \t\r\n/")
		eq := strings.IndexByte(a, '=')
		if eq < 0 {
			return
		}
		name := strings.ToLower(strings.TrimSpace(a[:eq]))
		a = strings.TrimLeft(a[eq+1:], " \t\r\n")
		var val string
		if a != "" && (a[0] == '"' || a[0] == '\'') {
			end := strings.IndexByte(a[1:], a[0])
			if end < 0 {
				val, a = a[1:], ""
			} else {
				val, a = a[1:1+end], a[end+2:]
			}
		} else {
			end := strings.IndexAny(a, " \t\r\n")
			if end < 0 {
				val, a = a, ""
			} else {
				val, a = a[:end], a[end:]
			}
		}
		if i := strings.LastIndexAny(name, " \t\r\n"); i >= 0 {
			name = name[i+1:]
		}
		switch name {
		case "href", "src", "action", "background":
			val = strings.TrimSpace(html.UnescapeString(val))
			switch {
			case strings.Contains(val, "://"):
				s.url(val)
			case strings.HasPrefix(strings.ToLower(val), "mailto:"):
				s.address("mailto:", val[7:])
			}
		}
	}
}
