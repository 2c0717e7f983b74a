package spam

import (
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"unsafe"
)

// field is one unfolded header field.
type field struct{ name, value string }

// splitHeader splits a raw message into its header fields and body. A
// leading mbox "From " line is skipped. Parsing is tolerant: a line that is
// neither a field nor a continuation ends the header block and starts the
// body, and malformed reports it. With no header at all, hdr is empty and
// body is the whole input.
func splitHeader(raw string) (hdr []field, body string, malformed bool) {
	if strings.HasPrefix(raw, "From ") {
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			return nil, "", true
		}
	}
	// Folded fields' lines are joined in one builder for the whole header
	// block: appending to a value line by line would copy it again for
	// every continuation line, quadratic in a field folded thousands of
	// times, and a builder per field would allocate once per field. A
	// value is a substring of the builder's string, which later writes
	// never change.
	var folded strings.Builder
	start := -1 // where the field being folded starts in folded
	unfold := func() {
		if start >= 0 {
			hdr[len(hdr)-1].value = folded.String()[start:]
			start = -1
		}
	}
	rest := raw
	for len(rest) > 0 {
		line := rest
		next := ""
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			unfold()
			return hdr, next, malformed
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(hdr) > 0 {
				if start < 0 {
					start = folded.Len()
					folded.WriteString(hdr[len(hdr)-1].value)
				}
				if t := strings.TrimSpace(line); t != "" && folded.Len()-start < maxFolded {
					folded.WriteByte(' ')
					folded.WriteString(t)
				}
				rest = next
				continue
			}
		}
		unfold()
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || !validFieldName(line[:colon]) || len(hdr) >= maxHeaders {
			if len(hdr) == 0 {
				return nil, raw, true
			}
			return hdr, rest, true
		}
		hdr = append(hdr, field{fieldName(strings.TrimSpace(line[:colon])), strings.TrimSpace(line[colon+1:])})
		rest = next
	}
	unfold()
	return hdr, "", malformed
}

// commonFields are header field names as the tokenizer spells them; most
// of a message's fields are among them.
var commonFields = [...]string{"received", "from", "to", "cc", "subject", "date", "message-id", "return-path",
	"delivered-to", "content-type", "content-transfer-encoding", "mime-version", "reply-to", "sender", "x-mailer",
	"references", "in-reply-to", "list-id", "list-unsubscribe", "list-subscribe", "list-help", "list-post",
	"list-archive", "precedence", "errors-to", "x-beenthere", "x-mailman-version", "user-agent", "organization",
	"x-originating-ip", "importance", "x-priority", "x-msmail-priority", "x-mimeole", "content-disposition",
	"content-length", "lines", "status", "x-status", "x-uid", "x-spam-status", "x-spam-level", "x-spam-checker-version"}

// fieldName returns a field name lower-cased, without allocating for the
// common ones.
func fieldName(n string) string {
	for _, c := range commonFields {
		if len(c) == len(n) && strings.EqualFold(c, n) {
			return c
		}
	}
	return strings.ToLower(n)
}

// maxDecoded is how much of a header value decodeHeader reads; tokenizing
// uses at most 1 KiB of most fields anyway.
const maxDecoded = 8 << 10

// maxFolded is the length past which a folded field's continuation lines
// are ignored.
const maxFolded = 16 << 10

