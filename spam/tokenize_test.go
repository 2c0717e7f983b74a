package spam

import (
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

func tokensOf(t *testing.T, raw string) []string {
	t.Helper()
	return Tokens(Email([]byte(raw)))
}

func TestTokenizer(t *testing.T) {
	greek, err := charmap.ISO8859_7.NewEncoder().String("Καλημέρα φίλε μου")
	require.NoError(t, err)
	latin1, err := charmap.ISO8859_1.NewEncoder().String("Déjà vu, garçon")
	require.NoError(t, err)

	tests := []struct {
		name     string
		raw      string
		want     []string
		wantNot  []string
		textOnly bool
	}{
		{
			name: "header tokens are prefixed by their header",
			raw:  "From: \"Eve Example\" <eve@mail.example.org>\r\nTo: bob@example.net\r\nSubject: Cheap Meds NOW\r\nX-Mailer: BulkBlaster 3.1\r\n\r\nhello world\r\n",
			want: []string{"subject:cheap", "subject:meds", "subject:now", "from:addr:eve@mail.example.org", "from:domain:example.org",
				"from:name:eve", "to:domain:example.net", "x-mailer:bulkblaster", "x-mailer:=bulkblaster 3.1", "hdr:x-mailer", "hello", "world"},
			wantNot: []string{"cheap"},
		},
		{
			name: "other header fields give their whole value and their words",
			raw:  "Subject: x\nX-Loop: Lists AT Example\nList-Unsubscribe: <mailto:leave@lists.example>\n\nbody\n",
			want: []string{"x-loop:=lists at example", "x-loop:lists", "x-loop:example", "hdr:list-unsubscribe",
				"list-unsubscribe:email:domain:lists.example"},
			wantNot: []string{"lists", "bi:lists example"},
		},
		{
			name:    "consecutive body words make pairs, skipping short words and urls",
			raw:     "Subject: big savings\n\nFree of charge: see http://x.example/ now, supercalifragilistic words\n",
			want:    []string{"bi:free charge", "bi:charge see", "bi:see now", "skip:s:20", "words"},
			wantNot: []string{"bi:now words", "bi:big savings", "bi:now supercalifragilistic"},
		},
		{
			name: "urls split into scheme, host and path pieces",
			raw:  "Subject: x\n\nVisit https://WWW.Shop.Example.com:8080/buy/now.html?id=42 today\n",
			want: []string{"url:scheme:https", "url:host:www.shop.example.com", "url:host:shop.example.com", "url:host:example.com",
				"url:host:com", "url:port:8080", "url:path:buy", "url:path:now", "url:path:html", "url:path:id", "url:path:42", "today"},
		},
		{
			name:    "words in capitals keep a case-preserving token too",
			raw:     "Subject: x\n\nACT NOW, this is URGENT. Ok USA-2002\n",
			want:    []string{"caps:URGENT", "urgent", "caps:USA-2002", "now"},
			wantNot: []string{"caps:NOW", "caps:Ok", "caps:ACT"},
		},
		{
			name:    "very long words become length classes",
			raw:     "Subject: x\nContent-Type: text/plain; charset=utf-8\n\nabcdefghijklmnopqrstuvwxyz0123 ok fine " + strings.Repeat("ж", 25) + "\n",
			want:    []string{"skip:a:30", "fine", "skip:ж:20"},
			wantNot: []string{"abcdefghijklmnopqrstuvwxyz0123", "ok"},
		},
		{
			name: "quoted-printable is decoded",
			raw:  "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 cr=\n=C3=A8me\n",
			want: []string{"café", "crème", "cte:quoted-printable", "charset:utf-8"},
		},
		{
			name:    "words are lower-cased past an ASCII start, in any script",
			raw:     "Subject: x\nContent-Type: text/plain; charset=utf-8\n\nCAFÉ ΚΑΛΗΜΈΡΑ StraßE ÉCOLE\n",
			want:    []string{"café", "καλημέρα", "straße", "école"},
			wantNot: []string{"cafÉ", "CAFÉ", "straßE"},
		},
		{
			name: "base64 is decoded",
			raw:  "Subject: x\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("secret lottery winnings")) + "\n",
			want: []string{"secret", "lottery", "winnings", "cte:base64"},
		},
		{
			name: "non-UTF-8 charsets are decoded: Greek, Latin-1, encoded-word subject",
			raw: "Subject: =?iso-8859-1?q?Caf=E9_ouvert?=\nContent-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: text/plain; charset=iso-8859-7\n\n" + greek +
				"\n--BB\nContent-Type: text/plain; charset=\"ISO-8859-1\"\n\n" + latin1 + "\n--BB--\n",
			want: []string{"subject:café", "subject:ouvert", "καλημέρα", "φίλε", "μου", "déjà", "garçon", "ct:multipart/mixed", "charset:iso-8859-7"},
		},
		{
			name: "html is reduced to text; tags and link hosts count",
			raw: "Subject: x\nContent-Type: text/html\n\n<html><body><font color=red>Buy <b>cheap</b> pills</font>" +
				"<a href=\"http://pills.example.biz/order\">here</a><script>var hidden = 'scriptword';</script><!-- junk --></body></html>\n",
			want:    []string{"html:font", "html:b", "html:a", "html:comment", "buy", "cheap", "pills", "here", "url:host:pills.example.biz", "url:path:order"},
			wantNot: []string{"scriptword", "<font", "color=red>buy"},
		},
		{
			name: "html entities are decoded",
			raw:  "Subject: x\nContent-Type: text/html\n\n<p>Fran&ccedil;ais &amp; caf&#233;</p>\n",
			want: []string{"français", "café"},
		},
		{
			name: "CJK text becomes character bigrams",
			raw:  "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n東京都庁 で 会議\n",
			want: []string{"東京", "京都", "都庁", "で", "会議"},
		},
		{
			name: "Cyrillic and accented Latin tokenize as words, normalized to NFC",
			raw:  "Subject: Привет\nContent-Type: text/plain; charset=utf-8\n\nПривет мир, cafe\u0301 Ünïcödé\n",
			want: []string{"subject:привет", "привет", "мир", "café", "ünïcödé"},
		},
		{
			name:    "mbox From line is skipped and received hosts are mined",
			raw:     "From someone@example.com Mon Jan  1 00:00:00 2024\nReceived: from mx.relay.example.net (mx.relay.example.net [203.0.113.7]) by localhost\nSubject: x\n\nbody text\n",
			want:    []string{"received:mx.relay.example.net", "received:example.net", "received:203", "received:203.0.113", "body", "text"},
			wantNot: []string{"received:localhost"},
		},
		{
			name: "attachments count by type and extension",
			raw:  "Subject: x\nContent-Type: multipart/mixed; boundary=\"q\"\n\n--q\nContent-Type: text/plain\n\nsee attached\n--q\nContent-Type: application/octet-stream; name=\"invoice.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--q--\n",
			want: []string{"ct:application/octet-stream", "filename:ext:exe", "attached"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tokensOf(t, tt.raw)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, got, w)
			}
		})
	}
}

