package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunServesTLSAndPrintsDemoLogins starts the command as a user would,
// with -tls, and checks what it prints and how it answers.
func TestRunServesTLSAndPrintsDemoLogins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "hd.db")
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-tls", "-db", db}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if regexp.MustCompile(`contact form:`).MatchString(sc.Text()) {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, lines)
	url := regexp.MustCompile(`on (https://localhost:\d+)`).FindStringSubmatch(lines[0])
	require.NotNil(t, url, lines[0])
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	assert.Contains(t, out, "username owner  password "+ownerPass)
	assert.Contains(t, out, "username agent  password "+agentPass)
	assert.Contains(t, out, "/portal/login?t=")
	assert.Contains(t, out, "/demo")

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed
	resp, err := c.Get(url[1] + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")
	require.NotEmpty(t, resp.Cookies())
	assert.True(t, resp.Cookies()[0].Secure)
	assert.Equal(t, "localhost", resp.TLS.PeerCertificates[0].DNSNames[0])

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestDemoClockFollowsRealTimeAndJumps(t *testing.T) {
	var c DemoClock
	before := time.Now().UTC()
	got := c.Advance(15 * 24 * time.Hour)
	assert.WithinDuration(t, before.Add(15*24*time.Hour), got, time.Minute)
	a := c.Now()
	time.Sleep(2 * time.Millisecond)
	assert.True(t, c.Now().After(a), "the demo clock keeps running, so phone TOTP codes keep matching")
}
