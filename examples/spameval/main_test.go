package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAUC(t *testing.T) {
	assert.Equal(t, 1.0, auc([]float64{0.1, 0.2}, []float64{0.8, 0.9}))
	assert.Equal(t, 0.0, auc([]float64{0.8, 0.9}, []float64{0.1, 0.2}))
	assert.Equal(t, 0.5, auc([]float64{0.5}, []float64{0.5}), "ties count half")
	assert.Equal(t, 0.75, auc([]float64{0.1, 0.6}, []float64{0.5, 0.9}))
}

func TestRunReportsRatesOnASmallSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, label, subject, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("Subject: "+subject+"\r\n\r\n"+body+"\r\n"), 0o644))
		return label + "\t" + p + "\n"
	}
	var train, test strings.Builder
	for i := range 10 {
		train.WriteString(write(fmt.Sprintf("h%d", i), "ham", "meeting notes", "agenda review patch release"))
		train.WriteString(write(fmt.Sprintf("s%d", i), "spam", "free money", "lottery winner claim prize"))
	}
	test.WriteString(write("th", "ham", "meeting", "patch review agenda"))
	test.WriteString(write("ts", "spam", "free prize", "claim lottery money"))
	trainF, testF := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	require.NoError(t, os.WriteFile(trainF, []byte(train.String()), 0o644))
	require.NoError(t, os.WriteFile(testF, []byte(test.String()), 0o644))

	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"-json", "-progress=false", trainF, testF}, &out, &errOut))
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Equal(t, 20, rep.Train)
	assert.Equal(t, 1, rep.TestHam)
	assert.Equal(t, 1, rep.TestSpam)
	assert.Zero(t, rep.FP)
	assert.Zero(t, rep.FN)
	assert.Zero(t, rep.OneMinusAUC)

	out.Reset()
	require.NoError(t, run([]string{"-progress=false", trainF, testF}, &out, &errOut))
	assert.Contains(t, out.String(), "1-AUC")

	// -explain prints the clues of the worst-scored test messages.
	out.Reset()
	errOut.Reset()
	require.NoError(t, run([]string{"-progress=false", "-explain", "1", trainF, testF}, &out, &errOut))
	assert.Contains(t, errOut.String(), "spam ")
	assert.Contains(t, errOut.String(), "ham ")
	assert.Contains(t, errOut.String(), "lottery")
	assert.Contains(t, errOut.String(), "agenda")

	// The same through the SQL adapter.
	out.Reset()
	require.NoError(t, run([]string{"-json", "-progress=false", "-sqlite", filepath.Join(dir, "model.db"), trainF, testF}, &out, &errOut))
	var viaSQL Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &viaSQL))
	assert.Equal(t, rep.ModelTokens, viaSQL.ModelTokens)
	assert.Equal(t, rep.FP+rep.FN+rep.UnsureHam+rep.UnsureSpam, viaSQL.FP+viaSQL.FN+viaSQL.UnsureHam+viaSQL.UnsureSpam)

	// Every message is short: one band holds them all.
	require.Len(t, rep.Bands, 3)
	assert.Equal(t, "<=20", rep.Bands[0].Name)
	assert.Equal(t, 1, rep.Bands[0].Ham)
	assert.Equal(t, 1, rep.Bands[0].Spam)
	require.NotNil(t, rep.Bands[0].OneMinusAUC)
	assert.Nil(t, rep.Bands[2].OneMinusAUC, "no messages: no AUC")
	assert.Equal(t, "balanced", rep.Profile)

	// -scores writes one line per test message with its verdict and tokens.
	scores := filepath.Join(dir, "scores.tsv")
	out.Reset()
	require.NoError(t, run([]string{"-progress=false", "-profile", "cautious", "-scores", scores, trainF, testF}, &out, &errOut))
	assert.Contains(t, out.String(), "profile      cautious")
	assert.Contains(t, out.String(), "<=20")
	b, err := os.ReadFile(scores)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	f := strings.Split(lines[0], "\t")
	require.Len(t, f, 9)
	assert.Equal(t, "ham", f[0])
	assert.Contains(t, []string{"ham", "unsure", "spam"}, f[5])
	require.Error(t, run([]string{"-profile", "reckless", trainF, testF}, &out, &errOut))

	require.Error(t, run([]string{trainF}, &out, &errOut))
	require.NoError(t, os.WriteFile(testF, []byte("maybe\t/x\n"), 0o644))
	require.Error(t, run([]string{trainF, testF}, &out, &errOut))
}

