package spam_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// Words of the generated chat comments: video comments as in the YouTube
// Spam Collection, ham about the song, spam asking for views, with some
// capitals, punctuation and a URL now and then.
var (
	chatHam = strings.Fields("love this song so much best video ever who is still watching in 2015 " +
		"amazing voice beautiful dance lol omg haha awesome music favourite remember when " +
		"first time heard it brings back memories the chorus is perfect katy perry shakira " +
		"eminem rihanna legend classic never gets old watching again")
	chatSpam = strings.Fields("check out my channel please subscribe and like my new video " +
		"free gift cards win iphone click here earn money from home follow me on twitter " +
		"visit our website give it a chance thumbs up if you want more views cheap " +
		"promotion SUBSCRIBE CHECK FREE!!! guys plz")
)

// chatComment returns a comment of 4 to 30 words.
func chatComment(r *rand.Rand, words []string, spammy bool) string {
	var b strings.Builder
	n := 4 + r.IntN(27)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := words[r.IntN(len(words))]
		switch r.IntN(12) {
		case 0:
			w = strings.ToUpper(w[:1]) + w[1:]
		case 1:
			w += "!"
		case 2:
			w += ","
		}
		b.WriteString(w)
	}
	if spammy && r.IntN(4) == 0 {
		fmt.Fprintf(&b, " http://www.youtube.com/channel/UC%x", r.Uint32())
	}
	return b.String()
}

// chatSplit returns training examples and test messages: read from the
// split in $GDPRKIT_SPAM_CHAT_SPLIT (a folder holding train.tsv and
// test.tsv, lines "ham|spam<TAB>path", each path one comment, as
// bench/spam/youtube_splits.sh writes them), or else generated.
func chatSplit(b *testing.B) (train []spam.Example, test []spam.Message) {
	if dir := os.Getenv("GDPRKIT_SPAM_CHAT_SPLIT"); dir != "" {
		read := func(name string) []spam.Example {
			fh, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				b.Fatal(err)
			}
			defer fh.Close()
			var out []spam.Example
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				label, path, ok := strings.Cut(sc.Text(), "\t")
				if !ok {
					continue
				}
				raw, err := os.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				c := spam.Ham
				if label == "spam" {
					c = spam.Spam
				}
				out = append(out, spam.Example{ID: path, Class: c, Message: spam.Chat(string(raw))})
			}
			if err := sc.Err(); err != nil {
				b.Fatal(err)
			}
			return out
		}
		train = read("train.tsv")
		for _, ex := range read("test.tsv") {
			test = append(test, ex.Message)
		}
		return train, test
	}
	r := rand.New(rand.NewPCG(21, 22))
	gen := func(i int) spam.Example {
		if i%2 == 0 {
			return spam.Example{ID: fmt.Sprint("ham-", i), Class: spam.Ham, Message: spam.Chat(chatComment(r, chatHam, false))}
		}
		mixed := append(append([]string(nil), chatSpam...), chatHam[:10]...)
		return spam.Example{ID: fmt.Sprint("spam-", i), Class: spam.Spam, Message: spam.Chat(chatComment(r, mixed, true))}
	}
	for i := range 1200 {
		train = append(train, gen(i))
	}
	for i := range 800 {
		test = append(test, gen(i).Message)
	}
	return train, test
}

// BenchmarkClassifyChat classifies short chat messages (video comments of
// a few to thirty words) on one goroutine, the per-core figure of issue 16;
// cpu-ns/op is the process's CPU time per message. Set GDPRKIT_SPAM_CHAT_SPLIT to a YouTube split's folder to classify its
// test comments with a model trained on its training half.
func BenchmarkClassifyChat(b *testing.B) {
	f, err := spam.New(spam.Config{Store: memstore.New().Spam(), Key: key, Refresh: -1})
	if err != nil {
		b.Fatal(err)
	}
	train, test := chatSplit(b)
	for i := 0; i < len(train); i += 100 {
		if _, err := f.TrainBatch(ctx, acct, train[i:min(i+100, len(train))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	i := 0
	for b.Loop() {
		if _, err := f.Classify(ctx, acct, test[i%len(test)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	// CPU time per message, the garbage collector's included: on a shared
	// machine far steadier than ns/op, which counts waiting for a core.
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(cpu*1e9/float64(i), "cpu-ns/op")
	}
}
