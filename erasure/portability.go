package erasure

import (
	"context"
	"fmt"
	"io"

	"github.com/gdprkit/gdprkit"
)

// PortabilityFormat names the layout of portability exports: the access
// layout (ExportFormat), holding only the kinds whose TargetInfo.Provided
// is set.
const PortabilityFormat = "gdprkit-portability-v1"

// exportPortable answers an open, identity-verified portability request
// (Art. 20): the data the subject provided — the kinds whose
// TargetInfo.Provided is set, and not NoExport — as one JSON document in
// the access layout under PortabilityFormat:
//
//	{"format": "gdprkit-portability-v1", "subject": "…", "generated_at": "…",
//	 "data": {"end_user": [ … ], "message": [ … ], …}}
//
// Then it closes the request with a receipt that counts the records
// exported per kind (Store.CompleteRequest). It returns an error wrapping
// gdprkit.ErrConflict when the request is not open or its identity is
// not verified; nothing is written then.
func (s *Service) exportPortable(ctx context.Context, account gdprkit.AccountID, req Request, w io.Writer) error {
	if req.Status != StatusOpen {
		return fmt.Errorf("%w: request %s is not an open portability request", gdprkit.ErrConflict, req.ID)
	}
	if !req.Verified {
		return fmt.Errorf("%w: verify the requester's identity before exporting", gdprkit.ErrConflict)
	}
	sub, _, err := s.lookup(ctx, account, req.Subject)
	if err != nil {
		return err
	}
	st := &jobState{Scope: ScopeFull, Class: sub.Class, Key: sub.Key, Keys: sub.Keys}
	wk := s.newWalker(account, req.Subject, st, nil)
	var kinds []Kind
	for _, k := range wk.kinds {
		if info := s.cfg.Graph.infos[k]; info.Provided && !info.NoExport {
			kinds = append(kinds, k)
		}
	}
	counts, _, err := s.writeExport(ctx, wk, kinds, PortabilityFormat, w)
	if err != nil {
		return err
	}
	now := s.now()
	rcpt := Receipt{ID: gdprkit.NewID(), RequestID: req.ID, SubjectPS: req.SubjectPS, Scope: req.Scope, ReceivedAt: req.ReceivedAt,
		CompletedAt: now, Type: TypePortability, Intake: intakeOf(req)}
	for _, k := range kinds {
		if n := counts[k]; n > 0 {
			rcpt.Rights.Exported = append(rcpt.Rights.Exported, KindCount{Kind: k, Records: int64(n)})
		}
	}
	out, err := s.store.CompleteRequest(ctx, account, req.ID, Finish{Receipt: rcpt, Seal: sealReceipt(account), At: now})
	if err != nil {
		return fmt.Errorf("erasure: close portability request: %w", err)
	}
	s.emit(ctx, account, "erasure.portability_completed", actorOf(req.RequestedBy, req.Subject), req.SubjectPS, rightsAttrs(req, out))
	return nil
}

// ProvidedKinds lists the kinds a portability export holds, in export
// order: those whose TargetInfo.Provided is set and NoExport is not.
func (s *Service) ProvidedKinds() []Kind {
	var out []Kind
	for _, k := range s.cfg.Graph.order {
		if info := s.cfg.Graph.infos[k]; info.Provided && !info.NoExport {
			out = append(out, k)
		}
	}
	return out
}

// MarkProvided returns t with TargetInfo.Provided set: for targets built
// elsewhere (BlobTarget, a host's own) whose records the subject
// provided. Every other method, capabilities included, is t's.
func MarkProvided(t Target) Target { return provided{t} }

type provided struct{ Target }

// Info returns the wrapped target's info with Provided set.
func (p provided) Info() TargetInfo {
	info := p.Target.Info()
	info.Provided = true
	return info
}