func validFieldName(n string) bool {
	n = strings.TrimRight(n, " \t")
	if n == "" || len(n) > 76 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func get(hdr []field, name string) string {
	for _, f := range hdr {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// email tokenizes a raw RFC 5322 message.
func (s *sink) email(raw []byte) {
	if len(raw) > maxInput {
		raw = raw[:maxInput]
		s.addExact("msg:", "truncated")
	}
	// The message is read, not copied: no part of it outlives the call
	// (tokens are hashed, and Explain's texts are copies), and Message.Raw
	// must not change while a call reads it.
	s.message(unsafe.String(unsafe.SliceData(raw), len(raw)), 0)
}

func (s *sink) message(raw string, depth int) {
	hdr, body, malformed := splitHeader(raw)
	if malformed {
		s.addExact("hdr:", "malformed")
	}
	s.headers(hdr)
	s.entity(textproto.MIMEHeader{
		"Content-Type":              {get(hdr, "content-type")},
		"Content-Transfer-Encoding": {get(hdr, "content-transfer-encoding")},
		"Content-Disposition":       {get(hdr, "content-disposition")},
	}, body, depth)
}

// skipValue reports whether a header field's value is not tokenized: dates
// and sizes are unique per message, the MIME fields are read by entity,
// and the verdict headers of other filters would teach this filter to copy
// them. Their presence still counts (hdr:<name>).
func skipValue(name string) bool {
	switch name {
	case "date", "content-length", "lines", "content-type", "content-transfer-encoding", "content-disposition", "x-bogosity":
		return true
	}
	return strings.HasPrefix(name, "x-spam")
}

func (s *sink) headers(hdr []field) {
	recipients := 0
	for i, f := range hdr {
		if s.full() {
			return
		}
		if i < 64 {
			s.addExact("hdr:", f.name)
		}
		if skipValue(f.name) {
			continue
		}
		switch f.name {
		case "subject":
			v := decodeHeader(f.value)
			s.text("subject:", v)
			s.subjectShape(v)
		case "from", "to", "cc", "reply-to", "sender", "return-path", "errors-to", "bcc":
			recipients += s.addresses(f.name+":", decodeHeader(f.value))
		case "received":
			s.received(f.value)
		case "message-id", "in-reply-to", "references":
			v := f.value
			if len(v) > 1024 {
				v = v[:1024]
			}
			for _, id := range strings.Fields(v) {
				if at := strings.LastIndexByte(id, '@'); at >= 0 {
					s.host(f.name+":", strings.Trim(id[at+1:], "<>"))
				} else {
					s.addExact(f.name+":", "noat")
				}
				if f.name == "message-id" {
					break
				}
			}
		case "x-mailer", "user-agent", "list-id", "x-mailing-list", "organization", "x-originating-ip", "mailing-list", "precedence", "importance", "x-priority", "x-msmail-priority", "mime-version":
			v := decodeHeader(f.value)
			if len(v) > 1024 {
				v = v[:1024]
			}
			s.whole(f.name+":", v)
			s.text(f.name+":", v)
		default:
			v := decodeHeader(f.value)
			s.whole(f.name+":", v)
			if len(v) > 1024 {
				v = v[:1024]
			}
			s.text(f.name+":", v)
		}
	}
	if recipients > 0 {
		s.addNum("recipients:", min(recipients, 10))
	}
}

// whole emits a header value as one token, lower-cased, white space
// collapsed and cut at 64 bytes: headers other than the well-known ones
// repeat whole (list footers, scanners, gateways) and tokenizing them word
// by word would make one header dozens of correlated clues.
func (s *sink) whole(prefix, v string) {
	v = strings.Join(strings.Fields(v), " ")
	if len(v) > 64 {
		v = v[:64]
	}
	s.add(prefix+"=", v)
}

// subjectShape emits tokens for how a subject looks rather than what it
// says: upper-case ratio and runs of punctuation.
func (s *sink) subjectShape(v string) {
	upper, letters := 0, 0
	for _, r := range v {
		switch {
		case 'A' <= r && r <= 'Z':
			upper++
			letters++
		case 'a' <= r && r <= 'z':
			letters++
		}
	}
	if letters >= 8 && upper*10 >= letters*8 {
		s.addExact("subject:", "shape:caps")
	}
	if strings.Contains(v, "!!") {
		s.addExact("subject:", "shape:!!")
	}
	if strings.Contains(v, "$") {
		s.addExact("subject:", "shape:$")
	}
}

// addresses tokenizes an address-list field and returns how many addresses
// it held. Unparseable lists are tokenized as words.
func (s *sink) addresses(prefix, v string) int {
	if len(v) > 4096 {
		v = v[:4096]
	}
	list, err := mail.ParseAddressList(v)
	if err != nil {
		s.addExact(prefix, "unparsed")
		s.text(prefix, v)
		return strings.Count(v, "@")
	}
	for i, a := range list {
		if i >= 20 {
			break
		}
		s.address(prefix, a.Address)
		if a.Name == "" {
			s.addExact(prefix, "noname")
		} else {
			s.text(prefix+"name:", a.Name)
		}
	}
	return len(list)
}

// received mines a Received field for the host names and IP networks of
// the relays, as SpamBayes does; loopback hosts are skipped.
func (s *sink) received(v string) {
	if len(v) > 2048 {
		v = v[:2048]
	}
	for len(v) > 0 {
		i := 0
		for i < len(v) && isReceivedSep(v[i]) {
			i++
		}
		j := i
		for j < len(v) && !isReceivedSep(v[j]) {
			j++
		}
		w := v[i:j]
		v = v[j:]
		if w == "" {
			continue
		}
		if at := strings.LastIndexByte(w, '@'); at >= 0 {
			w = w[at+1:]
		}
		w = strings.Trim(w, ".:")
		if len(w) < 4 || !strings.Contains(w, ".") || strings.HasPrefix(w, "127.") || strings.EqualFold(w, "localhost") {
			continue
		}
		ok := true
		for i := 0; i < len(w); i++ {
			c := w[i] | 0x20
			if !(('a' <= c && c <= 'z') || ('0' <= w[i] && w[i] <= '9') || w[i] == '.' || w[i] == '-' || w[i] == ':') {
				ok = false
				break
			}
		}
		if ok {
			s.host("received:", w)
		}
	}
}

// isReceivedSep reports whether c separates the words of a Received field.
// Only ASCII separates: a word with other bytes is no host name anyway.
func isReceivedSep(c byte) bool {
	switch c {
	case ' ', '\t', '(', ')', '[', ']', ';', ',', '<', '>':
		return true
	}
	return false
}

// entity tokenizes a MIME entity with header h and body: its content type,
// transfer encoding, charset and file name as tokens, then its text
// (text/plain, text/html, nested parts, attached messages).
func (s *sink) entity(h textproto.MIMEHeader, body string, depth int) {
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		if ct != "" {
			s.addExact("ct:", "malformed")
		}
		mt, params = "text/plain", map[string]string{}
		if i := strings.Index(lowerASCII(ct), "boundary="); i >= 0 {
			mt = "multipart/mixed"
			b, _, _ := strings.Cut(strings.TrimSpace(ct[i+9:]), " ")
			params["boundary"] = strings.Trim(b, "\";'")
		}
	}
	s.add("ct:", mt)
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if cte != "" {
		s.add("cte:", cte)
	}
	if cs := params["charset"]; cs != "" {
		s.add("charset:", cs)
	}
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		if fn := dp["filename"]; fn != "" {
			s.filename(fn)
		}
	}
	if fn := params["name"]; fn != "" {
		s.filename(fn)
	}
	if depth > maxDepth {
		s.addExact("mime:", "too-deep")
		return
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		s.multipart(body, params["boundary"], depth)
		return
	case mt == "message/rfc822":
		s.message(string(decodeTransfer(body, cte)), depth+1)
		return
	case !strings.HasPrefix(mt, "text/") && mt != "":
		return // images, archives, …: their type and name are the tokens
	}
	var txt string
	if cte == "base64" || cte == "quoted-printable" {
		data := decodeTransfer(body, cte)
		if len(data) > maxPartText {
			data = data[:maxPartText]
		}
		txt = toUTF8(data, params["charset"])
	} else {
		if len(body) > maxPartText {
			body = body[:maxPartText]
		}
		txt = stringToUTF8(body, params["charset"])
	}
	if mt == "text/html" || (mt == "text/plain" && looksHTML(txt)) {
		txt = s.htmlText(txt)
	}
	s.text("", txt)
}

// lowerASCII lower-cases the ASCII letters of s and leaves every other
// byte as it is, so indexes into the result are indexes into s
// (strings.ToLower can change the length of invalid UTF-8).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// looksHTML reports whether text labelled plain is HTML: it holds a
// html/body tag, or several common tags.
func looksHTML(t string) bool {
	head := t[:min(len(t), 8192)]
	if indexFold(head, "<html") >= 0 || indexFold(head, "<body") >= 0 {
		return true
	}
	n := 0
	for _, tag := range [...]string{"<p>", "<br", "<font", "<a href", "<td", "<div", "<b>", "<img", "<table", "<center"} {
		if indexFold(head, tag) >= 0 {
			n++
		}
	}
	return n >= 2
}

func (s *sink) filename(fn string) {
	fn = decodeHeader(fn)
	if i := strings.LastIndexByte(fn, '.'); i >= 0 && len(fn)-i <= 8 {
		s.add("filename:ext:", fn[i+1:])
	} else {
		s.addExact("filename:", "noext")
	}
}

// multipart tokenizes each part of a multipart body. A broken multipart
// keeps what was read; when no part can be read the body is tokenized as
// plain text.
func (s *sink) multipart(body, boundary string, depth int) {
	if boundary == "" {
		s.addExact("mime:", "no-boundary")
		s.text("", body)
		return
	}
	r := multipart.NewReader(strings.NewReader(body), boundary)
	n := 0
	for ; n < maxParts && !s.full(); n++ {
		p, err := r.NextRawPart()
		if err != nil {
			if err != io.EOF {
				s.addExact("mime:", "broken")
			}
			break
		}
		b, err := io.ReadAll(io.LimitReader(p, maxInput))
		if err != nil {
			s.addExact("mime:", "broken")
		}
		s.entity(p.Header, string(b), depth+1)
		if err != nil {
			break
		}
	}
	if n == 0 {
		s.text("", body)
	}
}
