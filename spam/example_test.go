package spam_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// An agent marks messages spam or not spam; the filter learns and then
// classifies new messages of the same account. A verdict needs evidence:
// words the account has marked several times.
func Example() {
	ctx := context.Background()
	f, err := spam.New(spam.Config{Store: memstore.New().Spam(), Key: []byte("a secret of at least 16 bytes")})
	if err != nil {
		panic(err)
	}
	var lessons []spam.Example
	for i, text := range []string{
		"WIN a FREE cruise, claim your prize now",
		"cheap pills, free shipping, claim now",
		"claim your free prize, you are our winner",
		"free prize draw: claim your voucher today",
		"you won a free prize, claim it before midnight",
	} {
		lessons = append(lessons, spam.Example{ID: fmt.Sprint("spam-", i), Class: spam.Spam, Message: spam.Chat(text)})
	}
	for i, text := range []string{
		"my order 1042 arrived damaged, can you help?",
		"thanks, the replacement order arrived today",
		"the parcel with my order arrived damaged again",
		"where is my order? it has not arrived yet",
		"order 1077 arrived, the box was damaged though",
	} {
		lessons = append(lessons, spam.Example{ID: fmt.Sprint("ham-", i), Class: spam.Ham, Message: spam.Chat(text)})
	}
	if _, err := f.TrainBatch(ctx, "acme", lessons); err != nil {
		panic(err)
	}
	for _, text := range []string{"claim your free prize now", "my order arrived damaged", "quarterly tax filing"} {
		r, err := f.Classify(ctx, "acme", spam.Chat(text))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-27q %s\n", text, r.Verdict)
	}
	// Output:
	// "claim your free prize now" spam
	// "my order arrived damaged"  ham
	// "quarterly tax filing"      unsure
}

// Two or three clues are not evidence enough: after one lesson, a short
// message made of that lesson's words stays unsure. Its two clues were
// each seen once, so they count a quarter of a clue each, and its score
// leans spam without claiming "99 % spam".
func ExampleFilter_Classify_fewClues() {
	ctx := context.Background()
	f, _ := spam.New(spam.Config{Store: memstore.New().Spam(), Key: []byte("a secret of at least 16 bytes")})
	_, _ = f.TrainBatch(ctx, "acme", []spam.Example{
		{ID: "t1", Class: spam.Spam, Message: spam.Chat("crypto giveaway, double your bitcoin today")},
		{ID: "t2", Class: spam.Ham, Message: spam.Chat("please reset my password")},
	})
	r, _ := f.Classify(ctx, "acme", spam.Chat("bitcoin giveaway"))
	fmt.Printf("%s, score %.2f, %d spam clues\n", r.Verdict, r.Score, r.SpamClues)
	// Output:
	// unsure, score 0.59, 2 spam clues
}

// When an agent corrects a verdict, training the same message ID as the
// other class moves the lesson: the message is never counted twice.
func ExampleFilter_Train() {
	ctx := context.Background()
	f, _ := spam.New(spam.Config{Store: memstore.New().Spam(), Key: []byte("a secret of at least 16 bytes")})
	msg := spam.Chat("Limited offer: renew your subscription today")

	st, _ := f.Train(ctx, "acme", "ticket-7/msg-1", msg, spam.Spam)
	fmt.Printf("%+v\n", st)
	st, _ = f.Train(ctx, "acme", "ticket-7/msg-1", msg, spam.Ham) // the agent corrects it
	fmt.Printf("%+v\n", st)
	s, _ := f.Stats(ctx, "acme")
	fmt.Println("ham:", s.Ham, "spam:", s.Spam)
	// Output:
	// {Learned:1 Moved:0 Unchanged:0 Skipped:0}
	// {Learned:0 Moved:1 Unchanged:0 Skipped:0}
	// ham: 1 spam: 0
}

// Explain returns the clues behind a verdict for the agent's UI.
func ExampleFilter_Explain() {
	ctx := context.Background()
	f, _ := spam.New(spam.Config{Store: memstore.New().Spam(), Key: []byte("a secret of at least 16 bytes")})
	_, _ = f.TrainBatch(ctx, "acme", []spam.Example{
		{ID: "1", Class: spam.Spam, Message: spam.Chat("casino bonus casino")},
		{ID: "2", Class: spam.Ham, Message: spam.Chat("invoice for march")},
	})
	r, _ := f.Explain(ctx, "acme", spam.Chat("casino invoice"), 2)
	fmt.Println(r.Verdict)
	for _, c := range r.Clues {
		fmt.Printf("%s %.3f\n", c.Token, c.Prob)
	}
	// Output:
	// unsure
	// invoice 0.005
	// casino 0.995
}

// Tokens shows what the filter reads from a raw e-mail; the model stores
// only keyed hashes of these.
func ExampleTokens() {
	raw := "From: Shop <deals@shop.example>\r\nSubject: Sale\r\n\r\nSee https://shop.example/sale\r\n"
	for _, tok := range spam.Tokens(spam.Email([]byte(raw))) {
		fmt.Println(tok)
	}
	// Unordered output:
	// hdr:from
	// hdr:subject
	// from:addr:deals@shop.example
	// from:user:deals
	// from:domain:shop.example
	// from:domain:example
	// from:name:shop
	// subject:sale
	// recipients:1
	// ct:text/plain
	// see
	// url:scheme:https
	// url:host:shop.example
	// url:host:example
	// url:path:sale
}

// A host picks its verdict rules by profile: Cautious calls a message spam
// only on stronger evidence and leaves more to the unsure queue. The
// score is the same under either.
func ExampleProfile() {
	ctx := context.Background()
	st := spam.NewMemoryStore() // one model in memory, shared by both filters
	balanced, _ := spam.New(spam.Config{Store: st, Key: []byte("a secret of at least 16 bytes")})
	cautious, _ := spam.New(spam.Config{Store: st, Key: []byte("a secret of at least 16 bytes"), Profile: spam.Cautious})
	var lessons []spam.Example
	for i := range 8 {
		lessons = append(lessons,
			spam.Example{ID: fmt.Sprint("s", i), Class: spam.Spam, Message: spam.Chat(fmt.Sprintf("cheap watches %d, replica deals, order now", i))},
			spam.Example{ID: fmt.Sprint("h", i), Class: spam.Ham, Message: spam.Chat(fmt.Sprintf("my order %d has not arrived, please check", i))})
	}
	if _, err := balanced.TrainBatch(ctx, "acme", lessons); err != nil {
		panic(err)
	}
	msg := spam.Chat("replica watches, cheap deals")
	b, _ := balanced.Classify(ctx, "acme", msg)
	c, _ := cautious.Classify(ctx, "acme", msg)
	fmt.Printf("balanced: %s, cautious: %s, same score: %v\n", b.Verdict, c.Verdict, b.Score == c.Score)
	// Output:
	// balanced: spam, cautious: unsure, same score: true
}