func TestMalformedMessagesStillYieldTokens(t *testing.T) {
	tests := map[string]string{
		"no header block":            "just some words about viagra and money\n",
		"garbage header line":        "Subject: hi\nthis is not a header\nmore words about money\n",
		"broken base64":              "Subject: x\nContent-Transfer-Encoding: base64\n\nbW9uZXk=%%%%bW9uZXk\n", // "money"
		"unterminated multipart":     "Subject: x\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nmoney money\n",
		"multipart without boundary": "Subject: x\nContent-Type: multipart/mixed\n\nmoney talks\n",
		"bad content type":           "Subject: x\nContent-Type: text/;;;=\n\nmoney talks\n",
		"unknown charset":            "Subject: x\nContent-Type: text/plain; charset=x-nonsense-42\n\nmoney talks\n",
		"bad quoted-printable":       "Subject: x\nContent-Transfer-Encoding: quoted-printable\n\nmoney =ZZ talks =4\n",
		"unclosed html":              "Subject: x\nContent-Type: text/html\n\n<p>money <b talks",
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			got := tokensOf(t, raw)
			found := false
			for _, tok := range got {
				if strings.Contains(tok, "money") {
					found = true
				}
			}
			assert.True(t, found, "tokens: %q", got)
		})
	}
}

func TestChatTextTokens(t *testing.T) {
	got := Tokens(Message{Subject: "Order problem", Text: "Hi, my order #1234 never arrived. See https://shop.example/orders/1234"})
	for _, w := range []string{"subject:order", "subject:problem", "order", "#1234", "never", "arrived", "url:host:shop.example", "url:path:orders"} {
		assert.Contains(t, got, w)
	}
}