// -chat reads each file as a chat message: a first line that looks like a
// header field is text, not a header.
func TestRunReadsChatText(t *testing.T) {
	dir := t.TempDir()
	write := func(name, label, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text+"\n"), 0o644))
		return label + "\t" + p + "\n"
	}
	var train, test strings.Builder
	for i := range 12 {
		train.WriteString(write(fmt.Sprintf("h%d", i), "ham", fmt.Sprintf("Subject: great song %d, love the video and the lyrics", i)))
		train.WriteString(write(fmt.Sprintf("s%d", i), "spam", fmt.Sprintf("Subscribe: check out my channel %d for free giveaways", i)))
	}
	test.WriteString(write("th", "ham", "Subject: love the lyrics of this song"))
	test.WriteString(write("ts", "spam", "Subscribe: check out my channel giveaways"))
	trainF, testF := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	require.NoError(t, os.WriteFile(trainF, []byte(train.String()), 0o644))
	require.NoError(t, os.WriteFile(testF, []byte(test.String()), 0o644))
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"-json", "-progress=false", "-chat", trainF, testF}, &out, &errOut))
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Zero(t, rep.FP)
	assert.Zero(t, rep.FN)
	assert.Zero(t, rep.OneMinusAUC)
	assert.Equal(t, 0, rep.UnsureHam+rep.UnsureSpam, "%+v", rep)

	// The clues are body words, not a "Subject:" header's.
	errOut.Reset()
	require.NoError(t, run([]string{"-progress=false", "-chat", "-explain", "1", trainF, testF}, &out, &errOut))
	assert.Contains(t, errOut.String(), " lyrics\n")
	assert.NotContains(t, errOut.String(), "subject:")
	errOut.Reset()
	require.NoError(t, run([]string{"-progress=false", "-explain", "1", trainF, testF}, &out, &errOut))
	assert.Contains(t, errOut.String(), "subject:lyrics", "without -chat the first line is a header")
}

// -mbox classifies the messages of one mbox file, for throughput runs.
func TestRunReadsAnMbox(t *testing.T) {
	dir := t.TempDir()
	var train strings.Builder
	for i := range 6 {
		for _, c := range []struct{ label, text string }{{"ham", "meeting agenda review"}, {"spam", "free prize money"}} {
			p := filepath.Join(dir, fmt.Sprintf("%s%d", c.label, i))
			require.NoError(t, os.WriteFile(p, []byte("Subject: x\n\n"+c.text+"\n"), 0o644))
			train.WriteString(c.label + "\t" + p + "\n")
		}
	}
	trainF, mboxF := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.mbox")
	require.NoError(t, os.WriteFile(trainF, []byte(train.String()), 0o644))
	mbox := "From a Thu Jan  1 00:00:00 1970\nSubject: x\n\nfree prize\n>From the desk of\n" +
		"From b Thu Jan  1 00:00:00 1970\nSubject: y\n\nagenda review\n" +
		"From c Thu Jan  1 00:00:00 1970\n\nmoney\n"
	require.NoError(t, os.WriteFile(mboxF, []byte(mbox), 0o644))
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"-json", "-progress=false", "-mbox", trainF, mboxF}, &out, &errOut))
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Equal(t, 3, rep.TestHam, "three messages, each counted as ham")
	require.NoError(t, os.WriteFile(mboxF, []byte("no separator\n"), 0o644))
	require.Error(t, run([]string{"-mbox", trainF, mboxF}, &out, &errOut))
}

// With -chat an mbox message is its text only: the "From " separator line
// is not part of a chat message.
func TestReadMboxDropsTheSeparatorOfChatMessages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "chat.mbox")
	require.NoError(t, os.WriteFile(p, []byte("From a Thu Jan  1 00:00:00 1970\nlove this song\nFrom b Thu Jan  1 00:00:00 1970\ncheck my channel\n"), 0o644))
	chat, err := readMbox(p, true)
	require.NoError(t, err)
	require.Len(t, chat, 2)
	assert.Equal(t, "love this song\n", string(chat[0].raw))
	assert.Equal(t, "check my channel\n", string(chat[1].raw))
	mail, err := readMbox(p, false)
	require.NoError(t, err)
	assert.Equal(t, "From a Thu Jan  1 00:00:00 1970\nlove this song\n", string(mail[0].raw), "an e-mail keeps it: the filter skips it")
}

// readInto returns a file's bytes whatever its size, reusing its buffer.
func TestReadIntoReadsWholeFiles(t *testing.T) {
	dir := t.TempDir()
	var buf []byte
	for _, n := range []int{0, 1, 100, 4096, 64 << 10, 64<<10 + 1, 300 << 10} {
		want := bytes.Repeat([]byte("abcdefg\n"), n/8+1)[:n]
		p := filepath.Join(dir, fmt.Sprint(n))
		require.NoError(t, os.WriteFile(p, want, 0o644))
		got, err := readInto(p, &buf)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%d bytes", n)
	}
	_, err := readInto(filepath.Join(dir, "missing"), &buf)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "missing")
}
