package erasure

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// ExportFormat names the layout of access exports.
const ExportFormat = "gdprkit-access-v1"

// Export answers an open, identity-verified access request (Art. 15/20)
// or portability request (Art. 20; see portability.go for its format):
// it walks the same graph an erasure walks, parents first, and writes the
// subject's data as one JSON document to w:
//
//	{"format": "gdprkit-access-v1", "subject": "…", "generated_at": "…",
//	 "data": {"end_user": [ … ], "ticket": [ … ], "message": [ … ], …}}
//
// Then it closes the request as completed. It returns an error wrapping
// gdprkit.ErrConflict when the request is not an open access request or its
// identity is not verified; nothing is written then.
func (s *Service) Export(ctx context.Context, account gdprkit.AccountID, requestID string, w io.Writer) error {
	if err := account.Validate(); err != nil {
		return err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return err
	}
	if req.Type == TypePortability {
		return s.exportPortable(ctx, account, req, w) // portability.go
	}
	if req.Type != TypeAccess || req.Status != StatusOpen {
		return fmt.Errorf("%w: request %s is not an open access request", gdprkit.ErrConflict, requestID)
	}
	if !req.Verified {
		return fmt.Errorf("%w: verify the requester's identity before exporting", gdprkit.ErrConflict)
	}
	n, err := s.ExportSubject(ctx, account, req.Subject, w)
	if err != nil {
		return err
	}
	if err := s.store.CloseRequest(ctx, account, requestID, StatusCompleted, s.now()); err != nil {
		return fmt.Errorf("erasure: close access request: %w", err)
	}
	s.emit(ctx, account, "erasure.access_exported", actorOf(req.RequestedBy, req.Subject), req.SubjectPS, map[string]string{"request": req.ID, "records": strconv.Itoa(n)})
	return nil
}

// ExportSubject writes the subject's data as Export does, without a
// request, and returns how many records it wrote. It checks nothing: the
// caller decides who may see it.
func (s *Service) ExportSubject(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, w io.Writer) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	wk := s.newWalker(account, subject, &jobState{Scope: ScopeFull}, nil)
	var kinds []Kind
	for _, k := range s.cfg.Graph.order {
		if !s.cfg.Graph.infos[k].NoExport {
			kinds = append(kinds, k) // not internal records (an agent's drafts, assistant prompts)
		}
	}
	_, total, err := s.writeExport(ctx, wk, kinds, ExportFormat, w)
	return total, err
}

// writeExport writes the records the walker finds of kinds, in that
// order, as one JSON document of format, and returns the count per kind
// and in all. Access and portability exports share it.
func (s *Service) writeExport(ctx context.Context, wk *walker, kinds []Kind, format string, w io.Writer) (map[Kind]int, int, error) {
	account, subject := wk.account, wk.subject
	bw := bufio.NewWriter(w)
	head, _ := json.Marshal(map[string]any{"format": format, "subject": subject, "generated_at": s.now()})
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"data":{`)
	total := 0
	counts := map[Kind]int{}
	cache := map[Kind][]string{}
	first := true
	for _, k := range kinds {
		ids, err := wk.list(ctx, k, cache)
		if err != nil {
			return counts, total, err
		}
		t := s.cfg.Graph.byKind[k]
		if !first {
			bw.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(string(k))
		bw.Write(name)
		bw.WriteString(":[")
		none := true
		for j := 0; j < len(ids); j += s.cfg.BatchSize {
			part := ids[j:min(j+s.cfg.BatchSize, len(ids))]
			refs := make([]Ref, len(part))
			for x, id := range part {
				refs[x] = Ref{ID: id}
			}
			vals, err := t.Export(ctx, account, wk.key, refs)
			if err != nil {
				return counts, total, fmt.Errorf("erasure: export %s: %w", k, err)
			}
			for _, v := range vals {
				if !json.Valid(v) {
					return counts, total, fmt.Errorf("erasure: export %s: target returned invalid JSON", k)
				}
				if !none {
					bw.WriteByte(',')
				}
				none = false
				bw.Write(v)
				total++
				counts[k]++
			}
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}}\n")
	return counts, total, bw.Flush()
}
