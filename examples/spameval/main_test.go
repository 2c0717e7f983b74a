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

	require.Error(t, run([]string{trainF}, &out, &errOut))
	require.NoError(t, os.WriteFile(testF, []byte("maybe\t/x\n"), 0o644))
	require.Error(t, run([]string{trainF, testF}, &out, &errOut))
}