func TestTokenizingIsBounded(t *testing.T) {
	huge := "Subject: x\nContent-Type: text/plain\n\n" + strings.Repeat("word", 1<<20) + strings.Repeat(" w0rd", 1<<20)
	got := Tokens(Email([]byte(huge)))
	assert.LessOrEqual(t, len(got), maxTokens)
	assert.Contains(t, got, "msg:truncated")

	nested := "Subject: x\n"
	for i := range 50 {
		nested += "Content-Type: multipart/mixed; boundary=b" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n\n--b" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n"
	}
	got = Tokens(Email([]byte(nested + "\nbottom\n")))
	assert.Contains(t, got, "mime:too-deep")

	tags := strings.Repeat("<a href='", 200000)
	_ = Tokens(Email([]byte("Subject: x\nContent-Type: text/html\n\n" + tags)))
}

// toUTF8's shortcut for ASCII text in a single-byte charset gives what
// decoding gives, for every such charset the web (and mail) labels text
// with, and text outside ASCII is still decoded.
func TestToUTF8ASCIIShortcutDecodesAlike(t *testing.T) {
	ascii := make([]byte, 128)
	for i := range ascii {
		ascii[i] = byte(i)
	}
	for _, cs := range []string{"iso-8859-1", "iso-8859-2", "iso-8859-7", "iso-8859-15", "windows-1250", "windows-1251",
		"windows-1252", "windows-874", "koi8-r", "koi8-u", "macintosh", "x-mac-cyrillic", "ibm866", "no-such-charset"} {
		want, err := charsetDecoder(cs).Bytes(ascii)
		if err != nil {
			t.Fatal(cs, err)
		}
		if got := toUTF8(ascii, cs); got != string(want) {
			t.Errorf("%s: %q, decoding gives %q", cs, got, want)
		}
	}
	if got := toUTF8([]byte("caf\xe9"), "iso-8859-1"); got != "café" {
		t.Errorf("latin-1 café: %q", got)
	}
	if got := toUTF8([]byte("\xe1\xe2"), "iso-8859-7"); got != "αβ" {
		t.Errorf("greek: %q", got)
	}
}

// isCJK's block table answers as the scripts' tables do, for every code
// point and a few values that are none.
func TestIsCJKMatchesTheScripts(t *testing.T) {
	for r := rune(-2); r <= unicode.MaxRune+2; r++ {
		if got, want := isCJK(r), inCJKScripts(r); got != want {
			t.Fatalf("isCJK(%U) = %v, want %v", r, got, want)
		}
	}
}

// Every rune nfcSafe holds safe is NFC quick check Yes with combining
// class 0, so that strings of them are in NFC; random such strings are.
func TestNFCSafeRunes(t *testing.T) {
	var safe []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !nfcSafe(r) {
			continue
		}
		safe = append(safe, r)
		s := string(r)
		p := norm.NFC.PropertiesString(s)
		if p.CCC() != 0 || !p.BoundaryBefore() || !norm.NFC.IsNormalString(s) || !norm.NFC.IsNormalString("a"+s) {
			t.Fatalf("%U is held NFC-safe but is not (ccc %d)", r, p.CCC())
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteRune(safe[rng.IntN(len(safe))])
		}
		s := b.String()
		if !plainText(s) || !norm.NFC.IsNormalString(s) {
			t.Fatalf("%+q: plainText %v, IsNormalString %v", s, plainText(s), norm.NFC.IsNormalString(s))
		}
	}
	assert.False(t, plainText("cafe\u0301"), "a combining accent is not known safe")
	assert.False(t, plainText("caf\xe9"), "nor is invalid UTF-8")
	assert.False(t, plainText("12345678caf\xe9"))
	assert.True(t, plainText("plain ASCII text of some length"))
	assert.True(t, plainText("\ufeffcaf\u00e9 \U0001F60D \u201cyes\u201d"))
}

// text splits words at white space as strings.FieldsFunc with
// unicode.IsSpace does, wherever the words fall against its eight-byte
// steps, with control characters, non-ASCII letters and spaces among them.
func TestTextSplitsAtWhiteSpace(t *testing.T) {
	alphabet := []string{" ", "\t", "\n", "\x01", "\x1f", "\x7f", "!", "a", "Z", "q", "é", "\u00a0", "\u2003", "\u0085", "😍", ":", "@", "."}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := b.String()
		got := &sink{texts: map[uint64]string{}}
		got.text("", in)
		want := &sink{texts: map[uint64]string{}}
		for _, w := range strings.FieldsFunc(in, unicode.IsSpace) {
			want.word("", w)
		}
		if !slices.Equal(got.hashes, want.hashes) {
			t.Fatalf("%+q: tokens %q, want %q", in, Tokens(Chat(in)), mapValues(want.texts, want.hashes))
		}
	}
}

func mapValues(m map[uint64]string, keys []uint64) []string {
	var out []string
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
