package erasure

import "time"

// Read-only views of the Service's configuration, for reports that
// describe the processing (package processing builds the GDPR Art. 30
// record from them). Each returns a copy; none changes anything.

// Graph returns the cascade graph (immutable).
func (s *Service) Graph() *Graph { return s.cfg.Graph }

// Rules returns the rule applied to every kind of the graph when a request
// names none: Config.Rules over the targets' defaults.
func (s *Service) Rules() map[Kind]Rule {
	out, _ := s.rules(nil) // without overrides rules cannot fail
	for k, r := range out {
		if r.Fields != nil {
			f := make(map[string]Action, len(r.Fields))
			for n, a := range r.Fields {
				f[n] = a
			}
			r.Fields = f
			out[k] = r
		}
	}
	return out
}

// Recipients returns the names of the recipients told of every completed
// erasure (Config.Recipients, Art. 19), in the order they are notified.
func (s *Service) Recipients() []string {
	out := make([]string, len(s.cfg.Recipients))
	for i, r := range s.cfg.Recipients {
		out[i] = r.Name
	}
	return out
}

// BackupRetention returns how long backups are kept after an erasure
// (Config.BackupRetention, default 30 days).
func (s *Service) BackupRetention() time.Duration { return s.cfg.BackupRetention }
