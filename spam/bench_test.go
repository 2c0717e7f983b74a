package spam_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// benchMessage is a multipart e-mail of about 6 KB, typical of the
// SpamAssassin corpus.
func benchMessage(r *rand.Rand) []byte {
	body := synth(r, "promo@deals.example", "FREE money offer", append(spamWords, hamWords...), 600)
	return append([]byte("Received: from mx1.relay.example.net (mx1.relay.example.net [198.51.100.7]) by mail.helpdesk.example\r\n"+
		"Message-ID: <abc123@relay.example.net>\r\nContent-Type: multipart/alternative; boundary=\"BB\"\r\n"), append(body,
		"\r\n--BB\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"+
			"<html><body><font color=3D\"red\">Caf=E9 <a href=3D\"http://deals.example/x?id=3D1\">click</a></font></body></html>\r\n--BB--\r\n"...)...)
}

func BenchmarkClassify(b *testing.B) {
	f, err := spam.New(spam.Config{Store: memstore.New().Spam(), Key: key})
	if err != nil {
		b.Fatal(err)
	}
	ham, sp := corpus(7, 200)
	if _, err := f.TrainBatch(ctx, acct, append(ham, sp...)); err != nil {
		b.Fatal(err)
	}
	msg := spam.Email(benchMessage(rand.New(rand.NewPCG(1, 2))))
	b.SetBytes(int64(len(msg.Raw)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Classify(ctx, acct, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClassifyLargeModel classifies against a model of a few hundred
// thousand tokens, trained on messages drawn from a 100,000-word vocabulary
// with Zipf-distributed word frequencies, as a busy account's model grows
// to: most token lookups then miss the CPU cache, which the small model of
// BenchmarkClassify hides. One goroutine, as a per-core figure.
func BenchmarkClassifyLargeModel(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	vocab := make([]string, 100_000)
	for i := range vocab {
		w := make([]byte, 4+r.IntN(7))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		vocab[i] = string(w)
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(11, 12)), 1.1, 10, uint64(len(vocab)-1))
	message := func(class spam.Class) spam.Message {
		var sb strings.Builder
		for range 300 {
			w := int(zipf.Uint64())
			if class == spam.Spam { // the classes favour different words
				w = len(vocab) - 1 - w
			}
			sb.WriteString(vocab[w])
			sb.WriteByte(' ')
		}
		return spam.Email([]byte("From: someone@example.com\r\nSubject: hello\r\n\r\n" + sb.String()))
	}
	f, err := spam.New(spam.Config{Store: memstore.New().Spam(), Key: key})
	if err != nil {
		b.Fatal(err)
	}
	for batch := range 30 {
		ex := make([]spam.Example, 100)
		for i := range ex {
			c := spam.Ham
			if i%2 == 1 {
				c = spam.Spam
			}
			ex[i] = spam.Example{ID: fmt.Sprint(batch, "-", i), Class: c, Message: message(c)}
		}
		if _, err := f.TrainBatch(ctx, acct, ex); err != nil {
			b.Fatal(err)
		}
	}
	stats, err := f.Stats(ctx, acct)
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]spam.Message, 256)
	for i := range msgs {
		msgs[i] = message(spam.Class(1 + i%2))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.Classify(ctx, acct, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(stats.Tokens), "model-tokens")
}

func BenchmarkTrainBatch100(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var ex []spam.Example
	for i := range 100 {
		c := spam.Ham
		if i%2 == 0 {
			c = spam.Spam
		}
		ex = append(ex, spam.Example{ID: fmt.Sprint(i), Class: c, Message: spam.Email(benchMessage(r))})
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f, _ := spam.New(spam.Config{Store: memstore.New().Spam(), Key: key})
		b.StartTimer()
		if _, err := f.TrainBatch(ctx, acct, ex); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokens(b *testing.B) {
	raw := benchMessage(rand.New(rand.NewPCG(1, 2)))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		spam.Tokens(spam.Email(raw))
	}
}
