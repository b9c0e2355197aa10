package protocol

// A flood, as the exhaustive explorer models it: many Hellos from RegIDs
// nobody owns. Each would open a slot awaiting a Confirm1 that never
// comes, alike but for its RegID, so the server keeps them as a number
// with one expiry instead of one slot each; they count toward the
// half-open cap exactly as slots would.

// Flooded is the sessions a flood opened: N of them, expiring together.
type Flooded struct {
	N       int
	Expires Time // Never without a lifetime
}

// Flood takes n Hellos from fresh RegIDs, at once, as Handle would take
// them one by one: each opens a session while the half-open cap admits
// it. It returns how many were admitted. The sessions expire together, a
// lifetime after now; a second flood while the first is live merges with
// it and keeps the later expiry, which only keeps them longer.
func (s *Server) Flood(h *Handshake, now Time, n int) int {
	s.expireFlood(now)
	if limit := h.profile.HalfOpenCap; limit > 0 {
		n = max(0, min(n, limit-s.HalfOpen()))
	}
	if n > 0 {
		s.flood.N += n
		s.flood.Expires = now.Add(h.profile.Lifetime)
	}
	return n
}

// Flooded returns the sessions a flood opened that are still kept.
func (s *Server) Flooded() Flooded { return s.flood }

// FloodDeadline is when the flooded sessions expire (Never: none kept).
func (s *Server) FloodDeadline() Time {
	if s.flood.N == 0 {
		return Never
	}
	return s.flood.Expires
}

// ExpireFlood ends the flooded sessions once their lifetime is over, and
// answers ErrNotDue before.
func (s *Server) ExpireFlood(now Time) Output {
	if !s.expireFlood(now) {
		return Output{Deadline: s.FloodDeadline(), Err: ErrNotDue}
	}
	return Output{Deadline: Never}
}

func (s *Server) expireFlood(now Time) bool {
	if s.flood.N == 0 || now < s.flood.Expires {
		return false
	}
	s.flood = Flooded{}
	return true
}

// SetFlooded restores the flooded sessions, for a snapshot.
func (s *Server) SetFlooded(f Flooded) { s.flood = f }
