package spam_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// An agent marks messages spam or not spam; the filter learns and then
// classifies new messages of the same account.
func Example() {
	ctx := context.Background()
	f, err := spam.New(memstore.New().Spam(), spam.Config{Key: []byte("a secret of at least 16 bytes")})
	if err != nil {
		panic(err)
	}
	_, err = f.TrainBatch(ctx, "acme", []spam.Example{
		{ID: "msg-1", Class: spam.Spam, Message: spam.Chat("WIN a FREE cruise, claim your prize now")},
		{ID: "msg-2", Class: spam.Spam, Message: spam.Chat("cheap pills, free shipping, claim now")},
		{ID: "msg-3", Class: spam.Ham, Message: spam.Chat("my order 1042 arrived damaged, can you help?")},
		{ID: "msg-4", Class: spam.Ham, Message: spam.Chat("thanks, the replacement order arrived today")},
	})
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"claim your free prize", "the order arrived damaged"} {
		r, err := f.Classify(ctx, "acme", spam.Chat(text))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-26q %s\n", text, r.Verdict)
	}
	// Output:
	// "claim your free prize"    spam
	// "the order arrived damaged" ham
}

// When an agent corrects a verdict, training the same message ID as the
// other class moves the lesson: the message is never counted twice.
func ExampleFilter_Train() {
	ctx := context.Background()
	f, _ := spam.New(memstore.New().Spam(), spam.Config{Key: []byte("a secret of at least 16 bytes")})
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
	f, _ := spam.New(memstore.New().Spam(), spam.Config{Key: []byte("a secret of at least 16 bytes")})
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
